"""The ``Callback`` base class, ``CallbackList`` which calls a hook on all of them, and the
monitor helpers (``'auto'`` mode, a missing monitored value) that several callbacks share."""
import warnings

from ..checks import check_choice, invalid


class Callback:
    """Base class: override the hooks you need. ``self.model`` is the model being fitted.

    Every hook receives ``logs``, a dict (possibly empty): the running means of the
    loss and metrics after a batch, the epoch's values (with ``val_`` ones) after
    an epoch. A callback may add entries, and later callbacks see them.
    """

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass
    def on_train_batch_begin(self, batch, logs=None): self.on_batch_begin(batch, logs)
    def on_train_batch_end(self, batch, logs=None): self.on_batch_end(batch, logs)
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass


class CallbackList:
    """Calls a hook on every callback in order, always with a ``logs`` dict.

    ``callbacks.on_epoch_end(epoch, logs)`` calls ``c.on_epoch_end(epoch, logs)`` for each
    callback ``c``; a hook called without logs passes ``{}``, so a callback written as
    Keras's examples write it (``def on_train_begin(self, logs):``) works.
    """

    def __init__(self, callbacks, model, params):
        if callbacks is None:
            callbacks = []
        if isinstance(callbacks, Callback) or not isinstance(callbacks, (list, tuple)):
            raise TypeError(f"Received an invalid value for `callbacks`, expected a list of Callback instances. "
                            f"Received: callbacks={callbacks!r:.80}")
        for index, callback in enumerate(callbacks):
            if not isinstance(callback, Callback):
                hint = (" To call a function from fit, wrap it: "
                        "tinynet.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: ...)."
                        if callable(callback) and not isinstance(callback, type) else "")
                if isinstance(callback, type) and issubclass(callback, Callback):
                    hint = f" Pass an instance: {callback.__name__}(...), not the class."
                raise TypeError(f"Received an invalid value for `callbacks[{index}]`, expected an instance of "
                                f"tinynet.callbacks.Callback.{hint} Received: callbacks[{index}]={callback!r:.80}")
        self.callbacks = list(callbacks)
        for callback in self.callbacks:
            callback.set_model(model)
            callback.set_params(params)

    def _call(self, hook, *args, logs):
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            getattr(callback, hook)(*args, logs)

    def on_train_begin(self, logs=None): self._call("on_train_begin", logs=logs)
    def on_train_end(self, logs=None): self._call("on_train_end", logs=logs)
    def on_test_begin(self, logs=None): self._call("on_test_begin", logs=logs)
    def on_test_end(self, logs=None): self._call("on_test_end", logs=logs)
    def on_predict_begin(self, logs=None): self._call("on_predict_begin", logs=logs)
    def on_predict_end(self, logs=None): self._call("on_predict_end", logs=logs)
    def on_epoch_begin(self, epoch, logs=None): self._call("on_epoch_begin", epoch, logs=logs)
    def on_epoch_end(self, epoch, logs=None): self._call("on_epoch_end", epoch, logs=logs)
    def on_batch_begin(self, batch, logs=None): self._call("on_batch_begin", batch, logs=logs)
    def on_batch_end(self, batch, logs=None): self._call("on_batch_end", batch, logs=logs)
    def on_train_batch_begin(self, batch, logs=None): self._call("on_train_batch_begin", batch, logs=logs)
    def on_train_batch_end(self, batch, logs=None): self._call("on_train_batch_end", batch, logs=logs)
    def on_test_batch_begin(self, batch, logs=None): self._call("on_test_batch_begin", batch, logs=logs)
    def on_test_batch_end(self, batch, logs=None): self._call("on_test_batch_end", batch, logs=logs)
    def on_predict_batch_begin(self, batch, logs=None): self._call("on_predict_batch_begin", batch, logs=logs)
    def on_predict_batch_end(self, batch, logs=None): self._call("on_predict_batch_end", batch, logs=logs)


def monitor_mode(mode, monitor, owner):
    """'min' or 'max' for ``monitor``. ``'auto'`` follows Keras: accuracies and AUC go up, everything else down."""
    if not isinstance(monitor, str) or not monitor:
        raise invalid("monitor", "the name of a logged value such as 'val_loss'", monitor, owner)
    mode = check_choice(mode, "mode", ("auto", "min", "max"), owner)
    if mode != "auto":
        return mode
    name = monitor.removeprefix("val_")
    return "max" if "acc" in name or "auc" in name else "min"


def monitored(logs, monitor, owner):
    """The monitored value from ``logs``, or None (with Keras's warning) when it is not there."""
    value = (logs or {}).get(monitor)
    if value is None:
        warnings.warn(f"{owner} is conditioned on metric `{monitor}` which is not available. "
                      f"Available metrics are: {','.join(logs or {})}", stacklevel=3)
    return value
