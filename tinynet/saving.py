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
import math
import os
import tokenize
import zipfile
import zlib
from pathlib import Path

import numpy as np

from . import layers as layers_module, losses, metrics as metrics_module, optimizers, utils
from .datasets._cache import atomic_write
from .layers.base import Layer

FORMAT_NAME = "tinynet"
FORMAT_VERSION = 1

# What zipfile can raise on a damaged archive, when opening it or reading a member
# (NotImplementedError: a zip feature it lacks, such as a newer zip version).
_READ_ERRORS = (OSError, ValueError, EOFError, KeyError, NotImplementedError, zlib.error, zipfile.BadZipFile)


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
        # A loss the model hands logits to (loss_takes_logits) is saved as the user compiled it.
        "loss": {"class_name": type(model.loss).__name__,
                 "config": {} if model.loss_takes_logits else model.loss.get_config()},
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
#
# A model file may come from anywhere, so nothing read from it is trusted: every JSON field
# is checked for the type the code below uses, every array's .npy header is checked against
# the size of its zip member before any memory is set aside for it, and the errors that
# interpreting damaged content can raise (a bad config given to a layer, a header NumPy cannot
# parse) are caught around the steps that interpret it and reported as ModelFileError.

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
    custom_objects = dict(custom_objects or {})
    # Building the layers draws initial weights (overwritten at once) from tinynet's generator;
    # putting its state back afterwards, also when loading fails, means loading a model never
    # shifts the user's random sequence.
    rng_state = utils.rng().bit_generator.state
    try:
        with _open(path) as archive:
            if archive.kind != "model":
                raise ModelFileError(
                    f"{path} holds only weights (written by save_weights), not a model: build the model in code "
                    "and call model.load_weights(path).")
            model = _model_from_config(archive, custom_objects)
            if compile and archive.has("compile_config"):
                _compile_from_config(model, archive, custom_objects)
            _assign_weights(model, archive)
            if restore_rng_state and archive.has("rng_state"):
                rng_state = _rng_state_from_file(archive)
    finally:
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


def _model_from_config(archive, custom_objects):
    from .models import Sequential  # here, not at the top: models.py imports this module

    config = archive.json("model_config")
    name = _field(archive, config, "name", str, "model_config")
    input_shape = _field(archive, config, "input_shape", (list, type(None)), "model_config")
    _check_input_shape(archive, input_shape, "model_config.input_shape")
    entries = _field(archive, config, "layers", list, "model_config")
    if not entries:
        raise ModelFileError(f"{archive.path} is corrupt: model_config.layers is empty (a saved model has layers)")
    layers = [_layer_from_config(archive, i, entry, custom_objects) for i, entry in enumerate(entries)]
    # The layers were each valid on their own; now they must also fit together (a Reshape that
    # receives the wrong number of values, a pooling window larger than its input, ...).
    try:
        model = Sequential(layers, name=name)
        if input_shape is not None and not model.built:
            model.build((None, *input_shape))
    except (TypeError, ValueError) as error:
        raise ModelFileError(
            f"{archive.path}: the saved layers do not fit together into a model ({_cut(str(error))})") from error
    except MemoryError as error:
        raise ModelFileError(
            f"{archive.path}: the model it describes is too large to build in memory ({error})") from error
    if not model.built:
        # save_model refuses unbuilt models, so a saved model always knows its input shape.
        raise ModelFileError(f"{archive.path} is corrupt: it does not say the model's input shape")
    return model


def _layer_from_config(archive, index, entry, custom_objects):
    where = f"model_config.layers[{index}]"
    class_name = _field(archive, entry, "class_name", str, where)
    config = _field(archive, entry, "config", dict, where)
    known = {**_layer_registry(), **{k: v for k, v in custom_objects.items() if isinstance(v, type)}}
    if class_name not in known:
        raise ModelFileError(
            f"{archive.path} uses the layer class {class_name!r}, which tinynet does not have. Known layers: "
            f"{sorted(known)}. For a layer class of your own, pass custom_objects={{{class_name!r}: YourLayer}}.")
    # Checked here because Layer accepts an empty shape, which would only fail later, inside build.
    _check_input_shape(archive, config.get("input_shape"), f"{where}.config.input_shape")
    # The config's keys become keyword arguments and its values go through the layer's own
    # checks: an unknown key is a TypeError, a bad value a ValueError or TypeError.
    try:
        return known[class_name].from_config(config)
    except (TypeError, ValueError) as error:
        layer = f"{class_name} {config['name']!r}" if isinstance(config.get("name"), str) else class_name
        raise ModelFileError(
            f"{archive.path}: layer {index} ({layer}) cannot be rebuilt from its saved config ({_cut(str(error))})") from error


def _layer_registry():
    """Every concrete layer class tinynet defines, by class name (found by walking Layer's
    subclasses, so new layer modules need no registration; only public classes from tinynet's
    own modules count: not the base ``Layer``, nor private bases such as ``_Pooling2D``)."""
    registry, pending = {}, list(Layer.__subclasses__())
    while pending:
        cls = pending.pop()
        if cls.__module__.startswith(layers_module.__name__) and not cls.__name__.startswith("_"):
            registry[cls.__name__] = cls
        pending.extend(cls.__subclasses__())
    return registry


def _assign_weights(model, archive):
    names = archive.json("weight_names")
    if not isinstance(names, list):
        raise ModelFileError(f"{archive.path} is corrupt: weight_names should be a list, but is {_short(names)}")
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
    loss_entry = _field(archive, config, "loss", dict, "compile_config")
    optimizer_entry = _field(archive, config, "optimizer", dict, "compile_config")
    metric_names = _field(archive, config, "metrics", list, "compile_config")
    loss_cls = _class_named(archive, _field(archive, loss_entry, "class_name", str, "compile_config.loss"),
                            losses.ALL.values(), "loss")
    optimizer_cls = _class_named(archive, _field(archive, optimizer_entry, "class_name", str, "compile_config.optimizer"),
                                 optimizers.ALL.values(), "optimizer")
    loss_config = _field(archive, loss_entry, "config", dict, "compile_config.loss")
    optimizer_config = _field(archive, optimizer_entry, "config", dict, "compile_config.optimizer")
    iterations = _field(archive, optimizer_entry, "iterations", int, "compile_config.optimizer")
    state_names = _field(archive, optimizer_entry, "state", list, "compile_config.optimizer")
    # No run reaches 2**63 steps (Keras keeps the count as an int64), and past a float's range
    # Adam's beta ** t would raise OverflowError at the next step.
    if not 0 <= iterations < 2 ** 63:
        raise ModelFileError(
            f"{archive.path} is corrupt: compile_config.optimizer.iterations should be a step count, but is "
            f"{_short(iterations)}")
    for i, keys in enumerate(state_names):
        if keys is not None and not (isinstance(keys, list) and all(isinstance(key, str) for key in keys)):
            raise ModelFileError(
                f"{archive.path} is corrupt: compile_config.optimizer.state[{i}] should be null or a list of "
                f"names, but is {_short(keys)}")
    metrics = []
    for name in metric_names:
        if not isinstance(name, str):
            raise ModelFileError(
                f"{archive.path} is corrupt: compile_config.metrics should hold metric names, but holds {_short(name)}")
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
    # As for layers: unknown keys are TypeErrors, bad values ValueErrors from the classes' own checks.
    try:
        loss = loss_cls(**loss_config)
        optimizer = optimizer_cls(**optimizer_config)
    except (TypeError, ValueError) as error:
        raise ModelFileError(
            f"{archive.path}: the saved loss or optimizer settings are invalid ({_cut(str(error))})") from error
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    trainable = model.trainable_weights
    if len(state_names) != len(trainable):
        raise ModelFileError(
            f"{archive.path} holds optimizer state for {len(state_names)} trainable weights, but the model has "
            f"{len(trainable)}.")
    # Each optimizer checks the state it is given (names, shapes, finite values; files written
    # before the state took Keras's names are converted) and installs it.
    for i, (parameter, keys) in enumerate(zip(trainable, state_names)):
        if keys is None:
            continue  # the saved optimizer had not seen this weight yet: it creates its state on first sight
        try:
            optimizer.load_state(parameter, {key: archive.array(f"optimizer/{i:04d}/{key}") for key in keys})
        except ValueError as error:
            raise ModelFileError(f"{archive.path}: {error}") from None
    optimizer.iterations = iterations


def _class_named(archive, class_name, classes, what):
    by_name = {cls.__name__: cls for cls in classes}
    if class_name not in by_name:
        raise ModelFileError(
            f"{archive.path}: unknown {what} class {class_name!r}, expected one of {sorted(by_name)}")
    return by_name[class_name]


def _rng_state_from_file(archive):
    """The saved state of tinynet's generator, checked to be one NumPy's PCG64 accepts.

    ``utils.rng()`` is always ``np.random.default_rng``, whose bit generator is PCG64: a 128-bit
    state and increment, and one buffered 32-bit value.
    """
    state = archive.json("rng_state")
    bit_generator = _field(archive, state, "bit_generator", str, "rng_state")
    counters = _field(archive, state, "state", dict, "rng_state")
    fits = (bit_generator == "PCG64"
            and 0 <= _field(archive, counters, "state", int, "rng_state.state") < 2 ** 128
            and 0 <= _field(archive, counters, "inc", int, "rng_state.state") < 2 ** 128
            and _field(archive, state, "has_uint32", int, "rng_state") in (0, 1)
            and 0 <= _field(archive, state, "uinteger", int, "rng_state") < 2 ** 32)
    if not fits:
        raise ModelFileError(f"{archive.path} is corrupt: rng_state is not a state of NumPy's PCG64 generator")
    return state


# How error messages name JSON types.
_JSON_TYPE_NAMES = {dict: "a JSON object", list: "a list", str: "a string", int: "an integer",
                    float: "a number", bool: "true or false", type(None): "null"}


def _field(archive, mapping, key, expected, where):
    """``mapping[key]`` from one of the file's JSON entries, checked to be of type ``expected``.

    ``where`` says where ``mapping`` sits in the file (``model_config.layers[2]``), for the message.
    JSON's true and false arrive as Python bools, which are also ints: a bool is accepted only
    where bool is expected.
    """
    if not isinstance(mapping, dict):
        raise ModelFileError(f"{archive.path} is corrupt: {where} should be a JSON object, but is {_short(mapping)}")
    if key not in mapping:
        raise ModelFileError(f"{archive.path} is corrupt: {where} has no {key!r}")
    value = mapping[key]
    expected = expected if isinstance(expected, tuple) else (expected,)
    if not isinstance(value, expected) or (isinstance(value, bool) and bool not in expected):
        wanted = " or ".join(_JSON_TYPE_NAMES[t] for t in expected)
        raise ModelFileError(f"{archive.path} is corrupt: {where}.{key} should be {wanted}, but is {_short(value)}")
    return value


def _check_input_shape(archive, shape, where):
    """An input shape from the file must be None or a non-empty list of positive integers."""
    if shape is None:
        return
    if not (isinstance(shape, list) and shape and all(
            isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape)):
        raise ModelFileError(
            f"{archive.path} is corrupt: {where} should be a list of positive integers, but is {_short(shape)}")


def _short(value):
    """``repr(value)``, cut short: a hostile file's values can be megabytes long."""
    return _cut(repr(value), 60)


def _cut(text, limit=300):
    """``text`` cut short; for error messages that quote a value from the file."""
    return text if len(text) <= limit else text[:limit - 3] + "..."


# The dtypes each kind of entry may have: weights and optimizer state are float arrays
# (float32, or float64 for gradient checks), the format version an integer.
_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_INT_DTYPES = (np.dtype(np.int32), np.dtype(np.int64))
# Our .npy headers are under 128 bytes; NumPy's own limit is 10000. A small limit keeps
# NumPy's header parser (ast.literal_eval) away from large hostile inputs.
_MAX_NPY_HEADER = 1024
# NOTE: deflate cannot expand data more than about 1032-fold (its best case codes a run of
# 258 bytes in 2 bits), so a deflated member claiming more than that is lying about its size.
_MAX_DEFLATE_RATIO = 1032
# What reading one member can raise on damaged content: _READ_ERRORS, and tokenize.TokenError,
# which NumPy's .npy header parser lets out on an unterminated bracket.
_MEMBER_ERRORS = _READ_ERRORS + (tokenize.TokenError,)


class _Archive:
    """An open, checked model file: ``kind``, ``json(key)``, ``text(key)``, ``array(key)``, ``has(key)``.

    The file is read with ``zipfile`` and ``numpy.lib.format`` rather than ``np.load``, so that each
    member's sizes and its .npy header are checked before anything is read from it: a damaged or
    hostile header cannot make NumPy set aside more memory than the file holds.
    """

    def __init__(self, path):
        self.path = path
        self._file = open(path, "rb")
        try:
            self._size = os.fstat(self._file.fileno()).st_size
            self._zip = self._open_zip()
            # np.savez names each array's member "<key>.npy".
            self._members = {info.filename[:-len(".npy")]: info for info in self._zip.infolist()
                             if info.filename.endswith(".npy")}
            self._check_header()
        except Exception:
            self.close()
            raise

    def _open_zip(self):
        magic = np.lib.format.MAGIC_PREFIX
        if self._file.read(len(magic)) == magic:
            raise ModelFileError(f"{self.path} is a single .npy array, not a tinynet model file")
        self._file.seek(0)
        try:
            return zipfile.ZipFile(self._file)
        except _READ_ERRORS as error:
            raise ModelFileError(
                f"{self.path} is not a tinynet model file: it is truncated, corrupt or not an .npz archive "
                f"({type(error).__name__}: {error})") from error

    def _check_header(self):
        if not self.has("tinynet_format") or self.text("tinynet_format") != FORMAT_NAME:
            raise ModelFileError(
                f"{self.path} is an .npz archive but not a tinynet model file (it holds {sorted(self._members)[:8]})")
        version = self.array("format_version", _INT_DTYPES)
        if version.shape != () or int(version) < 1:
            raise ModelFileError(f"{self.path} is corrupt: its format_version is {_short(version.tolist())}")
        version = int(version)
        if version > FORMAT_VERSION:
            raise ModelFileError(
                f"{self.path} was written by a newer tinynet (file format version {version}; this tinynet reads "
                f"versions up to {FORMAT_VERSION}). Upgrade tinynet to load it.")
        self.kind = self.text("kind")
        if self.kind not in ("model", "weights"):
            raise ModelFileError(f"{self.path} is corrupt: its kind is {_short(self.kind)}, not 'model' or 'weights'")

    def has(self, key):
        return key in self._members

    def array(self, key, dtypes=_FLOAT_DTYPES):
        """Entry ``key`` as a (read-only) array, whose dtype must be one of ``dtypes``."""
        shape, fortran_order, dtype, data = self._read(
            key, lambda dtype: dtype in dtypes, " or ".join(str(dtype) for dtype in dtypes))
        try:
            return np.frombuffer(data, dtype).reshape(shape, order="F" if fortran_order else "C")
        except ValueError as error:  # more axes than NumPy allows, or a size past its limits
            raise ModelFileError(f"{self.path} is corrupt: its entry {key!r} has the shape {_short(shape)} ({error})") from error

    def text(self, key):
        """Entry ``key``, a single string (a name, or JSON)."""
        shape, _, dtype, data = self._read(key, lambda dtype: dtype.kind == "U", "a unicode string")
        if shape != ():
            raise ModelFileError(f"{self.path} is corrupt: its entry {key!r} should be one string, but has shape {shape}")
        # A NumPy string is UTF-32, padded with NULs to the dtype's length. Decoding it here (rather than
        # with str(array)) turns invalid code points into a UnicodeDecodeError instead of a SystemError.
        try:
            return data.decode("utf-32-be" if dtype.byteorder == ">" else "utf-32-le").rstrip("\0")
        except UnicodeDecodeError as error:
            raise ModelFileError(f"{self.path} is corrupt: its entry {key!r} is not valid text ({error})") from error

    def json(self, key):
        text = self.text(key)
        try:
            return json.loads(text)
        # ValueError: not JSON (JSONDecodeError), or an integer longer than Python's 4300-digit limit.
        # RecursionError: brackets nested deeper than the parser recurses.
        except (ValueError, RecursionError) as error:
            raise ModelFileError(
                f"{self.path} is corrupt: its entry {key!r} is not valid JSON ({_cut(str(error))})") from error

    def _read(self, key, accepts, expected):
        """The .npy header (shape, Fortran order, dtype) and the data bytes of entry ``key``.

        ``accepts(dtype)`` says whether the entry may hold that dtype; ``expected`` describes it.
        Everything the header claims is checked against the member's real size before the data is read.
        """
        info = self._member(key)
        try:
            with self._zip.open(info) as member:
                shape, fortran_order, dtype = _read_npy_header(member)
                header_size = member.tell()
        except _MEMBER_ERRORS as error:
            raise ModelFileError(
                f"{self.path} is corrupt: its entry {key!r} has no readable .npy header "
                f"({type(error).__name__}: {_cut(str(error))})") from error
        if not accepts(dtype):
            raise ModelFileError(f"{self.path} is corrupt: its entry {key!r} holds {dtype}, expected {expected}")
        if any(d < 0 for d in shape):
            raise ModelFileError(f"{self.path} is corrupt: its entry {key!r} has the shape {_short(shape)}")
        data_size = math.prod(shape) * dtype.itemsize
        if header_size + data_size != info.file_size:
            raise ModelFileError(
                f"{self.path} is corrupt: its entry {key!r} declares {dtype} of shape {_short(shape)} "
                f"({data_size:,} bytes), but holds {info.file_size - header_size:,} bytes of data")
        try:
            with self._zip.open(info) as member:
                member.read(header_size)
                data = member.read(data_size)
        except _MEMBER_ERRORS as error:
            raise ModelFileError(
                f"{self.path} is corrupt: its entry {key!r} cannot be read ({type(error).__name__}: {error})") from error
        if len(data) != data_size:
            raise ModelFileError(f"{self.path} is corrupt: its entry {key!r} ends early")
        return shape, fortran_order, dtype, data

    def _member(self, key):
        """The zip directory's record of entry ``key``, checked to be a member this file can really hold."""
        info = self._members.get(key)
        if info is None:
            raise ModelFileError(f"{self.path} is incomplete: it has no entry {key!r}")
        if info.flag_bits & 0x1:
            raise ModelFileError(f"{self.path} is corrupt: its entry {key!r} is marked as encrypted")
        if info.compress_type == zipfile.ZIP_STORED:  # np.savez
            sizes_agree = info.file_size == info.compress_size
        elif info.compress_type == zipfile.ZIP_DEFLATED:  # np.savez_compressed
            sizes_agree = info.file_size <= _MAX_DEFLATE_RATIO * info.compress_size
        else:
            raise ModelFileError(
                f"{self.path}: its entry {key!r} uses zip compression method {info.compress_type}; tinynet reads "
                "stored and deflated entries (what np.savez and np.savez_compressed write)")
        # zipfile trusts the directory's sizes; a damaged directory could otherwise ask for gigabytes.
        if info.compress_size > self._size or not sizes_agree:
            raise ModelFileError(
                f"{self.path} is corrupt: the zip directory gives its entry {key!r} {info.compress_size:,} bytes "
                f"compressed and {info.file_size:,} uncompressed, impossible in a {self._size:,}-byte file")
        return info

    def close(self):
        if getattr(self, "_zip", None) is not None:
            self._zip.close()
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _read_npy_header(member):
    """``(shape, fortran_order, dtype)`` from the start of a .npy file; ValueError if it is not one."""
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(member, max_header_size=_MAX_NPY_HEADER)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(member, max_header_size=_MAX_NPY_HEADER)
    raise ValueError(f".npy format version {version}, expected 1.0 or 2.0 (what np.savez writes)")


def _open(path):
    _check_path(path)
    return _Archive(Path(path))
