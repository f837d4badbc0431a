"""Keras 3's ``.keras`` files: a zip of ``metadata.json``, ``config.json`` and ``model.weights.h5``.

``config.json`` is the model's config (``{"module": "keras", "class_name": "Sequential",
"config": {..., "layers": [...]}, "compile_config": {...}}``); ``model.weights.h5`` keeps
each layer's weights in ``layers/<key>/vars/0..n``, where ``<key>`` is the layer's class in
snake_case numbered in layer order (``conv2d``, ``conv2d_1``, ``dense``) — not the layer's
name — and the optimizer's in ``optimizer/vars/0..n``: the iteration count, the learning
rate, then each trainable weight's slots in turn (Adam: momentum, velocity).

Reading is bounded: members are looked up by name and their declared sizes checked
before anything is decompressed; the JSON is capped; the HDF5 part goes through
``tinynet.io.hdf5``. Nothing in the archive is executed or unpickled. What the configs mean
is the Keras ring's (``tinynet.keras.file_config``, ``training_config``); this module handles the bytes.
"""
import io
import json
import os
import tempfile
import time
import warnings
import zipfile
from pathlib import Path


from ..keras import file_config as keras_config, keras_graph, training_config
from ..keras.table import OPTIMIZER_BY_KERAS
from .atomic import atomic_write
from .errors import KerasFileError, KerasFileWarning
from .hdf5 import H5Reader, require_h5py
from .json_text import MAX_CONFIG_BYTES, parse_json
from .keras_h5 import (KerasModelFile, file_spec, functional_spec, keras3_layer, keras3_model_arrays, optimizer_state,
                       trainable_parameters, trainable_shapes)
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
            config_text = _member(archive, path, "config.json", MAX_CONFIG_BYTES)
            metadata_text = _member(archive, path, "metadata.json", 2 ** 20, required=False)
            weights = _member(archive, path, "model.weights.h5", MAX_WEIGHTS_BYTES, copy_to=Path(scratch) / "w.h5")
        except KerasFileError:
            raise
        except ZIP_ERRORS as error:
            raise KerasFileError(f"{path} is not a readable .keras (zip) file ({cut(str(error))})") from None
        return _archive_spec(path, config_text, metadata_text, weights)


def _archive_spec(path, config_text, metadata_text, weights):
    config = parse_json(config_text, "config.json", path)
    metadata = parse_json(metadata_text, "metadata.json", path) if metadata_text else {}
    keras_version = metadata.get("keras_version") if isinstance(metadata, dict) else None
    version = keras_version if isinstance(keras_version, str) else "3"
    functional = keras_graph.is_functional(config)
    if not functional:
        spec, entries = keras_config.spec_from_config(config, path, version)

    compile_spec = None
    compile_config = config.get("compile_config")
    if isinstance(compile_config, dict):
        compile_spec = training_config.compile_from_config(compile_config.get("loss"), compile_config.get("metrics"),
                                                        compile_config.get("optimizer"), path,
                                                        compile_config.get("loss_weights"),
                                                        compile_config.get("weighted_metrics"))
    with H5Reader(weights, source=f"{path}:model.weights.h5") as reader:
        group = reader.child(reader.root, "layers")
        if functional:
            spec, entries = functional_spec(path, config, version, os.stat(weights).st_size,
                                            lambda model: keras3_model_arrays(reader, group, model))
        else:
            keys = keras_config.keras3_keys([entry["keras_class"] for entry in entries])
            spec["weights"] = []
            for entry, key in zip(entries, keys):
                spec["weights"] += keras3_layer(reader, group, key, entry["weight_shapes"],
                                                f"{entry['label']} (file key {key!r})")
        spec["keras_version"] = keras_version
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
    row = OPTIMIZER_BY_KERAS[optimizer["class_name"]]
    layout = training_config.keras3_layout(row, optimizer["config"], len(shapes))
    if len(variables) != len(layout):
        warnings.warn(f"{reader.source}: the {optimizer['class_name']} optimizer state has {len(variables)} arrays, "
                      f"tinynet's would have {len(layout)}; the state is skipped", KerasFileWarning, stacklevel=3)
        return None
    names = [entry[0].keras3 if isinstance(entry, tuple) else entry for entry in layout]
    slots = [(name, reader.child(variables, str(i), "dataset")) for i, name in enumerate(names)]
    return optimizer_state(reader, optimizer, slots, shapes)


# ----------------------------------------------------------------- writing

def write_keras_archive(model, path):
    """Write ``model`` as a Keras 3 ``.keras`` file (Keras 3's ``keras.models.load_model`` reads it).

    The compile settings Keras cannot hold are left out with a ``KerasFileWarning`` naming them.
    """
    require_h5py()
    layers = keras_config.writable_layers(model, keras3=True)
    config = keras_config.model_config(model, layers, keras3=True)
    compile_config = training_config.keras3_compile_config(model)
    if compile_config is not None:
        config["compile_config"] = compile_config
    metadata = {"keras_version": KERAS3_VERSION, "date_saved": time.strftime("%Y-%m-%d@%H:%M:%S")}
    weights = _weights_file(model, layers, with_optimizer=compile_config is not None)
    with atomic_write(path) as file, zipfile.ZipFile(file, "w", zipfile.ZIP_STORED) as archive:
        # As Keras writes them: the two JSON members dated 1980 (zipfile's default), the weights dated now.
        for name, data in (("metadata.json", json.dumps(metadata)), ("config.json", json.dumps(config))):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o600 << 16
            archive.writestr(info, data)
        info = zipfile.ZipInfo("model.weights.h5", date_time=time.localtime()[:6])
        info.external_attr = 0o600 << 16
        archive.writestr(info, weights)


def _weights_file(model, layers, with_optimizer):
    """The bytes of Keras 3's weights file: ``layers/<key>/vars/<i>``, ``optimizer/vars/<i>`` (when
    ``with_optimizer``: a compiled model whose optimizer Keras has), and the model's empty ``vars``."""
    h5py = require_h5py()
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        _write_layers(f.create_group("layers"), layers)
        if with_optimizer:
            variables = f.create_group("optimizer/vars")
            for i, array in enumerate(training_config.keras3_variables(model.optimizer, trainable_parameters(layers))):
                variables.create_dataset(str(i), data=array)
        f.create_group("vars")
    return buffer.getvalue()


def _write_layers(group, layers):
    """``<key>/vars/<i>`` per layer (``<key>``: its Keras class in snake_case, numbered); a nested model's
    layers under ``<key>/layers``, beside its empty ``<key>/vars``, as Keras 3 writes them."""
    keys = keras_config.keras3_keys([keras_config.keras_class(layer) for layer in layers])
    for layer, key in zip(layers, keys):
        variables = group.create_group(f"{key}/vars")
        if hasattr(layer, "_init_trainer"):
            _write_layers(group.create_group(f"{key}/layers"), keras_config.saved_layers(layer))
            continue
        for i, parameter in enumerate(layer.weights):
            variables.create_dataset(str(i), data=parameter.data)


def write_keras_weights(model, path):
    """Write ``model``'s weights as Keras 3's ``save_weights('w.weights.h5')`` does (the archive's weights part,
    with the optimizer's state when the model is compiled with an optimizer Keras has)."""
    layers = keras_config.writable_layers(model, keras3=True)
    compiled = getattr(model, "loss", None) is not None and \
        type(model.optimizer) in training_config.OPTIMIZER_BY_TINYNET
    data = _weights_file(model, layers, with_optimizer=compiled)
    with atomic_write(path) as file:
        file.write(data)
