"""Callbacks: objects whose hooks ``fit`` calls at the start and end of training,
of each epoch and of each batch. ``History`` records the per-epoch logs;
``ProgbarLogger`` prints Keras's progress. ``logs`` is a dict such as
``{'loss': 0.05, 'accuracy': 0.98, 'val_loss': ...}``.

The rest are Keras's callbacks with Keras's arguments: ``EarlyStopping``,
``ModelCheckpoint``, ``TerminateOnNaN``, ``LearningRateScheduler``,
``ReduceLROnPlateau``, ``CSVLogger``. Each resets its state in
``on_train_begin``, so one instance can be passed to several ``fit`` calls.
"""
from .base import Callback, CallbackList
from .checkpoint import CheckpointWarning, ModelCheckpoint
from .csv_logger import CSVLogger
from .early_stopping import EarlyStopping, TerminateOnNaN
from .gradient_stats import GradientStats
from .history import EpochTimer, History
from .progbar_logger import ProgbarLogger
from .schedules import LearningRateScheduler, ReduceLROnPlateau

__all__ = ["Callback", "CallbackList", "CheckpointWarning", "CSVLogger", "EarlyStopping", "EpochTimer", "GradientStats", "History",
           "LearningRateScheduler", "ModelCheckpoint", "ProgbarLogger", "ReduceLROnPlateau", "TerminateOnNaN"]
