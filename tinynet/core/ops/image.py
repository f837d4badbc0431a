"""Reading an image at moved coordinates: the one sampling op behind RandomRotation, RandomTranslation,
RandomZoom, ImageDataGenerator, UpSampling2D(interpolation='bilinear') and Resizing.

Every output pixel (i, j) of image n reads the input at the real coordinates

    (r, c) = A[n] @ (i, j) + t[n]          A: (N, 2, 2), t: (N, 2), in (row, column) order

(a rotation, a shift, a zoom or a shear is a choice of A and t). With bilinear interpolation the
value there is a weighted sum of the four pixels around (r, c):

    r0 = floor(r), c0 = floor(c), fr = r - r0, fc = c - c0
    y[n, i, j] = (1-fr)(1-fc) x[n, r0, c0] + (1-fr) fc x[n, r0, c0+1] + fr (1-fc) x[n, r0+1, c0] + fr fc x[n, r0+1, c0+1]

(nearest interpolation: one pixel, the nearest, with weight 1). So the warp is LINEAR in x: y = S x
for a sparse matrix S of weights, and its backward is the transpose, dx = S^T dout: each output
pixel's gradient goes back to the four pixels it read, times the same weights (``warp_backward``).

A neighbour outside the image is read as ``fill_mode`` extends the image, as Keras's layers do
(shown for one row ``a b c d``):

    'reflect'   d c b a | a b c d | d c b a      (reflected about the edge of the last pixel)
    'mirror'    d c b | a b c d | c b a          (reflected about the centre of the last pixel)
    'wrap'      a b c d | a b c d | a b c d
    'nearest'   a a a a | a b c d | d d d d
    'constant'  k k k k | a b c d | k k k k      (k = ``fill_value``: y = S x + fill_value * (what S drops))

NOTE: the mode extends the grid of pixels, which is then interpolated. TensorFlow moves the
point first and then reads neighbours, which differs from this within half a pixel of the border.

How it runs: the batch is extended once by the margin the points need (``extend``, a gather with
one row map and one column map), so the four neighbours of every point are inside the extended
images, at flat positions k, k + 1, k + Wp, k + Wp + 1 (Wp the extended width). Backward adds each
output's gradient into those four positions (``np.bincount``), then folds the margin back onto the
pixels it copied: the extension is linear too, and that fold is its transpose.

Channels-last: x: (N, H, W, C) -> y: (N, out_h, out_w, C). Pure NumPy, no loop over samples or pixels.
"""
from typing import NamedTuple

import numpy as np

from ..checks import check_choice

FILL_MODES = ("reflect", "mirror", "wrap", "nearest", "constant")
INTERPOLATIONS = ("bilinear", "nearest")


def check_fill_mode(fill_mode, owner=None):
    return check_choice(fill_mode, "fill_mode", FILL_MODES, owner)


def check_interpolation(interpolation, owner=None):
    return check_choice(interpolation, "interpolation", INTERPOLATIONS, owner)


def extend_index(k, n, fill_mode):
    """Integer pixel indices ``k`` along an axis of ``n`` pixels (maybe outside [0, n)) -> the pixels they
    read, by ``fill_mode``; and which of them are real pixels (all, except what 'constant' fills).

        reflect: period 2n, k and 2n-1-k read the same pixel     mirror: period 2n-2, k and -k
        wrap:    period n                                        nearest / constant: clipped to [0, n-1]
    """
    real = (k >= 0) & (k < n) if fill_mode == "constant" else np.ones(np.shape(k), bool)
    if fill_mode in ("nearest", "constant"):
        return np.clip(k, 0, n - 1), real
    if fill_mode == "wrap":
        return np.mod(k, n), real
    if fill_mode == "reflect":                         # ... b a | a b ... c d | d c ...
        k = np.mod(k, 2 * n)
        return np.minimum(k, 2 * n - 1 - k), real
    period = max(2 * n - 2, 1)                         # mirror: ... c b | a b c d | c b ...
    k = np.mod(k, period)
    return np.minimum(k, period - k), real


def grid_points(A, t, out_h, out_w):
    """The input coordinates every output pixel reads: ``(r, c) = A[n] @ (i, j) + t[n]``.

    A: (N, 2, 2), t: (N, 2) -> r, c: (N, out_h, out_w) float64
    """
    i = np.arange(out_h, dtype=np.float64)[None, :, None]
    j = np.arange(out_w, dtype=np.float64)[None, None, :]
    A, t = np.asarray(A, np.float64), np.asarray(t, np.float64)
    # a row term (N, out_h, 1) plus a column term (N, 1, out_w): one full-size sum each
    r = A[:, 0, 0, None, None] * i + (A[:, 0, 1, None, None] * j + t[:, 0, None, None])
    c = A[:, 1, 0, None, None] * i + (A[:, 1, 1, None, None] * j + t[:, 1, None, None])
    return r, c


def in_one_period(k, n, fill_mode):
    """Top-left neighbours ``k`` (integers) moved to where the extended image holds the same values, at most
    about one image away: a periodic mode folds by its period, 'nearest' and 'constant' clip just outside
    (everything farther reads the same edge pixel, or the fill value). Keeps the margin to extend small."""
    if fill_mode in ("nearest", "constant"):
        return np.clip(k, -2, n)
    period = {"reflect": 2 * n, "mirror": max(2 * n - 2, 1), "wrap": n}[fill_mode]
    # NOTE: a modulo costs ten times a comparison, and points rarely land a period away: only then pay for it.
    return np.mod(k, period) if k.min() < -period or k.max() >= period else k


def margins(k, n):
    """(before, after): the pixels to add on an axis of ``n`` so that every k and k + 1 is inside."""
    return max(0, -int(k.min())), max(0, int(k.max()) + 2 - n)


def extend(x, pads, fill_mode, fill_value):
    """x with ``pads = ((top, bottom), (left, right))`` more pixels around it, read by ``fill_mode``.

    (N, H, W, C) -> (N, top + H + bottom, left + W + right, C), and the row and column maps used
    (padded index -> source pixel, and whether it is a real pixel), which backward folds with.
    """
    (top, bottom), (left, right) = pads
    _, H, W, _ = x.shape
    rows = extend_index(np.arange(-top, H + bottom), H, fill_mode)
    cols = extend_index(np.arange(-left, W + right), W, fill_mode)
    xp = np.take(np.take(x, rows[0], axis=1), cols[0], axis=2)
    if fill_mode == "constant":
        real = (rows[1][:, None] & cols[1][None, :])[None, :, :, None]
        xp = np.where(real, xp, xp.dtype.type(fill_value))
    return xp, (rows, cols)


class WarpCache(NamedTuple):
    """What ``warp_backward`` needs: where each output pixel read the extended batch, with which weights."""

    index: np.ndarray    # (N, out_h, out_w): flat position of each point's top-left neighbour in the extended batch
    weights: tuple       # (fr, fc) bilinear fractions, (N, out_h, out_w, 1) each; None for nearest
    padded: tuple        # (N, Hp, Wp, C): the extended batch's shape
    maps: tuple          # the row and column maps of ``extend``
    x_shape: tuple       # (N, H, W, C)


def warp(x, A, t, out_shape=None, fill_mode="reflect", fill_value=0.0, interpolation="bilinear"):
    """Sample each image of ``x`` at ``(r, c) = A[n] @ (i, j) + t[n]``.

    x: (N, H, W, C), A: (N, 2, 2), t: (N, 2), out_shape: (out_h, out_w) (default (H, W))
    -> y: (N, out_h, out_w, C) in x's float dtype (float32 for integer images), cache: WarpCache

    Bilinear, with (r0, c0) the top-left neighbour and (fr, fc) the fractions, in two lerps:

        upper = x[r0, c0] + fc (x[r0, c0+1] - x[r0, c0])     lower = the same on row r0 + 1
        y     = upper + fr (lower - upper)
    """
    N, H, W, C = x.shape
    out_h, out_w = (H, W) if out_shape is None else out_shape
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    r, c = grid_points(A, t, out_h, out_w)
    if interpolation == "nearest":
        # NOTE: floor(r + 0.5) rounds halves up, the same way on both sides of 0.
        r0, c0 = np.floor(r + 0.5), np.floor(c + 0.5)
    else:
        r0, c0 = np.floor(r), np.floor(c)
        fr, fc = (r - r0).astype(dtype)[..., None], (c - c0).astype(dtype)[..., None]
    # NOTE: 32-bit indices (half the memory traffic of 64-bit) while the extended batch stays far below 2**31
    # pixels (the margins at most about double each side).
    itype = np.int32 if N * max(H * W, out_h * out_w) < 2 ** 28 else np.int64
    r0, c0 = in_one_period(r0.astype(itype), H, fill_mode), in_one_period(c0.astype(itype), W, fill_mode)
    (top, bottom), (left, right) = pads = (margins(r0, H), margins(c0, W))
    xp, maps = extend(x.astype(dtype, copy=False), pads, fill_mode, fill_value)
    _, Hp, Wp, _ = xp.shape
    first_pixel = (np.arange(N, dtype=itype) * (Hp * Wp) + top * Wp + left)[:, None, None]
    k = first_pixel + r0 * Wp + c0                              # flat position of the top-left neighbour
    pixels = xp.reshape(N * Hp * Wp, C)
    if interpolation == "nearest":
        return np.take(pixels, k, axis=0), WarpCache(k, None, xp.shape, maps, x.shape)
    x00, x01 = np.take(pixels, k, axis=0), np.take(pixels, k + 1, axis=0)
    x10, x11 = np.take(pixels, k + Wp, axis=0), np.take(pixels, k + Wp + 1, axis=0)
    upper = x00 + fc * (x01 - x00)                             # along the row, then between the rows
    lower = x10 + fc * (x11 - x10)
    return upper + fr * (lower - upper), WarpCache(k, (fr, fc), xp.shape, maps, x.shape)


def warp_backward(dout, cache):
    """The transpose of the warp: every output pixel sends ``weight * dout`` back to each pixel it read.

    dout: (N, out_h, out_w, C) -> dx: (N, H, W, C)

        (the four weights: (1-fr)(1-fc), (1-fr) fc, fr (1-fc), fr fc; or 1 for nearest)

    First into the extended batch (one ``np.bincount`` for every contribution), then the margin folded
    back onto the pixels it copied (``fold``); what 'constant' filled is a constant: no gradient.
    """
    k, weights, (N, Hp, Wp, C), maps, x_shape = cache
    if weights is None:
        positions, contributions = [k], [dout]
    else:
        fr, fc = weights
        positions = [k, k + 1, k + Wp, k + Wp + 1]
        contributions = [(1 - fr) * (1 - fc) * dout, (1 - fr) * fc * dout, fr * (1 - fc) * dout, fr * fc * dout]
    channels = np.arange(C)
    flat = np.concatenate([(p[..., None].astype(np.int64) * C + channels).ravel() for p in positions])
    dxp = np.bincount(flat, weights=np.concatenate([d.ravel() for d in contributions]), minlength=N * Hp * Wp * C)
    return fold(dxp.reshape(N, Hp, Wp, C), maps, x_shape).astype(dout.dtype, copy=False)


def fold(dxp, maps, x_shape):
    """The transpose of ``extend``: each extended pixel's gradient added to the pixel it is a copy of.

    With P_r[i, p] = 1 when extended row p copies row i (0 for what 'constant' filled), and P_c alike,
    dx[n] = P_r @ dxp[n] @ P_c^T for every channel.
    """
    (rows, row_real), (cols, col_real) = maps
    N, H, W, C = x_shape
    _, Hp, Wp, _ = dxp.shape
    if (Hp, Wp) == (H, W) and row_real.all() and col_real.all():
        return dxp                                               # nothing was added around x
    P_r = ((rows[None, :] == np.arange(H)[:, None]) & row_real[None, :]).astype(dxp.dtype)
    P_c = ((cols[None, :] == np.arange(W)[:, None]) & col_real[None, :]).astype(dxp.dtype)
    by_rows = P_r @ dxp.reshape(N, Hp, Wp * C)                   # (N, H, Wp * C): rows folded
    return (P_c @ by_rows.reshape(N * H, Wp, C)).reshape(N, H, W, C)   # then columns


def resize_points(in_size, out_size):
    """(scale, shift) so that output index i reads input coordinate ``scale * i + shift``: pixel centres
    aligned, ``(i + 0.5) * in_size / out_size - 0.5``, as ``tf.image.resize`` (half_pixel_centers) does."""
    scale = in_size / out_size
    return scale, 0.5 * scale - 0.5


def resize_matrices(N, H, W, out_h, out_w):
    """(A, t) of N resizes from (H, W) to (out_h, out_w): ``A = diag(scale_h, scale_w)``, ``t = (shift_h, shift_w)``."""
    (sh, th), (sw, tw) = resize_points(H, out_h), resize_points(W, out_w)
    return (np.broadcast_to(np.array([[sh, 0.0], [0.0, sw]]), (N, 2, 2)),
            np.broadcast_to(np.array([th, tw]), (N, 2)))


def resize(x, out_h, out_w, interpolation="bilinear"):
    """Resize every image to (out_h, out_w): ``tf.image.resize`` without antialiasing.

    x: (N, H, W, C) -> y: (N, out_h, out_w, C), cache (``warp_backward`` is its backward).
    Points past the border read the border pixel ('nearest'), as TensorFlow's resize clamps them.
    """
    N, H, W, _ = x.shape
    A, t = resize_matrices(N, H, W, out_h, out_w)
    return warp(x, A, t, (out_h, out_w), fill_mode="nearest", interpolation=interpolation)
