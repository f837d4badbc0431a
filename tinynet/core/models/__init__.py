"""Models: ``Model`` (compile, the training step, fit / evaluate / predict) and ``Sequential``, its linear case.

Reading a model back from a file or a configuration (``load_model``, ``model_from_config``) is the io
ring's work: ``tinynet/io/loading.py``.
"""
from .model import Model
from .sequential import Sequential

__all__ = ["Model", "Sequential"]
