"""``CSVLogger``: one CSV row of logs per epoch."""
import csv
import os

from ...core.checks import check_bool, invalid
from ...core.callbacks.base import Callback


class CSVLogger(Callback):
    """Write each epoch's logs as a row of a CSV file: ``epoch,accuracy,loss,val_accuracy,val_loss``.

    Columns are ``epoch`` then the log keys in sorted order, as in Keras.
    ``append=True`` adds to an existing file (without repeating the header).
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        if not isinstance(filename, (str, os.PathLike)):
            raise invalid("filename", "a path (str or os.PathLike)", filename, "CSVLogger", error=TypeError)
        if not isinstance(separator, str) or len(separator) != 1:
            raise invalid("separator", "a one-character string", separator, "CSVLogger")
        self.filename = os.fspath(filename)
        self.separator = separator
        self.append = check_bool(append, "append", owner="CSVLogger")
        self.file = None

    def on_train_begin(self, logs=None):
        write_header = not (self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0)
        self.file = open(self.filename, "a" if self.append else "w", newline="", encoding="utf-8")
        self.writer = None
        self.write_header = write_header

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.writer is None:
            self.keys = sorted(logs)
            self.writer = csv.DictWriter(self.file, fieldnames=["epoch", *self.keys], delimiter=self.separator)
            if self.write_header:
                self.writer.writeheader()
        self.writer.writerow({"epoch": epoch, **{key: logs.get(key, "NA") for key in self.keys}})
        self.file.flush()

    def on_train_end(self, logs=None):
        if self.file is not None:
            self.file.close()
            self.file = None
