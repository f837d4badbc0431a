"""examples/exercises: the grader passes the answer key, fails each wrong answer naming the gradient; find_the_bug."""
import os
import subprocess
import sys
import textwrap

import pytest

from conftest import REPO

EXERCISES_DIR = os.path.join(REPO, "examples", "exercises")
sys.path.insert(0, EXERCISES_DIR)
import grade  # noqa: E402

# one wrong answer per exercise, and the gradient the grader must name
WRONG = {
    "sigmoid": ("def sigmoid_backward(dout, y):\n    return dout * y", "dx"),
    "tanh": ("def tanh_backward(dout, y):\n    return dout * (1 - y)", "dx"),
    "dense": ("def dense_backward(dout, x, w, b):\n    return dout @ w.T, x.T @ dout / len(x), dout.sum(0)", "dw"),
    "softmax_cross_entropy": ("def softmax_cross_entropy_backward(z, y):\n"
                              "    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)\n    return p - y", "dz"),
    "conv2d": ("def conv2d_backward(dout, x, w, b, cols):\n"
               "    dx, dw, db = answers.conv2d_backward(dout, x, w, b, cols)\n    return dx, dw, db / 2", "db"),
    "maxpool": ("def maxpool_backward(dout, x):\n"
                "    return np.repeat(np.repeat(dout, 2, axis=1), 2, axis=2) / 4", "dx"),
    "batchnorm": ("def batchnorm_backward(dout, x, gamma, eps):\n"
                  "    dx, dgamma, dbeta = answers.batchnorm_backward(dout, x, gamma, eps)\n"
                  "    return dout * gamma / np.sqrt(x.var(0) + eps), dgamma, dbeta", "dx"),
}


def run_grader(path, *names):
    lines = []
    results = grade.main(["--file", str(path), "--hints", *names], print_fn=lines.append)
    return results, "\n".join(lines)


def test_the_answer_key_passes_every_exercise():
    results, text = run_grader(os.path.join(EXERCISES_DIR, "answers.py"))
    assert set(results) == set(grade.EXERCISES) == set(WRONG)
    assert all(results.values()), text
    assert "7 of 7 exercises pass" in text


@pytest.mark.parametrize("name", sorted(WRONG))
def test_a_wrong_answer_fails_and_says_which_gradient_and_by_how_much(name, tmp_path):
    code, gradient = WRONG[name]
    path = tmp_path / "mine.py"
    path.write_text("import numpy as np\nimport answers\n\n" + textwrap.dedent(code) + "\n")
    results, text = run_grader(path, name)
    assert results == {name: False}, text
    assert f"{name}: {gradient} WRONG: relative error" in text and "largest difference" in text, text
    assert "hint:" in text and "Library: tinynet/" in text
    if name == "dense":                        # the gradients it got right are reported as right
        assert "dense: dx ok" in text and "dense: db ok" in text


def test_the_skeleton_is_graded_as_not_written_yet():
    results, text = run_grader(os.path.join(EXERCISES_DIR, "backward.py"))
    assert not any(results.values())
    assert "sigmoid: not written yet" in text and "0 of 7 exercises pass" in text


def test_wrong_shapes_and_errors_are_reported(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text("import numpy as np\n\ndef dense_backward(dout, x, w, b):\n    return dout @ w.T, x @ dout, 0\n"
                    "def tanh_backward(dout, y):\n    return dout * (1 - y ** 2)\n")
    results, text = run_grader(path, "dense", "tanh")
    assert results == {"dense": False, "tanh": True}
    assert "raised ValueError" in text or "WRONG SHAPE" in text


def test_the_command_line_exit_code():
    out = subprocess.run([sys.executable, "examples/exercises/grade.py", "--file", "examples/exercises/answers.py",
                          "sigmoid"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "sigmoid: PASS" in out.stdout
    out = subprocess.run([sys.executable, "examples/exercises/grade.py", "sigmoid"], cwd=REPO, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 1


def test_find_the_bug_shows_the_failing_layer_and_checks_a_guess():
    out = subprocess.run([sys.executable, "examples/exercises/find_the_bug.py"], cwd=REPO, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    rows = {tuple(line.split()[:2]): line for line in out.stdout.splitlines() if line.startswith(("middle", "last"))}
    assert rows[("last", "kernel")].endswith("pass") and "FAIL" in rows[("middle", "kernel")]
    assert "dz = dy * [z > 0]" in out.stdout          # the trace prints the stage the bug skips
    for guess, verdict in (("middle", "right!"), ("first", "no.")):
        out = subprocess.run([sys.executable, "examples/exercises/find_the_bug.py", "--guess", guess], cwd=REPO,
                             capture_output=True, text=True, timeout=120)
        assert out.stdout.startswith(f"{guess}: {verdict}"), out.stdout
