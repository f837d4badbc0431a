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


def test_progbar_formats():
    from tinynet.progbar import format_time_per_unit, format_value
    assert format_value(0.05234) == "0.0523" and format_value(1e-5) == "1.0000e-05"
    assert format_time_per_unit(0.007, "step") == "7ms/step"
    assert format_time_per_unit(3.0, "step") == "3s/step"
    assert format_time_per_unit(0.0001, "step") == "100us/step"


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


def test_progbar_verbose_2_picks_keras_units_for_epoch_and_step(monkeypatch):
    import io

    from tinynet import progbar
    clock = iter([100.0, 100.186])  # start, then the end of a 313-step epoch 186 ms later
    monkeypatch.setattr(progbar.time, "perf_counter", lambda: next(clock))
    stream = io.StringIO()
    bar = progbar.Progbar(313, verbose=2, stream=stream)
    bar.update(313, [("loss", 0.25), ("accuracy", 0.9)])
    assert stream.getvalue() == "313/313 - 0s - loss: 0.2500 - accuracy: 0.9000 - 186ms/epoch - 594us/step\n"


def test_progbar_refuses_bad_settings():
    from tinynet.progbar import Progbar
    with pytest.raises(ValueError, match="Received: verbose=3"):
        Progbar(10, verbose=3)
    with pytest.raises(ValueError, match="Received: target=-1"):
        Progbar(-1)
