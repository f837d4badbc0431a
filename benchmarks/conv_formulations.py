"""Ways to compute the tf2 CNN's two convolutions (docs/articles.md) in NumPy, timed side by side and checked
against the reference.

    python benchmarks/conv_formulations.py                    # both layers, batch 32 and 128, 15 rounds
    python benchmarks/conv_formulations.py --batch-sizes 128 --rounds 30 --layers conv2
    python benchmarks/conv_formulations.py --quick            # batch 4, 2 rounds: checks the script runs

The layers are the ``tf2`` CNN's: conv1 x (N, 28, 28, 1), w (3, 3, 1, 16); conv2 x (N, 14, 14, 16),
w (3, 3, 16, 32); 'same' padding, stride 1, float32. Each formulation computes the forward
z = conv(x, w) + b and the backward (dw, db, and dx for conv2; the first layer needs no dx):

  a   today's fast op (tinynet.fast.conv): im2col, one product with the bias as a row of w_col;
      dx by one small product per kernel offset added into the padded image
  a0  the textbook reference (tinynet.core.ops.conv): im2col, one product, col2im
  b   a sum of k*k shifted products without im2col: on the padded image flattened to rows
      (N*Hp*Wp, C), kernel offset (di, dj) is the row shift di*Wp + dj, so
      z = sum_k xp[shift_k:][:L] @ w[k] over the padded grid, then crop; backward the same way
  c   (conv1) a direct 9-tap multiply-add: z[f] = b[f] + sum_k w[k, f] * x shifted by offset k
  d   Winograd F(2x2, 3x3): 4x4 input tiles transformed (B^T d B), 16 products (T, C) @ (C, F),
      2x2 output tiles transformed back (A^T m A); 2.25x fewer multiplications. Forward only.
  e   the batch as a matmul batch axis (N, HW, K) @ (K, F) against one 2-D product; and im2col
      and the product written into buffers kept from step to step (``out=``); and "kernel rows":
      the kw-wide windows of every padded row once (3.4x the input instead of im2col's 9x), one
      product per kernel row (K = kw*C) on a contiguous block of them, dx as today's
  f   channels-first inside the op: the columns built transposed, cols_T (K, N*H*W), from the
      (C, N, H, W) image, z_T = w_col^T @ cols_T; "f chain" takes and gives (C, N, H, W)
      memory (as a fast path would pass it from op to op), "f" pays the transposes in and out
  g   dx as a full convolution of dz with the flipped, transposed kernel (im2col of dz, one
      product) against col2im of dz @ w_col^T and against the per-offset products: today's, each
      offset's product into one reused buffer and added onto the part of dx it reaches, and the
      previous one, a fresh product per offset added into a zero-padded image
  torch  PyTorch's conv2d forward and autograd backward on the same shapes (its own process)

Every formulation's z, dw, db, dx are compared with the reference computed in float64 from the
same float32 inputs: the table prints the largest error relative to the largest value. In each
round every formulation runs once, the order rotating; the table prints the median (and the
fastest) milliseconds over the rounds, and the same median with BLAS limited to 1 thread.
"""
import argparse
import multiprocessing as mp
import os
import platform
import statistics
import time

import numpy as np

from tinynet.core.ops import conv as reference
from tinynet.fast import conv as today

PAUSE = 0.15


# ----- the formulations -----------------------------------------------------------------
def padded(x):
    return np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))


def a_forward(x, w, b):
    z, cache = today.conv2d_forward(x, w, b, 1, "same", True)
    return z, cache


def a_backward(dz, cache, need_dx):
    return today.conv2d_backward(dz, cache, need_dx)


def a0_forward(x, w, b):
    return reference.conv2d_forward(x, w, b, 1, "same", True)


def a0_backward(dz, cache, need_dx):
    return reference.conv2d_backward(dz, cache, need_dx)


def b_forward(x, w, b):
    """Shifted products on the padded grid: no im2col, 9 products of K = C."""
    N, H, W, C = x.shape
    F = w.shape[3]
    xp = padded(x)
    Hp, Wp = H + 2, W + 2
    rows = xp.reshape(-1, C)
    L = rows.shape[0] - (2 * Wp + 2)                 # grid positions whose 3x3 window is inside the array
    full = np.empty((rows.shape[0], F), dtype=x.dtype)
    zf = full[:L]
    np.matmul(rows[:L], w[0, 0], out=zf)
    for di in range(3):
        for dj in range(3):
            if di or dj:
                shift = di * Wp + dj
                zf += rows[shift:shift + L] @ w[di, dj]
    zf += b
    z = full.reshape(N, Hp, Wp, F)[:, :H, :W]
    return z, (rows, w, x.shape, L)


def b_backward(dz, cache, need_dx):
    rows, w, (N, H, W, C), L = cache
    F = w.shape[3]
    Hp, Wp = H + 2, W + 2
    dfull = np.zeros((N, Hp, Wp, F), dtype=dz.dtype)
    dfull[:, :H, :W] = dz
    dflat = dfull.reshape(-1, F)[:L]
    dw = np.empty_like(w)
    for di in range(3):
        for dj in range(3):
            shift = di * Wp + dj
            dw[di, dj] = rows[shift:shift + L].T @ dflat
    db = dz.reshape(-1, F).sum(axis=0)
    dx = None
    if need_dx:
        dxp = np.zeros((N * Hp * Wp, C), dtype=dz.dtype)
        for di in range(3):
            for dj in range(3):
                shift = di * Wp + dj
                dxp[shift:shift + L] += dflat @ w[di, dj].T
        dx = dxp.reshape(N, Hp, Wp, C)[:, 1:H + 1, 1:W + 1]
    return dx, dw, db


def c_forward(x, w, b):
    """conv1 only (C = 1): 9 multiply-adds of the shifted image, channels-first (F, N, H, W)."""
    N, H, W, _ = x.shape
    F = w.shape[3]
    xp = np.pad(x[..., 0], ((0, 0), (1, 1), (1, 1)))
    shifted = [xp[:, di:di + H, dj:dj + W] for di in range(3) for dj in range(3)]
    taps = w.reshape(9, F)
    z = np.empty((F, N, H, W), dtype=x.dtype)
    tmp = np.empty_like(z)
    np.multiply(taps[0][:, None, None, None], shifted[0], out=z)
    for k in range(1, 9):
        np.multiply(taps[k][:, None, None, None], shifted[k], out=tmp)
        z += tmp
    z += b[:, None, None, None]
    return z.transpose(1, 2, 3, 0), (shifted, w)


def c_backward(dz, cache, need_dx):
    shifted, w = cache
    F = w.shape[3]
    dz_t = np.ascontiguousarray(dz.transpose(3, 0, 1, 2)).reshape(F, -1)
    dw = np.stack([dz_t @ s.reshape(-1) for s in shifted]).reshape(w.shape)   # 9 products (F, L) @ (L,)
    db = dz_t.sum(axis=1)
    return None, dw, db


BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], dtype=np.float32)
G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], dtype=np.float32)
AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], dtype=np.float32)


def d_forward(x, w, b):
    """Winograd F(2x2, 3x3), channels-last, H and W even."""
    N, H, W, C = x.shape
    F = w.shape[3]
    xp = padded(x)
    th, tw = H // 2, W // 2
    # d[a][c] = the (N, th, tw, C) array of every tile's cell (a, c): xp[:, 2i + a, 2j + c]
    d = [[xp[:, a:a + 2 * th:2, c:c + 2 * tw:2] for c in range(4)] for a in range(4)]
    rows = [[d[0][c] - d[2][c] for c in range(4)], [d[1][c] + d[2][c] for c in range(4)],
            [d[2][c] - d[1][c] for c in range(4)], [d[1][c] - d[3][c] for c in range(4)]]
    V = np.empty((16, N * th * tw, C), dtype=x.dtype)
    for a in range(4):
        r = rows[a]
        for c, value in enumerate((r[0] - r[2], r[1] + r[2], r[2] - r[1], r[1] - r[3])):
            V[4 * a + c] = value.reshape(-1, C)
    U = np.einsum("ai,ijcf,bj->abcf", G, w, G).reshape(16, C, F)        # G g G^T, per (c, f)
    M = np.matmul(V, U).reshape(4, 4, N, th, tw, F)                       # 16 products (T, C) @ (C, F)
    t = [M[0] + M[1] + M[2], M[1] - M[2] - M[3]]                          # A^T m (over the first index)
    z = np.empty((N, th, 2, tw, 2, F), dtype=x.dtype)
    for r in range(2):
        z[:, :, r, :, 0] = t[r][0] + t[r][1] + t[r][2]
        z[:, :, r, :, 1] = t[r][1] - t[r][2] - t[r][3]
    z = z.reshape(N, H, W, F)
    z += b
    return z, None


def e_batch_forward(x, w, b):
    """im2col as today, then the product with the batch of images as matmul's batch axis."""
    N = x.shape[0]
    kh, kw, C, F = w.shape
    cols = today.im2col(x, kh, kw, 1, "same", ones_column=True)
    w_col = np.vstack([w.reshape(-1, F), b])
    z = np.matmul(cols.reshape(N, -1, cols.shape[1]), w_col)
    return z.reshape(N, x.shape[1], x.shape[2], F), None


class Buffers:
    """Arrays kept from call to call, by name and shape (what a step-to-step cache would keep)."""

    def __init__(self):
        self.arrays = {}

    def get(self, name, shape, dtype, fill=None):
        array = self.arrays.get(name)
        if array is None or array.shape != shape or array.dtype != dtype:
            array = self.arrays[name] = np.empty(shape, dtype)
            if fill is not None:
                array[...] = fill
        return array


BUFFERS = Buffers()


def e_buffers_forward(x, w, b):
    """Today's im2col and product, written into buffers kept between calls (no allocation, no page faults)."""
    N, H, W, C = x.shape
    kh, kw, _, F = w.shape
    K = kh * kw * C
    cols = BUFFERS.get("cols", (N * H * W, K + 1), x.dtype)
    cols[:, K] = 1
    xp = BUFFERS.get("xp", (N, H + 2, W + 2, C), x.dtype, fill=0)
    xp[:, 1:H + 1, 1:W + 1] = x
    windows = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(1, 2))
    np.copyto(cols[:, :K].reshape(N, H, W, kh, kw, C), windows.transpose(0, 1, 2, 4, 5, 3))
    w_col = np.vstack([w.reshape(K, F), b])
    z = BUFFERS.get("z", (N * H * W, F), x.dtype)
    np.matmul(cols, w_col, out=z)
    return z.reshape(N, H, W, F), (cols, w, x.shape)


def e_buffers_backward(dz, cache, need_dx):
    cols, w, x_shape = cache
    F = w.shape[3]
    dzr = dz.reshape(-1, F)
    dwb = BUFFERS.get("dwb", (cols.shape[1], F), dz.dtype)
    np.matmul(cols.T, dzr, out=dwb)
    dx = None
    if need_dx:
        N, H, W, C = x_shape
        dxp = BUFFERS.get("dxp", (N, H + 2, W + 2, C), dz.dtype)
        dxp[...] = 0
        part = BUFFERS.get("part", (dzr.shape[0], C), dz.dtype)
        for di in range(3):
            for dj in range(3):
                np.matmul(dzr, w[di, dj].T, out=part)
                dxp[:, di:di + H, dj:dj + W] += part.reshape(N, H, W, C)
        dx = dxp[:, 1:H + 1, 1:W + 1]
    return dx, dwb[:-1].reshape(w.shape), dwb[-1].copy()


def rows_forward(x, w, b):
    """Kernel rows: one (N, Hp, W, kw*C) matrix R of every padded row's kw-wide windows (3.4x x instead of
    im2col's 9x); kernel row di's columns are R's rows di .. di+H-1, a contiguous block per image, so
    z = sum over di of 3 products with K = kw*C, the batch of images as matmul's batch axis."""
    N, H, W, C = x.shape
    kh, kw, _, F = w.shape
    xp = today.zero_padded(x, ((1, 1), (1, 1)))
    R = np.empty((N, H + 2, W, kw * C), dtype=x.dtype)
    np.copyto(R.reshape(N, H + 2, W, kw, C),
              np.lib.stride_tricks.sliding_window_view(xp, kw, axis=2).transpose(0, 1, 2, 4, 3))
    w_rows = w.reshape(kh, kw * C, F)
    z = np.matmul(R[:, :H].reshape(N, H * W, kw * C), w_rows[0])
    part = np.empty_like(z)
    for di in range(1, kh):
        z += np.matmul(R[:, di:di + H].reshape(N, H * W, kw * C), w_rows[di], out=part)
    z += b
    return z.reshape(N, H, W, F), (R, w, x.shape)


def rows_backward(dz, cache, need_dx):
    R, w, x_shape = cache
    N, H, W, F = dz.shape
    d3 = dz.reshape(N, H * W, F)
    dw = np.stack([np.matmul(R[:, di:di + H].reshape(N, H * W, -1).transpose(0, 2, 1), d3).sum(axis=0)
                   for di in range(w.shape[0])])
    dx = today.conv2d_input_gradient(dz.reshape(-1, F), w, x_shape, 1, "same") if need_dx else None
    return dx, dw.reshape(w.shape), today.sum_rows_fast(dz.reshape(-1, F))


def cols_t(xp_t, kh, kw, H, W, ones_row):
    """Channels-first im2col: (C, N, Hp, Wp) -> (kh*kw*C [+ 1], N*H*W), rows in w_col's (di, dj, c) order."""
    C, N = xp_t.shape[:2]
    K = kh * kw * C
    out = np.empty((K + ones_row, N * H * W), dtype=xp_t.dtype)
    view = out[:K].reshape(kh, kw, C, N, H, W)
    for di in range(kh):
        for dj in range(kw):
            view[di, dj] = xp_t[:, :, di:di + H, dj:dj + W]
    if ones_row:
        out[K] = 1
    return out


def f_chain_forward(x_t, w, b):
    """Channels-first in and out: x_t (C, N, H, W) -> z_t (F, N, H, W)."""
    C, N, H, W = x_t.shape
    F = w.shape[3]
    xp_t = np.pad(x_t, ((0, 0), (0, 0), (1, 1), (1, 1)))
    cols = cols_t(xp_t, 3, 3, H, W, ones_row=True)
    w_col = np.vstack([w.reshape(-1, F), b])                  # (K + 1, F)
    z_t = w_col.T @ cols                                      # (F, N*H*W)
    return z_t.reshape(F, N, H, W), (cols, w, x_t.shape)


def f_chain_backward(dz_t, cache, need_dx):
    cols, w, (C, N, H, W) = cache
    F = w.shape[3]
    dz2 = dz_t.reshape(F, -1)
    dwb = dz2 @ cols.T                                        # (F, K + 1)
    dx_t = None
    if need_dx:
        dxp = np.zeros((C, N, H + 2, W + 2), dtype=dz_t.dtype)
        for di in range(3):
            for dj in range(3):
                dxp[:, :, di:di + H, dj:dj + W] += (w[di, dj] @ dz2).reshape(C, N, H, W)
        dx_t = dxp[:, :, 1:H + 1, 1:W + 1]
    return dx_t, dwb[:, :-1].T.reshape(w.shape), dwb[:, -1]


def f_forward(x, w, b):
    """Channels-first inside, channels-last outside: the transposes in and out are paid here."""
    z_t, cache = f_chain_forward(np.ascontiguousarray(x.transpose(3, 0, 1, 2)), w, b)
    return np.ascontiguousarray(z_t.transpose(1, 2, 3, 0)), cache


def f_backward(dz, cache, need_dx):
    dx_t, dw, db = f_chain_backward(np.ascontiguousarray(dz.transpose(3, 0, 1, 2)), cache, need_dx)
    return (None if dx_t is None else np.ascontiguousarray(dx_t.transpose(1, 2, 3, 0))), dw, db


def g_full_dx(dz, w):
    """dx as the 'same' convolution of dz with the kernel flipped in space, C and F swapped."""
    w_flip = np.ascontiguousarray(w[::-1, ::-1].transpose(0, 1, 3, 2))     # (3, 3, F, C)
    cols = today.im2col(dz, 3, 3, 1, "same")
    return (cols @ w_flip.reshape(-1, w.shape[2])).reshape(dz.shape[:3] + (w.shape[2],))


def g_col2im_dx(dz, w):
    F = w.shape[3]
    return reference.col2im(dz.reshape(-1, F) @ w.reshape(-1, F).T, dz.shape[:3] + (w.shape[2],), 3, 3, 1, "same")


def g_offsets_dx(dz, w):
    return today.conv2d_input_gradient(dz.reshape(-1, w.shape[3]), w, dz.shape[:3] + (w.shape[2],), 1, "same")


def g_offsets_padded_dx(dz, w):
    """The per-offset products as the fast op made them before: a fresh array per offset, added into
    a zero-padded image that is cropped at the end (the unpadded version is today's op)."""
    N, H, W, F = dz.shape
    dzr = dz.reshape(-1, F)
    dxp = np.zeros((N, H + 2, W + 2, w.shape[2]), dtype=dz.dtype)
    for di in range(3):
        for dj in range(3):
            dxp[:, di:di + H, dj:dj + W] += today.per_image_product(dzr, w[di, dj].T, N).reshape(N, H, W, -1)
    return dxp[:, 1:H + 1, 1:W + 1]


# ----- timing ---------------------------------------------------------------------------
SHAPES = {"conv1": ((28, 28, 1), 16), "conv2": ((14, 14, 16), 32)}


def data(layer, N, seed=0):
    (H, W, C), F = SHAPES[layer]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, H, W, C)).astype(np.float32)
    w = (rng.standard_normal((3, 3, C, F)) * 0.2).astype(np.float32)
    b = rng.standard_normal(F).astype(np.float32)
    dz = rng.standard_normal((N, H, W, F)).astype(np.float32)
    return x, w, b, dz


def formulations(layer):
    """name -> (forward(x, w, b), backward(dz, cache, need_dx) or None, takes channels-first)."""
    table = {"a today": (a_forward, a_backward, False), "a0 reference": (a0_forward, a0_backward, False),
             "b shifted products": (b_forward, b_backward, False),
             "d Winograd (forward)": (d_forward, None, False),
             "e batch axis (forward)": (e_batch_forward, None, False),
             "e buffers + out=": (e_buffers_forward, e_buffers_backward, False),
             "f channels-first": (f_forward, f_backward, False),
             "f chain (C, N, H, W) memory": (f_chain_forward, f_chain_backward, True),
             "e kernel rows (3 products, K = kw*C)": (rows_forward, rows_backward, False)}
    if layer == "conv1":
        table["c direct 9-tap"] = (c_forward, c_backward, False)
    return table


DX_FORMULATIONS = {"g full convolution of dz": g_full_dx, "g col2im (reference)": g_col2im_dx,
                   "g per-offset, unpadded (today)": g_offsets_dx,
                   "g per-offset, padded image": g_offsets_padded_dx}


def relative_error(value, truth):
    return float(np.max(np.abs(value.astype(np.float64) - truth)) / max(np.max(np.abs(truth)), 1e-30))


def agreement(layer, N):
    """{name: worst relative error of z, dw, db, dx} against the float64 reference."""
    x, w, b, dz = data(layer, N)
    need_dx = layer != "conv1"
    f64 = [a.astype(np.float64) for a in (x, w, b, dz)]
    z_ref, cache = reference.conv2d_forward(*f64[:3], 1, "same", True)
    dx_ref, dw_ref, db_ref = reference.conv2d_backward(f64[3], cache, need_dx)
    errors = {}
    for name, (forward, backward, channels_first) in formulations(layer).items():
        if channels_first:
            z_t, c = forward(np.ascontiguousarray(x.transpose(3, 0, 1, 2)), w, b)
            z = z_t.transpose(1, 2, 3, 0)
        else:
            z, c = forward(x, w, b)
        worst = relative_error(z, z_ref)
        if backward is not None:
            grad = np.ascontiguousarray(dz.transpose(3, 0, 1, 2)) if channels_first else dz
            dx, dw, db = backward(grad, c, need_dx)
            worst = max(worst, relative_error(dw, dw_ref), relative_error(db, db_ref))
            if need_dx:
                dx = dx.transpose(1, 2, 3, 0) if channels_first else dx
                worst = max(worst, relative_error(dx, dx_ref))
        errors[name] = worst
    if need_dx:
        for name, dx_of in DX_FORMULATIONS.items():
            errors[name] = relative_error(dx_of(dz, w), dx_ref)
    return errors


def numpy_round(layer, N, arrays, timings, suffix):
    x, w, b, dz, x_t, dz_t = arrays
    need_dx = layer != "conv1"
    items = list(formulations(layer).items())
    shift = len(timings.get("_rounds", []))
    items = items[shift % len(items):] + items[:shift % len(items)]
    for name, (forward, backward, channels_first) in items:
        xi, dzi = (x_t, dz_t) if channels_first else (x, dz)
        start = time.perf_counter()
        _, cache = forward(xi, w, b)
        middle = time.perf_counter()
        if backward is not None:
            backward(dzi, cache, need_dx)
        end = time.perf_counter()
        timings.setdefault((name, "forward", suffix), []).append(middle - start)
        if backward is not None:
            timings.setdefault((name, "backward", suffix), []).append(end - middle)
    if need_dx:
        for name, dx_of in DX_FORMULATIONS.items():
            start = time.perf_counter()
            dx_of(dz, w)
            timings.setdefault((name, "dx", suffix), []).append(time.perf_counter() - start)


def worker(framework, layer, N, threads, connection):
    """One process per library; each 'round' request runs every formulation once."""
    os.environ["OMP_NUM_THREADS"] = str(threads)
    x, w, b, dz = data(layer, N)
    torch = controller = None
    if framework == "torch":
        try:
            import torch
        except ImportError:                   # no PyTorch: this worker answers every round with nothing
            framework = "none"
    if framework == "torch":
        torch.set_num_threads(threads)
        xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))).requires_grad_(layer != "conv1")
        wt = torch.from_numpy(np.ascontiguousarray(w.transpose(3, 2, 0, 1))).requires_grad_(True)
        bt = torch.from_numpy(b).requires_grad_(True)
        dzt = torch.from_numpy(np.ascontiguousarray(dz.transpose(0, 3, 1, 2)))
    elif framework == "numpy":
        try:
            from threadpoolctl import ThreadpoolController
            controller = ThreadpoolController()
        except ImportError:                   # no '1 thr' columns
            pass
        arrays = (x, w, b, dz, np.ascontiguousarray(x.transpose(3, 0, 1, 2)),
                  np.ascontiguousarray(dz.transpose(3, 0, 1, 2)))
    connection.send("ready")
    timings = {}
    while connection.recv() is not None:
        if framework == "torch":
            start = time.perf_counter()
            z = torch.nn.functional.conv2d(xt, wt, bt, padding=1)
            middle = time.perf_counter()
            torch.autograd.grad(z, [t for t in (xt, wt, bt) if t.requires_grad], dzt)
            end = time.perf_counter()
            timings.setdefault(("torch", "forward", "2"), []).append(middle - start)
            timings.setdefault(("torch", "backward", "2"), []).append(end - middle)
        elif framework == "numpy":
            numpy_round(layer, N, arrays, timings, "2")
            if controller is not None:
                with controller.limit(limits=1, user_api="blas"):
                    numpy_round(layer, N, arrays, timings, "1")
        timings.setdefault("_rounds", []).append(1)  # numpy_round rotates its order by this count
        connection.send(None)
    timings.pop("_rounds", None)
    connection.send(timings)


def measure(layer, N, rounds, threads):
    context = mp.get_context("spawn")
    connections = []
    for framework in ("numpy", "torch"):
        parent_end, child_end = context.Pipe()
        context.Process(target=worker, args=(framework, layer, N, threads, child_end), daemon=True).start()
        connections.append(parent_end)
    for connection in connections:
        connection.recv()
    for r in range(rounds + 1):
        for connection in connections if r % 2 == 0 else connections[::-1]:
            connection.send("round")
            connection.recv()
            time.sleep(PAUSE)   # let the other library's spinning threads go to sleep
    timings = {}
    for connection in connections:
        connection.send(None)
        timings.update({key: values[1:] for key, values in connection.recv().items()})   # drop the warm-up
    return timings


def report(layer, N, timings, errors):
    ms = {key: (1e3 * statistics.median(v), 1e3 * min(v)) for key, v in timings.items()}
    (H, W, C), F = SHAPES[layer]
    print(f"\n{layer}: x ({N}, {H}, {W}, {C}), w (3, 3, {C}, {F}), 'same'; ms, median (fastest) of "
          f"{len(next(iter(timings.values())))} rounds; '1 thr' = BLAS on one thread; error = max |diff| / max |ref|")
    header = f"{'formulation':30} {'forward':>14} {'1 thr':>6} {'backward':>14} {'1 thr':>6} {'total':>7} {'error':>8}"
    print(header)
    print("-" * len(header))
    names = list(formulations(layer)) + (list(DX_FORMULATIONS) if layer != "conv1" else []) + ["torch"]
    for name in names:
        fwd = ms.get((name, "forward", "2"))
        bwd = ms.get((name, "backward", "2")) or ms.get((name, "dx", "2"))
        fwd1 = ms.get((name, "forward", "1"))
        bwd1 = ms.get((name, "backward", "1")) or ms.get((name, "dx", "1"))
        label = name + (" [dx only]" if (name, "dx", "2") in ms else "")

        def cell(value, width=14):
            return f"{value[0]:6.2f} ({value[1]:5.2f})".rjust(width) if value else "-".rjust(width)
        total = (fwd[0] if fwd else 0) + (bwd[0] if bwd else 0)
        error = errors.get(name)
        print(f"{label:30} {cell(fwd)} {fwd1[0] if fwd1 else float('nan'):6.2f} {cell(bwd)} "
              f"{bwd1[0] if bwd1 else float('nan'):6.2f} {total:7.2f} {'' if error is None else f'{error:8.1e}'}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[32, 128])
    parser.add_argument("--layers", nargs="+", choices=tuple(SHAPES), default=list(SHAPES))
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    batch_sizes, rounds = ([4], 2) if args.quick else (args.batch_sizes, args.rounds)
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {platform.machine()}, {os.cpu_count()} cores; "
          f"NumPy {np.__version__}; load average {', '.join(f'{v:.1f}' for v in os.getloadavg())}")
    for N in batch_sizes:
        for layer in args.layers:
            errors = agreement(layer, N)
            report(layer, N, measure(layer, N, rounds, args.threads), errors)
    print(f"load average at the end {', '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
