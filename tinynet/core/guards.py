"""What keeps a model usable when training goes wrong: divergence and Ctrl-C.

A training step is all or nothing (``Model.train_step``, ``Optimizer.apply``: if
it fails half-way, a forced Ctrl-C, or would leave a weight, an optimizer state or
a moving statistic infinite or NaN, none of them changes), so the model is always
the one after a whole step. Around the steps, ``fit`` uses one guard:

- ``TrainingDivergedError`` is what a step raises when the loss (checked before
  the update it would drive) or the updated values stop being finite numbers.
- ``StopAfterBatch`` turns the first Ctrl-C during ``fit`` into a request that
  ``fit`` honours once the current batch is done; a second Ctrl-C stops at once.
- ``TrainingGuard`` holds both for ``fit``: it ends training cleanly on either.
"""
import signal
import sys
import threading


class TrainingDivergedError(FloatingPointError):
    """Training stopped because the loss or the weights became NaN or infinite.

    The model keeps the weights of the last finite step. Attributes: ``reason``,
    ``epoch`` and ``batch`` (0-based, as callbacks see them; None outside ``fit``),
    ``loss`` (the batch loss, non-finite unless the weights were the problem) and
    ``history`` (the ``History`` of the completed epochs).
    """

    def __init__(self, reason, loss=None, advice="", epoch=None, batch=None, history=None):
        where = "" if epoch is None else f" at epoch {epoch + 1}, batch {batch + 1}"
        super().__init__(f"Training diverged{where}: {reason}. {advice}".strip())
        self.reason, self.loss, self.advice = reason, loss, advice
        self.epoch, self.batch, self.history = epoch, batch, history

    def at(self, epoch, batch, history=None):
        """The same error, saying where in ``fit`` it happened."""
        return TrainingDivergedError(self.reason, self.loss, self.advice, epoch, batch, history)


class TrainingGuard:
    """``fit``'s one guard: Ctrl-C and divergence end training between steps, with the model usable.

        with TrainingGuard(model, callbacks) as guard:
            guard.at(epoch, step)     # where fit is, for the messages
            ...one step...
            guard.check()             # after a step: stop here if Ctrl-C was pressed

    - Ctrl-C (``StopAfterBatch``): the step under way finishes, then ``check`` raises
      KeyboardInterrupt. A second Ctrl-C stops at once (the step is all or nothing).
    - A refused step (``TrainingDivergedError`` from ``train_step``): its loss is
      reported to ``on_train_batch_end``, as Keras's fit reports a NaN loss. If a
      callback then sets ``model.stop_training`` (``TerminateOnNaN``), fit ends
      quietly; otherwise the error goes up, naming the epoch and batch.

    Either way ``on_train_end`` runs once on the way out (a checkpoint can save), and
    ``model.history`` holds the completed epochs only.
    """

    def __init__(self, model, callbacks):
        self.model, self.callbacks = model, callbacks
        self.interrupt = StopAfterBatch()
        self.epoch = self.batch = None

    def __enter__(self):
        self.interrupt.__enter__()
        return self

    def at(self, epoch, batch=None):
        self.epoch, self.batch = epoch, batch

    def check(self):
        if self.interrupt.requested:
            where = (f"at the end of epoch {self.epoch + 1}" if self.batch is None
                     else f"after epoch {self.epoch + 1}, batch {self.batch + 1}")
            raise KeyboardInterrupt(f"fit stopped by Ctrl-C {where}")

    def __exit__(self, kind, error, traceback):
        self.interrupt.__exit__(kind, error, traceback)
        if kind is not None and not issubclass(kind, (KeyboardInterrupt, TrainingDivergedError)):
            return False
        history = self.model.history
        if isinstance(error, TrainingDivergedError):
            error = error.at(self.epoch, self.batch, history)
            self.callbacks.on_train_batch_end(self.batch, {"loss": error.loss})
        self.callbacks.on_train_end({key: values[-1] for key, values in history.history.items()})
        if isinstance(error, TrainingDivergedError) and not self.model.stop_training:
            raise error from None
        return isinstance(error, TrainingDivergedError)


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
