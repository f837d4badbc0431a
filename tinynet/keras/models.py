"""``tinynet.models``, Keras's ``keras.models``: ``Model`` and ``Sequential`` (``tinynet/core/models/``), and
reading models back from files or configurations (``tinynet/io/loading.py``, loaded on first use)."""
import importlib

from ..core.models import Model, Sequential

LOADERS = ("load_model", "load_weights", "model_from_config", "model_from_json")
__all__ = ["Model", "Sequential", *LOADERS]


def __getattr__(name):
    if name in LOADERS:  # the file formats load when a file is read, not with tinynet
        return getattr(importlib.import_module("tinynet.io.loading"), name)
    raise AttributeError(f"module 'tinynet.models' has no attribute {name!r}")
