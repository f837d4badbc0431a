"""Callbacks: objects whose hooks ``fit`` calls at the start and end of training,
of each epoch and of each batch. ``History`` records the per-epoch logs;
``ProgbarLogger`` prints Keras's progress. ``logs`` is a dict such as
``{'loss': 0.05, 'accuracy': 0.98, 'val_loss': ...}``.

The rest are Keras's callbacks with Keras's arguments: ``EarlyStopping``,
``ModelCheckpoint``, ``TerminateOnNaN``, ``LearningRateScheduler``,
``ReduceLROnPlateau``, ``CSVLogger``, ``LambdaCallback``, ``BackupAndRestore``,
``TensorBoard`` (with the optional tensorboardX). Each resets its state in
``on_train_begin``, so one instance can be passed to several ``fit`` calls.

    base.py                 Callback (the hooks), CallbackList (calls them, always with a logs dict)
    history.py              History (with to_json / from_json), EpochTimer
    progbar_logger.py       ProgbarLogger
    early_stopping.py       EarlyStopping, TerminateOnNaN
    checkpoint.py           ModelCheckpoint (a failed write warns; fit goes on)
    backup_and_restore.py   BackupAndRestore
    schedules.py            LearningRateScheduler, ReduceLROnPlateau
    csv_logger.py           CSVLogger
    lambda_callback.py      LambdaCallback
    tensorboard.py          TensorBoard (event files through the optional tensorboardX)
    gradient_stats.py       GradientStats and its plot
"""
from .base import Callback, CallbackList
from .early_stopping import EarlyStopping, TerminateOnNaN
from .history import EpochTimer, History
from .lambda_callback import LambdaCallback
from .progbar_logger import ProgbarLogger
from .schedules import LearningRateScheduler, ReduceLROnPlateau

__all__ = ["Callback", "CallbackList", "EarlyStopping", "EpochTimer", "History", "LambdaCallback",
           "LearningRateScheduler", "ProgbarLogger", "ReduceLROnPlateau", "TerminateOnNaN"]
