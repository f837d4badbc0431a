"""The ``Callback`` base class, ``CallbackList`` which calls a hook on all of them, and the
monitor helpers (``'auto'`` mode, a missing monitored value) that several callbacks share."""
import warnings


class Callback:
    """Base class: override the hooks you need. ``self.model`` is the model being fitted."""

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


class CallbackList:
    """Calls a hook on every callback in order."""

    def __init__(self, callbacks, model, params):
        self.callbacks = list(callbacks)
        for callback in self.callbacks:
            callback.set_model(model)
            callback.set_params(params)

    def __getattr__(self, hook):
        if not hook.startswith("on_"):
            raise AttributeError(hook)

        def call_all(*args):
            for callback in self.callbacks:
                getattr(callback, hook)(*args)
        return call_all



def _monitor_mode(mode, monitor, owner):
    """'min' or 'max' for ``monitor``. ``'auto'`` follows Keras: accuracies and AUC go up, everything else down."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{owner}: received an invalid value for `mode`, expected 'auto', 'min' or 'max'. "
                         f"Received: mode={mode!r}")
    if mode != "auto":
        return mode
    name = monitor.removeprefix("val_")
    return "max" if "acc" in name or "auc" in name else "min"


def _monitored(logs, monitor, owner):
    """The monitored value from ``logs``, or None (with Keras's warning) when it is not there."""
    value = (logs or {}).get(monitor)
    if value is None:
        warnings.warn(f"{owner} is conditioned on metric `{monitor}` which is not available. "
                      f"Available metrics are: {','.join(logs or {})}", stacklevel=3)
    return value
