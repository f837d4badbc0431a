"""Optimizers: the update rules, with Keras's names, defaults and formulas; learning-rate schedules.

Read in this order:

    sgd_rmsprop_adam.py   SGD, RMSprop, Adam: each rule a few lines, ``update(w, g, lr, **state)``
    more.py               AdamW, Adagrad, Adadelta, Adamax, Nadam
    optimizer.py          the step around the rules: the learning rate of the step (schedule, decay),
                          clipping, constraints, and the commit, all parameters or none
    schedules.py          learning-rate schedules (``tinynet.optimizers.schedules``)
"""
from ..checks import short_repr
from . import schedules
from .more import Adadelta, Adagrad, Adamax, AdamW, Nadam
from .optimizer import Optimizer, register_fast_rule, register_fast_step
from .sgd_rmsprop_adam import SGD, Adam, RMSprop

ALL = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW, "nadam": Nadam, "adamax": Adamax,
       "adagrad": Adagrad, "adadelta": Adadelta}


def get(identifier):
    """An optimizer from a Keras name (``'adam'``) or an instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    if isinstance(identifier, str) and identifier.lower() in ALL:
        return ALL[identifier.lower()]()
    raise ValueError(
        f"Unknown optimizer: {short_repr(identifier)}. Expected one of {sorted(ALL)} or an Optimizer instance.")


__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "AdamW", "Adagrad", "Adadelta", "Adamax", "Nadam", "ALL", "get",
           "schedules", "register_fast_rule", "register_fast_step"]
