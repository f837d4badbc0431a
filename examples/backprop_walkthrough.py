# %% [markdown]
# # Backprop by hand: a 2-4-3 network on two samples
#
# Every number is small enough to follow on paper.
#
#     python examples/backprop_walkthrough.py                    # the weights, the trace, the gradient check
#     python examples/backprop_walkthrough.py --plot trace.png   # and the picture of the graph
#     python examples/backprop_walkthrough.py --quick            # the same (it is tiny); the test suite runs this
#
# The weights are round binary fractions (0.5, 0.25, ...), so the first layer's values are exact:
#
#     x = [[1, 2], [2, -1]]
#     z1 = x @ w1 + b1 = [[1, 0.5, -0.75, 1.5], [0.75, -1.5, 1, -1.5]]
#     h = relu(z1)     = [[1, 0.5, 0, 1.5],     [0.75, 0, 1, 0]]
#     z2 = h @ w2 + b2, p = softmax(z2), loss = -mean(log p[label])
#     dL/dz2 = (p - y) / 2                     softmax + cross-entropy: the loss takes the logits z2
#     dw2 = h^T @ dz2, db2 = sum dz2, dh = dz2 @ w2^T
#     dz1 = dh * [z1 > 0], dw1 = x^T @ dz1, db1 = sum dz1, dx = dz1 @ w1^T
#
# Check any line of the trace against these formulas, then let the gradient check confirm
# the whole backward pass numerically. `examples/scalars_to_matrices.py` computes the same
# network one number at a time with `tinynet.scalar` and finds the same gradients.
#
# Cells are marked `# %%` (jupytext "percent" format): the file opens as a notebook in
# Jupyter (with jupytext) or VS Code, and still runs as a plain script.

# %%
import argparse
import sys

import numpy as np

import tinynet
from tinynet import gradcheck, layers

X = np.array([[1.0, 2.0], [2.0, -1.0]])
LABELS = np.array([0, 2])
w1 = np.array([[0.5, -0.5, 0.25, 0.0],
               [0.25, 0.5, -0.5, 1.0]])
b1 = np.array([0.0, 0.0, 0.0, -0.5])
w2 = np.array([[0.5, -0.5, 0.0],
               [0.0, 0.5, -0.5],
               [0.25, 0.0, 0.25],
               [-0.25, 0.25, 0.5]])
b2 = np.array([0.0, 0.0, 0.0])


def build_model():
    model = tinynet.Sequential([layers.Dense(4, activation="relu", input_shape=(2,), name="hidden"),
                                layers.Dense(3, activation="softmax", name="output")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    model.set_weights([w1, b1, w2, b2])
    return model


# %% [markdown]
# ## The trace: every stage, forward then backward
# z, the ReLU mask [z > 0], y; then p, y and (p - y) / N; then dz, dw = x^T @ dz, db, dx per layer.

# %%
def show_trace(model, plot=None):
    trace = tinynet.trace(model, X, tinynet.to_categorical(LABELS, 3))
    if plot:
        trace.plot(plot)
        print(f"\nthe computational graph of this batch, and the circuit of one output unit: {plot}")
    return trace


# %% [markdown]
# ## The gradient check: backprop against centred differences

# %%
def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "backprop walkthrough")
    parser.add_argument("--quick", action="store_true", help="the same run (the example is already tiny)")
    parser.add_argument("--plot", help="save the picture of the traced graph to this PNG file")
    args = parser.parse_args([] if "ipykernel" in sys.modules else None)   # a notebook passes no arguments
    np.set_printoptions(precision=4, suppress=True)
    model = build_model()
    print("x =", X.tolist(), "  labels =", LABELS.tolist())
    print("w1 =", w1.tolist(), "  b1 =", b1.tolist())
    print("w2 =", w2.tolist(), "  b2 =", b2.tolist())
    print()
    print("== trace: one forward and one backward pass, stage by stage ==")
    show_trace(model, args.plot)
    print()
    print("== gradient check: backprop vs centred differences ==")
    gradcheck.check_model(model, X, tinynet.to_categorical(LABELS, 3))


if __name__ == "__main__":
    main()
