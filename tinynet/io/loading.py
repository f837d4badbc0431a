"""Building a model from a file or a configuration: ``load_model``, ``model_from_config``, ``model_from_json``.

A model-file reader (``tinynet.io.formats.open_model_file``, whatever the format) hands
over a *spec*: the architecture and compile settings as plain data, and the shapes its
arrays declare. A file may come from anywhere, so the model is built with every weight's
shape compared with the file's before that weight is allocated
(``tinynet.core.layers.base.before_add_weight``); the arrays are read only once they are known to
fit, and refused if not finite; optimizer state is checked (shapes, finite, second moments
never negative) before it is installed. Loading returns a new model or raises
``ModelFileError``; it never changes the random generator's state on failure.
"""
import json

import numpy as np

from ..core import layers as layers_module, losses, metrics as metrics_module, optimizers
from .errors import ModelFileError
from . import graph_config
from .formats import open_model_file
from .model_files import check_input_shape, check_path, field
from ..core.layers.base import Layer, before_add_weight
from ..core.utils import rng
from ..core.models.sequential import Sequential

# The optimizer state entries that are averages of squares, so never negative.


def load_model(path, compile=True, custom_objects=None, restore_rng_state=True):
    """Rebuild the model saved by ``model.save``, or by Keras (``.h5``, ``.keras``): the file's content decides.

    Args:
        path: the file.
        compile: compile the model as it was (loss, metrics, optimizer with its state), so
            ``fit`` continues where it stopped. ``False`` gives an uncompiled model, enough for ``predict``.
        custom_objects: dict name -> your own layer class or metric function (a file can only name them).
        restore_rng_state: set tinynet's random generator back to its state at save time, so
            the next shuffle and dropout masks are the ones the saved run would have drawn.

    Returns:
        a ``Sequential``, or a functional model (``Model(inputs, outputs)``), with the saved weights.

    Raises:
        ModelFileError: the file is not a regular file, truncated, corrupt, not a model file,
            from a newer format version, names a layer class tinynet lacks, describes weights
            it does not hold, or holds non-finite weights or impossible optimizer state.
        FileNotFoundError: there is no such file.
    """
    check_path(path)
    custom_objects = dict(custom_objects or {})
    # Building draws initial weights (overwritten at once) from tinynet's generator; putting its
    # state back afterwards, also when loading fails, means loading never shifts the user's sequence.
    rng_state = rng().bit_generator.state
    try:
        with open_model_file(path) as file:
            spec = file.spec
            if spec["kind"] != "model":
                raise ModelFileError(
                    f"{path} holds only weights (written by save_weights), not a model: build the model in code "
                    "and call model.load_weights(path).")
            model = model_from_spec(spec, custom_objects, source=str(path))
            weights = file.read_weights()
            if compile and spec["compile"] is not None:
                _compile(model, spec["compile"], custom_objects, str(path))
                _check_state_shapes(model, spec["optimizer_state"], str(path))
                _install_optimizer_state(model, spec, file.read_optimizer_state(), str(path))
            _assign(model.weights, weights, str(path))
            if restore_rng_state and spec["rng_state"] is not None:
                rng_state = _checked_rng_state(spec["rng_state"], str(path))
    finally:
        rng().bit_generator.state = rng_state
    return model


def load_weights(model, path):
    """Load the weights of a model file into the built ``model``; shapes must match, else nothing changes."""
    if not model.built:
        raise ValueError(
            f"Model '{model.name}' has not been built yet, so it has no weights to load into. Give the first "
            "layer `input_shape=...` or call model.build((None, ...)) first.")
    check_path(path)
    with open_model_file(path) as file:
        if file.spec["weight_shapes"] is None and hasattr(file, "load_into"):
            # A file whose weights are found by layer name (Keras's save_weights): its reader matches them.
            file.load_into(model)
            return
        shapes, parameters = file.spec["weight_shapes"], model.weights
        if len(shapes) != len(parameters):
            raise ModelFileError(
                f"{path} holds {len(shapes)} weight arrays, but model '{model.name}' has {len(parameters)}: "
                "the file was saved from a different architecture.")
        for parameter, shape in zip(parameters, shapes):
            if tuple(shape) != parameter.shape:
                raise ModelFileError(
                    f"{path}: weight '{parameter.name}' of model '{model.name}' has shape {parameter.shape}, "
                    f"but the file's array for it has shape {tuple(shape)}.")
        _assign(parameters, file.read_weights(), str(path))


def model_from_config(config, custom_objects=None):
    """A new, uncompiled model from ``{'name', 'input_shape', 'layers': [{'class_name', 'config'}]}``
    (what ``tinynet.io.npz_model.model_config(model)`` gives; Keras's ``{'class_name': 'Sequential',
    'config': {...}}`` wrapping is accepted too). Weights are freshly initialised."""
    if isinstance(config, dict) and config.get("class_name") == "Sequential" and isinstance(config.get("config"), dict):
        config = config["config"]
    source = "the model configuration"
    if isinstance(config, dict) and config.get("class_name") == "Functional" and isinstance(config.get("config"),
                                                                                           dict):
        config = config["config"]  # to_json's wrapping
    if isinstance(config, dict) and config.get("class_name") == "Functional":  # npz_model.model_config's graph
        return _functional_from_spec({"graph": config, "weight_shapes": None}, dict(custom_objects or {}), source)
    try:  # as a file would hold it: tuples become lists, NumPy scalars plain numbers
        config = json.loads(json.dumps(config, default=lambda value: value.item() if isinstance(value, np.generic) else str(value)))
    except (TypeError, ValueError) as error:
        raise ModelFileError(f"{source} is not plain data ({error})") from error
    spec = {"name": field(source, config, "name", str, source),
            "input_shape": config.get("input_shape"),
            "layers": field(source, config, "layers", list, source), "weight_shapes": None}
    return model_from_spec(spec, dict(custom_objects or {}), source)


def model_from_json(json_string, custom_objects=None):
    """``model_from_config(json.loads(json_string))``."""
    try:
        config = json.loads(json_string)
    except (TypeError, ValueError, RecursionError) as error:
        raise ModelFileError(f"the model configuration is not valid JSON ({error})") from error
    from ..keras import file_config as keras_config  # at call time: Keras's formats load only when one is read

    if keras_config.is_keras_config(config):  # Keras's model.to_json()
        spec = keras_config.spec_from_json(json_string)
        return model_from_spec({**spec, "weight_shapes": None}, dict(custom_objects or {}), "the model JSON")
    return model_from_config(config, custom_objects)


def model_from_spec(spec, custom_objects, source):
    """A Sequential built from ``spec`` (a functional model from ``spec['graph']``); with
    ``spec['weight_shapes']``, each weight's shape is compared with the file's before it is allocated
    (ModelFileError on the first difference)."""
    if spec.get("graph") is not None:
        return _functional_from_spec(spec, custom_objects, source)
    check_input_shape(source, spec["input_shape"], "input_shape")
    if not spec["layers"]:
        raise ModelFileError(f"{source} is corrupt: its model has no layers")
    layers = [_graph_layer(entry, custom_objects, source) if entry.get("class_name") in ("Functional", "Sequential")
              else _layer_from_config(i, entry, custom_objects, source) for i, entry in enumerate(spec["layers"])]
    expected = spec["weight_shapes"]
    # A nested model makes its weights when it is made, before the layers around it: then the budget.
    nested = any(entry.get("class_name") in ("Functional", "Sequential") for entry in spec["layers"])
    check = None if expected is None else (_WeightBudget if nested else _WeightCheck)(expected, source)
    token = before_add_weight.set(check)
    try:
        model = Sequential(layers, name=spec["name"])
        if spec["input_shape"] is not None and not model.built:
            model.build((None, *spec["input_shape"]))
    except ModelFileError:
        raise
    # The layers were each valid on their own; they must also fit together (a Reshape that
    # receives the wrong number of values, a pooling window larger than its input, ...).
    except (TypeError, ValueError) as error:
        raise ModelFileError(f"{source}: the saved layers do not fit together into a model "
                             f"({_cut(str(error))})") from error
    finally:
        before_add_weight.reset(token)
    if not model.built:
        raise ModelFileError(f"{source} is corrupt: it does not say the model's input shape")
    if check is not None:
        check.finish(model)
    return model


def _functional_from_spec(spec, custom_objects, source):
    """A functional model from its graph (``tinynet/io/graph_config.py``). Its layers make their weights in
    the order the graph runs them, not ``model.weights`` order: each allocation must be one of the file's
    shapes not yet used (so a file never asks for more memory than its arrays take), and the order is
    compared once the model is built."""
    expected = spec["weight_shapes"]
    budget = None if expected is None else _WeightBudget(expected, source)
    token = before_add_weight.set(budget)
    try:
        model = graph_config.build_graph(spec["graph"], lambda entry: _graph_layer(entry, custom_objects, source),
                                         source)
    finally:
        before_add_weight.reset(token)
    if budget is not None:
        budget.finish(model)
    return model


def build_functional(graph, source, max_values):
    """A functional model from a Keras file's graph, to learn its weights' shapes before any array is read:
    every allocation is counted, and one past ``max_values`` values in all (what the file's bytes could
    hold) is refused before it is made."""
    budget = _ValueBudget(max_values, source)
    token = before_add_weight.set(budget)
    try:
        return graph_config.build_graph(graph, lambda entry: _graph_layer(entry, {}, source), source)
    finally:
        before_add_weight.reset(token)


class _ValueBudget:
    def __init__(self, limit, source):
        self.left, self.source = limit, source

    def __call__(self, name, shape):
        self.left -= int(np.prod(shape, dtype=object))
        if self.left < 0:
            raise ModelFileError(f"{self.source}: its configuration asks for weight '{name}' of shape {shape}, more "
                                 "values in all than the file's bytes could hold; refused before allocating it")

    def finish(self, model=None):
        pass


def _graph_layer(entry, custom_objects, source):
    """The layer of one entry of a graph (a nested model built from its own config)."""
    class_name = field(source, entry, "class_name", str, "a layer of the graph")
    config = field(source, entry, "config", dict, f"layer {entry.get('name')!r} of the graph")
    if class_name == "Functional":
        return graph_config.build_graph(config, lambda inner: _graph_layer(inner, custom_objects, source), source)
    if class_name == "Sequential":
        return _sequential_from_config(config, custom_objects, source)
    return _layer_from_config(entry.get("name", "?"), entry, custom_objects, source)


def _sequential_from_config(config, custom_objects, source):
    """A nested Sequential, built (its weights made) when it has its input shape."""
    layers = field(source, config, "layers", list, "a nested Sequential")
    check_input_shape(source, config.get("input_shape"), "a nested Sequential's input_shape")
    try:
        model = Sequential([_graph_layer(entry, custom_objects, source) for entry in layers],
                           name=field(source, config, "name", str, "a nested Sequential"))
        if config.get("input_shape") is not None and not model.built:
            model.build((None, *config["input_shape"]))
    except (TypeError, ValueError) as error:
        raise ModelFileError(f"{source}: the nested Sequential's layers do not fit together ({_cut(str(error))})") \
            from None
    return model


class _WeightBudget:
    """Called by ``Layer.add_weight`` before each allocation: the shape must be one of the file's arrays not
    yet matched (the weights of a graph are made in the order it runs, checked against the file's order after)."""

    def __init__(self, shapes, source):
        self.left, self.source, self.expected = {}, source, [tuple(shape) for shape in shapes]
        for shape in shapes:
            self.left[tuple(shape)] = self.left.get(tuple(shape), 0) + 1

    def __call__(self, name, shape):
        if not self.left.get(tuple(shape)):
            raise ModelFileError(f"{self.source}: its configuration asks for weight '{name}' of shape {shape}, "
                                 "which none of the file's remaining arrays has")
        self.left[tuple(shape)] -= 1

    def finish(self, model):
        made = [parameter.shape for parameter in model.weights]
        if made != self.expected:
            raise ModelFileError(f"{self.source}: its configuration makes weights of shapes {_cut(str(made))}, but "
                                 f"the file holds {_cut(str(self.expected))}")


class _WeightCheck:
    """Called by ``Layer.add_weight`` before each allocation: the i-th weight must have the
    file's i-th shape (a Sequential creates its weights in ``model.weights`` order)."""

    def __init__(self, shapes, source):
        self.shapes, self.source, self.count = [tuple(s) for s in shapes], source, 0

    def __call__(self, name, shape):
        if self.count >= len(self.shapes):
            raise ModelFileError(f"{self.source}: its configuration asks for weight '{name}' of shape {shape}, "
                                 f"but the file holds only {len(self.shapes)} weight arrays")
        if shape != self.shapes[self.count]:
            raise ModelFileError(f"{self.source}: its configuration asks for weight '{name}' of shape {shape}, "
                                 f"but the file's array for it has shape {self.shapes[self.count]}")
        self.count += 1

    def finish(self, model=None):
        if self.count != len(self.shapes):
            raise ModelFileError(f"{self.source} holds {len(self.shapes)} weight arrays, but its configuration "
                                 f"makes {self.count}")


def _layer_from_config(index, entry, custom_objects, source):
    where = f"layers[{index}]"
    class_name = field(source, entry, "class_name", str, where)
    config = field(source, entry, "config", dict, where)
    if class_name == "Lambda" and class_name not in custom_objects:
        raise ModelFileError(f"{source}: layer {index} is a Lambda layer, which holds Python code; tinynet never runs "
                             "code from a file. Rebuild the model in code and load its weights (load_weights).")
    known = {**_layer_registry(), **{k: v for k, v in custom_objects.items() if isinstance(v, type)}}
    if class_name not in known:
        raise ModelFileError(
            f"{source} uses the layer class {class_name!r}, which tinynet does not have. Known layers: "
            f"{sorted(known)}. For a layer class of your own, pass custom_objects={{{class_name!r}: YourLayer}}.")
    # Checked here because Layer accepts an empty shape, which would only fail later, inside build.
    check_input_shape(source, config.get("input_shape"), f"{where}.config.input_shape")
    # The config's keys become keyword arguments and its values go through the layer's own
    # checks: an unknown key is a TypeError, a bad value a ValueError or TypeError.
    try:
        return known[class_name].from_config(config)
    except (TypeError, ValueError) as error:
        layer = f"{class_name} {config['name']!r}" if isinstance(config.get("name"), str) else class_name
        raise ModelFileError(
            f"{source}: layer {index} ({layer}) cannot be rebuilt from its saved config ({_cut(str(error))})") from error


def _layer_registry():
    """Every public layer class of tinynet's own modules, by class name (found by walking Layer's
    subclasses, so new layer modules need no registration)."""
    registry, pending = {}, list(Layer.__subclasses__())
    while pending:
        cls = pending.pop()
        if cls.__module__.startswith(layers_module.__name__) and not cls.__name__.startswith("_"):
            registry[cls.__name__] = cls
        pending.extend(cls.__subclasses__())
    return registry


def _assign(parameters, values, source):
    """Copy ``values`` into ``parameters``, all or nothing; their shapes were compared before."""
    with np.errstate(over="ignore"):  # an overflow is reported below, as the file's fault
        cast = [value.astype(parameter.data.dtype) for parameter, value in zip(parameters, values)]
    for parameter, value in zip(parameters, cast):
        assert value.shape == parameter.shape  # compared before building or loading
        # Finite in the file, but 1e300 in float64 is inf in a float32 model.
        if not np.isfinite(value).all():
            raise ModelFileError(f"{source}: weight '{parameter.name}' overflows {parameter.data.dtype}")
    for parameter, value in zip(parameters, cast):
        parameter.data[...] = value


def _compile(model, config, custom_objects, source):
    optimizer_cls = _class_named(config["optimizer"]["class_name"], optimizers.ALL.values(), "optimizer", source)
    outputs = config.get("outputs")  # a model of several outputs: a loss, a weight and metrics for each
    entries = outputs["losses"] if outputs else [config["loss"]]
    metric_specs = outputs["metrics"] if outputs else [config["metrics"]]
    # As for layers: unknown keys are TypeErrors, bad values ValueErrors from the classes' own checks.
    try:
        loss = [None if entry is None else _class_named(entry["class_name"], losses.ALL.values(), "loss", source)(
            **entry["config"]) for entry in entries]
        optimizer = optimizer_cls(**config["optimizer"]["config"])
        optimizer.iterations = config["optimizer"]["iterations"]  # checked: an integer in [0, 2**63 - 1]
        if config["optimizer"].get("momentum_product") is not None and hasattr(optimizer, "product_so_far"):
            optimizer.product_so_far = config["optimizer"]["momentum_product"]
    except (TypeError, ValueError) as error:
        raise ModelFileError(f"{source}: the saved loss or optimizer settings are invalid ({_cut(str(error))})") from error
    metrics = [_metrics(specs, None if output_loss is None else output_loss.name, custom_objects, source)
               for specs, output_loss in zip(metric_specs, loss)]
    try:
        if outputs:
            model.compile(optimizer=optimizer, loss=loss, metrics=metrics, loss_weights=outputs["loss_weights"])
        else:
            weighted = _metrics(config.get("weighted_metrics") or [], loss[0].name, custom_objects, source)
            model.compile(optimizer=optimizer, loss=loss[0], metrics=metrics[0],
                          loss_weights=config.get("loss_weights"), weighted_metrics=weighted or None)
    except (TypeError, ValueError) as error:
        raise ModelFileError(f"{source}: the saved compile settings are invalid ({_cut(str(error))})") from error


def _metrics(specs, loss_name, custom_objects, source):
    """The metrics a file lists (names, or ``{'class_name', 'config'}``) as ``compile`` takes them."""
    metrics = []
    for name in specs:
        if isinstance(name, dict):  # a metric object with its settings (Precision's thresholds ...)
            try:
                metrics.append(metrics_module.deserialize(name))
            except (TypeError, ValueError) as error:
                raise ModelFileError(f"{source}: the saved metric {_cut(repr(name))} is invalid "
                                     f"({_cut(str(error))})") from error
            continue
        if name in custom_objects:
            metrics.append(custom_objects[name])
            continue
        try:
            metrics_module.get(name, loss_name)
        except ValueError:
            raise ModelFileError(
                f"{source}: the model was compiled with the metric function {_cut(repr(name))}, which a file cannot "
                f"hold. Pass load_model(path, custom_objects={{{_cut(repr(name))}: {_cut(name)}}}).") from None
        metrics.append(name)
    return metrics


def _check_state_shapes(model, declared, source):
    """Before any state array is read: one entry per trainable weight, each array of its weight's shape."""
    trainable = model.trainable_weights
    if len(declared) != len(trainable):
        raise ModelFileError(f"{source} holds optimizer state for {len(declared)} trainable weights, but the model "
                             f"has {len(trainable)}.")
    for parameter, shapes in zip(trainable, declared):
        for key, shape in (shapes or {}).items():
            if tuple(shape) != parameter.shape:
                raise ModelFileError(f"{source}: optimizer state '{key}' of '{parameter.name}' has shape "
                                     f"{tuple(shape)}, expected {parameter.shape}.")


def _install_optimizer_state(model, spec, states, source):
    """Install each saved state through ``optimizer.load_state``, which checks it (names, shapes,
    finite values, second moments never negative) and converts older forms. The model is new, so
    a refusal half-way leaves nothing the caller holds."""
    optimizer, trainable = model.optimizer, model.trainable_weights
    if len(states) != len(trainable):
        raise ModelFileError(f"{source} holds optimizer state for {len(states)} trainable weights, but the model "
                             f"has {len(trainable)}.")
    for parameter, arrays in zip(trainable, states):
        if arrays is not None:  # None: the saved optimizer had not seen this weight yet
            try:
                optimizer.load_state(parameter, arrays)
            except (TypeError, ValueError) as error:
                raise ModelFileError(f"{source}: the optimizer state of '{parameter.name}' is refused "
                                     f"({_cut(str(error))})") from error


def _class_named(class_name, classes, what, source):
    by_name = {cls.__name__: cls for cls in classes}
    if class_name not in by_name:
        raise ModelFileError(f"{source}: unknown {what} class {class_name!r}, expected one of {sorted(by_name)}")
    return by_name[class_name]


def _checked_rng_state(state, source):
    """The saved state of tinynet's generator, checked to be one NumPy's PCG64 accepts
    (a 128-bit state and increment, and one buffered 32-bit value)."""
    where = "rng_state"
    counters = field(source, state, "state", dict, where)
    fits = (field(source, state, "bit_generator", str, where) == "PCG64"
            and 0 <= field(source, counters, "state", int, f"{where}.state") < 2 ** 128
            and 0 <= field(source, counters, "inc", int, f"{where}.state") < 2 ** 128
            and field(source, state, "has_uint32", int, where) in (0, 1)
            and 0 <= field(source, state, "uinteger", int, where) < 2 ** 32)
    if not fits:
        raise ModelFileError(f"{source} is corrupt: rng_state is not a state of NumPy's PCG64 generator")
    return state


def _cut(text, limit=300):
    return text if len(text) <= limit else text[:limit - 3] + "..."
