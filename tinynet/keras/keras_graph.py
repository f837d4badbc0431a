"""Keras's functional configs <-> tinynet's graph (``tinynet/io/graph_config.py``), both spellings, both ways.

A functional model's config lists its layers, each with the calls made of it (``inbound_nodes``),
and names its inputs and outputs (``input_layers``, ``output_layers``) by ``[layer, node, tensor]``.
Keras 2 and Keras 3 spell the calls differently::

    Keras 2   "inbound_nodes": [[["dense", 0, 0, {}], ["dense_1", 0, 0, {}]]]           one list per call
    Keras 3   "inbound_nodes": [{"args": [[{"class_name": "__keras_tensor__",
                                            "config": {"shape": [null, 6], "dtype": "float32",
                                                       "keras_history": ["dense", 0, 0]}}, ...]],
                                 "kwargs": {}}]

and Keras 3 writes one input or output as a bare triple where Keras 2 always writes a list. Each
layer's own config is translated by the one table (``table.py``, through ``file_config``); a
model nested as a layer is its own config (a functional one read here again, a Sequential by
``file_config``). Pure data: no file is opened, no code from a file runs.
"""
from ..io import graph_config
from ..io.errors import KerasFileError
from . import file_config
from .file_config import cut, is_keras2, layer_parts

MODELS = ("Functional", "Model")  # Keras 2.0-2.3 called a functional model "Model"


# ================================================================= reading

def is_functional(config):
    return isinstance(config, dict) and config.get("class_name") in MODELS


def graph_from_config(config, source, keras_version=None):
    """tinynet's graph (tinynet layer configs) of a Keras ``Functional`` config: what ``build_graph`` builds."""
    keras2 = is_keras2(config, keras_version)
    file_config.check_own(config, "the model", source)
    body = config.get("config")
    graph_config.check_sizes(body, source, KerasFileError)  # bounded before anything is translated
    return _graph(body, source, keras2, depth=0)


def _graph(body, source, keras2, depth):
    layers = []
    for i, entry in enumerate(body["layers"]):
        class_name, settings, label = layer_parts(entry, i, source)
        if class_name in MODELS:
            if not isinstance(settings.get("layers"), list):
                raise KerasFileError(f"{source}: {label} is a nested model without a list of layers")
            tinynet_class, config = "Functional", _graph(settings, source, keras2, depth + 1)
        elif class_name == "Sequential":
            spec, _ = file_config.spec_from_config(entry, source, "2" if keras2 else "3")
            tinynet_class, config = "Sequential", spec
        elif class_name == "InputLayer":
            file_config.check_input_layer(settings, label, source)
            config = {"input_shape": file_config.input_shape_of(settings, label, source, required=True)}
            if isinstance(settings.get("name"), str):
                config["name"] = settings["name"]
            tinynet_class = "InputLayer"
        else:
            tinynet_class, config = file_config.translate_layer(class_name, settings, label, source, keras2)
        name = entry.get("name", settings.get("name"))
        nodes = [_node(node, k, label, source) for k, node in enumerate(entry.get("inbound_nodes") or [])]
        layers.append({"class_name": tinynet_class, "name": name, "config": config, "inbound_nodes": nodes})
    inputs = _ends(body.get("input_layers"), keras2)
    outputs = _ends(body.get("output_layers"), keras2)
    return {"name": body.get("name", "model"), "layers": layers, "input_layers": inputs, "output_layers": outputs}


def _node(node, k, label, source):
    """One call in tinynet's (Keras 2's) spelling: ``[[name, node, tensor, kwargs], ...]``."""
    if isinstance(node, list):  # Keras 2
        return node
    if not isinstance(node, dict) or not isinstance(node.get("args"), list) or len(node["args"]) != 1:
        raise KerasFileError(f"{source}: call {k} of {label} should be {{'args': [tensor or list of tensors], "
                             f"'kwargs': {{...}}}}, found {cut(repr(node))}")
    kwargs = node.get("kwargs") or {}
    if not isinstance(kwargs, dict):
        raise KerasFileError(f"{source}: call {k} of {label} has kwargs {cut(repr(kwargs))}, not an object")
    # NOTE: Keras 3 records a call's default training=True (its random preprocessing layers) and lets the
    # model's own training flag override it (fit: True, predict and evaluate: False), so the recorded value
    # never decides; tinynet reads such a call as one without the argument.
    kwargs = {key: value for key, value in kwargs.items() if key != "training"}
    argument = node["args"][0]
    tensors = argument if isinstance(argument, list) else [argument]
    refs = []
    for tensor in tensors[:graph_config.MAX_CALL_INPUTS + 1]:
        history = (tensor.get("config") or {}).get("keras_history") if isinstance(tensor, dict) and \
            tensor.get("class_name") == "__keras_tensor__" and isinstance(tensor.get("config"), dict) else None
        if not isinstance(history, list):
            raise KerasFileError(f"{source}: call {k} of {label} is on {cut(repr(tensor))}, not a Keras tensor")
        refs.append(list(history[:3]) + [kwargs])
    return refs  # one tensor: layer(x); several: layer([a, b]) (a list of one is read as the tensor)


def _ends(value, keras2):
    """``input_layers`` / ``output_layers``: Keras 2 lists even one tensor; tinynet reads one as one."""
    if keras2 and isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
        return value[0]
    return value


# ================================================================= writing

def functional_config(model, keras3):
    """The config Keras 2 (``model_config`` of an ``.h5``) or Keras 3 (``config.json``) holds for a functional
    model, its nested models included (ValueError naming a layer Keras has no equivalent for)."""
    body = _body(model, keras3)
    if not keras3:
        return {"class_name": "Functional", "config": body}
    return {"module": "keras.src.models.functional", "class_name": "Functional", "config": body,
            "registered_name": "Functional", "build_config": {"input_shape": None}}


# Where Keras 3 finds a model class nested as a layer: (module, registered_name).
MODULES = {"Functional": ("keras.src.models.functional", "Functional"), "Sequential": ("keras", None)}


def nested_config(model, keras3):
    """``(class name, config)`` of a model used as a layer of another."""
    from ..core.models import Functional, Sequential

    file_config.check_name(model)
    if isinstance(model, Functional):
        return "Functional", _body(model, keras3)
    if isinstance(model, Sequential):
        return "Sequential", file_config.model_config(model, file_config.writable_layers(model, keras3),
                                                      keras3)["config"]
    raise ValueError(f"Layer '{model.name}' is a subclassed model ({type(model).__name__}): its call() is Python "
                     "code, which a Keras file cannot hold (tinynet never runs code from a file). Save the weights "
                     "(model.save_weights) and rebuild the model in code.")


def _body(model, keras3):
    from ..core.models import Model

    shapes = graph_config.tensor_shapes(model)

    def entry(layer):
        if isinstance(layer, Model):
            return nested_config(layer, keras3)
        if type(layer).__name__ == "InputLayer":
            return "InputLayer", input_layer_config(layer, keras3)
        file_config.check_name(layer)
        return file_config.layer_config(layer, keras3)

    graph = graph_config.graph_config(model, entry)
    layers = []
    for layer in graph["layers"]:
        nodes = layer["inbound_nodes"] if not keras3 else [_keras3_node(node, shapes) for node in
                                                            layer["inbound_nodes"]]
        if not keras3:
            layers.append({"class_name": layer["class_name"], "config": layer["config"], "name": layer["name"],
                           "inbound_nodes": nodes})
            continue
        module, registered = MODULES.get(layer["class_name"], ("keras.layers", None))
        layers.append({"module": module, "class_name": layer["class_name"], "config": layer["config"],
                       "registered_name": registered, "name": layer["name"], "inbound_nodes": nodes})
    ends = {key: graph[key] for key in ("input_layers", "output_layers")}
    for key, value in ends.items():
        if isinstance(value, dict):
            raise ValueError(f"Model '{model.name}' has a dict of {key.split('_')[0]}s; tinynet writes models of one "
                             "tensor or a list of tensors to Keras files")
        if not keras3 and isinstance(value[0], str):  # Keras 2 lists even one
            ends[key] = [value]
    body = {"name": model.name, "trainable": bool(model.trainable), "layers": layers, **ends}
    return body


def _keras3_node(node, shapes):
    kwargs = node[0][3] if node and len(node[0]) == 4 else {}
    tensors = [{"class_name": "__keras_tensor__",
                "config": {"shape": list(shapes[tuple(ref[:3])]), "dtype": "float32", "keras_history": ref[:3]}}
               for ref in node]
    return {"args": [tensors[0] if len(tensors) == 1 else tensors], "kwargs": kwargs}


def input_layer_config(layer, keras3):
    """An InputLayer's config, exactly the keys each Keras takes (tf.keras 2's InputLayer refuses any other)."""
    shape = [None, *layer.declared_input_shape]
    if keras3:
        return {"batch_shape": shape, "dtype": "float32", "sparse": False, "name": layer.name}
    return {"batch_input_shape": shape, "dtype": "float32", "sparse": False, "ragged": False, "name": layer.name}
