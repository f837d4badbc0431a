"""Models: ``Model`` (compile, the training step, fit / evaluate / predict) and ``Sequential``, its linear case.

``load_model`` / ``model_from_config`` / ``model_from_json`` (``loading.py``) rebuild a model from a file
or a configuration, whatever wrote it: tinynet's own ``.npz``, or Keras's ``.h5`` / ``.keras``.
"""
from .model import Model
from .sequential import Sequential
from .loading import load_model, load_weights, model_from_config, model_from_json

__all__ = ["Model", "Sequential", "load_model", "load_weights", "model_from_config", "model_from_json"]
