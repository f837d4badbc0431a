"""Every differentiable op's VJP against centred differences (float64), and NumPy functions on tensors recorded."""
import numpy as np
import pytest

import tinynet
from tinynet import ops
from tinynet.core.tape import Tape
from tinynet.core.tensor import Tensor
from tinynet.tools.gradcheck import numerical_gradient, relative_error

RNG = np.random.default_rng(0)


def positive(shape):
    return RNG.uniform(0.5, 2.0, size=shape)


def normal(shape):
    return RNG.normal(size=shape)


# (name, function of the inputs, inputs): each checked for every input's gradient
CASES = [
    ("add", lambda a, b: ops.add(a, b), [normal((3, 4)), normal((4,))]),          # broadcasting sums back
    ("subtract", lambda a, b: a - b, [normal((3, 4)), normal((3, 1))]),
    ("multiply", lambda a, b: a * b, [normal((3, 4)), normal((1, 4))]),
    ("divide", lambda a, b: a / b, [normal((3, 4)), positive((3, 4))]),
    ("negative", lambda a: -a, [normal((3, 4))]),
    ("power", lambda a: a ** 3, [normal((3, 4))]),
    ("matmul", lambda a, b: a @ b, [normal((3, 4)), normal((4, 2))]),
    ("getitem", lambda a: a[:, 1:3], [normal((3, 4))]),
    ("getitem repeated", lambda a: a[[0, 0, 2]], [normal((3, 4))]),
    ("transpose", lambda a: ops.transpose(a), [normal((3, 4))]),
    ("reshape", lambda a: ops.reshape(a, (4, 3)), [normal((3, 4))]),
    ("exp", ops.exp, [normal((3, 4))]),
    ("log", ops.log, [positive((3, 4))]),
    ("log1p", ops.log1p, [positive((3, 4))]),
    ("sqrt", ops.sqrt, [positive((3, 4))]),
    ("square", ops.square, [normal((3, 4))]),
    ("abs", ops.abs, [normal((3, 4))]),
    ("tanh", ops.tanh, [normal((3, 4))]),
    ("sigmoid", ops.sigmoid, [normal((3, 4)) * 5]),
    ("relu", ops.relu, [normal((3, 4))]),
    ("softplus", ops.softplus, [normal((3, 4)) * 5]),
    ("maximum", ops.maximum, [normal((3, 4)), normal((3, 4))]),
    ("minimum", ops.minimum, [normal((3, 4)), normal((3, 4))]),
    ("clip", lambda a: ops.clip(a, -0.5, 0.5), [normal((3, 4))]),
    ("where", lambda a, b: ops.where(np.arange(12).reshape(3, 4) % 2 == 0, a, b), [normal((3, 4)), normal((3, 4))]),
    ("sum", lambda a: ops.sum(a, axis=1), [normal((3, 4))]),
    ("sum keepdims", lambda a: ops.sum(a, axis=0, keepdims=True), [normal((3, 4))]),
    ("mean", lambda a: ops.mean(a, axis=-1), [normal((3, 4))]),
    ("mean all", ops.mean, [normal((3, 4))]),
    ("max", lambda a: ops.max(a, axis=1), [normal((3, 4))]),
    ("min", lambda a: ops.min(a, axis=0), [normal((3, 4))]),
    ("var", lambda a: ops.var(a, axis=1), [normal((3, 4))]),
    ("std", lambda a: ops.std(a, axis=1), [normal((3, 4))]),
    ("logsumexp", lambda a: ops.logsumexp(a, axis=1), [normal((3, 4))]),
    ("concatenate", lambda a, b: ops.concatenate([a, b], axis=1), [normal((3, 4)), normal((3, 2))]),
    ("stack", lambda a, b: ops.stack([a, b], axis=1), [normal((3, 4)), normal((3, 4))]),
    ("expand_dims", lambda a: ops.expand_dims(a, 1), [normal((3, 4))]),
    ("squeeze", lambda a: ops.squeeze(a, 1), [normal((3, 1, 4))]),
    ("repeat", lambda a: ops.repeat(a, 2, axis=1), [normal((3, 4))]),
    ("tile", lambda a: ops.tile(a, (2, 1)), [normal((3, 4))]),
    ("softmax", ops.softmax, [normal((3, 4))]),
    ("softmax axis 0", lambda a: ops.softmax(a, axis=0), [normal((3, 4))]),
    ("log_softmax", ops.log_softmax, [normal((3, 4))]),
    ("categorical_crossentropy", lambda p: ops.categorical_crossentropy(np.eye(4)[[0, 2, 3]], ops.softmax(p)),
     [normal((3, 4))]),
    ("binary_crossentropy logits", lambda z: ops.binary_crossentropy(np.array([[0, 1, 1, 0.5]] * 3), z, True),
     [normal((3, 4)) * 3]),
    ("cast", lambda a: ops.cast(a, "float64"), [normal((3, 4))]),
    ("np.exp on a tensor", np.exp, [normal((3, 4))]),
    ("np.mean on a tensor", lambda a: np.mean(a * a, axis=0), [normal((3, 4))]),
    ("tensor methods", lambda a: (a * 2).sum(axis=1).mean(), [normal((3, 4))]),
]


@pytest.mark.parametrize("name, function, inputs", CASES, ids=[c[0] for c in CASES])
def test_every_ops_vjp_agrees_with_centred_differences(name, function, inputs):
    upstream = None

    def scalar():
        out = np.asarray(function(*[Tensor(x) for x in inputs]))
        return float((out * upstream).sum())

    tensors = [Tensor(x, requires_grad=True) for x in inputs]
    with Tape() as tape:
        out = function(*tensors)
    assert isinstance(out, Tensor) and out.node is not None, f"{name} was not recorded"
    upstream = RNG.normal(size=np.shape(out.value))
    grads, _ = tape.backward({out: upstream})
    for x, t in zip(inputs, tensors):
        numeric = numerical_gradient(scalar, x)
        assert relative_error(grads[id(t)], numeric) < 1e-7, name


def test_non_differentiable_numpy_functions_give_plain_arrays_and_the_keras_backend_names_the_ops():
    t = Tensor(np.array([[0.2, 0.9], [0.7, 0.1]]))
    assert isinstance(np.argmax(t, axis=1), np.ndarray) and list(np.argmax(t, axis=1)) == [1, 0]
    assert t.numpy() is t.value and np.asarray(t).shape == (2, 2) and float(t[0, 1]) == 0.9
    K = tinynet.backend
    value = K.mean(K.square(t - np.ones((2, 2))), axis=-1)
    np.testing.assert_allclose(np.asarray(value), ((t.value - 1) ** 2).mean(-1))


def test_a_loss_function_written_with_keras_backend_trains_with_its_recorded_gradient():
    K = tinynet.backend

    def mean_squared(y_true, y_pred):
        return K.mean(K.square(y_pred - y_true), axis=-1)

    tinynet.set_random_seed(0)
    x = RNG.normal(size=(16, 3)).astype(np.float32)
    y = x @ np.array([[1.0], [-2.0], [0.5]], dtype=np.float32)
    built_in = tinynet.Sequential([tinynet.layers.Dense(1, input_shape=(3,))])
    custom = tinynet.Sequential([tinynet.layers.Dense(1, input_shape=(3,))])
    custom.set_weights(built_in.get_weights())
    built_in.compile("sgd", "mse")
    custom.compile("sgd", mean_squared)
    h1 = built_in.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0).history["loss"]
    h2 = custom.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(h1, h2, rtol=1e-5)
    for a, b in zip(built_in.get_weights(), custom.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
