"""Keras model and layer configs <-> tinynet models, both ways, from the rows of ``table.py``.

A Keras file describes its model as JSON (``model_config`` in ``.h5`` files, ``config.json`` in
``.keras`` archives, ``model.to_json()``). Reading turns that JSON into the spec tinynet builds a
``Sequential`` from::

    {'name': str, 'input_shape': [ints, no batch axis],
     'layers': [{'class_name': tinynet layer class, 'config': its keyword arguments}]}

Writing turns a tinynet model into the JSON Keras 2 (tf.keras 2.10's ``.h5``) or Keras 3 (the
``.keras`` archive) writes for it. This is pure data: no file is opened here, and no code named
in a file is ever imported or run. What tinynet cannot reproduce exactly (a layer it lacks,
channels-first data, dilation, a custom activation, a Lambda layer) is refused with a
``KerasFileError`` naming the layer and the setting; settings that only change training
(regularizers and constraints tinynet's layer lacks) are dropped with a ``KerasFileWarning``.

A functional model (Keras's ``inbound_nodes``) is read and written by ``keras_graph.py``, which
calls the per-layer translations here for each of its layers.
"""
import math
import re
import warnings

from ..core import constraints, regularizers
from ..core.layers import activations
from ..core.models import Model
from ..io.errors import KerasFileError, KerasFileWarning
from ..io.json_text import parse_json
from . import table
from .table import LAYER_BY_KERAS, LAYER_BY_TINYNET

# Keras 3 wraps objects (initializers, regularizers, constraints) with the module that holds them.
MODULES = {"_initializer": "keras.initializers", "_regularizer": "keras.regularizers",
           "_constraint": "keras.constraints"}


# ================================================================= reading

def spec_from_config(config, source, keras_version=None):
    """The tinynet spec (without weights) of a Keras ``Sequential`` config, and what the weight readers need.

    Returns ``(spec, entries)``: ``spec`` as in the module docstring, ``entries`` one dict per
    layer of ``spec['layers']`` with ``keras_class``, ``keras_name``, ``label``, ``weight_names``,
    ``weight_shapes`` (in Keras's order, e.g. kernel then bias) and ``trainable_count`` (how many of
    those the optimizer trains). ``keras_version`` (from the file) tells Keras 2's meanings from Keras 3's.
    """
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise KerasFileError(f"{source}: the model config should be an object with a 'class_name'")
    check_own(config, "the model", source)
    if config["class_name"] != "Sequential":
        raise KerasFileError(
            f"{source}: the model is a Keras {config['class_name']!r} model; tinynet reads Sequential models only")
    keras2 = is_keras2(config, keras_version)
    body = config.get("config")
    if isinstance(body, list):  # Keras 2.0-2.1 wrote a Sequential config as its list of layers
        body = {"layers": body}
    if not isinstance(body, dict) or not isinstance(body.get("layers"), list) or not body["layers"]:
        raise KerasFileError(f"{source}: the Sequential config has no list of layers")
    name = body.get("name", "sequential")
    if not isinstance(name, str):
        raise KerasFileError(f"{source}: the model's name should be a string, found {name!r}")
    frozen = body.get("trainable", True) is False

    input_shape = None
    layers, entries = [], []
    for i, layer_config in enumerate(body["layers"]):
        class_name, settings, label = layer_parts(layer_config, i, source)
        if class_name == "InputLayer":
            if layers or input_shape is not None:
                raise KerasFileError(f"{source}: {label} is an InputLayer after the first layer")
            input_shape = input_shape_of(settings, label, source, required=True)
            check_input_layer(settings, label, source)
            continue
        if not layers and input_shape is None:  # Keras 2.2-2.3: the first layer carries the input shape
            input_shape = input_shape_of(settings, label, source, required=False)
        tinynet_class, tinynet_config = translate_layer(class_name, settings, label, source, keras2)
        if frozen:
            tinynet_config["trainable"] = False
        layers.append({"class_name": tinynet_class, "config": tinynet_config})
        entries.append({"keras_class": LAYER_BY_KERAS[class_name].keras, "keras_name": settings.get("name"),
                        "label": label})
    if input_shape is None:
        for where in (body.get("build_input_shape"), (config.get("build_config") or {}).get("input_shape")):
            if where is not None:
                input_shape = shape_of(where, "build_input_shape", source, batch_axis=True)
                break
    if not layers:
        raise KerasFileError(f"{source}: the model has no layers besides its input")
    if input_shape is None:
        raise KerasFileError(f"{source}: the model config does not say its input shape (no InputLayer, no "
                             "batch_input_shape), so tinynet cannot build it")
    add_weight_shapes(layers, entries, input_shape, source)
    return {"name": name, "input_shape": input_shape, "layers": layers}, entries


def is_keras2(config, keras_version=None):
    """Whether a config follows Keras 2's meanings: its version says so, or (no version) it lacks Keras 3's
    ``module``."""
    version = keras_version or (config.get("keras_version") if isinstance(config, dict) else None)
    if isinstance(version, str) and version[:1] in ("1", "2", "3"):
        return not version.startswith("3")
    return not (isinstance(config, dict) and "module" in config)


def layer_parts(layer_config, i, source):
    if not isinstance(layer_config, dict) or not isinstance(layer_config.get("class_name"), str) \
            or not isinstance(layer_config.get("config"), dict):
        raise KerasFileError(f"{source}: layer {i} of the config should be an object with a 'class_name' "
                             "string and a 'config' object")
    settings = layer_config["config"]
    layer_name = settings.get("name", f"#{i}")
    label = f"layer {cut(repr(layer_name))} ({cut(layer_config['class_name'])})"
    check_own(layer_config, label, source)
    return layer_config["class_name"], settings, label


def check_own(config, label, source):
    """Refuse objects that are not Keras's own: custom classes, Lambda layers (Python code in a file)."""
    class_name = config["class_name"]
    module = config.get("module")
    registered = config.get("registered_name")
    if class_name in table.CODE_LAYERS or class_name.startswith("__"):
        raise KerasFileError(f"{source}: {label} is a {cut(class_name)} layer, which holds Python code; tinynet never "
                             "runs code from a file")
    if (module is not None and not (isinstance(module, str) and (module == "keras" or module.startswith("keras."))))\
            or registered not in (None, class_name):
        raise KerasFileError(f"{source}: {label} is a custom object (module={cut(repr(module))}, registered_name="
                             f"{cut(repr(registered))}); tinynet reads only Keras's own layers")


def input_shape_of(settings, label, source, required):
    for key in ("batch_shape", "batch_input_shape"):
        if settings.get(key) is not None:
            return shape_of(settings[key], f"{label} {key}", source, batch_axis=True)
    if settings.get("input_shape") is not None:
        return shape_of(settings["input_shape"], f"{label} input_shape", source, batch_axis=False)
    if required:
        raise KerasFileError(f"{source}: {label} does not give its shape (batch_shape / batch_input_shape)")
    return None


def check_input_layer(settings, label, source):
    check_dtype(settings, label, source)
    for key in ("sparse", "ragged"):
        if settings.get(key):
            raise KerasFileError(f"{source}: {label} takes {key} tensors; tinynet takes dense arrays only")


def shape_of(value, what, source, batch_axis):
    if not isinstance(value, list) or (batch_axis and not value):
        raise KerasFileError(f"{source}: {what} should be a list, found {cut(repr(value))}")
    dims = value[1:] if batch_axis else value
    if not dims or len(dims) > 8 or not all(type(d) is int and 0 < d < 2 ** 31 for d in dims):
        raise KerasFileError(f"{source}: {what} is {cut(repr(value))}; tinynet needs a fixed shape of positive "
                             "integers (besides the batch axis)")
    return list(dims)


def check_dtype(settings, label, source):
    dtype = settings.get("dtype")
    if isinstance(dtype, dict):  # Keras 3 (and Keras 2 mixed precision): a policy object
        dtype = (dtype.get("config") or {}).get("name") if isinstance(dtype.get("config"), dict) else None
    if dtype not in (None, "float32"):
        raise KerasFileError(f"{source}: {label} computes in dtype {cut(repr(dtype))}; tinynet computes in float32 "
                             "only")


# Settings of every Keras layer that say nothing about what it computes.
COMMON = {"name", "trainable", "dtype", "batch_input_shape", "batch_shape", "batch_size", "input_shape", "input_dim",
          "build_config", "seed", "renorm_momentum", "fused"}


def translate_layer(class_name, settings, label, source, keras2=False):
    """``(tinynet class name, tinynet config)`` for one Keras layer, or KerasFileError saying what cannot be
    honoured."""
    row = LAYER_BY_KERAS.get(class_name)
    if row is None:
        raise KerasFileError(f"{source}: {label}: tinynet has no {cut(class_name)} layer")
    check_dtype(settings, label, source)
    config = {"name": settings["name"]} if isinstance(settings.get("name"), str) else {}
    if "name" in settings and "name" not in config:
        raise KerasFileError(f"{source}: {label} has a name that is not a string")
    if settings.get("trainable") is False:
        config["trainable"] = False
    keras_keys = {row.keras2.get(key, key) if keras2 else key: key for key in row.keys}
    dropped, unknown = [], []
    for keras_key, value in settings.items():
        key = keras_keys.get(keras_key, keras_key)
        if key in row.fixed:
            if key.endswith("_initializer"):
                continue  # the weights come from the file
            if value is not None and key.endswith(("_regularizer", "_constraint")):
                dropped.append(key)
            elif not same(value, row.fixed[key]):
                raise KerasFileError(f"{source}: {label} has {keras_key}={cut(repr(value))}; tinynet's "
                                     f"{row.tinynet.__name__} has only {keras_key}={row.fixed[key]!r}")
        elif key in row.keys:
            value = from_keras(key, value, label, source, keras2, dropped)
            if value is not OMITTED:
                config[key] = value
        elif key not in COMMON and value not in (None, False, 0, [], {}):
            unknown.append(f"{cut(keras_key, 40)}={cut(repr(value), 60)}")  # it could change the result
    if unknown:
        raise KerasFileError(f"{source}: {label} has settings tinynet cannot honour: {', '.join(unknown[:5])}"
                             + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""))
    if dropped:
        warnings.warn(f"{source}: {label}: {', '.join(dropped)} dropped (tinynet's {row.tinynet.__name__} has none); "
                      "predictions are the same, further training differs", KerasFileWarning, stacklevel=4)
    return row.tinynet.__name__, config


OMITTED = object()  # from_keras's answer for a setting left at tinynet's default


def from_keras(key, value, label, source, keras2, dropped):
    """A Keras setting's value as tinynet's layer takes it (by what the key names)."""
    if key == "activation":
        return activation_from_keras(value, label, source, keras2)
    if key == "axis" and isinstance(value, list) and len(value) == 1:  # Keras 2.4+ writes axis=[3]
        return value[0]
    if key.endswith("_initializer"):
        # Only mattered before training: the weights come from the file. Known names are kept, so
        # the model reads as it was written; anything else leaves tinynet's default.
        name = value.get("class_name") if isinstance(value, dict) else value
        if isinstance(name, str) and name in table.INITIALIZERS:
            return table.INITIALIZERS[name]
        return name if isinstance(name, str) and name in table.INITIALIZERS.values() else OMITTED
    if key.endswith(("_regularizer", "_constraint")) and value is not None:
        known = regularizers.ALL if key.endswith("_regularizer") else constraints.ALL
        name = value.get("class_name") if isinstance(value, dict) else value
        if isinstance(name, str) and name.lower() in known and (not isinstance(value, dict) or isinstance(
                value.get("config", {}), dict)):
            return {"class_name": name, "config": value.get("config", {})} if isinstance(value, dict) else name
        dropped.append(key)  # a kind tinynet lacks: training only, never the predictions
        return OMITTED
    return value


def activation_from_keras(value, label, source, keras2):
    if value is None:
        return "linear"
    if isinstance(value, dict) and isinstance(value.get("config"), str):  # Keras 3 may wrap a name
        value = value["config"]
    if not isinstance(value, str) or value not in activations.ACTIVATIONS:
        raise KerasFileError(f"{source}: {label} uses activation {cut(repr(value))}; tinynet has "
                             f"{', '.join(sorted(activations.ACTIVATIONS))}")
    if keras2 and value in table.KERAS2_DIFFERENT:
        raise KerasFileError(f"{source}: {label} uses Keras 2's activation {value!r}, which is "
                             f"{table.KERAS2_DIFFERENT[value]}; tinynet's (Keras 3's) {value!r} is another function")
    return value


def same(value, fixed):
    """Whether a file's setting is the one value tinynet has (``None`` standing for Keras's default)."""
    if value is None:
        return True
    if isinstance(fixed, tuple) and type(value) is int:  # Keras writes a pair as one int or as a list
        value = (value,) * len(fixed)
    if isinstance(value, list):
        value = tuple(value)
    if isinstance(value, bool) or isinstance(fixed, bool):
        return value is fixed
    return value == fixed


def add_weight_shapes(layers, entries, input_shape, source):
    """Each entry's ``weight_names``, ``weight_shapes`` and ``trainable_count``, found by passing the input
    shape through the layers.

    The layers are instantiated (which checks each config as tinynet's own constructor does)
    but never built, so no weight memory is allocated for a config that may be hostile.
    """
    shape = tuple(input_shape)
    for layer, entry in zip(layers, entries):
        row = LAYER_BY_KERAS[entry["keras_class"]]
        try:
            instance = row.tinynet(**layer["config"])
            weights = row.weights(instance, shape) if row.weights else []
            shape = tuple(instance.compute_output_shape(shape))
        except (TypeError, ValueError, OverflowError) as error:
            raise KerasFileError(f"{source}: {entry['label']}: {cut(str(error))}") from None
        if math.prod(shape) >= 2 ** 40:
            raise KerasFileError(f"{source}: {entry['label']} outputs {shape}, far beyond any real model")
        entry["weight_names"] = [f"{instance.name}/{name}" for name, _ in weights]
        entry["weight_shapes"] = [shape for _, shape in weights]
        entry["trainable_count"] = 0 if layer["config"].get("trainable") is False else sum(
            name not in table.NOT_TRAINED for name, _ in weights)


def spec_from_json(text, source="model JSON"):
    """The spec (``weights`` None) of Keras's ``model.to_json()`` text, for ``model_from_json``."""
    spec, _ = spec_from_config(parse_json(text, "the model JSON", source), source)
    spec.update(weights=None, compile=None, optimizer_state=None)
    return spec


def is_keras_config(config):
    """True for a config Keras wrote (``to_json()``, ``get_config()``), False for tinynet's own.

    Keras's carry ``keras_version`` or ``module`` at the top, or ``dtype`` / ``batch_input_shape``
    in their layers, none of which tinynet's ``get_config`` writes.
    """
    if not isinstance(config, dict):
        return False
    if "keras_version" in config or "module" in config:
        return True
    body = config.get("config", config)
    layers = body.get("layers") if isinstance(body, dict) else body
    return isinstance(layers, list) and any(
        isinstance(layer, dict) and isinstance(layer.get("config"), dict)
        and ({"dtype", "batch_input_shape", "batch_shape"} & set(layer["config"])) for layer in layers)


# ================================================================= writing

def writable_layers(model, keras3):
    """The model's layers as a Keras file holds them (without the InputLayer), each checked to have a Keras
    equivalent, with a name Keras accepts; ValueError naming the first that does not."""
    if not getattr(model, "built", False):
        raise ValueError(f"Model '{model.name}' has not been built yet, so it has no weights to save. Give the first "
                         "layer `input_shape=...` or call model.build((None, ...)) first.")
    if type(model).__name__ == "Functional":
        from .keras_graph import functional_config
        functional_config(model, keras3)  # refuses layers and settings Keras has no equivalent for
        return model.layers
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    for layer in layers:
        check_name(layer)
        if isinstance(layer, Model):
            from .keras_graph import nested_config
            nested_config(layer, keras3)
        else:
            layer_config(layer, keras3)  # refuses layers and settings Keras has no equivalent for
    names = [layer.name for layer in layers]
    if len(set(names)) != len(names):
        raise ValueError(f"Model '{model.name}' has two layers with the same name; Keras needs unique names")
    return layers


def check_name(layer):
    if not re.fullmatch(r"[A-Za-z0-9_.\-]+", layer.name):
        raise ValueError(f"Layer name {layer.name!r} cannot be a Keras layer name (letters, digits, '_', '.', '-')")


def layer_config(layer, keras3):
    """``(Keras class name, config)`` as Keras 2 (``keras3=False``) or Keras 3 writes this tinynet layer."""
    if type(layer).__name__ in table.CODE_LAYERS:
        raise ValueError(f"Layer '{layer.name}' is a {type(layer).__name__} layer, which holds Python code: tinynet "
                         "never writes code to a file (nor runs code from one). Arithmetic on symbolic tensors "
                         "(h + x) is such a layer too: use the merge layers (layers.Add) instead, or save the weights "
                         "only (model.save_weights) and rebuild the model in code.")
    row = LAYER_BY_TINYNET.get(type(layer))
    config = {"name": layer.name, "trainable": bool(layer.trainable), "dtype": "float32"}
    if row is None:  # Sigmoid, Tanh, GELU ...: Keras has them as functions, in an Activation layer
        config["activation"] = activation_to_keras(layer, keras3, owner=layer)
        return "Activation", config
    for key in row.keys:
        value = row.fixed[key] if key in row.fixed else getattr(layer, key)
        if keras3 and key in row.keras3_when_set and value is None:
            continue
        config[key if keras3 else row.keras2.get(key, key)] = to_keras(key, value, layer, keras3)
    for key in row.omit:
        config.pop(key)
    return row.keras, config


def activation_to_keras(activation, keras3, owner):
    """The Keras name of an activation layer (``owner`` the layer that holds it, named in errors)."""
    where = f"Layer '{owner.name}'"
    try:
        name = activations.name_of(activation)
    except ValueError:
        raise ValueError(f"{where} ({type(owner).__name__}) has no Keras equivalent tinynet can write; Keras files "
                         f"hold {', '.join(sorted(row.keras for row in table.LAYERS))} and the activations "
                         f"{', '.join(sorted(activations.ACTIVATIONS))}") from None
    config, default = activation.get_config(), type(activation)(name=activation.name).get_config()
    changed = sorted(key for key, value in config.items()
                     if key not in ("name", "trainable", "input_shape") and default.get(key) != value)
    if changed:
        raise ValueError(f"{where}: Keras's activation {name!r} has no setting "
                         f"{', '.join(f'{key}={config[key]!r}' for key in changed)}, so it cannot be written to a "
                         "Keras file")
    if keras3:
        return table.KERAS3_ACTIVATIONS.get(name, name)
    if name in table.KERAS2_DIFFERENT:
        raise ValueError(f"{where} uses the activation {name!r}: Keras 2's {name!r} is "
                         f"{table.KERAS2_DIFFERENT[name]}, another function, so a Keras 2 .h5 file cannot hold it. "
                         "Save to a .keras file (Keras 3) instead.")
    return table.KERAS2_ACTIVATIONS.get(name, name)


def to_keras(key, value, layer, keras3):
    """A tinynet setting's value as Keras writes it (by what the key names)."""
    if key == "activation":
        return activation_to_keras(value, keras3, owner=layer)
    if key.endswith("_initializer"):
        default = "GlorotUniform" if key == "kernel_initializer" else "Zeros"
        return keras_object(key, initializer_name(value, default), {}, keras3)
    if key.endswith(("_regularizer", "_constraint")) and value is not None:
        if type(value).__module__.startswith("tinynet.core.") and hasattr(value, "get_config"):
            return keras_object(key, type(value).__name__, value.get_config(), keras3)
        warnings.warn(f"Layer '{layer.name}': {key}={value!r} is not one of Keras's, so the Keras file holds "
                      f"{key}=None (predictions are the same; training the loaded model differs)",
                      KerasFileWarning, stacklevel=5)
        return None
    return list(value) if isinstance(value, tuple) else value


def initializer_name(value, default):
    """The Keras class of a tinynet initializer (a name, a class, an instance); ``default`` for one Keras
    lacks (it only mattered before training: the file holds the weights)."""
    name = value if isinstance(value, str) else getattr(value, "__name__", type(value).__name__)
    by_tinynet_name = {tinynet: keras for keras, tinynet in table.INITIALIZERS.items()}
    return by_tinynet_name.get(name, name if name in table.INITIALIZERS else default)


def keras_object(key, class_name, config, keras3):
    """``{'class_name', 'config'}`` as Keras 2 writes an object; Keras 3 adds its module."""
    if class_name in table.INITIALIZERS and not config:  # the settings Keras writes for its initializers
        config = {"RandomNormal": {"mean": 0.0, "stddev": 0.05, "seed": None},
                  "RandomUniform": {"minval": -0.05, "maxval": 0.05, "seed": None}}.get(
            class_name, {} if class_name in ("Zeros", "Ones") else {"seed": None})
    if not keras3:
        return {"class_name": class_name, "config": config}
    module = next(module for suffix, module in MODULES.items() if key.endswith(suffix))
    return {"module": module, "class_name": class_name, "config": config, "registered_name": None}


def model_config(model, layers, keras3):
    """The model's config as Keras 2's ``.h5`` (``model_config``) or Keras 3's ``.keras`` (``config.json``) holds it."""
    from .keras_graph import MODULES, functional_config, nested_config

    if type(model).__name__ == "Functional":
        return functional_config(model, keras3)
    if type(model).__name__ != "Sequential" and not any(cls.__name__ == "Sequential" for cls in type(model).__mro__):
        nested_config(model, keras3)  # a subclassed model: refused, saying what to do
    shape = [None, *model.input_shape[1:]]
    if not keras3:
        entries = [{"class_name": "InputLayer", "config": {"batch_input_shape": shape, "dtype": "float32",
                                                           "sparse": False, "ragged": False,
                                                           "name": f"{layers[0].name}_input"}}]
        entries += [dict(zip(("class_name", "config"), nested_config(layer, keras3=False) if isinstance(layer, Model)
                             else layer_config(layer, keras3=False))) for layer in layers]
        return {"class_name": "Sequential", "config": {"name": model.name, "layers": entries}}
    entries = [{"module": "keras.layers", "class_name": "InputLayer",
                "config": {"batch_shape": shape, "dtype": "float32", "sparse": False, "name": "input_layer"},
                "registered_name": None}]
    for layer in layers:
        if isinstance(layer, Model):
            class_name, config = nested_config(layer, keras3=True)
            module, registered = MODULES[class_name]
            entries.append({"module": module, "class_name": class_name, "config": config,
                            "registered_name": registered})
            continue
        class_name, config = layer_config(layer, keras3=True)
        entries.append({"module": "keras.layers", "class_name": class_name, "config": config, "registered_name": None,
                        "build_config": {"input_shape": [None, *layer.input_shape]}})
    return {"module": "keras", "class_name": "Sequential",
            "config": {"name": model.name, "trainable": True, "dtype": "float32", "layers": entries,
                       "build_input_shape": shape},
            "registered_name": None, "build_config": {"input_shape": shape}}


# ================================================================= names in Keras 3 weight files

def snake_case(class_name):
    """Keras's ``naming.to_snake_case``: 'ReLU' -> 're_lu', 'MaxPooling2D' -> 'max_pooling2d'."""
    name = re.sub(r"\W+", "", class_name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name)
    return name.lower()


def keras3_keys(class_names):
    """The keys Keras 3 gives layers in a weights file: snake_case class name, numbered by class in order."""
    used, keys = {}, []
    for class_name in class_names:
        key = snake_case(class_name)
        if key in used:
            used[key] += 1
            key = f"{key}_{used[key]}"
        else:
            used[key] = 0
        keys.append(key)
    return keys


def keras_class(layer):
    """The Keras class a tinynet layer is written as (``Sigmoid`` -> ``Activation``; a nested model its kind)."""
    if isinstance(layer, Model):
        return "Functional" if type(layer).__name__ == "Functional" else "Sequential"
    row = LAYER_BY_TINYNET.get(type(layer))
    return "Activation" if row is None else row.keras


def saved_layers(model):
    """The layers whose weights a Keras file keeps, in its order: a functional model's all (its InputLayers
    have none), a Sequential's without its InputLayer (Keras's Sequential files list none)."""
    if type(model).__name__ == "Functional":
        return model.layers
    return [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]


def cut(text, limit=120):
    """A file's text in an error message, cut short: a hostile file's names can be megabytes long."""
    text = str(text)
    return text if len(text) <= limit else f"{text[:limit - 3]}... ({len(text):,} characters)"
