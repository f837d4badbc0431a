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
    read, by ``fill_mode``; and, for 'constant' only, a mask of the real pixels (None otherwise).

        reflect: period 2n, k and 2n-1-k read the same pixel     mirror: period 2n-2, k and -k
        wrap:    period n                                        nearest / constant: clipped to [0, n-1]
    """
    if fill_mode in ("nearest", "constant"):
        real = (k >= 0) & (k < n) if fill_mode == "constant" else None
        return np.clip(k, 0, n - 1), real
    if fill_mode == "wrap":
        return np.mod(k, n), None
    # Within one reflection of the image two cheap folds do it; farther out, fold by the period first.
    # NOTE: an integer modulo costs ten times a minimum, and points rarely land that far.
    low, high = (-n, 2 * n - 1) if fill_mode == "reflect" else (1 - n, 2 * n - 2)
    if k.min() < low or k.max() > high:
        k = np.mod(k, 2 * n if fill_mode == "reflect" else max(2 * n - 2, 1))
    if fill_mode == "reflect":
        k = np.maximum(k, -1 - k)                      # ... b a | a b ...: -1 reads 0, -2 reads 1
        return np.minimum(k, 2 * n - 1 - k), None      # ... c d | d c ...: n reads n-1
    k = np.abs(k)                                      # ... c b | a b c ...: -1 reads 1
    return np.minimum(k, 2 * n - 2 - k), None          # ... c d | c b ...: n reads n-2


def grid_points(A, t, out_h, out_w):
    """The input coordinates every output pixel reads: ``(r, c) = A[n] @ (i, j) + t[n]``.

    A: (N, 2, 2), t: (N, 2) -> r, c: (N, out_h, out_w) float64
    """
    i = np.arange(out_h, dtype=np.float64)[None, :, None]
    j = np.arange(out_w, dtype=np.float64)[None, None, :]
    A, t = np.asarray(A, np.float64), np.asarray(t, np.float64)
    r = A[:, 0, 0, None, None] * i + A[:, 0, 1, None, None] * j + t[:, 0, None, None]
    c = A[:, 1, 0, None, None] * i + A[:, 1, 1, None, None] * j + t[:, 1, None, None]
    return r, c


class WarpCache(NamedTuple):
    """What ``warp_backward`` needs: which pixels each output pixel read, and with which weights."""

    index: list      # K arrays (N, out_h, out_w): flat positions n*H*W + row*W + col of the pixels read
    weight: list     # K arrays (N, out_h, out_w, 1): their weights (0 where 'constant' reads fill_value)
    x_shape: tuple   # (N, H, W, C)


def warp(x, A, t, out_shape=None, fill_mode="reflect", fill_value=0.0, interpolation="bilinear"):
    """Sample each image of ``x`` at ``(r, c) = A[n] @ (i, j) + t[n]``.

    x: (N, H, W, C), A: (N, 2, 2), t: (N, 2), out_shape: (out_h, out_w) (default (H, W))
    -> y: (N, out_h, out_w, C) in x's float dtype (float32 for integer images), cache: WarpCache

        y[n, i, j] = sum_k weight_k * x[pixel_k] + fill_value * (1 - sum_k weight_k)

    over the K = 4 (bilinear) or 1 (nearest) pixels around the point; the last term is
    nonzero only with fill_mode='constant', for points near or past the border.
    """
    N, H, W, C = x.shape
    out_h, out_w = (H, W) if out_shape is None else out_shape
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    r, c = grid_points(A, t, out_h, out_w)
    if interpolation == "nearest":
        # NOTE: floor(r + 0.5) rounds halves up, the same way on both sides of 0.
        rows, row_weights = [np.floor(r + 0.5)], [1]
        cols, col_weights = [np.floor(c + 0.5)], [1]
    else:
        r0, c0 = np.floor(r), np.floor(c)
        fr, fc = (r - r0).astype(dtype)[..., None], (c - c0).astype(dtype)[..., None]
        rows, row_weights = [r0, r0 + 1], [1 - fr, fr]
        cols, col_weights = [c0, c0 + 1], [1 - fc, fc]
    # NOTE: 32-bit indices (half the memory traffic of 64-bit) whenever the batch has fewer than 2**31 pixels.
    itype = np.int32 if N * H * W < 2 ** 31 else np.int64
    rows = [extend_index(k.astype(itype), H, fill_mode) for k in rows]
    cols = [extend_index(k.astype(itype), W, fill_mode) for k in cols]
    first_row = (np.arange(N, dtype=itype) * H)[:, None, None]
    x_pixels = x.reshape(N * H * W, C)
    y = np.zeros((N, out_h, out_w, C), dtype)
    index, weight = [], []
    for (row, row_real), w_row in zip(rows, row_weights):        # the K neighbours: 2 x 2, or 1
        for (col, col_real), w_col in zip(cols, col_weights):
            k = (first_row + row) * W + col                      # flat position n*H*W + row*W + col
            w = np.broadcast_to(np.asarray(w_row * w_col, dtype), (N, out_h, out_w, 1))
            if fill_mode == "constant":                          # the outside reads fill_value instead
                w = w * (row_real & col_real)[..., None]
            y += w * np.take(x_pixels, k, axis=0)                # y += weight_k * x[pixel_k]
            index.append(k)
            weight.append(w)
    if fill_mode == "constant" and fill_value != 0:
        y += dtype.type(fill_value) * (1 - sum(weight))
    return y, WarpCache(index, weight, x.shape)


def warp_backward(dout, cache):
    """The transpose of the warp: every output pixel sends ``weight_k * dout`` back to each pixel it read.

    dout: (N, out_h, out_w, C) -> dx: (N, H, W, C)

        dx[p] = sum over (k, n, i, j) reading p of weight_k[n, i, j] * dout[n, i, j]

    (the fill value is a constant: no gradient flows to it). One ``np.bincount`` adds every
    contribution at once, with the channel folded into the flat index.
    """
    index, weight, (N, H, W, C) = cache
    channels = np.arange(C)
    flat = np.concatenate([(k[..., None].astype(np.int64) * C + channels).ravel() for k in index])
    contributions = np.concatenate([(w * dout).ravel() for w in weight])
    dx = np.bincount(flat, weights=contributions, minlength=N * H * W * C)
    return dx.reshape(N, H, W, C).astype(dout.dtype, copy=False)


def resize_points(in_size, out_size):
    """(scale, shift) so that output index i reads input coordinate ``scale * i + shift``: pixel centres
    aligned, ``(i + 0.5) * in_size / out_size - 0.5``, as ``tf.image.resize`` (half_pixel_centers) does."""
    scale = in_size / out_size
    return scale, 0.5 * scale - 0.5


def resize(x, out_h, out_w, interpolation="bilinear"):
    """Resize every image to (out_h, out_w): ``tf.image.resize`` without antialiasing.

    x: (N, H, W, C) -> y: (N, out_h, out_w, C), cache (``warp_backward`` is its backward).
    Points past the border read the border pixel ('nearest'), as TensorFlow's resize clamps them.
    """
    N, H, W, _ = x.shape
    (sh, th), (sw, tw) = resize_points(H, out_h), resize_points(W, out_w)
    A = np.broadcast_to(np.array([[sh, 0.0], [0.0, sw]]), (N, 2, 2))
    t = np.broadcast_to(np.array([th, tw]), (N, 2))
    return warp(x, A, t, (out_h, out_w), fill_mode="nearest", interpolation=interpolation)
