"""2-D pooling, the textbook way: max, average and global average pooling, forward and backward.

Channels-last like Keras: x: (N, H, W, C) -> out: (N, out_h, out_w, C), each channel pooled
on its own over ph x pw windows moved by strides (sh, sw); ``strides=None`` means strides =
pool_size, as in Keras. Output sizes and 'same' padding follow TensorFlow exactly
(conv.conv_output_size, conv.same_padding).

Each window is the set of inputs xp[n, i*sh + di, j*sw + dj, c] for the offsets (di, dj) of
the window; ``windows`` stacks them on a last axis of ph*pw values, so every pooling below
is a reduction over that axis. Fast twins (max pooling, average pooling's forward) are in
tinynet/fast/pooling.py; the other ops run as written under both impls. The arguments are
checked by ``checks.py``.
"""
from typing import NamedTuple

import numpy as np

from ..checks import check_pair
from .checks import check_dout, check_images, check_padding
from .conv import crop2d, geometry, pad2d, window_slice


class MaxPool2DCache(NamedTuple):
    """What maxpool2d_backward needs (the fast twin's cache adds each window's running maxima)."""

    xp: np.ndarray     # (N, Hp, Wp, C) the input padded with -inf (x itself if unpadded)
    out: np.ndarray    # (N, out_h, out_w, C) each window's maximum
    pool_size: tuple   # (ph, pw)
    strides: tuple     # (sh, sw)
    pads: tuple        # ((top, bottom), (left, right))


class AvgPool2DCache(NamedTuple):
    """What avgpool2d_backward needs."""

    count: object      # real input cells per window: an int, or a (1, out_h, out_w, 1) array
    x_shape: tuple     # (N, H, W, C)
    out_shape: tuple   # (N, out_h, out_w, C)
    pool_size: tuple   # (ph, pw)
    strides: tuple     # (sh, sw)
    pads: tuple        # ((top, bottom), (left, right))


def pool_geometry(x, pool_size, strides, padding):
    """Check the arguments; return (pool_size, strides, out_h, out_w, pads)."""
    check_images(x)
    ph, pw = check_pair(pool_size, "pool_size")
    strides = check_pair((ph, pw) if strides is None else strides, "strides")
    out_h, out_w, pads = geometry(x.shape, ph, pw, strides, check_padding(padding))
    return (ph, pw), strides, out_h, out_w, pads


def windows(xp, pool_size, strides, out_h, out_w):
    """Every window of the padded input, its ph*pw cells on the last axis, row-major:

    windows(...)[n, i, j, c, di*pw + dj] = xp[n, i*sh + di, j*sw + dj, c]     (N, out_h, out_w, C, ph*pw)
    """
    ph, pw = pool_size
    return np.stack([xp[window_slice(di, dj, out_h, out_w, strides)] for di in range(ph) for dj in range(pw)],
                    axis=-1)


def maxpool2d_forward(x, pool_size=2, strides=None, padding="valid"):
    """Max pooling: out[n, i, j, c] = max_{di, dj} xp[n, i*sh + di, j*sw + dj, c].

    x: (N, H, W, C) -> out: (N, out_h, out_w, C), cache: MaxPool2DCache

    With 'same' padding the padding is -inf, so it never wins a window (unless the window's
    real cells are -inf too; then its gradient is lost in the padding).
    """
    pool_size, strides, out_h, out_w, pads = pool_geometry(x, pool_size, strides, padding)
    xp = pad2d(x, pads, value=-np.inf)
    out = windows(xp, pool_size, strides, out_h, out_w).max(axis=-1)
    return out, MaxPool2DCache(xp, out, pool_size, strides, pads)


def maxpool2d_argmax(cache):
    """For every window, the offset di*pw + dj of its FIRST maximum (row-major, np.argmax's rule).

    cache: from maxpool2d_forward (either impl) -> (N, out_h, out_w, C) ints. This is the cell
    backward sends the window's gradient to: which side of the max's kink the input is on.
    """
    xp, out, pool_size, strides, _ = cache
    return windows(xp, pool_size, strides, *out.shape[1:3]).argmax(axis=-1)


def maxpool2d_backward(dout, cache):
    """Each window's gradient goes to its maximum: dx[first max of the window] += dout.

    dout: (N, out_h, out_w, C) -> dx: (N, H, W, C)

    NOTE: ties. When several cells of a window share the maximum, max is not differentiable
    there; the whole gradient goes to the FIRST of them in row-major window order (smallest
    di, then smallest dj), like np.argmax, the others get 0. That is one valid subgradient,
    and dx still sums to dout window by window.
    """
    xp, out, (ph, pw), strides, pads = cache
    check_dout(dout, out.shape)
    first = maxpool2d_argmax(cache)                       # (N, out_h, out_w, C)
    dxp = np.zeros(xp.shape, dtype=dout.dtype)
    for di in range(ph):
        for dj in range(pw):
            dxp[window_slice(di, dj, *out.shape[1:3], strides)] += dout * (first == di * pw + dj)
    return crop2d(dxp, pads)


def avgpool2d_forward(x, pool_size=2, strides=None, padding="valid"):
    """Average pooling: out[n, i, j, c] = (1 / count) * sum_{di, dj} xp[n, i*sh + di, j*sw + dj, c].

    x: (N, H, W, C) -> out: (N, out_h, out_w, C), cache: AvgPool2DCache

    NOTE: with 'same' padding the padded cells are not counted, as in TensorFlow/Keras: a
    corner window covering 2 real cells of a 2x2 window divides by 2, not by 4.
    """
    pool_size, strides, out_h, out_w, pads = pool_geometry(x, pool_size, strides, padding)
    total = windows(pad2d(x, pads), pool_size, strides, out_h, out_w).sum(axis=-1)
    count = window_counts(x.shape, pool_size, strides, out_h, out_w, pads, x.dtype)
    out = total / count
    return out, AvgPool2DCache(count, x.shape, out.shape, pool_size, strides, pads)


def avgpool2d_backward(dout, cache):
    """Every cell of a window receives dout / count from it.

    dout: (N, out_h, out_w, C) -> dx: (N, H, W, C)
    """
    count, (N, H, W, C), out_shape, (ph, pw), strides, pads = cache
    check_dout(dout, out_shape)
    (top, bottom), (left, right) = pads
    dxp = np.zeros((N, H + top + bottom, W + left + right, C), dtype=dout.dtype)
    share = dout / count                                 # what each cell of a window receives
    for di in range(ph):
        for dj in range(pw):
            dxp[window_slice(di, dj, *out_shape[1:3], strides)] += share
    return crop2d(dxp, pads)


def window_counts(x_shape, pool_size, strides, out_h, out_w, pads, dtype):
    """How many real (unpadded) cells each window covers: ph*pw, or a (1, out_h, out_w, 1) array."""
    (top, bottom), (left, right) = pads
    if top == bottom == left == right == 0:
        return pool_size[0] * pool_size[1]
    _, H, W, _ = x_shape
    # Sum each window of an image of ones padded with zeros.
    ones = pad2d(np.ones((1, H, W, 1), dtype=dtype), pads)
    return windows(ones, pool_size, strides, out_h, out_w).sum(axis=-1)


def global_avgpool2d_forward(x):
    """Global average pooling: out[n, c] = mean_{i, j} x[n, i, j, c].

    x: (N, H, W, C) -> out: (N, C), cache: x.shape
    """
    check_images(x)
    return x.mean(axis=(1, 2)), x.shape


def global_avgpool2d_backward(dout, x_shape):
    """dout: (N, C) -> dx: (N, H, W, C), dx[n, i, j, c] = dout[n, c] / (H*W)."""
    N, H, W, C = x_shape
    check_dout(dout, (N, C))
    return np.broadcast_to(dout[:, None, None, :] / (H * W), x_shape).copy()


def global_maxpool2d_forward(x):
    """Global max pooling: out[n, c] = max_{i, j} x[n, i, j, c].

    x: (N, H, W, C) -> out: (N, C), cache: (x.shape, first), ``first[n, c]`` the position i*W + j of the
    FIRST maximum of channel c (row-major order, np.argmax's rule), where backward sends the gradient.
    """
    check_images(x)
    N, H, W, C = x.shape
    first = x.reshape(N, H * W, C).argmax(axis=1)          # (N, C)
    out = np.take_along_axis(x.reshape(N, H * W, C), first[:, None, :], axis=1)[:, 0, :]
    return out, (x.shape, first)


def global_maxpool2d_backward(dout, cache):
    """Each channel's gradient goes to its maximum: dx[n, first[n, c], c] = dout[n, c], 0 elsewhere.

    dout: (N, C) -> dx: (N, H, W, C). NOTE: on ties the first maximum takes it all, as in max pooling.
    """
    (N, H, W, C), first = cache
    check_dout(dout, (N, C))
    dx = np.zeros((N, H * W, C), dtype=dout.dtype)
    np.put_along_axis(dx, first[:, None, :], dout[:, None, :], axis=1)
    return dx.reshape(N, H, W, C)
