"""Keras model configurations <-> tinynet's plain-data model spec.

A Keras file describes its model as JSON (``model_config`` in HDF5 files,
``config.json`` in ``.keras`` zips, ``model.to_json()``). This module turns that
JSON into the spec tinynet builds a ``Sequential`` from::

    {'name': str, 'input_shape': [ints, no batch axis] or None,
     'layers': [{'class_name': tinynet layer class, 'config': kwargs for it}], ...}

and, for writing, turns a tinynet model back into the JSON Keras 2 and Keras 3
write. It is pure data: no HDF5, no file access, no code named in a file is ever
imported or run. Anything tinynet cannot reproduce exactly (a layer it lacks,
channels-first data, dilation, a custom activation, a Lambda layer) raises
``KerasFileError`` naming the layer and the setting; settings that only change
training (regularizers, constraints, initializers) are dropped with a warning.
"""
import json
import math
import re
import warnings

from ..core import layers as tinynet_layers
from .errors import ModelFileError

# A model config is a few kB per layer; anything this large is not one.
MAX_CONFIG_BYTES = 16 * 2 ** 20
ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh", "softmax")


class KerasFileError(ModelFileError):
    """A Keras file tinynet cannot read: damaged, hostile, or describing a model tinynet cannot build exactly."""


class KerasFileWarning(UserWarning):
    """Something in a Keras file tinynet reads without it: it changes training only, never predictions."""


def parse_json(text, what, source):
    """``text`` (str or bytes, at most MAX_CONFIG_BYTES) parsed as JSON, or KerasFileError."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise KerasFileError(f"{source}: {what} is not UTF-8 text ({error})") from None
    if not isinstance(text, str):
        raise KerasFileError(f"{source}: {what} should be a JSON string, found {type(text).__name__}")
    if len(text) > MAX_CONFIG_BYTES:
        raise KerasFileError(f"{source}: {what} is {len(text):,} characters long; tinynet reads at most "
                             f"{MAX_CONFIG_BYTES:,} (a model config is a few kB per layer)")
    try:
        # parse_constant: Keras writes NaN/Infinity nowhere in a config; refuse them too.
        return json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as error:
        raise KerasFileError(f"{source}: {what} is not valid JSON ({error})") from None


def _no_constant(name):
    raise ValueError(f"{name} is not allowed")


# ----------------------------------------------------------------- reading

def spec_from_config(config, source):
    """The tinynet spec (without weights) of a Keras ``Sequential`` config, and what the weight readers need.

    Returns ``(spec, entries)``: ``spec`` as in the module docstring, ``entries`` one dict per
    layer in ``spec['layers']`` with ``keras_class``, ``keras_name`` and ``weight_shapes``
    (the shapes of the layer's weights in Keras's and tinynet's order, e.g. kernel then bias).
    """
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise KerasFileError(f"{source}: the model config should be an object with a 'class_name'")
    _check_own(config, "the model", source)
    if config["class_name"] != "Sequential":
        raise KerasFileError(
            f"{source}: the model is a Keras {config['class_name']!r} model; tinynet reads Sequential models only")
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
        class_name, settings, label = _layer_parts(layer_config, i, source)
        if class_name == "InputLayer":
            if layers or input_shape is not None:
                raise KerasFileError(f"{source}: {label} is an InputLayer after the first layer")
            input_shape = _input_shape_of(settings, label, source, required=True)
            _check_input_layer(settings, label, source)
            continue
        if not layers and input_shape is None:  # Keras 2.2-2.3: the first layer carries the input shape
            input_shape = _input_shape_of(settings, label, source, required=False)
        tinynet_class, tinynet_config = translate_layer(class_name, settings, label, source)
        if frozen:
            tinynet_config["trainable"] = False
        layers.append({"class_name": tinynet_class, "config": tinynet_config})
        entries.append({"keras_class": class_name, "keras_name": settings.get("name"), "label": label})
    if input_shape is None:
        for where in (body.get("build_input_shape"), (config.get("build_config") or {}).get("input_shape")):
            if where is not None:
                input_shape = _shape(where, "build_input_shape", source, batch_axis=True)
                break
    if not layers:
        raise KerasFileError(f"{source}: the model has no layers besides its input")
    if input_shape is None:
        raise KerasFileError(f"{source}: the model config does not say its input shape (no InputLayer, no "
                             "batch_input_shape), so tinynet cannot build it")
    _add_weight_shapes(layers, entries, input_shape, source)
    return {"name": name, "input_shape": input_shape, "layers": layers}, entries


def _layer_parts(layer_config, i, source):
    if not isinstance(layer_config, dict) or not isinstance(layer_config.get("class_name"), str) \
            or not isinstance(layer_config.get("config"), dict):
        raise KerasFileError(f"{source}: layer {i} of the config should be an object with a 'class_name' "
                             "string and a 'config' object")
    settings = layer_config["config"]
    layer_name = settings.get("name", f"#{i}")
    label = f"layer {layer_name!r} ({layer_config['class_name']})"
    _check_own(layer_config, label, source)
    return layer_config["class_name"], settings, label


def _check_own(config, label, source):
    """Refuse objects that are not Keras's own: custom classes, Lambda layers (Python code in a file)."""
    class_name = config["class_name"]
    module = config.get("module")
    registered = config.get("registered_name")
    if class_name in ("Lambda", "TFOpLambda", "SlicingOpLambda") or class_name.startswith("__"):
        raise KerasFileError(
            f"{source}: {label} is a {class_name} layer, which holds Python code; tinynet never runs code from a file")
    if (module is not None and not (isinstance(module, str) and (module == "keras" or module.startswith("keras."))))\
            or registered not in (None, class_name):
        raise KerasFileError(f"{source}: {label} is a custom object (module={module!r}, registered_name="
                             f"{registered!r}); tinynet reads only Keras's own layers")


def _input_shape_of(settings, label, source, required):
    for key in ("batch_shape", "batch_input_shape"):
        if settings.get(key) is not None:
            return _shape(settings[key], f"{label} {key}", source, batch_axis=True)
    if settings.get("input_shape") is not None:
        return _shape(settings["input_shape"], f"{label} input_shape", source, batch_axis=False)
    if required:
        raise KerasFileError(f"{source}: {label} does not give its shape (batch_shape / batch_input_shape)")
    return None


def _check_input_layer(settings, label, source):
    _check_dtype(settings, label, source)
    for key in ("sparse", "ragged"):
        if settings.get(key):
            raise KerasFileError(f"{source}: {label} takes {key} tensors; tinynet takes dense arrays only")


def _shape(value, what, source, batch_axis):
    if not isinstance(value, list) or (batch_axis and not value):
        raise KerasFileError(f"{source}: {what} should be a list, found {value!r}")
    dims = value[1:] if batch_axis else value
    if not dims or len(dims) > 8 or not all(type(d) is int and 0 < d < 2 ** 31 for d in dims):
        raise KerasFileError(f"{source}: {what} is {value!r}; tinynet needs a fixed shape of positive integers "
                             "(besides the batch axis)")
    return list(dims)


def _check_dtype(settings, label, source):
    dtype = settings.get("dtype")
    if isinstance(dtype, dict):  # Keras 3 (and Keras 2 mixed precision): a policy object
        dtype = (dtype.get("config") or {}).get("name") if isinstance(dtype.get("config"), dict) else None
    if dtype not in (None, "float32"):
        raise KerasFileError(f"{source}: {label} computes in dtype {dtype!r}; tinynet computes in float32 only")


# Settings that never change what a layer computes at inference, per Keras class.
_TRAINING_ONLY = ("kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
                  "bias_constraint", "beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint")
_IGNORED = {"name", "trainable", "dtype", "batch_input_shape", "batch_shape", "batch_size", "input_shape",
            "input_dim", "kernel_initializer", "bias_initializer", "beta_initializer", "gamma_initializer",
            "moving_mean_initializer", "moving_variance_initializer", "seed", "renorm_momentum", "fused",
            "synchronized", "build_config", *_TRAINING_ONLY}
INITIALIZERS = {"GlorotUniform": "glorot_uniform", "GlorotNormal": "glorot_normal", "HeNormal": "he_normal",
                 "HeUniform": "he_uniform", "LecunNormal": "lecun_normal", "LecunUniform": "lecun_uniform",
                 "Zeros": "zeros", "Ones": "ones", "RandomNormal": "random_normal",
                 "RandomUniform": "random_uniform"}


def translate_layer(class_name, settings, label, source):
    """``(tinynet class name, tinynet config)`` for one Keras layer, or KerasFileError saying what cannot be honoured."""
    def setting(key, default=None):
        return settings.get(key, default)

    def refuse(key, why):
        raise KerasFileError(f"{source}: {label} has {key}={setting(key)!r}; {why}")

    _check_dtype(settings, label, source)
    if setting("data_format") not in (None, "channels_last"):
        refuse("data_format", "tinynet takes channels-last images (N, H, W, C) only")
    dropped = [key for key in _TRAINING_ONLY if setting(key) is not None]
    if dropped:
        warnings.warn(f"{source}: {label}: {', '.join(dropped)} dropped (tinynet has none); predictions are the "
                      "same, further training differs", KerasFileWarning, stacklevel=4)
    config = {"name": setting("name")} if isinstance(setting("name"), str) else {}
    if setting("trainable") is False:
        config["trainable"] = False
    handled = set()

    def take(*keys):
        handled.update(keys)
        return [setting(key) for key in keys]

    if class_name == "Dense":
        units, activation, use_bias = take("units", "activation", "use_bias")
        config.update(units=units, activation=_activation(activation, label, source), use_bias=use_bias is not False,
                      **_initializers(settings, label, source))
    elif class_name in ("Conv2D", "Convolution2D"):
        filters, kernel_size, strides, padding, activation, use_bias = take(
            "filters", "kernel_size", "strides", "padding", "activation", "use_bias")
        dilation, groups = take("dilation_rate", "groups")
        if dilation not in (None, 1, [1, 1]):
            refuse("dilation_rate", "tinynet's Conv2D has no dilation")
        if groups not in (None, 1):
            refuse("groups", "tinynet's Conv2D has no grouped convolution")
        config.update(filters=filters, kernel_size=_pair(kernel_size), strides=_pair(strides or 1),
                      padding=_padding(padding, label, source), activation=_activation(activation, label, source),
                      use_bias=use_bias is not False, **_initializers(settings, label, source))
        class_name = "Conv2D"
    elif class_name in ("MaxPooling2D", "MaxPool2D", "AveragePooling2D", "AvgPool2D"):
        pool_size, strides, padding = take("pool_size", "strides", "padding")
        config.update(pool_size=_pair(pool_size or 2), strides=None if strides is None else _pair(strides),
                      padding=_padding(padding, label, source))
        class_name = "MaxPooling2D" if class_name.startswith("Max") else "AveragePooling2D"
    elif class_name in ("GlobalAveragePooling2D", "GlobalAvgPool2D"):
        if take("keepdims")[0]:
            refuse("keepdims", "tinynet's GlobalAveragePooling2D returns (N, C)")
        class_name = "GlobalAveragePooling2D"
    elif class_name == "BatchNormalization":
        axis, momentum, epsilon, center, scale = take("axis", "momentum", "epsilon", "center", "scale")
        for key in ("renorm", "virtual_batch_size", "adjustment", "renorm_clipping"):
            if take(key)[0]:
                refuse(key, "tinynet's BatchNormalization has no such option")
        if isinstance(axis, list) and len(axis) == 1:  # Keras 2.4+: axis=[3]
            axis = axis[0]
        config.update(axis=-1 if axis is None else axis, momentum=0.99 if momentum is None else momentum,
                      epsilon=1e-3 if epsilon is None else epsilon, center=center is not False,
                      scale=scale is not False)
    elif class_name == "Dropout":
        rate, noise_shape = take("rate", "noise_shape")
        if noise_shape is not None:
            warnings.warn(f"{source}: {label}: noise_shape={noise_shape!r} dropped (tinynet drops each value on "
                          "its own); predictions are the same, training differs", KerasFileWarning, stacklevel=3)
        config.update(rate=rate)
    elif class_name == "Flatten":
        pass
    elif class_name == "Reshape":
        config.update(target_shape=take("target_shape")[0])
    elif class_name == "Activation":
        name = _activation(take("activation")[0], label, source)
        config.update(activation=name)
    elif class_name == "ReLU":
        max_value, negative_slope, threshold = take("max_value", "negative_slope", "threshold")
        if max_value is not None or negative_slope not in (None, 0) or threshold not in (None, 0):
            raise KerasFileError(f"{source}: {label} has max_value={max_value!r}, negative_slope={negative_slope!r}, "
                                 f"threshold={threshold!r}; tinynet's ReLU is max(x, 0) only")
    elif class_name == "Softmax":
        axis = take("axis")[0]
        if axis not in (None, -1, [-1]):
            refuse("axis", "tinynet's Softmax works on the last axis only")
    else:
        raise KerasFileError(f"{source}: {label}: tinynet has no {class_name} layer")
    if not isinstance(config.get("name", ""), str):
        raise KerasFileError(f"{source}: {label} has a name that is not a string")
    # Any other setting must be absent or off: a value tinynet does not know could change the result.
    unknown = sorted(key for key, value in settings.items()
                     if key not in _IGNORED and key not in handled and key != "data_format"
                     and value not in (None, False, 0, [], {}))
    if unknown:
        raise KerasFileError(f"{source}: {label} has settings tinynet cannot honour: "
                             + ", ".join(f"{key}={settings[key]!r}" for key in unknown))
    return class_name, config


def _activation(value, label, source):
    if value is None:
        return "linear"
    if isinstance(value, dict) and isinstance(value.get("config"), str):  # Keras 3 may wrap a name
        value = value["config"]
    if not isinstance(value, str) or value not in ACTIVATIONS:
        raise KerasFileError(f"{source}: {label} uses activation {value!r}; tinynet has {', '.join(ACTIVATIONS)}")
    return value


def _padding(value, label, source):
    if value not in ("valid", "same"):
        raise KerasFileError(f"{source}: {label} has padding={value!r}; tinynet has 'valid' and 'same'")
    return value


def _pair(value):
    # Left as read when malformed: the tinynet layer's own check then names it.
    return [value, value] if type(value) is int else value


def _initializers(settings, label, source):
    # Initializers only mattered before training: the weights come from the file. Known names are
    # kept so the model reads as it was written; anything else leaves tinynet's default.
    result = {}
    for key in ("kernel_initializer", "bias_initializer"):
        value = settings.get(key)
        name = value.get("class_name") if isinstance(value, dict) else value
        if isinstance(name, str) and name in INITIALIZERS:
            result[key] = INITIALIZERS[name]
        elif isinstance(name, str) and name in INITIALIZERS.values():
            result[key] = name
    return result


def _add_weight_shapes(layers, entries, input_shape, source):
    """Each entry's ``weight_shapes``, found by passing the input shape through the layers.

    The layers are instantiated (which checks each config as tinynet's own constructor does)
    but never built, so no weight memory is allocated for a config that may be hostile.
    """
    shape = tuple(input_shape)
    for layer, entry in zip(layers, entries):
        cls = getattr(tinynet_layers, layer["class_name"])
        try:
            instance = cls(**layer["config"])
            weights = _weight_shapes(layer["class_name"], layer["config"], shape)
            if layer["class_name"] == "BatchNormalization" and instance.axis not in (-1, len(shape)):
                raise ValueError(f"tinynet normalizes over the last (channels) axis only, axis=-1 or {len(shape)} "
                                 f"here; received axis={instance.axis}")
            shape = tuple(instance.compute_output_shape(shape))
        except (TypeError, ValueError, OverflowError) as error:
            raise KerasFileError(f"{source}: {entry['label']}: {error}") from None
        if math.prod(shape) >= 2 ** 40:
            raise KerasFileError(f"{source}: {entry['label']} outputs {shape}, far beyond any real model")
        entry["weight_shapes"] = weights
        entry["weight_names"] = [f"{instance.name}/{short}" for short in _weight_names(layer["class_name"],
                                                                                      layer["config"])]


def _weight_names(class_name, config):
    if class_name in ("Dense", "Conv2D"):
        return ["kernel"] + (["bias"] if config["use_bias"] else [])
    if class_name == "BatchNormalization":
        return ((["gamma"] if config["scale"] else []) + (["beta"] if config["center"] else [])
                + ["moving_mean", "moving_variance"])
    return []


def _weight_shapes(class_name, config, shape):
    if class_name == "Dense":
        return [(shape[-1], config["units"])] + ([(config["units"],)] if config["use_bias"] else [])
    if class_name == "Conv2D":
        kh, kw = config["kernel_size"]
        return [(kh, kw, shape[-1], config["filters"])] + ([(config["filters"],)] if config["use_bias"] else [])
    if class_name == "BatchNormalization":
        channels = (shape[-1],)
        return [channels] * (int(config["scale"]) + int(config["center"]) + 2)
    return []


def spec_from_json(text, source="model JSON"):
    """The spec (``weights`` None) of Keras 2's ``model.to_json()`` text, for ``model_from_json``."""
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


# ----------------------------------------------------------------- names in Keras 3 weight files

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
