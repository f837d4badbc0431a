"""tinynet.core.checks: one wording for every refused argument."""
import math

import numpy as np
import pytest

from tinynet.core import checks


def test_invalid_wording_owner_and_error_type():
    error = checks.invalid("units", "a positive integer", -3)
    assert isinstance(error, ValueError)
    assert str(error) == "Received an invalid value for `units`, expected a positive integer. Received: units=-3"
    error = checks.invalid("schedule", "a function", 0.1, "LearningRateScheduler", error=TypeError)
    assert isinstance(error, TypeError)
    assert str(error) == ("LearningRateScheduler: received an invalid value for `schedule`, expected a function. "
                          "Received: schedule=0.1")
    assert str(checks.invalid("x", "y", "a" * 200)).endswith("...")  # long values are cut


@pytest.mark.parametrize("value", [True, 1.5, "3", None, -1])
def test_check_int_refuses_bools_floats_strings(value):
    with pytest.raises(ValueError, match=f"expected a non-negative integer. Received: n={value!r}"):
        checks.check_int(value, "n", minimum=0)


def test_check_int_and_float_accept_numpy_scalars():
    assert checks.check_int(np.int64(3), "n", minimum=1) == 3
    assert checks.check_float(np.float32(0.5), "rate", 0, 1) == 0.5
    for bad in (math.nan, math.inf, "0.5", True):
        with pytest.raises(ValueError, match="rate"):
            checks.check_float(bad, "rate", 0, 1)
    with pytest.raises(ValueError, match=r"expected a number in \(0, 1\). Received: factor=1"):
        checks.check_float(1, "factor", 0, 1, min_open=True, max_open=True)


def test_optional_float_and_instance():
    assert checks.check_optional_float(None, "baseline") is None
    assert checks.check_optional_float(0.25, "baseline", minimum=0) == 0.25
    with pytest.raises(ValueError, match="Received: baseline='a'"):
        checks.check_optional_float("a", "baseline")
    assert checks.check_instance([1], "items", list, "a list") == [1]
    with pytest.raises(TypeError, match="expected a list. Received: items=5"):
        checks.check_instance(5, "items", list, "a list")


def test_choice_pair_shape():
    assert checks.check_choice("MAX", "mode", ("min", "max")) == "max"
    assert checks.check_pair(2, "pool_size") == (2, 2)
    assert checks.check_shape(784, "input_shape") == (784,)
    with pytest.raises(ValueError, match=r"Received: input_shape=\(\)"):
        checks.check_shape((), "input_shape")
