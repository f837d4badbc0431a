"""Keras's progress bar.

On a terminal it redraws one line in place, with an ETA:

    123/422 [========>.....................] - ETA: 2s - loss: 0.0523 - accuracy: 0.9829

When stdout is not a terminal (a log file, CI) it writes only the finished line:

    422/422 [==============================] - 3s 7ms/step - loss: 0.0523 - accuracy: 0.9829

With ``verbose=2``, one line per epoch, each time in the unit Keras picks for it:

    422/422 - 0s - loss: 0.0523 - accuracy: 0.9829 - 186ms/epoch - 594us/step
"""
import sys
import time

from .checks import check_float, check_int


def format_value(value):
    # Same rule as Keras: 4 decimals, or scientific notation for tiny values.
    return f"{value:.4f}" if abs(value) > 1e-3 else f"{value:.4e}"


def _metrics_text(values):
    return "".join(f" - {name}: {format_value(value)}" for name, value in values)


def format_time_per_unit(seconds, unit):
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit}"
    return f"{seconds * 1e6:.0f}us/{unit}"


def format_eta(seconds):
    if seconds > 3600:
        return f"{int(seconds) // 3600}:{int(seconds) % 3600 // 60:02d}:{int(seconds) % 60:02d}"
    if seconds > 60:
        return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"
    return f"{seconds:.0f}s"


class Progbar:
    """Progress of ``target`` steps. ``verbose=1``: the bar; ``verbose=2``: one line at the end.
    ``target=None`` (a generator's length is not known): ``12/Unknown``, no bar, as Keras prints it."""

    def __init__(self, target, width=30, verbose=1, interval=0.05, unit_name="step", stream=None):
        target = None if target is None else check_int(target, "target", minimum=0, owner="Progbar")
        width = check_int(width, "width", minimum=1, owner="Progbar")
        verbose = check_int(verbose, "verbose", minimum=0, maximum=2, owner="Progbar")
        interval = check_float(interval, "interval", minimum=0, owner="Progbar")
        self.target, self.width, self.verbose = target, width, verbose
        self.interval, self.unit_name = interval, unit_name
        self.stream = stream or sys.stdout
        self.dynamic = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.perf_counter()
        self.last_draw = 0.0
        self.previous_width = 0

    def update(self, current, values=(), finalize=None):
        """Show step ``current`` with ``values``: ``(name, value)`` pairs, already averaged."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        if not self.verbose:
            return
        now = time.perf_counter()
        elapsed = now - self.start
        if self.verbose == 2:
            if finalize:
                metrics = _metrics_text(values)
                # Keras picks the unit of each time on its own: "- 186ms/epoch - 594us/step".
                per_epoch = format_time_per_unit(elapsed, "epoch")
                per_step = format_time_per_unit(elapsed / max(current, 1), self.unit_name)
                target = "Unknown" if self.target is None else self.target
                self.stream.write(f"{current}/{target} - {elapsed:.0f}s{metrics} - {per_epoch} - {per_step}\n")
                self.stream.flush()
            return
        if not finalize and (not self.dynamic or now - self.last_draw < self.interval):
            return
        self.last_draw = now
        metrics = _metrics_text(values)   # formatted only for a line drawn: most batches draw none
        if self.target is None:
            line = f"{current}/Unknown"
        else:
            digits = len(str(self.target))
            done = int(self.width * current / self.target) if self.target else self.width
            bar = ("=" * (done - 1) + (">" if current < self.target else "=")) if done else ""
            line = f"{current:>{digits}}/{self.target} [{bar:.<{self.width}}]"
        if finalize or self.target is None:
            line += f" - {elapsed:.0f}s {format_time_per_unit(elapsed / max(current, 1), self.unit_name)}"
        else:
            line += f" - ETA: {format_eta(elapsed / max(current, 1) * (self.target - current))}"
        line += metrics
        if self.dynamic:
            padding = " " * max(self.previous_width - len(line), 0)
            self.stream.write("\r" + line + padding)
            self.previous_width = len(line)
        else:
            self.stream.write(line)
        if finalize:
            self.stream.write("\n")
        self.stream.flush()
