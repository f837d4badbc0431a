"""Keras 1 argument names, still pasted from older tutorials: ``Convolution2D(32, 3, 3, border_mode='valid')``.

Keras 2 kept accepting them (its ``legacy/interfaces.py``) and renamed them to its own;
so does tinynet: ``install`` plugs ``rename_arguments`` into the core's seam for it
(``LayerType.rename_arguments``), which runs before every layer's ``__init__``. ``Convolution2D`` is Keras 1's name and argument order for ``Conv2D``.
"""
from ..core.layers.base import LayerType

RENAMED = {
    "weights": {"init": "kernel_initializer", "W_regularizer": "kernel_regularizer",
                "b_regularizer": "bias_regularizer", "W_constraint": "kernel_constraint",
                "b_constraint": "bias_constraint", "bias": "use_bias"},
    "Dense": {"output_dim": "units"},
    "Dropout": {"p": "rate"},
    "Conv2D": {"nb_filter": "filters", "subsample": "strides", "border_mode": "padding",
               "dim_ordering": "data_format"},
    "MaxPooling2D": {"border_mode": "padding", "dim_ordering": "data_format"},
}

# Keras 1's dim_ordering values: 'tf' is channels last, 'th' (Theano) channels first.
DIM_ORDERING = {"tf": "channels_last", "th": "channels_first", "default": "channels_last"}


def keras1_arguments(kind, kwargs, with_weights=False):
    """``kwargs`` with Keras 1 names (``border_mode``, ``init``, ``W_regularizer`` ...) renamed to Keras 2's.

    ``kind`` picks the table (``'Dense'``, ``'Conv2D'``, ``'Dropout'``, ``'Pooling2D'``); ``with_weights`` adds
    the names every layer with a kernel and a bias took. Giving both spellings is a TypeError.
    """
    renames = {**(RENAMED["weights"] if with_weights else {}), **RENAMED[kind]}
    out = dict(kwargs)
    for old, new in renames.items():
        if old in out:
            if new in out:
                raise TypeError(f"Got both `{old}` (the Keras 1 name) and `{new}` (Keras 2's); give one.")
            out[new] = out.pop(old)
    if out.get("data_format") in DIM_ORDERING:
        out["data_format"] = DIM_ORDERING[out["data_format"]]
    return out


# The layers that take a kernel and a bias also took Keras 1's names for those.
WITH_WEIGHTS = ("Dense", "Conv2D")


def rename_arguments(cls, kwargs):
    """``kwargs`` for a new ``cls`` layer with Keras 1's names renamed (the table of the nearest class in
    ``cls``'s ancestry that has one); ``kwargs`` itself when no name needs it."""
    for ancestor in cls.__mro__:
        kind = "MaxPooling2D" if ancestor.__name__ in ("MaxPooling2D", "AveragePooling2D") else ancestor.__name__
        if kind in RENAMED:
            return keras1_arguments(kind, kwargs, with_weights=kind in WITH_WEIGHTS)
    return kwargs


def install():
    """Plug Keras 1's argument names into the core (``tinynet.keras`` does it when imported)."""
    LayerType.rename_arguments = rename_arguments


def Convolution2D(nb_filter, nb_row=None, nb_col=None, **kwargs):
    """Keras 1's ``Convolution2D(nb_filter, nb_row, nb_col, border_mode='valid', subsample=(1, 1), init=...)``:
    a ``Conv2D(nb_filter, (nb_row, nb_col), padding=..., strides=..., kernel_initializer=...)``.

    Also Keras 2's alias: ``Convolution2D(32, (3, 3))`` is ``Conv2D(32, (3, 3))``.
    """
    from ..core.layers.conv import Conv2D
    if nb_col is None:  # Keras 2's alias: the second argument is kernel_size
        kernel_size = kwargs.pop("kernel_size", nb_row)
    else:
        kernel_size = (nb_row, nb_col)
    return Conv2D(nb_filter, kernel_size, **kwargs)
