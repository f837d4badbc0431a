"""``History`` (the per-epoch logs ``fit`` returns) and ``EpochTimer`` (each epoch's wall time)."""
import json
import time

from .base import Callback


class History(Callback):
    """Records ``logs`` at each epoch end: ``history.history['val_loss'][e]`` is epoch e's."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def to_json(self, path=None):
        """The history as JSON text (``{"epoch": [...], "history": {...}}``); also written to ``path`` if given.

        JSON rather than pickle (seed 002 pickles ``history.history``): anyone can read
        it, and loading it never runs code.
        """
        text = json.dumps({"epoch": [int(e) for e in self.epoch],
                           "history": {k: [float(v) for v in values] for k, values in self.history.items()}})
        if path is not None:
            with open(path, "w", encoding="utf-8") as file:
                file.write(text)
        return text

    @classmethod
    def from_json(cls, text=None, path=None):
        """A ``History`` from ``to_json``'s text, or from the file at ``path``."""
        if (text is None) == (path is None):
            raise ValueError("History.from_json needs exactly one of `text` or `path`. "
                             f"Received: text={text!r:.40}, path={path!r}")
        if path is not None:
            with open(path, encoding="utf-8") as file:
                text = file.read()
        data = json.loads(text)
        if not isinstance(data, dict) or not isinstance(data.get("history"), dict):
            raise ValueError(f"History.from_json expects the JSON written by History.to_json, with a 'history' "
                             f"object. Received: {text[:60]!r}")
        history = cls()
        history.history = {key: list(values) for key, values in data["history"].items()}
        history.epoch = list(data.get("epoch", range(len(next(iter(history.history.values()), [])))))
        return history


class EpochTimer(Callback):
    """Records each epoch's wall time in seconds (validation included) in ``seconds``."""

    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)
