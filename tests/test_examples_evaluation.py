"""examples/inspect_mistakes.py and examples/fashion_mnist.py in --quick mode, as subprocesses."""
import re
import subprocess
import sys

import pytest

from conftest import REPO


def run(*args, timeout=300):
    result = subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result.stdout


def is_png(path):
    return path.exists() and path.read_bytes()[:4] == b"\x89PNG" and path.stat().st_size > 10_000


def test_inspect_mistakes_trains_saves_and_reloads(has_mnist, tmp_path):
    saved = tmp_path / "mlp.npz"
    output = run("examples/inspect_mistakes.py", "--quick", "--save", str(saved), "--out", str(tmp_path / "a"))
    accuracy = re.search(r"Test accuracy (0\.\d+): (\d+) of 10000 digits misclassified", output)
    assert accuracy and float(accuracy.group(1)) > 0.6  # one epoch on 5000 samples; chance is 0.1
    assert int(accuracy.group(2)) == round((1 - float(accuracy.group(1))) * 10000)
    assert re.search(r"precision +recall +f1-score +support", output)
    assert len(re.findall(r"^ {10}\d( +[01]\.\d{3}){3} +\d+$", output, re.M)) == 10  # one row per digit
    assert re.search(r"^avg / total( +[01]\.\d{3}){3} +10000$", output, re.M)
    assert len(re.findall(r"^  \d -> \d: \d+$", output, re.M)) == 5
    assert is_png(tmp_path / "a_confusion.png") and is_png(tmp_path / "a_grid.png")

    # The saved model, loaded back, makes exactly the same predictions.
    reloaded = run("examples/inspect_mistakes.py", "--model-path", str(saved), "--out", str(tmp_path / "b"))
    assert f"Loaded {saved}" in reloaded
    assert re.search(r"Test accuracy .*misclassified", reloaded).group(0) == accuracy.group(0)
    assert "Epoch 1/1" not in reloaded  # no training


@pytest.fixture
def has_fashion_mnist():
    from tinynet.datasets import fashion_mnist
    try:
        fashion_mnist.load_data()
    except Exception as error:  # noqa: BLE001 - any failure means the data is not here
        pytest.skip(f"Fashion-MNIST not available: {error}")


@pytest.mark.parametrize("model, threshold", [("mlp", 0.70), ("cnn", 0.35)])
def test_fashion_mnist_quick(has_fashion_mnist, tmp_path, model, threshold):
    # Measured in --quick mode: mlp about 0.79, cnn about 0.6 (one epoch on 5000 / 2000 samples).
    output = run("examples/fashion_mnist.py", "--quick", "--model", model, "--plot", str(tmp_path / "curves.png"))
    result = dict(item.split("=") for item in next(
        line for line in output.splitlines() if line.startswith("RESULT ")).split()[1:])
    assert result["model"] == model and result["epochs"] == "1"
    assert float(result["test_accuracy"]) > threshold
    assert "Epoch 1/1" in output and re.search(r"\d+/\d+ \[=+\] - ", output)
    assert re.search(r"^ Ankle boot( +[01]\.\d\d){3} +\d+$", output, re.M)
    assert re.search(r"^avg / total( +[01]\.\d\d){3} +1000$", output, re.M)
    assert is_png(tmp_path / "curves.png") and is_png(tmp_path / "curves_confusion.png")
