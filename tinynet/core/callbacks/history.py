"""``History`` (the per-epoch logs ``fit`` returns) and ``EpochTimer`` (each epoch's wall time)."""
import json
import time

from ..checks import invalid, is_int, is_real
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

        JSON rather than pickle (the CIFAR-100 article, docs/articles.md, pickles ``history.history``): anyone can read
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
        """A ``History`` from ``to_json``'s text, or from the file at ``path``.

        Everything is checked before the History is made: ``history`` maps names to
        lists of numbers (``None`` stands for a missing value), ``epoch`` is a list
        of integers, and all the lists have one entry per epoch.
        """
        if (text is None) == (path is None):
            raise ValueError("History.from_json needs exactly one of `text` or `path`. "
                             f"Received: text={text!r:.40}, path={path!r}")
        if path is not None:
            with open(path, encoding="utf-8") as file:
                text = file.read()
        if not isinstance(text, (str, bytes)):
            raise invalid("text", "the JSON text written by History.to_json", text, "History.from_json",
                          error=TypeError)
        expected = "the JSON written by History.to_json: {\"epoch\": [...], \"history\": {name: [numbers]}}"
        try:
            data = json.loads(text)
        except ValueError as error:
            raise ValueError(f"History.from_json expects {expected}; the text is not JSON ({error}). "
                             f"Received: {text[:60]!r}") from None
        if not isinstance(data, dict) or not isinstance(data.get("history"), dict):
            raise ValueError(f"History.from_json expects {expected}, with a 'history' object. "
                             f"Received: {text[:60]!r}")
        history = {}
        for key, values in data["history"].items():
            if not isinstance(values, list) or not all(v is None or is_real(v) for v in values):
                raise invalid(f"history[{key!r}]", "a list of numbers", values, "History.from_json")
            history[key] = [None if v is None else float(v) for v in values]
        lengths = {len(values) for values in history.values()}
        if len(lengths) > 1:
            raise ValueError(f"History.from_json: the lists in 'history' have different lengths. "
                             f"Received: { {key: len(values) for key, values in history.items()} }")
        epochs = data.get("epoch", list(range(lengths.pop() if lengths else 0)))
        if not isinstance(epochs, list) or not all(is_int(e) for e in epochs) or (
                history and len(epochs) != len(next(iter(history.values())))):
            raise invalid("epoch", "a list of integers, one per entry of each history list", epochs,
                          "History.from_json")
        result = cls()
        result.history = history
        result.epoch = [int(e) for e in epochs]
        return result


class EpochTimer(Callback):
    """Records each epoch's wall time in seconds (validation included) in ``seconds``."""

    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)
