"""Data sets with a Keras-like ``load_data()``, fetched once and cached.

``from tinynet import datasets; (x_train, y_train), (x_test, y_test) = datasets.mnist.load_data()``

Caches live in ``~/.tinynet/datasets`` (``$TINYNET_HOME/datasets`` when set); fetching,
caching and the file readers live in ``tinynet.io``. ``DatasetUnavailableError`` is raised
when nothing is cached and no source is reachable; ``CorruptDataError`` when a file given by
the user is not the data set. The loaders are imported on first use, so ``import tinynet``
does not import the downloader.
"""
import importlib

from ..errors import CorruptDataError, DatasetUnavailableError

LOADERS = ("mnist", "fashion_mnist", "cifar100")
__all__ = [*LOADERS, "CorruptDataError", "DatasetUnavailableError"]


def __getattr__(name):
    if name in LOADERS:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
