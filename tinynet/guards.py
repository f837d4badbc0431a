"""What keeps a model usable when training goes wrong: divergence and Ctrl-C.

``fit`` uses the two pieces here, and an optimizer step that is all or nothing
(``Optimizer.apply``: if the update fails half-way, a forced Ctrl-C, or would
leave a weight infinite or NaN, no weight changes), so the weights are always
those after one whole step.

- ``TrainingDivergedError`` is what ``fit`` raises when the loss (checked before
  the update it would drive) or the updated weights stop being finite numbers.
- ``StopAfterBatch`` turns the first Ctrl-C during ``fit`` into a request that
  ``fit`` honours once the current batch is done; a second Ctrl-C stops at once.
"""
import signal
import sys
import threading


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


class StopAfterBatch:
    """Context manager: the first Ctrl-C sets ``requested`` instead of raising.

    ``fit`` checks ``requested`` after each batch and at each epoch end, so training
    stops between steps and no batch is left half done. A second Ctrl-C raises
    KeyboardInterrupt at once, as usual (a step cut short that way leaves the
    weights as they were: ``Optimizer.apply``).

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
