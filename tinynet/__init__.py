"""tinynet: a neural-network library in pure NumPy with a Keras-like API."""
import importlib

from . import callbacks, datasets, initializers, layers, losses, metrics, models, ops, optimizers, saving, utils
from .guards import TrainingDivergedError
from .models import Sequential
from .saving import load_model
from .trace import trace
from .utils import set_random_seed, to_categorical

__version__ = "0.1.0"

__all__ = ["Sequential", "callbacks", "datasets", "initializers", "layers", "losses", "metrics", "models",
           "ops", "optimizers", "utils", "set_random_seed", "to_categorical",
           "TrainingDivergedError", "trace", "saving", "load_model", "plot"]


def __getattr__(name):
    # tinynet.plot imports matplotlib, which takes a while: load it on first use only.
    if name == "plot":
        return importlib.import_module(".plot", __name__)
    raise AttributeError(f"module 'tinynet' has no attribute {name!r}")
