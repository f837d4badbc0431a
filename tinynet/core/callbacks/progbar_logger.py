"""``ProgbarLogger``: prints the epoch header and Keras's progress bar."""
from ..checks import check_int
from ..progbar import Progbar
from .base import Callback


class ProgbarLogger(Callback):
    """Prints ``Epoch 3/20`` and the progress bar (``verbose=1``) or one line per epoch (``verbose=2``)."""

    def __init__(self, verbose=1):
        super().__init__()
        self.verbose = check_int(verbose, "verbose", minimum=0, maximum=2, owner="ProgbarLogger")

    def on_epoch_begin(self, epoch, logs=None):
        print(f"Epoch {epoch + 1}/{self.params['epochs']}", flush=True)
        self.progbar = Progbar(self.params["steps"], verbose=self.verbose)  # None: a generator's unknown length
        self.seen = 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen = batch + 1
        if self.params["steps"] is None or batch + 1 < self.params["steps"]:
            self.progbar.update(batch + 1, list((logs or {}).items()), finalize=False)

    def on_epoch_end(self, epoch, logs=None):
        steps = self.params["steps"] if self.params["steps"] is not None else self.seen
        self.progbar.update(steps, list((logs or {}).items()), finalize=True)
