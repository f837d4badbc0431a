# %% [markdown]
# # Break it yourself: find the planted bug with the gradient check and the trace
#
# `buggy_model()` builds a small MLP in which ONE layer's backward is wrong. The loss,
# the predictions and training's first steps all look normal. Find which layer, and
# which stage of it, using only the tools:
#
#     python examples/course/find_the_bug.py                 # the gradient check and the trace
#     python examples/course/find_the_bug.py --guess NAME    # is it layer NAME?
#
# 1. The gradient check's table says which gradients of the loss disagree with centred
#    differences ('your point', 'perturbed'). Several layers fail: a wrong gradient flows
#    back and spoils every layer before it in the forward order.
# 2. The 'alone' column checks each layer on its own, on the input and the dL/dy it
#    received: a layer whose own rows pass only received a wrong dL/dy. Which layer's
#    own backward disagrees with its own forward?
# 3. The trace prints every stage of that layer: compare its dw with x^T @ dz and its dz
#    with dy * act'(z), from the stages printed just above.
# 4. Read that layer's class below only after you have a guess.
#
# Cells are marked `# %%` (jupytext "percent" format).

# %%
import argparse
import hashlib
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
import tinynet  # noqa: E402
from tinynet import gradcheck, layers  # noqa: E402

ANSWER = "a4888af4"   # the first 8 hex digits of sha256 of the buggy layer's name


class ForgetfulReLU(layers.ReLU):
    def backward(self, dout):
        return dout  # the planted bug: the ReLU's local derivative [z > 0] is forgotten, dz = dout


class Dense(layers.Dense):
    """The library's Dense, re-declared here for the exercise (read it after your guess)."""

    def __init__(self, units, activation=None, **kwargs):
        super().__init__(units, activation=activation, **kwargs)
        if activation == "relu":
            self.activation = ForgetfulReLU(name=f"{self.name}_relu")


def buggy_model():
    tinynet.set_random_seed(1)
    model = tinynet.Sequential([Dense(6, activation="tanh", input_shape=(4,), name="first"),
                                Dense(5, activation="relu", name="middle"),
                                Dense(3, activation="softmax", name="last")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    return model


def data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((3, 4)), np.array([0, 1, 2])


# %%
def main():
    parser = argparse.ArgumentParser(description="Find the planted bug.")
    parser.add_argument("--guess", help="the name of the layer you think is wrong")
    args = parser.parse_args([] if "ipykernel" in sys.modules else None)   # a notebook passes no arguments
    model = buggy_model()
    x, y = data()
    if args.guess:
        right = hashlib.sha256(args.guess.encode()).hexdigest()[:8] == ANSWER
        print(f"{args.guess}: " + ("right! Its backward forgets the ReLU mask (dz = dy instead of dy * [z > 0]): its dw, db "
                                   "and dx are wrong, and the wrong dx makes every layer before it fail through the "
                                   "loss, while their own backward passes alone." if right else
                                   "no. Read the 'alone' column: the layer whose own backward fails is the "
                                   "culprit; a layer whose own rows pass only received a wrong dL/dy."))
        return right
    print("== gradient check ==")
    gradcheck.check_model(model, x, y)
    print("\n== trace ==")
    tinynet.trace(model, x, y)
    print("\nWhich layer is wrong? python examples/course/find_the_bug.py --guess NAME")
    return None


if __name__ == "__main__":
    main()
