"""All layers, importable as ``tinynet.layers.Dense`` etc."""
from .activations import Linear, ReLU, Sigmoid, Softmax, Tanh
from .base import Layer, Parameter
from .core import Activation, Dense, Dropout, Flatten, InputLayer, Reshape

__all__ = ["Layer", "Parameter", "Dense", "Activation", "Dropout", "Flatten", "Reshape", "InputLayer",
           "Linear", "ReLU", "Sigmoid", "Softmax", "Tanh"]
