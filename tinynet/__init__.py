"""tinynet: a neural-network library in pure NumPy with a Keras-like API.

A textbook core with rings around it:

    core/    the maths: layers, the reference ops, the model and its training step, losses, optimizers.
             It imports nothing outside itself.
    fast/    the fast twins of the ops, each registered behind the op contract (same signature, same
             numbers); this file is the only one that imports it
    keras/   what only Keras scripts use: the public namespaces, backend, legacy spellings
    io/      file formats, downloads, caches, data sets
    tools/   gradcheck, trace, plots, sanity checks, the scalar engine

This file plugs the rings into the core and re-exports the public API. ``datasets`` (the
downloader) and ``plot`` (matplotlib) load on first use, so ``import tinynet`` stays quick.
"""
import importlib

from . import fast  # noqa: F401  (registers the fast twins of the ops)
from .core import initializers, losses, optimizers
from .core.gradient_tape import GradientTape
from .core.graph import Input
from .core.guards import TrainingDivergedError
from .core.models import Model, Sequential
from .core.tensor import Tensor
from .core.utils import set_random_seed, to_categorical
from .io import formats
from .keras import callbacks, layers, metrics, models, ops, public, utils
from .tools.trace import trace

public.install()   # `from tinynet.layers import Dense`, `tinynet.datasets.mnist` ...
formats.install()  # model.save / save_weights / load_weights write and read files

__version__ = "0.1.0"

__all__ = ["Sequential", "Model", "Input", "GradientTape", "Tensor", "callbacks", "datasets", "initializers", "layers", "losses", "metrics", "models",
           "ops", "optimizers", "utils", "set_random_seed", "to_categorical",
           "TrainingDivergedError", "trace", "saving", "load_model", "plot"]

# name -> (module, attribute or None for the module itself), imported on first access.
_LAZY = {"datasets": ("tinynet.io.datasets", None), "plot": ("tinynet.tools.plot", None),
         "saving": ("tinynet.keras.saving", None), "load_model": ("tinynet.keras.saving", "load_model"),
         # Keras's names for scripts written for Keras: keras.Input, keras.backend, tf.keras ...
         "backend": ("tinynet.keras.backend", None), "constraints": ("tinynet.core.constraints", None),
         "keras": ("tinynet.keras", None), "np_utils": ("tinynet.keras.np_utils", None),
         "random": ("tinynet.keras.random", None), "regularizers": ("tinynet.core.regularizers", None),
         "gradcheck": ("tinynet.tools.gradcheck", None), "scalar": ("tinynet.tools.scalar", None),
         "sanity": ("tinynet.tools.sanity", None), "tools": ("tinynet.tools", None), "io": ("tinynet.io", None),
         # TensorFlow's names tutorials call with `import tinynet as tf`: tf.data, tf.nn.relu, tf.cast ...
         "data": ("tinynet.keras.data", None), "activations": ("tinynet.keras.activations", None),
         "nn": ("tinynet.keras.nn", None), "config": ("tinynet.keras.tf_config", None),
         "test": ("tinynet.keras.tf_config", "test"), "math": ("tinynet.keras.tf_math", None),
         **{name: ("tinynet.keras.tensorflow", name) for name in (
             "newaxis", "cast", "one_hot", "float16", "float32", "float64", "int8", "int16", "int32", "int64",
             "uint8", "uint16", "uint32", "uint64", "bool", "reduce_mean", "reduce_sum", "reduce_max", "reduce_min",
             "reduce_logsumexp", "concat", "stack", "matmul", "reshape", "transpose", "clip_by_value", "argmax",
             "argmin", "shape", "constant", "convert_to_tensor", "zeros", "ones", "square", "exp", "log", "sqrt", "abs", "tanh",
             "sigmoid", "add", "subtract", "multiply", "divide", "maximum", "minimum", "expand_dims", "squeeze",
             "where", "zeros_like", "ones_like", "equal", "Variable", "function")}}


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'tinynet' has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value  # the next access is a plain attribute lookup
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
