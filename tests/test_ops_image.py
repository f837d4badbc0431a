"""The sampling op behind the random augmentations and bilinear resizing: against a per-pixel loop, Keras's
fill modes, the transpose that is its backward, and tf.image.resize's pixel centres."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinynet import ops
from tinynet.ops import image


def extended(k, n, mode):
    """One index, extended by ``mode`` as Keras's docs draw it: None means 'read the fill value'."""
    if 0 <= k < n:
        return k
    if mode == "constant":
        return None
    if mode == "nearest":
        return min(max(k, 0), n - 1)
    if mode == "wrap":
        return k % n
    if mode == "reflect":                       # d c b a | a b c d | d c b a
        k = k % (2 * n)
        return k if k < n else 2 * n - 1 - k
    period = max(2 * n - 2, 1)                  # mirror: d c b | a b c d | c b a
    k = k % period
    return k if k < n else period - k


def warp_loop(x, A, t, fill_mode, fill_value, interpolation):
    """The warp one output pixel at a time: the textbook bilinear (or nearest) read."""
    N, H, W, C = x.shape
    y = np.zeros(x.shape)
    for n in range(N):
        for i in range(H):
            for j in range(W):
                r, c = A[n] @ (i, j) + t[n]
                if interpolation == "nearest":
                    taps = [(math.floor(r + 0.5), math.floor(c + 0.5), 1.0)]
                else:
                    r0, c0 = math.floor(r), math.floor(c)
                    fr, fc = r - r0, c - c0
                    taps = [(r0, c0, (1 - fr) * (1 - fc)), (r0, c0 + 1, (1 - fr) * fc), (r0 + 1, c0, fr * (1 - fc)),
                            (r0 + 1, c0 + 1, fr * fc)]
                for row, col, weight in taps:
                    row, col = extended(row, H, fill_mode), extended(col, W, fill_mode)
                    y[n, i, j] += weight * (fill_value if row is None or col is None else x[n, row, col])
    return y


@given(N=st.integers(1, 2), H=st.integers(1, 6), W=st.integers(1, 6), C=st.integers(1, 2),
       fill_mode=st.sampled_from(image.FILL_MODES), interpolation=st.sampled_from(image.INTERPOLATIONS),
       seed=st.integers(0, 2 ** 16))
def test_warp_is_the_per_pixel_read(N, H, W, C, fill_mode, interpolation, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, H, W, C))
    A = np.eye(2) + 0.8 * rng.standard_normal((N, 2, 2))
    t = 4 * rng.standard_normal((N, 2))              # far enough to reach a second period of the extension
    y, _ = image.warp(x, A, t, fill_mode=fill_mode, fill_value=0.5, interpolation=interpolation)
    np.testing.assert_allclose(y, warp_loop(x, A, t, fill_mode, 0.5, interpolation), atol=1e-12)


@pytest.mark.parametrize("fill_mode, expected", [
    ("reflect", [4, 3, 2, 1]), ("mirror", [3, 4, 3, 2]), ("wrap", [1, 2, 3, 4]), ("nearest", [1, 1, 1, 1]),
    ("constant", [9, 9, 9, 9]),
])
def test_fill_modes_extend_a_row_as_the_keras_docs_draw_it(fill_mode, expected):
    # The row a b c d = 1 2 3 4, read four pixels to the left of itself (columns -4 .. -1).
    x = np.array([1.0, 2, 3, 4]).reshape(1, 1, 4, 1)
    y, _ = image.warp(x, np.eye(2)[None], np.array([[0.0, -4.0]]), fill_mode=fill_mode, fill_value=9.0)
    np.testing.assert_array_equal(y.ravel(), expected)


@pytest.mark.parametrize("fill_mode", image.FILL_MODES)
@pytest.mark.parametrize("interpolation", image.INTERPOLATIONS)
def test_backward_is_the_transpose_of_the_sampling(fill_mode, interpolation):
    # y = S x (+ a constant with fill_mode='constant'), so <S x, d> = <x, S^T d> for every x and d.
    rng = np.random.default_rng(0)
    x, d = rng.standard_normal((2, 5, 4, 3)), rng.standard_normal((2, 6, 7, 3))
    A, t = np.eye(2) + 0.5 * rng.standard_normal((2, 2, 2)), 2 * rng.standard_normal((2, 2))
    y, cache = image.warp(x, A, t, out_shape=(6, 7), fill_mode=fill_mode, fill_value=0.0, interpolation=interpolation)
    np.testing.assert_allclose(np.sum(y * d), np.sum(x * image.warp_backward(d, cache)), rtol=1e-10)


def test_integer_images_come_out_as_float32_and_float64_stays_float64():
    A, t = np.eye(2)[None], np.zeros((1, 2))
    assert image.warp(np.zeros((1, 3, 3, 1), np.uint8), A, t)[0].dtype == np.float32
    assert image.warp(np.zeros((1, 3, 3, 1), np.float64), A, t)[0].dtype == np.float64
    x = np.arange(9, dtype=np.uint8).reshape(1, 3, 3, 1)
    np.testing.assert_array_equal(image.warp(x, A, t)[0], x)          # the identity move reads every pixel as it is


def test_resize_aligns_pixel_centres_as_tf_image_resize():
    # tf.image.resize of [0, 1, 2, 3] to 2 pixels (half_pixel_centers): centres at 0.5 and 2.5 -> [0.5, 2.5];
    # of [0, 1] to 4 pixels: [0, 0.25, 0.75, 1] (the border clamps).
    y, _ = image.resize(np.array([0.0, 1, 2, 3]).reshape(1, 1, 4, 1), 1, 2)
    np.testing.assert_allclose(y.ravel(), [0.5, 2.5])
    y, _ = image.resize(np.array([0.0, 1]).reshape(1, 1, 2, 1), 1, 4)
    np.testing.assert_allclose(y.ravel(), [0, 0.25, 0.75, 1])
    y, _ = image.resize(np.array([0.0, 1, 2, 3]).reshape(1, 1, 4, 1), 1, 2, interpolation="nearest")
    np.testing.assert_allclose(y.ravel(), [1, 3])


def test_bad_modes_are_refused_by_name():
    with pytest.raises(ValueError, match=r"`fill_mode`, expected one of \('reflect'.*Received: fill_mode='edge'"):
        image.check_fill_mode("edge")
    with pytest.raises(ValueError, match=r"`interpolation`.*Received: interpolation='bicubic'"):
        image.check_interpolation("bicubic")


# ---------------------------------------------------------------- the fast twin (tinynet/fast/augment.py)
@given(N=st.integers(1, 3), H=st.integers(1, 7), W=st.integers(1, 7), C=st.integers(1, 3), out_h=st.integers(1, 7),
       out_w=st.integers(1, 7), fill_mode=st.sampled_from(image.FILL_MODES),
       interpolation=st.sampled_from(image.INTERPOLATIONS), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2 ** 16))
def test_fast_warp_and_resize_are_the_reference(N, H, W, C, out_h, out_w, fill_mode, interpolation, dtype, seed):
    fast, naive = ops.get("fast"), ops.get("naive")
    assert fast.warp is not naive.warp and fast.resize is not naive.resize
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, H, W, C)).astype(dtype)
    A, t = np.eye(2) + 0.8 * rng.standard_normal((N, 2, 2)), 4 * rng.standard_normal((N, 2))
    # float32 coordinates (bilinear) move an output by about eps * |coordinate| * |slope of x|
    atol = 1e-4 if dtype == np.float32 else 1e-12
    y, cache = fast.warp(x, A, t, (out_h, out_w), fill_mode, 0.5, interpolation)
    expected, expected_cache = naive.warp(x, A, t, (out_h, out_w), fill_mode, 0.5, interpolation)
    assert y.dtype == expected.dtype == dtype and y.shape == expected.shape
    np.testing.assert_allclose(y, expected, atol=atol)
    d = rng.standard_normal(y.shape).astype(dtype)            # the same cache: the one backward serves both
    np.testing.assert_allclose(naive.warp_backward(d, cache), naive.warp_backward(d, expected_cache), atol=atol)
    for _ in range(2):                                        # the second call reads the resize's kept plan
        y, cache = fast.resize(x, out_h, out_w, interpolation)
        expected, expected_cache = naive.resize(x, out_h, out_w, interpolation)
        np.testing.assert_allclose(y, expected, atol=atol)
        np.testing.assert_allclose(naive.warp_backward(y, cache), naive.warp_backward(y, expected_cache), atol=atol)


@given(N=st.integers(1, 3), H=st.integers(1, 7), W=st.integers(1, 7), C=st.integers(1, 3), out_h=st.integers(1, 7),
       out_w=st.integers(1, 7), fill_mode=st.sampled_from(image.FILL_MODES),
       interpolation=st.sampled_from(image.INTERPOLATIONS), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2 ** 16))
def test_fast_warp_of_a_shift_or_zoom_is_the_reference_bit_for_bit(N, H, W, C, out_h, out_w, fill_mode,
                                                                   interpolation, dtype, seed):
    # A diagonal A (RandomTranslation, RandomZoom) takes the separable path: lines read in two passes, with the
    # reference's float64 coordinates and its lerps in its order, so not one bit differs.
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, H, W, C)).astype(dtype)
    A = np.zeros((N, 2, 2))
    A[:, 0, 0], A[:, 1, 1] = rng.uniform(-2, 2, (2, N))
    t = 4 * rng.standard_normal((N, 2))
    y, cache = ops.get("fast").warp(x, A, t, (out_h, out_w), fill_mode, 0.5, interpolation)
    expected, expected_cache = image.warp(x, A, t, (out_h, out_w), fill_mode, 0.5, interpolation)
    assert y.dtype == expected.dtype and y.shape == expected.shape
    np.testing.assert_array_equal(y, expected)
    d = rng.standard_normal(y.shape).astype(dtype)
    np.testing.assert_allclose(image.warp_backward(d, cache), image.warp_backward(d, expected_cache),
                               atol=1e-5 if dtype == np.float32 else 1e-12)


@given(H=st.integers(1, 6), W=st.integers(1, 6), pads=st.lists(st.integers(0, 14), min_size=4, max_size=4),
       fill_mode=st.sampled_from(image.FILL_MODES), seed=st.integers(0, 2 ** 16))
def test_fast_extension_by_slices_is_the_reference_gather(H, W, pads, fill_mode, seed):
    # margins of up to two periods on each side: runs forwards, backwards and repeated, and the corners
    from tinynet.fast import augment
    x = np.random.default_rng(seed).standard_normal((2, H, W, 2))
    pads = ((pads[0], pads[1]), (pads[2], pads[3]))
    xp, maps = augment.extend(x, pads, fill_mode, 0.5)
    expected, expected_maps = image.extend(x, pads, fill_mode, 0.5)
    np.testing.assert_array_equal(xp, expected)
    for got, want in zip(maps, expected_maps):
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])


def test_fast_nearest_picks_the_reference_pixel_at_exact_halves():
    # Resizing 4 pixels to 3 reads the input at 0.1667, 1.5, 2.8333: a tie at 1.5, which both round up.
    x = np.arange(4, dtype=np.float32).reshape(1, 1, 4, 1)
    for impl in ("fast", "naive"):
        np.testing.assert_array_equal(ops.get(impl).resize(x, 1, 3, "nearest")[0].ravel(), [0, 2, 3])
