"""``tf.math``: the same ops as ``tf.*`` (``tinynet/keras/tensorflow.py``) under their ``tf.math`` names,
plus the few that live only there (``tf.math.log1p``, ``tf.math.softplus``, ``tf.math.confusion_matrix``)."""
from ..core.ops.math import log1p, softplus  # noqa: F401
from ..tools.evaluation import confusion_matrix  # noqa: F401
from .tensorflow import (abs, add, argmax, argmin, divide, equal, exp, log, maximum, minimum, multiply,  # noqa: F401
                         reduce_logsumexp, reduce_max, reduce_mean, reduce_min, reduce_sum, sigmoid, sqrt, square,
                         subtract, tanh)

__all__ = ["abs", "add", "argmax", "argmin", "divide", "equal", "exp", "log", "log1p", "maximum", "minimum", "multiply",
           "reduce_logsumexp", "reduce_max", "reduce_mean", "reduce_min", "reduce_sum", "sigmoid", "softplus", "sqrt",
           "square", "subtract", "tanh", "confusion_matrix"]
