"""Learning-rate schedules at given steps, against Keras's documented formulas computed by hand."""
import math

import pytest

from tinynet.core.optimizers import schedules


def test_exponential_decay():
    s = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert s(0) == pytest.approx(0.1)
    assert s(5) == pytest.approx(0.1 * 0.5 ** 0.5)
    assert s(20) == pytest.approx(0.025)
    stairs = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
    assert stairs(9) == pytest.approx(0.1)
    assert stairs(10) == pytest.approx(0.05)
    assert stairs(25) == pytest.approx(0.025)


def test_piecewise_constant_decay():
    # Keras's docstring example: 1.0 for the first 100001 steps, 0.5 for the next 10000, 0.1 after.
    s = schedules.PiecewiseConstantDecay([100000, 110000], [1.0, 0.5, 0.1])
    assert [s(0), s(100000), s(100001), s(110000), s(110001)] == [1.0, 1.0, 0.5, 0.5, 0.1]
    with pytest.raises(ValueError, match="one more"):
        schedules.PiecewiseConstantDecay([1, 2], [1.0, 0.5])


def test_inverse_time_decay():
    s = schedules.InverseTimeDecay(0.1, decay_steps=1.0, decay_rate=0.5)
    assert s(0) == pytest.approx(0.1)
    assert s(2) == pytest.approx(0.1 / 2)
    stairs = schedules.InverseTimeDecay(0.1, decay_steps=10, decay_rate=1.0, staircase=True)
    assert stairs(9) == pytest.approx(0.1)
    assert stairs(15) == pytest.approx(0.05)


def test_cosine_decay():
    s = schedules.CosineDecay(1.0, decay_steps=100, alpha=0.1)
    assert s(0) == pytest.approx(1.0)
    assert s(50) == pytest.approx(0.9 * 0.5 + 0.1)
    assert s(100) == pytest.approx(0.1)
    assert s(500) == pytest.approx(0.1)
    assert s(25) == pytest.approx(0.9 * 0.5 * (1 + math.cos(math.pi / 4)) + 0.1)


def test_cosine_decay_with_warmup():
    s = schedules.CosineDecay(0.0, decay_steps=100, warmup_target=1.0, warmup_steps=10)
    assert s(0) == pytest.approx(0.0)
    assert s(5) == pytest.approx(0.5)
    assert s(10) == pytest.approx(1.0)
    assert s(60) == pytest.approx(0.5)
    assert s(110) == pytest.approx(0.0)


def test_polynomial_decay():
    s = schedules.PolynomialDecay(0.1, decay_steps=100, end_learning_rate=0.01, power=1.0)
    assert s(0) == pytest.approx(0.1)
    assert s(50) == pytest.approx(0.055)
    assert s(100) == pytest.approx(0.01)
    assert s(1000) == pytest.approx(0.01)
    square = schedules.PolynomialDecay(0.1, decay_steps=100, end_learning_rate=0.0, power=2.0)
    assert square(50) == pytest.approx(0.025)
    cycle = schedules.PolynomialDecay(0.1, decay_steps=100, end_learning_rate=0.0, cycle=True)
    assert cycle(150) == pytest.approx(0.1 * (1 - 150 / 200))


def test_config_round_trip_and_bad_values():
    s = schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True)
    again = schedules.deserialize(schedules.serialize(s))
    assert again(25) == s(25)
    with pytest.raises(ValueError, match="decay_steps"):
        schedules.ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="step"):
        s(-1)


def test_a_rate_past_the_largest_float_is_inf_not_an_overflow_error():
    growing = schedules.ExponentialDecay(0.01, decay_steps=1, decay_rate=10)
    assert growing(300) == pytest.approx(1e298)
    assert growing(400) == math.inf
    assert schedules.ExponentialDecay(0.01, 1, 10, staircase=True)(400) == math.inf
    assert schedules.ExponentialDecay(0.0, 1, 10)(400) == 0.0


@pytest.mark.parametrize("schedule", [schedules.ExponentialDecay(0.1, 10, 0.5),
                                      schedules.PiecewiseConstantDecay([10], [0.1, 0.01]),
                                      schedules.InverseTimeDecay(0.1, 10, 0.5, staircase=True),
                                      schedules.CosineDecay(0.1, 100, warmup_target=0.2, warmup_steps=10),
                                      schedules.PolynomialDecay(0.1, 100, cycle=True)])
def test_every_schedule_has_a_finite_rate_at_a_huge_step_count(schedule):
    assert math.isfinite(schedule(2 ** 62)) and schedule(2 ** 62) >= 0
