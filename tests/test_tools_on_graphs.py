"""The learner's tools (gradcheck, sanity checks, trace) on functional and subclassed models."""
import math

import numpy as np
import pytest

import tinynet
from tinynet import gradcheck, layers
from tinynet.tools import sanity

X = np.random.default_rng(0).standard_normal((6, 4))
LABELS = np.array([0, 1, 2, 0, 1, 2])


class SignOnlyTanh(layers.Tanh):
    """A planted bug: tanh's backward forgets the local derivative 1 - y^2."""

    def backward(self, dout):
        return dout


def functional(bug=False):
    tinynet.set_random_seed(0)
    inputs = tinynet.Input(shape=(4,))
    h = layers.Dense(5, activation="relu", name="d1")(inputs)
    branch = layers.Dense(5, name="branch")
    tanh = SignOnlyTanh(name="branch_tanh") if bug else layers.Activation("tanh", name="branch_tanh")
    s = layers.Add(name="add")([h, tanh(branch(h))])
    out = layers.Dense(3, activation="softmax", name="out")(s)
    model = tinynet.Model(inputs, out)
    model.compile("sgd", "sparse_categorical_crossentropy")
    return model


class Subclassed(tinynet.Model):
    def __init__(self, bug=False):
        super().__init__(name="subclassed")
        self.d1 = layers.Dense(5, activation="relu", name="d1")
        self.branch = layers.Dense(5, name="branch")
        self.act = SignOnlyTanh(name="branch_tanh") if bug else layers.Activation("tanh", name="branch_tanh")
        self.out = layers.Dense(3, activation="softmax", name="out")

    def call(self, x, training=None):
        h = self.d1(x)
        return self.out(h + self.act(self.branch(h)))


def subclassed(bug=False):
    tinynet.set_random_seed(0)
    model = Subclassed(bug)
    model.compile("sgd", "sparse_categorical_crossentropy")
    return model


BUILDERS = {"functional": functional, "subclassed": subclassed}


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_gradcheck_passes_a_correct_graph_and_names_the_planted_bug(kind):
    result = gradcheck.check_model(BUILDERS[kind](), X, LABELS, verbose=False)
    assert result.passed and result.culprits == []
    assert len(result.rows) >= 7                      # the input and every kernel and bias were compared
    result = gradcheck.check_model(BUILDERS[kind](bug=True), X, LABELS, verbose=False)
    assert not result.passed
    assert result.culprits == ["branch_tanh"]


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_the_trace_flags_the_planted_bug_in_a_branch(kind):
    trace = tinynet.trace(BUILDERS[kind](bug=True), X, LABELS, verbose=False)
    assert [(label, key) for label, key, _ in trace.flags] == [("branch_tanh", "dx")]
    stage = trace.layer("branch_tanh").stage("dx")
    np.testing.assert_array_equal(stage.value, trace.layer("branch_tanh").dout)       # what the bug returned
    assert tinynet.trace(BUILDERS[kind](), X, LABELS, verbose=False).flags == []


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_sanity_checks_run_on_graphs(kind):
    model = BUILDERS[kind]()
    result = sanity.check_initial_loss(model, X, LABELS, verbose=False)
    probabilities = BUILDERS[kind]().predict(X)
    assert result.value == pytest.approx(-np.log(probabilities[np.arange(6), LABELS]).mean(), rel=1e-5)
    assert result.expected == pytest.approx(math.log(3))
    weights = [w.copy() for w in model.get_weights()]
    overfit = sanity.check_overfit(model, X, LABELS, samples=6, epochs=400, verbose=False)
    assert overfit.passed and overfit.value == 1.0
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights()))   # a copy was trained


def test_trace_layer_of_a_graph_names_the_unknown_layer_and_lists_the_known():
    trace = tinynet.trace(functional(), X, LABELS, verbose=False)
    with pytest.raises(KeyError) as error:
        trace.layer("brnch")
    assert isinstance(error.value, ValueError)
    assert "'brnch'" in str(error.value) and "'branch'" in str(error.value) and "'add'" in str(error.value)
