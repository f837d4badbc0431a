"""tinynet layers and optimizers as Keras writes them: the configs of ``.h5`` and ``.keras`` files.

``layer_config(layer, keras3)`` gives the ``(class_name, config)`` Keras 2 (``keras3=False``,
as in a ``model.save('m.h5')`` of Keras 2.10) or Keras 3 (as in a ``.keras`` of Keras 3.0)
writes for the same layer: the same keys, the same defaults for what tinynet does not have
(no regularizers, no constraints, channels-last, no dilation). tinynet's Sigmoid, Tanh and
Linear layers become Keras ``Activation`` layers, the only form Keras has for them.
The layers and optimizers are duck-typed (read by attribute), never imported from tinynet.models.
"""
import numpy as np

from ..core import layers as tinynet_layers
from .keras_config import INITIALIZERS


def keras_class_of(layer):
    """The Keras class name and extra Keras settings for a tinynet layer (duck-typed by class name)."""
    name = type(layer).__name__
    if name in ("Sigmoid", "Tanh", "Linear"):  # Keras has these as Activation layers only
        return "Activation", {"activation": name.lower()}
    if name in ("MaxPool2D", "AvgPool2D", "GlobalAvgPool2D"):
        name = {"MaxPool2D": "MaxPooling2D", "AvgPool2D": "AveragePooling2D",
                "GlobalAvgPool2D": "GlobalAveragePooling2D"}[name]
    if name not in ("Dense", "Conv2D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D",
                    "BatchNormalization", "Dropout", "Flatten", "Reshape", "Activation", "ReLU", "Softmax",
                    "InputLayer"):
        raise ValueError(f"Layer '{layer.name}' ({name}) has no Keras equivalent tinynet can write")
    return name, {}


def _initializer(name, keras3):
    class_name = {v: k for k, v in INITIALIZERS.items()}.get(name if isinstance(name, str) else "",
                                                              "GlorotUniform")
    config = {"seed": None} if class_name not in ("Zeros", "Ones") else {}
    if class_name == "RandomNormal":
        config = {"mean": 0.0, "stddev": 0.05, "seed": None}
    elif class_name == "RandomUniform":
        config = {"minval": -0.05, "maxval": 0.05, "seed": None}
    if keras3:
        return {"module": "keras.initializers", "class_name": class_name, "config": config, "registered_name": None}
    return {"class_name": class_name, "config": config}


def layer_config(layer, keras3):
    """``{'class_name', 'config'}`` as Keras 2 (``keras3=False``) or Keras 3 writes it for this layer."""
    class_name, extra = keras_class_of(layer)
    config = {"name": layer.name, "trainable": bool(getattr(layer, "trainable", True)), "dtype": "float32"}
    get = lambda attribute: getattr(layer, attribute)  # noqa: E731  (a short name for a long line below)
    if class_name in ("Dense", "Conv2D"):
        activation = tinynet_layers.activations.name_of(layer.activation)
        if class_name == "Dense":
            config["units"] = get("units")
        else:
            config.update(filters=get("filters"), kernel_size=list(get("kernel_size")), strides=list(get("strides")),
                          padding=get("padding"), data_format="channels_last", dilation_rate=[1, 1], groups=1)
        config.update(activation=activation, use_bias=get("use_bias"),
                      kernel_initializer=_initializer(get("kernel_initializer"), keras3),
                      bias_initializer=_initializer(get("bias_initializer"), keras3),
                      kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                      kernel_constraint=None, bias_constraint=None)
        if keras3 and class_name == "Dense":  # Keras 3's Dense has no activity_regularizer in its config
            del config["activity_regularizer"]
    elif class_name in ("MaxPooling2D", "AveragePooling2D"):
        config.update(pool_size=list(get("pool_size")), padding=get("padding"), strides=list(get("strides")),
                      data_format="channels_last")
    elif class_name == "GlobalAveragePooling2D":
        config.update(data_format="channels_last", keepdims=False)
    elif class_name == "BatchNormalization":
        config.update(axis=-1 if keras3 else [len(layer.input_shape)], momentum=get("momentum"),
                      epsilon=get("epsilon"), center=get("center"), scale=get("scale"),
                      beta_initializer=_initializer("zeros", keras3), gamma_initializer=_initializer("ones", keras3),
                      moving_mean_initializer=_initializer("zeros", keras3),
                      moving_variance_initializer=_initializer("ones", keras3),
                      beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None)
    elif class_name == "Dropout":
        config.update(rate=get("rate"), noise_shape=None, seed=None)
    elif class_name == "Flatten":
        config["data_format"] = "channels_last"
    elif class_name == "Reshape":
        config["target_shape"] = list(get("target_shape"))
    elif class_name == "Activation":
        config["activation"] = extra.get("activation") or tinynet_layers.activations.name_of(layer.activation)
    elif class_name == "ReLU":
        config.update(max_value=None, negative_slope=0.0, threshold=0.0)
    elif class_name == "Softmax":
        config["axis"] = -1
    return class_name, config


def input_layer_config(model, keras3):
    shape = [None, *model.input_shape[1:]]
    config = {("batch_shape" if keras3 else "batch_input_shape"): shape, "dtype": "float32", "sparse": False,
              "ragged": False, "name": f"{model.layers[0].name}_input"}
    return config


_KERAS2_OPTIMIZER_ARGS = {"SGD": ("learning_rate", "decay", "momentum", "nesterov"),
                          "RMSprop": ("learning_rate", "decay", "rho", "momentum", "epsilon", "centered"),
                          "Adam": ("learning_rate", "decay", "beta_1", "beta_2", "epsilon", "amsgrad")}


def optimizer_settings(optimizer):
    """``(class name, Keras 2 settings)`` of a tinynet SGD / RMSprop / Adam."""
    class_name = type(optimizer).__name__
    if class_name not in _KERAS2_OPTIMIZER_ARGS:
        raise ValueError(f"The optimizer {class_name} has no Keras equivalent tinynet can write")
    defaults = {"decay": 0.0, "momentum": 0.0, "nesterov": False, "centered": False, "amsgrad": False}
    settings = {key: getattr(optimizer, key, defaults.get(key)) for key in _KERAS2_OPTIMIZER_ARGS[class_name]}
    return class_name, {key: (float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v)
                        for key, v in settings.items()}


def keras_state(optimizer, parameter):
    """The optimizer's state of ``parameter`` in Keras's form (``m``/``v``, ``momentum``, ``velocity``);
    zeros (Keras's fresh state) before the first step."""
    class_name = type(optimizer).__name__
    state = getattr(optimizer, "state", {}).get(parameter) or {}
    keys = {"Adam": ("m", "v"), "SGD": ("momentum",) if getattr(optimizer, "momentum", 0) else (),
            "RMSprop": ("velocity",)}[class_name]
    zeros = np.zeros(parameter.shape, np.float32)
    return {key: np.asarray(state.get(key, zeros), np.float32) for key in keys}


def trainable_parameters(layers):
    return [p for layer in layers for p in (layer.trainable_weights if hasattr(layer, "trainable_weights")
                                            else layer.weights)]
