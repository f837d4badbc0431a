"""What a user's constraint, regularizer or initializer returns is checked before it is used: the wrong thing
gets an error naming the function and the layer, and the model, its optimizer and the files are as they were
(tinynet/core/constraints.py ``apply``, regularizers.py ``penalty`` / ``penalty_gradient``, Layer.add_weight)."""
import numpy as np
import pytest

import tinynet
from tinynet import layers, optimizers
from tinynet.models import Sequential

RNG = np.random.default_rng(0)
X = RNG.random((16, 4), dtype=np.float32)
Y = RNG.integers(0, 3, 16)


class UserRegularizer:
    """A user's regularizer (L2 with factor 0.01) that returns ``broken(x)`` instead once ``broken`` is set."""

    def __init__(self):
        self.broken_penalty = self.broken_gradient = None

    def __call__(self, x):
        return self.broken_penalty(x) if self.broken_penalty else 0.01 * float(np.sum(np.square(x)))

    def gradient(self, x):
        return self.broken_gradient(x) if self.broken_gradient else 0.02 * x


class UserConstraint:
    """A user's constraint (clip to [-1, 1]) that returns ``broken(w)`` instead once ``broken`` is set."""

    def __init__(self):
        self.broken = None

    def __call__(self, w):
        return self.broken(w) if self.broken else np.clip(w, -1, 1)


def model_with_user_functions():
    """Dense (with every user function) -> BatchNormalization -> softmax, after one Adam step: the optimizer has
    state and the moving statistics have moved, so a step that commits anything shows."""
    functions = {name: UserConstraint() for name in ("kernel_constraint", "bias_constraint")}
    functions.update({name: UserRegularizer() for name in ("kernel_regularizer", "bias_regularizer",
                                                           "activity_regularizer")})
    model = Sequential([layers.Dense(5, input_shape=(4,), name="hidden", **functions),
                        layers.BatchNormalization(), layers.Dense(3, activation="softmax")])
    model.compile(optimizer=optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    model.fit(X, Y, batch_size=16, shuffle=False, verbose=0)
    return model, functions


BAD_ARRAYS = {
    "another shape": (lambda w: w[:1], ValueError, r"an array of shape \(1,( \d)?\) and dtype float32, but it must"),
    "None": (lambda w: None, TypeError, r"None"),
    "a number": (lambda w: 1.0, ValueError, r"1\.0"),
    "a list of another shape": (lambda w: [1.0, 2.0], ValueError, r"a list of 2 items"),
    "booleans": (lambda w: w > 0, TypeError, r"real numbers, not bool"),
    "complex numbers": (lambda w: w + 0j, TypeError, r"real numbers, not complex64"),
    "a string": (lambda w: "w", TypeError, r"'w'"),
    "NaN": (lambda w: w * np.nan, ValueError, r"\d+ NaN value\(s\) for finite inputs"),
}
ARRAY_ROLES = {  # where the broken function goes, and how the message names it
    "kernel_constraint": ("broken", "the kernel_constraint UserConstraint"),
    "bias_constraint": ("broken", "the bias_constraint UserConstraint"),
    "kernel_regularizer": ("broken_gradient", "the kernel_regularizer UserRegularizer.gradient"),
    "bias_regularizer": ("broken_gradient", "the bias_regularizer UserRegularizer.gradient"),
    "activity_regularizer": ("broken_gradient", "the activity_regularizer UserRegularizer.gradient"),
}


@pytest.mark.parametrize("role", ARRAY_ROLES)
@pytest.mark.parametrize("returned", BAD_ARRAYS)
def test_a_constraint_or_gradient_returning_the_wrong_array_is_named_and_changes_nothing(role, returned, tmp_path,
                                                                                        unchanged):
    model, functions = model_with_user_functions()
    attribute, who = ARRAY_ROLES[role]
    broken, error, what = BAD_ARRAYS[returned]
    setattr(functions[role], attribute, broken)
    with unchanged(model, tmp_path), pytest.raises(error, match=rf"^Layer 'hidden': {who} returned .*{what}"):
        model.fit(X, Y, batch_size=16, shuffle=False, verbose=0)


BAD_PENALTIES = {
    "an array": (lambda x: x ** 2, TypeError, r"an array of shape \((\d+, )?5,?\) and dtype float32"),
    "None": (lambda x: None, TypeError, r"None"),
    "a list": (lambda x: [0.1], TypeError, r"a list of 1 items"),
    "a string": (lambda x: "0.1", TypeError, r"'0\.1'"),
    "a complex number": (lambda x: 1j, TypeError, r"1j"),
    "a boolean": (lambda x: True, TypeError, r"True"),
    "NaN": (lambda x: float("nan"), ValueError, r"nan"),
}


@pytest.mark.parametrize("role", ["kernel_regularizer", "bias_regularizer", "activity_regularizer"])
@pytest.mark.parametrize("returned", BAD_PENALTIES)
def test_a_regularizer_returning_anything_but_one_number_is_named_and_changes_nothing(role, returned, tmp_path,
                                                                                     unchanged):
    model, functions = model_with_user_functions()
    broken, error, what = BAD_PENALTIES[returned]
    functions[role].broken_penalty = broken
    message = rf"^Layer 'hidden': the {role} UserRegularizer returned {what}, but it must return the penalty: one"
    with unchanged(model, tmp_path):
        with pytest.raises(error, match=message):
            model.fit(X, Y, batch_size=16, shuffle=False, verbose=0)
        with pytest.raises(error, match=message):
            model.evaluate(X, Y, verbose=0)


def test_float64_and_list_results_are_cast_to_the_weights_dtype_and_give_the_same_step():
    def weights_after_one_more_step(convert):
        tinynet.set_random_seed(0)
        model, functions = model_with_user_functions()
        functions["kernel_constraint"].broken = lambda w: convert(np.clip(w, -1, 1))
        functions["kernel_regularizer"].broken_gradient = lambda w: convert(0.02 * w)
        functions["kernel_regularizer"].broken_penalty = lambda w: np.float64(0.01 * np.sum(np.square(w)))
        model.fit(X, Y, batch_size=16, shuffle=False, verbose=0)
        return model.get_weights()

    as_float32 = weights_after_one_more_step(lambda a: a)
    for convert in (lambda a: a.astype(np.float64), lambda a: a.tolist()):
        converted = weights_after_one_more_step(convert)
        assert [w.dtype for w in converted] == [np.float32] * len(converted)
        for a, b in zip(as_float32, converted):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("returned, message", [
    (lambda shape, dtype=None: np.zeros((2, 2)), r"returned an array of shape \(2, 2\), expected \(4, 5\)"),
    (lambda shape, dtype=None: None, r"must return an array of shape \(4, 5\)\. Received: None"),
    (lambda shape, dtype=None: np.full(shape, np.nan), r"must return finite real numbers"),
    (lambda shape, dtype=None: np.ones(shape, bool), r"must return finite real numbers"),
])
def test_an_initializer_returning_the_wrong_array_is_named_before_any_weight_exists(returned, message):
    model = Sequential([layers.Dense(4, input_shape=(4,), name="first")])
    with pytest.raises(ValueError, match=r"Layer 'hidden': the initializer of weight 'kernel' \(shape \(4, 5\)\) "
                                         + message):
        model.add(layers.Dense(5, kernel_initializer=returned, name="hidden"))
    assert [layer.name for layer in model.layers] == ["first"] and len(model.weights) == 2
