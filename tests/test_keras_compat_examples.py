"""The Keras-style scripts in examples/keras_compat/ run, in quick mode, and learn something.

Each script is our own, written as a published Keras script is (the same Keras / TensorFlow calls in
the same order, imports naming tinynet; its docstring cites the one it mirrors). Quick mode
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
    assert g["mlp"].count_params() == 669706                       # as the published summary
    assert g["loss_and_accuracy"][1] > 0.4
    assert g["log"].history["loss"][0] > 0 and math.isfinite(g["loss_and_accuracy"][0])


MODEL_NAME = {"keras2_mnist_cnn.py": "convnet", "keras1_mnist_cnn.py": "net"}


@pytest.mark.parametrize("script", scripts("keras2_mnist_cnn.py", "keras1_mnist_cnn.py"))
def test_keras_mnist_cnn(script):
    g = quick(script)
    # Adadelta at tf.keras's learning rate 0.001 barely moves in 5 quick steps: check it ran to the end
    # with finite numbers and the published architecture.
    assert math.isfinite(g["test_scores"][0]) and 0 <= g["test_scores"][1] <= 1
    expected = {"keras2_mnist_cnn.py": 1199882, "keras1_mnist_cnn.py": 600810}[script]  # 32-64 / 32-32 filters
    assert g[MODEL_NAME[script]].count_params() == expected


@pytest.mark.parametrize("script", scripts("kerasio_mnist_convnet.py"))
def test_kerasio_mnist_convnet(script):
    g = quick(script)
    assert g["classifier"].count_params() == 34826                 # as keras.io's summary
    assert g["results"][1] > 0.15


@pytest.mark.parametrize("script", scripts("tf_quickstart_beginner.py"))
def test_tf_quickstart_beginner(script):
    g = quick(script)
    probabilities = np.asarray(g["softmax_model"](g["test_images"][:5]))
    assert probabilities.shape == (5, 10) and np.allclose(probabilities.sum(axis=1), 1)
    assert g["logits_model"].evaluate(g["test_images"], g["test_labels"], verbose=0)[1] > 0.4


@pytest.mark.parametrize("script", scripts("tf_classification_fashion.py"))
def test_tf_classification_fashion(script):
    g = quick(script)
    assert g["test_accuracy"] > 0.3
    probabilities = g["test_probabilities"]
    assert probabilities.shape == (10000, 10) and np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    assert g["one_probabilities"].shape == (1, 10)


@pytest.mark.parametrize("script", scripts("dlwp1_ch2_first_network.py"))
def test_dlwp1_ch2_first_network(script):
    g = quick(script)
    assert g["held_out_acc"] > 0.4


@pytest.mark.parametrize("script", scripts("dlwp1_ch5_convnet.py"))
def test_dlwp1_ch5_convnet(script):
    g = quick(script)
    assert g["cnn"].count_params() == 93322                        # as the book's summary
    assert g["test_accuracy"] > 0.15


@pytest.mark.parametrize("script", scripts("dlwp3_ch2_first_network.py"))
def test_dlwp3_ch2_first_network(script):
    g = quick(script)
    assert g["probabilities"].shape == (10, 10)
    assert g["check_acc"] > 0.4


@pytest.mark.parametrize("script", scripts("homl2_ch10_fashion_mlp.py"))
def test_homl2_ch10_fashion_mlp(script):
    g = quick(script)
    assert g["first_hidden"].name == "dense"                       # clear_session reset the names
    assert g["kernel"].shape == (784, 300) and g["bias"].shape == (300,)
    assert set(g["training_log"].params) == {"verbose", "epochs", "steps"}       # as TF 2.x, as the book prints
    assert g["mlp"].evaluate(g["X_test"][:QUICK_EVAL], g["y_test"][:QUICK_EVAL], verbose=0)[1] > 0.2


@pytest.mark.parametrize("script", scripts("tf_quickstart_advanced.py"))
def test_tf_quickstart_advanced(script):
    g = quick(script)
    n_train, n_test = len(g["train_x"]), len(g["test_x"])
    assert g["train_loss"].count == math.ceil(n_train / 32)        # Mean: one loss per batch of the last epoch
    assert g["test_accuracy"].count == n_test                       # the accuracy: one value per test image
    assert g["train_loss"].result() < 1.0 and g["test_accuracy"].result() > 0.3
    assert g["model"].count_params() == 32 * 10 + 26 * 26 * 32 * 128 + 128 + 128 * 10 + 10


@pytest.mark.parametrize("script", scripts("kerasio_training_loop_from_scratch.py"))
def test_kerasio_training_loop_from_scratch(script):
    g = quick(script)
    assert g["validation_accuracy"] > 0.5
    # The last step adds the layer's add_loss term, 1e-2 * sum(relu(x W1 + b1)), to the loss, as the guide's.
    model, x, y = g["net"], g["test_pixels"][:64].astype("float32"), g["test_digits"][:64]
    w1, b1 = (np.array(p) for p in model.layers[1].weights)
    expected = float(g["xent"](y, model(x))) + 1e-2 * np.maximum(x @ w1 + b1, 0).sum()
    assert float(g["penalized_step"](x, y)) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("script", scripts("kerasio_denoising_autoencoder.py"))
def test_kerasio_denoising_autoencoder(script):
    g = quick(script)
    assert g["autoencoder"].count_params() == 28353                 # as keras.io's summary
    denoised, noisy = g["denoised"], g["noisy_test"]
    assert denoised.shape == noisy.shape == (len(g["clean_test"]), 28, 28, 1)
    assert np.all((denoised > 0) & (denoised < 1))                  # the sigmoid output


@pytest.mark.parametrize("script", scripts("kerasio_functional_api.py"))
def test_kerasio_functional_api(script, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)                                     # the guide writes its plots and model here
    g = quick(script)
    assert g["scores"][1] > 0.4
    # parameter counts as the guide's summaries print them
    assert [g[name].count_params() for name in ("encoder", "decoder", "autoencoder", "resnet")] == \
        [18672, 9569, 28241, 223242]
    assert g["autoencoder"].output_shape == (None, 28, 28, 1)
    x = np.random.default_rng(0).normal(size=(4, 128)).astype("float32")
    mean = sum(np.asarray(member(x)) for member in g["members"]) / 3
    np.testing.assert_allclose(np.asarray(g["ensemble"](x)), mean, rtol=1e-6)
    assert (tmp_path / "small_resnet.png").stat().st_size > 0
