"""What keeps a model usable when training goes wrong: divergence and Ctrl-C.

``fit`` uses the three pieces here:

- ``WeightSnapshot`` makes each optimizer step all-or-nothing. The trainable
  weights are copied just before ``optimizer.apply``; if the update fails half-way
  (an exception, a forced Ctrl-C) or leaves a weight infinite or NaN, the copy is
  put back, so the weights are always those after one whole step.
- ``TrainingDivergedError`` is what ``fit`` raises when the loss (checked before
  the update it would drive) or the updated weights stop being finite numbers.
- ``StopAfterBatch`` turns the first Ctrl-C during ``fit`` into a request that
  ``fit`` honours once the current batch is done; a second Ctrl-C stops at once.
"""
import signal
import sys
import threading

import numpy as np


class TrainingDivergedError(FloatingPointError):
    """Training stopped because the loss or the weights became NaN or infinite.

    The model keeps the weights of the last finite step. Attributes: ``epoch`` and
    ``batch`` (0-based, as callbacks see them; None outside ``fit``), ``loss`` (the
    non-finite batch loss, or None when the weights were the problem) and
    ``history`` (the ``History`` of the completed epochs).
    """

    def __init__(self, message, epoch=None, batch=None, loss=None, history=None):
        super().__init__(message)
        self.epoch, self.batch, self.loss, self.history = epoch, batch, loss, history


class WeightSnapshot:
    """A copy of some parameters' weights, taken before an update so it can be undone.

    The buffers are allocated once; ``take`` is one copy of the weights per step
    (an Adam step already reads and writes each weight several times).
    """

    def __init__(self, parameters):
        self.parameters = list(parameters)
        self.copies = [np.empty_like(p.data) for p in self.parameters]

    def take(self):
        for copy, parameter in zip(self.copies, self.parameters):
            np.copyto(copy, parameter.data)

    def restore(self):
        for copy, parameter in zip(self.copies, self.parameters):
            np.copyto(parameter.data, copy)

    def all_finite(self):
        # NOTE: a sum is NaN or infinite when any term is, and costs one read of the
        # weights with no temporary array. It also overflows if the weights are
        # astronomically large (sum > 3e38 in float32), which is divergence as well.
        return all(np.isfinite(parameter.data.sum()) for parameter in self.parameters)


class StopAfterBatch:
    """Context manager: the first Ctrl-C sets ``requested`` instead of raising.

    ``fit`` checks ``requested`` after each batch and at each epoch end, so training
    stops between steps and no batch is left half done. A second Ctrl-C raises
    KeyboardInterrupt at once, as usual (a step cut short that way is rolled back
    by ``WeightSnapshot``).

    Signal handlers can only be set in the main thread, and only Python's default
    handler is replaced: elsewhere (a worker thread, Ctrl-C ignored or handled by
    the application) this does nothing and Ctrl-C behaves as it did.
    """

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self):
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)
        return self

    def __exit__(self, *exc_info):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
        return False

    def _on_sigint(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("\nInterrupted: training stops after the current batch (press Ctrl-C again to stop at once).",
              file=sys.stderr, flush=True)
