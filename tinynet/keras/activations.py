"""``keras.activations`` (``tf.keras.activations``): the activation functions, and ``get`` / ``serialize`` /
``deserialize``.

Each function computes on arrays (``activations.relu(np.array([-1.0, 2.0]))``) with the forward of its layer
in ``tinynet/core/layers/activations.py``, and passed as a layer's ``activation=`` it means that layer
(``Dense(64, activation=activations.relu)`` is ``Dense(64, activation='relu')``), whose backward training
uses. They are plain NumPy here: gradients flow through layers, not through these calls.
"""
from ..core.checks import short_repr
from ..core.layers.activations import ACTIVATIONS, FUNCTIONS, as_function

elu = FUNCTIONS["elu"]
exponential = FUNCTIONS["exponential"]
gelu = FUNCTIONS["gelu"]
hard_sigmoid = FUNCTIONS["hard_sigmoid"]
leaky_relu = FUNCTIONS["leaky_relu"]
linear = FUNCTIONS["linear"]
relu = FUNCTIONS["relu"]
selu = FUNCTIONS["selu"]
sigmoid = FUNCTIONS["sigmoid"]
silu = FUNCTIONS["silu"]
softmax = FUNCTIONS["softmax"]
softplus = FUNCTIONS["softplus"]
softsign = FUNCTIONS["softsign"]
swish = FUNCTIONS["swish"]
tanh = FUNCTIONS["tanh"]


def get(identifier):
    """The activation function for a name, a function (returned as it is) or None (``linear``), as Keras's."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        if identifier.lower() not in FUNCTIONS:
            raise ValueError(f"Unknown activation: {short_repr(identifier)}. Expected one of {sorted(FUNCTIONS)}.")
        return FUNCTIONS[identifier.lower()]
    if isinstance(identifier, dict) and "class_name" in identifier:     # {'class_name': 'relu', 'config': ...}
        return get(identifier["class_name"])
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation function identifier: {identifier!r}")


def serialize(activation):
    """The name of a built-in activation function: ``serialize(relu) == 'relu'``."""
    for name, function in FUNCTIONS.items():
        if function is activation:
            return name
    raise ValueError(f"{activation!r} is not one of the built-in activation functions {sorted(FUNCTIONS)}.")


def deserialize(name):
    return get(name)


__all__ = sorted(FUNCTIONS) + ["get", "serialize", "deserialize"]
del ACTIVATIONS, as_function
