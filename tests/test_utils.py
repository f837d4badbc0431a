import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import tinynet
from tinynet.utils import to_categorical


@given(labels=hnp.arrays(np.int64, st.integers(1, 50), elements=st.integers(0, 9)))
def test_to_categorical_round_trip(labels):
    one_hot = to_categorical(labels, 10)
    assert one_hot.dtype == np.float32 and one_hot.shape == (len(labels), 10)
    np.testing.assert_array_equal(one_hot.sum(axis=1), 1)
    np.testing.assert_array_equal(one_hot.argmax(axis=1), labels)


def test_to_categorical_hand_case_and_inferred_classes():
    np.testing.assert_array_equal(to_categorical([2, 0]), [[0, 0, 1], [1, 0, 0]])
    assert to_categorical(np.array([[1], [3]])).shape == (2, 4)


def test_to_categorical_errors():
    with pytest.raises(ValueError, match="num_classes=3"):
        to_categorical([0, 3], 3)
    with pytest.raises(ValueError, match="integer"):
        to_categorical([0.5])


def test_set_random_seed_controls_all_draws():
    tinynet.set_random_seed(5)
    a = tinynet.utils.rng().random(3), np.random.rand(2)
    tinynet.set_random_seed(5)
    b = tinynet.utils.rng().random(3), np.random.rand(2)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    with pytest.raises(ValueError, match="seed"):
        tinynet.set_random_seed(-1)


def test_gradcheck_catches_a_wrong_backward():
    """The checker must be able to fail: a Dense whose backward forgets the transpose is caught."""
    from tinynet import gradcheck
    from tinynet.layers import Dense

    class BrokenDense(Dense):
        def backward(self, dout):
            dx = super().backward(dout)
            self.kernel.grad = self.kernel.grad * 1.01  # a 1 % error
            return dx

    x = np.random.default_rng(0).standard_normal((4, 3))
    errors = gradcheck.check_layer(BrokenDense(3), x)
    assert errors["input"] < 1e-6
    assert errors[[k for k in errors if k.endswith("kernel")][0]] > 1e-3


@pytest.mark.parametrize("num_classes", [-3, 0, 2.5, "3", True])
def test_to_categorical_refuses_a_bad_num_classes(num_classes):
    labels = np.array([0, 1])
    with pytest.raises(ValueError, match=f"expected a positive integer. Received: num_classes={num_classes!r}"):
        to_categorical(labels, num_classes)
    np.testing.assert_array_equal(labels, [0, 1])  # the input is not touched


@pytest.mark.parametrize("labels, shown", [(np.array([2**64 - 1], dtype=np.uint64), "18446744073709551615"),
                                           ([1e20], r"1e\+20"), ([-1, 0], "-1")])
def test_to_categorical_names_the_label_as_given(labels, shown):
    # Before: a uint64 2**64-1 was reported as label -1, a float 1e20 as -9223372036854775808.
    with pytest.raises(ValueError, match=f"Received: y={shown}$"):
        to_categorical(labels)


def test_keras_utils_names():
    pytest.importorskip("tinynet.np_utils")  # the keras-scripts team's module
    from tinynet.utils import np_utils
    np.testing.assert_array_equal(np_utils.to_categorical([1], 2), [[0, 1]])
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        tinynet.utils.nope  # noqa: B018
