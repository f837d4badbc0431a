"""Tests for tinynet.ops.pooling against slow, obviously-correct nested-loop references."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinynet.gradcheck import numerical_gradient, relative_error
from tinynet.ops.pooling import (
    avgpool2d_backward,
    avgpool2d_forward,
    global_avgpool2d_backward,
    global_avgpool2d_forward,
    maxpool2d_backward,
    maxpool2d_forward,
)


# ---------------------------------------------------------------- references


def tf_geometry(n, k, s, padding):
    """(out, pad_before) along one axis, TensorFlow's rule written independently."""
    if padding == "valid":
        return math.floor((n - k) / s) + 1, 0
    out = math.ceil(n / s)
    return out, max((out - 1) * s + k - n, 0) // 2


def reference_windows(x, ph, pw, sh, sw, padding):
    """Yield (n, y, x_, c, rows, cols): the real input cells of each output's window."""
    N, H, W, C = x.shape
    out_h, top = tf_geometry(H, ph, sh, padding)
    out_w, left = tf_geometry(W, pw, sw, padding)
    for n in range(N):
        for y in range(out_h):
            for x_ in range(out_w):
                # clip the window to the image: cells outside it are padding
                r0, c0 = y * sh - top, x_ * sw - left
                rows = range(max(r0, 0), min(r0 + ph, H))
                cols = range(max(c0, 0), min(c0 + pw, W))
                for c in range(C):
                    yield n, y, x_, c, rows, cols


def reference_pool(x, ph, pw, sh, sw, padding, kind):
    N, H, W, C = x.shape
    out_h, _ = tf_geometry(H, ph, sh, padding)
    out_w, _ = tf_geometry(W, pw, sw, padding)
    out = np.zeros((N, out_h, out_w, C), dtype=x.dtype)
    for n, y, x_, c, rows, cols in reference_windows(x, ph, pw, sh, sw, padding):
        cells = [x[n, r, q, c] for r in rows for q in cols]
        out[n, y, x_, c] = max(cells) if kind == "max" else sum(cells) / len(cells)
    return out


def reference_pool_backward(dout, x, ph, pw, sh, sw, padding, kind):
    """Max: all of dout to the first maximal cell in row-major window order. Avg: spread."""
    dx = np.zeros_like(x)
    for n, y, x_, c, rows, cols in reference_windows(x, ph, pw, sh, sw, padding):
        cells = [(r, q) for r in rows for q in cols]
        g = dout[n, y, x_, c]
        if kind == "max":
            values = [x[n, r, q, c] for r, q in cells]
            r, q = cells[int(np.argmax(values))]  # np.argmax returns the first maximum
            dx[n, r, q, c] += g
        else:
            for r, q in cells:
                dx[n, r, q, c] += g / len(cells)
    return dx


def distinct_values(shape, seed):
    """Values with no ties, at least 1/size apart: finite differences never cross a tie."""
    size = math.prod(shape)
    return np.random.default_rng(seed).permutation(size).reshape(shape) / size - 0.5


POOLS = {"max": (maxpool2d_forward, maxpool2d_backward),
         "avg": (avgpool2d_forward, avgpool2d_backward)}


# ---------------------------------------------------------------- hand-computed cases


def test_maxpool_2x2_hand_computed():
    x = np.array([[1, 2, 5, 0],
                  [3, 4, 1, 1],
                  [0, 0, 9, 8],
                  [0, 7, 6, 9.0]]).reshape(1, 4, 4, 1)
    out, cache = maxpool2d_forward(x, 2)
    np.testing.assert_array_equal(out[0, :, :, 0], [[4, 5], [7, 9]])
    dx = maxpool2d_backward(np.array([[1, 2], [3, 4.0]]).reshape(1, 2, 2, 1), cache)
    np.testing.assert_array_equal(
        dx[0, :, :, 0], [[0, 0, 2, 0], [0, 1, 0, 0], [0, 0, 4, 0], [0, 3, 0, 0]]
    )


def test_maxpool_tie_rule_first_maximum_in_row_major_order():
    # non-overlapping windows (assigning path): each window has ties
    x = np.array([[1, 1, 0, 3],
                  [1, 1, 3, 3],
                  [2, 0, 5, 5],
                  [0, 2, 0, 0.0]]).reshape(1, 4, 4, 1)
    out, cache = maxpool2d_forward(x, 2)
    dx = maxpool2d_backward(np.ones((1, 2, 2, 1)), cache)
    np.testing.assert_array_equal(
        dx[0, :, :, 0], [[1, 0, 0, 1], [0, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]]
    )
    # overlapping windows (accumulating path) on a constant image: every 2x2 window sends
    # its gradient to its own top-left cell, so the last row and column get nothing
    out, cache = maxpool2d_forward(np.zeros((1, 3, 3, 1)), 2, 1)
    dx = maxpool2d_backward(np.ones((1, 2, 2, 1)), cache)
    np.testing.assert_array_equal(dx[0, :, :, 0], [[1, 1, 0], [1, 1, 0], [0, 0, 0]])


def test_maxpool_same_padding_never_picks_padding():
    # all negative values: zero padding would win, -inf padding does not
    x = -np.arange(1.0, 10.0).reshape(1, 3, 3, 1)
    out, cache = maxpool2d_forward(x, 2, 2, "same")
    np.testing.assert_array_equal(out[0, :, :, 0], [[-1, -3], [-7, -9]])
    dx = maxpool2d_backward(np.ones_like(out), cache)
    np.testing.assert_array_equal(dx[0, :, :, 0], [[1, 0, 1], [0, 0, 0], [1, 0, 1]])


def test_avgpool_same_does_not_count_padding():
    # 3x3 image, 2x2 pool, stride 2, 'same': pads one row/column at the bottom/right (TF)
    x = np.arange(1.0, 10.0).reshape(1, 3, 3, 1)
    out, cache = avgpool2d_forward(x, 2, 2, "same")
    np.testing.assert_allclose(out[0, :, :, 0], [[3, 4.5], [7.5, 9]])
    dx = avgpool2d_backward(np.ones_like(out), cache)
    np.testing.assert_allclose(dx[0, :, :, 0], [[.25, .25, .5], [.25, .25, .5], [.5, .5, 1]])


def test_valid_pooling_drops_the_leftover_row_and_column():
    x = np.arange(25.0).reshape(1, 5, 5, 1)
    out, cache = maxpool2d_forward(x, 2)
    np.testing.assert_array_equal(out[0, :, :, 0], [[6, 8], [16, 18]])
    dx = maxpool2d_backward(np.ones_like(out), cache)
    assert dx.shape == x.shape and dx[0, 4, :, 0].sum() == 0 and dx[0, :, 4, 0].sum() == 0


def test_maxpool_backward_zeroes_every_cell_no_window_covers():
    # dx is only left unzeroed when the windows tile the input exactly; with strides wider
    # than the pool (gaps between windows) or leftover rows, those cells must read 0
    x = np.random.default_rng(0).standard_normal((2, 7, 7, 3))
    for pool, strides in ((2, 3), (2, 2), (3, 3)):
        out, cache = maxpool2d_forward(x, pool, strides)
        dx = maxpool2d_backward(np.ones_like(out), cache)
        covered = np.zeros((7, 7), dtype=bool)
        for i in range(out.shape[1]):
            for j in range(out.shape[2]):
                covered[i * strides:i * strides + pool, j * strides:j * strides + pool] = True
        assert np.all(dx[:, ~covered] == 0)
        np.testing.assert_array_equal(dx.sum(axis=(1, 2)), out.shape[1] * out.shape[2])


# ---------------------------------------------------------------- against the references


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize(
    "x_shape, pool, strides, padding",
    [
        ((2, 8, 6, 3), 2, None, "valid"),   # the common non-overlapping case
        ((2, 7, 5, 2), 2, None, "valid"),   # odd sizes: leftover row/column dropped
        ((2, 7, 5, 2), 2, None, "same"),
        ((2, 6, 7, 2), 3, 1, "same"),       # overlapping
        ((2, 6, 7, 2), 3, 2, "valid"),
        ((1, 7, 7, 2), (2, 3), (1, 2), "same"),
        ((1, 5, 5, 1), 2, 3, "valid"),      # strides larger than the pool: gaps
    ],
)
def test_pool_matches_reference_and_numerical_gradient(kind, x_shape, pool, strides, padding):
    forward, backward = POOLS[kind]
    x = distinct_values(x_shape, seed=0)
    ph, pw = (pool, pool) if isinstance(pool, int) else pool
    sh, sw = (ph, pw) if strides is None else (
        (strides, strides) if isinstance(strides, int) else strides)
    out, cache = forward(x, pool, strides, padding)
    np.testing.assert_allclose(out, reference_pool(x, ph, pw, sh, sw, padding, kind),
                               rtol=1e-12, atol=1e-12)

    dout = np.random.default_rng(1).standard_normal(out.shape)
    dx = backward(dout, cache)
    np.testing.assert_allclose(
        dx, reference_pool_backward(dout, x, ph, pw, sh, sw, padding, kind), atol=1e-12)
    dx_num = numerical_gradient(lambda: np.sum(forward(x, pool, strides, padding)[0] * dout), x)
    assert relative_error(dx, dx_num) < 1e-6


@settings(max_examples=40, deadline=None)
@given(
    N=st.integers(1, 2), H=st.integers(1, 8), W=st.integers(1, 8), C=st.integers(1, 3),
    ph=st.integers(1, 3), pw=st.integers(1, 3), sh=st.integers(1, 3), sw=st.integers(1, 3),
    padding=st.sampled_from(["valid", "same"]), kind=st.sampled_from(["max", "avg"]),
    ties=st.booleans(), seed=st.integers(0, 2**16),
)
def test_pool_matches_reference_hypothesis(N, H, W, C, ph, pw, sh, sw, padding, kind, ties, seed):
    if padding == "valid" and (ph > H or pw > W):
        return
    forward, backward = POOLS[kind]
    rng = np.random.default_rng(seed)
    # small integers make ties common, so both tie paths are checked against the reference
    if ties:
        x = rng.integers(0, 3, (N, H, W, C)).astype(float)
    else:
        x = rng.standard_normal((N, H, W, C))
    out, cache = forward(x, (ph, pw), (sh, sw), padding)
    assert out.shape == (N, tf_geometry(H, ph, sh, padding)[0],
                         tf_geometry(W, pw, sw, padding)[0], C)
    np.testing.assert_allclose(out, reference_pool(x, ph, pw, sh, sw, padding, kind), atol=1e-12)
    dout = rng.standard_normal(out.shape)
    np.testing.assert_allclose(
        backward(dout, cache),
        reference_pool_backward(dout, x, ph, pw, sh, sw, padding, kind), atol=1e-12)


# ---------------------------------------------------------------- global average pooling


def test_global_avgpool_forward_backward():
    x = distinct_values((2, 3, 4, 5), seed=2)
    out, x_shape = global_avgpool2d_forward(x)
    np.testing.assert_allclose(out, x.mean(axis=(1, 2)))
    dout = np.random.default_rng(3).standard_normal(out.shape)
    dx = global_avgpool2d_backward(dout, x_shape)
    dx_num = numerical_gradient(lambda: np.sum(global_avgpool2d_forward(x)[0] * dout), x)
    assert relative_error(dx, dx_num) < 1e-6


# ---------------------------------------------------------------- dtypes and errors


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_dtype_is_preserved(dtype, padding):
    x = np.random.default_rng(4).standard_normal((2, 5, 5, 3)).astype(dtype)
    for forward, backward in POOLS.values():
        out, cache = forward(x, 2, None, padding)
        assert out.dtype == dtype
        assert backward(np.ones_like(out), cache).dtype == dtype
    out, x_shape = global_avgpool2d_forward(x)
    assert out.dtype == dtype
    assert global_avgpool2d_backward(out, x_shape).dtype == dtype


def test_bad_arguments_raise_value_errors():
    x = np.zeros((1, 4, 4, 2))
    with pytest.raises(ValueError, match="4-D"):
        maxpool2d_forward(np.zeros((4, 4, 2)))
    with pytest.raises(ValueError, match="pool_size"):
        avgpool2d_forward(x, 0)
    with pytest.raises(ValueError, match="strides"):
        maxpool2d_forward(x, 2, (1, 1, 1))
    with pytest.raises(ValueError, match="padding"):
        maxpool2d_forward(x, 2, None, "full")
    with pytest.raises(ValueError, match="k <= n"):
        maxpool2d_forward(x, 5)
    _, cache = maxpool2d_forward(x, 2)
    with pytest.raises(ValueError, match="dout"):
        maxpool2d_backward(np.zeros((1, 3, 3, 2)), cache)
    with pytest.raises(ValueError, match="dout"):
        global_avgpool2d_backward(np.zeros((2, 2)), x.shape)
