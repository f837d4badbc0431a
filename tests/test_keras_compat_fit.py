"""fit / evaluate arguments as Keras users pass them: sample and class weights, step caps, validation frequency,
evaluate(return_dict=True) and evaluate(callbacks=...)."""
import numpy as np
import pytest

import tinynet
from tinynet import callbacks, layers, models, optimizers

RNG = np.random.default_rng(0)


def linear_model():
    model = models.Sequential([layers.Dense(1, use_bias=False, kernel_initializer="zeros", input_shape=(1,))])
    model.compile(optimizer=optimizers.SGD(learning_rate=0.1), loss="mse", metrics=["mae"])
    return model


def test_evaluate_with_sample_weight_and_return_dict():
    model = linear_model()                                           # predicts 0
    x, y = np.ones((4, 1)), np.array([[1.0], [2.0], [3.0], [4.0]])
    assert model.evaluate(x, y, verbose=0)[0] == pytest.approx((1 + 4 + 9 + 16) / 4)
    w = np.array([1.0, 0.0, 0.0, 0.5])
    result = model.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    assert result["loss"] == pytest.approx((1 * 1 + 0.5 * 16) / 4)  # Keras: mean of weight * loss over the batch
    assert set(result) == {"loss", "mae"}


def test_fit_sample_weight_scales_the_gradient():
    # One SGD step on w=0 with MSE: dL/dw = mean_i(s_i * 2 * (w x_i - y_i) x_i); with x = 1, y = 1 and
    # weights (1, 0): -1.0, so w becomes 0.1 (it would be 0.2 with both samples weighted 1).
    model = linear_model()
    model.fit(np.ones((2, 1)), np.ones((2, 1)), batch_size=2, sample_weight=np.array([1.0, 0.0]), shuffle=False,
              verbose=0)
    assert model.get_weights()[0][0, 0] == pytest.approx(0.1)


def test_class_weight_equals_the_matching_sample_weight():
    x, labels = RNG.normal(size=(40, 5)), RNG.integers(0, 3, 40)

    def trained(**weights):
        tinynet.set_random_seed(0)
        model = models.Sequential([layers.Dense(3, activation="softmax", input_shape=(5,))])
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        model.fit(x, labels, epochs=2, batch_size=8, verbose=0, **weights)
        return model.get_weights()[0]

    class_weight = {0: 1.0, 1: 3.0, 2: 0.5}
    by_class = trained(class_weight=class_weight)
    by_sample = trained(sample_weight=np.array([class_weight[c] for c in labels]))
    assert np.allclose(by_class, by_sample)
    assert not np.allclose(by_class, trained())


def test_validation_data_with_sample_weights():
    model = linear_model()
    x, y = np.ones((4, 1)), np.ones((4, 1))
    history = model.fit(x, y, epochs=1, verbose=0, shuffle=False,
                        validation_data=(np.ones((2, 1)), np.array([[1.0], [3.0]]), np.array([0.0, 1.0])))
    w = model.get_weights()[0][0, 0]
    assert history.history["val_loss"][0] == pytest.approx((0 * (w - 1) ** 2 + 1 * (w - 3) ** 2) / 2)


def test_steps_per_epoch_validation_steps_and_validation_freq():
    model = linear_model()
    seen = []

    class Counter(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(batch)

    x, y = np.ones((100, 1)), np.ones((100, 1))
    history = model.fit(x, y, batch_size=10, epochs=4, steps_per_epoch=3, validation_data=(x, y),
                        validation_steps=2, validation_freq=2, verbose=0, callbacks=[Counter()])
    assert history.params["steps"] == 3
    assert seen == [0, 1, 2] * 4
    assert len(history.history["loss"]) == 4
    assert len(history.history["val_loss"]) == 2                     # after epochs 2 and 4
    listed = linear_model().fit(x, y, epochs=3, validation_data=(x, y), validation_freq=[1, 3], verbose=0)
    assert len(listed.history["val_loss"]) == 2
    with pytest.raises(ValueError, match="validation_freq"):
        linear_model().fit(x, y, validation_data=(x, y), validation_freq=0, verbose=0)


def test_evaluate_calls_test_callbacks():
    events = []

    class Recorder(callbacks.Callback):
        def on_test_begin(self, logs=None):
            events.append("begin")

        def on_test_batch_end(self, batch, logs=None):
            events.append(batch)

        def on_test_end(self, logs=None):
            events.append(("end", sorted(logs)))

    linear_model().evaluate(np.ones((25, 1)), np.ones((25, 1)), batch_size=10, verbose=0, callbacks=[Recorder()])
    assert events == ["begin", 0, 1, 2, ("end", ["loss", "mae"])]


def test_bad_weights_are_refused():
    model = linear_model()
    with pytest.raises(ValueError, match="sample_weight"):
        model.fit(np.ones((3, 1)), np.ones((3, 1)), sample_weight=[1.0, 2.0], verbose=0)
    with pytest.raises(ValueError, match="class_weight"):
        model.fit(np.ones((3, 1)), np.ones((3, 1)), class_weight=[1.0], verbose=0)
