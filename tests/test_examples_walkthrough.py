"""examples/backprop_walkthrough.py prints numbers that a NumPy computation in this test reproduces."""
import re
import subprocess
import sys

import numpy as np

from conftest import REPO


def matrix_after(lines, label, rows):
    """The ``rows`` printed rows that follow the line containing ``label``, as an array."""
    start = next(i for i, line in enumerate(lines) if label in line) + 1
    text = " ".join(lines[start:start + rows]).replace("[", " ").replace("]", " ")
    return np.array([float(v) for v in text.split()]).reshape(rows, -1)


def test_walkthrough_prints_the_hand_computed_values(tmp_path):
    plot = tmp_path / "trace.png"
    result = subprocess.run([sys.executable, "examples/backprop_walkthrough.py", "--quick", "--plot", str(plot)],
                            cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()

    x = np.array([[1.0, 2.0], [2.0, -1.0]])
    y = np.eye(3)[[0, 2]]
    w1 = np.array([[0.5, -0.5, 0.25, 0.0], [0.25, 0.5, -0.5, 1.0]])
    b1 = np.array([0.0, 0.0, 0.0, -0.5])
    w2 = np.array([[0.5, -0.5, 0.0], [0.0, 0.5, -0.5], [0.25, 0.0, 0.25], [-0.25, 0.25, 0.5]])
    z1 = x @ w1 + b1
    h = np.maximum(z1, 0)
    z2 = h @ w2
    p = np.exp(z2) / np.exp(z2).sum(1, keepdims=True)
    loss = -np.log((p * y).sum(1)).mean()
    dz2 = (p - y) / 2
    dz1 = dz2 @ w2.T * (z1 > 0)

    printed_loss = float(re.search(r"on the logits z \(paired with the final softmax\) = ([\d.]+)",
                                   result.stdout).group(1))
    assert abs(printed_loss - loss) < 1e-5
    np.testing.assert_allclose(matrix_after(lines, "z        (2, 4)", 2), z1, atol=1e-4)
    np.testing.assert_allclose(matrix_after(lines, "mask     (2, 4)", 2), z1 > 0, atol=1e-4)
    np.testing.assert_allclose(matrix_after(lines, "y        (2, 4)", 2), h, atol=1e-4)
    np.testing.assert_allclose(matrix_after(lines, "p - y:", 2), p - y, atol=1e-4)
    np.testing.assert_allclose(matrix_after(lines, "dz       (2, 4)", 2), dz1, atol=1e-4)
    np.testing.assert_allclose(matrix_after(lines, "dw       (4, 3)", 4), h.T @ dz2, atol=1e-4)
    np.testing.assert_allclose(matrix_after(lines, "dw       (2, 4)", 2), x.T @ dz1, atol=1e-4)
    assert "all gradients agree" in result.stdout
    assert plot.stat().st_size > 20_000
    assert sum(line.endswith("  pass") for line in lines) == 5     # input, 2 kernels, 2 biases


def test_scalars_to_matrices_prints_that_every_gradient_agrees():
    result = subprocess.run([sys.executable, "examples/scalars_to_matrices.py"], cwd=REPO, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "scalar engine vs matrix layers: every gradient equal to float32 rounding" in result.stdout


def test_examples_are_in_the_percent_cell_format():
    for name in ("backprop_walkthrough.py", "scalars_to_matrices.py", "course/find_the_bug.py"):
        text = open(f"{REPO}/examples/{name}").read()
        assert text.startswith("# %% [markdown]") and text.count("\n# %%\n") >= 2, name
    for name in ("mnist_mlp.py", "mnist_cnn.py", "fashion_mnist.py", "cifar100_cnn.py", "inspect_mistakes.py"):
        text = open(f"{REPO}/examples/{name}").read()
        assert text.count("\n# %%\n") >= 3 and '"ipykernel" in sys.modules' in text, name
