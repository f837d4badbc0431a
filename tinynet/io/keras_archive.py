"""Keras 3's ``.keras`` files: a zip of ``metadata.json``, ``config.json`` and ``model.weights.h5``.

``config.json`` is the model's config (``{"module": "keras", "class_name": "Sequential",
"config": {..., "layers": [...]}, "compile_config": {...}}``); ``model.weights.h5`` keeps
each layer's weights in ``layers/<key>/vars/0..n``, where ``<key>`` is the layer's class in
snake_case numbered in layer order (``conv2d``, ``conv2d_1``, ``dense``) — not the layer's
name — and the optimizer's in ``optimizer/vars/0..n``: the iteration count, the learning
rate, then each trainable weight's slots in turn (Adam: momentum, velocity).

Reading is bounded: members are looked up by name and their declared sizes checked
before anything is decompressed; the JSON is capped; the HDF5 part goes through
``tinynet.io.hdf5``. Nothing in the archive is executed or unpickled.
"""
import io
import json
import tempfile
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np

from . import keras_compile, keras_config, keras_export
from .atomic import atomic_write
from .hdf5 import H5Reader, require_h5py
from .keras_config import KerasFileError, KerasFileWarning
from .keras_export import keras_state, optimizer_settings, trainable_parameters
from .keras_h5 import KerasModelFile, check_writable, file_spec, keras3_layer, optimizer_state, trainable_shapes
from .model_files import cut, listed
from .npz import open_regular_file
from .zips import ZIP_ERRORS, check_directory_size, open_zip

# The Keras 3 release whose archive layout (config keys, dtype strings, groups) this writer follows;
# every later Keras 3 reads it.
KERAS3_VERSION = "3.0.5"
MAX_WEIGHTS_BYTES = 8 * 2 ** 30
MAX_INFLATION = 32 * 2 ** 20


def is_keras_archive(path):
    """True when ``path`` is a zip holding ``config.json`` (what ``load_model`` dispatches on)."""
    try:
        with open_regular_file(path, KerasFileError) as file:
            check_directory_size(file, path, KerasFileError)
            with zipfile.ZipFile(file) as archive:
                return "config.json" in archive.namelist()
    except (KerasFileError, *ZIP_ERRORS):
        return False


def read_keras_archive(path):
    """The tinynet spec of a Keras 3 ``.keras`` file.

    The zip is opened by ``tinynet.io.zips.open_zip`` (a bounded directory, no duplicate or
    encrypted members); ``model.weights.h5`` is copied to a temporary file, which
    ``tinynet.io.hdf5`` reads in a child process.
    """
    with open_regular_file(path, KerasFileError) as file, \
            open_zip(file, path, KerasFileError, "a .keras (zip) file") as archive, \
            tempfile.TemporaryDirectory(prefix="tinynet-keras-") as scratch:
        try:
            config_text = _member(archive, path, "config.json", keras_config.MAX_CONFIG_BYTES)
            metadata_text = _member(archive, path, "metadata.json", 2 ** 20, required=False)
            weights = _member(archive, path, "model.weights.h5", MAX_WEIGHTS_BYTES, copy_to=Path(scratch) / "w.h5")
        except KerasFileError:
            raise
        except ZIP_ERRORS as error:
            raise KerasFileError(f"{path} is not a readable .keras (zip) file ({cut(str(error))})") from None
        return _archive_spec(path, config_text, metadata_text, weights)


def _archive_spec(path, config_text, metadata_text, weights):
    config = keras_config.parse_json(config_text, "config.json", path)
    spec, entries = keras_config.spec_from_config(config, path)
    metadata = keras_config.parse_json(metadata_text, "metadata.json", path) if metadata_text else {}
    spec["keras_version"] = metadata.get("keras_version") if isinstance(metadata, dict) else None

    compile_spec = None
    compile_config = config.get("compile_config")
    if isinstance(compile_config, dict):
        compile_spec = keras_compile.compile_from_config(compile_config.get("loss"), compile_config.get("metrics"),
                                                        compile_config.get("optimizer"), path)
    with H5Reader(weights, source=f"{path}:model.weights.h5") as reader:
        group = reader.child(reader.root, "layers")
        keys = keras_config.keras3_keys([entry["keras_class"] for entry in entries])
        spec["weights"] = []
        for entry, key in zip(entries, keys):
            spec["weights"] += keras3_layer(reader, group, key, entry["weight_shapes"],
                                            f"{entry['label']} (file key {key!r})")
        state = None
        if compile_spec is not None and compile_spec["optimizer"] is not None \
                and reader.has(reader.root, "optimizer"):
            state = _archive_optimizer_state(reader, compile_spec["optimizer"], trainable_shapes(spec, entries))
    spec["compile"], spec["optimizer_state"] = compile_spec, state
    return file_spec(spec, entries, "keras-v3")


class KerasArchiveFile(KerasModelFile):
    """A ``.keras`` file opened for ``tinynet.io.loading`` (see ``KerasModelFile``)."""
    format = "keras-v3"
    read_spec = staticmethod(read_keras_archive)

    @staticmethod
    def is_weights_file(path):
        return False


def _member(archive, path, name, limit, required=True, copy_to=None):
    """Member ``name``'s bytes (or, with ``copy_to``, the path it was copied to), once its declared
    size is known to be at most ``limit`` and no zip bomb; None when absent and not ``required``."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        if not required:
            return None
        raise KerasFileError(f"{path} has no {name} (members: {listed(archive.namelist())}); a Keras 3 model file "
                             "has config.json and model.weights.h5") from None
    if info.file_size > limit:
        raise KerasFileError(f"{path}: {name} declares {info.file_size:,} bytes, more than tinynet reads ({limit:,})")
    # Keras stores its members uncompressed: one that inflates a hundredfold, or by more than
    # MAX_INFLATION, is a zip bomb, not weights.
    if info.compress_type != zipfile.ZIP_STORED and (info.file_size > 100 * info.compress_size + 2 ** 20
                                                     or info.file_size > info.compress_size + MAX_INFLATION):
        raise KerasFileError(f"{path}: {name} inflates {info.compress_size:,} bytes to {info.file_size:,}; refused "
                             f"(Keras stores members uncompressed; tinynet inflates one at most 100-fold and by at "
                             f"most {MAX_INFLATION:,} bytes)")
    with archive.open(info) as member:
        if copy_to is None:
            data = member.read(info.file_size + 1)
            copied = len(data)
        else:
            with open(copy_to, "wb") as out:
                copied = 0
                while copied <= info.file_size and (chunk := member.read(2 ** 20)):
                    out.write(chunk)
                    copied += len(chunk)
    if copied != info.file_size:
        raise KerasFileError(f"{path}: {name} does not hold the {info.file_size:,} bytes the zip directory declares")
    return data if copy_to is None else copy_to


def _archive_optimizer_state(reader, optimizer, shapes):
    variables = reader.child(reader.root, "optimizer/vars")
    per_weight = {"Adam": ["momentum", "velocity"], "RMSprop": ["velocity"],
                  "SGD": ["momentum"] if optimizer["config"].get("momentum") else []}[optimizer["class_name"]]
    expected = 2 + len(per_weight) * len(shapes)
    if len(variables) != expected:
        warnings.warn(f"{reader.source}: the {optimizer['class_name']} optimizer state has {len(variables)} arrays, "
                      f"tinynet's would have {expected}; the state is skipped", KerasFileWarning, stacklevel=3)
        return None
    names = ["iteration", "learning_rate"] + per_weight * len(shapes)
    slots = [(name, reader.child(variables, str(i), "dataset")) for i, name in enumerate(names)]
    return optimizer_state(reader, optimizer, slots, shapes)


# ----------------------------------------------------------------- writing

def write_keras_archive(model, path):
    """Write ``model`` as a Keras 3 ``.keras`` file (Keras 3's ``keras.models.load_model`` reads it)."""
    require_h5py()
    layers = check_writable(model)
    config = keras3_model_config(model, layers)
    metadata = {"keras_version": KERAS3_VERSION, "date_saved": time.strftime("%Y-%m-%d@%H:%M:%S")}
    weights = _weights_file(model, layers)
    with atomic_write(path) as file, zipfile.ZipFile(file, "w", zipfile.ZIP_STORED) as archive:
        # As Keras writes them: the two JSON members dated 1980 (zipfile's default), the weights dated now.
        for name, data in (("metadata.json", json.dumps(metadata)), ("config.json", json.dumps(config))):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o600 << 16
            archive.writestr(info, data)
        info = zipfile.ZipInfo("model.weights.h5", date_time=time.localtime()[:6])
        info.external_attr = 0o600 << 16
        archive.writestr(info, weights)


def keras3_model_config(model, layers):
    shape = [None, *model.input_shape[1:]]
    entries = [{"module": "keras.layers", "class_name": "InputLayer",
                "config": {"batch_shape": shape, "dtype": "float32", "sparse": False, "name": "input_layer"},
                "registered_name": None}]
    for layer in layers:
        class_name, config = keras_export.layer_config(layer, keras3=True)
        entries.append({"module": "keras.layers", "class_name": class_name, "config": config, "registered_name": None,
                        "build_config": {"input_shape": [None, *layer.input_shape]}})
    config = {"module": "keras", "class_name": "Sequential",
              "config": {"name": model.name, "trainable": True, "dtype": "float32", "layers": entries,
                         "build_input_shape": shape},
              "registered_name": None, "build_config": {"input_shape": shape}}
    if getattr(model, "loss", None) is not None:
        class_name, settings = optimizer_settings(model.optimizer)
        settings = {key: value for key, value in settings.items() if key != "decay"}  # Keras 3 has no decay
        config["compile_config"] = {
            "optimizer": {"module": "keras.optimizers", "class_name": class_name,
                          "config": {"name": class_name.lower(), **settings}, "registered_name": None},
            "loss": model.loss.name, "loss_weights": None, "metrics": [metric.name for metric in model.metrics],
            "weighted_metrics": None, "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False}
    return config


def _weights_file(model, layers):
    h5py = require_h5py()
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        group = f.create_group("layers")
        keys = keras_config.keras3_keys([keras_export.keras_class_of(layer)[0] for layer in layers])
        for layer, key in zip(layers, keys):
            variables = group.create_group(f"{key}/vars")
            for i, parameter in enumerate(layer.weights):
                variables.create_dataset(str(i), data=parameter.data)
        if getattr(model, "loss", None) is not None:
            optimizer = model.optimizer
            variables = f.create_group("optimizer/vars")
            arrays = [np.asarray(optimizer.iterations, np.int64), np.asarray(optimizer.learning_rate, np.float32)]
            for parameter in trainable_parameters(layers):
                arrays += list(keras_state(optimizer, parameter).values())
            for i, array in enumerate(arrays):
                variables.create_dataset(str(i), data=array)
        f.create_group("vars")
    return buffer.getvalue()


def write_keras_weights(model, path):
    """Write ``model``'s weights as Keras 3's ``save_weights('w.weights.h5')`` does (the archive's weights part)."""
    layers = check_writable(model)
    data = _weights_file(model, layers)
    with atomic_write(path) as file:
        file.write(data)
