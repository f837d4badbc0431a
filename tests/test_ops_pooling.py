"""tinynet.core.ops.pooling (the textbook references) and pooling_fast (their fast twins, impl='fast').

Hand-computed windows, ties and padding, and numerical gradients check both impls; the fast
ops are checked against the references on random shapes, strides, paddings and ties.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinynet import ops
from tinynet.gradcheck import numerical_gradient, relative_error
from tinynet.ops import pooling


@pytest.fixture(params=["naive", "fast"])
def op(request):
    return ops.get(request.param)


def tf_out(n, k, s, padding):
    """Output length, TensorFlow's rule written independently."""
    return math.floor((n - k) / s) + 1 if padding == "valid" else math.ceil(n / s)


def distinct_values(shape, seed):
    """Values with no ties, at least 1/size apart: finite differences never cross a tie."""
    size = math.prod(shape)
    return np.random.default_rng(seed).permutation(size).reshape(shape) / size - 0.5


POOLS = ("max", "avg")


# ---------------------------------------------------------------- hand-computed cases


def test_maxpool_2x2_hand_computed(op):
    x = np.array([[1, 2, 5, 0],
                  [3, 4, 1, 1],
                  [0, 0, 9, 8],
                  [0, 7, 6, 9.0]]).reshape(1, 4, 4, 1)
    out, cache = op.maxpool2d_forward(x, 2)
    np.testing.assert_array_equal(out[0, :, :, 0], [[4, 5], [7, 9]])
    dx = op.maxpool2d_backward(np.array([[1, 2], [3, 4.0]]).reshape(1, 2, 2, 1), cache)
    np.testing.assert_array_equal(
        dx[0, :, :, 0], [[0, 0, 2, 0], [0, 1, 0, 0], [0, 0, 4, 0], [0, 3, 0, 0]]
    )


def test_maxpool_tie_rule_first_maximum_in_row_major_order(op):
    # non-overlapping windows (assigning path): each window has ties
    x = np.array([[1, 1, 0, 3],
                  [1, 1, 3, 3],
                  [2, 0, 5, 5],
                  [0, 2, 0, 0.0]]).reshape(1, 4, 4, 1)
    out, cache = op.maxpool2d_forward(x, 2)
    dx = op.maxpool2d_backward(np.ones((1, 2, 2, 1)), cache)
    np.testing.assert_array_equal(
        dx[0, :, :, 0], [[1, 0, 0, 1], [0, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]]
    )
    # overlapping windows (accumulating path) on a constant image: every 2x2 window sends
    # its gradient to its own top-left cell, so the last row and column get nothing
    out, cache = op.maxpool2d_forward(np.zeros((1, 3, 3, 1)), 2, 1)
    dx = op.maxpool2d_backward(np.ones((1, 2, 2, 1)), cache)
    np.testing.assert_array_equal(dx[0, :, :, 0], [[1, 1, 0], [1, 1, 0], [0, 0, 0]])


def test_maxpool_same_padding_never_picks_padding(op):
    # all negative values: zero padding would win, -inf padding does not
    x = -np.arange(1.0, 10.0).reshape(1, 3, 3, 1)
    out, cache = op.maxpool2d_forward(x, 2, 2, "same")
    np.testing.assert_array_equal(out[0, :, :, 0], [[-1, -3], [-7, -9]])
    dx = op.maxpool2d_backward(np.ones_like(out), cache)
    np.testing.assert_array_equal(dx[0, :, :, 0], [[1, 0, 1], [0, 0, 0], [1, 0, 1]])


def test_avgpool_same_does_not_count_padding(op):
    # 3x3 image, 2x2 pool, stride 2, 'same': pads one row/column at the bottom/right (TF)
    x = np.arange(1.0, 10.0).reshape(1, 3, 3, 1)
    out, cache = op.avgpool2d_forward(x, 2, 2, "same")
    np.testing.assert_allclose(out[0, :, :, 0], [[3, 4.5], [7.5, 9]])
    dx = op.avgpool2d_backward(np.ones_like(out), cache)
    np.testing.assert_allclose(dx[0, :, :, 0], [[.25, .25, .5], [.25, .25, .5], [.5, .5, 1]])


def test_valid_pooling_drops_the_leftover_row_and_column(op):
    x = np.arange(25.0).reshape(1, 5, 5, 1)
    out, cache = op.maxpool2d_forward(x, 2)
    np.testing.assert_array_equal(out[0, :, :, 0], [[6, 8], [16, 18]])
    dx = op.maxpool2d_backward(np.ones_like(out), cache)
    assert dx.shape == x.shape and dx[0, 4, :, 0].sum() == 0 and dx[0, :, 4, 0].sum() == 0


def test_maxpool_backward_zeroes_every_cell_no_window_covers(op):
    # dx is only left unzeroed when the windows tile the input exactly; with strides wider
    # than the pool (gaps between windows) or leftover rows, those cells must read 0
    x = np.random.default_rng(0).standard_normal((2, 7, 7, 3))
    for pool, strides in ((2, 3), (2, 2), (3, 3)):
        out, cache = op.maxpool2d_forward(x, pool, strides)
        dx = op.maxpool2d_backward(np.ones_like(out), cache)
        covered = np.zeros((7, 7), dtype=bool)
        for i in range(out.shape[1]):
            for j in range(out.shape[2]):
                covered[i * strides:i * strides + pool, j * strides:j * strides + pool] = True
        assert np.all(dx[:, ~covered] == 0)
        np.testing.assert_array_equal(dx.sum(axis=(1, 2)), out.shape[1] * out.shape[2])


# ---------------------------------------------------------------- numerical gradients, fast against reference


@pytest.mark.parametrize("kind", POOLS)
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
def test_pool_numerical_gradient(op, kind, x_shape, pool, strides, padding):
    forward, backward = getattr(op, f"{kind}pool2d_forward"), getattr(op, f"{kind}pool2d_backward")
    x = distinct_values(x_shape, seed=0)
    out, cache = forward(x, pool, strides, padding)
    dout = np.random.default_rng(1).standard_normal(out.shape)
    dx = backward(dout, cache)
    dx_num = numerical_gradient(lambda: np.sum(forward(x, pool, strides, padding)[0] * dout), x)
    assert relative_error(dx, dx_num) < 1e-6


def test_reference_maxpool_is_the_max_of_each_window():
    x = distinct_values((2, 7, 6, 3), seed=5)
    out, cache = pooling.maxpool2d_forward(x, (3, 2), (2, 1), "valid")
    for n, i, j, c in np.ndindex(out.shape):
        assert out[n, i, j, c] == x[n, 2 * i:2 * i + 3, j:j + 2, c].max()
    first = pooling.maxpool2d_argmax(cache)
    for n, i, j, c in np.ndindex(out.shape):
        di, dj = divmod(first[n, i, j, c], 2)
        assert x[n, 2 * i + di, j + dj, c] == out[n, i, j, c]


@settings(max_examples=60, deadline=None)
@given(
    N=st.integers(1, 2), H=st.integers(1, 8), W=st.integers(1, 8), C=st.integers(1, 3),
    ph=st.integers(1, 3), pw=st.integers(1, 3), sh=st.integers(1, 3), sw=st.integers(1, 3),
    padding=st.sampled_from(["valid", "same"]), kind=st.sampled_from(POOLS),
    ties=st.booleans(), seed=st.integers(0, 2**16),
)
def test_fast_pooling_matches_the_reference(N, H, W, C, ph, pw, sh, sw, padding, kind, ties, seed):
    fast, naive = ops.get("fast"), ops.get("naive")
    name = f"{kind}pool2d"
    if padding == "valid" and (ph > H or pw > W):
        with pytest.raises(ValueError, match="k <= n"):
            getattr(fast, f"{name}_forward")(np.zeros((N, H, W, C)), (ph, pw), (sh, sw), padding)
        return
    rng = np.random.default_rng(seed)
    # small integers make ties common, so the tie rule is checked too
    x = rng.integers(0, 3, (N, H, W, C)).astype(float) if ties else rng.standard_normal((N, H, W, C))
    out, cache = getattr(naive, f"{name}_forward")(x, (ph, pw), (sh, sw), padding)
    out_fast, cache_fast = getattr(fast, f"{name}_forward")(x, (ph, pw), (sh, sw), padding)
    assert out.shape == (N, tf_out(H, ph, sh, padding), tf_out(W, pw, sw, padding), C)
    np.testing.assert_allclose(out_fast, out, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    np.testing.assert_allclose(getattr(fast, f"{name}_backward")(dout, cache_fast),
                               getattr(naive, f"{name}_backward")(dout, cache), atol=1e-12)
    if kind == "max":   # the fast twin finds the first maximum from its running maxima, not by argmax
        np.testing.assert_array_equal(fast.maxpool2d_argmax(cache_fast), naive.maxpool2d_argmax(cache))


@pytest.mark.parametrize("N, H, W, C, pool", [(1, 28, 28, 16, 2), (3, 14, 14, 32, 2), (2, 9, 9, 2, 3),
                                              (1, 6, 8, 1, (2, 4))])
def test_fast_maxpool_first_maximum_on_relu_outputs(N, H, W, C, pool):
    # After a ReLU most windows hold several zeros (ties at the maximum 0); with float32 cells the fast
    # twin's running maxima must send every window's gradient to the reference's cell.
    rng = np.random.default_rng(H + C)
    x = np.maximum(rng.standard_normal((N, H, W, C)), 0).astype(np.float32)
    x[0, :2] = 0                                                   # whole windows of zeros
    fast, naive = ops.get("fast"), ops.get("naive")
    out, cache = naive.maxpool2d_forward(x, pool)
    out_fast, cache_fast = fast.maxpool2d_forward(x, pool)
    np.testing.assert_array_equal(out_fast, out)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    np.testing.assert_array_equal(fast.maxpool2d_backward(dout, cache_fast), naive.maxpool2d_backward(dout, cache))
    np.testing.assert_array_equal(fast.maxpool2d_argmax(cache_fast), naive.maxpool2d_argmax(cache))


# ---------------------------------------------------------------- global average pooling


def test_global_avgpool_forward_backward(op):
    x = distinct_values((2, 3, 4, 5), seed=2)
    out, x_shape = op.global_avgpool2d_forward(x)
    np.testing.assert_allclose(out, x.mean(axis=(1, 2)))
    dout = np.random.default_rng(3).standard_normal(out.shape)
    dx = op.global_avgpool2d_backward(dout, x_shape)
    dx_num = numerical_gradient(lambda: np.sum(op.global_avgpool2d_forward(x)[0] * dout), x)
    assert relative_error(dx, dx_num) < 1e-6


# ---------------------------------------------------------------- dtypes and errors


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_dtype_is_preserved(op, dtype, padding):
    x = np.random.default_rng(4).standard_normal((2, 5, 5, 3)).astype(dtype)
    for kind in POOLS:
        forward, backward = getattr(op, f"{kind}pool2d_forward"), getattr(op, f"{kind}pool2d_backward")
        out, cache = forward(x, 2, None, padding)
        assert out.dtype == dtype
        assert backward(np.ones_like(out), cache).dtype == dtype
    out, x_shape = op.global_avgpool2d_forward(x)
    assert out.dtype == dtype
    assert op.global_avgpool2d_backward(out, x_shape).dtype == dtype


def test_bad_arguments_raise_value_errors(op):
    x = np.zeros((1, 4, 4, 2))
    with pytest.raises(ValueError, match="4-D"):
        op.maxpool2d_forward(np.zeros((4, 4, 2)))
    with pytest.raises(ValueError, match="pool_size"):
        op.avgpool2d_forward(x, 0)
    with pytest.raises(ValueError, match="strides"):
        op.maxpool2d_forward(x, 2, (1, 1, 1))
    with pytest.raises(ValueError, match="padding"):
        op.maxpool2d_forward(x, 2, None, "full")
    with pytest.raises(ValueError, match="k <= n"):
        op.maxpool2d_forward(x, 5)
    _, cache = op.maxpool2d_forward(x, 2)
    with pytest.raises(ValueError, match="dout"):
        op.maxpool2d_backward(np.zeros((1, 3, 3, 2)), cache)
    with pytest.raises(ValueError, match="dout"):
        op.global_avgpool2d_backward(np.zeros((2, 2)), x.shape)
