"""All layers, importable as ``tinynet.layers.Dense`` etc."""
from .activations import Linear, ReLU, Sigmoid, Softmax, Tanh
from .base import Layer, Parameter
from .core import Activation, Dense, Dropout, Flatten, InputLayer, Reshape
from .conv import Conv2D
from .normalization import BatchNormalization
from .pooling import (AveragePooling2D, AvgPool2D, GlobalAveragePooling2D, GlobalAvgPool2D, MaxPool2D,
                      MaxPooling2D)

__all__ = ["Layer", "Parameter", "Dense", "Activation", "Dropout", "Flatten", "Reshape", "InputLayer",
           "Linear", "ReLU", "Sigmoid", "Softmax", "Tanh",
           "Conv2D", "MaxPooling2D", "MaxPool2D", "AveragePooling2D", "AvgPool2D", "GlobalAveragePooling2D",
           "GlobalAvgPool2D", "BatchNormalization"]
