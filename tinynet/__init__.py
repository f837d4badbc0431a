"""tinynet: a neural-network library in pure NumPy with a Keras-like API."""
from . import callbacks, datasets, initializers, layers, losses, metrics, models, ops, optimizers, utils
from .guards import TrainingDivergedError
from .models import Sequential
from .trace import trace
from .utils import set_random_seed, to_categorical

__version__ = "0.1.0"

__all__ = ["Sequential", "callbacks", "datasets", "initializers", "layers", "losses", "metrics", "models",
           "ops", "optimizers", "utils", "set_random_seed", "to_categorical",
           "TrainingDivergedError", "trace"]
