"""The whole-step twin (``tinynet/fast/optimizer_step.py``: every parameter in flat buffers) against the
rules as written (``impl='naive'``) and against the twin parameter by parameter: the same numbers, bit
for bit, and the same transaction."""
import numpy as np
import pytest

import tinynet
from tinynet import layers, optimizers
from tinynet.core.optimizers.optimizer import FAST_STEPS
from tinynet.fast import optimizer_step
from tinynet.layers import Parameter
from tinynet.models import Sequential

RULES = {
    "sgd": lambda impl: optimizers.SGD(0.05, impl=impl),
    "momentum": lambda impl: optimizers.SGD(0.05, momentum=0.9, impl=impl),
    "nesterov": lambda impl: optimizers.SGD(0.05, momentum=0.9, nesterov=True, impl=impl),
    "rmsprop": lambda impl: optimizers.RMSprop(0.01, impl=impl),
    "adam": lambda impl: optimizers.Adam(0.01, impl=impl),
    "amsgrad": lambda impl: optimizers.Adam(0.01, amsgrad=True, impl=impl),
}
# More values than one block of the twin, and sizes that leave padding between parameters.
SHAPES = [(300, 230), (230,), (7, 3), (1,)]


def steps(optimizer, n_steps=4, change=None):
    """Weights and state after ``n_steps`` steps on SHAPES from fixed gradients; ``change(step, params)``
    may alter the parameters between steps."""
    rng = np.random.default_rng(0)
    params = [Parameter(rng.standard_normal(shape).astype(np.float32), f"p{i}") for i, shape in enumerate(SHAPES)]
    for step in range(n_steps):
        if change is not None:
            change(step, params, optimizer)
        for p in params:
            p.grad = rng.standard_normal(p.shape).astype(np.float32)
        assert optimizer.apply(params)
    return [p.data for p in params] + [a for p in params for _, a in sorted(optimizer.state[p].items())]


def assert_same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_the_flat_step_gives_the_rules_numbers_bit_for_bit(rule):
    fast = RULES[rule]("fast")
    assert_same(steps(fast), steps(RULES[rule]("naive")))
    assert optimizer_step._PLANS.get(fast) is not None   # the flat buffers did run


def test_weights_and_state_replaced_between_steps_are_read_again():
    def change(step, params, optimizer):
        if step == 1:   # a state replaced (load_state)
            optimizer.state[params[1]] = {key: a + 0.25 for key, a in optimizer.state[params[1]].items()}
        if step == 2:   # one entry of a state replaced, weights replaced by a new array
            optimizer.state[params[2]]["v"] = optimizer.state[params[2]]["v"] * 2
            params[3].data = params[3].data * 0.5
        if step == 3:   # weights written in place
            params[2].assign(np.ones((7, 3)))

    assert_same(steps(RULES["adam"]("fast"), change=change), steps(RULES["adam"]("naive"), change=change))


def test_a_constraint_or_weight_decay_takes_the_parameter_by_parameter_path():
    def constrain(step, params, optimizer):
        if step == 1:
            params[0].constraint = lambda w: np.clip(w, -0.5, 0.5)

    fast = RULES["adam"]("fast")
    assert_same(steps(fast, change=constrain), steps(RULES["adam"]("naive"), change=constrain))
    assert np.abs(steps(RULES["adam"]("fast"), change=constrain)[0]).max() <= 0.5
    decayed = [optimizers.Adam(0.01, weight_decay=0.1, impl=impl) for impl in ("fast", "naive")]
    assert_same(steps(decayed[0]), steps(decayed[1]))


def test_a_refused_step_changes_nothing_and_the_next_one_is_taken():
    adam = optimizers.Adam(0.01)
    a, b = Parameter(np.ones((3, 4), np.float32), "a"), Parameter(np.ones(5, np.float32), "b")
    a.grad, b.grad = np.full((3, 4), 0.5, np.float32), np.full(5, 0.5, np.float32)
    assert adam.apply([a, b])
    kept = [a.data.copy(), b.data.copy()] + [s.copy() for p in (a, b) for s in adam.state[p].values()]
    b.grad = np.full(5, np.inf, np.float32)
    with np.errstate(invalid="ignore"):
        assert adam.apply([a, b]) is False
    now = [a.data, b.data] + [s for p in (a, b) for s in adam.state[p].values()]
    assert_same(now, kept)
    b.grad = np.full(5, 0.5, np.float32)
    assert adam.apply([a, b]) and adam.iterations == 2
    assert np.all(b.data < kept[1])


def test_an_exception_in_the_middle_of_the_rule_changes_nothing(monkeypatch):
    adam = optimizers.Adam(0.01)
    params = [Parameter(np.ones(shape, np.float32), f"p{i}") for i, shape in enumerate(SHAPES)]
    for p in params:
        p.grad = np.full(p.shape, 0.5, np.float32)
    assert adam.apply(params)
    kept = [p.data.copy() for p in params] + [s.copy() for p in params for s in adam.state[p].values()]
    calls = []

    def interrupted(optimizer, lr):
        kernel, constants = optimizer_step.adam_kernel(optimizer, lr)

        def second_block_fails(*args):
            calls.append(1)
            if len(calls) == 2:
                raise KeyboardInterrupt
            return kernel(*args)
        return second_block_fails, constants

    monkeypatch.setitem(optimizer_step.KERNELS, optimizers.Adam, interrupted)
    with pytest.raises(KeyboardInterrupt):
        adam.apply(params)
    assert len(calls) == 2 and adam.iterations == 1
    assert_same([p.data for p in params] + [s for p in params for s in adam.state[p].values()], kept)


def test_gradients_keep_their_values_when_they_move_into_the_flat_buffer():
    adam = optimizers.Adam(0.01)
    p = Parameter(np.ones((4, 3), np.float32), "p")
    p.grad = np.arange(12, dtype=np.float32).reshape(4, 3)
    before = p.grad.copy()
    assert adam.apply([p])
    np.testing.assert_array_equal(p.grad, before)


def mlp(impl):
    tinynet.set_random_seed(3)
    model = Sequential([layers.Dense(16, activation="relu", input_shape=(20,)), layers.Dense(16, activation="relu"),
                        layers.Dense(3, activation="softmax")])
    model.compile(optimizers.Adam(1e-2, impl=impl), "sparse_categorical_crossentropy", ["accuracy"])
    return model


def test_fit_is_the_same_with_the_flat_step_the_twin_per_parameter_and_the_rule(monkeypatch):
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((96, 20)).astype(np.float32), rng.integers(0, 3, 96)
    results = {}
    for way in ("flat", "per parameter", "naive"):
        with monkeypatch.context() as patch:
            if way == "per parameter":
                patch.delitem(FAST_STEPS, optimizers.Adam)
            model = mlp("naive" if way == "naive" else "fast")
            tinynet.set_random_seed(5)
            history = model.fit(x, y, batch_size=32, epochs=3, verbose=0).history
            results[way] = (model.get_weights(), history)
            assert (optimizer_step._PLANS.get(model.optimizer) is not None) == (way == "flat")
    for way in ("per parameter", "naive"):
        assert_same(results[way][0], results["flat"][0])
        assert results[way][1] == results["flat"][1]
