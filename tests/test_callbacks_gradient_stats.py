"""GradientStats: per-epoch gradient norms, update ratios and dead-ReLU fractions in History."""
import json

import numpy as np
import pytest

import tinynet
from tinynet import Sequential
from tinynet.callbacks import GradientStats, History
from tinynet.plot import plot_gradient_stats
from tinynet.layers import Dense, ReLU


def data(n=64):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 6)).astype(np.float32)
    return x, tinynet.to_categorical((x[:, 0] > 0).astype(int), 2)


def model(optimizer="sgd"):
    m = Sequential([Dense(8, activation="relu", input_shape=(6,), name="h1"), Dense(8, name="h2"), ReLU(name="r"),
                    Dense(2, activation="softmax", name="out")])
    m.compile(optimizer, "categorical_crossentropy")
    return m


def test_keys_per_layer_and_json_friendly():
    x, y = data()
    history = model().fit(x, y, batch_size=16, epochs=3, verbose=0, callbacks=[GradientStats(every=1)])
    for stat in ("grad_norm", "update_ratio"):
        assert {k for k in history.history if k.startswith(stat)} == {f"{stat}/h1", f"{stat}/h2", f"{stat}/out"}
    assert {k for k in history.history if k.startswith("dead_relu")} == {"dead_relu/h1", "dead_relu/r"}
    assert all(len(v) == 3 and all(isinstance(e, float) for e in v) for v in history.history.values())
    assert History.from_json(history.to_json()).history == json.loads(json.dumps(history.history))


def test_values_match_a_hand_measurement_with_plain_sgd():
    # With SGD(lr) and one batch per epoch, the update is exactly lr * grad:
    # ratio = lr * ||grad|| / ||W_after||, and grad_norm is that batch's ||grad||.
    x, y = data(16)
    m = model(tinynet.optimizers.SGD(learning_rate=0.1))
    history = m.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False, callbacks=[GradientStats()])
    layer = m.layers[0]
    grad = np.sqrt(sum(np.sum(p.grad.astype(np.float64) ** 2) for p in layer.trainable_weights))
    weight = np.sqrt(sum(np.sum(p.data.astype(np.float64) ** 2) for p in layer.trainable_weights))
    assert history.history["grad_norm/h1"][0] == pytest.approx(grad, rel=1e-5)
    assert history.history["update_ratio/h1"][0] == pytest.approx(0.1 * grad / weight, rel=1e-3)
    assert 0 <= history.history["dead_relu/h1"][0] < 1


def test_a_dead_layer_is_reported_dead():
    x, y = data()
    m = model()
    m.layers[0].bias.data[:] = -100.0          # every pre-activation negative: all 8 units dead
    history = m.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[GradientStats()])
    assert history.history["dead_relu/h1"] == [1.0]
    # No gradient flows through dead units, so the layer does not move at all:
    assert history.history["grad_norm/h1"][0] == 0.0 and history.history["update_ratio/h1"][0] == 0.0
    assert history.history["grad_norm/out"][0] > 0


def test_every_must_be_positive():
    with pytest.raises(ValueError, match="every"):
        GradientStats(every=0)


def test_plot_gradient_stats(tmp_path):
    x, y = data()
    history = model().fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[GradientStats()])
    figure = plot_gradient_stats(history, path=tmp_path / "stats.png")
    assert [ax.get_title().split()[0] for ax in figure.axes] == ["gradient", "update", "dead"]
    assert len(figure.axes[0].get_lines()) == 3 and figure.axes[0].get_yscale() == "log"
    assert (tmp_path / "stats.png").stat().st_size > 5000
    with pytest.raises(ValueError, match="GradientStats"):
        plot_gradient_stats({"loss": [1.0]})
