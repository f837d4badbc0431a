"""``tinynet.ops``: Keras 3's ``keras.ops``, the differentiable ops on tensors (``tinynet/core/ops/math.py``:
each forward beside its vector-Jacobian product), and the registry through which layers reach their kernels
(``get``, ``register``: ``tinynet/core/ops/__init__.py``)."""
from ..core.ops import (IMPLS, check_impl, conv, conv_transpose, get, image, linear, normalization,  # noqa: F401
                        pooling, register)
from ..core.ops.math import *  # noqa: F401,F403
from ..core.ops.math import __all__ as math_names
from ..core.tensor import add, cast, divide, matmul, multiply, negative, power, reshape, subtract, transpose  # noqa

__all__ = [*math_names, "get", "register", "check_impl", "IMPLS"]
