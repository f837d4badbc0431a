"""``tinynet.callbacks``, Keras's ``keras.callbacks``: the ones ``fit`` itself needs live in the core
(``tinynet/core/callbacks/``), those that write files in ``tinynet/io/callbacks/``, GradientStats with the
learner's tools."""
from ..core.callbacks import *  # noqa: F401,F403
from ..core.callbacks import __all__ as core_callbacks
from ..io.callbacks.backup_and_restore import BackupAndRestore
from ..io.callbacks.checkpoint import CheckpointWarning, ModelCheckpoint
from ..io.callbacks.csv_logger import CSVLogger
from ..io.callbacks.tensorboard import TensorBoard
from ..tools.gradient_stats import GradientStats

__all__ = [*core_callbacks, "BackupAndRestore", "CheckpointWarning", "ModelCheckpoint", "CSVLogger", "TensorBoard",
           "GradientStats"]
