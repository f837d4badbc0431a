"""All layers, importable as ``tinynet.layers.Dense`` etc."""
from .activations import (ELU, GELU, PReLU, SELU, Exponential, HardSigmoid, LeakyReLU, Linear, ReLU, Sigmoid,
                          Softmax, Softplus, Softsign, Swish, Tanh)
from .base import Layer, Parameter
from ..graph import Input
from .core import Activation, Dense, Dropout, Flatten, InputLayer, Lambda, Reshape
from .merge import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract, add, average, concatenate,
                    dot, maximum, minimum, multiply, subtract)
from .conv import Conv2D
from .normalization import BatchNormalization
from .pooling import AveragePooling2D, AvgPool2D, GlobalAveragePooling2D, GlobalAvgPool2D, MaxPool2D, MaxPooling2D

__all__ = ["Layer", "Parameter", "Dense", "Activation", "Dropout", "Flatten", "Reshape", "InputLayer", "Input", "Lambda",
           "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot", "add", "subtract",
           "multiply", "average", "maximum", "minimum", "concatenate", "dot",
           "Linear", "ReLU", "Sigmoid", "Softmax", "Tanh", "ELU", "SELU", "Swish", "GELU", "LeakyReLU", "PReLU",
           "Softplus", "Softsign", "HardSigmoid", "Exponential",
           "Conv2D", "MaxPooling2D", "MaxPool2D", "AveragePooling2D", "AvgPool2D",
           "GlobalAveragePooling2D",
           "GlobalAvgPool2D", "BatchNormalization"]
