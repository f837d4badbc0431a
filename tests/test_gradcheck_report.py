"""gradcheck's table, its GradCheckResult, and the skipping of ReLU / max-pool kinks."""
import numpy as np

from tinynet import Sequential, gradcheck
from tinynet.layers import Dense, MaxPooling2D, ReLU


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
    assert max(result.values()) < gradcheck.TOLERANCE and result.passed
    assert [row.name for row in result.rows] == list(result)
    assert result.rows[1].shape == (3, 4) and result.rows[1].layer == "hidden" and result.rows[1].parameter == "kernel"
    table = lines[0]
    assert table == result.table()
    assert "layer" in table.splitlines()[0] and "rel. error" in table.splitlines()[0]
    assert table.count("pass") == 5 and "all gradients agree" in table


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
    result = gradcheck.check_layer(ReLU(), x, print_fn=lines.append)
    row = result.rows[0]
    assert row.skipped == 1 and row.checked == 3 and result["input"] < 1e-9
    assert "1 skipped at a kink" in lines[0]
    # Without the skipping the same point is a clear disagreement:
    f_grad = gradcheck.numerical_gradient(lambda: float(np.maximum(x, 0).sum()), x)
    assert abs(f_grad[0, 0] - 0.5) < 1e-6


def test_model_kink_through_a_dense_layer_is_skipped():
    model = small_model()
    model.layers[0].bias.data[:] = 0
    x = np.array([[0.0, 0.0, 0.0], [0.3, -0.7, 1.1]])   # sample 0: every first-layer unit is at 0
    result = gradcheck.check_model(model, x, np.eye(3)[[0, 2]], verbose=False)
    bias = next(row for row in result.rows if row.name == "hidden/bias")
    assert bias.skipped == 4 and bias.checked == 0
    assert result.passed


def test_maxpool_tie_is_skipped():
    x = np.random.default_rng(2).standard_normal((1, 2, 2, 1))
    x[0, 0, 1, 0] = x[0, 0, 0, 0] = np.abs(x).max() + 1      # two equal maxima in the one window
    result = gradcheck.check_layer(MaxPooling2D(2), x, verbose=False)
    assert result.rows[0].skipped == 2 and result["input"] < 1e-9


def test_max_entry_error_ignores_rounding_noise_on_tiny_entries():
    assert gradcheck.max_entry_error(np.array([1.0, 1e-13]), np.array([1.0, 3e-13])) < 1e-6
    assert gradcheck.max_entry_error(np.array([1.0, 0.5]), np.array([1.0, 0.6])) > 0.05


def test_a_truly_zero_gradient_passes_instead_of_comparing_noise_with_noise():
    """A Dense bias followed by BatchNormalization has gradient exactly 0 (BN removes any shift)."""
    import tinynet
    from tinynet import gradcheck, layers
    model = tinynet.Sequential([layers.Dense(4, input_shape=(3,)), layers.BatchNormalization(),
                                layers.Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).standard_normal((6, 3))
    result = gradcheck.check_model(model, x, np.array([0, 1, 2, 0, 1, 2]), verbose=False)
    bias = next(name for name in result if name.endswith("dense/bias") or name.endswith("/bias"))
    assert result[bias] == 0.0 and result.passed
    # ... while a real mismatch of the same tiny size is still caught relative to itself
    assert gradcheck.relative_error(np.full(4, 1e-3), np.full(4, 2e-3)) > 0.3
