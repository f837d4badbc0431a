"""Data sets with a Keras-like ``load_data()``, fetched once and cached.

``from tinynet import datasets; (x_train, y_train), (x_test, y_test) = datasets.mnist.load_data()``

Caches live in ``~/.tinynet/datasets`` (``$TINYNET_HOME/datasets`` when set).
``DatasetUnavailableError`` is raised when nothing is cached and no source is
reachable; ``CorruptDataError`` when a file given by the user is not the data set.
"""

from . import _cache, cifar100, fashion_mnist, idx, mnist, safe_pickle
from ._cache import CorruptDataError, DatasetUnavailableError
