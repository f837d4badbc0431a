"""docs/reading-guide.md points at files, functions and names that exist (so a rename cannot leave it stale)."""
import re
from pathlib import Path

from conftest import REPO

GUIDE = (Path(REPO) / "docs" / "reading-guide.md").read_text(encoding="utf-8")
SOURCE = "\n".join(path.read_text(encoding="utf-8") for path in (Path(REPO) / "tinynet").rglob("*.py"))


def test_every_path_in_the_guide_exists():
    paths = set(re.findall(r"`((?:tinynet|docs|examples)/[\w/.*]+)`", GUIDE))
    assert len(paths) >= 15
    for path in paths:
        if "*" not in path:
            assert (Path(REPO) / path).exists(), path


def test_every_name_in_the_guide_is_in_the_code():
    names = set()
    for token in re.findall(r"`([A-Za-z_][\w.]*)(?:\([^`]*\))?`", GUIDE):
        names.update(token.split("."))
    for name in sorted(names):
        assert re.search(rf"\b{name}\b", SOURCE), name


def test_the_stops_name_functions_and_classes_that_are_defined():
    for name in ("Dense", "Parameter", "Layer", "add_weight", "ReLU", "Softmax", "MeanSquaredError",
                 "CategoricalCrossentropy", "train_step", "compute_gradients", "apply", "init_state", "Adam",
                 "im2col", "col2im", "conv2d_forward", "conv2d_backward", "Conv2D", "windows",
                 "maxpool2d_forward", "maxpool2d_backward", "avgpool2d_backward", "global_avgpool2d_backward",
                 "batch_norm_forward", "batch_norm_backward", "batch_norm_inference", "BatchNormalization",
                 "Trainer", "Tape", "Node", "step_learning_rate", "take_step", "Value", "check_initial_loss",
                 "check_overfit", "GradientStats"):
        assert f"`{name}" in GUIDE or f".{name}`" in GUIDE or f"{name}(" in GUIDE, name
        assert re.search(rf"^\s*(def|class) {name}\b", SOURCE, re.M), name


def test_the_instruments_are_all_named():
    for where in ("tinynet/tools/scalar.py", "tinynet/tools/gradcheck.py", "tinynet/tools/trace.py",
                  "tinynet/tools/sanity.py", "tinynet/tools/gradient_stats.py", "examples/course/",
                  "docs/backprop.md"):
        assert f"`{where}" in GUIDE, where
