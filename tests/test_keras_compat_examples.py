"""The published Keras scripts in examples/keras_compat/ run, in quick mode, and learn something.

Each script is the original with only its imports changed (see its docstring). Quick mode
(examples/keras_compat/run.py) lets ``fit`` see 600 training samples for one epoch and
``evaluate`` 300 test samples; the assertions are on the values the script itself computed.
Chance level is 0.1 on MNIST and Fashion-MNIST.

A script that still needs something tinynet lacks is marked ``xfail(strict=True)`` with what
it needs: when that lands the test XPASSes and fails, so this list cannot go stale.
"""
import math
import os
import sys

import numpy as np
import pytest

HERE = os.path.join(os.path.dirname(__file__), os.pardir, "examples", "keras_compat")
sys.path.insert(0, HERE)
from run import QUICK_EVAL, run  # noqa: E402

NEEDS = {}


def quick(script):
    try:
        return run(os.path.join(HERE, script), quick=True)
    except Exception as error:
        if type(error).__name__ == "DatasetUnavailableError":
            pytest.skip(f"{script}: the data set is not available offline here ({error})")
        raise


def needs(script):
    """xfail(strict) for scripts that still need a feature, nothing otherwise."""
    if script in NEEDS:
        return [pytest.mark.xfail(strict=True, reason=f"needs {NEEDS[script]}")]
    return []


def scripts(*names):
    return [pytest.param(name, marks=needs(name)) for name in names]


@pytest.mark.parametrize("script", scripts("keras2_mnist_mlp.py"))
def test_keras2_mnist_mlp(script):
    g = quick(script)
    assert g["model"].count_params() == 669706                     # as the published summary
    assert g["score"][1] > 0.4
    assert g["history"].history["loss"][0] > 0 and math.isfinite(g["score"][0])


@pytest.mark.parametrize("script", scripts("keras2_mnist_cnn.py", "keras1_mnist_cnn.py"))
def test_keras_mnist_cnn(script):
    g = quick(script)
    # Adadelta at tf.keras's learning rate 0.001 barely moves in 5 quick steps: check it ran to the end
    # with finite numbers and the published architecture.
    assert math.isfinite(g["score"][0]) and 0 <= g["score"][1] <= 1
    assert g["model"].count_params() in (1199882, 600810)          # Keras 2 (32-64 filters) / Keras 1 (32-32)


@pytest.mark.parametrize("script", scripts("kerasio_mnist_convnet.py"))
def test_kerasio_mnist_convnet(script):
    g = quick(script)
    assert g["model"].count_params() == 34826                      # as keras.io's summary
    assert g["score"][1] > 0.15


@pytest.mark.parametrize("script", scripts("tf_quickstart_beginner.py"))
def test_tf_quickstart_beginner(script):
    g = quick(script)
    probabilities = np.asarray(g["probability_model"](g["x_test"][:5]))
    assert probabilities.shape == (5, 10) and np.allclose(probabilities.sum(axis=1), 1)
    assert g["model"].evaluate(g["x_test"], g["y_test"], verbose=0)[1] > 0.4


@pytest.mark.parametrize("script", scripts("tf_classification_fashion.py"))
def test_tf_classification_fashion(script):
    g = quick(script)
    assert g["test_acc"] > 0.3
    assert g["predictions"].shape == (10000, 10) and np.allclose(g["predictions"].sum(axis=1), 1, atol=1e-5)
    assert g["predictions_single"].shape == (1, 10)


@pytest.mark.parametrize("script", scripts("dlwp1_ch2_first_network.py"))
def test_dlwp1_ch2_first_network(script):
    g = quick(script)
    assert g["test_acc"] > 0.4


@pytest.mark.parametrize("script", scripts("dlwp1_ch5_convnet.py"))
def test_dlwp1_ch5_convnet(script):
    g = quick(script)
    assert g["model"].count_params() == 93322                      # as the book's summary
    assert g["test_acc"] > 0.15


@pytest.mark.parametrize("script", scripts("dlwp3_ch2_first_network.py"))
def test_dlwp3_ch2_first_network(script):
    g = quick(script)
    assert g["predictions"].shape == (10, 10)
    assert g["test_acc"] > 0.4


@pytest.mark.parametrize("script", scripts("homl2_ch10_fashion_mlp.py"))
def test_homl2_ch10_fashion_mlp(script):
    g = quick(script)
    assert g["hidden1"].name == "dense"                            # clear_session reset the names
    assert g["weights"].shape == (784, 300) and g["biases"].shape == (300,)
    assert set(g["history"].params) == {"verbose", "epochs", "steps"}            # as TF 2.x, as the book prints
    assert g["model"].evaluate(g["X_test"][:QUICK_EVAL], g["y_test"][:QUICK_EVAL], verbose=0)[1] > 0.2
