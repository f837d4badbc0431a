"""The CNN examples and the CNN benchmark run in their --quick mode and print what they promise."""
import re

import pytest

from test_examples import result_line, run_example

# One epoch on 2000 samples (16 steps). Measured: tf2 0.84, keras 0.86; chance is 0.10. tf2 is
# judged in inference mode, with BatchNormalization's moving statistics, which after so few
# steps at momentum 0.99 still lag the fast-changing weights (3 such epochs: 0.14, while the
# same model with batch statistics scores 0.94, and with momentum 0.5 0.94 either way), hence
# the low threshold.
QUICK_THRESHOLDS = {"tf2": 0.30, "keras": 0.70}


@pytest.mark.parametrize("model", sorted(QUICK_THRESHOLDS))
def test_mnist_cnn_quick(model, has_mnist, tmp_path):
    plot = tmp_path / "curves.png"
    output = run_example("examples/mnist_cnn.py", "--quick", "--model", model, "--plot", str(plot))
    result = result_line(output)
    assert result["model"] == model and result["epochs"] == "1"
    assert float(result["test_accuracy"]) > QUICK_THRESHOLDS[model]
    assert float(result["seconds_per_epoch"]) > 0
    assert "Epoch 1/1" in output and re.search(r"\d+/\d+ \[=+\] - .* - val_accuracy: ", output)  # Keras's log
    assert re.search(r"(best val_accuracy|test accuracy)\s+0\.992\d\s+0\.\d+", output)  # the table
    expected_total = {"tf2": "Total params: 207,626", "keras": "Total params: 1,199,882"}[model]
    assert expected_total in output
    assert plot.exists() and plot.stat().st_size > 10_000


def test_mnist_cnn_article_flag_is_only_for_tf2():
    with pytest.raises(AssertionError, match="--article applies to --model tf2"):
        run_example("examples/mnist_cnn.py", "--model", "keras", "--article")


def test_cifar100_cnn_quick_on_random_data(tmp_path):
    plot = tmp_path / "curves.png"
    output = run_example("examples/cifar100_cnn.py", "--quick", "--plot", str(plot))
    result = result_line(output)
    assert result["model"] == "cifar100" and result["params"] == "6850792" and result["epochs"] == "1"
    assert "Total params: 6,850,792" in output and "val_mse" in output
    assert plot.exists() and plot.stat().st_size > 10_000


def test_profile_cnn_quick():
    output = run_example("benchmarks/profile_cnn.py", "--quick")
    medians = re.findall(r"batch +(\d+): median: ([\d.]+) s/epoch", output)
    assert [size for size, _ in medians] == ["32", "128"] and all(float(s) > 0 for _, s in medians)
    for operation in ("im2col", "dx: per-offset products added into dx", "(MaxPooling2D) backward",
                      "(BatchNormalization) forward", "(ReLU) backward", "optimizer"):
        assert operation in output, operation
    assert re.search(r"predict \+ evaluate on 2000 images at batch_size=2000: peak resident memory \d+ MB", output)
    percents = [float(p) for p in re.findall(r" ([\d.]+) %$", output, flags=re.M)]
    assert 95 < sum(percents) < 105  # the breakdown accounts for the whole epoch
