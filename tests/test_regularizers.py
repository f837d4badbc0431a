"""Regularizers: penalties and gradients on hand-computed values, and a numerical check of each gradient."""
import numpy as np
import pytest

from tinynet import regularizers

W = np.array([[1.0, -2.0], [0.0, 3.0]])


def test_l1_penalty_and_gradient():
    r = regularizers.l1(0.01)
    assert r(W) == pytest.approx(0.01 * 6)                          # |1| + |-2| + |0| + |3|
    assert np.allclose(r.gradient(W), 0.01 * np.array([[1, -1], [0, 1]]))


def test_l2_penalty_and_gradient():
    r = regularizers.l2(0.01)
    assert r(W) == pytest.approx(0.01 * 14)                         # 1 + 4 + 0 + 9, no 1/2
    assert np.allclose(r.gradient(W), 0.02 * W)


def test_l1_l2_defaults_and_sum():
    r = regularizers.l1_l2()                                        # Keras's function: both 0.01
    assert (r.l1, r.l2) == (0.01, 0.01)
    assert r(W) == pytest.approx(0.01 * 6 + 0.01 * 14)
    assert regularizers.L1L2()(W) == 0                              # the class: both 0
    assert np.allclose(regularizers.L1L2(l1=0.1, l2=0.2).gradient(W), 0.1 * np.sign(W) + 0.4 * W)


@pytest.mark.parametrize("r", [regularizers.L1(0.3), regularizers.L2(0.3), regularizers.L1L2(0.1, 0.2)])
def test_gradient_matches_centred_differences(r):
    rng = np.random.default_rng(0)
    w = rng.normal(size=(4, 3))
    w[np.abs(w) < 0.05] = 0.5  # stay away from the kink of |w|
    numeric = np.zeros_like(w)
    h = 1e-6
    for index in np.ndindex(w.shape):
        plus, minus = w.copy(), w.copy()
        plus[index] += h
        minus[index] -= h
        numeric[index] = (r(plus) - r(minus)) / (2 * h)
    assert np.allclose(r.gradient(w), numeric, rtol=1e-6, atol=1e-8)


def test_get_by_name_config_and_instance():
    assert regularizers.get(None) is None
    assert isinstance(regularizers.get("l2"), regularizers.L2) and regularizers.get("l2").l2 == 0.01
    r = regularizers.get({"class_name": "L1L2", "config": {"l1": 0.0, "l2": 0.5}})
    assert (r.l1, r.l2) == (0.0, 0.5)
    same = regularizers.L1(0.2)
    assert regularizers.get(same) is same
    assert regularizers.L2.from_config(regularizers.L2(0.3).get_config()).l2 == 0.3


def test_bad_values_are_refused():
    with pytest.raises(ValueError, match="l2"):
        regularizers.l2(-1)
    with pytest.raises(ValueError, match="Unknown regularizer"):
        regularizers.get("l3")
    with pytest.raises(ValueError, match="gradient"):
        regularizers.get(lambda w: 0.0)  # a penalty without its gradient
