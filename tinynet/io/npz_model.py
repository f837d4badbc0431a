"""tinynet's own model file: one ``.npz`` archive that plain NumPy can read.

``write_model(model, path)`` writes, in one NumPy ``.npz`` archive:

    tinynet_format    "tinynet"           marks the file as ours
    format_version    1                   refused with a clear error if newer than FORMAT_VERSION
    kind              "model" or "weights"
    model_config      JSON: the model's name, input shape, and each layer's
                      class name and ``get_config()``
    weight_names      JSON: the name and shape of every weight, in ``model.weights`` order
    weight/0000 ...   the weight arrays, in ``model.weights`` order
    compile_config    JSON: the loss, the metrics (a name, or a metric object's class and
                      ``get_config()``), the loss weights, the optimizer's class name,
                      ``get_config()`` and ``iterations``,
                      and which state arrays each trainable weight has
    optimizer/0003/m  the optimizer's state arrays, per weight in ``model.trainable_weights`` order
    rng_state         JSON: the state of tinynet's random generator (shuffling, dropout)

Everything is either a JSON string or a numeric array: ``np.load(path, allow_pickle=False)``
reads it, and reading never runs code from the file. The writers take any object with
the attributes of a ``Sequential`` (this module never imports tinynet.models);
``NpzModelFile`` reads a file back as a spec (see ``model_files.py``), every JSON field
checked for its type, every array's header checked before its data is read.
"""
import json

import numpy as np

from ..core import metrics as metrics_module
from . import graph_config
from .atomic import atomic_write
from .errors import ModelFileError
from .model_files import ModelFile, cut, short, check_input_shape, check_iterations, check_path, field
from .npz import NpzReader

FORMAT_NAME = "tinynet"
FORMAT_VERSION = 1
# A configuration far larger than any real model's (a 100-layer model's is about 30,000
# characters) is refused before it is read.
MAX_JSON_CHARS = 4_000_000
# tinynet writes its files uncompressed; a deflated archive (someone's re-zip) may inflate by this
# much in all, so a small file never asks for much more memory than its size.
MAX_INFLATION = 32 * 2 ** 20
_FLOAT_DTYPES = (np.dtype("<f4"), np.dtype("<f8"), np.dtype(">f4"), np.dtype(">f8"))


# ----------------------------------------------------------------- writing

def write_model(model, path, rng_state=None):
    """Write the architecture, weights, compile settings and optimizer state of ``model`` to ``path``.

    Args:
        model: a built Sequential (or anything with its attributes: name, input_shape, layers,
            weights, trainable_weights, loss, optimizer, metrics, built).
        path: str or os.PathLike; the name is used as given (no extension added).
        rng_state: the random generator's state to store (``bit_generator.state``), or None.
    """
    arrays = _weights_arrays(model, "model")
    arrays["model_config"] = json_array(model_config(model))
    if model.loss is not None:
        compile_config, state_arrays = _compile_config(model)
        arrays["compile_config"] = json_array(compile_config)
        arrays.update(state_arrays)
    if rng_state is not None:
        arrays["rng_state"] = json_array(rng_state)
    _write(path, arrays)


def write_weights(model, path):
    """Write only the weights of ``model`` (all of them, in ``model.weights`` order) to ``path``.

    Its ``model_config`` names each layer (class and name) but holds no settings: a weights file
    rebuilds no model, so any model's weights can be written (a nested model's too).
    """
    arrays = _weights_arrays(model, "weights")
    arrays["model_config"] = json_array({
        "class_name": type(model).__name__, "name": model.name,
        # (several inputs: a list of shapes, which a weights file does not need)
        "input_shape": list(model.input_shape[1:]) if isinstance(model.input_shape, tuple) else None,
        "layers": [{"class_name": type(layer).__name__, "config": {"name": layer.name}} for layer in model.layers]})
    _write(path, arrays)


def model_config(model):
    """The architecture as plain data: a Sequential's ``{'class_name', 'name', 'input_shape', 'layers':
    [{'class_name', 'config'}]}``; a functional model's graph (``tinynet/io/graph_config.py``) with
    ``'class_name': 'Functional'``. A nested model is a layer whose config is its own model config."""
    class_name, config = layer_entry(model)
    return {"class_name": class_name, "input_shape": None, **config}


def layer_entry(layer):
    """``(class_name, config)`` of one layer as tinynet's file holds it; a model's config is its architecture."""
    from ..core.models import Functional, Sequential

    if isinstance(layer, Functional):
        return "Functional", graph_config.graph_config(layer, layer_entry)
    if isinstance(layer, Sequential):
        return "Sequential", {"name": layer.name,
                              "input_shape": None if layer.input_shape is None else list(layer.input_shape[1:]),
                              "layers": [dict(zip(("class_name", "config"), layer_entry(inner)))
                                         for inner in layer.layers]}
    if hasattr(layer, "_init_trainer"):  # a subclassed Model: its architecture is Python code
        raise NotImplementedError(
            f"Model '{layer.name}' is a subclassed model ({type(layer).__name__}): its architecture is the Python "
            "code of its call(), which a model file cannot hold (tinynet never runs code from a file). Save its "
            "weights (model.save_weights('w.weights.h5')) and rebuild the model in code, then load_weights.")
    return type(layer).__name__, layer.get_config()


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
        "weight_names": json_array([{"name": p.name, "shape": list(p.shape)} for p in weights]),
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
                 "config": (model.loss.with_settings(from_logits=False) if getattr(model, "loss_takes_logits", False)
                            else model.loss).get_config()},
        "metrics": [metrics_module.serialize(metric) for metric in model.metrics_of_compile()],
        "weighted_metrics": [metrics_module.serialize(metric, weighted=True)
                             for metric in model.metrics_of_compile(weighted=True)],
        "loss_weights": list(model.loss_weights),
        "optimizer": {"class_name": type(optimizer).__name__, "config": optimizer.get_config(),
                      "iterations": optimizer.iterations, "state": state_names,
                      # Nadam's product of its momentum schedule: its factors keep the beta_1 of their step
                      **({"momentum_product": optimizer.product_so_far} if hasattr(optimizer, "product_so_far")
                         else {})},
    }
    output_losses = getattr(model, "output_losses", [model.loss])
    if len(output_losses) > 1:  # a model of several outputs: a loss, a weight and metrics for each
        names = model.output_names
        config["metrics"] = []
        config["outputs"] = {
            "losses": [None if loss is None else {"class_name": type(loss).__name__,
                                                  "config": {} if paired else loss.get_config()}
                       for loss, paired in zip(output_losses, model.paired)],
            "loss_weights": list(model.loss_weights),
            "metrics": [[metric.name[len(names[i]) + 1:] for j, metric in model.output_metrics if j == i]
                        for i in range(len(names))]}
    return config, state_arrays


def json_array(value):
    """``value`` as JSON text in a 0-d array (TypeError for a value JSON cannot hold)."""
    return np.array(json.dumps(value, default=to_json))


def to_json(value):
    # Configs may hold NumPy scalars or tuples (turned into lists by json itself).
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{value!r} of type {type(value).__name__} cannot be written to a model file")


def _write(path, arrays):
    check_path(path)
    with atomic_write(path) as file:
        np.savez(file, **arrays)  # a file object, so np.savez does not append ".npz"


# ----------------------------------------------------------------- reading

class NpzModelFile(ModelFile):
    """A tinynet .npz model file, open: ``spec`` is read and checked, the arrays are not read yet."""

    def __init__(self, path):
        self.path = path
        self._npz = NpzReader(path, ModelFileError, max_inflation=MAX_INFLATION)
        try:
            self.spec = self._read_spec()
        except BaseException:
            self.close()
            raise

    def _read_spec(self):
        npz, path = self._npz, self.path
        if not npz.has("tinynet_format") or npz.text("tinynet_format", 16) != FORMAT_NAME:
            raise ModelFileError(f"{path} is an .npz archive but not a tinynet model file "
                                 f"(it holds {sorted(npz.keys())[:8]})")
        version = npz.array("format_version", (np.dtype("<i4"), np.dtype("<i8")))
        if version.shape != () or int(version) < 1:
            raise ModelFileError(f"{path} is corrupt: its format_version is {short(version.tolist())}")
        if int(version) > FORMAT_VERSION:
            raise ModelFileError(
                f"{path} was written by a newer tinynet (file format version {int(version)}; this tinynet reads "
                f"versions up to {FORMAT_VERSION}). Upgrade tinynet to load it.")
        kind = npz.text("kind", 16)
        if kind not in ("model", "weights"):
            raise ModelFileError(f"{path} is corrupt: its kind is {short(kind)}, not 'model' or 'weights'")

        config = self._json("model_config")
        name = field(self.path, config, "name", str, "model_config")
        input_shape = field(self.path, config, "input_shape", (list, type(None)), "model_config")
        check_input_shape(self.path, input_shape, "model_config.input_shape")
        layers = field(self.path, config, "layers", list, "model_config")
        for i, entry in enumerate(layers):
            field(self.path, entry, "class_name", str, f"model_config.layers[{i}]")
            field(self.path, entry, "config", dict, f"model_config.layers[{i}]")

        names = self._json("weight_names")
        if not isinstance(names, list):
            raise ModelFileError(f"{path} is corrupt: weight_names should be a list, but is {short(names)}")
        n_members = sum(key.startswith("weight/") for key in npz.keys())
        if len(names) != n_members:
            raise ModelFileError(f"{path} is corrupt: weight_names lists {len(names)} weights, "
                                 f"but it holds {n_members} weight arrays")
        weight_names = [field(self.path, entry, "name", str, f"weight_names[{i}]") for i, entry in enumerate(names)]
        weight_shapes = [self._float_header(f"weight/{i:04d}") for i in range(len(names))]

        spec = {"format": "tinynet", "kind": kind, "name": name,
                "input_shape": None if input_shape is None else list(input_shape), "layers": layers,
                "weight_names": weight_names, "weight_shapes": weight_shapes,
                "compile": None, "optimizer_state": [], "rng_state": None,
                "graph": config if config.get("class_name") == "Functional" else None}
        if kind == "model" and npz.has("compile_config"):
            spec["compile"], spec["optimizer_state"] = self._compile_spec()
        if kind == "model" and npz.has("rng_state"):
            spec["rng_state"] = self._json("rng_state")
        return spec

    def _compile_spec(self):
        config = self._json("compile_config")
        where = "compile_config"
        loss = field(self.path, config, "loss", dict, where)
        optimizer = field(self.path, config, "optimizer", dict, where)
        metrics = field(self.path, config, "metrics", list, where)
        weighted = config.get("weighted_metrics") or []   # files before issue 22 have none
        if not isinstance(weighted, list):
            raise ModelFileError(f"{self.path} is corrupt: {where}.weighted_metrics should be a list, "
                                 f"but is {short(weighted)}")
        for entry, what in ((loss, "loss"), (optimizer, "optimizer")):
            field(self.path, entry, "class_name", str, f"{where}.{what}")
            field(self.path, entry, "config", dict, f"{where}.{what}")
        iterations = check_iterations(self.path, field(self.path, optimizer, "iterations", int, f"{where}.optimizer"),
                                      f"{where}.optimizer.iterations")
        if not all(isinstance(entry, str) or (isinstance(entry, dict) and isinstance(entry.get("class_name"), str)
                                              and isinstance(entry.get("config"), dict)) for entry in metrics + weighted):
            raise ModelFileError(f"{self.path} is corrupt: {where}.metrics should hold metric names or "
                                 f"{{'class_name', 'config'}}, but is {short(metrics)}")
        loss_weights = config.get("loss_weights")  # files before issue 22 have none: every weight 1
        if loss_weights is not None and not (isinstance(loss_weights, list) and all(
                type(w) in (int, float) for w in loss_weights)):
            raise ModelFileError(f"{self.path} is corrupt: {where}.loss_weights should be a list of numbers, "
                                 f"but is {short(loss_weights)}")
        states = []
        for i, keys in enumerate(field(self.path, optimizer, "state", list, f"{where}.optimizer")):
            if keys is not None and not (isinstance(keys, list) and all(isinstance(key, str) for key in keys)):
                raise ModelFileError(f"{self.path} is corrupt: {where}.optimizer.state[{i}] should be null or a "
                                     f"list of names, but is {short(keys)}")
            states.append(None if keys is None else {key: self._float_header(f"optimizer/{i:04d}/{key}")
                                                     for key in keys})
        product = optimizer.get("momentum_product")
        if product is not None and not (type(product) in (int, float) and 0 <= product <= 1):
            raise ModelFileError(f"{self.path} is corrupt: {where}.optimizer.momentum_product should be a number in "
                                 f"[0, 1], but is {short(product)}")
        spec = {"loss": loss, "metrics": metrics, "weighted_metrics": weighted, "loss_weights": loss_weights,
                "optimizer": {"class_name": optimizer["class_name"], "config": optimizer["config"],
                              "iterations": iterations, "momentum_product": product}}
        if "outputs" in config:
            outputs = field(self.path, config, "outputs", dict, where)
            per_loss = field(self.path, outputs, "losses", list, f"{where}.outputs")
            weights = field(self.path, outputs, "loss_weights", list, f"{where}.outputs")
            per_metrics = field(self.path, outputs, "metrics", list, f"{where}.outputs")
            for i, entry in enumerate(per_loss):
                if entry is not None:
                    field(self.path, entry, "class_name", str, f"{where}.outputs.losses[{i}]")
                    field(self.path, entry, "config", dict, f"{where}.outputs.losses[{i}]")
            if not (len(per_loss) == len(weights) == len(per_metrics)
                    and all(isinstance(w, (int, float)) and not isinstance(w, bool) for w in weights)
                    and all(isinstance(m, list) and all(isinstance(n, str) for n in m) for m in per_metrics)):
                raise ModelFileError(f"{self.path} is corrupt: {where}.outputs should give a loss, a weight and a list "
                                     f"of metric names per output, but is {short(outputs)}")
            spec["outputs"] = {"losses": per_loss, "loss_weights": weights, "metrics": per_metrics}
        return spec, states

    def _float_header(self, key):
        shape, dtype = self._npz.header(key)
        if dtype not in _FLOAT_DTYPES:
            raise ModelFileError(f"{self.path} is corrupt: its entry {key!r} holds {dtype}, expected float32 or float64")
        return shape

    def _weight(self, i):
        return self._npz.array(f"weight/{i:04d}", _FLOAT_DTYPES)

    def _state(self, i, key):
        return self._npz.array(f"optimizer/{i:04d}/{key}", _FLOAT_DTYPES)

    def close(self):
        if getattr(self, "_npz", None) is not None:
            self._npz.close()

    # ----- JSON entries, checked
    def _json(self, key):
        text = self._npz.text(key, MAX_JSON_CHARS)
        try:
            return json.loads(text)
        # ValueError: not JSON, or an integer past Python's 4300-digit limit; RecursionError: nesting.
        except (ValueError, RecursionError) as error:
            raise ModelFileError(f"{self.path} is corrupt: its entry {key!r} is not valid JSON "
                                 f"({cut(str(error))})") from error
