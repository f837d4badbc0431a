"""BatchNormalization -> ReLU -> MaxPooling2D as one op: pool first, normalise a quarter.

The seed CNN's block is ``Conv2D -> BatchNormalization -> ReLU -> MaxPooling2D``. Layer by layer,
batch norm, ReLU and max-pool each read and write a tensor of the convolution's size (6.4 MB
for 128 images of 28x28x16). This op takes the convolution's output z and computes the same
result while touching the full-size tensor only for the batch statistics, the pooling and dz.

Shapes: z: (N, H, W, C); gamma, beta, mean, var: (C,); y: (N, out_h, out_w, C).

Why pooling may come first
--------------------------
Once its statistics are known, batch norm is a per-channel affine map, and with the ReLU:

    f(t) = relu(a * t + b),      a = gamma / sqrt(var + epsilon),   b = beta - mean * a

For a >= 0, f is non-decreasing, and a non-decreasing f commutes with max:
max(f(t1), f(t2)) = f(max(t1, t2)) (the larger input gives the larger, or an equal, output).
So, window by window,

    maxpool(relu(bn(z))) = relu(a * maxpool(z) + b)          for a >= 0
                         = relu(a * minpool(z) + b)          for a < 0 (f is then non-increasing)

and the affine map and the ReLU run on a tensor ph*pw times smaller. The statistics still
come from the whole of z: pooling only moves the map after the max. In floating point this
holds bit for bit when the map is computed the same way (each rounding step -- a subtraction,
a product by a >= 0, an addition -- is itself non-decreasing): the fused output equals the fast
batch norm's followed by ReLU and max-pool exactly, and the textbook reference's (which rounds
gamma * ((z - mean) / sqrt(var + eps)) + beta) to the last bit or so.

Backward, with p = the winner's value (the max, or the min when a < 0), u = a * p + b, y = relu(u):

    du     = dout * [u > 0]                      (ReLU; the gradient is 0 at u = 0)
    dbeta  = sum du                              (sums over the pooled tensor: the
    dgamma = sum du * phat,  phat = (p - mean) / sqrt(var + eps)   other cells get nothing)
    dz     = scatter(gamma / sqrt(var + eps) * du)  -  gamma / sqrt(var + eps) * (dbeta + zhat * dgamma) / M

The first term sends each window's gradient to its winner (the cell the layer-by-layer path
would send it to: max-pool picks the cell, the ReLU and batch norm's direct path multiply by
[u > 0] and gamma / sqrt(var + eps)). The second is batch norm's correction through the mean
and the variance, the same as in ``batch_norm_backward`` with its dout summed over the winners
only, since every other cell's dout is 0. M = N*H*W, zhat = (z - mean) / sqrt(var + eps).

# NOTE: which cell wins, on ties. Layer by layer, max-pool sends the gradient to the FIRST
# maximum of relu(bn(z)) in row-major window order. Here the winner is the FIRST maximum of z
# (a > 0), the FIRST minimum (a < 0), or the FIRST cell (a = 0: the map is constant, every cell
# ties). They are the same cell: for a != 0 equal z give equal outputs and unequal z unequal ones,
# except (1) windows whose outputs are all 0 after the ReLU -- there every cell ties layer by layer
# and the first one wins, but its gradient is dout * [u > 0] = 0 on both paths, so dz, dgamma and
# dbeta do not see the difference -- and (2) two different z that round to the same normalised
# value (they differ in their last bits while |beta| is much larger): layer by layer the first of
# them wins, here the truly larger one, the derivative of the exact function.
# gamma = 0 is itself a kink: there the winner jumps from the max to the min of each window.

Supported: 'valid' padding with windows that do not overlap (strides >= pool_size, e.g. the usual
2x2 / stride 2; rows and columns left over at the edge still count in the statistics). Anything
else runs the layer-by-layer reference, so both functions accept every setting.

Memory: the cache keeps z and z - mean (as batch norm keeps x - mean), and pooled-size arrays.
Which cell of each window won is worked out again in backward (``winners``), so inference never
pays for it.

Measured (2 shared cores, float32, medians of 20 in turns; ``python benchmarks/profile_cnn.py
--block-only``, 2026-11-29 00:15 UTC): on the seed CNN's first block, 128x28x28x16, forward 4.0 ms
against 5.5 ms for the fast batch norm, ReLU and max-pool one by one (0.73x), backward 7.1 against
9.1 ms (0.78x); on its second, 128x14x14x32, 0.75x and 0.83x. Inside ``fit`` the seed CNN's step
took 0.96x the time at batch 128 and 0.88x at batch 32 (benchmarks/compare_checkouts.py, fusion
on against off). Tried and not kept: the variance as E[z^2] - mean^2 in one pass (saves the
z - mean pass, but float32 cancellation when |mean| >> std); the winners kept as flat indices
(np.take / fancy assignment: slower than the masks); winners and extremes in two stages, down the
rows then across the columns, with the row-major tie rule (more passes, no faster).
"""

from typing import NamedTuple

import numpy as np

from ..core.checks import check_pair
from ..core.ops import normalization, pooling, register
from ..core.ops.conv import check_padding, conv_output_size, window_slice
from .normalization import channel_dots, channel_sums, as_rows, tiled


# ----- the reference: three ops, one after the other ---------------------------------------
class UnfusedCache(NamedTuple):
    """What unfused_backward needs: each op's own cache, and the ReLU's output."""

    bn: object                  # batch norm's cache (training or inference)
    r: np.ndarray               # (N, H, W, C) relu(bn(z))
    pool: pooling.MaxPool2DCache
    training: bool


def unfused_forward(z, gamma, beta, epsilon, pool_size=2, strides=None, padding="valid"):
    """maxpool(relu(batch_norm(z))) in training mode, each op on its own: the reference.

    z: (N, H, W, C), gamma, beta: (C,) -> y: (N, out_h, out_w, C), mean: (C,), var: (C,), cache
    """
    t, mean, var, bn_cache = normalization.batch_norm_forward(z, gamma, beta, epsilon)
    r = np.maximum(t, 0)
    y, pool_cache = pooling.maxpool2d_forward(r, pool_size, strides, padding)
    return y, mean, var, UnfusedCache(bn_cache, r, pool_cache, True)


def unfused_inference(z, gamma, beta, mean, var, epsilon, pool_size=2, strides=None, padding="valid"):
    """maxpool(relu(batch_norm_inference(z))) with fixed statistics: the reference.

    z: (N, H, W, C), gamma, beta, mean, var: (C,) -> y: (N, out_h, out_w, C), cache
    """
    t, bn_cache = normalization.batch_norm_inference(z, gamma, beta, mean, var, epsilon)
    r = np.maximum(t, 0)
    y, pool_cache = pooling.maxpool2d_forward(r, pool_size, strides, padding)
    return y, UnfusedCache(bn_cache, r, pool_cache, False)


def unfused_backward(dout, cache):
    """The chain rule through max-pool, ReLU and batch norm in reverse.

    dout: (N, out_h, out_w, C) -> dz: (N, H, W, C), dgamma: (C,), dbeta: (C,)
    """
    bn_cache, r, pool_cache, training = cache
    dr = pooling.maxpool2d_backward(dout, pool_cache)
    dt = dr * (r > 0)
    if training:
        return normalization.batch_norm_backward(dt, bn_cache)
    return normalization.batch_norm_inference_backward(dt, bn_cache)


# ----- the fused op ------------------------------------------------------------------------
class FusedCache(NamedTuple):
    """What fused_backward needs from fused_forward / fused_inference."""

    z: np.ndarray        # (N, H, W, C) the input
    zc: np.ndarray       # (R, k*C) z - mean in batch norm's rows layout (training), else None
    p: np.ndarray        # (N, out_h, out_w, C) each window's winning value of z
    pc: np.ndarray       # (N, out_h, out_w, C) p - mean
    y: np.ndarray        # (N, out_h, out_w, C) the output, relu(a * p + b)
    inv_std: np.ndarray  # (C,) 1 / sqrt(var + epsilon)
    gamma: np.ndarray    # (C,)
    pool_size: tuple     # (ph, pw)
    strides: tuple       # (sh, sw)


def fusable(pool_size=2, strides=None, padding="valid"):
    """True if the fused op handles these pooling settings: 'valid', windows not overlapping."""
    ph, pw = check_pair(pool_size, "pool_size")
    sh, sw = check_pair(pool_size if strides is None else strides, "strides")
    return check_padding(padding) == "valid" and sh >= ph and sw >= pw


def fused_forward(z, gamma, beta, epsilon, pool_size=2, strides=None, padding="valid"):
    """unfused_forward, pooling before normalising (see the module docstring).

    z: (N, H, W, C), gamma, beta: (C,) -> y: (N, out_h, out_w, C), mean: (C,), var: (C,), cache
    """
    if not fusable(pool_size, strides, padding) or z.ndim != 4:
        return unfused_forward(z, gamma, beta, epsilon, pool_size, strides, padding)
    C = z.shape[-1]
    mean, var, zc = _batch_statistics(z)
    inv_std = 1.0 / np.sqrt(var + epsilon)
    scale = gamma * inv_std
    p = _pooled_extremes(z, scale, pool_size, strides)
    # NOTE: the pooled arrays in batch norm's rows layout (runs of out_w*C values, not C).
    p_rows, k = as_rows(p), p.shape[2] * C
    pc = p_rows - tiled(mean, k)                         # p - mean, as zc holds z - mean
    y = pc * tiled(scale, k)                             # a * p + b, as batch norm rounds it:
    y += tiled(beta, k)                                  # (p - mean) * scale + beta
    np.maximum(y, 0, out=y)
    cache = FusedCache(z, zc, p, pc.reshape(p.shape), y.reshape(p.shape), inv_std, gamma,
                       *_pair_geometry(pool_size, strides))
    return cache.y, mean, var, cache


def fused_inference(z, gamma, beta, mean, var, epsilon, pool_size=2, strides=None, padding="valid"):
    """unfused_inference, pooling before normalising: relu(scale * pool(z) + shift).

    z: (N, H, W, C), gamma, beta, mean, var: (C,) -> y: (N, out_h, out_w, C), cache
    """
    if not fusable(pool_size, strides, padding) or z.ndim != 4:
        return unfused_inference(z, gamma, beta, mean, var, epsilon, pool_size, strides, padding)
    inv_std = 1.0 / np.sqrt(var + epsilon)
    scale = gamma / np.sqrt(var + epsilon)                # as batch_norm_inference computes it
    shift = beta - mean * scale
    p = _pooled_extremes(z, scale, pool_size, strides)
    p_rows, k = as_rows(p), p.shape[2] * z.shape[-1]
    y = p_rows * tiled(scale, k)                         # as batch_norm_inference rounds it:
    y += tiled(shift, k)                                 # x * scale + shift
    np.maximum(y, 0, out=y)
    y = y.reshape(p.shape)
    # Backward (a frozen batch norm inside fit) needs p - mean; predict pays one pooled-size pass.
    pc = (p_rows - tiled(mean, k)).reshape(p.shape)
    return y, FusedCache(z, None, p, pc, y, inv_std, gamma, *_pair_geometry(pool_size, strides))


def fused_backward(dout, cache):
    """Gradients of fused_forward or fused_inference (see the module docstring).

    dout: (N, out_h, out_w, C) -> dz: (N, H, W, C), dgamma: (C,), dbeta: (C,)
    """
    if isinstance(cache, UnfusedCache):                   # the settings fused_forward left alone
        return unfused_backward(dout, cache)
    z, zc, p, pc, y, inv_std, gamma, pool_size, strides = cache
    pooling.check_dout(dout, y.shape)
    C = z.shape[-1]
    du = as_rows(dout) * as_rows(y > 0)                       # ReLU
    k = du.shape[1]
    dbeta = channel_sums(du, C)                          # sum du
    dgamma = channel_dots(du, as_rows(pc), C) * inv_std    # sum du * phat
    du *= tiled(gamma * inv_std, k)                      # what batch norm's direct path passes on
    if zc is None:                                        # inference: mean and var are constants
        dz = np.zeros(z.shape, dtype=du.dtype)
    else:
        dz = _batch_norm_correction(zc, gamma, inv_std, dgamma, dbeta).reshape(z.shape)
    _scatter_to_winners(dz, du.reshape(y.shape), winners(cache), pool_size, strides)
    return dz, dgamma, dbeta


def winners(cache):
    """From a fused cache: each window's winning cell, as its offset di*pw + dj in the window.

    The FIRST cell in row-major window order whose z equals the pooled value p: the first maximum
    (gamma > 0), the first minimum (gamma < 0), or the first cell (gamma = 0, where p is that cell).
    """
    z, p, (ph, pw), strides = cache.z, cache.p, cache.pool_size, cache.strides
    out_h, out_w = p.shape[1:3]
    return _first_equal([z[window_slice(di, dj, out_h, out_w, strides)] for di in range(ph) for dj in range(pw)], p)


def _batch_statistics(z):
    """Per-channel mean and (biased) variance of z: (..., C), and z - mean in the rows layout.

    Taken exactly as batch_norm_forward takes them, so the fused output matches it bit for bit.
    """
    C = z.shape[-1]
    rows = as_rows(z)
    M = rows.size // C
    mean = channel_sums(rows, C) / M
    zc = rows - tiled(mean, rows.shape[1])
    var = channel_dots(zc, zc, C) / M
    return mean, var, zc


def _batch_norm_correction(zc, gamma, inv_std, dgamma, dbeta):
    """Batch norm's gradient through the mean and the variance, for every cell (rows layout):

        -gamma * inv_std / M * (dbeta + zhat * dgamma),   zhat = zc * inv_std
    """
    M = zc.size // gamma.shape[0]
    dz = zc * tiled(-gamma * inv_std ** 2 * dgamma / M, zc.shape[1])
    dz -= tiled(gamma * inv_std * dbeta / M, zc.shape[1])
    return dz


def _scatter_to_winners(dz, dwinner, winner, pool_size, strides):
    """dz[the winner of each window] += dwinner, in place. dz: (N, H, W, C), dwinner, winner: pooled."""
    (ph, pw), (out_h, out_w) = pool_size, dwinner.shape[1:3]
    N, H, W, C = dz.shape
    if strides == (ph, pw) and (out_h * ph, out_w * pw) == (H, W):
        # NOTE: when the windows tile z exactly (2x2 windows on 28x28), spread dwinner and winner
        # over each window's pw columns (np.repeat), so that one image row of the window holds
        # W*C values in z's order; then one comparison with the offsets of that row's cells and
        # one product reach all ph rows at once, in runs of W*C values instead of C. Measured
        # 0.8x the time of the offset-by-offset loop below (128x28x28x16).
        rows = dz.reshape(N * out_h, ph, W * C)
        spread = (N * out_h, 1, W * C)
        dwinner_rows = np.repeat(dwinner.reshape(N * out_h, out_w, 1, C), pw, axis=2).reshape(spread)
        winner_rows = np.repeat(winner.reshape(N * out_h, out_w, 1, C), pw, axis=2).reshape(spread)
        rows += dwinner_rows * (winner_rows == _cell_offsets(ph, pw, out_w, C, winner.dtype))
        return
    for di in range(ph):
        for dj in range(pw):
            # NOTE: windows do not overlap, so each cell gets at most one window's gradient.
            dz[window_slice(di, dj, out_h, out_w, strides)] += dwinner * (winner == di * pw + dj)


def _pair_geometry(pool_size, strides):
    ph, pw = check_pair(pool_size, "pool_size")
    return (ph, pw), check_pair((ph, pw) if strides is None else strides, "strides")


def _pooled_extremes(z, scale, pool_size, strides):
    """Each window's winning value for a per-channel map of slope ``scale``.

    z: (N, H, W, C), scale: (C,) -> p: (N, out_h, out_w, C) (a fresh array): the maximum where
    scale > 0, the minimum where scale < 0, the window's first cell where scale == 0 (the map is
    constant there, every cell ties, and max-pool after the map picks the first).
    """
    (ph, pw), (sh, sw) = _pair_geometry(pool_size, strides)
    N, H, W, C = z.shape
    out_h, out_w = conv_output_size(H, ph, sh, "valid"), conv_output_size(W, pw, sw, "valid")
    p = _window_extreme(z, np.maximum, (ph, pw), (sh, sw), out_h, out_w)
    if (scale < 0).any():
        p = np.where(scale < 0, _window_extreme(z, np.minimum, (ph, pw), (sh, sw), out_h, out_w), p)
    if (scale == 0).any():
        p = np.where(scale == 0, z[window_slice(0, 0, out_h, out_w, (sh, sw))], p)
    return p


def _window_extreme(z, extreme, pool_size, strides, out_h, out_w):
    """Each window's extreme (np.maximum or np.minimum) of z: (N, H, W, C) -> (N, out_h, out_w, C).

    NOTE: first down each window's ph rows, whole image rows at a time (runs of W*C values),
    then across its pw columns on the ph times smaller result (runs of only C values: NumPy's
    slow case). Measured 1.1 ms against 1.4 for the ph*pw window_slice cells (128x28x28x16).
    """
    (ph, pw), (sh, sw) = pool_size, strides
    rows = [z[:, di:di + sh * (out_h - 1) + 1:sh] for di in range(ph)]       # (N, out_h, W, C) each
    r = rows[0].copy()
    for row in rows[1:]:
        extreme(r, row, out=r)
    columns = [r[:, :, dj:dj + sw * (out_w - 1) + 1:sw] for dj in range(pw)]  # (N, out_h, out_w, C)
    p = columns[0].copy()
    for column in columns[1:]:
        extreme(p, column, out=p)
    return p


def _first_equal(cells, p):
    """The index of the first of ``cells`` (row-major window order) equal to ``p``, per window.

    winner = the number of leading cells that are not p: sum over k < K-1 of [none of cells 0..k is p].
    """
    index_type = np.uint8 if len(cells) <= 256 else np.int32
    found = cells[0] == p
    winner = np.zeros(p.shape, dtype=index_type)
    for cell in cells[1:]:
        winner += ~found                                  # one more leading cell that was not p
        found |= cell == p
    return winner


def _cell_offsets(ph, pw, out_w, C, dtype):
    """(1, ph, out_w*pw*C): the offset di*pw + dj of the window cell each value of an image row is in."""
    di, dj = np.arange(ph).reshape(ph, 1, 1, 1), np.arange(pw).reshape(1, 1, pw, 1)
    offsets = np.broadcast_to(di * pw + dj, (ph, out_w, pw, C))
    return offsets.reshape(1, ph, out_w * pw * C).astype(dtype)


register("batch_norm_relu_maxpool_forward", reference=unfused_forward, fast=fused_forward)
register("batch_norm_relu_maxpool_inference", reference=unfused_inference, fast=fused_inference)
register("batch_norm_relu_maxpool_backward", reference=unfused_backward, fast=fused_backward)
