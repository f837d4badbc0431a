"""What the grader runs: each exercise's cases, and what tinynet itself computes for them (the answer key).

Every case runs your functions on inputs chosen to catch a classic mistake -- a batch of one,
negative inputs, large logits, ties, overlapping windows, a second step of an optimizer -- and
compares each output with the library's own layer, op or loss on the same inputs. A case
yields ``Check``s: one per output compared.

Run your code under np.errstate(over/divide/invalid='raise'): an exp that overflows, a log(0)
or a 0/0 is a failure, as it would be a NaN in training.
"""
from dataclasses import dataclass

import numpy as np

from tinynet import losses, optimizers, regularizers
from tinynet.core.layers.base import Parameter
from tinynet.core.ops import conv as conv_ops
from tinynet.core.ops import normalization as bn_ops
from tinynet.core.ops import pooling as pool_ops
from tinynet.layers import Dense, ReLU, Sigmoid, Softmax, Tanh
from tinynet.tools.gradcheck import as_float64

TOLERANCE = 1e-6


@dataclass
class Check:
    """One output of one case: ``ok``, and when not, what differs and where."""

    case: str
    output: str
    ok: bool
    message: str = ""


def compare(case, output, yours, expected, library):
    """``yours`` against ``expected`` (the library's): the relative error, and the largest difference."""
    expected = np.asarray(expected, dtype=np.float64)
    if yours is None:
        return Check(case, output, False, f"you returned None, expected an array of shape {expected.shape}")
    try:
        yours = np.asarray(yours, dtype=np.float64)
    except (TypeError, ValueError):
        return Check(case, output, False, f"you returned {type(yours).__name__}, expected a number or an array")
    if yours.shape != expected.shape:
        return Check(case, output, False, f"WRONG SHAPE: yours {yours.shape}, expected {expected.shape} "
                                          "(a gradient has the shape of the array it belongs to)")
    if not np.all(np.isfinite(yours)):
        return Check(case, output, False, f"{int((~np.isfinite(yours)).sum())} entries are NaN or infinite")
    gap = np.abs(yours - expected)
    scale = np.linalg.norm(yours) + np.linalg.norm(expected)
    error = float(np.linalg.norm(yours - expected) / scale) if scale > 0 else 0.0
    if error < TOLERANCE or gap.max() < 1e-12:
        return Check(case, output, True)
    where = np.unravel_index(int(gap.argmax()), gap.shape)
    at = tuple(int(i) for i in where)
    return Check(case, output, False, f"relative error {error:.2g} against {library}; largest difference at "
                                      f"{at if at else 'the value'}: yours {yours[where]:.4g}, the library's "
                                      f"{expected[where]:.4g}")


def failed(case, output, message):
    return Check(case, output, False, message)


running = {"case": ""}     # the case being run, for an error raised before it yields a Check


def at(case):
    running["case"] = case
    return case


def _dense(x, w, b, dout):
    layer = Dense(w.shape[1])
    layer.build((w.shape[0],))
    as_float64([layer])
    layer.kernel.data[...], layer.bias.data[...] = w, b
    out = layer.forward(x, training=True)
    dx = layer.backward(dout)
    return out, dx, layer.kernel.grad.copy(), layer.bias.grad.copy()


def _activation(layer, x, dout):
    out = layer.forward(x, training=True)
    return out, layer.backward(dout)


# ----- lesson 1: layers -------------------------------------------------------------------------
def affine(m, rng):
    library = "tinynet/core/layers/core.py, Dense"
    for case, (n, d, k) in [("random", (4, 3, 5)), ("batch of one", (1, 3, 5)), ("square w (D = M)", (3, 4, 4))]:
        at(case)
        x, w, b, dout = rng.standard_normal((n, d)), rng.standard_normal((d, k)), rng.standard_normal(k), \
            rng.standard_normal((n, k))
        out, dx, dw, db = _dense(x, w, b, dout)
        mine, cache = m.affine_forward(x.copy(), w.copy(), b.copy())
        yield compare(case, "out", mine, out, library)
        for name, yours, expected in zip(("dx", "dw", "db"), m.affine_backward(dout, cache), (dx, dw, db)):
            yield compare(case, name, yours, expected, library)


def relu(m, rng):
    library = "tinynet/core/layers/activations.py, ReLU"
    inputs = {"random": rng.standard_normal((4, 5)),
              "exact zeros": np.array([[0.0, 1.5, -2.0, 0.0], [3.0, 0.0, -0.5, 0.25]]),
              "all negative": -rng.random((3, 4)) - 0.1}
    for case, x in inputs.items():
        at(case)
        dout = rng.standard_normal(x.shape)
        out, dx = _activation(ReLU(), x, dout)
        mine, cache = m.relu_forward(x.copy())
        yield compare(case, "out", mine, out, library)
        yield compare(case, "dx", m.relu_backward(dout, cache), dx, library)


def _elementwise(m, rng, name, layer, library):
    inputs = {"random": rng.standard_normal((4, 5)), "large |x| (-1000 ... 1000)":
              np.array([[-1000.0, -40.0, -1.0, 0.0, 1.0, 40.0, 1000.0]])}
    for case, x in inputs.items():
        at(case)
        dout = rng.standard_normal(x.shape)
        out, dx = _activation(layer(), x, dout)
        mine, cache = getattr(m, f"{name}_forward")(x.copy())
        yield compare(case, "out", mine, out, library)
        yield compare(case, "dx", getattr(m, f"{name}_backward")(dout, cache), dx, library)


def sigmoid(m, rng):
    yield from _elementwise(m, rng, "sigmoid", Sigmoid, "tinynet/core/layers/activations.py, Sigmoid")


def tanh(m, rng):
    yield from _elementwise(m, rng, "tanh", Tanh, "tinynet/core/layers/activations.py, Tanh")


LOGITS = {
    "random": lambda rng: rng.standard_normal((4, 3)),
    "large logits (z ~ 1000)": lambda rng: np.array([[1000.0, 999.0, 990.0], [-5.0, 1000.0, 0.0]]),
    "ties (equal logits)": lambda rng: np.array([[2.0, 2.0, 2.0], [1.0, 3.0, 3.0]]),
    "rows far apart": lambda rng: np.array([[1000.0, 998.0, 997.0], [-1000.0, -999.0, -1002.0]]),
    "batch of one": lambda rng: rng.standard_normal((1, 4)),
}


def softmax(m, rng):
    library = "tinynet/core/layers/activations.py, Softmax"
    for case, make in LOGITS.items():
        at(case)
        z = make(rng)
        dout = rng.standard_normal(z.shape)
        p, dz = _activation(Softmax(), z, dout)
        mine, cache = m.softmax_forward(z.copy())
        yield compare(case, "p", mine, p, library)
        yield compare(case, "dz", m.softmax_backward(dout, cache), dz, library)


def dropout(m, rng):
    """Dropout is random: graded by what any correct mask must satisfy, not by one mask."""
    x = rng.standard_normal((200, 50)) + 3.0          # no zeros, so a dropped entry is exactly the 0s
    rate = 0.2
    at("training=False")
    out, _ = m.dropout_forward(x.copy(), 0.5, False, 0)
    yield compare("training=False", "out", out, x, "the identity (inverted dropout scales in training)")
    at("training, rate 0.2")
    out, cache = m.dropout_forward(x.copy(), rate, True, 7)
    out = np.asarray(out, dtype=np.float64)
    kept = out != 0
    case = "training, rate 0.2"
    if out.shape != x.shape:
        yield failed(case, "out", f"WRONG SHAPE: {out.shape}, expected {x.shape}")
        return
    scaled = np.allclose(out[kept], x[kept] / (1 - rate))
    yield Check(case, "out", scaled, "" if scaled else "a kept entry must be x / (1 - rate): E[out] = x then, so "
                                                         "nothing changes at test time")
    share, sigma = kept.mean(), np.sqrt(rate * (1 - rate) / x.size)
    yield Check(case, "kept fraction", abs(share - (1 - rate)) < 5 * sigma,
                f"{share:.3f} of the entries kept; with rate={rate} about {1 - rate} should be")
    again, _ = m.dropout_forward(x.copy(), rate, True, 7)
    yield Check(case, "same seed, same mask", np.array_equal(np.asarray(again) != 0, kept),
                "two calls with seed=7 dropped different entries: draw the mask from np.random.default_rng(seed)")
    dout = rng.standard_normal(x.shape)
    yield compare(case, "dx", m.dropout_backward(dout, cache), dout * kept / (1 - rate),
                  "dout * mask / (1 - rate) with the forward's mask (tinynet/core/layers/core.py, Dropout)")


# ----- lesson 2: losses -------------------------------------------------------------------------
def softmax_cross_entropy(m, rng):
    library = "tinynet/core/losses.py, SparseCategoricalCrossentropy(from_logits=True)"
    for case, make in {**LOGITS, "confident and wrong": lambda rng: np.array([[60.0, 0.0, -60.0], [0.0, 1.0, 2.0]])
                       }.items():
        at(case)
        z = make(rng)
        y = rng.integers(0, z.shape[1], len(z))
        if case == "confident and wrong":
            y = np.array([2, 0])
        loss = losses.SparseCategoricalCrossentropy(from_logits=True)
        value = loss.forward(y, z)
        expected_dz = loss.backward()
        mine, dz = m.softmax_cross_entropy(z.copy(), y.copy())
        yield compare(case, "loss", mine, value, library)
        yield compare(case, "dz", dz, expected_dz, library)


def mse(m, rng):
    library = "tinynet/core/losses.py, MeanSquaredError"
    for case, shape in [("random (N=4, K=3)", (4, 3)), ("batch of one", (1, 3)), ("one output (K=1)", (5, 1))]:
        at(case)
        y_pred, y = rng.standard_normal(shape), rng.standard_normal(shape)
        loss = losses.MeanSquaredError()
        value = loss.forward(y, y_pred)
        expected = loss.backward()
        mine, dy = m.mse(y_pred.copy(), y.copy())
        yield compare(case, "loss", mine, value, library)
        yield compare(case, "dy_pred", dy, expected, library)


def l2_penalty(m, rng):
    library = "tinynet/core/regularizers.py, L2"
    for case, w in [("random", rng.standard_normal((3, 4))), ("negative weights", -rng.random((2, 5)))]:
        at(case)
        regularizer = regularizers.l2(0.01)
        mine, dw = m.l2_penalty(w.copy(), 0.01)
        yield compare(case, "penalty", mine, regularizer(w), library)
        yield compare(case, "dw", dw, regularizer.gradient(w), library)


# ----- lesson 3: convolution --------------------------------------------------------------------
CONV_CASES = [("3x3 kernel, stride 1", (2, 5, 5, 2), (3, 3, 2, 3), 1),
              ("3x3 kernel, stride 2 (windows overlap)", (2, 7, 7, 1), (3, 3, 1, 2), 2),
              ("3x2 kernel on a 5x6 image", (2, 5, 6, 2), (3, 2, 2, 4), 1),
              ("batch of one, one channel", (1, 4, 4, 1), (2, 2, 1, 1), 1),
              ("1x1 kernel", (2, 3, 3, 4), (1, 1, 4, 2), 1)]


def _conv(m, rng, forward, backward):
    library = "tinynet/core/ops/conv.py, conv2d_forward / conv2d_backward"
    for case, x_shape, w_shape, stride in CONV_CASES:
        at(case)
        x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[-1])
        out, cache = conv_ops.conv2d_forward(x, w, b, strides=stride)
        dout = rng.standard_normal(out.shape)
        expected = conv_ops.conv2d_backward(dout, cache)
        mine, my_cache = getattr(m, forward)(x.copy(), w.copy(), b.copy(), stride)
        yield compare(case, "out", mine, out, library)
        for name, yours, value in zip(("dx", "dw", "db"), getattr(m, backward)(dout, my_cache), expected):
            yield compare(case, name, yours, value, library)


def conv_naive(m, rng):
    yield from _conv(m, rng, "conv_forward_naive", "conv_backward_naive")


def conv_im2col(m, rng):
    library = "tinynet/core/ops/conv.py, im2col / col2im"
    for case, x_shape, (kh, kw, _, _), stride in CONV_CASES:
        at(case)
        x = rng.standard_normal(x_shape)
        cols = conv_ops.im2col(x, kh, kw, stride)
        yield compare(case, "im2col", m.im2col(x.copy(), kh, kw, stride), cols, library)
        dcols = rng.standard_normal(cols.shape)
        yield compare(case, "col2im", m.col2im(dcols, x_shape, kh, kw, stride),
                      conv_ops.col2im(dcols, x_shape, kh, kw, stride), library)
    yield from _conv(m, rng, "conv_forward_im2col", "conv_backward_im2col")


# ----- lesson 4: pooling ------------------------------------------------------------------------
def _ties(rng):
    x = np.round(rng.standard_normal((1, 4, 4, 2)), 0)         # whole numbers: many equal maxima
    x[0, :2, :2, 0] = 3.0                                      # a window of four tied maxima
    return x


POOL_CASES = [("2x2, stride 2", lambda rng: rng.standard_normal((2, 4, 6, 2)), 2, 2),
              ("ties (equal maxima in a window)", _ties, 2, 2),
              ("all negative", lambda rng: -rng.random((2, 4, 4, 1)) - 1, 2, 2),
              ("overlapping windows (2x2, stride 1)", lambda rng: rng.standard_normal((1, 4, 5, 2)), 2, 1),
              ("3x3, stride 2", lambda rng: rng.standard_normal((2, 7, 7, 1)), 3, 2),
              ("batch of one", lambda rng: rng.standard_normal((1, 2, 2, 3)), 2, 2)]


def _pool(m, rng, kind):
    library = f"tinynet/core/ops/pooling.py, {kind}pool2d_forward / {kind}pool2d_backward"
    for case, make, pool, stride in POOL_CASES:
        at(case)
        x = make(rng)
        out, cache = getattr(pool_ops, f"{kind}pool2d_forward")(x, pool, stride)
        dout = rng.standard_normal(out.shape)
        dx = getattr(pool_ops, f"{kind}pool2d_backward")(dout, cache)
        mine, my_cache = getattr(m, f"{kind}pool_forward")(x.copy(), pool, stride)
        yield compare(case, "out", mine, out, library)
        yield compare(case, "dx", getattr(m, f"{kind}pool_backward")(dout, my_cache), dx, library)


def maxpool(m, rng):
    yield from _pool(m, rng, "max")


def avgpool(m, rng):
    yield from _pool(m, rng, "avg")


# ----- lesson 5: batch normalization ------------------------------------------------------------
BN_CASES = [("train, x: (8, 3)", (8, 3)), ("images, x: (2, 3, 3, 2)", (2, 3, 3, 2)), ("batch of two", (2, 4))]


def _batchnorm(m, rng, backward):
    library = "tinynet/core/ops/normalization.py, batch_norm_forward / batch_norm_backward"
    for case, shape in BN_CASES:
        at(case)
        c = shape[-1]
        x = 2.0 + 3.0 * rng.standard_normal(shape)
        gamma, beta = 1 + 0.5 * rng.standard_normal(c), rng.standard_normal(c)      # not 1 and 0: see lesson 5
        eps, momentum = 1e-3, 0.9
        running_mean, running_var = rng.standard_normal(c), 1 + rng.random(c)
        out, mean, var, cache = bn_ops.batch_norm_forward(x, gamma, beta, eps)
        dout = rng.standard_normal(shape)
        expected = bn_ops.batch_norm_backward(dout, cache)
        bn = dict(mode="train", eps=eps, momentum=momentum, running_mean=running_mean.copy(),
                  running_var=running_var.copy())
        mine, my_cache = m.batchnorm_forward(x.copy(), gamma.copy(), beta.copy(), bn)
        if backward == "batchnorm_backward":             # the forward is graded once, with the staged backward
            yield compare(case, "out", mine, out, library)
            yield compare(case, "running_mean", bn["running_mean"], momentum * running_mean + (1 - momentum) * mean,
                          "Keras's moving statistics: momentum * running + (1 - momentum) * batch")
            yield compare(case, "running_var", bn["running_var"], momentum * running_var + (1 - momentum) * var,
                          "Keras's moving statistics, with the biased batch variance")
        for name, yours, value in zip(("dx", "dgamma", "dbeta"), getattr(m, backward)(dout, my_cache), expected):
            yield compare(case, name, yours, value, library)
    if backward == "batchnorm_backward":
        case, x = at("test mode"), rng.standard_normal((5, 3))
        gamma, beta, mean, var = rng.random(3) + 0.5, rng.standard_normal(3), rng.standard_normal(3), rng.random(3) + 1
        expected, _ = bn_ops.batch_norm_inference(x, gamma, beta, mean, var, 1e-3)
        bn = dict(mode="test", eps=1e-3, momentum=0.9, running_mean=mean.copy(), running_var=var.copy())
        mine, _ = m.batchnorm_forward(x.copy(), gamma, beta, bn)
        yield compare(case, "out", mine, expected, "tinynet/core/ops/normalization.py, batch_norm_inference")


def batchnorm(m, rng):
    yield from _batchnorm(m, rng, "batchnorm_backward")


def batchnorm_simplified(m, rng):
    yield from _batchnorm(m, rng, "batchnorm_backward_simplified")


# ----- lesson 6: update rules -------------------------------------------------------------------
def _library_steps(optimizer, w0, gradients):
    """The weights after each step of tinynet's own ``optimizer`` (its textbook rule, ``impl='naive'``)."""
    parameter = Parameter(w0.copy(), "w")
    for g in gradients:
        parameter.grad = g.copy()
        optimizer.apply([parameter])
        yield parameter.data.copy()


def _steps(m, rule, make_optimizer, config, rng, library, small=False):
    """Your rule against the library's optimizer: one step, five steps, and with ``small`` gradients of ~1e-4."""
    w0 = rng.standard_normal((3, 4))
    gradients = [rng.standard_normal((3, 4)) for _ in range(5)]
    gradients[3] = -gradients[2]                                # a gradient that turns back
    cases = [("first step", gradients[:1]), ("five steps (the state carries over)", gradients)]
    if small:       # a running average of dw^2 below epsilon: where epsilon sits decides the step
        cases.append(("small gradients (|dw| ~ 1e-4)", [1e-4 * g for g in gradients[:3]]))
    for case, steps in cases:
        at(case)
        expected = list(_library_steps(make_optimizer(), w0, steps))[-1]
        mine_w, mine = w0.copy(), dict(config)
        for g in steps:
            result = getattr(m, rule)(mine_w.copy(), g.copy(), mine)
            if not (isinstance(result, tuple) and len(result) == 2):
                yield failed(case, "next_w", f"{rule} must return (next_w, config)")
                return
            mine_w, mine = result
        yield compare(case, "next_w", mine_w, expected, library)


def _sgd_momentum(w, dw, c):
    """The rule as lesson 7's ``train`` case passes it to your loop (the same rule as optimizers.SGD)."""
    v = c["momentum"] * c.get("velocity", 0.0) - c["learning_rate"] * dw
    return w + v, {**c, "velocity": v}


def sgd_momentum(m, rng):
    yield from _steps(m, "sgd_momentum", lambda: optimizers.SGD(0.1, momentum=0.9, impl="naive"),
                      dict(learning_rate=0.1, momentum=0.9), rng,
                      "tinynet/core/optimizers/sgd_rmsprop_adam.py, SGD(momentum=0.9)")


def rmsprop(m, rng):
    yield from _steps(m, "rmsprop", lambda: optimizers.RMSprop(0.01, rho=0.9, epsilon=1e-7, impl="naive"),
                      dict(learning_rate=0.01, rho=0.9, epsilon=1e-7), rng,
                      "tinynet/core/optimizers/sgd_rmsprop_adam.py, RMSprop (epsilon inside the square root)",
                      small=True)


def adam(m, rng):
    # tinynet's Adam folds the bias correction into the step size, which moves epsilon onto the uncorrected
    # sqrt(v) ("epsilon hat"): with gradients of order 1 the two forms agree to ~1e-8, far inside TOLERANCE.
    yield from _steps(m, "adam", lambda: optimizers.Adam(0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-8, impl="naive"),
                      dict(learning_rate=0.01, beta1=0.9, beta2=0.999, epsilon=1e-8), rng,
                      "tinynet/core/optimizers/sgd_rmsprop_adam.py, Adam (the paper's form, gradients of order 1)")


# ----- lesson 7: a network and its training loop ------------------------------------------------
def _two_layer_reference(x, y, params, l2):
    from tinynet import Sequential
    penalty = regularizers.l2(l2) if l2 else None
    model = Sequential([Dense(params["w1"].shape[1], activation="relu", input_shape=(x.shape[1],),
                              kernel_regularizer=penalty),
                        Dense(params["w2"].shape[1], activation="softmax", kernel_regularizer=penalty)])
    model.compile("sgd", "sparse_categorical_crossentropy")
    as_float64(model.layers)
    model.set_weights([params["w1"], params["b1"], params["w2"], params["b2"]])
    as_float64(model.layers)
    loss, _ = model.compute_gradients(x, y)
    dense1, dense2 = model.layers
    return loss, {"w1": dense1.kernel.grad, "b1": dense1.bias.grad, "w2": dense2.kernel.grad, "b2": dense2.bias.grad}


def two_layer_net(m, rng):
    library = "tinynet: Sequential([Dense(H, 'relu'), Dense(K, 'softmax')]) with kernel_regularizer=l2(l2)"
    for case, (n, d, h, k), l2, scale in [("no penalty", (5, 4, 6, 3), 0.0, 1.0), ("l2 = 0.1", (5, 4, 6, 3), 0.1, 1.0),
                                          ("batch of one", (1, 4, 6, 3), 0.05, 1.0),
                                          ("large scores", (4, 3, 5, 3), 0.0, 30.0)]:
        at(case)
        params = {"w1": rng.standard_normal((d, h)) * scale, "b1": rng.standard_normal(h),
                  "w2": rng.standard_normal((h, k)) * scale, "b2": rng.standard_normal(k)}
        x, y = rng.standard_normal((n, d)), rng.integers(0, k, n)
        loss, grads = _two_layer_reference(x, y, params, l2)
        mine, my_grads = m.two_layer_net(x.copy(), y.copy(), {key: v.copy() for key, v in params.items()}, l2)
        yield compare(case, "loss", mine, loss, library)
        if not isinstance(my_grads, dict) or set(my_grads) != set(params):
            yield failed(case, "grads", f"grads must be a dict with the keys {sorted(params)}")
            continue
        for key in params:
            yield compare(case, f"grads['{key}']", my_grads[key], grads[key], library)


def _least_squares(x, y, params):
    """A loss_fn for grading the loop alone: L = mean((x @ w + b - y)^2)."""
    diff = x @ params["w"] + params["b"] - y
    return float(np.mean(diff ** 2)), {"w": 2 * x.T @ diff / diff.size, "b": 2 * diff.sum(axis=0) / diff.size}


def _train_reference(x, y, params, loss_fn, update, config, epochs, batch_size, seed):
    rng = np.random.default_rng(seed)
    states = {key: dict(config) for key in params}
    steps = []
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            batch = order[start:start + batch_size]
            loss, grads = loss_fn(x[batch], y[batch], params)
            for key in params:
                params[key], states[key] = update(params[key], grads[key], states[key])
            steps.append(loss)
    return params, steps


def train(m, rng):
    library = "the loop in examples/course/cases.py (_train_reference), with the grader's own loss and update"
    x, y = rng.standard_normal((10, 3)), rng.standard_normal((10, 2))
    start = {"w": rng.standard_normal((3, 2)), "b": np.zeros(2)}
    for case, update, config in [("plain SGD", _sgd_momentum, dict(learning_rate=0.1, momentum=0.0)),
                                 ("SGD with momentum: a velocity per weight", _sgd_momentum,
                                  dict(learning_rate=0.1, momentum=0.9))]:
        at(case)
        params, steps = _train_reference(x, y, {k: v.copy() for k, v in start.items()}, _least_squares, update,
                                         config, 3, 4, 5)
        result = m.train(x, y, {k: v.copy() for k, v in start.items()}, _least_squares, update, dict(config), 3, 4, 5)
        if not (isinstance(result, tuple) and len(result) == 2):
            yield failed(case, "params", "train must return (params, losses)")
            continue
        mine, my_steps = result
        if len(my_steps) != len(steps):
            yield failed(case, "losses", f"{len(my_steps)} steps, expected {len(steps)}: 3 epochs of 10 samples in "
                                         "batches of 4 are 3 steps each (the last batch has 2 samples)")
            continue
        yield compare(case, "losses", my_steps, steps, library)
        for key in params:
            yield compare(case, f"params['{key}']", mine[key], params[key], library)
