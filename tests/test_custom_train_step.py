"""A model's own ``train_step(data)`` / ``test_step(data)``, as keras.io's "Customizing what happens in fit()"
writes them: fit and evaluate call them, batch by batch, and keep the rest (epochs, callbacks, logs).

Each test checks values: the weights a custom step leaves equal those of tinynet's own step on the same
batches, the metrics are reset at each epoch as Keras resets them, and the gradients a step's tape
computes through a sampling layer and a KL term match centred differences.
"""
import numpy as np
import pytest

import tinynet as tf
from tinynet import keras
from tinynet.keras import layers
from tinynet.core.models.custom_step import batch_data, user_step


def _regression(seed=0, n=64):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 5)).astype("float32"), rng.normal(size=(n, 1)).astype("float32")


def _graph(model_class, seed=1):
    tf.set_random_seed(seed)
    inputs = keras.Input(shape=(5,))
    return model_class(inputs, layers.Dense(1)(inputs))


class CompiledStepModel(keras.Model):
    """The guide's first step: the compiled loss and metrics, reached through compiled_loss / compiled_metrics."""

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compiled_loss(y, y_pred, regularization_losses=self.losses)
        variables = self.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        self.compiled_metrics.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def test_a_subclass_called_on_a_graph_is_a_functional_model_keeping_its_own_methods():
    model = _graph(CompiledStepModel)
    assert isinstance(model, CompiledStepModel) and isinstance(model, tf.Model)
    assert type(model).train_step is CompiledStepModel.train_step
    assert model.count_params() == 5 + 1 and model.output_shape == (None, 1)


def test_fit_runs_the_models_own_step_and_gives_the_weights_of_tinynets_step():
    x, y = _regression()
    custom, plain = _graph(CompiledStepModel), _graph(tf.Model)
    for model in (custom, plain):
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse", metrics=["mae"])
    history = custom.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    plain.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(custom.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    # The logs are what the step returned: the loss tracker (which compiled_loss updates) and the compiled
    # metric, averaged over the last epoch's batches (reset at the start of the epoch), as Keras 2 logs them.
    # Recompute both from the weights each batch started from.
    assert list(history.history) == ["loss", "mae"]
    replay = _graph(tf.Model)
    replay.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    replay.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    errors, losses = [], []
    for start in range(0, 64, 16):
        xb, yb = x[start:start + 16], y[start:start + 16]
        errors.append(np.abs(np.asarray(replay(xb)) - yb).mean())
        losses.append(((np.asarray(replay(xb)) - yb) ** 2).mean())
        replay.train_on_batch(xb, yb)
    assert history.history["mae"][1] == pytest.approx(np.mean(errors), rel=1e-5)
    assert history.history["loss"][1] == pytest.approx(np.mean(losses), rel=1e-5)


class Keras3StepModel(keras.Model):
    """Keras 3's spelling of the same step: compute_loss, optimizer.apply(grads, variables), and the loss
    tracker found in self.metrics by its name; the step's dict may nest (a metric whose result is a dict)."""

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
        variables = self.trainable_variables
        self.optimizer.apply(tape.gradient(loss, variables), variables)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {"loss": self.metrics[0].result(), "compile_metrics": {"mae": self.metrics[1].result()}}


def test_keras3s_spelling_of_the_step_gives_the_same_weights_and_flat_logs():
    x, y = _regression(seed=4)
    custom, plain = _graph(Keras3StepModel), _graph(tf.Model)
    for model in (custom, plain):
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse", metrics=["mae"])
    assert [m.name for m in custom.metrics] == ["loss", "mae"] and [m.name for m in plain.metrics] == ["mae"]
    history = custom.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
    plain_history = plain.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(custom.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert list(history.history) == ["loss", "mae"]
    # two equal batches: the mean of the batch losses is tinynet's epoch loss
    np.testing.assert_allclose(history.history["loss"], plain_history.history["loss"], rtol=1e-5)
    np.testing.assert_allclose(history.history["mae"], plain_history.history["mae"], rtol=1e-5)


class TrackerModel(keras.Model):
    """The guide's lower-level step: its own loss function and metric objects, listed in ``metrics``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.seen = []

    def train_step(self, data):
        self.seen.append(data)
        x, y = data
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(keras.losses.mean_squared_error(y, self(x, training=True)))
        self.optimizer.apply_gradients(zip(tape.gradient(loss, self.trainable_weights), self.trainable_weights))
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result(), "batches": self.loss_tracker.count}

    @property
    def metrics(self):
        return [self.loss_tracker]


def test_the_models_metrics_are_reset_at_each_epoch_and_its_data_is_x_y():
    x, y = _regression(n=48)
    model = _graph(TrackerModel)
    model.compile(optimizer="sgd")                       # no loss: the step computes its own
    history = model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    assert history.history["batches"] == [3, 3, 3]        # 3 batches an epoch, the tracker reset in between
    assert all(isinstance(d, tuple) and len(d) == 2 and d[0].shape == (16, 5) for d in model.seen)
    np.testing.assert_array_equal(model.seen[0][1], y[:16])


def test_the_loss_function_of_keras_losses_is_differentiated_inside_a_tape():
    x, y = _regression(n=8)
    model = _graph(tf.Model)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(keras.losses.mean_squared_error(y, model(x, training=True)))
    kernel, bias = model.trainable_weights
    d_kernel, d_bias = tape.gradient(loss, [kernel, bias])
    residual = x @ np.asarray(kernel.data) + np.asarray(bias.data) - y       # dL/dp = 2 (p - y) / N
    np.testing.assert_allclose(d_kernel, x.T @ (2 * residual / len(x)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(d_bias, (2 * residual / len(x)).sum(axis=0), rtol=1e-5, atol=1e-6)


class ScaledTestStep(keras.Model):
    def test_step(self, data):
        x, y = data
        self.compiled_metrics.update_state(y, self(x, training=False))
        return {m.name: m.result() for m in self.metrics}


def test_evaluate_runs_the_models_own_test_step():
    x, y = _regression()
    model = _graph(ScaledTestStep)
    model.compile(loss="mse", metrics=["mae"])
    result = model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    # the loss tracker was reset and this step does not update it: 0, as Keras reports it
    assert result == {"loss": 0.0, "mae": pytest.approx(np.abs(np.asarray(model(x)) - y).mean(), rel=1e-5)}


def test_compiled_loss_adds_the_regularization_losses_given():
    x, y = _regression(n=8)
    tf.set_random_seed(3)
    inputs = keras.Input(shape=(5,))
    model = tf.Model(inputs, layers.Dense(1, kernel_regularizer=keras.regularizers.l2(0.5))(inputs))
    model.compile(optimizer="sgd", loss="mse")
    y_pred = model(x)
    kernel = np.asarray(model.trainable_weights[0].data)
    expected = np.mean((np.asarray(y_pred) - y) ** 2)
    assert float(model.compiled_loss(y, y_pred)) == pytest.approx(expected, rel=1e-5)
    with_penalty = float(model.compiled_loss(y, y_pred, regularization_losses=model.losses))
    assert with_penalty == pytest.approx(expected + 0.5 * (kernel ** 2).sum(), rel=1e-5)


class Sampling(layers.Layer):
    """z = mean + exp(log_var / 2) * eps, eps drawn with a fixed seed (the same numbers at every call)."""

    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(shape=tf.shape(z_mean), seed=7)
        return z_mean + tf.exp(0.5 * z_log_var) * epsilon


def _tiny_vae():
    tf.set_random_seed(5)
    x_in = keras.Input(shape=(6,))
    h = layers.Dense(4, activation="tanh")(x_in)
    z_mean, z_log_var = layers.Dense(2)(h), layers.Dense(2)(h)
    encoder = tf.Model(x_in, [z_mean, z_log_var, Sampling()([z_mean, z_log_var])])
    z_in = keras.Input(shape=(2,))
    decoder = tf.Model(z_in, layers.Dense(6, activation="sigmoid")(z_in))
    return encoder, decoder


def _vae_loss(encoder, decoder, data):
    """keras.io's VAE loss: the summed binary cross-entropy plus the KL divergence from N(0, I)."""
    z_mean, z_log_var, z = encoder(data)
    reconstruction = tf.reduce_mean(tf.reduce_sum(keras.losses.binary_crossentropy(data[..., None],
                                                                                   decoder(z)[..., None]), axis=1))
    kl = -0.5 * (1 + z_log_var - tf.square(z_mean) - tf.exp(z_log_var))
    return reconstruction + tf.reduce_mean(tf.reduce_sum(kl, axis=1))


def test_a_vae_loss_through_a_sampling_layer_has_the_gradient_of_centred_differences():
    encoder, decoder = _tiny_vae()
    data = np.random.default_rng(1).uniform(size=(5, 6))
    weights = encoder.trainable_weights + decoder.trainable_weights
    with tf.GradientTape() as tape:
        loss = _vae_loss(encoder, decoder, data)
    grads = tape.gradient(loss, weights)
    for weight, grad in zip(weights, grads):
        for index in [(0,) * weight.data.ndim, tuple(s - 1 for s in weight.data.shape)]:
            kept = weight.data[index]
            values = []
            for step in (1e-3, -1e-3):
                weight.data[index] = kept + step
                values.append(float(_vae_loss(encoder, decoder, data)))
            weight.data[index] = kept
            assert grad[index] == pytest.approx((values[0] - values[1]) / 2e-3, rel=2e-2, abs=1e-4)


class NoCallGAN(keras.Model):
    """A model without ``call`` whose step trains its parts, as the guide's GAN: fit must not run it."""

    def __init__(self, part):
        super().__init__()
        self.part = part
        self.batches, self.losses_seen = [], []

    def train_step(self, images):
        self.batches.append(images)
        noise = tf.random.uniform(tf.shape(images))
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(self.part(images + 0 * noise)))
        grads = tape.gradient(loss, self.part.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.part.trainable_weights))
        self.losses_seen.append(float(loss))
        return {"part_loss": loss}


def test_a_model_without_call_trains_on_a_dataset_of_images_only():
    images = np.random.default_rng(2).uniform(size=(40, 3)).astype("float32")
    part = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(1)])
    gan = NoCallGAN(part)
    gan.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1))
    history = gan.fit(tf.data.Dataset.from_tensor_slices(images).batch(16), epochs=1, verbose=0)
    assert [b.shape for b in gan.batches] == [(16, 3), (16, 3), (8, 3)]
    assert not isinstance(gan.batches[0], tuple)                     # data is x alone when there is no y
    assert history.history["part_loss"] == [pytest.approx(gan.losses_seen[-1], rel=1e-7)]   # the last batch's


def test_which_step_is_the_users_and_what_data_it_gets():
    assert user_step(_graph(tf.Model), "train_step") is None            # tinynet's own step
    assert user_step(_graph(tf.Model), "test_step") is None
    assert user_step(_graph(CompiledStepModel), "train_step") is not None
    x, y, w = np.zeros((2, 3)), np.ones((2, 1)), np.ones(2)
    assert batch_data([x], None, None) is x
    assert batch_data([x], [y], None)[1] is y and len(batch_data([x], [y], w)) == 3
    assert isinstance(batch_data([x, x], [y], None)[0], list)


def test_tf_shape_is_the_sizes_as_an_int32_vector():
    shape = tf.shape(np.zeros((4, 7)))
    assert shape.dtype == np.int32 and shape.tolist() == [4, 7]
    assert tf.random.uniform(shape).shape == (4, 7)


class SquaredErrorRoot(keras.metrics.Metric):
    """A metric as Keras's guides write one: state variables from add_weight, changed with assign_add."""

    def __init__(self, name="root_sq", **kwargs):
        super().__init__(name=name, **kwargs)
        self.sq_sum = self.add_weight(name="sq_sum", initializer="zeros")
        self.seen = self.add_weight(name="seen", initializer="zeros", dtype="int32")

    def update_state(self, y_true, y_pred, sample_weight=None):
        one_hot = tf.one_hot(np.asarray(y_true).astype("int64"), depth=tf.shape(y_pred)[1])
        self.sq_sum.assign_add(tf.reduce_sum(tf.square(one_hot - y_pred)))
        self.seen.assign_add(tf.shape(y_pred)[0])

    def result(self):
        return tf.sqrt(self.sq_sum / tf.cast(self.seen, tf.float32))


def test_a_metric_with_add_weight_state_accumulates_and_is_reset():
    rng = np.random.default_rng(6)
    labels, probabilities = rng.integers(0, 3, 10), rng.dirichlet(np.ones(3), size=10).astype("float32")
    metric = SquaredErrorRoot()
    assert [v.name for v in metric.variables] == ["sq_sum", "seen"] and float(metric.seen.data) == 0
    metric.update_state(labels[:4], probabilities[:4])
    metric.update_state(labels[4:], probabilities[4:])
    expected = np.sqrt(((np.eye(3)[labels] - probabilities) ** 2).sum() / 10)
    assert float(metric.result()) == pytest.approx(expected, rel=1e-6)
    metric.reset_state()
    assert float(metric.sq_sum.data) == 0 and int(metric.seen.data) == 0


def test_fit_logs_a_metric_with_add_weight_state():
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(32, 4)).astype("float32"), rng.integers(0, 3, 32)
    tf.set_random_seed(8)
    model = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=[SquaredErrorRoot()])
    result = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    p = np.asarray(model.predict(x, verbose=0))
    assert result["root_sq"] == pytest.approx(np.sqrt(((np.eye(3)[y] - p) ** 2).sum() / 32), rel=1e-5)


class NoLogsModel(keras.Model):
    def train_step(self, data):
        return 0.5


def test_a_step_that_returns_no_dict_is_told_what_keras_expects():
    x, y = _regression(n=8)
    model = _graph(NoLogsModel)
    model.compile(optimizer="sgd")
    with pytest.raises(TypeError, match=r"NoLogsModel.train_step must return a dict .* Received: 0.5"):
        model.fit(x, y, verbose=0)


class DoubledPrediction(keras.Model):
    def predict_step(self, data):
        return 2 * self(data, training=False)


def test_predict_gathers_what_the_models_own_predict_step_returns():
    x, _ = _regression(n=20)
    model = _graph(DoubledPrediction)
    np.testing.assert_allclose(model.predict(x, batch_size=8), 2 * np.asarray(model(x)), rtol=1e-6)
