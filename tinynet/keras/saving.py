"""Saving and loading models: the public functions, in one place.

``save_model(model, path)`` / ``model.save(path)`` write the format the name asks for
(``tinynet/io/formats.py``: ``.keras`` and ``.h5`` are Keras's, any other name tinynet's .npz,
which ``tinynet.io.npz_model`` describes); ``load_model(path)`` reads any of them back
(``tinynet.io.loading``), choosing the reader by the file's content.
"""
from ..io.errors import ModelFileError
from ..io.formats import save_weights
from ..io.npz_model import FORMAT_NAME, FORMAT_VERSION, model_config
from ..io.loading import load_model, load_weights, model_from_config, model_from_json


def save_model(model, path):
    """Write the architecture, weights, compile settings and optimizer state of ``model`` (and, in tinynet's
    .npz, the random generator's state).

    ``load_model(path)`` then returns a model whose ``predict`` is bit-identical and whose
    ``fit`` continues exactly as this one's would have.
    """
    model.save(path)


__all__ = ["save_model", "load_model", "save_weights", "load_weights", "model_from_config", "model_from_json",
           "model_config", "ModelFileError", "FORMAT_NAME", "FORMAT_VERSION"]
