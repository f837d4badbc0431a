"""BatchNormalization: gradients, batch vs moving statistics, Keras's weights and arguments."""
import numpy as np
import pytest

from tinynet import Sequential, gradcheck
from tinynet.layers import BatchNormalization, Conv2D, Dense, Flatten, LayerNormalization, ReLU

TOLERANCE = 1e-6


def data(shape, seed=0):
    rng = np.random.default_rng(seed)
    return 3.0 + 2.0 * rng.standard_normal(shape)  # not already normalized


def with_random_gamma_beta(layer, C, seed=1):
    rng = np.random.default_rng(seed)
    layer.gamma.data[...] = 1 + 0.5 * rng.standard_normal(C)
    layer.beta.data[...] = rng.standard_normal(C)
    return layer


@pytest.mark.parametrize("shape", [(6, 4), (3, 5, 4, 3), (2, 3, 2, 5)], ids=["after-Dense", "after-Conv2D", "tiny"])
def test_training_mode_gradients(shape):
    layer = BatchNormalization()
    layer.build(shape[1:])
    with_random_gamma_beta(layer, shape[-1])
    errors = gradcheck.check_layer(layer, data(shape), training=True)
    assert set(errors) == {"input", f"{layer.name}/gamma", f"{layer.name}/beta"}  # moving stats: not trainable
    assert max(errors.values()) < TOLERANCE, errors


@pytest.mark.parametrize("center, scale", [(False, True), (True, False), (False, False)])
def test_training_mode_gradients_without_center_or_scale(center, scale):
    layer = BatchNormalization(center=center, scale=scale)
    layer.build((3, 3, 2))
    errors = gradcheck.check_layer(layer, data((4, 3, 3, 2)), training=True)
    assert len(errors) == 1 + center + scale and max(errors.values()) < TOLERANCE, errors
    assert len(layer.weights) == 2 + center + scale


def test_inference_mode_gradients():
    layer = BatchNormalization()
    layer.build((3,))
    layer.moving_mean.data[...] = [1.0, -2.0, 0.5]
    layer.moving_variance.data[...] = [4.0, 0.25, 1.0]
    errors = gradcheck.check_layer(layer, data((5, 3)), training=False)
    assert max(errors.values()) < TOLERANCE, errors


def test_bn_after_conv2d_and_after_dense_in_a_model():
    model = Sequential([Conv2D(3, 2, use_bias=False, input_shape=(5, 5, 2)), BatchNormalization(), ReLU(),
                        Flatten(), Dense(4, use_bias=False), BatchNormalization(), ReLU(),
                        Dense(3, activation="softmax")])
    model.compile("adam", "mse")   # not a cross-entropy: the model runs the Softmax layer's own backward
    errors = gradcheck.check_model(model, data((5, 5, 5, 2)), np.eye(3)[[0, 1, 2, 0, 1]])
    assert max(errors.values()) < TOLERANCE, errors


def test_training_normalizes_per_channel_with_the_biased_variance():
    x = data((8, 4, 4, 3)).astype(np.float32)
    y = BatchNormalization(epsilon=1e-3)(x, training=True)
    mean, var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))  # np.var is the biased one
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(y.mean(axis=(0, 1, 2)), 0, atol=1e-5)


def test_moving_statistics_update_as_keras_does():
    layer = BatchNormalization(momentum=0.9)
    x1, x2 = data((10, 2), seed=1), data((10, 2), seed=2)
    layer(x1, training=True)
    np.testing.assert_array_equal(layer.moving_mean.data, [0, 0])   # the forward only proposes them ...
    assert [p for p, _ in layer.state_updates] == [layer.moving_mean, layer.moving_variance]
    layer.commit_state_updates()                                     # ... the model commits them
    assert layer.state_updates == []
    np.testing.assert_allclose(layer.moving_mean.data, 0.9 * 0 + 0.1 * x1.mean(0), rtol=1e-5)
    np.testing.assert_allclose(layer.moving_variance.data, 0.9 * 1 + 0.1 * x1.var(0), rtol=1e-5)
    layer(x2, training=True)
    layer.commit_state_updates()
    mean = 0.9 * (0.1 * x1.mean(0)) + 0.1 * x2.mean(0)
    variance = 0.9 * (0.9 + 0.1 * x1.var(0)) + 0.1 * x2.var(0)
    np.testing.assert_allclose(layer.moving_mean.data, mean, rtol=1e-5)
    np.testing.assert_allclose(layer.moving_variance.data, variance, rtol=1e-5)
    before = layer.moving_mean.data.copy()
    layer(x1, training=False)
    assert layer.state_updates == []
    layer.commit_state_updates()
    np.testing.assert_array_equal(layer.moving_mean.data, before)  # inference never updates them


def test_a_training_forward_writes_no_parameter():
    layer = BatchNormalization()
    x = data((6, 3, 3, 2)).astype(np.float32)
    layer(x, training=True)
    before = [w.copy() for w in layer.get_weights()]
    y = layer(x * 1e30, training=True)                      # overflows: a step the model would refuse
    assert not np.isfinite(layer.state_updates[1][1]).all()
    for old, new in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(old, new)
    assert y.shape == x.shape


def test_inference_uses_the_moving_statistics():
    layer = BatchNormalization(epsilon=0.01)
    layer.build((2,))
    layer.set_weights([np.array([2.0, 0.5]), np.array([1.0, -1.0]),   # gamma, beta
                       np.array([3.0, -1.0]), np.array([0.99, 3.99])])  # moving mean, moving variance
    x = np.array([[4.0, 1.0], [3.0, -5.0]], dtype=np.float32)
    # By hand: (x - mean) / sqrt(var + 0.01) * gamma + beta, with sqrt(1.0) = 1 and sqrt(4.0) = 2.
    expected = [[(4 - 3) / 1 * 2 + 1, (1 + 1) / 2 * 0.5 - 1],
                [(3 - 3) / 1 * 2 + 1, (-5 + 1) / 2 * 0.5 - 1]]
    np.testing.assert_allclose(layer(x, training=False), expected, rtol=1e-6)
    # One sample alone gives the same output as in a batch: no batch statistics at inference.
    np.testing.assert_allclose(layer(x[:1], training=False), np.array(expected)[:1], rtol=1e-6)


def test_keras_weights_defaults_and_summary_counts():
    layer = BatchNormalization()
    assert (layer.axis, layer.momentum, layer.epsilon, layer.center, layer.scale) == (-1, 0.99, 1e-3, True, True)
    model = Sequential([Dense(4, input_shape=(3,)), BatchNormalization()])
    bn = model.layers[1]
    assert [p.name.split("/")[1] for p in bn.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [p.trainable for p in bn.weights] == [True, True, False, False]
    np.testing.assert_array_equal(np.stack(bn.get_weights()), [[1] * 4, [0] * 4, [0] * 4, [1] * 4])
    assert bn.moving_mean not in model.trainable_weights
    lines = []
    model.summary(print_fn=lines.append)
    assert "Total params: 32" in lines and "Trainable params: 24" in lines and "Non-trainable params: 8" in lines


def test_axis_and_arguments_are_checked():
    BatchNormalization(axis=3).build((5, 5, 2))  # the channels axis of (N, H, W, C), written as Keras users do
    with pytest.raises(ValueError, match=r"'bn' \(BatchNormalization\) supports only the last axis.*axis=1"):
        BatchNormalization(axis=1, name="bn").build((5, 5, 2))
    with pytest.raises(ValueError, match="momentum"):
        BatchNormalization(momentum=1.5)
    with pytest.raises(ValueError, match="epsilon"):
        BatchNormalization(epsilon=0)
    with pytest.raises(ValueError, match=r"`epsilon`, expected a positive finite number. Received: epsilon=inf"):
        BatchNormalization(epsilon=float("inf"))
    with pytest.raises(ValueError, match="momentum"):
        BatchNormalization(momentum=float("nan"))
    assert BatchNormalization(momentum=np.float32(0.9)).momentum == pytest.approx(0.9)   # NumPy floats, as elsewhere
    assert BatchNormalization(epsilon=np.float64(1e-5), axis=np.int64(-1)).axis == -1
    with pytest.raises(ValueError, match="axis"):
        BatchNormalization(axis="channels")


def test_config_round_trip():
    layer = BatchNormalization(momentum=0.9, epsilon=1e-5, center=False, name="bn_x")
    config = layer.get_config()
    assert BatchNormalization(**config).get_config() == config
    assert "gamma" in BatchNormalization.equation


def test_a_frozen_layer_uses_and_keeps_its_moving_statistics_in_fit():
    model = Sequential([Dense(3, input_shape=(4,)), BatchNormalization(trainable=False), Dense(2, activation="softmax")])
    model.compile("sgd", "mse")
    bn = model.layers[1]
    before = [w.copy() for w in bn.get_weights()]
    model.fit(data((16, 4)), np.eye(2)[np.arange(16) % 2], batch_size=4, epochs=1, verbose=0)
    assert bn.state_updates == []
    for old, new in zip(before, bn.get_weights()):
        np.testing.assert_array_equal(old, new)  # neither gamma/beta nor the moving statistics moved
    x = data((5, 3)).astype(np.float32)
    np.testing.assert_allclose(bn.forward(x, training=True), bn.forward(x, training=False))


# ---------------------------------------------------------------- layer normalization


def test_layer_normalization_normalizes_each_sample_by_its_own_statistics():
    x = np.random.default_rng(0).standard_normal((4, 6)) * 3 + 2
    layer = LayerNormalization(epsilon=1e-3)
    mean, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
    np.testing.assert_allclose(layer(x), (x - mean) / np.sqrt(var + 1e-3))
    np.testing.assert_allclose(layer(x[:1]), layer(x)[:1])               # nothing depends on the rest of the batch
    np.testing.assert_array_equal(layer(x, training=True), layer(x, training=False))
    assert [w.shape for w in layer.get_weights()] == [(6,), (6,)]        # gamma, beta as Keras stores them
    images = np.random.default_rng(1).standard_normal((2, 3, 4, 5))
    whole = LayerNormalization(axis=[1, 2, 3])
    flat = images.reshape(2, -1)
    expected = (flat - flat.mean(1, keepdims=True)) / np.sqrt(flat.var(1, keepdims=True) + 1e-3)
    np.testing.assert_allclose(whole(images), expected.reshape(images.shape))
    assert [w.shape for w in whole.get_weights()] == [(3, 4, 5), (3, 4, 5)]


@pytest.mark.parametrize("axis, shape", [(-1, (3, 5)), (-1, (2, 3, 4, 3)), ([1, 2, 3], (2, 3, 2, 3)),
                                         ((1, 2), (2, 3, 4, 2)), (1, (3, 4, 2))])
def test_layer_normalization_gradients(axis, shape):
    layer = LayerNormalization(axis=axis, gamma_initializer="random_normal", beta_initializer="random_normal")
    result = gradcheck.check_layer(layer, np.random.default_rng(2).standard_normal(shape), verbose=False)
    assert result.passed and max(result.values()) < 1e-6, result.table()


def test_layer_normalization_refuses_what_it_does_not_do():
    with pytest.raises(ValueError, match="rms_scaling=True"):
        LayerNormalization(rms_scaling=True)
    with pytest.raises(ValueError, match="the batch axis 0 cannot be normalized over"):
        LayerNormalization(axis=0).build((4,))
    with pytest.raises(ValueError, match="`epsilon`"):
        LayerNormalization(epsilon=0)
    assert LayerNormalization(center=False, scale=False).get_config()["center"] is False
