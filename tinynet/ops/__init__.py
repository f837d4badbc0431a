"""Pure numeric functions with no state, called by the layers and losses.

softmax.py   stable softmax / log-softmax
conv.py      convolution output sizes, TensorFlow 'same' padding, im2col / col2im, conv2d forward/backward
pooling.py   max / average / global-average pooling forward and backward
normalization.py  batch normalization forward (training / inference) and backward
"""
from . import conv, normalization, pooling
from .softmax import log_softmax, softmax

__all__ = ["softmax", "log_softmax", "conv", "pooling", "normalization"]
