"""tinynet.core.ops.conv (the textbook references) and conv_fast (their fast twins, impl='fast').

The references are checked against hand-computed values, the definition of a convolution
and numerical gradients; the fast ops against the references, on random shapes, strides
and paddings.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinynet import ops
from tinynet.gradcheck import numerical_gradient, relative_error
from tinynet.fast import conv as conv_fast
from tinynet.core.ops.conv import (
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

IMPLS = ["naive", "fast"]


# ---------------------------------------------------------------- the formulas, written independently


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


def one_output(x, w, b, n, i, j, f, strides, padding):
    """z[n, i, j, f] by the definition: b[f] + sum_{di, dj, c} xp[n, i*sh + di, j*sw + dj, c] * w[di, dj, c, f]."""
    kh, kw = w.shape[:2]
    (top, _), (left, _) = pad_widths_2d(x.shape[1], x.shape[2], kh, kw, strides, padding)
    sh, sw = strides
    total = b[f]
    for di in range(kh):
        for dj in range(kw):
            r, q = i * sh + di - top, j * sw + dj - left
            if 0 <= r < x.shape[1] and 0 <= q < x.shape[2]:   # outside: zero padding
                total += x[n, r, q, :] @ w[di, dj, :, f]
    return total


@pytest.mark.parametrize("impl", IMPLS)
def test_im2col_column_order_matches_kernel_reshape(impl):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5, 4, 3))
    w = rng.standard_normal((3, 2, 3, 4))
    cols = ops.get(impl).im2col(x, 3, 2, (2, 1), "same")
    z = (cols @ w.reshape(-1, 4)).reshape(2, 3, 4, 4)
    for n, i, j, f in np.ndindex(z.shape):
        assert z[n, i, j, f] == pytest.approx(one_output(x, w, np.zeros(4), n, i, j, f, (2, 1), "same"), abs=1e-12)


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
    np.testing.assert_array_equal(ops.get("fast").im2col(x, kh, kw, (sh, sw), padding), cols)
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


# ---------------------------------------------------------------- conv2d forward / backward


@pytest.mark.parametrize("impl", IMPLS)
def test_conv_hand_computed_ones_kernel(impl):
    forward = ops.get(impl).conv2d_forward
    # a 2x2 kernel of ones sums each 2x2 window of the 3x3 image 1..9
    x = np.arange(1.0, 10.0).reshape(1, 3, 3, 1)
    w = np.ones((2, 2, 1, 1))
    z, _ = forward(x, w, np.array([0.5]), 1, "valid")
    np.testing.assert_array_equal(z[0, :, :, 0], [[12.5, 16.5], [24.5, 28.5]])
    # 'same', stride 1, even kernel: one zero row/column at the bottom/right
    z, _ = forward(x, w, None, 1, "same", training=False)
    np.testing.assert_array_equal(z[0, :, :, 0], [[12, 16, 9], [24, 28, 15], [15, 17, 9]])


@pytest.mark.parametrize("k, stride, padding, C", [(1, 1, "valid", 1), (3, 1, "same", 1), (3, 2, "same", 3),
                                                   (5, 2, "valid", 3), (2, 1, "same", 2)])
def test_reference_forward_is_the_definition(k, stride, padding, C):
    rng = np.random.default_rng(k * 10 + stride)
    x, w, b = rng.standard_normal((2, 7, 6, C)), rng.standard_normal((k, k, C, 2)), rng.standard_normal(2)
    z, _ = conv2d_forward(x, w, b, stride, padding)
    for n, i, j, f in np.ndindex(z.shape):
        assert z[n, i, j, f] == pytest.approx(one_output(x, w, b, n, i, j, f, (stride, stride), padding), abs=1e-12)


def test_reference_backward_reads_as_dense_on_patches():
    """dw_col = cols.T @ dz, db = sum dz, dx = col2im(dz @ w_col.T): the docstring's lines."""
    rng = np.random.default_rng(5)
    x, w, b = rng.standard_normal((2, 5, 5, 3)), rng.standard_normal((3, 3, 3, 4)), rng.standard_normal(4)
    z, cache = conv2d_forward(x, w, b, 1, "same")
    dz = rng.standard_normal(z.shape)
    dx, dw, db = conv2d_backward(dz, cache)
    cols, w_col, dz2 = im2col(x, 3, 3, 1, "same"), w.reshape(27, 4), dz.reshape(-1, 4)
    np.testing.assert_allclose(z.reshape(-1, 4), cols @ w_col + b)
    np.testing.assert_allclose(dw.reshape(27, 4), cols.T @ dz2)
    np.testing.assert_allclose(db, dz2.sum(axis=0))
    np.testing.assert_allclose(dx, col2im(dz2 @ w_col.T, x.shape, 3, 3, 1, "same"))


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("x_shape, k, stride, padding",
                         [((2, 5, 5, 3), 3, 1, "same"), ((2, 6, 5, 2), 2, 2, "same"), ((1, 7, 6, 2), 3, 2, "valid")])
def test_conv_backward_numerical_gradient(impl, x_shape, k, stride, padding):
    forward, backward = ops.get(impl).conv2d_forward, ops.get(impl).conv2d_backward
    rng = np.random.default_rng(1)
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal((k, k, x_shape[3], 4))
    b = rng.standard_normal(4)
    z, cache = forward(x, w, b, stride, padding)
    dz = rng.standard_normal(z.shape)
    dx, dw, db = backward(dz, cache)

    def loss():  # a scalar whose gradient with respect to z is dz
        return np.sum(forward(x, w, b, stride, padding)[0] * dz)

    assert relative_error(dx, numerical_gradient(loss, x)) < 1e-6
    assert relative_error(dw, numerical_gradient(loss, w)) < 1e-6
    assert relative_error(db, numerical_gradient(loss, b)) < 1e-6


@settings(max_examples=60, deadline=None)
@given(
    N=st.integers(1, 3), H=st.integers(1, 8), W=st.integers(1, 8), C=st.integers(1, 4), F=st.integers(1, 3),
    kh=st.integers(1, 4), kw=st.integers(1, 4), sh=st.integers(1, 3), sw=st.integers(1, 3),
    padding=st.sampled_from(["valid", "same"]), use_bias=st.booleans(), training=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_fast_conv_matches_the_reference(N, H, W, C, F, kh, kw, sh, sw, padding, use_bias, training, seed):
    fast = ops.get("fast")
    if padding == "valid" and (kh > H or kw > W):
        with pytest.raises(ValueError, match="k <= n"):
            fast.conv2d_forward(np.zeros((N, H, W, C)), np.zeros((kh, kw, C, F)), None, (sh, sw), padding)
        return
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, H, W, C))
    w = rng.standard_normal((kh, kw, C, F))
    b = rng.standard_normal(F) if use_bias else None
    z, cache = conv2d_forward(x, w, b, (sh, sw), padding)
    z_fast, cache_fast = fast.conv2d_forward(x, w, b, (sh, sw), padding, training)
    assert z.shape == (N, keras_output_size(H, kh, sh, padding), keras_output_size(W, kw, sw, padding), F)
    np.testing.assert_allclose(z_fast, z, atol=1e-12)
    dz = rng.standard_normal(z.shape)
    for expected, got in zip(conv2d_backward(dz, cache), fast.conv2d_backward(dz, cache_fast)):
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, atol=1e-12)
    _, dw, db = fast.conv2d_backward(dz, cache_fast, need_dx=False)
    assert _ is None and dw.shape == w.shape


def test_fast_inference_in_chunks_equals_one_batch(monkeypatch):
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((7, 9, 8, 3)), rng.standard_normal((3, 3, 3, 4)), rng.standard_normal(4)
    whole, cache = conv_fast.conv2d_forward(x, w, b, 1, "same", training=True)
    for limit in (1, 3 * 9 * 8 * 27 * 8):   # one sample per im2col; three, with a partial last chunk
        monkeypatch.setattr(conv_fast, "MAX_INFERENCE_COLS_BYTES", limit)
        chunked, inference_cache = conv_fast.conv2d_forward(x, w, b, 1, "same", training=False)
        np.testing.assert_allclose(chunked, whole, rtol=1e-12, atol=1e-12)
        assert inference_cache.cols is None   # inference keeps no im2col matrix ...
    dz = rng.standard_normal(whole.shape)     # ... and a backward after it rebuilds one
    for a, b_ in zip(conv_fast.conv2d_backward(dz, inference_cache), conv_fast.conv2d_backward(dz, cache)):
        np.testing.assert_allclose(a, b_, atol=1e-12)


def test_cache_holds_what_backward_needs():
    x = np.ones((2, 4, 4, 3), dtype=np.float32)
    w = np.ones((3, 3, 3, 5), dtype=np.float32)
    _, cache = conv2d_forward(x, w, None, 2, "same")
    assert cache._fields == ("x", "cols", "w", "has_bias", "strides", "padding")
    assert cache.cols.shape == (2 * 2 * 2, 3 * 3 * 3)
    assert cache.x is x and cache.w is w and not cache.has_bias
    assert cache.strides == (2, 2) and cache.padding == "same"
    _, cache = conv_fast.conv2d_forward(x, w, np.zeros(5, np.float32), 2, "same")
    assert cache.cols.shape == (8, 28) and (cache.cols[:, -1] == 1).all()   # the ones column of the bias


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(impl, dtype):
    op = ops.get(impl)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 6, 6, 3)).astype(dtype)
    w = rng.standard_normal((3, 3, 3, 4)).astype(dtype)
    b = np.zeros(4, dtype=dtype)
    assert op.im2col(x, 3, 3, 1, "same").dtype == dtype
    z, cache = op.conv2d_forward(x, w, b, 1, "same")
    assert z.dtype == dtype
    for grad in op.conv2d_backward(np.ones_like(z), cache):
        assert grad.dtype == dtype


def test_conv_float32_matches_float64():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 9, 9, 3))
    w = rng.standard_normal((3, 3, 3, 5))
    z64, _ = conv2d_forward(x, w, None, 1, "same")
    for impl in IMPLS:
        z32, _ = ops.get(impl).conv2d_forward(x.astype(np.float32), w.astype(np.float32), None, 1, "same")
        np.testing.assert_allclose(z32, z64, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("impl", IMPLS)
def test_bad_arguments_raise_value_errors(impl):
    forward = ops.get(impl).conv2d_forward
    x = np.zeros((2, 5, 5, 3))
    with pytest.raises(ValueError, match="4-D"):
        forward(np.zeros((5, 5, 3)), np.zeros((3, 3, 3, 4)))
    with pytest.raises(ValueError, match="C=3"):
        forward(x, np.zeros((3, 3, 2, 4)))
    with pytest.raises(ValueError, match="`b`"):
        forward(x, np.zeros((3, 3, 3, 4)), np.zeros(3))
    with pytest.raises(ValueError, match="strides"):
        forward(x, np.zeros((3, 3, 3, 4)), None, (1, 2, 3))
    with pytest.raises(ValueError, match="padding"):
        forward(x, np.zeros((3, 3, 3, 4)), None, 1, "causal")
    _, cache = conv2d_forward(x, np.zeros((3, 3, 3, 4)))
    with pytest.raises(ValueError, match="dz"):
        conv2d_backward(np.zeros((2, 3, 3, 5)), cache)


@pytest.mark.parametrize("C, F", [(1, 16), (16, 32)])  # the seed CNN's first and second convolution
def test_fast_conv_matches_the_reference_on_the_seed_cnn_shapes(C, F):
    # The fast op builds one-channel columns transposed and cuts its products by image
    # (tinynet/fast/conv.py); on float32 images of the CNN's sizes it must give the reference's numbers.
    rng = np.random.default_rng(C)
    x = rng.standard_normal((5, 14, 14, C)).astype(np.float32)
    w = rng.standard_normal((3, 3, C, F)).astype(np.float32)
    b = rng.standard_normal(F).astype(np.float32)
    z, cache = conv2d_forward(x, w, b, 1, "same")
    z_fast, cache_fast = ops.get("fast").conv2d_forward(x, w, b, 1, "same")
    assert z_fast.dtype == np.float32
    np.testing.assert_allclose(z_fast, z, rtol=1e-5, atol=1e-5)
    dz = rng.standard_normal(z.shape).astype(np.float32)
    for expected, got in zip(conv2d_backward(dz, cache), ops.get("fast").conv2d_backward(dz, cache_fast)):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("k, stride, padding", [(3, 1, "same"), (5, 1, "valid"), (3, 2, "same"), (2, 3, "valid")])
def test_fast_one_channel_columns_equal_the_reference(k, stride, padding):
    x = np.random.default_rng(k).standard_normal((3, 9, 11, 1))
    cols = conv_fast.im2col(x, k, k, stride, padding)
    np.testing.assert_array_equal(cols, im2col(x, k, k, stride, padding))
    with_ones = conv_fast.im2col(x, k, k, stride, padding, ones_column=True)
    np.testing.assert_array_equal(with_ones[:, :-1], cols)
    assert np.all(with_ones[:, -1] == 1)


@pytest.mark.parametrize("pads", [((1, 2), (0, 1)), ((0, 0), (0, 0)), ((1, 1), (1, 1)), ((0, 3), (2, 0))])
def test_fast_zero_padding_equals_pad2d(pads):
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5)).astype(np.float32)
    xp = conv_fast.zero_padded(x, pads)
    assert xp.dtype == np.float32
    np.testing.assert_array_equal(xp, pad2d(x, pads))


@pytest.mark.parametrize("N, H, W, k, stride, padding", [
    (1, 5, 5, 3, 1, "same"), (2, 7, 6, 3, 1, "valid"), (2, 7, 8, 2, 1, "same"), (3, 9, 7, 3, 2, "same"),
    (2, 8, 9, 3, 3, "valid"), (1, 4, 4, 5, 1, "same"), (2, 6, 5, 4, 2, "same"), (1, 3, 3, 1, 1, "valid")])
def test_fast_input_gradient_equals_col2im(N, H, W, k, stride, padding):
    # The fast dx adds each kernel offset's product onto the part of dx it reaches (no padded image);
    # the reference is col2im(dz @ w_col.T). Kernels larger than the image reach only some inputs.
    rng = np.random.default_rng(H * W + k)
    C, F = 3, 4
    w = rng.standard_normal((k, k, C, F))
    out_h, out_w = (conv_output_size(H, k, stride, padding), conv_output_size(W, k, stride, padding))
    dz = rng.standard_normal((N * out_h * out_w, F))
    expected = col2im(dz @ w.reshape(-1, F).T, (N, H, W, C), k, k, stride, padding)
    got = conv_fast.conv2d_input_gradient(dz, w, (N, H, W, C), stride, padding)
    assert got.shape == (N, H, W, C)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
