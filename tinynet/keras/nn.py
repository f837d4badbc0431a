"""``tf.nn``'s activation functions and cross-entropies, for ``import tinynet as tf``: ``tf.nn.relu`` given as a
layer's ``activation=`` is ``activation='relu'``; called on a tensor or an array it runs that layer and returns a
tensor, recorded on the tape inside a ``GradientTape`` (its backward the layer's). TensorFlow's argument names:
``leaky_relu(features, alpha=0.2)``, ``softmax(logits, axis=-1)``, ``*_cross_entropy_with_logits(labels=, logits=)``
(one loss per sample, from the recorded ops of ``tinynet/core/ops/math.py``)."""
from ..core.layers.activations import FUNCTIONS
from ..core.ops import math as _ops

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

log_softmax = _ops.log_softmax


def softmax_cross_entropy_with_logits(labels, logits, axis=-1, name=None):
    """-sum(labels * log softmax(logits)) per sample."""
    return _ops.categorical_crossentropy(labels, logits, from_logits=True, axis=axis)


def sparse_softmax_cross_entropy_with_logits(labels, logits, name=None):
    """-log softmax(logits)[label] per sample."""
    return _ops.sparse_categorical_crossentropy(labels, logits, from_logits=True)


def sigmoid_cross_entropy_with_logits(labels=None, logits=None, name=None):
    """-(t log sigmoid(z) + (1 - t) log(1 - sigmoid(z))) elementwise, finite for any z."""
    return _ops.binary_crossentropy(labels, logits, from_logits=True)


__all__ = ["log_softmax", "softmax_cross_entropy_with_logits", "sparse_softmax_cross_entropy_with_logits",
           "sigmoid_cross_entropy_with_logits", "relu", "sigmoid", "tanh", "softmax", "elu", "selu", "gelu", "softplus",
           "softsign", "silu", "swish",
           "leaky_relu"]
