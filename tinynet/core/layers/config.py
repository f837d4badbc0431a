"""A layer's config, read off its constructor: what ``Layer.get_config`` returns and a model file holds.

``config_of(layer)`` gives the layer's name, and every argument of its ``__init__`` (and of its
parents', through ``**kwargs``) that it keeps in an attribute of the same name, as plain data a
file can hold: an activation by its name, an initializer by its name or class name, a regularizer
or a constraint as ``{'class_name', 'config'}``. So ``type(layer)(**layer.get_config())`` rebuilds
it, and a layer needs no ``get_config`` of its own unless it keeps a setting under another name.
"""
import inspect

from .. import initializers

ARGUMENT = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def constructor_arguments(cls):
    """The names of the keyword arguments ``cls(...)`` takes: its own first, then its parents' (through
    ``**kwargs``)."""
    names = []
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        parameters = list(inspect.signature(vars(klass)["__init__"]).parameters.values())[1:]  # not self
        names += [p.name for p in parameters if p.kind in ARGUMENT and p.name not in names]
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
            break
    return names


def config_of(layer):
    config = {"name": layer.name, "trainable": layer.trainable}
    if layer.declared_input_shape is not None:
        config["input_shape"] = layer.declared_input_shape
    for name in constructor_arguments(type(layer)):
        if name not in config and name != "input_shape" and name in vars(layer):
            value = vars(layer)[name]
            if name.endswith(("_regularizer", "_constraint")) and value is not None:
                config[name] = user_function(layer, name, value)
            else:
                config[name] = plain(value)
    return config


def user_function(layer, name, value):
    """A regularizer or constraint as Keras 2 writes it: a config dict, or a plain function's name (loading it
    then needs the function); an object of the user's without ``get_config`` cannot be written."""
    if callable(getattr(value, "get_config", None)):
        return {"class_name": type(value).__name__, "config": value.get_config()}
    if isinstance(getattr(value, "__name__", None), str):
        return value.__name__
    raise ValueError(f"Layer '{layer.name}': its {name} (a {type(value).__name__}) has no get_config(), so the layer's "
                     "settings cannot be written. Give that class a get_config() returning the arguments that "
                     "rebuild it.")


def plain(value):
    """A setting as a file holds it."""
    from .activations import name_of  # (activations.py defines layers, so it imports base.py, which imports us)
    from .base import Layer

    if isinstance(value, Layer):  # an activation: Dense(activation='relu') keeps a ReLU layer
        return name_of(value)
    if isinstance(value, initializers.Initializer) or (isinstance(value, type) and
                                                        issubclass(value, initializers.Initializer)):
        return value.__name__ if isinstance(value, type) else type(value).__name__
    if callable(getattr(value, "get_config", None)) and not isinstance(value, type):  # regularizers, constraints
        return {"class_name": type(value).__name__, "config": value.get_config()}
    return value
