"""Keras's HDF5 files: read full models and weights, write full models Keras loads.

Formats read (the file's content decides, not its name):

- full model, Keras 2 ``model.save('m.h5')`` and Keras 3's legacy ``.h5``: root attributes
  ``model_config`` (JSON), ``training_config``, ``keras_version``, ``backend``; weights in
  ``model_weights/<layer>/``, the layers in ``model_weights.attrs['layer_names']``, each
  layer's weights in the order of its ``attrs['weight_names']`` (paths below the layer's
  group: ``dense/kernel:0`` in Keras 2, ``sequential/dense/kernel`` in Keras 3.5+), never
  the group's alphabetical order (which puts bias before kernel); optimizer state in
  ``optimizer_weights`` with its own ``weight_names``.
- Keras 2 ``save_weights('w.h5')``: the same layer groups at the root, no config.
- Keras 3 ``save_weights('w.weights.h5')``: ``layers/<key>/vars/0..n``, where ``<key>`` is the
  layer's class in snake_case numbered in layer order (``dense``, ``dense_1``, ``re_lu``).

Written: the Keras 2 full-model layout above, as Keras 2.10 writes it (names as
variable-length ASCII strings, ``backend``/``keras_version`` of the root as UTF-8
strings, an empty name list as a float64 array of shape (0,), the empty
``top_level_model_weights`` group), with optimizer state in Keras 2's
``optimizer_weights`` order: ``iter``, then each slot (``m``, then ``v``) for every
trainable weight; and Keras 2's ``save_weights('w.h5')``, the same layer groups at the root.

What each Keras name means (layers, activations, losses, optimizers and their slots) is the
Keras ring's table (``tinynet/keras/table.py``), read through ``tinynet.keras.file_config`` and
``tinynet.keras.training_config``; this module handles the bytes.
"""
import io
import json
import re
import warnings

import numpy as np

from ..keras import file_config as keras_config, keras_graph, training_config
from ..keras.table import OPTIMIZER_BY_KERAS
from .atomic import atomic_write
from .errors import KerasFileError, KerasFileWarning
from .hdf5 import H5Reader, require_h5py
from .json_text import parse_json
from .model_files import check_iterations, listed

KERAS2_VERSION = "2.10.0"


# ----------------------------------------------------------------- reading a full model

def read_keras_h5(path, reader=None):
    """The tinynet spec of a Keras full-model HDF5 file (Keras 2, or Keras 3's legacy ``.h5``);
    ``reader``: the file already read (``H5Reader(path)``), else it is read here."""
    with reader or H5Reader(path) as reader:
        root = reader.root
        if "model_config" not in root.attrs:
            if _is_keras3_weights(reader) or "layer_names" in root.attrs:
                raise KerasFileError(
                    f"{path} holds only weights (Keras save_weights), not a model: build the model in tinynet (or "
                    "from its JSON with model_from_json) and call model.load_weights(path)")
            raise KerasFileError(f"{path} is an HDF5 file but not a Keras model (no model_config attribute)")
        keras_version = reader.text(root, "keras_version", required=False)
        config = parse_json(reader.text(root, "model_config"), "model_config", path)
        if keras_graph.is_functional(config):
            spec, entries = functional_spec(path, config, keras_version, _file_size(path),
                                            lambda model: _keras2_model_arrays(reader, model))
            training = reader.text(root, "training_config", required=False)
            spec["compile"], spec["optimizer_state"] = None, None
            if training is not None:
                spec["compile"], spec["optimizer_state"] = _compile_and_state(reader, training, spec, entries)
            spec["keras_version"] = keras_version
            return file_spec(spec, entries, "keras-h5")
        spec, entries = keras_config.spec_from_config(config, path, keras_version)
        group = reader.child(root, "model_weights")
        layer_names = set(reader.strings(group, "layer_names"))
        spec["weights"] = []
        for entry in entries:
            if entry["weight_shapes"] and entry["keras_name"] not in layer_names:
                raise KerasFileError(f"{path}: {entry['label']} has no weights in model_weights")
            if entry["keras_name"] in layer_names:
                spec["weights"] += _keras2_layer(reader, group, entry["keras_name"], entry["weight_shapes"],
                                                 entry["label"])
        spec["compile"], spec["optimizer_state"] = None, None
        training = reader.text(root, "training_config", required=False)
        if training is not None:
            spec["compile"], spec["optimizer_state"] = _compile_and_state(reader, training, spec, entries)
        spec["keras_version"] = keras_version
    return file_spec(spec, entries, "keras-h5")


def functional_spec(path, config, keras_version, file_bytes, arrays_of):
    """``(spec, entries)`` of a Keras functional model: its graph in tinynet's terms (``keras_graph``), and its
    weights read by ``arrays_of(model)`` into the model the graph builds (made under a bound: no more
    values than the file's bytes could hold), in ``model.weights`` order."""
    from .loading import build_functional

    graph = keras_graph.graph_from_config(config, path, keras_version)
    model = build_functional(graph, path, max_values=file_bytes // 2)
    spec = {"name": model.name, "input_shape": None, "layers": graph["layers"], "graph": graph,
            "weights": arrays_of(model), "trainable_shapes": [p.shape for p in model.trainable_weights]}
    entries = [{"weight_names": [p.name for p in model.weights], "weight_shapes": [p.shape for p in model.weights],
                "trainable_count": None}]
    return spec, entries


def _file_size(path):
    import os
    return os.stat(path).st_size


def _keras2_model_arrays(reader, model):
    """A model's arrays from ``model_weights/<layer>/`` (Keras 2, Keras 3's legacy .h5), layer by layer."""
    group = reader.child(reader.root, "model_weights")
    arrays = []
    for layer in keras_config.saved_layers(model):
        if layer.weights:
            arrays += _keras2_layer(reader, group, layer.name, [p.shape for p in layer.weights],
                                    f"layer '{layer.name}'")
    return arrays


def file_spec(spec, entries, file_format, kind="model"):
    """The spec in the files team's reader format (tinynet.io.model_files): declared names and shapes,
    and the optimizer state as ``{key: shape}`` per trainable weight, besides the arrays."""
    state = spec.get("optimizer_state")
    if state is None and spec.get("compile") is not None:  # compiled, but the optimizer had not stepped
        state = [None] * len(trainable_shapes(spec, entries))
    return {**spec, "format": file_format, "kind": kind, "rng_state": None,
            "weight_names": [name for entry in entries for name in entry["weight_names"]],
            "weight_shapes": [tuple(shape) for entry in entries for shape in entry["weight_shapes"]],
            "optimizer_arrays": state,
            "optimizer_state": None if state is None else [None if s is None else {k: v.shape for k, v in s.items()}
                                                              for s in state]}


class KerasModelFile:
    """A Keras file opened for ``tinynet.io.loading``: ``spec`` and its arrays (read and checked on opening).

    The same methods as ``tinynet.io.model_files.ModelFile``; Keras files are read whole on
    opening, every array checked against the shapes the config implies before it is read.
    ``load_into(model)`` loads a weights file into a built model layer by layer.
    """

    def __init__(self, path):
        self.path = path
        if self.is_weights_file(path):
            self.spec = {"format": self.format, "kind": "weights", "weight_shapes": None}
        else:
            self.spec = self.read_spec(path)

    def read_weights(self):
        return list(self.spec["weights"])

    def read_optimizer_state(self):
        return self.spec["optimizer_arrays"]

    def read(self):
        return {**self.spec, "optimizer_state": self.spec["optimizer_arrays"]}

    def load_into(self, model):
        load_keras_weights(model, self.path)

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


class KerasH5File(KerasModelFile):
    format = "keras-h5"

    def __init__(self, path):
        self.path = path
        self.reader = H5Reader(path)  # the file is read once (in a child process, see tinynet.io.hdf5)
        root = self.reader.root
        if "model_config" not in root.attrs and ("layer_names" in root.attrs or _is_keras3_weights(self.reader)):
            self.spec = {"format": self.format, "kind": "weights", "weight_shapes": None}
        else:
            self.spec = read_keras_h5(path, self.reader)

    def load_into(self, model):
        load_keras_weights(model, self.path, self.reader)


def _keras2_layer(reader, group, layer_name, shapes, label):
    """One layer's arrays from a Keras 2-style layer group, in the order of its ``weight_names``."""
    layer_group = reader.child(group, layer_name)
    names = reader.strings(layer_group, "weight_names")
    if len(names) != len(shapes):
        raise KerasFileError(f"{reader.source}: {label} has {len(names)} weights in the file ({listed(names)}), "
                             f"but the layer has {len(shapes)}")
    return [reader.array(reader.child(layer_group, name, "dataset"), shape, f"{label} weight {name!r}")
            for name, shape in zip(names, shapes)]


def _compile_and_state(reader, training_text, spec, entries):
    training = parse_json(training_text, "training_config", reader.source)
    if not isinstance(training, dict):
        raise KerasFileError(f"{reader.source}: training_config should be a JSON object")
    compile_spec = training_config.compile_from_config(training.get("loss"), training.get("metrics"),
                                                       training.get("optimizer_config"), reader.source,
                                                       training.get("loss_weights"), training.get("weighted_metrics"))
    if compile_spec is None or compile_spec["optimizer"] is None or not reader.has(reader.root, "optimizer_weights"):
        return compile_spec, None
    group = reader.child(reader.root, "optimizer_weights")
    names = reader.strings(group, "weight_names")
    class_name = compile_spec["optimizer"]["class_name"]
    slots = [(slot, reader.child(group, name, "dataset")) for slot, name in zip(_slots_of(names, class_name), names)]
    slots = _positional_slots(slots, compile_spec["optimizer"], len(trainable_shapes(spec, entries)))
    state = optimizer_state(reader, compile_spec["optimizer"], slots, trainable_shapes(spec, entries))
    return compile_spec, state


def _slots_of(names, class_name):
    """The slot each variable of ``optimizer_weights`` holds, from its name, as each Keras version spells it
    (the version is told from all the names once: a file may list 100,000 of them)."""
    keras_2_2 = any(name.split(":")[0].split("/")[-1] == "iterations" for name in names)
    keras_2_11 = "iteration:0" in set(names)
    return [_slot_of(name, keras_2_2, keras_2_11, class_name) for name in names]


def _slot_of(name, keras_2_2, keras_2_11, class_name):
    parts = name.split(":")[0].split("/")
    last = parts[-1]
    if keras_2_2:                        # Keras 2.2-2.3: training/Adam/m_3_1:0
        return "iteration" if last == "iterations" else re.sub(r"(_\d+)+$", "", last)
    if keras_2_11:                       # Keras 2.11-2.15: Adam/m/dense/kernel:0
        return "iteration" if last == "iteration" else (parts[1] if len(parts) > 2 else last)
    if ":" in name:                      # Keras 2.4-2.10: Adam/dense/kernel/m:0
        return "iteration" if last == "iter" else last
    # Keras 3: adam/iteration, adam/sequential_dense_kernel_momentum, adam/..._kernel_velocity_hat
    if last in ("iteration", "learning_rate"):
        return last
    return next((slot for slot in training_config.keras3_slot_names(class_name)
                 if last == slot or last.endswith("_" + slot)), last)


def _positional_slots(slots, optimizer, n):
    """Keras 2.0-2.1 name every slot 'Variable_<k>': then the order tells them apart (Keras's own
    ``weights = [iterations] + ms + vs + vhats``: each slot for every weight in turn)."""
    unnamed = [dataset for slot, dataset in slots if slot != "iteration"]
    if not unnamed or any(slot not in ("iteration", "Variable") for slot, _ in slots):
        return slots
    order = [slot.keras2 for slot in OPTIMIZER_BY_KERAS[optimizer["class_name"]].slots]
    if len(unnamed) != len(order) * n:
        return slots  # optimizer_state then refuses them, naming the slot
    names = [name for name in order for _ in range(n)]
    iteration = [(slot, dataset) for slot, dataset in slots if slot == "iteration"]
    return iteration + list(zip(names, unnamed))


def trainable_shapes(spec, entries):
    """The shapes of the model's trainable weights, in ``model.trainable_weights`` order."""
    if spec.get("trainable_shapes") is not None:  # a functional model's, found by building it
        return spec["trainable_shapes"]
    return [shape for entry in entries for shape in entry["weight_shapes"][:entry["trainable_count"]]]


def optimizer_state(reader, optimizer, slots, shapes):
    """Per trainable weight, its state dict in Keras's form; sets ``optimizer['iterations']``.

    ``slots``: ``(slot name, dataset)`` pairs in file order. Returns None (with a warning)
    when the state is not one tinynet's optimizer keeps.
    """
    class_name, settings = optimizer["class_name"], optimizer["config"]
    by_key = {slot.tinynet: [] for slot in training_config.slots(OPTIMIZER_BY_KERAS[class_name], settings)}
    for slot, dataset in slots:
        key = training_config.slot_key(class_name, slot, settings)
        if slot == "iteration":
            iterations = reader.array(dataset, (), "the optimizer's iteration count", kinds="iu")
            optimizer["iterations"] = check_iterations(reader.source, int(iterations),
                                                       f"the optimizer's iteration count ({dataset.name})")
        elif slot == "learning_rate":
            if "learning_rate" not in settings:  # Keras 3.0 may name the optimizer only ('adam')
                settings["learning_rate"] = float(reader.array(dataset, (), "the learning rate"))
        elif key in by_key:
            by_key[key].append(dataset)
        elif key in ("scalar", "off"):
            continue  # tinynet computes Nadam's product from the step; Keras 2.2 kept vhat without amsgrad
        else:
            warnings.warn(f"{reader.source}: the {class_name} optimizer state has a {slot[:60]!r} slot tinynet's "
                          "lacks; the state is skipped (training restarts its moments)", KerasFileWarning,
                          stacklevel=4)
            return None
    for key, datasets in by_key.items():
        if len(datasets) != len(shapes):
            warnings.warn(f"{reader.source}: the optimizer has {len(datasets)} {key!r} arrays for {len(shapes)} "
                          "trainable weights; the state is skipped", KerasFileWarning, stacklevel=4)
            return None
    state = [{} for _ in shapes]
    for key, datasets in by_key.items():
        for i, (dataset, shape) in enumerate(zip(datasets, shapes)):
            state[i][key] = reader.array(dataset, shape, f"optimizer state {key!r} of trainable weight {i}")
    return state


# ----------------------------------------------------------------- weights into a built model

def load_keras_weights(model, path, reader=None):
    """Load a Keras weights file (Keras 2 ``save_weights`` / full model ``.h5``, Keras 3 ``.weights.h5``) into
    the built tinynet ``model``, layer by layer; all arrays are checked before any is set.
    ``reader``: the file already read (``H5Reader(path)``), else it is read here."""
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    with reader or H5Reader(path) as reader:
        root = reader.root
        if _is_keras3_weights(reader):
            values = _keras3_weights(reader, root, layers)
        else:
            group = reader.child(root, "model_weights") if reader.has(root, "model_weights") else root
            if "layer_names" not in group.attrs:
                raise KerasFileError(f"{path} is not a Keras weights file (no layer_names, no layers group)")
            names = reader.strings(group, "layer_names")
            # As Keras 2 does: the file's layers that have weights, matched in order with the model's.
            in_file = [name for name in names if reader.strings(reader.child(group, name), "weight_names")]
            with_weights = [layer for layer in layers if layer.weights]
            if len(in_file) != len(with_weights):
                raise KerasFileError(
                    f"{path} has weights for {len(in_file)} layers ({listed(in_file)}), but model "
                    f"'{model.name}' has {len(with_weights)} layers with weights "
                    f"({listed([layer.name for layer in with_weights])})")
            values = [_keras2_layer(reader, group, name, [p.shape for p in layer.weights],
                                    f"layer '{layer.name}' (file layer {name!r})")
                      for name, layer in zip(in_file, with_weights)]
            layers = with_weights
    for layer, arrays in zip(layers, values):
        layer.set_weights(arrays)


def _is_keras3_weights(reader):
    return reader.has(reader.root, "layers") and "layer_names" not in reader.root.attrs


def _keras3_weights(reader, root, layers):
    return _keras3_weights_in(reader, reader.child(root, "layers"), layers)


def keras3_model_arrays(reader, group, model):
    """A model's arrays from Keras 3's ``layers/<key>/vars/<i>`` groups, nested models' under ``<key>/layers``,
    in ``model.weights`` order."""
    layers = keras_config.saved_layers(model)
    return [array for arrays in _keras3_weights_in(reader, group, layers) for array in arrays]


def _keras3_weights_in(reader, group, layers):
    keys = keras_config.keras3_keys([keras_config.keras_class(layer) for layer in layers])
    values = []
    for layer, key in zip(layers, keys):
        if hasattr(layer, "_init_trainer"):
            values.append(keras3_model_arrays(reader, reader.child(group, f"{key}/layers"), layer))
        else:
            values.append(keras3_layer(reader, group, key, [p.shape for p in layer.weights],
                                       f"layer '{layer.name}' (file key {key!r})"))
    return values


def keras3_layer(reader, group, key, shapes, label):
    """One layer's arrays from ``layers/<key>/vars/0..n`` (Keras 3)."""
    if not shapes and not reader.has(group, key):
        return []
    variables = reader.child(group, f"{key}/vars")
    if len(variables) != len(shapes):
        raise KerasFileError(f"{reader.source}: {label} has {len(variables)} weights in the file, but the layer "
                             f"has {len(shapes)}")
    return [reader.array(reader.child(variables, str(i), "dataset"), shape, f"{label} weight {i}")
            for i, shape in enumerate(shapes)]


# ----------------------------------------------------------------- writing

def write_keras_h5(model, path):
    """Write ``model`` as a Keras 2 full-model HDF5 file (``model.save('m.h5')`` in Keras 2; Keras 3 loads it).

    The compile settings Keras cannot hold are left out with a ``KerasFileWarning`` naming them
    (``tinynet.keras.training_config``). The file is built in memory and written by
    ``tinynet.io.atomic.atomic_write``: the HDF5 library never writes to the disk itself (on a full
    disk it crashed the process), and a failed write leaves the old file as it was and raises OSError.
    """
    h5py = require_h5py()
    layers = keras_config.writable_layers(model, keras3=False)
    model_config = json.dumps(keras_config.model_config(model, layers, keras3=False))
    training = training_config.keras2_training_config(model)
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        # The string types Keras writes: str (UTF-8) for these two, bytes (ASCII) for the JSON.
        f.attrs["backend"] = "tensorflow"
        f.attrs["keras_version"] = KERAS2_VERSION
        f.attrs["model_config"] = model_config.encode("utf8")
        if training is not None:
            f.attrs["training_config"] = json.dumps(training).encode("utf8")
        group = f.create_group("model_weights")
        group.attrs["layer_names"] = [layer.name.encode("utf8") for layer in layers]
        group.attrs["backend"] = b"tensorflow"
        group.attrs["keras_version"] = KERAS2_VERSION.encode("utf8")
        _write_layers(group, layers)
        if training is not None:
            names, arrays = training_config.keras2_weights(model.optimizer, trainable_parameters(layers))
            _write_named(f.create_group("optimizer_weights"), [name.encode() for name in names], arrays)
    with atomic_write(path) as file:
        file.write(buffer.getbuffer())


def write_keras2_weights(model, path):
    """Write ``model``'s weights as Keras 2's ``save_weights('w.h5')`` does: the layer groups at the root.

    Keras 3 reads them with ``model.load_weights('w.h5')`` (layers matched in order, as Keras 2 does).
    Built in memory, then written atomically, as ``write_keras_h5``.
    """
    h5py = require_h5py()
    layers = keras_config.writable_layers(model, keras3=False)
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        f.attrs["backend"] = b"tensorflow"  # ASCII here, as Keras 2.10's save_weights writes them
        f.attrs["keras_version"] = KERAS2_VERSION.encode()
        f.attrs["layer_names"] = [layer.name.encode("utf8") for layer in layers]
        _write_layers(f, layers)
    with atomic_write(path) as file:
        file.write(buffer.getbuffer())


def _write_layers(group, layers):
    """One group per layer (``<layer>/<layer>/kernel:0``, its names in ``weight_names`` in Keras's order), then
    Keras 2.10's empty ``top_level_model_weights``."""
    for layer in sorted(layers, key=lambda layer: layer.name):
        # A nested model's weights keep their layers' names (inner_dense/kernel:0), as Keras writes them.
        names = [(f"{p.name}:0" if hasattr(layer, "_init_trainer") else f"{layer.name}/{_short(p)}:0").encode("utf8")
                 for p in layer.weights]
        _write_named(group.create_group(layer.name), names, [p.data for p in layer.weights])
    _write_named(group.create_group("top_level_model_weights"), [], [])


def _write_named(group, names, arrays):
    # An empty list becomes a float64 array of shape (0,), as h5py stores [] for Keras.
    group.attrs["weight_names"] = names
    for name, array in zip(names, arrays):
        group.create_dataset(name, data=np.asarray(array))


def _short(parameter):
    return parameter.name.split("/")[-1]


def trainable_parameters(layers):
    """The layers' trainable weights, in ``model.trainable_weights`` order."""
    return [p for layer in layers for p in layer.trainable_weights]
