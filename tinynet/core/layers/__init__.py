"""All layers, importable as ``tinynet.layers.Dense`` etc."""
from .activations import Linear, ReLU, Sigmoid, Softmax, Tanh
from .activations_more import ELU, GELU, PReLU, SELU, Exponential, HardSigmoid, LeakyReLU, Softplus, Softsign, Swish
from .base import Layer, Parameter
from ..graph import Input
from .core import Activation, Dense, Dropout, Flatten, InputLayer, Lambda, Reshape
from .merge import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract, add, average, concatenate,
                    dot, maximum, minimum, multiply, subtract)
from .conv import Conv2D
from .conv_transpose import Conv2DTranspose
from .noise import GaussianNoise, SpatialDropout2D
from .normalization import BatchNormalization, LayerNormalization
from .pooling import (AveragePooling2D, AvgPool2D, GlobalAveragePooling2D, GlobalAvgPool2D, GlobalMaxPool2D,
                      GlobalMaxPooling2D, MaxPool2D, MaxPooling2D)
from .preprocessing import (RandomFlip, RandomRotation, RandomTranslation, RandomZoom, Rescaling, Resizing)
from .reshaping import Cropping2D, Permute, RepeatVector, UpSampling2D, ZeroPadding2D

__all__ = ["Layer", "Parameter", "Dense", "Activation", "Dropout", "Flatten", "Reshape", "InputLayer", "Input", "Lambda",
           "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot", "add", "subtract",
           "multiply", "average", "maximum", "minimum", "concatenate", "dot",
           "Linear", "ReLU", "Sigmoid", "Softmax", "Tanh", "ELU", "SELU", "Swish", "GELU", "LeakyReLU", "PReLU",
           "Softplus", "Softsign", "HardSigmoid", "Exponential",
           "Conv2D", "Conv2DTranspose", "MaxPooling2D", "MaxPool2D", "AveragePooling2D", "AvgPool2D",
           "GlobalAveragePooling2D", "GlobalAvgPool2D", "GlobalMaxPooling2D", "GlobalMaxPool2D",
           "BatchNormalization", "LayerNormalization",
           "ZeroPadding2D", "Cropping2D", "UpSampling2D", "RepeatVector", "Permute",
           "SpatialDropout2D", "GaussianNoise",
           "Rescaling", "Resizing", "RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom"]
