"""Tests for tinynet.ops.conv against slow, obviously-correct nested-loop references."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinynet.gradcheck import numerical_gradient, relative_error
from tinynet.ops.conv import (
    col2im,
    conv2d_backward,
    conv2d_forward,
    conv_output_size,
    crop2d,
    im2col,
    pad2d,
    pad_widths_2d,
    same_padding,
)


# ---------------------------------------------------------------- references


def keras_output_size(n, k, s, padding):
    """The formula from the Keras docs, written independently of the library."""
    if padding == "valid":
        return math.floor((n - k) / s) + 1
    return math.ceil(n / s)


def tf_pads(n, k, s, padding):
    """TensorFlow's 'same' split, written independently of the library."""
    if padding == "valid":
        return 0, 0
    total = max((math.ceil(n / s) - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def reference_pad(x, kh, kw, sh, sw, padding):
    N, H, W, C = x.shape
    top, bottom = tf_pads(H, kh, sh, padding)
    left, right = tf_pads(W, kw, sw, padding)
    xp = np.zeros((N, H + top + bottom, W + left + right, C), dtype=x.dtype)
    xp[:, top:top + H, left:left + W, :] = x
    return xp, (top, left)


def reference_conv(x, w, b, sh, sw, padding):
    """out[n, y, x, o] = b[o] + sum_{i, j, c} xp[n, y*sh + i, x*sw + j, c] * w[i, j, c, o]."""
    N, H, W, C = x.shape
    kh, kw, _, C_out = w.shape
    xp, _ = reference_pad(x, kh, kw, sh, sw, padding)
    out_h = keras_output_size(H, kh, sh, padding)
    out_w = keras_output_size(W, kw, sw, padding)
    out = np.zeros((N, out_h, out_w, C_out), dtype=x.dtype)
    for n in range(N):
        for y in range(out_h):
            for x_ in range(out_w):
                for o in range(C_out):
                    total = b[o]
                    for i in range(kh):
                        for j in range(kw):
                            for c in range(C):
                                total += xp[n, y * sh + i, x_ * sw + j, c] * w[i, j, c, o]
                    out[n, y, x_, o] = total
    return out


def reference_conv_backward(dout, x, w, sh, sw, padding):
    """The chain rule applied to reference_conv, one output element at a time."""
    N, H, W, C = x.shape
    kh, kw, _, C_out = w.shape
    xp, (top, left) = reference_pad(x, kh, kw, sh, sw, padding)
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    db = np.zeros(C_out, dtype=dout.dtype)
    for n in range(N):
        for y in range(dout.shape[1]):
            for x_ in range(dout.shape[2]):
                for o in range(C_out):
                    g = dout[n, y, x_, o]
                    rows = slice(y * sh, y * sh + kh)
                    cols = slice(x_ * sw, x_ * sw + kw)
                    dxp[n, rows, cols, :] += g * w[:, :, :, o]
                    dw[:, :, :, o] += g * xp[n, rows, cols, :]
                    db[o] += g
    return dxp[:, top:top + H, left:left + W, :], dw, db


# ---------------------------------------------------------------- sizes and padding


@pytest.mark.parametrize(
    "n, k, s, expected_out, expected_pads",
    [
        (5, 2, 2, 3, (0, 1)),  # odd total: the extra zero goes after (bottom/right)
        (4, 3, 1, 4, (1, 1)),
        (6, 3, 2, 3, (0, 1)),
        (28, 3, 1, 28, (1, 1)),
        (28, 2, 2, 14, (0, 0)),
        (7, 4, 1, 7, (1, 2)),  # even kernel, stride 1
        (5, 1, 3, 2, (0, 0)),  # total would be negative: clipped at 0
    ],
)
def test_same_padding_hand_computed(n, k, s, expected_out, expected_pads):
    assert conv_output_size(n, k, s, "same") == expected_out
    assert same_padding(n, k, s) == expected_pads


@pytest.mark.parametrize(
    "n, k, s, expected",
    [(28, 3, 1, 26), (28, 5, 1, 24), (5, 2, 2, 2), (7, 3, 2, 3), (6, 3, 2, 2), (3, 3, 1, 1)],
)
def test_valid_output_size_hand_computed(n, k, s, expected):
    assert conv_output_size(n, k, s, "valid") == expected


def test_kernel_larger_than_input_raises_for_valid():
    with pytest.raises(ValueError, match="k=4, n=3"):
        conv_output_size(3, 4, 1, "valid")
    assert conv_output_size(3, 4, 1, "same") == 3


@pytest.mark.parametrize("padding", ["full", None, 0])
def test_bad_padding_raises(padding):
    with pytest.raises(ValueError, match="padding"):
        conv_output_size(5, 3, 1, padding)


@pytest.mark.parametrize("stride", [0, -1, 1.5, True])
def test_bad_stride_raises(stride):
    with pytest.raises(ValueError, match="stride"):
        conv_output_size(5, 3, stride, "same")


@given(n=st.integers(1, 40), k=st.integers(1, 8), s=st.integers(1, 5))
def test_output_size_and_padding_match_keras_formulas(n, k, s):
    assert conv_output_size(n, k, s, "same") == keras_output_size(n, k, s, "same")
    assert same_padding(n, k, s) == tf_pads(n, k, s, "same")
    if k <= n:
        assert conv_output_size(n, k, s, "valid") == keras_output_size(n, k, s, "valid")
    # 'same' padding makes the padded input exactly long enough for the last window
    before, after = same_padding(n, k, s)
    out = conv_output_size(n, k, s, "same")
    assert (out - 1) * s + k <= n + before + after


def test_pad2d_and_crop2d_are_inverse():
    x = np.arange(2 * 3 * 4 * 2, dtype=np.float32).reshape(2, 3, 4, 2)
    pads = ((1, 2), (0, 1))
    xp = pad2d(x, pads)
    assert xp.shape == (2, 6, 5, 2) and xp.dtype == np.float32
    assert xp.sum() == x.sum()
    np.testing.assert_array_equal(crop2d(xp, pads), x)
    assert pad2d(x, ((0, 0), (0, 0))) is x
    assert np.isneginf(pad2d(x, pads, value=-np.inf)[:, 0]).all()
    assert pad_widths_2d(3, 5, 2, 3, 2, "same") == ((0, 1), (1, 1))
    assert pad_widths_2d(3, 5, 2, 3, 2, "valid") == ((0, 0), (0, 0))


# ---------------------------------------------------------------- im2col / col2im


def test_im2col_hand_computed():
    # 3x3 image 0..8, 2x2 windows, stride 1: four windows, rows in (i, j) order
    x = np.arange(9.0).reshape(1, 3, 3, 1)
    cols = im2col(x, 2, 2, 1, "valid")
    np.testing.assert_array_equal(
        cols, [[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]]
    )


def test_im2col_column_order_matches_kernel_reshape():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5, 4, 3))
    w = rng.standard_normal((3, 2, 3, 4))
    cols = im2col(x, 3, 2, (2, 1), "same")
    out = (cols @ w.reshape(-1, 4)).reshape(2, 3, 4, 4)
    np.testing.assert_allclose(out, reference_conv(x, w, np.zeros(4), 2, 1, "same"), atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    N=st.integers(1, 3), H=st.integers(1, 8), W=st.integers(1, 8), C=st.integers(1, 4),
    kh=st.integers(1, 4), kw=st.integers(1, 4), sh=st.integers(1, 3), sw=st.integers(1, 3),
    padding=st.sampled_from(["valid", "same"]), seed=st.integers(0, 2**16),
)
def test_col2im_is_the_adjoint_of_im2col(N, H, W, C, kh, kw, sh, sw, padding, seed):
    if padding == "valid" and (kh > H or kw > W):
        return
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, H, W, C))
    cols = im2col(x, kh, kw, (sh, sw), padding)
    c = rng.standard_normal(cols.shape)
    dx = col2im(c, x.shape, kh, kw, (sh, sw), padding)
    assert dx.shape == x.shape
    # <im2col(x), c> == <x, col2im(c)>
    np.testing.assert_allclose(np.sum(cols * c), np.sum(x * dx), rtol=1e-10, atol=1e-10)


def test_col2im_sums_overlaps_hand_computed():
    # every 2x2 window of a 3x3 image adds 1 to each of its cells: the centre is in 4 windows
    dx = col2im(np.ones((4, 4)), (1, 3, 3, 1), 2, 2, 1, "valid")
    np.testing.assert_array_equal(dx[0, :, :, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


def test_col2im_rejects_wrong_shape():
    with pytest.raises(ValueError, match="dcols"):
        col2im(np.ones((5, 4)), (1, 3, 3, 1), 2, 2, 1, "valid")


# ---------------------------------------------------------------- conv2d forward


def test_conv_hand_computed_ones_kernel():
    # a 2x2 kernel of ones sums each 2x2 window of the 3x3 image 1..9
    x = np.arange(1.0, 10.0).reshape(1, 3, 3, 1)
    w = np.ones((2, 2, 1, 1))
    out, _ = conv2d_forward(x, w, np.array([0.5]), 1, "valid")
    np.testing.assert_array_equal(out[0, :, :, 0], [[12.5, 16.5], [24.5, 28.5]])
    # 'same', stride 1, even kernel: one zero row/column at the bottom/right
    out, _ = conv2d_forward(x, w, None, 1, "same")
    np.testing.assert_array_equal(
        out[0, :, :, 0], [[12, 16, 9], [24, 28, 15], [15, 17, 9]]
    )


@pytest.mark.parametrize("k", [1, 2, 3, 5])
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("H, W", [(7, 6), (6, 5)])
@pytest.mark.parametrize("C", [1, 3])  # im2col takes a different branch for C = 1
def test_conv_forward_matches_reference(k, stride, padding, H, W, C):
    rng = np.random.default_rng(k * 100 + stride * 10 + H)
    x = rng.standard_normal((2, H, W, C))
    w = rng.standard_normal((k, k, C, 2))
    b = rng.standard_normal(2)
    out, _ = conv2d_forward(x, w, b, stride, padding)
    expected = reference_conv(x, w, b, stride, stride, padding)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    N=st.integers(1, 2), H=st.integers(1, 7), W=st.integers(1, 7),
    C_in=st.integers(1, 3), C_out=st.integers(1, 3),
    kh=st.integers(1, 4), kw=st.integers(1, 4), sh=st.integers(1, 3), sw=st.integers(1, 3),
    padding=st.sampled_from(["valid", "same"]), seed=st.integers(0, 2**16),
)
def test_conv_forward_and_backward_match_reference(
    N, H, W, C_in, C_out, kh, kw, sh, sw, padding, seed
):
    if padding == "valid" and (kh > H or kw > W):
        with pytest.raises(ValueError):
            conv2d_forward(np.zeros((N, H, W, C_in)), np.zeros((kh, kw, C_in, C_out)),
                           None, (sh, sw), padding)
        return
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, H, W, C_in))
    w = rng.standard_normal((kh, kw, C_in, C_out))
    b = rng.standard_normal(C_out)
    out, cache = conv2d_forward(x, w, b, (sh, sw), padding)
    assert out.shape == (
        N, keras_output_size(H, kh, sh, padding), keras_output_size(W, kw, sw, padding), C_out
    )
    np.testing.assert_allclose(out, reference_conv(x, w, b, sh, sw, padding), atol=1e-12)

    dout = rng.standard_normal(out.shape)
    dx, dw, db = conv2d_backward(dout, cache)
    dx_ref, dw_ref, db_ref = reference_conv_backward(dout, x, w, sh, sw, padding)
    np.testing.assert_allclose(dx, dx_ref, atol=1e-12)
    np.testing.assert_allclose(dw, dw_ref, atol=1e-12)
    np.testing.assert_allclose(db, db_ref, atol=1e-12)


# ---------------------------------------------------------------- conv2d backward


@pytest.mark.parametrize(
    "x_shape, k, stride, padding",
    [((2, 5, 5, 3), 3, 1, "same"), ((2, 6, 5, 2), 2, 2, "same"), ((1, 7, 6, 2), 3, 2, "valid")],
)
def test_conv_backward_numerical_gradient(x_shape, k, stride, padding):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal((k, k, x_shape[3], 4))
    b = rng.standard_normal(4)
    out, cache = conv2d_forward(x, w, b, stride, padding)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = conv2d_backward(dout, cache)

    def loss():
        # a scalar whose gradient with respect to out is dout
        return np.sum(conv2d_forward(x, w, b, stride, padding)[0] * dout)

    assert relative_error(dx, numerical_gradient(loss, x)) < 1e-6
    assert relative_error(dw, numerical_gradient(loss, w)) < 1e-6
    assert relative_error(db, numerical_gradient(loss, b)) < 1e-6


def test_cache_holds_only_what_backward_needs():
    x = np.ones((2, 4, 4, 3), dtype=np.float32)
    w = np.ones((3, 3, 3, 5), dtype=np.float32)
    _, cache = conv2d_forward(x, w, None, 2, "same")
    assert cache._fields == ("cols", "w", "x_shape", "strides", "padding")
    assert cache.cols.shape == (2 * 2 * 2, 3 * 3 * 3)
    assert cache.w is w and cache.x_shape == x.shape
    assert cache.strides == (2, 2) and cache.padding == "same"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(dtype):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 6, 6, 3)).astype(dtype)
    w = rng.standard_normal((3, 3, 3, 4)).astype(dtype)
    b = np.zeros(4, dtype=dtype)
    assert im2col(x, 3, 3, 1, "same").dtype == dtype
    out, cache = conv2d_forward(x, w, b, 1, "same")
    assert out.dtype == dtype
    for grad in conv2d_backward(np.ones_like(out), cache):
        assert grad.dtype == dtype


def test_conv_float32_matches_float64():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 9, 9, 3))
    w = rng.standard_normal((3, 3, 3, 5))
    out64, _ = conv2d_forward(x, w, None, 1, "same")
    out32, _ = conv2d_forward(x.astype(np.float32), w.astype(np.float32), None, 1, "same")
    np.testing.assert_allclose(out32, out64, rtol=1e-4, atol=1e-4)


def test_bad_arguments_raise_value_errors():
    x = np.zeros((2, 5, 5, 3))
    with pytest.raises(ValueError, match="4-D"):
        conv2d_forward(np.zeros((5, 5, 3)), np.zeros((3, 3, 3, 4)))
    with pytest.raises(ValueError, match="C_in=3"):
        conv2d_forward(x, np.zeros((3, 3, 2, 4)))
    with pytest.raises(ValueError, match="`b`"):
        conv2d_forward(x, np.zeros((3, 3, 3, 4)), np.zeros(3))
    with pytest.raises(ValueError, match="strides"):
        conv2d_forward(x, np.zeros((3, 3, 3, 4)), None, (1, 2, 3))
    with pytest.raises(ValueError, match="padding"):
        conv2d_forward(x, np.zeros((3, 3, 3, 4)), None, 1, "causal")
    out, cache = conv2d_forward(x, np.zeros((3, 3, 3, 4)))
    with pytest.raises(ValueError, match="dout"):
        conv2d_backward(np.zeros((2, 3, 3, 5)), cache)
