"""Grade your backward passes against centred differences and the library's own layers.

    python examples/exercises/grade.py                      # every exercise in backward.py
    python examples/exercises/grade.py dense conv2d         # just these
    python examples/exercises/grade.py --hints              # and a hint for each one not yet right
    python examples/exercises/grade.py --file answers.py    # grade another file (the answer key passes)

For each gradient your function returns, the grader prints its relative error against
the numerical gradient of the layer's forward (``tinynet.gradcheck``, the checker the
library's tests use) and, when it is wrong, against the library layer's backward: the
largest difference and where it is. A gradient passes below 1e-6.
"""
import argparse
import importlib.util
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))   # the repository, for an uninstalled tinynet

from tinynet import gradcheck, layers, losses  # noqa: E402
from tools import im2col  # noqa: E402

TOLERANCE = gradcheck.TOLERANCE


# ----- each exercise: inputs, the library's forward (for centred differences) and backward ----------
def _layer(layer, input_shape, weights=()):
    layer.build(input_shape)
    for parameter, value in zip(layer.trainable_weights, weights):
        parameter.data = np.array(value, dtype=np.float64)
        parameter.grad = np.zeros_like(parameter.data)
    return layer


def _library(layer, x, dout):
    """The library layer's gradients for ``f = sum(forward(x) * dout)``: dx and each weight's grad."""
    y = layer.forward(x, training=True)
    layer.needs_input_gradient = True
    dx = layer.backward(dout)
    return y, dx, [p.grad.copy() for p in layer.trainable_weights]


def _numeric(layer, x, dout, arrays):
    """Centred differences of sum(forward(x) * dout) w.r.t. each of ``arrays`` (x or weight data)."""
    def f():
        return float((layer.forward(x, training=True) * dout).sum())
    return [gradcheck.numerical_gradient(f, a) for a in arrays]


def activation_case(kind, rng):
    x = rng.standard_normal((4, 5))
    dout = rng.standard_normal((4, 5))
    layer = {"sigmoid": layers.Sigmoid, "tanh": layers.Tanh}[kind]()
    y, dx, _ = _library(layer, x, dout)
    return dict(args=(dout, y), names=["dx"], expected=[dx], numeric=_numeric(layer, x, dout, [x]))


def dense_case(rng):
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 5)), rng.standard_normal(5)
    dout = rng.standard_normal((4, 5))
    layer = _layer(layers.Dense(5), (3,), [w, b])
    _, dx, (dw, db) = _library(layer, x, dout)
    numeric = _numeric(layer, x, dout, [x, layer.kernel.data, layer.bias.data])
    return dict(args=(dout, x, w.copy(), b.copy()), names=["dx", "dw", "db"], expected=[dx, dw, db],
                numeric=numeric)


def softmax_cross_entropy_case(rng):
    z = rng.standard_normal((4, 3))
    y = np.eye(3)[rng.integers(0, 3, 4)]
    loss = losses.CategoricalCrossentropy(from_logits=True)
    loss.forward(y, z)
    expected = loss.backward()
    numeric = gradcheck.numerical_gradient(lambda: loss.forward(y, z), z)
    return dict(args=(z.copy(), y), names=["dz"], expected=[expected], numeric=[numeric])


def conv2d_case(rng):
    x, w, b = rng.standard_normal((2, 5, 4, 2)), rng.standard_normal((3, 2, 2, 3)), rng.standard_normal(3)
    dout = rng.standard_normal((2, 3, 3, 3))
    layer = _layer(layers.Conv2D(3, (3, 2)), (5, 4, 2), [w, b])
    _, dx, (dw, db) = _library(layer, x, dout)
    numeric = _numeric(layer, x, dout, [x, layer.kernel.data, layer.bias.data])
    return dict(args=(dout, x, w.copy(), b.copy(), im2col(x, 3, 2)), names=["dx", "dw", "db"],
                expected=[dx, dw, db], numeric=numeric)


def maxpool_case(rng):
    x = rng.permutation(2 * 4 * 6 * 2).reshape(2, 4, 6, 2) / 10.0     # distinct values: no ties
    dout = rng.standard_normal((2, 2, 3, 2))
    layer = _layer(layers.MaxPooling2D(2), (4, 6, 2))
    _, dx, _ = _library(layer, x, dout)
    return dict(args=(dout, x), names=["dx"], expected=[dx], numeric=_numeric(layer, x, dout, [x]))


def batchnorm_case(rng):
    x, gamma, beta = rng.standard_normal((6, 3)) * 2 + 1, rng.standard_normal(3), rng.standard_normal(3)
    dout = rng.standard_normal((6, 3))
    layer = _layer(layers.BatchNormalization(epsilon=1e-3), (3,), [gamma, beta])
    _, dx, (dgamma, dbeta) = _library(layer, x, dout)
    numeric = _numeric(layer, x, dout, [x, layer.gamma.data, layer.beta.data])
    return dict(args=(dout, x, gamma.copy(), 1e-3), names=["dx", "dgamma", "dbeta"],
                expected=[dx, dgamma, dbeta], numeric=numeric)


EXERCISES = {
    "sigmoid": ("sigmoid_backward", lambda rng: activation_case("sigmoid", rng),
                "dy/dx = y (1 - y): multiply dout by it, elementwise. Library: tinynet/core/layers/activations.py, "
                "Sigmoid.backward."),
    "tanh": ("tanh_backward", lambda rng: activation_case("tanh", rng),
             "d tanh(x)/dx = 1 - tanh(x)^2 = 1 - y^2. Library: tinynet/core/layers/activations.py, Tanh.backward."),
    "dense": ("dense_backward", dense_case,
              "Each gradient has the shape of its array: dx = dout @ w^T (N, D), dw = x^T @ dout (D, M) -- a sum "
              "over the samples --, db = dout summed over the samples (M,). Library: tinynet/core/layers/core.py, "
              "Dense.backward."),
    "softmax_cross_entropy": ("softmax_cross_entropy_backward", softmax_cross_entropy_case,
                              "With p = softmax(z) the whole pair differentiates to (p - y) / N: the 1/N comes from "
                              "the mean over samples. Subtract max(z) before exp. Library: tinynet/core/losses.py, "
                              "CategoricalCrossentropy (from_logits=True)."),
    "conv2d": ("conv2d_backward", conv2d_case,
               "On im2col's rows the convolution is a Dense layer: dz = dout.reshape(-1, F); dw = (cols^T @ dz) "
               "reshaped to w's shape; db = dz summed over rows; dcols = dz @ w_col^T, and col2im(dcols, x.shape, "
               "kh, kw) adds each row back onto the pixels it came from. Library: tinynet/core/layers/conv.py, "
               "Conv2D.backward."),
    "maxpool": ("maxpool_backward", maxpool_case,
                "Only each window's maximum influenced y: it receives the window's dout, the other three get 0. "
                "x.reshape(N, H/2, 2, W/2, 2, C) puts each window on axes 2 and 4. Library: "
                "tinynet/core/ops/pooling.py, maxpool2d_backward."),
    "batchnorm": ("batchnorm_backward", batchnorm_case,
                  "dbeta = sum(dout), dgamma = sum(dout * xhat) over samples; with dxhat = dout * gamma, "
                  "dx = (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) / sqrt(var + eps) -- mean and var depend "
                  "on every x too. Library: tinynet/core/ops/normalization.py, batch_norm_backward; derivation in "
                  "docs/backprop.md."),
}


# ----- grading -------------------------------------------------------------------------------------
def _where(yours, expected):
    difference = np.abs(yours - expected)
    index = np.unravel_index(int(difference.argmax()), difference.shape)
    return (f"largest difference {difference.max():.3g} at {tuple(int(i) for i in index)}: "
            f"yours {yours[index]:.4g}, the library's {expected[index]:.4g}")


def grade_one(name, module, seed=0, print_fn=print, hints=False):
    """Grade one exercise; returns True if every gradient passes."""
    function_name, make_case, hint = EXERCISES[name]
    case = make_case(np.random.default_rng(seed))
    function = getattr(module, function_name, None)
    if function is None:
        print_fn(f"{name}: no function {function_name} in {module.__file__}")
        return False
    try:
        returned = function(*case["args"])
    except NotImplementedError as error:
        print_fn(f"{name}: not written yet ({function_name}: {error})")
        if hints:
            print_fn(f"    hint: {hint}")
        return False
    except Exception as error:  # noqa: BLE001 - any error in the learner's code is reported, not raised
        print_fn(f"{name}: {function_name} raised {type(error).__name__}: {error}")
        if hints:
            print_fn(f"    hint: {hint}")
        return False
    if len(case["names"]) == 1:
        returned = (returned,)
    if not isinstance(returned, (tuple, list)) or len(returned) != len(case["names"]):
        print_fn(f"{name}: {function_name} must return {', '.join(case['names'])}")
        return False
    passed = True
    for gradient, yours, expected, numeric in zip(case["names"], returned, case["expected"], case["numeric"]):
        yours = np.asarray(yours, dtype=np.float64) if yours is not None else None
        if yours is None or yours.shape != expected.shape:
            print_fn(f"{name}: {gradient} WRONG SHAPE: yours {None if yours is None else yours.shape}, "
                     f"expected {expected.shape} (a gradient has the shape of its array)")
            passed = False
            continue
        error = gradcheck.relative_error(yours, numeric)
        if error < TOLERANCE:
            print_fn(f"{name}: {gradient} ok (relative error {error:.1e} against centred differences)")
        else:
            passed = False
            print_fn(f"{name}: {gradient} WRONG: relative error {error:.3g} against centred differences; "
                     f"{_where(yours, expected)}")
    print_fn(f"{name}: {'PASS' if passed else 'not yet'}")
    if not passed and hints:
        print_fn(f"    hint: {hint}")
    return passed


def load(path):
    spec = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(path))[0], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv=None, print_fn=print):
    parser = argparse.ArgumentParser(description="Grade the backward-pass exercises.")
    parser.add_argument("exercises", nargs="*", choices=[[]] + list(EXERCISES), default=[],
                        help=f"which ones (default all): {', '.join(EXERCISES)}")
    parser.add_argument("--file", default=os.path.join(HERE, "backward.py"), help="your solutions' file")
    parser.add_argument("--hints", action="store_true", help="print a hint for each exercise not passed")
    parser.add_argument("--seed", type=int, default=0, help="the random inputs' seed")
    args = parser.parse_args(argv)
    module = load(args.file)
    names = args.exercises or list(EXERCISES)
    results = {name: grade_one(name, module, args.seed, print_fn, args.hints) for name in names}
    print_fn(f"\n{sum(results.values())} of {len(results)} exercises pass"
             + ("" if all(results.values()) or args.hints else "; --hints gives a hint for each of the others"))
    return results


if __name__ == "__main__":
    sys.exit(0 if all(main().values()) else 1)
