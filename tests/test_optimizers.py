"""Optimizer steps against values computed by hand from the documented update rules; the step as a
transaction; the fast twins against the rules they stand for."""
import math

import numpy as np
import pytest

from tinynet import optimizers
from tinynet.core.optimizers.optimizer import FAST_RULES, FAST_STEPS
from tinynet.fast import optimizers as fast_rules
from tinynet.layers import Parameter

IMPLS = pytest.mark.parametrize("impl", ["fast", "naive"])


def run(optimizer, gradients, w0=1.0):
    """The weight after each step of ``optimizer`` on a one-element parameter."""
    p = Parameter(np.array([w0], dtype=np.float64), "w")
    values = []
    for g in gradients:
        p.grad = np.array([g], dtype=np.float64)
        assert optimizer.apply([p])
        values.append(float(p.data[0]))
    return values


GRADS = [0.5, -1.0, 2.0]


@IMPLS
def test_sgd_plain(impl):
    assert run(optimizers.SGD(0.1, impl=impl), GRADS) == pytest.approx([0.95, 1.05, 0.85])


@IMPLS
def test_sgd_momentum(impl):
    # v1 = -0.05; w = 0.95. v2 = 0.9*-0.05 + 0.1 = 0.055; w = 1.005. v3 = 0.0495 - 0.2 = -0.1505; w = 0.8545
    assert run(optimizers.SGD(0.1, momentum=0.9, impl=impl), GRADS) == pytest.approx([0.95, 1.005, 0.8545])


@IMPLS
def test_sgd_nesterov(impl):
    # w += m*v - lr*g:  step1: v=-0.05, w = 1 - 0.045 - 0.05 = 0.905
    # step2: v = -0.045 + 0.1 = 0.055, w = 0.905 + 0.0495 + 0.1 = 1.0545
    # step3: v = 0.0495 - 0.2 = -0.1505, w = 1.0545 - 0.13545 - 0.2 = 0.71905
    assert run(optimizers.SGD(0.1, momentum=0.9, nesterov=True, impl=impl), GRADS) == pytest.approx(
        [0.905, 1.0545, 0.71905])


@IMPLS
def test_rmsprop(impl):
    lr, rho, eps = 0.01, 0.9, 1e-2   # an epsilon large enough to show where it sits
    w, s, expected = 1.0, 0.0, []
    for g in GRADS:
        s = rho * s + (1 - rho) * g * g
        w -= lr * g / math.sqrt(s + eps)
        expected.append(w)
    assert run(optimizers.RMSprop(lr, rho=rho, epsilon=eps, impl=impl), GRADS) == pytest.approx(expected, rel=1e-12)
    # First step by hand: s = 0.1 * 0.25 = 0.025, step = 0.01 * 0.5 / sqrt(0.035) = 0.02673
    assert expected[0] == pytest.approx(1 - 0.01 * 0.5 / math.sqrt(0.035), rel=1e-12)


@IMPLS
def test_rmsprop_puts_epsilon_inside_the_square_root_as_keras_3_does(impl):
    # A gradient of 1e-4: velocity = 0.1 * 1e-8 = 1e-9, far below epsilon = 1e-7.
    step = 1 - run(optimizers.RMSprop(0.01, impl=impl), [1e-4])[0]
    assert step == pytest.approx(0.01 * 1e-4 / math.sqrt(1e-9 + 1e-7), rel=1e-9)       # 3.1e-3
    assert step < 0.01 * 1e-4 / (math.sqrt(1e-9) + 1e-7) / 9                           # Keras 2's 3.2e-2


@IMPLS
def test_rmsprop_as_in_kerass_docstring(impl):
    # keras.optimizers.RMSprop(learning_rate=0.1); var1 = 10.0; loss = var1 ** 2 / 2; minimize -> 9.683772
    var1 = Parameter(np.array(10.0, np.float32), "var1")
    var1.grad = var1.data.copy()
    assert optimizers.RMSprop(learning_rate=0.1, impl=impl).apply([var1])
    assert var1.data.dtype == np.float32 and float(var1.data) == pytest.approx(9.683772, abs=1e-6)


@IMPLS
def test_adam(impl):
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7
    w, m, v, expected = 1.0, 0.0, 0.0, []
    for t, g in enumerate(GRADS, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w -= lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (math.sqrt(v) + eps)
        expected.append(w)
    assert run(optimizers.Adam(lr, impl=impl), GRADS) == pytest.approx(expected, rel=1e-12)
    # Adam's first step has size ~lr whatever the gradient's scale: m_hat / sqrt(v_hat) = sign(g).
    assert expected[0] == pytest.approx(1 - lr, rel=1e-4)


def test_keras2_lr_alias_and_defaults():
    assert optimizers.Adam(lr=1e-4).learning_rate == 1e-4
    assert optimizers.RMSprop(lr=0.001, rho=0.9, epsilon=1e-06).epsilon == 1e-6
    assert optimizers.get("sgd").learning_rate == 0.01
    assert optimizers.get("rmsprop").learning_rate == 0.001
    adam = optimizers.get("adam")
    assert (adam.learning_rate, adam.beta_1, adam.beta_2, adam.epsilon) == (0.001, 0.9, 0.999, 1e-7)
    adam.lr = 0.5
    assert adam.learning_rate == 0.5


def test_state_is_per_parameter():
    opt = optimizers.Adam(0.1)
    a, b = Parameter(np.zeros(2), "a"), Parameter(np.zeros(3), "b")
    a.grad, b.grad = np.ones(2), -np.ones(3)
    opt.apply([a, b])
    assert opt.state[a]["m"].shape == (2,) and opt.state[b]["v"].shape == (3,)
    assert np.all(a.data < 0) and np.all(b.data > 0)


@pytest.mark.parametrize("make", [lambda: optimizers.SGD(0), lambda: optimizers.Adam(lr=-1),
                                  lambda: optimizers.SGD(momentum=1.5), lambda: optimizers.get("adamq")])
def test_bad_settings(make):
    with pytest.raises(ValueError):
        make()


EIGHT = [lambda impl: optimizers.SGD(0.1, momentum=0.9, impl=impl), lambda impl: optimizers.RMSprop(0.01, impl=impl),
         lambda impl: optimizers.Adam(0.01, impl=impl), lambda impl: optimizers.AdamW(0.01, impl=impl),
         lambda impl: optimizers.Adagrad(0.1, impl=impl), lambda impl: optimizers.Adadelta(1.0, impl=impl),
         lambda impl: optimizers.Adamax(0.01, impl=impl), lambda impl: optimizers.Nadam(0.01, impl=impl)]


@IMPLS
@pytest.mark.parametrize("make", EIGHT)
def test_a_step_that_would_make_a_weight_non_finite_changes_no_weight(make, impl):
    optimizer = make(impl)
    a, b = Parameter(np.array([1.0, 2.0]), "a"), Parameter(np.array([3.0]), "b")
    a.grad, b.grad = np.array([0.5, -0.5]), np.array([0.5])
    assert optimizer.apply([a, b]) is True and optimizer.iterations == 1
    after_one = [a.data.copy(), b.data.copy()] + [s.copy() for p in (a, b) for s in optimizer.state[p].values()]
    a.grad, b.grad = np.array([0.5, -0.5]), np.array([np.nan])  # a would update fine, b would not
    with np.errstate(invalid="ignore"):
        assert optimizer.apply([a, b]) is False
    now = [a.data, b.data] + [s for p in (a, b) for s in optimizer.state[p].values()]
    for before, after in zip(after_one, now):
        np.testing.assert_array_equal(after, before)
    assert optimizer.iterations == 1


@IMPLS
def test_an_update_that_raises_half_way_changes_nothing(impl, monkeypatch):
    optimizer = optimizers.Adam(0.1, impl=impl)
    a, b = Parameter(np.array([1.0, 2.0]), "a"), Parameter(np.array([3.0]), "b")
    a.grad, b.grad = np.ones(2), np.ones(1)
    rule = optimizer.update if impl == "naive" else FAST_RULES[optimizers.Adam]

    def fail_on_b(*args, **kwargs):
        if args[-3].shape == (1,):   # w, whether called as update(w, g, lr) or fast(optimizer, w, g, lr)
            raise KeyboardInterrupt
        return rule(*args, **kwargs)

    if impl == "naive":
        monkeypatch.setattr(optimizer, "update", fail_on_b)
    else:  # the rule's twin parameter by parameter (the whole-step twin: tests/test_optimizer_step.py)
        monkeypatch.delitem(FAST_STEPS, optimizers.Adam)
        monkeypatch.setitem(FAST_RULES, optimizers.Adam, fail_on_b)
    with pytest.raises(KeyboardInterrupt):
        optimizer.apply([a, b])
    np.testing.assert_array_equal(a.data, [1.0, 2.0])  # a's new weights were computed, never committed
    np.testing.assert_array_equal(b.data, [3.0])
    assert optimizer.iterations == 0 and optimizer.state == {}


def test_a_refused_step_keeps_the_state_and_the_state_updates():
    optimizer = optimizers.Adam(0.1)
    w, moving = Parameter(np.array([1.0, 2.0]), "w"), Parameter(np.array([0.5]), "moving", trainable=False)
    w.grad = np.array([1.0, -1.0])
    assert optimizer.apply([w], [(moving, np.array([0.25]))])
    assert moving.data.tolist() == [0.25]
    state = {key: value.copy() for key, value in optimizer.state[w].items()}
    w.grad = np.array([1e200, -1.0])    # v = g^2 overflows to inf, m / sqrt(v) = 0: the weights alone look fine
    with np.errstate(over="ignore"):
        assert optimizer.apply([w], [(moving, np.array([0.75]))]) is False
    assert moving.data.tolist() == [0.25] and optimizer.iterations == 1
    for key in state:
        np.testing.assert_array_equal(optimizer.state[w][key], state[key])
    w.grad = np.array([1.0, 1.0])
    assert optimizer.apply([w], [(moving, np.array([np.nan]))]) is False  # a non-finite moving statistic
    assert moving.data.tolist() == [0.25] and optimizer.iterations == 1


def test_state_uses_kerass_names_and_init_state():
    p = Parameter(np.zeros((2, 3), np.float32), "p")
    assert sorted(optimizers.Adam().init_state(p)) == ["m", "v"]
    assert sorted(optimizers.Adam(amsgrad=True).init_state(p)) == ["m", "v", "vhat"]
    assert sorted(optimizers.RMSprop().init_state(p)) == ["velocity"]
    assert sorted(optimizers.SGD(momentum=0.9).init_state(p)) == ["momentum"]
    assert optimizers.SGD().init_state(p) == {}
    assert optimizers.Adam().init_state(p)["m"].dtype == np.float32
    np.testing.assert_array_equal(optimizers.Adagrad(initial_accumulator_value=0.3).init_state(p)["accumulator"],
                                  np.full((2, 3), 0.3, np.float32))


def test_load_state_converts_the_previous_versions_files():
    adam = optimizers.Adam(beta_1=0.8, beta_2=0.99)
    p = Parameter(np.zeros(2), "p")
    adam.load_state(p, {"m_sum": np.array([1.0, -2.0]), "v_sum": np.array([1.0, 3.0])})
    np.testing.assert_allclose(adam.state[p]["m"], [0.2, -0.4])     # m = m_sum * (1 - 0.8)
    np.testing.assert_allclose(adam.state[p]["v"], [0.01, 0.03])    # v = v_sum * (1 - 0.99)
    adam.load_state(p, {"m": np.array([0.2, -0.4]), "v": np.array([0.01, 0.03])})   # older files: as is
    np.testing.assert_array_equal(adam.state[p]["m"], [0.2, -0.4])
    rms, sgd = optimizers.RMSprop(), optimizers.SGD(momentum=0.9)
    rms.load_state(p, {"mean_square": np.array([1.0, 2.0])})
    sgd.load_state(p, {"velocity": np.array([1.0, 2.0])})
    assert list(rms.state[p]) == ["velocity"] and list(sgd.state[p]) == ["momentum"]


@pytest.mark.parametrize("arrays, message", [
    ({"m": np.zeros(2)}, r"holds \['m'\], but Adam keeps \['m', 'v'\]"),
    ({"m": np.zeros(3), "v": np.zeros(3)}, r"'m' of 'p' has shape \(3,\)"),
    ({"m": np.zeros(2), "v": np.array([0.1, np.nan])}, "NaN or infinite"),
    ({"m": np.zeros(2), "v": np.array([0.1, -0.1])}, "'v' of 'p' has negative values"),
    ({"m": np.array(["a", "b"]), "v": np.zeros(2)}, "expected floats"),
])
def test_load_state_refuses_impossible_state_and_installs_nothing(arrays, message):
    adam = optimizers.Adam()
    p = Parameter(np.zeros(2), "p")
    with pytest.raises(ValueError, match=message):
        adam.load_state(p, arrays)
    assert p not in adam.state


def test_rmsprop_refuses_a_negative_velocity():
    with pytest.raises(ValueError, match="negative"):
        optimizers.RMSprop().load_state(Parameter(np.zeros(1), "p"), {"velocity": np.array([-1.0])})


def test_no_module_level_buffer_keeps_memory_alive():
    assert not hasattr(optimizers, "_ones")
    optimizer = optimizers.SGD(0.1)
    p = Parameter(np.zeros(10), "p")
    p.grad = np.ones(10)
    optimizer.apply([p])
    assert optimizer.state == {p: {}}   # plain SGD keeps nothing per parameter


def test_impl_is_checked():
    with pytest.raises(ValueError, match="impl"):
        optimizers.Adam(impl="turbo")


@IMPLS
@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_adams_check_of_w_and_v_catches_a_non_finite_m(impl, bad):
    """Adam's commit test reads only w and v: a non-finite m must show in w (v stays finite here)."""
    adam = optimizers.Adam(0.1, impl=impl)
    p = Parameter(np.array([1.0, 2.0, 3.0]), "p")
    p.grad = np.array([0.1, 0.2, 0.3])
    assert adam.apply([p])
    state = {key: value.copy() for key, value in adam.state[p].items()}
    adam.state[p]["m"][1] = bad                  # as if m had gone bad while v had not
    with np.errstate(invalid="ignore", over="ignore"):
        new_w, new_state = adam.update(p.data, p.grad, 0.1, **adam.state[p])
        assert np.isfinite(new_state["v"]).all() and not np.isfinite(new_state["m"]).all()
        assert not adam.finite(new_w, new_state)
        assert adam.apply([p]) is False
    np.testing.assert_array_equal(adam.state[p]["v"], state["v"])


# ----- the fast twins --------------------------------------------------------------------------
TWINNED = [lambda impl: optimizers.SGD(0.05, impl=impl),
           lambda impl: optimizers.SGD(0.05, momentum=0.8, impl=impl),
           lambda impl: optimizers.SGD(0.05, momentum=0.8, nesterov=True, impl=impl),
           lambda impl: optimizers.RMSprop(0.01, rho=0.8, impl=impl),
           lambda impl: optimizers.Adam(0.01, beta_1=0.7, beta_2=0.9, impl=impl),
           lambda impl: optimizers.Adam(0.01, amsgrad=True, impl=impl)]


@pytest.mark.parametrize("make", TWINNED)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fast_twins_are_bit_identical_to_the_rules(make, dtype):
    """The twins run the rule's operations in the rule's order, a block at a time, into recycled
    arrays: the same numbers to the last bit. The first parameter spans two blocks, the second is
    a transposed (not C-contiguous) array."""
    results = {}
    for impl in ("fast", "naive"):
        optimizer = make(impl)
        p = Parameter(np.ones((300, 300), dtype), "p")
        q = Parameter(np.zeros((7, 5), dtype).T, "q")
        for step in range(6):
            grads = np.random.default_rng(step)
            p.grad = grads.standard_normal((300, 300)).astype(dtype)
            q.grad = grads.standard_normal((5, 7)).astype(dtype)
            before = p.data
            assert optimizer.apply([p, q])
            assert p.data.dtype == dtype and not np.shares_memory(p.data, before)
        results[impl] = [p.data, q.data] + [a for param in (p, q) for a in optimizer.state[param].values()]
    for fast, naive in zip(results["fast"], results["naive"]):
        np.testing.assert_array_equal(fast, naive)


def test_the_fast_twins_registered_are_sgds_rmsprops_and_adams():
    assert set(FAST_RULES) == {optimizers.SGD, optimizers.RMSprop, optimizers.Adam}
    assert FAST_RULES[optimizers.Adam] is fast_rules.adam_update


def test_a_subclass_with_its_own_rule_runs_its_rule_not_the_parents_twin():
    class HalfAdam(optimizers.Adam):
        def update(self, w, g, lr, **state):
            return super().update(w, g, lr / 2, **state)

    p, q = Parameter(np.ones(3), "p"), Parameter(np.ones(3), "q")
    p.grad = q.grad = np.array([0.1, -0.2, 0.3])
    assert HalfAdam(0.1).apply([p]) and optimizers.Adam(0.05).apply([q])
    np.testing.assert_array_equal(p.data, q.data)


def test_a_fast_step_writes_into_the_arrays_the_step_before_replaced():
    """Double buffering: the commit swaps references, and the next step writes over the old arrays."""
    adam = optimizers.Adam(0.01)
    p = Parameter(np.ones(4), "p")
    p.grad = np.full(4, 0.5)
    seen = []
    for _ in range(4):
        assert adam.apply([p])
        seen.append((id(p.data), id(adam.state[p]["m"])))
    assert seen[2] == seen[0] and seen[3] == seen[1] and seen[0] != seen[1]


def test_fast_twin_leaves_its_inputs_alone():
    adam = optimizers.Adam(0.1)
    w, g, m, v = np.ones(4), np.full(4, 0.5), np.full(4, 0.1), np.full(4, 0.2)
    copies = [a.copy() for a in (w, g, m, v)]
    new_w, state, finite = fast_rules.adam_update(adam, w, g, 0.1, m, v)
    expected_w, expected_state = adam.update(w, g, 0.1, m, v)
    for a, b in zip((w, g, m, v), copies):
        np.testing.assert_array_equal(a, b)
    assert finite
    np.testing.assert_array_equal(new_w, expected_w)
    np.testing.assert_array_equal(state["v"], expected_state["v"])


@pytest.mark.parametrize("position", [0, 70000, 130000])
def test_the_fast_twins_find_a_non_finite_value_in_any_block(position):
    adam = optimizers.Adam(0.01)
    p = Parameter(np.ones(140000, np.float32), "p")
    p.grad = np.full(140000, 0.5, np.float32)
    p.grad[position] = np.inf
    with np.errstate(invalid="ignore"):
        assert adam.apply([p]) is False
    np.testing.assert_array_equal(p.data, 1.0)


def test_large_finite_values_are_not_taken_for_overflow():
    """The block check's dot product overflows for values near float32's limit: each value is then looked at."""
    adam = optimizers.Adam(0.01)
    p = Parameter(np.full(10, 1e30, np.float32), "p")
    p.grad = np.full(10, 1e18, np.float32)   # v = 1e-3 * 1e36; w . v = 10 * 1e30 * 1e33 = inf
    with np.errstate(over="ignore"):
        assert adam.apply([p]) is True
    assert np.isfinite(p.data).all()
