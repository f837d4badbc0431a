"""``BackupAndRestore``: resume a ``fit`` that was interrupted (killed, Ctrl-C, a crash)."""
import json
import os

from ...core.checks import check_bool, invalid
from ...core.callbacks.base import Callback


class BackupAndRestore(Callback):
    """Back the model up at the end of each epoch; when ``fit`` starts again, restore it and go on.

        backup = BackupAndRestore(backup_dir="/tmp/backup")
        model.fit(x, y, epochs=10, callbacks=[backup])   # killed during epoch 6
        model.fit(x, y, epochs=10, callbacks=[backup])   # same call: restores epoch 5, runs epochs 6..10

    In ``backup_dir`` the model (weights and optimizer state) is written with
    ``model.save`` as ``backup-<epoch>.npz``, then ``training_state.json`` names that
    file and the epoch; each is replaced atomically, so a kill at any moment leaves a
    consistent pair. When ``fit`` ends normally (all epochs run, or a callback stopped
    it) the backup is deleted, unless ``delete_checkpoint=False``; an interrupted or
    diverged fit keeps it.

    To resume, ``on_train_begin`` sets ``model._initial_epoch`` to the epoch after the
    backup, which ``fit`` reads after ``on_train_begin`` (as Keras 3's trainer does).
    """

    STATE = "training_state.json"

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True):
        super().__init__()
        if not isinstance(backup_dir, (str, os.PathLike)) or not os.fspath(backup_dir):
            raise invalid("backup_dir", "a directory path", backup_dir, "BackupAndRestore", error=TypeError)
        if save_freq != "epoch":
            raise invalid("save_freq", "'epoch' (tinynet backs up after whole epochs only)", save_freq,
                          "BackupAndRestore")
        self.backup_dir = os.fspath(backup_dir)
        self.delete_checkpoint = check_bool(delete_checkpoint, "delete_checkpoint", owner="BackupAndRestore")

    @property
    def state_path(self):
        return os.path.join(self.backup_dir, self.STATE)

    def _read_state(self):
        try:
            with open(self.state_path, encoding="utf-8") as file:
                state = json.load(file)
        except FileNotFoundError:
            return None
        except ValueError as error:
            raise ValueError(f"BackupAndRestore: {self.state_path} is damaged ({error}). Delete the directory "
                             f"{self.backup_dir} to start training from scratch.") from None
        if not (isinstance(state, dict) and isinstance(state.get("epoch"), int) and isinstance(state.get("file"), str)
                and os.path.basename(state["file"]) == state["file"]):
            raise ValueError(f"BackupAndRestore: {self.state_path} is not a training state written by tinynet. "
                             f"Received: {str(state)[:80]}")
        return state

    def on_train_begin(self, logs=None):
        self.last_epoch = None
        state = self._read_state()
        if state is None:
            return
        from ...keras.saving import load_model  # here: saving is only needed when there is a backup
        restored = load_model(os.path.join(self.backup_dir, state["file"]))
        self.model.set_weights(restored.get_weights())
        _take_optimizer_state(self.model, restored)
        self.model._initial_epoch = state["epoch"] + 1

    def on_epoch_end(self, epoch, logs=None):
        os.makedirs(self.backup_dir, exist_ok=True)
        previous = self._read_state()
        name = f"backup-{epoch}.npz"
        self.model.save(os.path.join(self.backup_dir, name))
        temporary = self.state_path + ".tmp"
        with open(temporary, "w", encoding="utf-8") as file:
            json.dump({"epoch": epoch, "file": name}, file)
        os.replace(temporary, self.state_path)
        if previous is not None and previous["file"] != name:
            _remove(os.path.join(self.backup_dir, previous["file"]))
        self.last_epoch = epoch

    def on_train_end(self, logs=None):
        # fit also calls on_train_end when it stops on Ctrl-C or divergence: keep the backup then.
        finished = self.last_epoch is not None and (self.last_epoch + 1 >= self.params.get("epochs", 0)
                                                    or getattr(self.model, "stop_training", False))
        if finished and self.delete_checkpoint:
            state = self._read_state()
            _remove(self.state_path)
            if state is not None:
                _remove(os.path.join(self.backup_dir, state["file"]))


def _take_optimizer_state(model, restored):
    """Give ``model``'s optimizer the restored optimizer's state (moments, step count), parameter by parameter."""
    source, target = restored.optimizer, model.optimizer
    if source is None or target is None or type(source) is not type(target):
        return
    target.iterations = source.iterations
    target.learning_rate = source.get_config()["learning_rate"]  # a number, or the schedule itself
    target.state = {new: source.state[old] for old, new in zip(restored.trainable_weights, model.trainable_weights)
                    if old in source.state}


def _remove(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
