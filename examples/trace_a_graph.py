# %% [markdown]
# # Backprop through a graph: a residual connection, a shared layer, and a planted bug
#
#     python examples/trace_a_graph.py                        # the trace of a correct model
#     python examples/trace_a_graph.py --plot graph.png       # and the picture of its graph
#     python examples/trace_a_graph.py --bug                  # a layer whose backward is wrong: flagged
#
# The model (a functional model, written with ``tinynet.Input``):
#
#     h = relu(x @ W1 + b1)                      d1
#     a = tanh(h @ Ws + bs)                      shared, first call
#     b = tanh(a @ Ws + bs)                      shared, second call: the SAME weights
#     z = (h + b) @ Wo + bo                      add (the residual connection), then out
#
# Two rules of backprop that a chain never shows:
#
# - h is used twice (by `shared` and by `add`), so dL/dh is the SUM of what both uses send
#   back. The trace prints the two parts and their sum at d1.
# - Ws is used twice, so dL/dWs is the sum of the two calls' x^T @ dz. The trace prints each
#   call's own dw, and the note under the first call gives the sum the optimizer uses.
#
# Every value printed is what the layer's own code computed; each is checked against its
# equation, and `--bug` swaps in a tanh whose backward forgets 1 - y^2: the trace flags it.
#
# Cells are marked `# %%` (jupytext "percent" format).

# %%
import argparse
import sys

import numpy as np

import tinynet
from tinynet import layers


class ForgetfulTanh(layers.Tanh):
    def backward(self, dout):
        return dout  # the planted bug: dx should be dout * (1 - y^2)


def build_model(bug=False):
    tinynet.set_random_seed(0)
    inputs = tinynet.Input(shape=(4,), name="x")
    h = layers.Dense(5, activation="relu", name="d1")(inputs)
    shared = layers.Dense(5, name="shared")
    tanh_1, tanh_2 = (ForgetfulTanh if bug else layers.Tanh)(name="tanh_1"), layers.Tanh(name="tanh_2")
    b = tanh_2(shared(tanh_1(shared(h))))
    s = layers.Add(name="add")([h, b])
    out = layers.Dense(3, activation="softmax", name="out")(s)
    model = tinynet.Model(inputs, out)
    model.compile("sgd", "sparse_categorical_crossentropy")
    return model


X = np.random.default_rng(0).standard_normal((3, 4))
LABELS = np.array([0, 1, 2])


# %%
def main(argv=None):
    parser = argparse.ArgumentParser(description="Backprop through a graph, traced.")
    parser.add_argument("--bug", action="store_true", help="plant a tanh whose backward forgets 1 - y^2")
    parser.add_argument("--plot", help="save the picture of the traced graph to this PNG file")
    parser.add_argument("--quick", action="store_true", help="the same run (the example is tiny)")
    args = parser.parse_args([] if "ipykernel" in sys.modules else argv)
    trace = tinynet.trace(build_model(args.bug), X, LABELS, max_values=15)
    if args.plot:
        trace.plot(args.plot)
        print(f"\nthe computational graph of this batch: {args.plot}")
    return trace


if __name__ == "__main__":
    main()
