"""Models: ``Model`` (layers, weights, the seam for files; ``trainer.py``: compile, the training step,
fit / evaluate / predict), ``Sequential`` (a chain) and ``Functional`` (``Model(inputs, outputs)``).

Reading a model back from a file or a configuration (``load_model``, ``model_from_config``) is the io
ring's work: ``tinynet/io/loading.py``.
"""
from .functional import Functional
from .model import Model
from .sequential import Sequential

__all__ = ["Model", "Sequential", "Functional"]
