"""Models: ``Model`` (compile, the training step, fit / evaluate / predict) and ``Sequential``, its linear case."""
from .model import Model
from .sequential import Sequential


def load_model(path, *args, **kwargs):
    """Read a model written by ``model.save(path)`` (Keras spells it ``keras.models.load_model``)."""
    # Imported at call time: saving imports this package. The files team moves the reader to models/loading.py.
    from ..saving import load_model as load
    return load(path, *args, **kwargs)


__all__ = ["Model", "Sequential", "load_model"]
