"""``tinynet.utils``, Keras's ``keras.utils``: ``to_categorical`` and seeding (``tinynet/core/utils.py``),
Keras 1's ``np_utils``, ``array_to_img`` / ``img_to_array`` / ``save_img``
(``image_utils.py``), ``Sequence`` / ``PyDataset`` (``py_dataset.py``), and ``plot_model`` (matplotlib:
loaded on first use)."""
from ..core.utils import rng, set_random_seed, to_categorical  # noqa: F401
from . import np_utils  # noqa: F401
from .py_dataset import PyDataset, Sequence  # noqa: F401


def __getattr__(name):
    if name in ("array_to_img", "img_to_array", "save_img"):   # matplotlib, on first use
        from . import image_utils
        return getattr(image_utils, name)
    if name == "plot_model":
        from ..tools.plot import plot_model
        return plot_model
    raise AttributeError(f"module 'tinynet.utils' has no attribute {name!r}")
