"""Saving and loading models: one ``.npz`` file that plain NumPy can read.

``save_model(model, path)`` writes, in one NumPy ``.npz`` archive:

    tinynet_format    "tinynet"           marks the file as ours
    format_version    1                   refused with a clear error if newer than FORMAT_VERSION
    kind              "model" or "weights"
    model_config      JSON: the model's name, input shape, and each layer's
                      class name and ``get_config()``
    weight_names      JSON: the name and shape of every weight, in ``model.weights`` order
    weight/0000 ...   the weight arrays, in ``model.weights`` order
    compile_config    JSON: the loss and the metrics as the user spelled them, the
                      optimizer's class name, ``get_config()`` and ``iterations``,
                      and which state arrays each trainable weight has
    optimizer/0003/m  the optimizer's state arrays, per weight in ``model.trainable_weights`` order
    rng_state         JSON: the state of tinynet's random generator (shuffling, dropout)

Everything is either a JSON string or a numeric array, so
``np.load(path, allow_pickle=False)`` reads it and loading never runs code
from the file. Layer classes are looked up by name among tinynet's own layers
(and any ``custom_objects`` the caller passes), never imported from a name
found in the file.

A file is written to a temporary file beside ``path`` and then renamed onto
it, so a crash or a full disk during ``save`` leaves the previous file intact.
"""
import json
import os
import zipfile
import zlib
from pathlib import Path

import numpy as np

from . import layers as layers_module, losses, metrics as metrics_module, optimizers, utils
from .datasets._cache import atomic_write
from .layers.base import Layer

FORMAT_NAME = "tinynet"
FORMAT_VERSION = 1

# What np.load and reading one member can raise on a damaged archive.
_READ_ERRORS = (OSError, ValueError, EOFError, KeyError, zlib.error, zipfile.BadZipFile)


class ModelFileError(ValueError):
    """A file is not a tinynet model (or weights) file that this version can read.

    The message names the file and the problem: truncated, corrupt, foreign,
    from a newer format version, or not matching the model it is loaded into.
    """


# ----------------------------------------------------------------- writing

def save_model(model, path):
    """Write the architecture, weights, compile settings and optimizer state of ``model`` to ``path``.

    ``load_model(path)`` then returns a model whose ``predict`` is bit-identical
    and whose ``fit`` continues exactly as this one's would have: the optimizer
    state (Adam's moments, momentum, step count) and tinynet's random state
    (the order of the next shuffle, the next dropout masks) are saved too.

    Args:
        model: a built ``Sequential``.
        path: str or os.PathLike; the name is used as given (no extension added).
    """
    arrays = _weights_arrays(model, "model")
    arrays["model_config"] = _json(model_config(model))
    if model.loss is not None:
        compile_config, state_arrays = _compile_config(model)
        arrays["compile_config"] = _json(compile_config)
        arrays.update(state_arrays)
    arrays["rng_state"] = _json(utils.rng().bit_generator.state)
    _write(path, arrays)


def save_weights(model, path):
    """Write only the weights of ``model`` (all of them, in ``model.weights`` order) to ``path``."""
    arrays = _weights_arrays(model, "weights")
    arrays["model_config"] = _json(model_config(model))
    _write(path, arrays)


def model_config(model):
    """The architecture as plain data: ``{'name', 'input_shape', 'layers': [{'class_name', 'config'}]}``."""
    return {
        "class_name": type(model).__name__,
        "name": model.name,
        "input_shape": None if model.input_shape is None else list(model.input_shape[1:]),
        "layers": [{"class_name": type(layer).__name__, "config": layer.get_config()} for layer in model.layers],
    }


def _weights_arrays(model, kind):
    if not model.built:
        raise ValueError(
            f"Model '{model.name}' has not been built yet, so it has no weights to save. Give the first layer "
            "`input_shape=...`, call model.build((None, ...)), or fit the model first.")
    weights = model.weights
    arrays = {
        "tinynet_format": np.array(FORMAT_NAME),
        "format_version": np.array(FORMAT_VERSION),
        "kind": np.array(kind),
        "weight_names": _json([{"name": p.name, "shape": list(p.shape)} for p in weights]),
    }
    for i, parameter in enumerate(weights):
        arrays[f"weight/{i:04d}"] = parameter.data
    return arrays


def _compile_config(model):
    """The compile settings as JSON-able data, and the optimizer's state arrays by key."""
    optimizer = model.optimizer
    state_names, state_arrays = [], {}
    for i, parameter in enumerate(model.trainable_weights):
        state = optimizer.state.get(parameter, None)
        # None: the optimizer has not stepped yet for this weight, so it has no state to restore.
        state_names.append(None if state is None else sorted(state))
        for key, value in (state or {}).items():
            state_arrays[f"optimizer/{i:04d}/{key}"] = value
    config = {
        "loss": {"class_name": type(model.loss).__name__, "config": model.loss.get_config()},
        "metrics": [name for name, _ in model.metrics],
        "optimizer": {"class_name": type(optimizer).__name__, "config": optimizer.get_config(),
                      "iterations": optimizer.iterations, "state": state_names},
    }
    return config, state_arrays


def _json(value):
    return np.array(json.dumps(value, default=_to_json))


def _to_json(value):
    # Configs may hold NumPy scalars or tuples (turned into lists by json itself).
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{value!r} of type {type(value).__name__} cannot be written to a model file")


def _write(path, arrays):
    _check_path(path)
    with atomic_write(path) as file:
        # A file object rather than a name, so np.savez does not append ".npz".
        np.savez(file, **arrays)


def _check_path(path):
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"Received an invalid value for `path`, expected a str or os.PathLike. Received: path={path!r}")


# ----------------------------------------------------------------- reading

def load_model(path, compile=True, custom_objects=None, restore_rng_state=True):
    """Rebuild the model saved by ``save_model`` / ``model.save``.

    Args:
        path: the file.
        compile: compile the model as it was (loss, metrics, optimizer with its
            state), so ``fit`` continues where it stopped. ``False`` gives an
            uncompiled model, enough for ``predict``.
        custom_objects: dict name -> your own layer class or metric function,
            for models that use them (a file can only name them).
        restore_rng_state: set tinynet's random generator back to its state at
            save time, so the next shuffle and dropout masks are the ones the
            saved run would have drawn. ``False`` leaves the generator alone.

    Returns:
        a ``Sequential`` with the saved weights.

    Raises:
        ModelFileError: the file is truncated, corrupt, not a tinynet model file,
            from a newer format version, or names a layer class tinynet lacks.
        FileNotFoundError: there is no such file.
    """
    from .models import Sequential  # here, not at the top: models.py imports this module

    custom_objects = dict(custom_objects or {})
    # Building the layers draws initial weights (overwritten at once) from tinynet's generator;
    # putting its state back afterwards means loading a model never shifts the user's random sequence.
    rng_state = utils.rng().bit_generator.state
    with _open(path) as archive:
        if archive.kind != "model":
            raise ModelFileError(
                f"{path} holds only weights (written by save_weights), not a model: build the model in code "
                "and call model.load_weights(path).")
        config = archive.json("model_config")
        try:
            layers = [_layer_from_config(entry, custom_objects) for entry in config["layers"]]
            model = Sequential(layers, name=config["name"])
            if config["input_shape"] is not None and not model.built:
                model.build((None, *config["input_shape"]))
        except (KeyError, TypeError) as error:
            raise ModelFileError(f"{path}: the model description is damaged ({type(error).__name__}: {error})") from error
        if compile and archive.has("compile_config"):
            _compile_from_config(model, archive, custom_objects)
        # After compiling: restoring the optimizer's state takes one zero step, which may move weights.
        _assign_weights(model, archive)
        if restore_rng_state and archive.has("rng_state"):
            rng_state = archive.json("rng_state")
        utils.rng().bit_generator.state = rng_state
    return model


def load_weights(model, path):
    """Load weights saved by ``save_weights`` or ``save_model`` into the built ``model``.

    The number of weights and every shape must match; the optimizer is left alone.
    """
    if not model.built:
        raise ValueError(
            f"Model '{model.name}' has not been built yet, so it has no weights to load into. Give the first "
            "layer `input_shape=...` or call model.build((None, ...)) first.")
    with _open(path) as archive:
        _assign_weights(model, archive)


def _layer_from_config(entry, custom_objects):
    class_name = entry["class_name"]
    known = {**_layer_registry(), **{k: v for k, v in custom_objects.items() if isinstance(v, type)}}
    if class_name not in known:
        raise ModelFileError(
            f"the file uses the layer class {class_name!r}, which tinynet does not have. Known layers: "
            f"{sorted(known)}. For a layer class of your own, pass custom_objects={{{class_name!r}: YourLayer}}.")
    return known[class_name].from_config(entry["config"])


def _layer_registry():
    """Every layer class tinynet defines, by class name (found by walking Layer's subclasses,
    so new layer modules need no registration; only classes from tinynet's own modules count)."""
    registry, pending = {}, [Layer]
    while pending:
        cls = pending.pop()
        if cls.__module__.startswith(layers_module.__name__):
            registry[cls.__name__] = cls
        pending.extend(cls.__subclasses__())
    return registry


def _assign_weights(model, archive):
    names = archive.json("weight_names")
    weights = model.weights
    if len(names) != len(weights):
        raise ModelFileError(
            f"{archive.path} holds {len(names)} weight arrays, but model '{model.name}' has {len(weights)}: "
            "the file was saved from a different architecture.")
    values = [archive.array(f"weight/{i:04d}") for i in range(len(weights))]
    for parameter, value in zip(weights, values):
        if value.shape != parameter.shape:
            raise ModelFileError(
                f"{archive.path}: weight '{parameter.name}' of model '{model.name}' has shape {parameter.shape}, "
                f"but the file's array for it has shape {value.shape}.")
    # Checked every shape first, so a mismatch leaves the model untouched.
    for parameter, value in zip(weights, values):
        parameter.data[...] = value


def _compile_from_config(model, archive, custom_objects):
    config = archive.json("compile_config")
    try:
        loss_cls = {cls.__name__: cls for cls in losses.ALL.values()}[config["loss"]["class_name"]]
        optimizer_cls = {cls.__name__: cls for cls in optimizers.ALL.values()}[config["optimizer"]["class_name"]]
    except KeyError as error:
        raise ModelFileError(f"{archive.path}: unknown loss or optimizer class {error}") from error
    metrics = []
    for name in config["metrics"]:
        if name in custom_objects:
            metrics.append(custom_objects[name])
            continue
        try:
            metrics_module.get(name, loss_cls.name)
        except ValueError:
            raise ModelFileError(
                f"{archive.path}: the model was compiled with the metric function {name!r}, which a file cannot "
                f"hold. Pass load_model(path, custom_objects={{{name!r}: {name}}}).") from None
        metrics.append(name)
    optimizer = optimizer_cls(**config["optimizer"]["config"])
    model.compile(optimizer=optimizer, loss=loss_cls(**config["loss"]["config"]), metrics=metrics)
    trainable = model.trainable_weights
    state_names = config["optimizer"]["state"]
    if len(state_names) != len(trainable):
        raise ModelFileError(
            f"{archive.path} holds optimizer state for {len(state_names)} trainable weights, but the model has "
            f"{len(trainable)}.")
    # Each optimizer knows what its state holds (Adam: m and v; SGD with momentum: velocity) and
    # creates it the first time it sees a weight. So we let it: one step with zero gradients
    # creates every state array, then the saved values are copied into them.
    for parameter in trainable:
        parameter.grad[...] = 0
    optimizer.apply(trainable)
    for i, (parameter, keys) in enumerate(zip(trainable, state_names)):
        if keys is None:
            # The saved optimizer had not seen this weight yet: it will create its state on first sight.
            del optimizer.state[parameter]
            continue
        state = optimizer.state[parameter]
        if sorted(state) != keys:
            raise ModelFileError(
                f"{archive.path}: the optimizer state of '{parameter.name}' holds {keys}, but "
                f"{type(optimizer).__name__} keeps {sorted(state)}.")
        for key in keys:
            value = archive.array(f"optimizer/{i:04d}/{key}")
            if value.shape != state[key].shape:
                raise ModelFileError(
                    f"{archive.path}: optimizer state '{key}' of '{parameter.name}' has shape {value.shape}, "
                    f"expected {state[key].shape}.")
            state[key][...] = value
    optimizer.iterations = int(config["optimizer"]["iterations"])


class _Archive:
    """An open, checked model file: ``kind``, ``json(key)``, ``array(key)``, ``has(key)``."""

    def __init__(self, path):
        self.path = path
        self._file = open(path, "rb")
        try:
            self._npz = np.load(self._file, allow_pickle=False)
        except _READ_ERRORS as error:
            self._file.close()
            raise ModelFileError(
                f"{path} is not a tinynet model file: it is truncated, corrupt or not an .npz archive "
                f"({type(error).__name__}: {error})") from error
        if not isinstance(self._npz, np.lib.npyio.NpzFile):
            self._file.close()
            raise ModelFileError(f"{path} is a single .npy array, not a tinynet model file")
        self._check_header()

    def _check_header(self):
        if "tinynet_format" not in self._npz.files or str(self.array("tinynet_format")) != FORMAT_NAME:
            self.close()
            raise ModelFileError(
                f"{self.path} is an .npz archive but not a tinynet model file (it holds {sorted(self._npz.files)[:8]})")
        version = int(self.array("format_version"))
        if version > FORMAT_VERSION:
            self.close()
            raise ModelFileError(
                f"{self.path} was written by a newer tinynet (file format version {version}; this tinynet reads "
                f"versions up to {FORMAT_VERSION}). Upgrade tinynet to load it.")
        self.kind = str(self.array("kind"))

    def has(self, key):
        return key in self._npz.files

    def array(self, key):
        if key not in self._npz.files:
            raise ModelFileError(f"{self.path} is incomplete: it has no entry {key!r}")
        try:
            return self._npz[key]
        except _READ_ERRORS as error:
            raise ModelFileError(
                f"{self.path} is corrupt: its entry {key!r} cannot be read ({type(error).__name__}: {error})") from error

    def json(self, key):
        try:
            return json.loads(str(self.array(key)))
        except json.JSONDecodeError as error:
            raise ModelFileError(f"{self.path} is corrupt: its entry {key!r} is not valid JSON ({error})") from error

    def close(self):
        self._npz.close()
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _open(path):
    _check_path(path)
    return _Archive(Path(path))
