"""Keras's optimizers and optimizer arguments: first steps against Keras's documented formulas, by hand.

Each test takes steps on one weight array with a fixed gradient and compares with the
formula written out (keras.io/api/optimizers/), as a Keras user would write the optimizer.
"""
import math

import numpy as np
import pytest

from tinynet import backend as K
from tinynet import optimizers
from tinynet.core.layers.base import Parameter


def steps(optimizer, gradients, w0=1.0):
    """Apply the optimizer to a one-entry weight, one gradient per step; the weight after each step."""
    p = Parameter(np.array([w0]), "w")
    out = []
    for g in gradients:
        p.grad = np.array([g], dtype=float)
        assert optimizer.apply([p])
        out.append(float(p.data[0]))
    return out


@pytest.mark.parametrize("impl", ["fast", "naive"])
def test_string_names(impl):
    for name, cls in [("nadam", optimizers.Nadam), ("adadelta", optimizers.Adadelta),
                      ("adagrad", optimizers.Adagrad), ("adamax", optimizers.Adamax), ("adamw", optimizers.AdamW),
                      ("Adam", optimizers.Adam), ("SGD", optimizers.SGD)]:
        assert type(optimizers.get(name)) is cls


def test_adagrad_first_steps():
    w = steps(optimizers.Adagrad(learning_rate=0.1), [0.5, 0.5])
    acc1 = 0.1 + 0.25                                               # initial_accumulator_value + g^2
    acc2 = acc1 + 0.25
    w1 = 1 - 0.1 * 0.5 / math.sqrt(acc1 + 1e-7)
    assert w == pytest.approx([w1, w1 - 0.1 * 0.5 / math.sqrt(acc2 + 1e-7)])


def test_adadelta_first_steps():
    rho, eps, lr, g = 0.95, 1e-7, 1.0, 0.5
    w = steps(optimizers.Adadelta(learning_rate=lr), [g, g])
    acc_g, acc_d, expected, w_now = 0.0, 0.0, [], 1.0
    for _ in range(2):
        acc_g = rho * acc_g + (1 - rho) * g * g
        delta = -math.sqrt(acc_d + eps) / math.sqrt(acc_g + eps) * g
        acc_d = rho * acc_d + (1 - rho) * delta * delta
        w_now += lr * delta
        expected.append(w_now)
    assert w == pytest.approx(expected)
    assert w[0] == pytest.approx(1 - math.sqrt(1e-7) / math.sqrt(0.0125 + 1e-7) * 0.5)


def test_adamax_first_steps():
    w = steps(optimizers.Adamax(learning_rate=0.1), [0.5, 0.5])
    # m1 = 0.05, u1 = 0.5: w1 = 1 - 0.1 / (1 - 0.9) * 0.05 / 0.5 = 0.9
    # m2 = 0.095, u2 = max(0.999 * 0.5, 0.5) = 0.5: w2 = 0.9 - 0.1 / (1 - 0.81) * 0.095 / 0.5 = 0.8
    assert w == pytest.approx([0.9, 0.8], abs=1e-6)


def test_nadam_first_step():
    lr, b1, b2, eps, g = 0.1, 0.9, 0.999, 1e-7, 0.5
    mu1 = b1 * (1 - 0.5 * 0.96 ** 0.004)
    mu2 = b1 * (1 - 0.5 * 0.96 ** 0.008)
    m, v = (1 - b1) * g, (1 - b2) * g * g
    m_hat = mu2 * m / (1 - mu1 * mu2) + (1 - mu1) * g / (1 - mu1)
    v_hat = v / (1 - b2)
    assert steps(optimizers.Nadam(learning_rate=lr), [g])[0] == pytest.approx(1 - lr * m_hat / (math.sqrt(v_hat) + eps))


def test_nadam_learns_a_quadratic():
    p = Parameter(np.array([3.0]), "w")
    opt = optimizers.Nadam(learning_rate=0.1)
    for _ in range(300):
        p.grad = 2 * p.data                                         # d/dw w^2
        opt.apply([p])
    assert abs(p.data[0]) < 0.05


@pytest.mark.parametrize("impl", ["fast", "naive"])
def test_adam_amsgrad_divides_by_the_largest_v(impl):
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-7
    w = steps(optimizers.Adam(learning_rate=lr, amsgrad=True, impl=impl), [1.0, 0.0])
    m1, v1 = 0.1, 0.001
    w1 = 1 - lr * math.sqrt(1 - b2) / (1 - b1) * m1 / (math.sqrt(v1) + eps)
    m2, v2 = 0.09, 0.999 * 0.001                                    # v shrinks, vhat keeps 0.001
    w2 = w1 - lr * math.sqrt(1 - b2 ** 2) / (1 - b1 ** 2) * m2 / (math.sqrt(v1) + eps)
    assert w == pytest.approx([w1, w2])
    plain = steps(optimizers.Adam(learning_rate=lr, impl=impl), [1.0, 0.0])
    assert plain[1] != pytest.approx(w2)                            # without amsgrad, sqrt(v2) is used


def test_adamw_decays_then_steps():
    lr, wd = 0.1, 0.5
    w = steps(optimizers.AdamW(learning_rate=lr, weight_decay=wd), [0.5])
    decayed = 1 - lr * wd * 1.0
    assert w[0] == pytest.approx(decayed - lr * math.sqrt(1 - 0.999) / (1 - 0.9) * 0.05 / (math.sqrt(0.00025) + 1e-7))


@pytest.mark.parametrize("impl", ["fast", "naive"])
def test_keras2_time_based_decay(impl):
    # Keras 2: lr_t = lr / (1 + decay * iterations), iterations counted before the step.
    w = steps(optimizers.SGD(lr=0.1, decay=0.5, impl=impl), [1.0, 1.0, 1.0])
    assert w == pytest.approx([1 - 0.1, 1 - 0.1 - 0.1 / 1.5, 1 - 0.1 - 0.1 / 1.5 - 0.1 / 2])
    assert optimizers.SGD(lr=0.1, decay=0.5).learning_rate == 0.1   # the base rate, as Keras 2 reports it


def test_clipnorm_clipvalue_global_clipnorm():
    a, b = Parameter(np.zeros(2), "a"), Parameter(np.zeros(1), "b")
    a.grad, b.grad = np.array([3.0, 4.0]), np.array([12.0])
    optimizers.SGD(learning_rate=1.0, clipnorm=1.0).apply([a, b])
    assert np.allclose(a.data, [-0.6, -0.8]) and np.allclose(b.data, [-1.0])   # each scaled to norm 1
    a.data, b.data = np.zeros(2), np.zeros(1)
    optimizers.SGD(learning_rate=1.0, global_clipnorm=1.0).apply([a, b])
    assert np.allclose(a.data, [-3 / 13, -4 / 13]) and np.allclose(b.data, [-12 / 13])  # joint norm 13
    a.data, b.data = np.zeros(2), np.zeros(1)
    optimizers.SGD(learning_rate=1.0, clipvalue=3.5).apply([a, b])
    assert np.allclose(a.data, [-3.0, -3.5]) and np.allclose(b.data, [-3.5])
    a.data = np.zeros(2)
    a.grad = np.array([0.3, 0.4])                                    # norm 0.5 < clipnorm: unchanged
    optimizers.SGD(learning_rate=1.0, clipnorm=1.0).apply([a])
    assert np.allclose(a.data, [-0.3, -0.4])


def test_schedule_as_learning_rate():
    schedule = optimizers.schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    opt = optimizers.SGD(learning_rate=schedule)
    assert opt.learning_rate == pytest.approx(0.1)                  # schedule(0) before the first step
    w = steps(opt, [1.0, 1.0, 1.0])
    assert w == pytest.approx([0.9, 0.85, 0.825])                   # steps of 0.1, 0.05, 0.025
    assert opt.learning_rate == pytest.approx(0.0125)
    piecewise = optimizers.schedules.PiecewiseConstantDecay([1], [0.1, 0.01])
    assert steps(optimizers.Adam(learning_rate=piecewise), [1.0, 1.0, 1.0])[2] < 1


def test_k_set_value_on_the_learning_rate():
    opt = optimizers.RMSprop(lr=0.001)
    K.set_value(opt.lr, 0.0005)
    assert K.get_value(opt.lr) == pytest.approx(0.0005) and opt.learning_rate == pytest.approx(0.0005)
    opt.learning_rate.assign(0.25)
    assert opt.lr == 0.25


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="clipnorm"):
        optimizers.SGD(clipnorm=-1)
    with pytest.raises(ValueError, match="not both"):
        optimizers.SGD(clipnorm=1.0, global_clipnorm=1.0)
    with pytest.raises(ValueError, match="learning_rate"):
        optimizers.Adam(learning_rate="fast")
    with pytest.raises(ValueError, match="amsgrad"):
        optimizers.Adam(amsgrad="yes")


def test_a_model_with_a_schedule_saves_and_loads(tmp_path):
    from tinynet import layers, models
    schedule = optimizers.schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5, staircase=True)
    model = models.Sequential([layers.Dense(2, input_shape=(3,))])
    model.compile(optimizer=optimizers.SGD(learning_rate=schedule), loss="mse")
    model.fit(np.ones((4, 3)), np.ones((4, 2)), batch_size=2, epochs=2, verbose=0)   # 4 steps
    model.save(tmp_path / "m.npz")
    again = tinynet_load(tmp_path / "m.npz")
    assert again.optimizer.iterations == 4
    assert again.optimizer.learning_rate == pytest.approx(0.1 * 0.5 ** 2)


def tinynet_load(path):
    import tinynet
    return tinynet.load_model(path)
