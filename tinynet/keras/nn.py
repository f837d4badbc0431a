"""``tf.nn``'s activation functions, for ``import tinynet as tf``: ``tf.nn.relu`` given as a layer's
``activation=`` is ``activation='relu'``; called on an array it computes the activation (NumPy, no gradient:
training differentiates through the layer). TensorFlow's argument names: ``leaky_relu(features, alpha=0.2)``,
``softmax(logits, axis=-1)``."""
from ..core.layers.activations import FUNCTIONS

relu = FUNCTIONS["relu"]
sigmoid = FUNCTIONS["sigmoid"]
tanh = FUNCTIONS["tanh"]
softmax = FUNCTIONS["softmax"]
elu = FUNCTIONS["elu"]
selu = FUNCTIONS["selu"]
gelu = FUNCTIONS["gelu"]
softplus = FUNCTIONS["softplus"]
softsign = FUNCTIONS["softsign"]
silu = swish = FUNCTIONS["swish"]
leaky_relu = FUNCTIONS["leaky_relu"]

__all__ = ["relu", "sigmoid", "tanh", "softmax", "elu", "selu", "gelu", "softplus", "softsign", "silu", "swish",
           "leaky_relu"]
