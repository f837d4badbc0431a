"""Keras's compile settings (loss, metrics, optimizer) as tinynet compiles them.

Keras 2 keeps them in an HDF5 file's ``training_config``, Keras 3 in ``config.json``'s
``compile_config``; both name the optimizer by class (``Adam``; ``Custom>Adam`` in Keras
2.11-2.15; just ``"adam"`` in some Keras 3.0 files) with its settings. tinynet has SGD,
RMSprop and Adam; another optimizer, or settings tinynet's lack (weight decay, clipping,
AMSGrad, a learning-rate schedule), leave the model uncompiled with a warning, never
compiled differently.
"""
import math
import warnings

from .keras_config import KerasFileWarning


_LOSSES = {"categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy",
           "mean_squared_error"}
_LOSS_CLASSES = {"CategoricalCrossentropy": "categorical_crossentropy",
                 "SparseCategoricalCrossentropy": "sparse_categorical_crossentropy",
                 "BinaryCrossentropy": "binary_crossentropy", "MeanSquaredError": "mean_squared_error"}
_METRIC_CLASSES = {"Accuracy": "accuracy", "CategoricalAccuracy": "categorical_accuracy",
                   "SparseCategoricalAccuracy": "sparse_categorical_accuracy", "BinaryAccuracy": "binary_accuracy",
                   "MeanSquaredError": "mse"}
# Keras optimizer config key -> tinynet argument; Keras 2.2 spelled the learning rate 'lr'.
_OPTIMIZER_ARGS = {"SGD": ("learning_rate", "momentum", "nesterov"), "RMSprop": ("learning_rate", "rho", "epsilon"),
                   "Adam": ("learning_rate", "beta_1", "beta_2", "epsilon")}
# Settings whose non-default values tinynet's optimizers do not have.
_OPTIMIZER_OFF = ("decay", "weight_decay", "clipnorm", "global_clipnorm", "clipvalue", "use_ema", "amsgrad",
                  "centered", "loss_scale_factor", "gradient_accumulation_steps", "jit_compile", "is_legacy_optimizer")


def compile_from_config(loss, metrics, optimizer, source):
    """``{'loss', 'metrics', 'optimizer'}`` as tinynet compiles it, from Keras's training/compile config.

    ``loss`` is ``{'class_name': tinynet loss class, 'config': {...}}``, ``metrics`` a list of names,
    ``optimizer`` ``{'class_name', 'config', 'iterations'}`` for tinynet's SGD / RMSprop / Adam.
    Returns ``None`` (with a warning: the model loads uncompiled) when the loss or the optimizer
    is one tinynet lacks, or has settings tinynet's lacks.
    """
    from_logits = False
    if isinstance(loss, dict):
        settings = loss.get("config") if isinstance(loss.get("config"), dict) else {}
        from_logits = settings.get("from_logits") is True
        loss = _LOSS_CLASSES.get(loss.get("class_name"), loss.get("class_name"))
    if isinstance(loss, str):
        loss = {"mse": "mean_squared_error", **_LOSS_CLASSES}.get(loss, loss)
    if not isinstance(loss, str) or loss not in _LOSSES or (from_logits and loss == "mean_squared_error"):
        warnings.warn(f"{source}: the model was compiled with loss {loss!r}, which tinynet lacks; it is loaded "
                      "uncompiled", KerasFileWarning, stacklevel=3)
        return None
    optimizer = optimizer_from_config(optimizer, source)
    if optimizer is None:
        return None
    names = []
    for metric in _flatten(metrics):
        name = metric.get("config", {}).get("name") if isinstance(metric, dict) else metric
        name = _METRIC_CLASSES.get(name, name)
        if isinstance(name, str) and name in ("accuracy", "acc", "categorical_accuracy",
                                              "sparse_categorical_accuracy", "binary_accuracy", "mse"):
            names.append(name)
    loss_class = {v: k for k, v in _LOSS_CLASSES.items()}[loss]
    return {"loss": {"class_name": loss_class, "config": {"from_logits": True} if from_logits else {}},
            "metrics": names, "optimizer": {**optimizer, "iterations": 0}}


def _flatten(value):
    if isinstance(value, list):
        for item in value:
            yield from _flatten(item)
    elif isinstance(value, dict) and "class_name" not in value:  # per-output dict of metrics
        for item in value.values():
            yield from _flatten(item)
    elif value is not None:
        yield value


def optimizer_from_config(optimizer, source):
    if isinstance(optimizer, str):
        optimizer = {"class_name": {"sgd": "SGD", "rmsprop": "RMSprop", "adam": "Adam"}.get(optimizer.lower(),
                                                                                               optimizer), "config": {}}
    if not isinstance(optimizer, dict) or not isinstance(optimizer.get("config", {}), dict):
        warnings.warn(f"{source}: the file does not describe its optimizer; the model is loaded uncompiled",
                      KerasFileWarning, stacklevel=4)
        return None
    class_name, settings = optimizer.get("class_name"), optimizer.get("config") or {}
    if isinstance(class_name, str) and class_name.startswith("Custom>") and "is_legacy_optimizer" in settings:
        class_name = class_name[len("Custom>"):]  # how Keras 2.11-2.15 name their own new optimizers
    if isinstance(class_name, str) and class_name.lower() in ("sgd", "rmsprop", "adam"):
        class_name = {"sgd": "SGD", "rmsprop": "RMSprop", "adam": "Adam"}[class_name.lower()]
    if class_name not in _OPTIMIZER_ARGS:
        warnings.warn(f"{source}: the optimizer {class_name!r} is not one tinynet has (SGD, RMSprop, Adam); the "
                      "model is loaded uncompiled (compile it to train)", KerasFileWarning, stacklevel=4)
        return None
    settings = dict(settings)
    if "lr" in settings and "learning_rate" not in settings:
        settings["learning_rate"] = settings["lr"]
    unsupported = [key for key in _OPTIMIZER_OFF if settings.get(key) not in (None, False, 0, 0.0)]
    if class_name == "RMSprop" and settings.get("momentum") not in (None, 0, 0.0):
        unsupported.append("momentum")
    if unsupported or not all(_number(settings.get(key)) for key in _OPTIMIZER_ARGS[class_name]
                              if key != "nesterov" and settings.get(key) is not None):
        warnings.warn(f"{source}: the {class_name} optimizer has settings tinynet's lacks "
                      f"({', '.join(unsupported) or 'a learning-rate schedule'}); the model is loaded uncompiled",
                      KerasFileWarning, stacklevel=4)
        return None
    config = {key: settings[key] for key in _OPTIMIZER_ARGS[class_name] if settings.get(key) is not None}
    if "nesterov" in config:
        config["nesterov"] = bool(config["nesterov"])
    return {"class_name": class_name, "config": config}


def _number(value):
    return type(value) in (int, float) and math.isfinite(value)
