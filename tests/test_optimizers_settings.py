"""Every optimizer's settings change its step as Keras's formulas say, and nothing else changes it:
decay, every argument, a setting changed between steps, the weights' dtype, huge step counts,
schedules that overflow, and resuming from a file."""
import inspect
import time

import numpy as np
import pytest

import tinynet
from tinynet import TrainingDivergedError, layers, optimizers
from tinynet.core.optimizers import more, schedules
from tinynet.layers import Parameter
from tinynet.models import Sequential

EIGHT = {"sgd": optimizers.SGD, "rmsprop": optimizers.RMSprop, "adam": optimizers.Adam, "adamw": optimizers.AdamW,
         "adagrad": optimizers.Adagrad, "adadelta": optimizers.Adadelta, "adamax": optimizers.Adamax,
         "nadam": optimizers.Nadam}
BASE = {"sgd": {"momentum": 0.9}}   # so that SGD's momentum and nesterov have something to act on
IMPLS = pytest.mark.parametrize("impl", ["fast", "naive"])
GRADIENTS = [np.array([1.0, -0.5, 0.25, 2.0]) * scale for scale in (1.0, 0.01, -0.3, 0.05)]


def steps(optimizer, n=len(GRADIENTS), dtype=np.float64, before_step=None):
    """Two parameters after ``n`` steps along GRADIENTS; ``before_step(i)`` runs before step i."""
    p = Parameter(np.array([1.0, 2.0, -1.0, 0.5], dtype), "p")
    q = Parameter(np.array([[0.3, -0.2], [0.1, 0.0]], dtype), "q")
    for i in range(n):
        if before_step:
            before_step(i)
        p.grad = GRADIENTS[i].astype(dtype)
        q.grad = (GRADIENTS[i][::-1].reshape(2, 2) * 2).astype(dtype)
        assert optimizer.apply([p, q])
    return p, q


def values(optimizer, p, q):
    return [p.data, q.data] + [a for param in (p, q) for _, a in sorted(optimizer.state[param].items())]


def assert_same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


# ----- decay ---------------------------------------------------------------------------------
@IMPLS
@pytest.mark.parametrize("name", EIGHT)
def test_decay_is_kerass_time_based_decay_for_all_eight(name, impl):
    """With decay, step i uses lr / (1 + decay * i): exactly what the same optimizer without decay does
    when its learning rate is set to that before each step (Keras 2's formula, iterations counted
    before the step)."""
    cls, base = EIGHT[name], BASE.get(name, {})
    decayed = cls(learning_rate=0.1, decay=0.5, impl=impl, **base)
    by_hand = cls(learning_rate=0.1, impl=impl, **base)
    plain = cls(learning_rate=0.1, impl=impl, **base)

    def set_rate(i):
        by_hand.learning_rate = 0.1 / (1 + 0.5 * i)

    with_decay = values(decayed, *steps(decayed))
    assert_same(with_decay, values(by_hand, *steps(by_hand, before_step=set_rate)))
    assert not np.array_equal(with_decay[0], values(plain, *steps(plain))[0])
    assert decayed.learning_rate == 0.1   # the base rate, as Keras 2 reports it


@pytest.mark.parametrize("name", EIGHT)
def test_decay_divides_a_schedules_rate_too(name):
    cls, base = EIGHT[name], BASE.get(name, {})
    schedule = schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    decayed = cls(learning_rate=schedule, decay=0.25, **base)
    by_hand = cls(learning_rate=0.1, **base)

    def set_rate(i):
        by_hand.learning_rate = schedule(i) / (1 + 0.25 * i)

    assert_same(values(decayed, *steps(decayed)), values(by_hand, *steps(by_hand, before_step=set_rate)))


# ----- every argument --------------------------------------------------------------------------
VALUES = {"learning_rate": (0.01, 0.1), "momentum": (0.5, 0.9), "nesterov": (False, True), "decay": (0.0, 0.5),
          "clipnorm": (None, 0.1), "clipvalue": (None, 0.05), "global_clipnorm": (None, 0.1), "rho": (0.9, 0.5),
          "epsilon": (1e-7, 0.5), "beta_1": (0.9, 0.5), "beta_2": (0.999, 0.5), "amsgrad": (False, True),
          "weight_decay": (0.004, 0.5), "initial_accumulator_value": (0.1, 1.0)}
NOT_SETTINGS = {"self", "lr", "name", "impl", "kwargs"}
AROUND_THE_RULE = ("decay", "clipnorm", "clipvalue", "global_clipnorm", "weight_decay")


def arguments(cls):
    own = [name for name in inspect.signature(cls).parameters if name not in NOT_SETTINGS]
    return own + [name for name in AROUND_THE_RULE if name not in own]


CASES = [(name, argument) for name, cls in EIGHT.items() for argument in arguments(cls)]


def test_every_argument_of_every_optimizer_is_in_the_table():
    assert {argument for _, argument in CASES} <= set(VALUES)


@IMPLS
@pytest.mark.parametrize("name, argument", CASES)
def test_every_argument_changes_the_step(name, argument, impl):
    cls = EIGHT[name]
    weights = [steps(cls(**{**BASE.get(name, {}), argument: value, "impl": impl})) for value in VALUES[argument]]
    (p, q), (r, s) = weights
    assert not (np.array_equal(p.data, r.data) and np.array_equal(q.data, s.data))


@IMPLS
@pytest.mark.parametrize("name, argument", CASES)
def test_a_setting_changed_between_steps_counts_from_the_next_step(name, argument, impl):
    """Two steps with one value, then the attribute set to the other, then a step: the same as an
    optimizer made with the other value, given the first one's weights, state and step count -- and,
    for Nadam, the product of its momentum schedule so far, which Keras keeps as state: the past
    factors keep the beta_1 they were taken with (test_nadam_uses_a_beta_1_changed_between_steps)."""
    cls, base = EIGHT[name], BASE.get(name, {})
    a, b = VALUES[argument]
    first = cls(**{**base, argument: a, "impl": impl})
    p, q = steps(first, n=2)
    setattr(first, argument, b)
    p.grad, q.grad = np.array([0.2, 0.1, -0.4, 0.3]), np.array([[0.5, -0.1], [0.0, 0.2]])
    assert first.apply([p, q])

    old = cls(**{**base, argument: a, "impl": impl})
    r, s = steps(old, n=2)
    second = cls(**{**base, argument: b, "impl": impl})
    second.state = {param: {key: array.copy() for key, array in old.state[param].items()} for param in (r, s)}
    second.iterations = 2
    if name == "nadam":
        second._products = dict(old._products)
    r.grad, s.grad = np.array([0.2, 0.1, -0.4, 0.3]), np.array([[0.5, -0.1], [0.0, 0.2]])
    assert second.apply([r, s])
    assert_same(values(first, p, q), values(second, r, s))


# ----- dtypes ----------------------------------------------------------------------------------
@IMPLS
@pytest.mark.parametrize("name", EIGHT)
def test_float32_weights_and_state_stay_float32(name, impl):
    schedule = schedules.InverseTimeDecay(0.01, decay_steps=1, decay_rate=0.5)
    for learning_rate in (0.01, np.float64(0.01), schedule):
        optimizer = EIGHT[name](learning_rate=learning_rate, decay=0.1, impl=impl, **BASE.get(name, {}))
        p, q = steps(optimizer, dtype=np.float32)
        assert {a.dtype for a in values(optimizer, p, q)} == {np.dtype(np.float32)}, learning_rate


def test_a_rule_that_computes_in_float64_still_leaves_float32_weights():
    """Keras's assign keeps a variable's dtype; so does the commit, whatever a user's rule returns."""
    class Float64SGD(optimizers.SGD):
        def update(self, w, g, lr, **state):
            return w.astype(np.float64) - np.float64(lr) * g, {}

    p, q = steps(Float64SGD(0.1), dtype=np.float32)
    assert p.data.dtype == q.data.dtype == np.float32


# ----- Nadam's momentum product ----------------------------------------------------------------
def nadam_by_hand(beta_1s, gradients, lr=0.1, beta_2=0.999, epsilon=1e-7):
    """One weight through Nadam's formula, with beta_1s[t - 1] the beta_1 of step t: the product of the
    mu_i keeps each factor with the beta_1 of its own step (Keras keeps it as a variable multiplied by
    mu_t at each step); mu_{t+1} in step t is taken with step t's beta_1."""
    w, m, v, product = 1.0, 0.0, 0.0, 1.0
    for t, (beta_1, g) in enumerate(zip(beta_1s, gradients), start=1):
        mu = lambda i: beta_1 * (1 - 0.5 * 0.96 ** (0.004 * i))  # noqa: E731
        product *= mu(t)
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g * g
        m_hat = mu(t + 1) * m / (1 - product * mu(t + 1)) + (1 - mu(t)) * g / (1 - product)
        w -= lr * m_hat / (np.sqrt(v / (1 - beta_2 ** t)) + epsilon)
    return w


def test_nadam_uses_a_beta_1_changed_between_steps():
    nadam = optimizers.Nadam(learning_rate=0.1, beta_1=0.9)
    p = Parameter(np.array([1.0]), "w")
    for t, g in enumerate([0.5, -0.25, 1.0, 0.125], start=1):
        if t == 3:
            nadam.beta_1 = 0.5
        p.grad = np.array([g])
        assert nadam.apply([p])
    assert p.data[0] == pytest.approx(nadam_by_hand([0.9, 0.9, 0.5, 0.5], [0.5, -0.25, 1.0, 0.125]), rel=1e-12)
    assert p.data[0] != pytest.approx(nadam_by_hand([0.9] * 4, [0.5, -0.25, 1.0, 0.125]), rel=1e-6)
    # The past factors keep their beta_1: the product over the current beta_1 alone steps elsewhere.
    w, m, v = 1.0, 0.0, 0.0
    for t, g in enumerate([0.5, -0.25, 1.0, 0.125], start=1):
        beta_1 = 0.9 if t < 3 else 0.5
        mu = [beta_1 * (1 - 0.5 * 0.96 ** (0.004 * i)) for i in range(1, t + 2)]
        m = beta_1 * m + (1 - beta_1) * g
        v = 0.999 * v + 0.001 * g * g
        w -= 0.1 * (mu[t] * m / (1 - np.prod(mu)) + (1 - mu[t - 1]) * g / (1 - np.prod(mu[:t]))) / \
            (np.sqrt(v / (1 - 0.999 ** t)) + 1e-7)
    assert p.data[0] != pytest.approx(w, rel=1e-9)


def test_nadams_product_is_not_advanced_by_a_step_that_was_not_taken():
    nadam = optimizers.Nadam(learning_rate=0.1, beta_1=0.9)
    p = Parameter(np.array([1.0]), "w")
    for t, g in enumerate([0.5, -0.25, np.inf, 1.0, 0.125], start=1):
        p.grad = np.array([g])
        assert nadam.apply([p]) == np.isfinite(g)   # the infinite gradient's step is refused
    assert nadam.iterations == 4
    assert p.data[0] == pytest.approx(nadam_by_hand([0.9] * 4, [0.5, -0.25, 1.0, 0.125]), rel=1e-12)


def test_nadams_momentum_product_is_the_product_of_its_schedule():
    for beta_1 in (0.9, 0.5, 0.999):
        product = 1.0
        for t in range(1, 400):
            product *= beta_1 * (1 - 0.5 * 0.96 ** (0.004 * t))
            assert 1 - more.mu_product(beta_1, t) == 1 - product, (beta_1, t)


@pytest.mark.parametrize("iterations", [3 * 10 ** 7, 2 ** 62])
def test_nadam_takes_a_step_at_a_huge_step_count_at_once(iterations):
    nadam = optimizers.Nadam(learning_rate=0.1)
    nadam.iterations = iterations
    p = Parameter(np.array([1.0, -2.0], np.float32), "p")
    p.grad = np.array([0.5, 0.25], np.float32)
    start = time.perf_counter()
    assert nadam.apply([p])
    assert time.perf_counter() - start < 0.5
    # At such t, 0.96^(0.004 t) = 0: mu = beta_1, both products 0, v_hat = v.
    g = np.array([0.5, 0.25])
    m, v = 0.1 * g, 0.001 * g * g
    m_hat = 0.9 * m + 0.1 * g
    np.testing.assert_allclose(p.data, np.array([1.0, -2.0]) - 0.1 * m_hat / (np.sqrt(v) + 1e-7), rtol=1e-6)


# ----- schedules that overflow -----------------------------------------------------------------
def test_an_exponential_decay_that_overflows_stops_fit_with_training_diverged():
    tinynet.set_random_seed(0)
    model = Sequential([layers.Dense(2, input_shape=(3,))])
    schedule = schedules.ExponentialDecay(0.01, decay_steps=1, decay_rate=10)
    model.compile(optimizers.SGD(learning_rate=schedule), loss="mse")
    model.optimizer.iterations = 400          # 0.01 * 10**400: past the largest float
    before = model.get_weights()
    with pytest.raises(TrainingDivergedError):
        model.fit(np.ones((4, 3), np.float32), np.ones((4, 2), np.float32), epochs=1, verbose=0)
    assert_same(model.get_weights(), before)
    assert model.optimizer.iterations == 400


# ----- resuming from a file --------------------------------------------------------------------
@pytest.mark.parametrize("name", EIGHT)
def test_resuming_from_a_file_is_bit_identical_to_training_straight_through(name, tmp_path):
    x = np.random.default_rng(0).standard_normal((32, 5)).astype(np.float32)
    y = np.random.default_rng(1).standard_normal((32, 3)).astype(np.float32)

    def model():
        tinynet.set_random_seed(0)
        net = Sequential([layers.Dense(4, activation="tanh", input_shape=(5,)), layers.Dense(3)])
        net.compile(EIGHT[name](learning_rate=0.01, **BASE.get(name, {})), loss="mse")
        return net

    straight = model()
    straight.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    first = model()
    first.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    first.save(tmp_path / "half.npz")
    resumed = tinynet.load_model(tmp_path / "half.npz")
    resumed.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    assert resumed.optimizer.iterations == straight.optimizer.iterations == 8
    assert_same(resumed.get_weights(), straight.get_weights())
    assert {w.dtype for w in resumed.get_weights()} == {np.dtype(np.float32)}
