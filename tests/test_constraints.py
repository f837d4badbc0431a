"""Constraints on hand-computed values, with Keras's axis conventions."""
import numpy as np
import pytest

from tinynet import constraints

EPS = 1e-7


def test_max_norm_clips_each_column_of_a_dense_kernel():
    # Dense kernel (in=2, out=2): axis=0 -> one norm per output unit (column).
    w = np.array([[3.0, 0.6], [4.0, 0.8]])                         # column norms 5 and 1
    out = constraints.max_norm(2.0)(w)
    assert np.allclose(out[:, 0], np.array([3.0, 4.0]) * 2 / (5 + EPS))
    assert np.allclose(out[:, 1], np.array([0.6, 0.8]) * 1 / (1 + EPS))
    assert np.allclose(w, [[3.0, 0.6], [4.0, 0.8]])                 # the input is left as it was


def test_max_norm_on_a_conv_kernel_with_axis_012():
    w = np.ones((3, 3, 2, 4))                                       # each filter's norm: sqrt(18)
    out = constraints.MaxNorm(max_value=3, axis=[0, 1, 2])(w)
    norms = np.sqrt(np.sum(out ** 2, axis=(0, 1, 2)))
    assert norms.shape == (4,) and np.allclose(norms, 3.0, rtol=1e-6)


def test_non_neg():
    assert np.array_equal(constraints.non_neg()(np.array([-1.0, 0.0, 2.0])), [0.0, 0.0, 2.0])


def test_unit_norm():
    out = constraints.unit_norm()(np.array([[3.0], [4.0]]))
    assert np.allclose(out, [[0.6], [0.8]])
    rows = constraints.UnitNorm(axis=1)(np.array([[3.0, 4.0], [0.0, 2.0]]))
    assert np.allclose(rows, [[0.6, 0.8], [0.0, 1.0]])


def test_min_max_norm_with_rate():
    w = np.array([[3.0], [4.0]])                                    # norm 5
    full = constraints.min_max_norm(min_value=0.0, max_value=1.0)(w)
    assert np.allclose(np.linalg.norm(full), 1.0)
    half = constraints.MinMaxNorm(min_value=0.0, max_value=1.0, rate=0.5)(w)
    assert np.allclose(np.linalg.norm(half), 3.0)                  # 0.5 * 1 + 0.5 * 5


def test_keeps_float32():
    assert constraints.MaxNorm(1)(np.ones((2, 2), np.float32)).dtype == np.float32


def test_get_and_errors():
    assert constraints.get(None) is None
    assert isinstance(constraints.get("max_norm"), constraints.MaxNorm)
    c = constraints.get({"class_name": "MaxNorm", "config": {"max_value": 3, "axis": 0}})
    assert c.max_value == 3
    with pytest.raises(ValueError, match="max_value"):
        constraints.MaxNorm(0)
    with pytest.raises(ValueError, match="axis"):
        constraints.UnitNorm(axis="rows")
    with pytest.raises(ValueError, match="Unknown constraint"):
        constraints.get("positive")
