"""``TensorBoard``: write the training curves as event files that TensorBoard shows.

    model.fit(x, y, epochs=10, validation_split=0.1, callbacks=[TensorBoard(log_dir="logs")])
    # then: tensorboard --logdir logs

The files are written by tensorboardX, an optional extra: ``pip install "tinynet[tensorboard]"``.
As in Keras, ``log_dir/train`` holds ``epoch_loss``, ``epoch_accuracy``, ... and
``log_dir/validation`` the same tags for the ``val_`` values, so TensorBoard draws the
two runs on one chart. The step is the epoch index. A metric with several thresholds
(``Precision(thresholds=[0.3, 0.7])``) gets one curve per threshold (``epoch_precision/threshold_0.3``).

Each writer's file is named as TensorFlow names its own, ``events.out.tfevents.<time>.<host>.<pid>.<n>``:
two fits in the same second (in one process or several) write two files, never one over the other.
"""
import itertools
import os
import warnings

from ...core.checks import check_int, invalid, is_int
from ...core.callbacks.base import Callback

INSTALL_HINT = ("TensorBoard needs the tensorboardX package to write event files. Install it with "
                "`pip install \"tinynet[tensorboard]\"` (or `pip install tensorboardX`).")


# Numbers the writers of this process, for their file names.
_writers_made = itertools.count()


def _summary_writer_class():
    try:
        from tensorboardX import SummaryWriter
    except ImportError as error:
        raise ImportError(INSTALL_HINT) from error
    return SummaryWriter


class TensorBoard(Callback):
    """Keras's TensorBoard callback: scalars per epoch (and per batch), weight histograms.

    Args:
        log_dir: where the event files go (``train/`` and ``validation/`` below it).
        histogram_freq: every this many epochs, a histogram of each weight
            (``dense/kernel_0``, as Keras names them); 0 writes none.
        update_freq: ``'epoch'``, or an integer n: also write ``batch_loss`` (and the
            batch metrics) every n batches, the step counting batches since training began.

    ``write_graph`` is accepted and ignored (there is no TensorFlow graph);
    ``write_images``, ``profile_batch`` and ``embeddings_freq`` are not supported:
    a non-default value gives a warning.
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0, embeddings_freq=0,
                 embeddings_metadata=None):
        super().__init__()
        self.writer_class = _summary_writer_class()  # fails now, with the install hint, not after an epoch
        if not isinstance(log_dir, (str, os.PathLike)):
            raise invalid("log_dir", "a directory path", log_dir, "TensorBoard", error=TypeError)
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = check_int(histogram_freq, "histogram_freq", minimum=0, owner="TensorBoard")
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and not (is_int(update_freq) and update_freq > 0):
            raise invalid("update_freq", "'epoch', 'batch' or a positive integer", update_freq, "TensorBoard")
        self.update_freq = update_freq
        unsupported = {"write_images": (write_images, False), "write_steps_per_second": (write_steps_per_second, False),
                       "profile_batch": (profile_batch, 0), "embeddings_freq": (embeddings_freq, 0),
                       "embeddings_metadata": (embeddings_metadata, None)}
        for name, (value, default) in unsupported.items():
            if value != default:
                warnings.warn(f"tinynet's TensorBoard does not support `{name}`; it is ignored. "
                              f"Received: {name}={value!r}", stacklevel=2)
        self.writers = {}

    def _writer(self, run):
        if run not in self.writers:
            self.writers[run] = self.writer_class(os.path.join(self.log_dir, run),
                                                  filename_suffix=f".{os.getpid()}.{next(_writers_made)}")
        return self.writers[run]

    def _write_scalars(self, run, tag, value, step):
        """One scalar, or one per threshold for a metric with several (its value is then a list)."""
        if isinstance(value, (list, tuple)):
            name = tag.split("_", 1)[1]  # epoch_precision -> precision
            thresholds = self.thresholds.get(name, range(len(value)))
            for threshold, each in zip(thresholds, value):
                self._writer(run).add_scalar(f"{tag}/threshold_{threshold:g}", float(each), step)
        else:
            self._writer(run).add_scalar(tag, float(value), step)

    def on_train_begin(self, logs=None):
        self.global_step = 0
        self.thresholds = {metric.name: list(metric.thresholds) for metric in getattr(self.model, "metrics", [])
                           if getattr(metric, "thresholds", None) is not None}

    def on_train_batch_end(self, batch, logs=None):
        self.global_step += 1
        if self.update_freq == "epoch" or self.global_step % self.update_freq:
            return
        for name, value in (logs or {}).items():
            self._write_scalars("train", f"batch_{name}", value, self.global_step)

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        optimizer = getattr(self.model, "optimizer", None)
        if "learning_rate" not in logs and isinstance(getattr(optimizer, "learning_rate", None), (int, float)):
            logs["learning_rate"] = optimizer.learning_rate
        for name, value in logs.items():
            run, tag = ("validation", name[4:]) if name.startswith("val_") else ("train", name)
            self._write_scalars(run, f"epoch_{tag}", value, epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            for layer in self.model.layers:
                for name, array in _named_weights(layer):
                    # Keras's tag is the TensorFlow variable name with ':' made '_': dense/kernel:0 -> dense/kernel_0
                    self._writer("train").add_histogram(f"{layer.name}/{name}_0", array, epoch)
        for writer in self.writers.values():
            writer.flush()

    def on_train_end(self, logs=None):
        for writer in self.writers.values():
            writer.close()
        self.writers = {}


def _named_weights(layer):
    """``(name, array)`` for each of the layer's weights, named as Keras names them (``kernel``, ``bias``)."""
    for parameter in layer.weights:
        yield getattr(parameter, "name", "weight").split("/")[-1].split(":")[0], parameter.data
