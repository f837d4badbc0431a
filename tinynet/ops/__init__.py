"""Pure numeric functions with no state, called by the layers and losses."""
from .softmax import log_softmax, softmax

__all__ = ["softmax", "log_softmax"]
