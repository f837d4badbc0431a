"""gradcheck: the table, GradCheckResult, kinks, rounding noise, vacuous checks, randomness, data checks, sampling.

The bugs a learner writes and a one-point check passes are in tests/test_gradcheck_fooling.py.
"""
import inspect
import os
import random
import subprocess
import sys

import numpy as np
import pytest

import tinynet
from conftest import REPO
from tinynet import Sequential, gradcheck
from tinynet.core.utils import rng
from tinynet.layers import BatchNormalization, Dense, Dropout, MaxPooling2D, ReLU, Softmax, Tanh


def small_model():
    model = Sequential([Dense(4, activation="relu", input_shape=(3,), kernel_initializer="random_normal", name="hidden"),
                        Dense(3, activation="softmax", kernel_initializer="random_normal", name="out")])
    model.compile("sgd", "categorical_crossentropy")
    return model


def test_result_is_still_a_dict_of_errors_with_rows():
    lines = []
    x = np.random.default_rng(0).standard_normal((5, 3)) + 0.05
    result = gradcheck.check_model(small_model(), x, np.eye(3)[[0, 1, 2, 0, 1]], print_fn=lines.append)
    assert set(result) == {"input", "hidden/kernel", "hidden/bias", "out/kernel", "out/bias"}
    assert max(result.values()) < gradcheck.TOLERANCE and result.passed and result.culprits == []
    assert [row.name for row in result.rows] == list(result)
    assert result.rows[1].shape == (3, 4) and result.rows[1].layer == "hidden" and result.rows[1].parameter == "kernel"
    assert set(result.rows[1].at) == {"your point", "perturbed"}
    table = lines[0]
    assert table == result.table()
    header = next(line for line in table.splitlines() if line.startswith("layer"))
    assert "your point" in header and "perturbed" in header and "entries" in header
    assert "your point: your weights and your batch (5 samples)" in table
    assert "perturbed: every weight moved (biases non-zero, gamma != 1), another batch of 4 samples" in table
    assert sum(line.endswith("  pass") for line in table.splitlines()) == 5 and "all gradients agree" in table
    assert "Not looked at:" in table and "no layer was checked on its own" in table


def test_perturb_false_looks_at_the_learner_point_only():
    x = np.random.default_rng(0).standard_normal((5, 3)) + 0.05
    result = gradcheck.check_model(small_model(), x, np.eye(3)[[0, 1, 2, 0, 1]], perturb=False, verbose=False)
    assert result.passed and all(set(row.at) == {"your point"} for row in result.rows)
    assert any("perturb=False" in note for note in result.not_looked_at)


def test_verbose_false_prints_nothing(capsys):
    gradcheck.check_layer(Dense(2), np.ones((2, 3)), verbose=False)
    assert capsys.readouterr().out == ""


def test_a_wrong_gradient_fails_in_the_table():
    class Broken(Dense):
        def backward(self, dout):
            dx = super().backward(dout)
            self.bias.grad = self.bias.grad * 1.5
            return dx

    lines = []
    result = gradcheck.check_layer(Broken(3), np.random.default_rng(1).standard_normal((4, 2)), print_fn=lines.append)
    assert not result.passed
    bias_row = next(row for row in result.rows if row.parameter == "bias")
    assert not bias_row.passed and bias_row.error > 0.1 and bias_row.max_error > 0.1
    assert "FAIL" in lines[0] and "SOME GRADIENTS DISAGREE" in lines[0]


def test_relu_kink_is_skipped_and_reported():
    # x = 0 exactly sits on ReLU's kink: the centred difference gives 0.5, backward gives 0.
    x = np.array([[0.0, 1.0, -2.0, 0.5]])
    lines = []
    result = gradcheck.check_layer(ReLU(), x, print_fn=lines.append, perturb=False)
    row = result.rows[0]
    assert row.skipped == 1 and row.checked == 3 and result["input"] < 1e-9
    assert "1 skipped at a kink" in lines[0]
    assert "no centred difference can judge which subgradient" in lines[0]
    # Without the skipping the same point is a clear disagreement:
    f_grad = gradcheck.numerical_gradient(lambda: float(np.maximum(x, 0).sum()), x)
    assert abs(f_grad[0, 0] - 0.5) < 1e-6


def test_model_kink_through_a_dense_layer_is_skipped():
    model = small_model()
    model.layers[0].bias.data[:] = 0
    x = np.array([[0.0, 0.0, 0.0], [0.3, -0.7, 1.1]])   # sample 0: every first-layer unit is at 0
    result = gradcheck.check_model(model, x, np.eye(3)[[0, 2]], verbose=False)
    bias = next(row for row in result.rows if row.name == "hidden/bias")
    assert bias.at["your point"].skipped == 4 and bias.at["your point"].checked == 0
    assert bias.at["perturbed"].checked == 4          # the moved bias is off the kink
    assert result.passed


def test_maxpool_tie_is_skipped():
    x = np.random.default_rng(2).standard_normal((1, 2, 2, 1))
    x[0, 0, 1, 0] = x[0, 0, 0, 0] = np.abs(x).max() + 1      # two equal maxima in the one window
    result = gradcheck.check_layer(MaxPooling2D(2), x, verbose=False, perturb=False)
    row = result.rows[0]
    assert row.skipped == 2 and row.checked == 2
    # the two entries left carry no gradient (they lose the window): nothing was compared
    assert row.status == "not informative" and "nothing that carries gradient" in row.reason
    assert not result.passed and np.isnan(result["input"])
    # the second point (another batch: no ties) compares the window's winner
    assert gradcheck.check_layer(MaxPooling2D(2), x, verbose=False).passed


def test_max_entry_error_ignores_rounding_noise_on_tiny_entries():
    assert gradcheck.max_entry_error(np.array([1.0, 1e-13]), np.array([1.0, 3e-13])) < 1e-6
    assert gradcheck.max_entry_error(np.array([1.0, 0.5]), np.array([1.0, 0.6])) > 0.05


def test_a_truly_zero_gradient_is_not_informative_and_says_why():
    """A Dense bias followed by BatchNormalization has gradient exactly 0 (BN removes any shift)."""
    model = Sequential([Dense(4, input_shape=(3,), name="pre_bn"), BatchNormalization(),
                        Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).standard_normal((6, 3))
    lines = []
    result = gradcheck.check_model(model, x, np.array([0, 1, 2, 0, 1, 2]), print_fn=lines.append)
    bias = next(row for row in result.rows if row.name == "pre_bn/bias")
    assert bias.status == "not informative" and not bias.passed and np.isnan(result["pre_bn/bias"])
    assert "right before" in bias.reason and "BatchNormalization" in bias.reason
    # every other row was really compared, so the result as a whole passes, and says what it left out
    assert all(row.passed for row in result.rows if row is not bias) and result.passed
    assert "all informative gradients agree (1 not informative" in lines[0]
    assert "inference mode (training=False)" in lines[0]           # BN's other backward: not looked at
    # ... while a real mismatch of the same tiny size is still caught relative to itself
    assert gradcheck.relative_error(np.full(4, 1e-3), np.full(4, 2e-3)) > 0.3


class WrongTanh(Tanh):
    def backward(self, dout):
        (y,) = self.cache
        return dout * (1 - y)               # should be 1 - y**2


def saturated_model(tanh):
    """Correct, confident predictions: logit margins of several hundred, so dL/dz ~ exp(-300)."""
    model = Sequential([Dense(4, input_shape=(3,), name="hidden"), tanh, Dense(3, name="out"), Softmax()])
    model.compile("sgd", "sparse_categorical_crossentropy")
    x = np.random.default_rng(3).standard_normal((5, 3))
    model.layers[2].kernel.data *= 2000
    labels = model.predict(x).argmax(1)
    return model, x, labels


def test_a_wrong_backward_on_a_saturated_loss_does_not_pass():
    for tanh in (WrongTanh(), Tanh()):
        model, x, labels = saturated_model(tanh)
        lines = []
        result = gradcheck.check_model(model, x, labels, print_fn=lines.append, perturb=False)
        assert not result.passed
        assert all(row.status == "not informative" for row in result.rows)
        assert all("saturated" in row.reason for row in result.rows)
        assert "NOTHING INFORMATIVE WAS COMPARED" in lines[0] and "all gradients agree" not in lines[0]
    # the second point (another batch, mixed signs) is not saturated: the wrong tanh is found there
    model, x, labels = saturated_model(WrongTanh())
    result = gradcheck.check_model(model, x, labels, verbose=False)
    assert not result.passed and result.culprits == [model.layers[1].name]
    model, x, labels = saturated_model(Tanh())
    assert gradcheck.check_model(model, x, labels, verbose=False).passed
    # the same wrong backward on an ordinary model fails
    model = Sequential([Dense(4, input_shape=(3,)), WrongTanh(), Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    result = gradcheck.check_model(model, np.random.default_rng(3).standard_normal((5, 3)), [0, 1, 2, 0, 1],
                                   verbose=False)
    assert not result.passed and result.rows[0].status == "FAIL"


def test_a_vacuous_check_is_not_a_pass():
    # Max-pooling on 0/1 images: every window's winner ties with others, so every entry that
    # receives gradient is at a kink; the entries left have zero gradient.
    x = np.zeros((2, 4, 4, 1))
    x[:, ::2, ::2] = 1.0
    x[:, 1::2, 1::2] = 1.0
    lines = []
    result = gradcheck.check_layer(MaxPooling2D(2), x, print_fn=lines.append, perturb=False)
    row = result.rows[0]
    assert row.skipped > 0 and row.status == "not informative" and not result.passed
    assert "NOTHING INFORMATIVE WAS COMPARED" in lines[0]
    # all entries at a kink: a ReLU evaluated exactly at 0
    result = gradcheck.check_layer(ReLU(), np.zeros((2, 3)), verbose=False, perturb=False)
    assert result.rows[0].checked == 0 and "all 6 entries at a kink" in result.rows[0].reason
    assert not result.passed


def test_a_random_model_gets_a_message_and_a_seed_fixes_it():
    model = Sequential([Dense(8, activation="relu", input_shape=(3,)), Dropout(0.5, name="drop"),
                        Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).standard_normal((6, 3)) + 0.05
    with pytest.raises(ValueError, match=r"the model is random: 'drop' \(Dropout\).*Pass seed="):
        gradcheck.check_model(model, x, [0, 1, 2, 0, 1, 2], verbose=False)
    assert gradcheck.check_model(model, x, [0, 1, 2, 0, 1, 2], seed=0, verbose=False).passed
    with pytest.raises(ValueError, match="the model is random"):
        gradcheck.check_layer(Dropout(0.5), np.ones((4, 5)), verbose=False)
    # a Dropout with its own generator is not reset by seed=: the message says so
    with pytest.raises(ValueError, match=r"not repeatable even with seed=0.*'own' draws from its own generator"):
        gradcheck.check_layer(Dropout(0.5, seed=3, name="own"), np.ones((4, 5)), seed=0, verbose=False)


def test_the_check_leaves_every_random_state_as_it_was():
    model = Sequential([Dense(8, activation="relu", input_shape=(3,)), Dropout(0.5), Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).standard_normal((6, 3))
    tinynet.set_random_seed(11)
    states = rng().bit_generator.state, np.random.get_state(), random.getstate()
    expected = rng().random(3), np.random.rand(3), random.random()
    rng().bit_generator.state = states[0]
    np.random.set_state(states[1])
    random.setstate(states[2])
    gradcheck.check_model(model, x, [0, 1, 2, 0, 1, 2], seed=0, verbose=False)
    gradcheck.check_layer(Dropout(0.3), x, seed=4, verbose=False)
    after = rng().random(3), np.random.rand(3), random.random()
    np.testing.assert_array_equal(after[0], expected[0])
    np.testing.assert_array_equal(after[1], expected[1])
    assert after[2] == expected[2]


def test_the_data_is_checked_as_fit_checks_it():
    model = Sequential([Dense(3, activation="softmax", input_shape=(2,), name="out")])
    with pytest.raises(RuntimeError, match="You must compile model .* before calling check_model"):
        gradcheck.check_model(model, np.ones((2, 2)), [0, 1])
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="same number of samples"):
        gradcheck.check_model(model, np.ones((2, 2)), [0, 1, 2])
    with pytest.raises(ValueError, match=r"label 7 .* 3 classes"):
        gradcheck.check_model(model, np.ones((2, 2)), [0, 7])
    with pytest.raises(ValueError, match="wrong shape"):
        gradcheck.check_model(model, np.ones((2, 5)), [0, 1])
    with pytest.raises(ValueError, match="max_entries"):
        gradcheck.check_model(model, np.ones((2, 2)), [0, 1], max_entries=0)


def test_float32_is_refused_with_the_reason():
    x = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    with pytest.raises(TypeError, match=r"float64.*x = x.astype\(np.float64\)"):
        gradcheck.numerical_gradient(lambda: float((x ** 2).sum()), x)
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(gradcheck.numerical_gradient(lambda: float((x64 ** 2).sum()), x64), [2, 4, 6],
                               rtol=1e-8)
    # check_layer / check_model take float32 data and work on a float64 copy
    assert gradcheck.check_layer(Dense(2), np.ones((2, 3), dtype=np.float32), verbose=False).passed


def test_training_mode_is_the_one_default():
    for function in (gradcheck.check_layer, gradcheck.check_model, tinynet.trace):
        assert inspect.signature(function).parameters["training"].default is True
        assert "training mode" in function.__doc__
    # check_layer(BatchNormalization()) checks the batch-statistics backward: its dx sums to 0 per channel
    layer = BatchNormalization()
    result = gradcheck.check_layer(layer, np.random.default_rng(0).standard_normal((6, 2)), verbose=False)
    assert result.passed


def test_a_cover_direction_touches_every_row_and_column():
    draw = np.random.default_rng(0)
    for shape in [(7, 3), (3, 7), (3, 3, 2, 4), (5,), (4, 784)]:
        v = gradcheck.cover_direction(shape, draw)
        matrix = v.reshape(-1, shape[-1]) != 0
        assert matrix.any(axis=1).all() and matrix.any(axis=0).all(), shape
        assert np.linalg.norm(v) == pytest.approx(1.0)
    # and its directional derivative is the gradient's dot product with it
    x = draw.standard_normal((4, 5))
    v = gradcheck.cover_direction(x.shape, draw)
    estimate, crossed = gradcheck.directional_derivative(lambda: float((x ** 3).sum()), x, v)
    assert estimate == pytest.approx(float((3 * x ** 2 * v).sum()), rel=1e-6) and not crossed


def test_moved_weights_leave_the_defaults_and_keep_positive_arrays_positive():
    draw = np.random.default_rng(0)
    gamma, bias, kernel = np.ones(50), np.zeros(50), draw.standard_normal((5, 10))
    assert np.all(gradcheck.moved(gamma, draw) > 0) and np.all(gradcheck.moved(gamma, draw) != 1)
    moved_bias = gradcheck.moved(bias, draw)
    assert np.all(moved_bias != 0) and (moved_bias < 0).any() and (moved_bias > 0).any()
    assert not np.allclose(gradcheck.moved(kernel, draw), kernel)
    pixels = draw.random((3, 8))
    other, _ = gradcheck.other_batch(pixels, draw, gradcheck.other_size(3))
    assert other.shape == (2, 8) and (other < 0).any() and (other > 0).any()
    assert gradcheck.other_size(1) == 2 and gradcheck.other_size(2) == 3 and gradcheck.other_size(8) == 7


SAMPLED_CHECK = """
import sys, time
import numpy as np
sys.path.insert(0, "benchmarks")
from seed_models import cca_mlp
from tinynet import gradcheck
model = cca_mlp()
assert model.count_params() == 669_706
x = np.random.default_rng(0).random((4, 784))
start = time.perf_counter()
lines = []
result = gradcheck.check_model(model, x, [0, 1, 2, 3], max_entries=40, print_fn=lines.append)
print(time.perf_counter() - start, result.passed)
print(lines[0])
"""


def test_max_entries_samples_each_array_and_checks_the_readme_mlp_in_seconds():
    # NOTE: one BLAS thread: on a machine shared by many processes, several BLAS threads make
    # these small products 10-50x slower (measured: 0.3 s with one thread, 4.5-17 s with two).
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", SAMPLED_CHECK], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    first, table = out.stdout.split("\n", 1)
    seconds, passed = first.split()
    assert float(seconds) < 10 and passed == "True", first
    kernel = next(line for line in table.splitlines() if "(784, 512)" in line)
    assert "40/401408, 40/401408 + 2 dir. each" in kernel
    assert "entries of 6 arrays were not compared one by one (max_entries=40)" in table
    # a wrong gradient is still found by a sample
    broken = gradcheck.check_layer(BiasTimes(3), np.random.default_rng(1).standard_normal((4, 2)), max_entries=2,
                                   verbose=False)
    assert not broken.passed


class BiasTimes(Dense):
    def backward(self, dout):
        dx = super().backward(dout)
        self.bias.grad = self.bias.grad * 1.5
        return dx
