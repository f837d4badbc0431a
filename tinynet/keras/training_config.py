"""Keras's compile settings (loss, metrics, optimizer) and optimizer state <-> tinynet's, from the rows of ``table.py``.

Keras 2 keeps the compile settings in an ``.h5`` file's ``training_config``, Keras 3 in
``config.json``'s ``compile_config``; both name the optimizer by class (``Adam``; ``Custom>Adam``
in Keras 2.11-2.15; just ``"adam"`` in some Keras 3.0 files) with its settings.

Reading: a loss, optimizer or setting tinynet lacks leaves the model uncompiled, with a
``KerasFileWarning`` naming it, never compiled differently. Writing: what Keras's format can hold
is written (a learning-rate schedule, ``clipnorm``, ``clipvalue``, ``global_clipnorm``, Keras 2's
``decay``); what it cannot (Keras 3 has no ``decay``; a loss or optimizer of your own) is left out
with a ``KerasFileWarning`` naming the setting.

An optimizer's state is one array per slot per trainable weight (Adam: ``m`` and ``v``), which
Keras 2 and Keras 3 name and order differently; ``keras2_weights`` and ``keras3_variables``
give them in each one's order, ``slot_key`` reads any Keras spelling back.
"""
import math
import warnings

import numpy as np

from ..core import losses, metrics as metrics_module
from ..core.optimizers.schedules import ALL as SCHEDULES
from ..core.checks import short_repr
from ..io.errors import KerasFileWarning
from . import table
from .file_config import same, snake_case
from .table import LOSS_BY_KERAS, LOSS_BY_TINYNET, OPTIMIZER_BY_KERAS, OPTIMIZER_BY_TINYNET


# ================================================================= reading

def compile_from_config(loss, metrics, optimizer, source, loss_weights=None, weighted_metrics=None):
    """``{'loss', 'metrics', 'loss_weights', 'optimizer'}`` as tinynet compiles it, from Keras's training/compile
    config.

    ``loss`` is ``{'class_name': tinynet loss class, 'config': {...}}``, ``metrics`` a list of names and
    ``{'class_name', 'config'}`` (a metric object with its settings), ``optimizer`` ``{'class_name', 'config',
    'iterations'}``. Returns ``None`` (with a warning: the model loads uncompiled) when the loss or the optimizer
    is one tinynet lacks, or has settings tinynet's lacks; ``None`` without a warning when the file says neither
    (Keras 3 writes ``compile_config: {}`` for an uncompiled model). A metric tinynet lacks, or whose settings
    it lacks, is left out with a warning (never compiled with other settings).
    """
    if loss is None and optimizer is None:
        return None
    loss = loss_from_keras(loss, source)
    optimizer = optimizer_from_keras(optimizer, source)
    if loss is None or optimizer is None:
        return None
    loss_name = losses.ALL[loss["class_name"].lower()].name
    names, weighted, dropped = [], [], []
    for kept, listed in ((names, metrics), (weighted, weighted_metrics)):
        for metric in flatten(listed):
            spec = metric_from_keras(metric, loss_name)
            if spec is None:
                dropped.append(short_repr(metric.get("class_name") if isinstance(metric, dict) else metric))
            else:
                kept.append(spec)
    if dropped:
        warnings.warn(f"{source}: the metrics {', '.join(dropped[:5])}{' ...' if len(dropped) > 5 else ''} are not "
                      "tinynet's (or have settings tinynet's lack); the model is compiled without them",
                      KerasFileWarning, stacklevel=3)
    return {"loss": loss, "metrics": names, "weighted_metrics": weighted, "loss_weights": loss_weights,
            "optimizer": {**optimizer, "iterations": 0}}


# Settings of Keras's metrics that tinynet's lack, and the values that mean "not used".
_METRIC_DEFAULTS = {"num_labels": None, "label_weights": None, "from_logits": False}


def metric_from_keras(metric, loss_name):
    """A metric as tinynet compiles it (a name, or ``{'class_name', 'config'}``), or None when tinynet has
    no such metric or cannot take its settings."""
    if isinstance(metric, dict) and metric.get("class_name") in metrics_module.OBJECTS \
            and isinstance(metric.get("config"), dict):
        config = dict(metric["config"])
        for key, unused in _METRIC_DEFAULTS.items():
            if key in config and same(config[key], unused):
                del config[key]
        spec = {"class_name": metric["class_name"], "config": config}
        try:
            metrics_module.deserialize(spec)
        except (TypeError, ValueError):
            return None
        return spec
    name = metric.get("config", {}).get("name") if isinstance(metric, dict) \
        and isinstance(metric.get("config"), dict) else metric
    name = table.METRICS.get(metric.get("class_name"), name) if isinstance(metric, dict) else name
    try:
        metrics_module.get(name, loss_name)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    return name


def uncompiled(source, why):
    warnings.warn(f"{source}: {why}; the model is loaded uncompiled (compile it to train)", KerasFileWarning,
                  stacklevel=4)


def loss_from_keras(loss, source):
    if isinstance(loss, dict) and loss.get("class_name") == "function" and isinstance(loss.get("config"), str):
        loss = loss["config"]  # Keras 3's form of a loss function named by its name
    if isinstance(loss, str):
        cls = losses.ALL.get(loss.lower())
        if cls is None or cls not in LOSS_BY_TINYNET:
            return uncompiled(source, f"the model was compiled with the loss {loss[:60]!r}, which tinynet lacks")
        return {"class_name": cls.__name__, "config": {}}
    row = LOSS_BY_KERAS.get(loss.get("class_name")) if isinstance(loss, dict) else None
    settings = loss.get("config") if isinstance(loss, dict) else None
    if row is None or not isinstance(settings, dict):
        return uncompiled(source, f"the model was compiled with the loss {repr(loss)[:60]}, which tinynet lacks")
    config, refused = {}, []
    for key, value in settings.items():
        if key == "name" or (key == "reduction" and value in table.MEAN_REDUCTIONS):
            continue
        if key in row.fixed and same(value, row.fixed[key]):
            continue
        if key in row.fixed or key == "reduction":
            refused.append(f"{key}={repr(value)[:40]}")
        else:
            config[key] = value
    if refused:
        return uncompiled(source, f"its {row.keras} loss has settings tinynet's lacks ({', '.join(refused)})")
    try:
        row.tinynet(**config)
    except (TypeError, ValueError) as error:
        return uncompiled(source, f"its {row.keras} loss has settings tinynet's cannot take ({str(error)[:200]})")
    return {"class_name": row.keras, "config": config}


def flatten(value):
    if isinstance(value, list):
        for item in value:
            yield from flatten(item)
    elif isinstance(value, dict) and "class_name" not in value:  # per-output dict of metrics
        for item in value.values():
            yield from flatten(item)
    elif value is not None:
        yield value


def optimizer_from_keras(optimizer, source):
    if isinstance(optimizer, str):
        optimizer = {"class_name": optimizer, "config": {}}
    if not isinstance(optimizer, dict) or not isinstance(optimizer.get("config", {}), dict):
        return uncompiled(source, "the file does not describe its optimizer")
    class_name, settings = optimizer.get("class_name"), dict(optimizer.get("config") or {})
    if isinstance(class_name, str) and class_name.startswith("Custom>") and "is_legacy_optimizer" in settings:
        class_name = class_name[len("Custom>"):]  # how Keras 2.11-2.15 name their own new optimizers
    by_lower = {name.lower(): row for name, row in OPTIMIZER_BY_KERAS.items()}
    row = by_lower.get(class_name.lower()) if isinstance(class_name, str) else None
    if row is None:
        return uncompiled(source, f"the optimizer {repr(class_name)[:60]} is not one tinynet has "
                                  f"({', '.join(OPTIMIZER_BY_KERAS)})")
    if "lr" in settings and "learning_rate" not in settings:
        settings["learning_rate"] = settings["lr"]
    config, refused = {}, []
    fixed = {**table.KERAS3_OPTIMIZER_FIXED, **row.fixed}
    for key, value in settings.items():
        if key in ("name", "lr", "is_legacy_optimizer", "jit_compile"):
            continue
        if key == "learning_rate":
            value = learning_rate_from_keras(value)
            if value is None:
                refused.append(f"learning_rate={repr(settings[key])[:60]}")
            else:
                config[key] = value
        elif key in table.COMMON_OPTIMIZER_KEYS:
            if value not in (None, 0, 0.0):
                config[key] = value
        elif key in row.keys and key not in row.fixed:
            config[key] = value
        elif key in fixed:
            if not same(value, fixed[key]):
                refused.append(f"{key}={repr(value)[:40]}")
        elif value not in (None, False, 0, 0.0):
            refused.append(f"{key}={repr(value)[:40]}")
    if refused:
        return uncompiled(source, f"the {row.keras} optimizer has settings tinynet's lacks ({', '.join(refused)})")
    try:
        row.tinynet(**config)
    except (TypeError, ValueError) as error:
        return uncompiled(source, f"the {row.keras} optimizer's settings are not ones tinynet's takes "
                                  f"({str(error)[:200]})")
    return {"class_name": row.keras, "config": config}


def learning_rate_from_keras(value):
    """A number, or a schedule tinynet has as ``{'class_name', 'config'}``; None for anything else."""
    if type(value) in (int, float) and math.isfinite(value):
        return value
    if isinstance(value, dict) and value.get("class_name") in SCHEDULES and isinstance(value.get("config"), dict):
        return {"class_name": value["class_name"], "config": value["config"]}
    return None


# ================================================================= writing

def keras2_training_config(model):
    """The ``training_config`` of a Keras 2 ``.h5``, or None (with a warning) when Keras cannot hold the loss or
    the optimizer; None for an uncompiled model."""
    if getattr(model, "loss", None) is None:
        return None
    if len(getattr(model, "output_losses", ())) > 1:
        return not_held(f"Model '{model.name}''s {len(model.output_losses)} output losses",
                        "tinynet writes one loss to a Keras file")
    loss, optimizer = loss_to_keras(model, keras3=False), optimizer_to_keras(model.optimizer, keras3=False)
    if loss is None or optimizer is None:
        return None
    return {"loss": loss, "metrics": metrics_to_keras(model, keras3=False),
            "weighted_metrics": metrics_to_keras(model, keras3=False, weighted=True) or None,
            "loss_weights": loss_weights_to_keras(model), "optimizer_config": optimizer}


def keras3_compile_config(model):
    """``config.json``'s ``compile_config`` of a Keras 3 ``.keras`` (None as ``keras2_training_config``)."""
    if getattr(model, "loss", None) is None:
        return None
    if len(getattr(model, "output_losses", ())) > 1:
        return not_held(f"Model '{model.name}''s {len(model.output_losses)} output losses",
                        "tinynet writes one loss to a Keras file")
    loss, optimizer = loss_to_keras(model, keras3=True), optimizer_to_keras(model.optimizer, keras3=True)
    if loss is None or optimizer is None:
        return None
    return {"optimizer": optimizer, "loss": loss, "loss_weights": loss_weights_to_keras(model),
            "metrics": metrics_to_keras(model, keras3=True),
            "weighted_metrics": metrics_to_keras(model, keras3=True, weighted=True) or None, "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False}


def not_held(what, why):
    warnings.warn(f"{what} cannot be held by a Keras file ({why}); the file is written without the model's compile "
                  "settings (loss, metrics, optimizer)", KerasFileWarning, stacklevel=5)


def loss_to_keras(model, keras3):
    """The model's loss as Keras writes it: the function's name, or the class with its settings."""
    # With loss_takes_logits the model compiled the user's cross-entropy on probabilities as its
    # from_logits twin, to hand it the logits: the file holds what the user compiled.
    loss = model.loss.with_settings(from_logits=False) if model.loss_takes_logits else model.loss
    row = LOSS_BY_TINYNET.get(type(loss))
    if row is None:
        return not_held(f"The loss {type(loss).__name__}", "Keras has no such loss")
    settings = loss.get_config()
    if not settings:
        return row.function
    # Keras 2 wrote reduction='auto', which Keras 3 refuses; both read 'sum_over_batch_size' (the mean).
    config = {"name": loss.name, "reduction": "sum_over_batch_size", **settings, **row.fixed}
    if not keras3:
        return {"class_name": row.keras, "config": config}
    return {"module": "keras.losses", "class_name": row.keras, "config": config, "registered_name": None}


def loss_weights_to_keras(model):
    """``compile(loss_weights=...)`` as Keras writes it: one number per output, or None when all are 1."""
    weights = list(getattr(model, "loss_weights", None) or [])
    return None if all(w == 1 for w in weights) else weights


def metrics_to_keras(model, keras3, weighted=False):
    """The metrics (or ``weighted_metrics``) as Keras writes them: a metric given by name as its name, a
    metric object as its class and settings (Keras 3 adds the module)."""
    written, unknown = [], []
    for metric in model.metrics_of_compile(weighted):
        spec = metrics_module.serialize(metric, weighted)
        if isinstance(spec, dict) and spec["class_name"] in table.METRICS:
            spec = {"class_name": spec["class_name"], "config": spec["config"]}
            written.append({"module": "keras.metrics", **spec, "registered_name": None} if keras3 else spec)
        elif spec in KERAS_METRIC_NAMES:
            written.append(spec)
        else:
            unknown.append(repr(metric.name))
    if unknown:
        warnings.warn(f"The metrics {', '.join(unknown)} are not Keras's; the Keras file is written "
                      "without them", KerasFileWarning, stacklevel=5)
    return written


KERAS_METRIC_NAMES = {*table.METRICS.values(), "acc", "mean_squared_error", "mean_absolute_error"}


def optimizer_to_keras(optimizer, keras3):
    """``{'class_name', 'config'}`` of the optimizer as Keras writes it, or None (with a warning) when Keras has
    no such optimizer. A setting Keras's format cannot hold is left out with a warning naming it."""
    row = OPTIMIZER_BY_TINYNET.get(type(optimizer))
    if row is None:
        return not_held(f"The optimizer {type(optimizer).__name__}", "Keras has no such optimizer")
    settings = optimizer.get_config()
    lost = sorted(key for key in settings if key not in (*table.COMMON_OPTIMIZER_KEYS, *row.keys))
    if keras3 and settings.get("decay"):
        lost.insert(0, "decay")
    if not keras3 and settings.get("weight_decay") and "weight_decay" not in row.keys:
        lost.append("weight_decay")  # tf.keras 2.10's optimizers have no weight decay (its AdamW has)
    if lost:
        named = ", ".join(f"{key}={settings[key]!r}" for key in lost)
        hint = " (a learning-rate schedule such as InverseTimeDecay does decay's work)" if "decay" in lost else ""
        kind = "3 .keras" if keras3 else "2 .h5"
        warnings.warn(f"The {row.keras} optimizer's {named} cannot be held by a Keras {kind} file, which is written "
                      f"without it{hint}", KerasFileWarning, stacklevel=4)
    rate = settings["learning_rate"]
    if isinstance(rate, dict):  # Keras 3 finds a schedule by its module, even in a Keras 2 .h5
        rate = {"module": "keras.optimizers.schedules", **rate, "registered_name": None}
    config = {"name": snake_case(row.keras) if keras3 else row.keras, "learning_rate": rate}
    if keras3:
        config.update({key: settings.get(key) for key in ("clipnorm", "global_clipnorm", "clipvalue", "weight_decay")})
        config.update({key: value for key, value in table.KERAS3_OPTIMIZER_FIXED.items() if key not in row.keys})
    else:
        if settings.get("decay"):  # Keras 2.10 writes decay=0.0 too, which Keras 3 warns it ignores
            config["decay"] = float(settings["decay"])
        config.update({key: settings[key] for key in ("clipnorm", "global_clipnorm", "clipvalue")
                       if settings.get(key) is not None})
    config.update({key: row.fixed[key] if key in row.fixed else settings[key] for key in row.keys})
    config = {key: float(value) if type(value) is int else value for key, value in config.items()}
    if not keras3:
        return {"class_name": row.keras, "config": config}
    return {"module": "keras.optimizers", "class_name": row.keras, "config": config, "registered_name": None}


# ================================================================= optimizer state

def slots(row, settings):
    """The row's slots that an optimizer with these settings has (SGD's momentum only with momentum > 0 ...)."""
    return [slot for slot in row.slots if slot.only_if is None or settings.get(slot.only_if)]


def keras_state(optimizer, parameter):
    """``{slot: array}`` of ``parameter``'s state, under tinynet's keys (Keras's zeros before the first step)."""
    row = OPTIMIZER_BY_TINYNET[type(optimizer)]
    state = optimizer.state.get(parameter) or {}
    zeros = np.zeros(parameter.shape, np.float32)
    return {slot.tinynet: np.asarray(state.get(slot.tinynet, zeros), np.float32)
            for slot in slots(row, optimizer.get_config())}


def scalar(optimizer, name):
    """A scalar Keras keeps beside the slots: Nadam's product of its momentum schedule up to this step,
    prod_i beta_1 (1 - 0.5 * 0.96^(0.004 i)) in Keras 2 (``momentum_cache``, tinynet's schedule), and
    prod_i beta_1 (1 - 0.5 * 0.96^i) in Keras 3 (an unnamed ``variable``: Keras 3 changed the schedule)."""
    assert name in ("momentum_cache", "variable"), name
    if name == "momentum_cache":  # tinynet's schedule: the product as the steps ran (each with its beta_1)
        return np.asarray(optimizer.product_so_far, np.float32)
    # NOTE: each factor is below beta_1 < 1, so past a million steps the product is 0 in any float.
    steps = np.arange(1, min(optimizer.iterations, 10 ** 6) + 1, dtype=np.float64)
    exponent = 0.004 * steps if name == "momentum_cache" else steps
    mu = optimizer.beta_1 * (1 - 0.5 * 0.96 ** exponent)
    return np.asarray(np.exp(np.sum(np.log(mu))), np.float32)


def keras2_weights(optimizer, parameters):
    """``(names, arrays)`` of Keras 2's ``optimizer_weights``: the step count, the scalars, then every slot of
    each weight in turn (``Adam/dense/kernel/m:0`` for all weights, then their ``v``)."""
    row = OPTIMIZER_BY_TINYNET[type(optimizer)]
    names = [f"{row.keras}/iter:0", *(f"{row.keras}/{name}:0" for name in row.keras2_scalars)]
    arrays = [np.asarray(optimizer.iterations, np.int64), *(scalar(optimizer, name) for name in row.keras2_scalars)]
    states = [keras_state(optimizer, p) for p in parameters]
    for slot in slots(row, optimizer.get_config()):
        for parameter, state in zip(parameters, states):
            layer_name, weight = parameter.name.rsplit("/", 1)
            names.append(f"{row.keras}/{layer_name}/{weight}/{slot.keras2}:0")
            arrays.append(state[slot.tinynet])
    return names, arrays


def keras3_layout(row, settings, n):
    """What Keras 3 stores at each index of ``optimizer/vars``: ``'iteration'``, ``'learning_rate'`` (unless a
    schedule gives it), then ``(slot, weight index)`` (each weight's slots together, then the slots only
    some settings make), then the scalars."""
    always = [slot for slot in slots(row, settings) if slot.only_if is None]
    sometimes = [slot for slot in slots(row, settings) if slot.only_if is not None]
    rate = [] if isinstance(settings.get("learning_rate"), dict) else ["learning_rate"]
    return (["iteration", *rate] + [(slot, i) for i in range(n) for slot in always]
            + [(slot, i) for slot in sometimes for i in range(n)] + list(row.keras3_scalars))


def keras3_variables(optimizer, parameters):
    """The arrays of Keras 3's ``optimizer/vars``, in ``keras3_layout``'s order."""
    row = OPTIMIZER_BY_TINYNET[type(optimizer)]
    states = [keras_state(optimizer, p) for p in parameters]
    arrays = []
    for entry in keras3_layout(row, optimizer.get_config(), len(parameters)):
        if entry == "iteration":
            arrays.append(np.asarray(optimizer.iterations, np.int64))
        elif entry == "learning_rate":
            arrays.append(np.asarray(float(optimizer.learning_rate), np.float32))
        elif isinstance(entry, tuple):
            slot, i = entry
            arrays.append(states[i][slot.tinynet])
        else:
            arrays.append(scalar(optimizer, entry))
    return arrays


def slot_key(class_name, name, settings):
    """tinynet's key for a slot of a Keras optimizer's state, from its name in any Keras version's file;
    ``'scalar'`` for a value tinynet computes (Nadam's momentum product), ``'off'`` for a slot of a
    setting that is off (Keras 2.2's Adam kept ``vhat`` without amsgrad); None when tinynet has no such slot."""
    row = OPTIMIZER_BY_KERAS[class_name]
    if name in (*row.keras2_scalars, *row.keras3_scalars):
        return "scalar"
    for slot in row.slots:
        if name in (slot.keras2, slot.keras3, *OLDER_SLOT_NAMES.get((class_name, slot.tinynet), ())):
            return slot.tinynet if slot.only_if is None or settings.get(slot.only_if) else "off"
    return None


# The slot names of Keras 2.0-2.3.
OLDER_SLOT_NAMES = {("SGD", "momentum"): ("moment", "m"), ("RMSprop", "velocity"): ("accumulator",)}


def keras3_slot_names(class_name):
    """Every name a Keras 3 slot or scalar has, longest first (a variable's path ends with one)."""
    row = OPTIMIZER_BY_KERAS[class_name]
    return sorted({*(slot.keras3 for slot in row.slots), *row.keras3_scalars}, key=len, reverse=True)
