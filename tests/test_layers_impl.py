"""Every layer with an ``impl``: 'naive' (the textbook reference ops) and 'fast' give the same outputs and gradients.

The op-level comparisons on random shapes are in tests/test_ops_*.py; these check the layers
wire their ops the same way for both impls, through the one chooser (``Layer.ops``).
"""
import copy

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tinynet import gradcheck
from tinynet import ops
from tinynet.core import ops as core_ops
from tinynet.fast import conv as conv_fast
from tinynet.layers import (AveragePooling2D, BatchNormalization, Conv2D, Dense, GlobalAveragePooling2D,
                            MaxPooling2D)


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
def test_batchnorm_fast_and_naive_agree_negative_gamma_included(shape, training):
    x = np.random.default_rng(1).standard_normal(shape) * 3 + 1
    fast, slow = pair(lambda impl: BatchNormalization(impl=impl), x)
    fast.gamma.data[::2] *= -1   # a negative scale flips the channel: the gradients must follow
    slow.gamma.data[...] = fast.gamma.data
    fast.moving_variance.data[...] = slow.moving_variance.data[...] = 2.5
    assert_same(run(fast, x, training=training), run(slow, x, training=training))
    # the moving statistics would move the same way
    assert len(fast.state_updates) == len(slow.state_updates) == (2 if training else 0)
    for (p, new), (q, new_slow) in zip(fast.state_updates, slow.state_updates):
        assert p is not q
        np.testing.assert_allclose(new, new_slow, rtol=1e-12)


@pytest.mark.parametrize("make", [lambda impl: Dense(3, activation="relu", impl=impl),
                                  lambda impl: AveragePooling2D(2, 1, "same", impl=impl),
                                  lambda impl: GlobalAveragePooling2D(impl=impl)])
def test_other_layers_fast_and_naive_agree(make):
    x = np.random.default_rng(2).standard_normal((3, 5, 4, 2))
    if isinstance(make("fast"), Dense):
        x = x.reshape(3, 40)
    fast, slow = pair(make, x)
    assert_same(run(fast, x), run(slow, x))


@pytest.mark.parametrize("make", [lambda: Conv2D(2, 3, padding="same", impl="naive"),
                                  lambda: MaxPooling2D(2, impl="naive"),
                                  lambda: AveragePooling2D(2, impl="naive"),
                                  lambda: BatchNormalization(impl="naive")])
@pytest.mark.parametrize("training", [True, False])
def test_naive_layers_pass_the_gradient_check(make, training):
    x = np.random.default_rng(3).standard_normal((2, 4, 4, 2))
    assert gradcheck.check_layer(make(), x, training=training, verbose=False).passed


def test_the_layer_picks_its_ops_through_the_one_chooser():
    assert Conv2D(2, 3).ops is ops.get("fast") and Conv2D(2, 3, impl="naive").ops is ops.get("naive")
    assert ops.get("naive").conv2d_forward is ops.conv.conv2d_forward   # the reference is the textbook one
    assert ops.get("fast").conv2d_forward is conv_fast.conv2d_forward


def test_a_new_op_pair_is_one_register_call():
    calls = []
    ops.register("test_twice", reference=lambda a: calls.append("reference") or 2 * a,
                 fast=lambda a: calls.append("fast") or a + a)
    try:
        assert ops.get("naive").test_twice(3) == ops.get("fast").test_twice(3) == 6
        assert calls == ["reference", "fast"]
        ops.register("test_twice", reference=lambda a: 2 * a)    # no trick: the reference serves both
        assert ops.get("fast").test_twice is ops.get("naive").test_twice
    finally:
        for table in core_ops._REGISTRY.values():
            table.pop("test_twice", None)
    with pytest.raises(AttributeError, match="No op named 'test_twice'"):
        ops.get("fast").test_twice
    with pytest.raises(ValueError, match=r"`impl`.*Received: impl='slow'"):
        ops.get("slow")


@pytest.mark.parametrize("make", [lambda impl: Conv2D(2, 3, impl=impl), lambda impl: MaxPooling2D(impl=impl),
                                  lambda impl: AveragePooling2D(impl=impl), lambda impl: Dense(2, impl=impl),
                                  lambda impl: GlobalAveragePooling2D(impl=impl),
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
    assert len(ratios) == 3 and all(float(r) > 0 for r in ratios)   # speed itself: measured, not unit-tested
