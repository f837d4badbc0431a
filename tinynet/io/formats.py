"""Which file format a model is written in, from the file's name: the io ring's side of ``Model.save``.

``install()`` (run by ``import tinynet``) plugs this module into the core's seam, ``Model.files``.
A name ending in ``.h5`` gets a Keras 2 HDF5 model file and ``.keras`` a Keras 3 archive, both of
which Keras itself loads (``keras_h5.py``, ``keras_archive.py``; they need ``pip install tinynet[h5]``);
any other name, tinynet's own ``.npz`` (``npz_model.py``). Each format module is imported only when a
file of its kind is written or read.
"""
import os


def _suffix(path):
    return os.fspath(path).lower().rpartition(".")[2] if isinstance(path, (str, os.PathLike)) else ""


def save_model(model, path, overwrite=True, **kwargs):
    suffix = _suffix(path)
    if suffix == "h5":
        from .keras_h5 import write_keras_h5
        return write_keras_h5(model, path)
    if suffix == "keras":
        from .keras_archive import write_keras_archive
        return write_keras_archive(model, path)
    from ..core.utils import rng
    from . import npz_model
    return npz_model.write_model(model, path, rng_state=rng().bit_generator.state)


def save_weights(model, path, overwrite=True, **kwargs):
    from . import npz_model
    return npz_model.write_weights(model, path)


def load_weights(model, path, **kwargs):
    from .loading import load_weights as load
    return load(model, path)


def install():
    """Make this module the core's file seam: ``Model.save`` / ``save_weights`` / ``load_weights`` call it."""
    import sys

    from ..core.models.model import Model
    Model.files = sys.modules[__name__]
