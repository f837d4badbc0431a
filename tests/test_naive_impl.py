"""impl='naive' (tinynet.ops.naive, nested loops) and impl='fast' compute the same outputs and gradients."""
import copy

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tinynet import gradcheck
from tinynet.layers import BatchNormalization, Conv2D, MaxPooling2D


def run(layer, x, dout_seed=5, training=True):
    """Output, dx and every trainable gradient of one forward/backward in float64."""
    y = layer(x, training=training)
    dout = np.random.default_rng(dout_seed).standard_normal(y.shape)
    dx = layer.backward(dout)
    return [y, dx] + [p.grad.copy() for p in layer.trainable_weights]


def pair(make, x):
    """The same layer twice, fast and naive, with the same float64 weights."""
    fast, slow = make("fast"), make("naive")
    fast.build(x.shape[1:])
    slow.build(x.shape[1:])
    for p in fast.weights:
        p.data = p.data.astype(np.float64) + np.random.default_rng(9).standard_normal(p.shape) * 0.1
        p.grad = np.zeros_like(p.data)
    for p, q in zip(slow.weights, fast.weights):
        p.data, p.grad = q.data.copy(), np.zeros_like(q.data)
    return fast, slow


def assert_same(a, b):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        np.testing.assert_allclose(u, v, rtol=1e-9, atol=1e-11)


@settings(max_examples=12)
@given(n=st.integers(1, 2), h=st.integers(3, 6), w=st.integers(3, 6), c=st.integers(1, 3), filters=st.integers(1, 3),
       k=st.integers(1, 3), stride=st.integers(1, 2), padding=st.sampled_from(["valid", "same"]),
       use_bias=st.booleans())
def test_conv2d_fast_and_naive_agree(n, h, w, c, filters, k, stride, padding, use_bias):
    x = np.random.default_rng(h * w + c).standard_normal((n, h, w, c))
    fast, slow = pair(lambda impl: Conv2D(filters, k, strides=stride, padding=padding, use_bias=use_bias,
                                          activation="tanh", impl=impl), x)
    assert_same(run(fast, x), run(slow, x))


@settings(max_examples=12)
@given(h=st.integers(2, 6), w=st.integers(2, 6), pool=st.integers(1, 3), stride=st.integers(1, 3),
       padding=st.sampled_from(["valid", "same"]), ties=st.booleans())
def test_maxpool_fast_and_naive_agree_ties_included(h, w, pool, stride, padding, ties):
    pool = min(pool, h, w)
    x = np.random.default_rng(h + 10 * w).standard_normal((2, h, w, 2))
    if ties:
        x = np.round(x)  # many equal values: both must send the gradient to the first maximum
    fast, slow = MaxPooling2D(pool, stride, padding), MaxPooling2D(pool, stride, padding, impl="naive")
    assert_same(run(fast, x), run(slow, x))


@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5, 2)])
@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_fast_and_naive_agree(shape, training):
    x = np.random.default_rng(1).standard_normal(shape) * 3 + 1
    fast, slow = pair(lambda impl: BatchNormalization(impl=impl), x)
    assert_same(run(fast, x, training=training), run(slow, x, training=training))
    # the moving statistics moved the same way
    np.testing.assert_allclose(fast.moving_mean.data, slow.moving_mean.data, rtol=1e-12)
    np.testing.assert_allclose(fast.moving_variance.data, slow.moving_variance.data, rtol=1e-12)


@pytest.mark.parametrize("layer", [Conv2D(2, 3, padding="same", impl="naive"), MaxPooling2D(2, impl="naive"),
                                   BatchNormalization(impl="naive")])
def test_naive_layers_pass_the_gradient_check(layer):
    x = np.random.default_rng(3).standard_normal((2, 4, 4, 2))
    assert gradcheck.check_layer(layer, x, training=True, verbose=False).passed


@pytest.mark.parametrize("make", [lambda impl: Conv2D(2, 3, impl=impl), lambda impl: MaxPooling2D(impl=impl),
                                  lambda impl: BatchNormalization(impl=impl)])
def test_unknown_impl_is_refused_and_impl_is_saved_in_the_config(make):
    with pytest.raises(ValueError, match=r"`impl`.*'fast', 'naive'.*Received: impl='slow'"):
        make("slow")
    layer = make("naive")
    rebuilt = type(layer).from_config(copy.deepcopy(layer.get_config()))
    assert rebuilt.impl == "naive" and make("fast").get_config()["impl"] == "fast"


def test_benchmark_quick_prints_a_speed_ratio():
    import re
    import subprocess
    import sys

    from conftest import REPO
    result = subprocess.run([sys.executable, "benchmarks/naive_vs_fast.py", "--quick"], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    ratios = re.findall(r"fast is\s+([\d.]+)x faster", result.stdout)
    assert len(ratios) == 3 and float(ratios[0]) > 1
