"""examples/course/demos: each runs in --quick mode, saves its picture, and shows what its lecture says."""
import os
import subprocess
import sys

import pytest

from conftest import REPO

DEMOS = os.path.join(REPO, "examples", "course", "demos")
NAMES = ["vanishing_gradients", "init_scale", "optimizers", "learning_rate", "overfitting", "batchnorm_flow"]


def run_demo(name, tmp_path):
    picture = tmp_path / f"{name}.png"
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, f"{name}.py", "--quick", "--plot", str(picture)], cwd=DEMOS, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert picture.stat().st_size > 30_000
    line = next(line for line in out.stdout.splitlines() if line.startswith("RESULT "))
    return {key: float(value) for key, value in (item.split("=") for item in line.split()[1:])}


def test_vanishing_gradients(tmp_path):
    r = run_demo("vanishing_gradients", tmp_path)
    assert r["sigmoid_first_over_last"] < 1e-4          # ten sigmoids: the first kernel's gradient vanishes
    assert r["relu_first_over_last"] > 0.05             # ReLU + He: about the same size everywhere


def test_init_scale(tmp_path):
    r = run_demo("init_scale", tmp_path)
    assert r["small_last_std"] < 1e-5 and r["large_saturated"] > 0.5
    assert 0.1 < r["glorot_last_std"] < 1 and 0.5 < r["he_last_std"] < 2


def test_optimizers(tmp_path):
    r = run_demo("optimizers", tmp_path)
    for name in ("sgd_momentum", "rmsprop", "adam"):
        assert r[f"{name}_distance"] < r["sgd_distance"] / 2, name      # all three beat plain SGD in the valley
    assert r["adam_loss"] < r["sgd_loss"]


def test_learning_rate(tmp_path):
    r = run_demo("learning_rate", tmp_path)
    assert r["right"] < r["low"] and r["right"] < r["high"]
    assert 0.01 < r["best_rate"] < 5


def test_overfitting(tmp_path):
    r = run_demo("overfitting", tmp_path)
    assert r["train_loss"] < r["best_val_loss"] < r["val_loss"]        # validation loss turned back up
    assert r["l2_val_loss"] < r["val_loss"]


def test_batchnorm_flow(tmp_path):
    r = run_demo("batchnorm_flow", tmp_path)
    assert r["plain_first_over_last"] < 1e-4 and r["bn_first_over_last"] > 0.1
    assert r["bn_accuracy"] > r["plain_accuracy"]


@pytest.mark.parametrize("name", NAMES)
def test_demos_are_percent_cell_scripts_that_a_notebook_runs(name):
    text = open(os.path.join(DEMOS, f"{name}.py")).read()
    assert text.startswith("# %% [markdown]") and text.count("\n# %%\n") + text.count("\n    # %%\n") >= 2
    assert "--quick" in text and "docs/" in text            # each points at the maths it shows
