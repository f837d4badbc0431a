"""tinynet.core.ops.normalization (the textbook references) and normalization_fast (their fast twins)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinynet import ops
from tinynet.gradcheck import numerical_gradient, relative_error
from tinynet.ops import normalization


def case(shape, seed):
    rng = np.random.default_rng(seed)
    C = shape[-1]
    x = 3.0 + 2.0 * rng.standard_normal(shape)          # not already normalized
    gamma = rng.standard_normal(C)                       # negative entries included
    beta, mean, var = rng.standard_normal(C), rng.standard_normal(C), rng.uniform(0.2, 3.0, C)
    return x, gamma, beta, mean, var


def test_reference_forward_is_the_formula():
    x, gamma, beta, _, _ = case((6, 3, 4, 2), seed=0)
    y, mean, var, _ = normalization.batch_norm_forward(x, gamma, beta, 1e-3)
    np.testing.assert_allclose(mean, x.mean(axis=(0, 1, 2)))
    np.testing.assert_allclose(var, x.var(axis=(0, 1, 2)))   # np.var is the biased one, as Keras
    np.testing.assert_allclose(y, gamma * (x - mean) / np.sqrt(var + 1e-3) + beta)


@pytest.mark.parametrize("impl", ["naive", "fast"])
@pytest.mark.parametrize("shape", [(5, 3), (3, 4, 3, 2), (2, 5, 3)])
def test_training_gradients_match_numerical_ones(impl, shape):
    op = ops.get(impl)
    x, gamma, beta, _, _ = case(shape, seed=1)
    dy = np.random.default_rng(2).standard_normal(shape)
    _, _, _, cache = op.batch_norm_forward(x, gamma, beta, 1e-3)
    dx, dgamma, dbeta = op.batch_norm_backward(dy, cache)

    def f():
        return np.sum(op.batch_norm_forward(x, gamma, beta, 1e-3)[0] * dy)

    assert relative_error(dx, numerical_gradient(f, x)) < 1e-6
    assert relative_error(dgamma, numerical_gradient(f, gamma)) < 1e-6
    assert relative_error(dbeta, numerical_gradient(f, beta)) < 1e-6


@pytest.mark.parametrize("impl", ["naive", "fast"])
def test_inference_gradients_match_numerical_ones(impl):
    op = ops.get(impl)
    x, gamma, beta, mean, var = case((4, 3, 3, 2), seed=3)
    dy = np.random.default_rng(4).standard_normal(x.shape)
    _, cache = op.batch_norm_inference(x, gamma, beta, mean, var, 1e-3)
    dx, dgamma, dbeta = op.batch_norm_inference_backward(dy, cache)

    def f():
        return np.sum(op.batch_norm_inference(x, gamma, beta, mean, var, 1e-3)[0] * dy)

    for analytic, wrt in ((dx, x), (dgamma, gamma), (dbeta, beta)):
        assert relative_error(analytic, numerical_gradient(f, wrt)) < 1e-6


@settings(max_examples=50, deadline=None)
@given(shape=st.one_of(st.tuples(st.integers(2, 9), st.integers(1, 5)),
                       st.tuples(st.integers(1, 3), st.integers(1, 5), st.integers(1, 5), st.integers(1, 4))),
       epsilon=st.sampled_from([1e-5, 1e-3, 0.5]), seed=st.integers(0, 2 ** 16))
def test_fast_matches_the_reference(shape, epsilon, seed):
    fast, naive = ops.get("fast"), ops.get("naive")
    x, gamma, beta, mean, var = case(shape, seed)
    dy = np.random.default_rng(seed + 1).standard_normal(shape)
    *outputs, cache = naive.batch_norm_forward(x, gamma, beta, epsilon)
    *fast_outputs, fast_cache = fast.batch_norm_forward(x, gamma, beta, epsilon)
    for expected, got in zip(outputs + list(naive.batch_norm_backward(dy, cache)),
                             fast_outputs + list(fast.batch_norm_backward(dy, fast_cache))):
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)
    y, cache = naive.batch_norm_inference(x, gamma, beta, mean, var, epsilon)
    y_fast, fast_cache = fast.batch_norm_inference(x, gamma, beta, mean, var, epsilon)
    np.testing.assert_allclose(y_fast, y, rtol=1e-9, atol=1e-9)
    for expected, got in zip(naive.batch_norm_inference_backward(dy, cache),
                             fast.batch_norm_inference_backward(dy, fast_cache)):
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("impl", ["naive", "fast"])
def test_dtype_is_preserved(impl):
    op = ops.get(impl)
    x, gamma, beta, mean, var = (a.astype(np.float32) for a in case((4, 3, 3, 2), seed=5))
    y, m, v, cache = op.batch_norm_forward(x, gamma, beta, 1e-3)
    assert {y.dtype, m.dtype, v.dtype} == {np.dtype(np.float32)}
    assert {g.dtype for g in op.batch_norm_backward(np.ones_like(x), cache)} == {np.dtype(np.float32)}
    y, cache = op.batch_norm_inference(x, gamma, beta, mean, var, 1e-3)
    assert y.dtype == np.float32
    assert {g.dtype for g in op.batch_norm_inference_backward(np.ones_like(x), cache)} == {np.dtype(np.float32)}


@pytest.mark.parametrize("impl", ["naive", "fast"])
def test_sum_rows(impl):
    a = np.random.default_rng(6).standard_normal((50, 7))
    np.testing.assert_allclose(ops.get(impl).sum_rows(a), [sum(row[k] for row in a) for k in range(7)])
