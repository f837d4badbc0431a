"""Keras's progress bar: number and time formats, and the one-line-per-epoch verbose=2 form."""
import io

import pytest

from tinynet.core import progbar
from tinynet.core.progbar import Progbar, format_time_per_unit, format_value


def test_progbar_formats():
    assert format_value(0.05234) == "0.0523" and format_value(1e-5) == "1.0000e-05"
    assert format_time_per_unit(0.007, "step") == "7ms/step"
    assert format_time_per_unit(3.0, "step") == "3s/step"
    assert format_time_per_unit(0.0001, "step") == "100us/step"


def test_progbar_verbose_2_picks_keras_units_for_epoch_and_step(monkeypatch):
    clock = iter([100.0, 100.186])  # start, then the end of a 313-step epoch 186 ms later
    monkeypatch.setattr(progbar.time, "perf_counter", lambda: next(clock))
    stream = io.StringIO()
    bar = Progbar(313, verbose=2, stream=stream)
    bar.update(313, [("loss", 0.25), ("accuracy", 0.9)])
    assert stream.getvalue() == "313/313 - 0s - loss: 0.2500 - accuracy: 0.9000 - 186ms/epoch - 594us/step\n"


def test_progbar_refuses_bad_settings():
    with pytest.raises(ValueError, match="Received: verbose=3"):
        Progbar(10, verbose=3)
    with pytest.raises(ValueError, match="Received: target=-1"):
        Progbar(-1)
