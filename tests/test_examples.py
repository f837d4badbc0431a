"""Every example runs in its --quick mode and prints what it promises."""
import re
import subprocess
import sys

import pytest

from conftest import REPO


def run_example(script, *args, timeout=300):
    result = subprocess.run([sys.executable, script, *args], cwd=REPO, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result.stdout


def result_line(output):
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    return dict(item.split("=") for item in line.split()[1:])


# One epoch on 5000 samples (40-160 steps). Measured: cca 0.89, chollet 0.73, small 0.79, tf2 0.83;
# the thresholds sit below those and far above chance (0.10), so a broken model fails them.
QUICK_THRESHOLDS = {"cca": 0.85, "chollet": 0.60, "small": 0.70, "tf2": 0.70}


@pytest.mark.parametrize("model", sorted(QUICK_THRESHOLDS))
def test_mnist_mlp_quick(model, has_mnist, tmp_path):
    plot = tmp_path / "curves.png"
    output = run_example("examples/mnist_mlp.py", "--quick", "--model", model, "--plot", str(plot))
    result = result_line(output)
    assert result["model"] == model and result["epochs"] == "1"
    assert float(result["test_accuracy"]) > QUICK_THRESHOLDS[model]
    assert re.search(r"Total params: [\d,]+", output)
    assert "Epoch 1/1" in output and re.search(r"\d+/\d+ \[=+\] - ", output)  # Keras's log
    assert re.search(r"(best val_acc|test accuracy|best val_accuracy)\s+0\.9\d+\s+0\.\d+", output)  # the table
    assert plot.exists() and plot.stat().st_size > 10_000


def test_mlp_benchmark_quick():
    output = run_example("benchmarks/mlp_epoch_time.py", "--quick")
    median = float(re.search(r"median: ([\d.]+) s/epoch", output).group(1))
    assert median > 0
