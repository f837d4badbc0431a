"""The fast twins of conv.py's im2col and conv2d_forward / conv2d_backward (``impl='fast'``).

Same signatures, same return values, same maths as the references in conv.py; only the
order of the work differs. Each trick says what it buys; timings are medians on the
project's 2-core machine, float32. The formulations measured and not kept (shifted products
without im2col, a direct 9-tap sum, Winograd F(2x2, 3x3), channels-first inside the op, dx as a
full convolution or by col2im) are in benchmarks/RESULTS.md, with the script that measures them.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..core.checks import check_pair
from ..core.ops import conv, register
from ..core.ops.checks import check_images, check_kernel, check_padding
from ..core.ops.conv import Conv2DCache, geometry, window_slice
from .linear import sum_rows_fast

# NOTE: in inference a large batch is convolved in chunks of samples, so that im2col's matrix
# stays under this many bytes: predict(x, batch_size=10000) would otherwise build a 1.1 GB
# matrix for the second convolution of the MNIST CNN. Training keeps the whole batch's
# matrix, because backward needs it.
MAX_INFERENCE_COLS_BYTES = 64 * 2 ** 20


def im2col(x, kh, kw, strides=1, padding="valid", ones_column=False):
    """conv.im2col, gathering the windows the faster of two ways for the shape.

    ``ones_column=True`` appends a column of ones (cols then has kh*kw*C + 1 columns), so that
    the bias can ride in the product: [cols, 1] @ [w_col; b] = cols @ w_col + b.
    """
    check_images(x)
    kh, kw = check_pair((kh, kw), "kernel_size")
    return _columns(x, kh, kw, check_pair(strides, "strides"), check_padding(padding), ones_column)


def _columns(x, kh, kw, strides, padding, ones_column):
    """im2col of arguments already checked (by conv2d_forward): the checks run once per call, not twice."""
    N, _, _, C = x.shape
    out_h, out_w, pads = geometry(x.shape, kh, kw, strides, padding)
    xp = zero_padded(x, pads)
    K = kh * kw * C
    if C == 1:
        return _single_channel_columns(xp[..., 0], kh, kw, strides, out_h, out_w, ones_column)
    cols = np.empty((N * out_h * out_w, K + bool(ones_column)), dtype=x.dtype)
    if ones_column:
        cols[:, K] = 1
    # The windows are written straight into cols through this view (reshape only splits
    # axes here, so it is a view even of the first K columns alone).
    windows_out = cols[:, :K].reshape(N, out_h, out_w, kh, kw, C)
    # NOTE: a view of all windows, no copy: (N, H', W', C, kh, kw); keep every stride-th one
    # and put it in (di, dj, c) order while copying it into cols. One pass over cols, in runs
    # of kw*C contiguous values (3-6x faster than a pass per kernel offset for C = 2 to 16).
    windows = sliding_window_view(xp, (kh, kw), axis=(1, 2))
    windows = windows[:, ::strides[0], ::strides[1]][:, :out_h, :out_w]
    np.copyto(windows_out, windows.transpose(0, 1, 2, 4, 5, 3))
    return cols


def zero_padded(x, pads):
    """pad2d(x, pads) with zeros: the interior copied into an array of zeros.

    NOTE: np.pad, which pad2d calls, is some forty Python-level calls; this is two. The same
    array: zeros around x.
    """
    (top, bottom), (left, right) = pads
    if top == bottom == left == right == 0:
        return x
    N, H, W, C = x.shape
    xp = np.zeros((N, H + top + bottom, W + left + right, C), x.dtype)
    xp[:, top:top + H, left:left + W] = x
    return xp


def _single_channel_columns(xp, kh, kw, strides, out_h, out_w, ones_column):
    """im2col of one-channel images xp: (N, Hp, Wp), built transposed and returned as a view.

    NOTE: with C = 1 a row of cols holds only kh*kw values, so writing cols row by row (or
    column by column, one kernel offset at a time) moves a few bytes per step. Its transpose,
    cols_t: (kh*kw [+ 1], N*out_h*out_w), has one long row per kernel offset: the image shifted
    by that offset, copied in runs of out_w values. cols_t.T is the same matrix as cols (same
    shape, same values, column-major memory), and matmul hands it to BLAS as a transposed
    operand, with no copy. Measured on the tf2 CNN's first layer (docs/articles.md; 28x28x1, 3x3, 'same'):
    0.43 ms against 1.9 ms at N=128, 0.23 against 0.52 at N=32 (benchmarks/conv_formulations.py).
    """
    N = xp.shape[0]
    K = kh * kw
    cols_t = np.empty((K + bool(ones_column), N * out_h * out_w), dtype=xp.dtype)
    if ones_column:
        cols_t[K] = 1
    shifted = cols_t[:K].reshape(kh, kw, N, out_h, out_w)
    for di in range(kh):
        for dj in range(kw):
            shifted[di, dj] = xp[window_slice(di, dj, out_h, out_w, strides)[:3]]
    return cols_t.T


def conv2d_forward(x, w, b=None, strides=1, padding="valid", training=True):
    """conv.conv2d_forward: z = im2col(x) @ w_col + b, with the bias inside the product.

    NOTE: the bias is one more row of w_col, multiplied by im2col's column of ones: z and,
    in backward, [dw_col; db] are each one product, with no pass over z of their own.
    In inference the batch goes through in chunks (MAX_INFERENCE_COLS_BYTES) and no cols is
    kept: backward, if it comes, rebuilds it from x.
    """
    check_images(x)
    check_kernel(x, w, b)
    strides, padding = check_pair(strides, "strides"), check_padding(padding)
    N = x.shape[0]
    kh, kw, C, F = w.shape
    out_h, out_w, _ = geometry(x.shape, kh, kw, strides, padding)
    has_bias = b is not None
    w_col = w.reshape(kh * kw * C, F)
    if has_bias:
        w_col = np.vstack([w_col, b])                    # (kh*kw*C + 1, F)
    if training:
        cols = _columns(x, kh, kw, strides, padding, has_bias)
        z = per_image_product(cols, w_col, N)
    else:
        cols = None
        z = np.empty((N * out_h * out_w, F), dtype=np.result_type(x, w_col))
        pixels = out_h * out_w
        chunk = max(1, MAX_INFERENCE_COLS_BYTES // (pixels * kh * kw * C * x.itemsize))   # samples per im2col
        for start in range(0, N, chunk):
            chunk_cols = _columns(x[start:start + chunk], kh, kw, strides, padding, has_bias)
            np.matmul(chunk_cols, w_col, out=z[start * pixels:start * pixels + len(chunk_cols)])
    return z.reshape(N, out_h, out_w, F), Conv2DCache(x, cols, w, has_bias, strides, padding)


def conv2d_backward(dz, cache, need_dx=True):
    """conv.conv2d_backward: dw_col = cols.T @ dz (db as its last row), dx without building dcols."""
    x, cols, w, has_bias, strides, padding = cache
    kh, kw, C, F = w.shape
    dz = dz.reshape(-1, F)                               # (N*out_h*out_w, F)
    if cols is None:                                     # the forward ran in inference mode
        cols = im2col(x, kh, kw, strides, padding, ones_column=has_bias)
    N = x.shape[0]
    # dw_col = cols.T @ dz = the sum over images of each image's cols.T @ dz (see per_image_product)
    dw_col = np.matmul(cols.reshape(N, -1, cols.shape[1]).transpose(0, 2, 1), dz.reshape(N, -1, F)).sum(axis=0)
    if has_bias:
        dw_col, db = dw_col[:-1], dw_col[-1]             # the ones column's row: db = sum of dz's rows
    else:
        db = sum_rows_fast(dz)
    dx = conv2d_input_gradient(dz, w, x.shape, strides, padding) if need_dx else None
    return dx, dw_col.reshape(w.shape), db


def conv2d_input_gradient(dz, w, x_shape, strides=1, padding="valid"):
    """dx = col2im(dz @ w_col.T), without building the (N*out_h*out_w, kh*kw*C) matrix dz @ w_col.T.

    dz: (N*out_h*out_w, F), w: (kh, kw, C, F), x_shape: (N, H, W, C) -> dx: x_shape (contiguous)

    NOTE: the same sum in another order: for each kernel offset (di, dj) the inputs it saw
    receive dz @ w[di, dj].T, one product per image (see per_image_product) written into one
    buffer reused by every offset, then added onto the part of dx that offset reaches (the
    padding's share is never computed, so there is no padded image to crop). With stride 1 and
    'same' padding the centre offset reaches every input pixel once: its product is written
    straight into dx, and dx needs no zeros. Each offset's kernel is made contiguous, (F, C),
    which BLAS multiplies faster than the transposed view. On the tf2 CNN's conv2 (N=128) the
    dx took 7-9 ms of CPU against 10-14 for a zero-padded image and an allocation per offset
    (benchmarks/conv_formulations.py, row "g per-offset, unpadded").
    """
    kh, kw, C, F = w.shape
    sh, sw = check_pair(strides, "strides")
    N, H, W, _ = x_shape
    out_h, out_w, ((top, _), (left, _)) = geometry(x_shape, kh, kw, (sh, sw), padding)
    dz = dz.reshape(N, out_h * out_w, F)
    w_t = np.ascontiguousarray(w.transpose(0, 1, 3, 2))              # (kh, kw, F, C)
    covers_all = (sh, sw) == (1, 1) and (out_h, out_w) == (H, W)      # the offset (top, left) maps i -> i
    dx = np.empty(x_shape, dtype=dz.dtype) if covers_all else np.zeros(x_shape, dtype=dz.dtype)
    if covers_all:
        np.matmul(dz, w_t[top, left], out=dx.reshape(N, H * W, C))
    part = np.empty((N, out_h * out_w, C), dtype=dz.dtype)
    part_image = part.reshape(N, out_h, out_w, C)
    for di in range(kh):
        rows = _reach(di, top, sh, out_h, H)
        for dj in range(kw):
            cols = _reach(dj, left, sw, out_w, W)
            if (covers_all and (di, dj) == (top, left)) or rows is None or cols is None:
                continue
            np.matmul(dz, w_t[di, dj], out=part)
            (i0, i1, r0, r1), (j0, j1, c0, c1) = rows, cols
            dx[:, r0:r1:sh, c0:c1:sw] += part_image[:, i0:i1, j0:j1]
    return dx


def _reach(d, pad, stride, out_n, n):
    """Which outputs i of one axis see a real input at kernel offset d, and which inputs they are.

    Output i sees the input i*stride + d - pad; (i0, i1, r0, r1) gives the outputs i0 <= i < i1 whose
    input lies in [0, n), and the input slice r0:r1 (step stride) they land on; None if there are none.
    """
    i0 = max(0, -(-(pad - d) // stride))
    i1 = min(out_n, (n - 1 + pad - d) // stride + 1)
    if i1 <= i0:
        return None
    r0 = i0 * stride + d - pad
    return i0, i1, r0, r0 + (i1 - i0 - 1) * stride + 1


def per_image_product(a, b, N):
    """a @ b for a: (N*P, K) whose rows come in N blocks of P (one per image), as N products (P, K) @ (K, M).

    NOTE: the same products, cut by image. On the project's 2-core machine, shared with other
    processes, OpenBLAS splits one large product over both cores and then waits for the second
    core whenever another process holds it: the conv2 forward product at N=32 took a median of
    22 ms against 1.1 ms cut by image (the fastest of each, 0.7 ms, were equal), its dx products
    179 ms against 2.6. Products of one image are small enough that OpenBLAS runs each on one
    core, and none waits (benchmarks/conv_formulations.py, row "e batch axis").
    """
    return np.matmul(a.reshape(N, -1, a.shape[1]), b).reshape(-1, b.shape[1])


def _im2col(x, kh, kw, strides=1, padding="valid"):
    return im2col(x, kh, kw, strides, padding)


register("im2col", reference=conv.im2col, fast=_im2col)
register("col2im", reference=conv.col2im)
register("conv2d_forward", reference=conv.conv2d_forward, fast=conv2d_forward)
register("conv2d_backward", reference=conv.conv2d_backward, fast=conv2d_backward)
