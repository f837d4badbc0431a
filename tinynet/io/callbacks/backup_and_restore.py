"""``BackupAndRestore``: resume a ``fit`` that was interrupted (killed, Ctrl-C, a crash, a divergence)."""
import contextlib
import json
import os

from ...core.callbacks.base import Callback
from ...core.checks import check_bool, invalid, short_repr
from ...core.utils import rng

try:
    import fcntl
except ImportError:  # Windows: no advisory locks, so two fits sharing a backup_dir are not detected there
    fcntl = None

# tinynet writes ~40 bytes; anything longer is not a training state, and is not read whole.
MAX_STATE_BYTES = 10_000


class BackupAndRestore(Callback):
    """Back the model up at the end of each epoch; when ``fit`` starts again, restore it and go on.

        backup = BackupAndRestore(backup_dir="/tmp/backup")
        model.fit(x, y, epochs=10, callbacks=[backup])   # killed during epoch 6
        model.fit(x, y, epochs=10, callbacks=[backup])   # same call: restores epoch 5, runs epochs 6..10

    In ``backup_dir`` the model (weights, optimizer state and settings -- a learning-rate
    schedule goes on from its step --, and the random state that shuffles the next epoch)
    is written with ``model.save`` as ``backup-<epoch>.npz``, then ``training_state.json``
    names that file and the epoch; each is replaced atomically, so a kill at any moment
    leaves a consistent pair. Resumed, the run gives the weights an uninterrupted run gives.

    When ``fit`` ends at an epoch's end (all epochs run, or a callback such as EarlyStopping
    stopped it) the backup is deleted, unless ``delete_checkpoint=False``. A fit that ends
    inside an epoch -- Ctrl-C, a crash, a divergence (also one ``TerminateOnNaN`` stops) --
    keeps it, so the next fit starts again from the last whole epoch.

    Refused with an error that says why, before anything changes: a damaged
    ``training_state.json``, a backup of another model (other weight shapes or another
    optimizer), and a ``backup_dir`` that another running fit is using (each fit needs
    its own: ``fit`` holds a lock on ``backup_dir/training.lock`` while it runs).

    To resume, ``on_train_begin`` sets ``model._initial_epoch`` to the epoch after the
    backup, which ``fit`` reads after ``on_train_begin`` (as Keras 3's trainer does).
    """

    STATE = "training_state.json"
    LOCK = "training.lock"

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True):
        super().__init__()
        if not isinstance(backup_dir, (str, os.PathLike)) or not os.fspath(backup_dir):
            raise invalid("backup_dir", "a directory path", backup_dir, "BackupAndRestore", error=TypeError)
        if save_freq != "epoch":
            raise invalid("save_freq", "'epoch' (tinynet backs up after whole epochs only)", save_freq,
                          "BackupAndRestore")
        self.backup_dir = os.fspath(backup_dir)
        self.delete_checkpoint = check_bool(delete_checkpoint, "delete_checkpoint", owner="BackupAndRestore")
        self._lock = None  # the open lock file while a fit of this callback holds backup_dir

    @property
    def state_path(self):
        return os.path.join(self.backup_dir, self.STATE)

    # ----- the hooks ---------------------------------------------------------
    def on_train_begin(self, logs=None):
        self.last_epoch = None  # the last epoch backed up (or restored)
        self.inside_epoch = False
        self._hold_lock()
        try:
            state = self._read_state()
            if state is not None:
                self._restore(state)
        except BaseException:
            self._release_lock()
            raise

    def on_epoch_begin(self, epoch, logs=None):
        self.inside_epoch = True

    def on_epoch_end(self, epoch, logs=None):
        previous = self._read_state()
        name = f"backup-{epoch}.npz"
        self.model.save(os.path.join(self.backup_dir, name))
        from ..atomic import atomic_write  # here: `import tinynet` loads no file-writing code
        with atomic_write(self.state_path) as file:
            file.write(json.dumps({"epoch": epoch, "file": name}).encode("utf-8"))
        if previous is not None and previous["file"] != name:
            _remove(os.path.join(self.backup_dir, previous["file"]))
        self.last_epoch = epoch
        self.inside_epoch = False

    def on_train_end(self, logs=None):
        # fit also calls on_train_end when Ctrl-C or a divergence stops it inside an epoch: keep the backup then.
        finished = (self.last_epoch is not None and not self.inside_epoch
                    and (self.last_epoch + 1 >= self.params.get("epochs", 0) or self.model.stop_training))
        if finished and self.delete_checkpoint:
            state = self._read_state()
            _remove(self.state_path)
            if state is not None:
                _remove(os.path.join(self.backup_dir, state["file"]))
        self._release_lock()

    # ----- reading and restoring ----------------------------------------------
    def _read_state(self):
        """``{'epoch': e, 'file': 'backup-e.npz'}`` from ``training_state.json``, None without one; a
        ValueError for anything tinynet did not write."""
        try:
            with open(self.state_path, "rb") as file:
                data = file.read(MAX_STATE_BYTES + 1)
        except FileNotFoundError:
            return None
        if len(data) > MAX_STATE_BYTES:
            raise self._damaged(f"is longer than the {MAX_STATE_BYTES:,} bytes a training state takes")
        try:
            state = json.loads(data.decode("utf-8"))
        # UnicodeDecodeError is a ValueError: not UTF-8 text; RecursionError: deeply nested brackets.
        except (ValueError, RecursionError) as error:
            raise self._damaged(f"is not JSON ({short_repr(str(error))})") from None
        if not (isinstance(state, dict) and sorted(state) == ["epoch", "file"] and type(state["epoch"]) is int
                and state["epoch"] >= 0 and state["file"] == f"backup-{state['epoch']}.npz"):
            raise self._damaged("is not a training state written by tinynet: it must be "
                                f"{{\"epoch\": <epoch >= 0>, \"file\": \"backup-<epoch>.npz\"}}. "
                                f"Received: {short_repr(state)}")
        if not os.path.isfile(os.path.join(self.backup_dir, state["file"])):
            raise self._damaged(f"names {state['file']}, which is not there")
        return state

    def _damaged(self, what):
        return ValueError(f"BackupAndRestore: {self.state_path} {what}. Delete the directory {self.backup_dir} "
                          "to start training from scratch.")

    def _restore(self, state):
        """Give the model the backup's weights, optimizer (state, step count, learning rate or schedule) and
        random state -- all of it, after checking that the backup is of this model and optimizer."""
        from ...keras.saving import load_model  # here: saving is only needed when there is a backup
        path = os.path.join(self.backup_dir, state["file"])
        random_state = rng().bit_generator.state
        restored = load_model(path)  # sets the random state to the backup's
        try:
            _check_same_model(self.model, restored, path)
        except ValueError:
            rng().bit_generator.state = random_state
            raise
        self.model.set_weights(restored.get_weights())
        target, source = self.model.optimizer, restored.optimizer
        target.iterations = source.iterations
        target.learning_rate = source.get_config()["learning_rate"]  # a number, or the schedule's config
        target.state = {new: source.state[old] for old, new in zip(restored.trainable_weights,
                                                                   self.model.trainable_weights)
                        if old in source.state}
        self.model._initial_epoch = state["epoch"] + 1
        self.last_epoch = state["epoch"]

    # ----- one fit at a time per backup_dir ------------------------------------
    def _hold_lock(self):
        """Lock ``backup_dir`` for this fit (an OS lock, released when the fit ends or the process dies);
        a RuntimeError if another fit, in this process or another, holds it."""
        os.makedirs(self.backup_dir, exist_ok=True)
        if fcntl is None or self._lock is not None:  # this object holds it already: its last fit raised
            return
        path = os.path.join(self.backup_dir, self.LOCK)
        file = open(path, "a+", encoding="utf-8")
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.seek(0)
            holder = file.read(40).strip()
            file.close()
            where = "in this process" if holder == str(os.getpid()) else f"in process {holder or '?'}"
            raise RuntimeError(
                f"BackupAndRestore: {self.backup_dir} is in use by another fit ({where}), whose backups "
                "this fit would overwrite and resume from. Give each fit its own backup_dir.") from None
        if not (os.path.exists(path) and os.path.samestat(os.fstat(file.fileno()), os.stat(path))):
            # The fit that held it ended and deleted the file after we opened it: lock the new one.
            file.close()
            return self._hold_lock()
        file.seek(0)
        file.truncate()
        file.write(str(os.getpid()))
        file.flush()
        self._lock = file

    def _release_lock(self):
        if self._lock is not None:
            _remove(self._lock.name)
            self._lock.close()  # closing the file releases the lock
            self._lock = None


def _check_same_model(model, restored, path):
    """Refuse a backup of another model: other weight shapes, other trainable weights, another optimizer."""
    ours, theirs = [p.shape for p in model.weights], [p.shape for p in restored.weights]
    problem = None
    if len(ours) != len(theirs):
        problem = f"it has {len(theirs)} weight arrays, this model {len(ours)}"
    elif ours != theirs:
        i = next(i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b)
        problem = f"its weight {i} has shape {theirs[i]}, this model's {ours[i]}"
    elif [p.shape for p in model.trainable_weights] != [p.shape for p in restored.trainable_weights]:
        problem = "other weights are trainable"
    elif type(model.optimizer) is not type(restored.optimizer):
        theirs, ours = type(restored.optimizer).__name__, type(model.optimizer).__name__
        problem = f"it was trained by {theirs}, this model by {ours}"
    if problem is not None:
        raise ValueError(f"BackupAndRestore: {path} is the backup of another model ({problem}); nothing was "
                         "restored. Give this model another backup_dir, or delete that one to start from scratch.")


def _remove(path):
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)
