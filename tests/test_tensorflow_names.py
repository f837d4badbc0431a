"""The TensorFlow names a hand-written training step calls (``import tinynet as tf``): each gives TensorFlow's
value, and on tensors inside a GradientTape its gradient, checked against centred differences."""
import numpy as np
import pytest

import tinynet as tf
from tinynet import keras
from tinynet.tools.gradcheck import numerical_gradient, relative_error

RNG = np.random.default_rng(0)


def tape_gradient(function, x):
    """d sum(w * function(x)) / dx through GradientTape, and the same by centred differences (float64)."""
    w = RNG.normal(size=np.shape(np.asarray(function(tf.constant(x))))) if np.ndim(function(tf.constant(x))) else 1.0
    t = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(t)
        loss = tf.reduce_sum(function(t) * w)
    analytic = tape.gradient(loss, t)
    x = x.copy()
    numeric = numerical_gradient(lambda: float(np.sum(np.asarray(function(tf.constant(x))) * w)), x)
    return analytic, numeric


CASES = [
    ("reduce_mean axis", lambda t: tf.reduce_mean(t, axis=1)),
    ("reduce_sum keepdims", lambda t: tf.reduce_sum(t, axis=0, keepdims=True)),
    ("reduce_max", lambda t: tf.reduce_max(t, axis=-1)),
    ("concat", lambda t: tf.concat([t, 2 * t], axis=0)),
    ("stack", lambda t: tf.stack([t, tf.square(t)], axis=1)),
    ("matmul transpose_b", lambda t: tf.matmul(t, t, transpose_b=True)),
    ("matmul transpose_a", lambda t: tf.matmul(t, t, transpose_a=True)),
    ("math.exp / math.log", lambda t: tf.math.log(tf.math.exp(t) + 1.0)),
    ("math.reduce_logsumexp", lambda t: tf.math.reduce_logsumexp(t, axis=1)),
    ("nn.relu", tf.nn.relu),
    ("nn.softmax", tf.nn.softmax),
    ("nn.sigmoid", tf.nn.sigmoid),
    ("activations.tanh", keras.activations.tanh),
    ("activations.gelu", keras.activations.gelu),
    ("nn.sparse_softmax_cross_entropy_with_logits",
     lambda t: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=np.array([0, 3, 1]), logits=t)),
]


@pytest.mark.parametrize("name, function", CASES, ids=[c[0] for c in CASES])
def test_gradient_through_tape_matches_centred_differences(name, function):
    x = RNG.normal(size=(3, 4))
    analytic, numeric = tape_gradient(function, x)
    assert relative_error(np.asarray(analytic), numeric) < 1e-6


def test_values_are_tensorflow_s():
    x = np.array([[1.0, -2.0, 3.0], [0.5, 0.0, -1.0]])
    assert float(tf.reduce_mean(x)) == pytest.approx(x.mean())
    np.testing.assert_allclose(tf.reduce_sum(x, axis=1), [2.0, -0.5])
    np.testing.assert_allclose(tf.reduce_max(x, axis=0), [1.0, 0.0, 3.0])
    assert tf.concat([x, x], axis=0).shape == (4, 3) and tf.stack([x, x]).shape == (2, 2, 3)
    np.testing.assert_allclose(tf.matmul(x, x, transpose_b=True), x @ x.T)
    np.testing.assert_array_equal(tf.argmax(x), [0, 1, 0])                   # TensorFlow's default axis is 0
    np.testing.assert_allclose(tf.nn.softmax_cross_entropy_with_logits(labels=[[0, 0, 1]], logits=x[:1]),
                               [-np.log(np.exp(3) / np.exp([1, -2, 3]).sum())])
    assert tf.config.list_physical_devices("GPU") == []


def test_activation_functions_return_tensors():
    """tf.nn.softmax(logits).numpy(), as TensorFlow's quickstart calls it."""
    p = tf.nn.softmax(np.array([[1.0, 2.0, 3.0]]))
    np.testing.assert_allclose(p.numpy(), [np.exp([1, 2, 3]) / np.exp([1, 2, 3]).sum()])
    assert keras.activations.relu(np.array([-1, 2])).numpy().dtype == np.float32


def test_loss_object_on_arrays_returns_a_scalar_tensor():
    logits = np.array([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)([0, 1], logits)
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    assert loss.numpy().shape == () and float(loss) == pytest.approx(-(log_p[0, 0] + log_p[1, 1]) / 2)


def test_variable_and_function():
    w = tf.Variable(np.ones((2, 1)))
    assert w.dtype == np.float32 and w.trainable

    @tf.function
    def loss_of(x):
        return tf.reduce_sum(tf.square(tf.matmul(x, w)))

    x = np.array([[1.0, 2.0]], dtype=np.float32)
    with tf.GradientTape() as tape:
        loss = loss_of(x)
    (grad,) = tape.gradient(loss, [w])
    np.testing.assert_allclose(grad, 2 * 3.0 * x.T)                         # d (x w)^2 / dw = 2 (x w) x^T
    assert tf.function(jit_compile=True)(loss_of) is loss_of


def test_mean_metric_is_the_weighted_mean_of_every_value():
    m = keras.metrics.Mean(name="train_loss")
    m(2.0)
    m.update_state([4.0, 6.0], sample_weight=[1.0, 3.0])
    assert m.name == "train_loss" and m.result() == pytest.approx((2 + 4 + 18) / 5)
    m.reset_states()
    assert m.result() == 0.0


def test_images_to_arrays_and_png(tmp_path):
    """keras.utils.array_to_img scales the range to [0, 255]; save_img writes a PNG that reads back the same."""
    x = np.linspace(-1.0, 1.0, 12).reshape(3, 4, 1)
    img = keras.utils.array_to_img(x)
    assert img.size == (4, 3) and img.mode == "L"
    np.testing.assert_array_equal(np.asarray(img), np.rint((x[..., 0] + 1) * 255 / 2))
    np.testing.assert_array_equal(keras.utils.img_to_array(img), np.asarray(img, dtype="float32")[..., None])
    keras.utils.save_img(tmp_path / "digit.png", x)
    import matplotlib.image
    back = matplotlib.image.imread(tmp_path / "digit.png")               # RGBA floats in [0, 1]
    np.testing.assert_allclose(back[..., 0] * 255, np.asarray(img), atol=0.5)
    img = tf.keras.preprocessing.image.array_to_img(np.full((2, 2, 3), 0.5) * 255.0, scale=False)
    assert img.mode == "RGB" and np.asarray(img).max() == 128


def test_model_losses_hold_the_add_loss_terms_of_the_last_call():
    """keras.io's training loop adds ``sum(model.losses)`` to its loss: the terms the layers' last call added."""
    class Penalised(keras.layers.Layer):
        def call(self, inputs):
            self.add_loss(1e-2 * tf.reduce_sum(inputs))
            return inputs

    inputs = keras.Input(shape=(3,))
    model = keras.Model(inputs, keras.layers.Dense(2)(Penalised()(inputs)))
    x = np.array([[1.0, 2.0, 3.0]], dtype=np.float32)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model(x, training=True)) + sum(model.losses)
    assert [float(t) for t in model.losses] == [pytest.approx(0.06)]
    kernel, bias = (np.asarray(w) for w in model.layers[-1].weights)
    assert float(loss) == pytest.approx(float((x @ kernel + bias).sum()) + 0.06, rel=1e-6)
    model(2 * x)
    assert [float(t) for t in model.losses] == [pytest.approx(0.12)]   # replaced by the next call, not added
