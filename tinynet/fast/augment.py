"""The fast twins of ``warp`` and ``resize`` (``tinynet/core/ops/image.py``): the sampling op behind the
random rotations, shifts and zooms, ImageDataGenerator, Resizing and UpSampling2D(interpolation='bilinear').

Same signature, same ``WarpCache`` (so the reference ``warp_backward`` is the backward of both), same
values: the tests compare them on random moves, sizes, fill modes and interpolations. One batched
read for the whole batch, as the reference: every image's own matrix, no loop over images. What differs:

    coordinates     computed in the images' float dtype (float32 for training batches; the reference
                    computes them in float64): half the memory traffic for the two grids and the
                    floor / fraction / index steps. Bilinear reading is continuous in the coordinates,
                    so the float32 rounding moves an output by float32 rounding only. Nearest reading
                    jumps at half pixels, so it keeps float64 coordinates and picks the same pixel.
    one channel     (MNIST) the four neighbours are read from the flat batch with ``np.take`` on a
                    1-D array, and interpolated on (N, out_h, out_w) arrays without broadcasting.
    resize          the points of a resize are the same for every batch of a shape: its plan (flat
                    positions and fractions) is computed once per shape and kept (a few shapes).

Not done: composing consecutive RandomRotation / RandomTranslation / RandomZoom into one warp (as
ImageDataGenerator composes its moves into one matrix). Two reads are not one read of the composed move:
the second interpolates values the first already interpolated (a blur the single read has not), and
the first's fill is what the second reads at the border. So a composed warp would not equal the layers'
outputs, and only the model walk knows which layer follows which: an op cannot see it.
"""
import functools

import numpy as np

from ..core.ops import image, register
from ..core.ops.image import WarpCache, extend, in_one_period, margins


@functools.lru_cache(maxsize=64)
def _steps(n, dtype):
    """0, 1, ..., n - 1 as ``dtype`` (read-only: shared by every call)."""
    steps = np.arange(n, dtype=dtype)
    steps.flags.writeable = False
    return steps


def grid_points(A, t, out_h, out_w, dtype):
    """image.grid_points in ``dtype``: ``(r, c) = A[n] @ (i, j) + t[n]``, each a row term plus a column term."""
    i, j = _steps(out_h, dtype)[None, :, None], _steps(out_w, dtype)[None, None, :]
    A, t = np.asarray(A, dtype), np.asarray(t, dtype)
    r = A[:, 0, 0, None, None] * i + (A[:, 0, 1, None, None] * j + t[:, 0, None, None])
    c = A[:, 1, 0, None, None] * i + (A[:, 1, 1, None, None] * j + t[:, 1, None, None])
    return r, c


def plan(x_shape, A, t, out_shape, fill_mode, interpolation, dtype):
    """Where every output pixel reads: (flat top-left positions k (N, out_h, out_w) in the extended batch,
    fractions (fr, fc) (N, out_h, out_w) or None, the margins ((top, bottom), (left, right)))."""
    N, H, W, _ = x_shape
    out_h, out_w = out_shape
    if interpolation == "nearest":
        r, c = grid_points(A, t, out_h, out_w, np.float64)
        r0, c0 = np.floor(r + 0.5), np.floor(c + 0.5)     # NOTE: as the reference: halves round up
        fractions = None
    else:
        r, c = grid_points(A, t, out_h, out_w, dtype)
        r0, c0 = np.floor(r), np.floor(c)
        r -= r0                                            # the fractions, in place of the coordinates
        c -= c0
        fractions = (r, c)
    itype = np.int32 if N * max(H * W, out_h * out_w) < 2 ** 28 else np.int64
    r0, c0 = in_one_period(r0.astype(itype), H, fill_mode), in_one_period(c0.astype(itype), W, fill_mode)
    (top, bottom), (left, right) = pads = (margins(r0, H), margins(c0, W))
    Wp = left + W + right
    first_pixel = (np.arange(N, dtype=itype) * ((top + H + bottom) * Wp) + top * Wp + left)[:, None, None]
    r0 *= Wp
    r0 += c0
    r0 += first_pixel                                      # k = first pixel + r0 Wp + c0
    return r0, fractions, pads


def sample(x, k, fractions, pads, fill_mode, fill_value, dtype):
    """Read the planned points of ``x``: y (N, out_h, out_w, C) and the WarpCache."""
    xp, maps = extend(x.astype(dtype, copy=False), pads, fill_mode, fill_value)
    N, Hp, Wp, C = xp.shape
    one_channel = C == 1
    pixels = xp.reshape(-1) if one_channel else xp.reshape(N * Hp * Wp, C)

    def read(positions):
        return np.take(pixels, positions) if one_channel else np.take(pixels, positions, axis=0)

    if fractions is None:
        y = read(k)
        return (y[..., None] if one_channel else y), WarpCache(k, None, xp.shape, maps, x.shape)
    fr, fc = fractions
    weights = (fr[..., None], fc[..., None])
    if not one_channel:
        fr, fc = weights
    x00, x01, x10, x11 = read(k), read(k + 1), read(k + Wp), read(k + (Wp + 1))
    # upper = x00 + fc (x01 - x00), lower = x10 + fc (x11 - x10), y = upper + fr (lower - upper), in place
    x01 -= x00
    x01 *= fc
    x01 += x00
    x11 -= x10
    x11 *= fc
    x11 += x10
    x11 -= x01
    x11 *= fr
    x11 += x01
    return (x11[..., None] if one_channel else x11), WarpCache(k, weights, xp.shape, maps, x.shape)


def warp(x, A, t, out_shape=None, fill_mode="reflect", fill_value=0.0, interpolation="bilinear"):
    """image.warp with float32 coordinates and a one-channel read (see the module docstring)."""
    N, H, W, C = x.shape
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    out_shape = (H, W) if out_shape is None else tuple(out_shape)
    k, fractions, pads = plan(x.shape, A, t, out_shape, fill_mode, interpolation, dtype)
    return sample(x, k, fractions, pads, fill_mode, fill_value, dtype)


@functools.lru_cache(maxsize=8)
def _resize_plan(x_shape, out_shape, interpolation, dtype):
    N, H, W, _ = x_shape
    A, t = image.resize_matrices(N, H, W, *out_shape)
    k, fractions, pads = plan(x_shape, A, t, out_shape, "nearest", interpolation, dtype)
    for array in (k, *(fractions or ())):
        array.flags.writeable = False                      # shared by every batch of this shape
    return k, fractions, pads


def resize(x, out_h, out_w, interpolation="bilinear"):
    """image.resize, its points planned once per shape (the same for every batch)."""
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    k, fractions, pads = _resize_plan(x.shape, (out_h, out_w), interpolation, dtype)
    return sample(x, k, fractions, pads, "nearest", 0.0, dtype)


register("warp", reference=image.warp, fast=warp)
register("warp_backward", reference=image.warp_backward)
register("resize", reference=image.resize, fast=resize)
