"""Saving and loading models: the public functions, in one place.

``save_model(model, path)`` / ``model.save(path)`` write tinynet's .npz model file
(``tinynet.io.npz_model`` describes it); ``load_model(path)`` reads it back
(``tinynet.io.loading``), choosing the reader by the file's content.
"""
from ..io.errors import ModelFileError
from ..io.npz_model import FORMAT_NAME, FORMAT_VERSION, model_config, write_weights as save_weights
from ..io.loading import load_model, load_weights, model_from_config, model_from_json


def save_model(model, path):
    """Write the architecture, weights, compile settings, optimizer state and random state of ``model``.

    ``load_model(path)`` then returns a model whose ``predict`` is bit-identical and whose
    ``fit`` continues exactly as this one's would have.
    """
    model.save(path)


__all__ = ["save_model", "load_model", "save_weights", "load_weights", "model_from_config", "model_from_json",
           "model_config", "ModelFileError", "FORMAT_NAME", "FORMAT_VERSION"]
