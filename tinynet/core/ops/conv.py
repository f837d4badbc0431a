"""2-D convolution, the textbook way: output sizes, padding, im2col / col2im, forward / backward.

Channels-last like Keras:

    x     : (N, H, W, C)          a batch of images
    w     : (kh, kw, C, F)        a kernel of F filters; w_col = w.reshape(kh*kw*C, F)
    b     : (F,)                  a bias
    z     : (N, out_h, out_w, F)

The convolution (a cross-correlation, as in every deep-learning library) is

    z[n, i, j, f] = b[f] + sum_{di, dj, c} xp[n, i*sh + di, j*sw + dj, c] * w[di, dj, c, f]

where xp is x zero-padded as Keras/TensorFlow do for ``padding``. im2col gathers, for every
output pixel (n, i, j), the kh*kw*C input values it sees into one row, so the whole
convolution is one matrix product, a Dense layer applied to patches:

    cols = im2col(x)                   (N*out_h*out_w, kh*kw*C)
    z    = cols @ w_col + b            (N*out_h*out_w, F)

and backward is Dense's backward on those matrices, with col2im (the adjoint of im2col)
adding up the gradients of every copy of an input pixel:

    dw_col = cols.T @ dz      db = sum of the rows of dz      dx = col2im(dz @ w_col.T)

``conv2d_forward`` / ``conv2d_backward`` below are exactly these lines; they are the
references (``impl='naive'``). The fast pair with the same signatures is in tinynet/fast/conv.py.
The maths comes first; the sizes and padding helpers follow, the argument checks are in checks.py.
``strides`` is an int or a pair (sh, sw) everywhere; ``padding`` is 'valid' or 'same'.
Every function keeps the dtype of its inputs (float32 in training, float64 in gradient checks).
"""
from typing import NamedTuple

import numpy as np

from ..checks import check_int, check_pair
from .checks import check_conv2d, check_dcols, check_dz, check_images, check_padding, check_window


def im2col(x, kh, kw, strides=1, padding="valid"):
    """Unfold every kh x kw window of x into one row.

    x: (N, H, W, C) -> cols: (N*out_h*out_w, kh*kw*C)

    Row (n*out_h + i)*out_w + j holds the window of output pixel (i, j) of sample n, in the
    order (di, dj, c): the order of w.reshape(kh*kw*C, F), so the convolution is cols @ w_col.
    Memory: cols holds each input value kh*kw times (128 images of 28x28x16 with a 3x3 kernel:
    58 MB of float32).
    """
    check_images(x)
    (kh, kw), strides = check_window(kh, kw, strides)
    N, _, _, C = x.shape
    out_h, out_w, pads = geometry(x.shape, kh, kw, strides, padding)
    xp = pad2d(x, pads)
    windows = np.empty((N, out_h, out_w, kh, kw, C), dtype=x.dtype)
    for di in range(kh):
        for dj in range(kw):
            windows[:, :, :, di, dj, :] = xp[window_slice(di, dj, out_h, out_w, strides)]
    return windows.reshape(N * out_h * out_w, kh * kw * C)


def col2im(dcols, x_shape, kh, kw, strides=1, padding="valid"):
    """Adjoint of im2col: fold rows back onto the image, adding where windows overlap.

    dcols: (N*out_h*out_w, kh*kw*C), x_shape: (N, H, W, C) -> dx: x_shape

    For all x and d: sum(im2col(x) * d) == sum(x * col2im(d)), which is why the dx of a
    convolution is col2im(dz @ w_col.T). The result may be a view into a padded buffer.
    """
    (kh, kw), strides = check_window(kh, kw, strides)
    N, H, W, C = x_shape
    out_h, out_w, pads = geometry(x_shape, kh, kw, strides, padding)
    check_dcols(dcols, (N * out_h * out_w, kh * kw * C), x_shape, kh, kw)
    (top, bottom), (left, right) = pads
    dxp = np.zeros((N, H + top + bottom, W + left + right, C), dtype=dcols.dtype)
    dwindows = dcols.reshape(N, out_h, out_w, kh, kw, C)
    for di in range(kh):
        for dj in range(kw):
            dxp[window_slice(di, dj, out_h, out_w, strides)] += dwindows[:, :, :, di, dj, :]
    return crop2d(dxp, pads)


class Conv2DCache(NamedTuple):
    """What conv2d_backward needs from conv2d_forward (pass it to the backward of the same impl)."""

    x: np.ndarray      # (N, H, W, C) the input
    cols: np.ndarray   # im2col(x); the fast op appends a ones column for the bias, or keeps None in inference
    w: np.ndarray      # (kh, kw, C, F) the kernel used
    has_bias: bool
    strides: tuple     # (sh, sw)
    padding: str       # 'valid' or 'same'


def conv2d_forward(x, w, b=None, strides=1, padding="valid", training=True):
    """2-D convolution: z = im2col(x) @ w_col + b.

    x: (N, H, W, C), w: (kh, kw, C, F), b: (F,) or None -> z: (N, out_h, out_w, F), cache
    ``training``: whether a backward will follow (the reference keeps cols either way).
    """
    strides, padding = check_conv2d(x, w, b, strides, padding)
    N = x.shape[0]
    kh, kw, C, F = w.shape
    out_h, out_w, _ = geometry(x.shape, kh, kw, strides, padding)
    cols = im2col(x, kh, kw, strides, padding)          # (N*out_h*out_w, kh*kw*C)
    w_col = w.reshape(kh * kw * C, F)
    z = cols @ w_col                                     # (N*out_h*out_w, F)
    if b is not None:
        z += b
    return z.reshape(N, out_h, out_w, F), Conv2DCache(x, cols, w, b is not None, strides, padding)


def conv2d_backward(dz, cache, need_dx=True):
    """Gradients of conv2d_forward: Dense's backward on the patches, then col2im.

    dz: (N, out_h, out_w, F) -> dx: (N, H, W, C) (None unless ``need_dx``), dw: w.shape, db: (F,)
    db is returned even when the forward had no bias (the layer then ignores it).
    """
    x, cols, w, _, strides, padding = cache
    kh, kw, C, F = w.shape
    check_dz(dz, cols.shape[0], F)
    dz = dz.reshape(-1, F)                               # (N*out_h*out_w, F)
    w_col = w.reshape(kh * kw * C, F)
    dw = (cols.T @ dz).reshape(w.shape)                  # dw_col = cols.T @ dz
    db = dz.sum(axis=0)                                  # db = sum of the rows of dz
    dx = col2im(dz @ w_col.T, x.shape, kh, kw, strides, padding) if need_dx else None
    return dx, dw, db


def conv_output_size(n, k, stride, padding):
    """Output length along one axis, exactly as Keras/TensorFlow compute it.

    n: input length, k: kernel (or pool) length, stride: step, padding: 'valid' or 'same'.
        valid: floor((n - k) / stride) + 1   (the window must fit inside the input)
        same:  ceil(n / stride)              (the input is padded so every stride position counts)
    """
    n, k, stride = check_int(n, "n", 1), check_int(k, "k", 1), check_int(stride, "stride", 1)
    if check_padding(padding) == "same":
        return -(-n // stride)
    if k > n:
        raise ValueError(f"With padding='valid' the kernel must fit in the input, expected k <= n. "
                         f"Received: k={k}, n={n}")
    return (n - k) // stride + 1


def same_padding(n, k, stride):
    """(before, after) zeros that TensorFlow's padding='same' adds along one axis.

    total = max((out - 1) * stride + k - n, 0) with out = ceil(n / stride); before = total // 2.
    NOTE: when ``total`` is odd the extra row/column goes after (bottom/right), as in TensorFlow.
    Caffe and PyTorch put it before, so weights moved between them shift by one pixel.
    """
    n, k, stride = check_int(n, "n", 1), check_int(k, "k", 1), check_int(stride, "stride", 1)
    out = -(-n // stride)
    total = max((out - 1) * stride + k - n, 0)
    return total // 2, total - total // 2


def pad_widths_2d(H, W, kh, kw, strides, padding):
    """((top, bottom), (left, right)) padding of an (H, W) image; all zeros for 'valid'."""
    sh, sw = check_pair(strides, "strides")
    if check_padding(padding) == "valid":
        return (0, 0), (0, 0)
    return same_padding(H, kh, sh), same_padding(W, kw, sw)


def pad2d(x, pads, value=0.0):
    """Pad the two spatial axes: (N, H, W, C) -> (N, H + top + bottom, W + left + right, C).

    pads: ((top, bottom), (left, right)) from pad_widths_2d. Returns x itself (no copy) when
    there is nothing to pad. ``value`` is 0 for convolution, -inf for max pooling.
    """
    (top, bottom), (left, right) = pads
    if top == bottom == left == right == 0:
        return x
    return np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=value)


def crop2d(xp, pads):
    """Inverse of pad2d, a view: backward passes use it to drop the gradient that landed on padding."""
    (top, bottom), (left, right) = pads
    Hp, Wp = xp.shape[1:3]
    return xp[:, top:Hp - bottom, left:Wp - right, :]


def window_slice(di, dj, out_h, out_w, strides):
    """Index picking, for every output pixel (i, j), the padded input pixel at kernel offset (di, dj).

    xp[window_slice(di, dj, ...)] has shape (N, out_h, out_w, C): element [n, i, j, c] is
    xp[n, i*sh + di, j*sw + dj, c]. Looping over the kh*kw offsets with this strided view
    handles every sample, pixel and channel at once.
    """
    sh, sw = strides
    return (slice(None), slice(di, di + sh * (out_h - 1) + 1, sh), slice(dj, dj + sw * (out_w - 1) + 1, sw),
            slice(None))


def geometry(x_shape, kh, kw, strides, padding):
    """(out_h, out_w, pads) of a kh x kw window sliding over images of shape x_shape."""
    _, H, W, _ = x_shape
    sh, sw = check_pair(strides, "strides")
    out_h = conv_output_size(H, kh, sh, padding)
    out_w = conv_output_size(W, kw, sw, padding)
    return out_h, out_w, pad_widths_2d(H, W, kh, kw, (sh, sw), padding)
