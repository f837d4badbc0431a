"""The core layers and activations: gradients, the one-cache convention, settings and weight checks."""
import numpy as np
import pytest

from tinynet import Sequential, gradcheck
from tinynet.layers import (Activation, AveragePooling2D, BatchNormalization, Conv2D, Dense, Dropout, Flatten,
                            GlobalAveragePooling2D, InputLayer, MaxPooling2D, Reshape, ReLU, Sigmoid, Softmax,
                            Tanh)

TOLERANCE = 1e-6


def away_from_zero(shape, seed=0):
    """Random values with |x| >= 0.1, so no ReLU kink sits within the finite-difference step."""
    x = np.random.default_rng(seed).standard_normal(shape)
    return np.where(np.abs(x) < 0.1, 0.1 * np.sign(x) + 0.1 * (x == 0), x)


@pytest.mark.parametrize("activation", [None, "linear", "relu", "sigmoid", "tanh", "softmax"])
@pytest.mark.parametrize("use_bias", [True, False])
def test_dense_gradients(activation, use_bias):
    layer = Dense(5, activation=activation, use_bias=use_bias, kernel_initializer="random_normal")
    x = away_from_zero((6, 4))
    errors = gradcheck.check_layer(layer, x)
    assert set(errors) == {"input", f"{layer.name}/kernel"} | ({f"{layer.name}/bias"} if use_bias else set())
    assert max(errors.values()) < TOLERANCE, errors


def test_dense_on_3d_input_acts_on_last_axis():
    layer = Dense(3)
    x = away_from_zero((2, 4, 5))
    y = layer(x)
    assert y.shape == (2, 4, 3)
    np.testing.assert_allclose(y[1, 2], x[1, 2] @ layer.kernel.data + layer.bias.data, rtol=1e-6)
    assert max(gradcheck.check_layer(layer, x).values()) < TOLERANCE


@pytest.mark.parametrize("layer", [ReLU(), Sigmoid(), Tanh(), Softmax(), Activation("relu"),
                                   Activation("softmax"), Activation("linear"), Flatten(), Reshape((2, -1))])
def test_parameterless_layer_gradients(layer):
    x = away_from_zero((3, 4, 2))
    if isinstance(layer, Softmax) or (isinstance(layer, Activation) and type(layer.activation) is Softmax):
        x = away_from_zero((3, 6))
    assert gradcheck.check_layer(layer, x)["input"] < TOLERANCE


def test_dropout_gradient_with_fixed_mask():
    x = away_from_zero((8, 10))
    errors = gradcheck.check_layer(Dropout(0.4), x, training=True, seed=7)
    assert errors["input"] < TOLERANCE


def test_dropout_is_inverted_and_identity_at_test_time():
    layer = Dropout(0.25)
    x = np.ones((1000, 100), dtype=np.float32)
    y = layer(x, training=True)
    kept = y != 0
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)  # kept units are scaled up by 1/(1-rate)
    assert abs(y.mean() - 1.0) < 0.02  # so the expectation is unchanged
    np.testing.assert_array_equal(layer(x, training=False), x)


def test_relu_uses_zero_subgradient_at_zero():
    layer = ReLU()
    layer.forward(np.array([[-1.0, 0.0, 2.0]]))
    np.testing.assert_array_equal(layer.backward(np.ones((1, 3))), [[0.0, 0.0, 1.0]])


def test_softmax_is_stable_for_huge_logits():
    p = Softmax().forward(np.array([[1e4, 0.0, -1e4], [1000.0, 1000.0, 1000.0]], dtype=np.float32))
    assert np.all(np.isfinite(p))
    np.testing.assert_allclose(p, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], atol=1e-6)


def test_sigmoid_is_stable_for_huge_inputs():
    with np.errstate(over="raise"):
        y = Sigmoid().forward(np.array([-1e4, -50.0, 0.0, 50.0, 1e4], dtype=np.float32))
    np.testing.assert_allclose(y, [0, 1.9287e-22, 0.5, 1, 1], rtol=1e-3, atol=1e-30)


def test_dense_hand_computed():
    layer = Dense(2, activation="relu")
    layer.build((3,))
    layer.set_weights([np.array([[1, -1], [2, 0], [0, 3]], dtype=np.float32), np.array([0.5, -10], dtype=np.float32)])
    y = layer(np.array([[1.0, 1.0, 1.0]], dtype=np.float32))
    np.testing.assert_allclose(y, [[3.5, 0.0]])  # [1+2+0+0.5, max(-1+0+3-10, 0)]


def test_keras_weight_layout():
    layer = Dense(7)
    layer.build((3,))
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 7) and bias.shape == (7,)
    assert kernel.dtype == np.float32


def test_glorot_uniform_limit():
    layer = Dense(300)
    layer.build((500,))
    limit = np.sqrt(6 / (500 + 300))
    kernel = layer.kernel.data
    assert kernel.max() <= limit and kernel.min() >= -limit
    assert abs(kernel.std() - limit / np.sqrt(3)) < 0.01 * limit  # std of U(-l, l) is l / sqrt(3)


def test_he_normal_std():
    layer = Dense(400, kernel_initializer="he_normal")
    layer.build((400,))
    assert abs(layer.kernel.data.std() - np.sqrt(2 / 400)) < 0.03 * np.sqrt(2 / 400)


def test_flatten_and_reshape_shapes():
    model = Sequential([InputLayer(input_shape=(28, 28)), Reshape((28, 28, 1)), Flatten()])
    assert model.layers[0].output_shape == (None, 28, 28, 1)
    assert model.output_shape == (None, 784)
    assert model.predict(np.zeros((3, 28, 28))).shape == (3, 784)


@pytest.mark.parametrize("make, message", [
    (lambda: Dense(0), "units"),
    (lambda: Dense(-3), "Received: units=-3"),
    (lambda: Dense(2, activation="relux"), "Unknown activation"),
    (lambda: Dense(2, kernel_initializer="glorot").build((3,)), "Unknown initializer"),
    (lambda: Dropout(1.0), "rate"),
    (lambda: Dropout(-0.1), "rate"),
    (lambda: Reshape((-1, -1)), "target_shape"),
    (lambda: Dense(3, input_shape=(0,)), "input_shape"),
    (lambda: Dense(3, input_shape=()), r"`input_shape`, expected a non-empty tuple of positive integers. "
                                       r"Received: input_shape=\(\)"),
    (lambda: InputLayer(input_shape=()), r"`input_shape`, expected a non-empty tuple"),
    (lambda: Reshape(3.5), r"`target_shape`, expected a tuple of positive integers.*Received: target_shape=3.5"),
    (lambda: Reshape(()), "target_shape"),
    (lambda: Dense(3, trainable="no"), r"`trainable`, expected True or False. Received: trainable='no'"),
    (lambda: Dropout(float("nan")), "rate"),
    (lambda: Dense(3, use_bias="no"), r"`use_bias`, expected True or False"),
    (lambda: Softmax(axis=1), r"`axis`, expected -1"),
])
def test_bad_settings_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_set_weights_names_layer_and_shapes():
    layer = Dense(4, name="hidden")
    layer.build((3,))
    with pytest.raises(ValueError, match=r"hidden.*\(3, 4\).*\(4, 3\)"):
        layer.set_weights([np.zeros((4, 3)), np.zeros(4)])
    with pytest.raises(ValueError, match="expects 2 weight arrays"):
        layer.set_weights([np.zeros((3, 4))])


@pytest.mark.parametrize("bad", [np.full(4, np.nan), np.full(4, 1e300), np.full(4, None), np.full(4, 1j), np.full(4, "a")])
def test_set_weights_refuses_non_finite_or_non_real_arrays_and_changes_nothing(bad):
    layer = Dense(4, name="hidden")
    layer.build((3,))
    before = layer.get_weights()
    with pytest.raises((ValueError, TypeError), match=r"'hidden': weight 'hidden/bias'.*(real numbers|NaN, inf)"):
        layer.set_weights([np.ones((3, 4)), bad])    # the kernel is fine and comes first: still not written
    for old, new in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_automatic_names_follow_keras():
    a, b, r = Dense(1), Dense(1), ReLU()
    assert b.name.startswith("dense_") and a.name != b.name
    assert r.name.startswith("re_lu")


# ---------------------------------------------------------------- what an initializer returns


@pytest.mark.parametrize("initializer, message", [
    (lambda shape, dtype: None, r"'d': the initializer of weight 'kernel' \(shape \(2, 3\)\) must return an array"),
    (lambda shape, dtype: np.ones((7, 7)), r"'d'.*'kernel'.*returned an array of shape \(7, 7\), expected \(2, 3\)"),
    (lambda shape, dtype: np.full(shape, "a"), r"'d'.*'kernel'.*finite real numbers.*dtype <U1"),
    (lambda shape, dtype: np.full(shape, np.nan), r"'d'.*'kernel'.*finite real numbers"),
    (lambda shape, dtype: np.full(shape, 1e300), r"'d'.*'kernel'.*finite real numbers"),   # inf in float32
    (lambda shape, dtype: np.full(shape, None), r"'d'.*'kernel'.*finite real numbers.*object"),
])
def test_a_callable_initializer_must_return_a_finite_array_of_the_weight_shape(initializer, message):
    layer = Dense(3, kernel_initializer=initializer, name="d")
    with pytest.raises(ValueError, match=message):
        layer.build((2,))
    assert not layer.built and layer.weights == []


def test_a_callable_initializer_returning_a_list_of_the_right_shape_works():
    layer = Dense(2, kernel_initializer=lambda shape, dtype: [[1, 2], [3, 4]])
    layer.build((2,))
    np.testing.assert_array_equal(layer.kernel.data, [[1, 2], [3, 4]])
    assert layer.kernel.data.dtype == np.float32


# ---------------------------------------------------------------- one cache per layer


@pytest.mark.parametrize("make, shape", [
    (lambda: Dense(3, activation="relu"), (4, 5)), (lambda: Dropout(0.5), (4, 5)), (Flatten, (2, 3, 4)),
    (lambda: Reshape((-1,)), (2, 3, 4)), (ReLU, (4, 5)), (Sigmoid, (4, 5)), (Tanh, (4, 5)), (Softmax, (4, 5)),
    (lambda: Activation("tanh"), (4, 5)), (lambda: Conv2D(2, 3, activation="relu"), (2, 5, 5, 3)),
    (MaxPooling2D, (2, 4, 4, 3)), (AveragePooling2D, (2, 4, 4, 3)), (GlobalAveragePooling2D, (2, 4, 4, 3)),
    (BatchNormalization, (6, 3)),
])
@pytest.mark.parametrize("training", [True, False])
def test_forward_keeps_what_backward_needs_in_self_cache_only(make, shape, training):
    layer = make()
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    layer.build(x.shape[1:])
    attributes = set(vars(layer))
    layer.forward(x, training=training)
    assert set(vars(layer)) == attributes                  # no new per-batch attribute
    holder = layer.activation if isinstance(layer, Activation) else layer   # Activation('tanh') is its Tanh
    assert isinstance(holder.cache, tuple)
    assert layer.backward(np.ones_like(layer.forward(x, training=training))).shape == x.shape


def test_relu_mask_says_which_side_of_the_kink():
    relu = ReLU()
    relu(np.array([[-1.0, 0.0, 2.0]]))
    np.testing.assert_array_equal(relu.mask(), [[False, False, True]])


def test_softmax_and_sigmoid_are_plain_layers():
    for layer in (Softmax(), Sigmoid()):
        assert not hasattr(layer, "fused_with_loss") and not hasattr(layer, "logits")
    softmax = Softmax()
    z = np.array([[1.0, 2.0, 0.5]])
    p = softmax(z)
    dp = np.array([[0.3, -1.0, 2.0]])
    jacobian = np.diag(p[0]) - np.outer(p[0], p[0])       # J_ij = dp_i / dz_j
    np.testing.assert_allclose(softmax.backward(dp), dp @ jacobian)   # the vector-Jacobian product
