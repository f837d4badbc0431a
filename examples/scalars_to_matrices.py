# %% [markdown]
# # From scalars to matrices: the walkthrough network, one number at a time
#
# `examples/backprop_walkthrough.py` traces a 2-4-3 network with matrix layers. Here the
# same network is built from single numbers with `tinynet.scalar.Value` (a micrograd-sized
# engine: each operation knows its local derivative, `backward()` applies the chain rule
# in reverse topological order). Every weight's gradient found number by number equals
# the matrix layers' gradient, entry by entry:
#
#     dL/dw1[i, j] = sum over samples n of x[n, i] * dz1[n, j]   =   (x^T @ dz1)[i, j]
#
# The sum over n appears because the weight w1[i, j] is used once per sample, and a value
# used several times collects one chain-rule term per use.
#
#     python examples/scalars_to_matrices.py
#
# Cells are marked `# %%` (jupytext "percent" format): the file opens as a notebook in
# Jupyter (with jupytext) or VS Code, and still runs as a plain script.

# %%
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # the walkthrough's weights
import tinynet  # noqa: E402
from backprop_walkthrough import b1, b2, LABELS, w1, w2, X, build_model  # noqa: E402
from tinynet.scalar import Value  # noqa: E402


# %% [markdown]
# ## The network, scalar by scalar
# z1[n, j] = sum_i x[n, i] w1[i, j] + b1[j],  h = relu(z1),  z2 = h w2 + b2,
# loss = mean over n of -log softmax(z2[n])[label_n]. Softmax is written with `exp` and `log`,
# subtracting each row's largest logit first (a constant, so the gradient is unchanged).

# %%
def scalar_network(x, labels, w1, b1, w2, b2):
    """The loss as one ``Value`` and every weight as a grid of ``Value`` (lists of lists)."""
    w1v = [[Value(w, label=f"w1[{i},{j}]") for j, w in enumerate(row)] for i, row in enumerate(w1)]
    b1v = [Value(b, label=f"b1[{j}]") for j, b in enumerate(b1)]
    w2v = [[Value(w, label=f"w2[{i},{j}]") for j, w in enumerate(row)] for i, row in enumerate(w2)]
    b2v = [Value(b, label=f"b2[{j}]") for j, b in enumerate(b2)]
    losses = []
    for x_n, label in zip(x, labels):
        z1 = [sum((x_n[i] * w1v[i][j] for i in range(len(x_n))), b1v[j]) for j in range(len(b1v))]
        h = [z.relu() for z in z1]
        z2 = [sum((h[i] * w2v[i][k] for i in range(len(h))), b2v[k]) for k in range(len(b2v))]
        shift = max(z.data for z in z2)                       # NOTE: stable softmax, as the library
        log_sum = sum((z - shift).exp() for z in z2).log()
        losses.append(-(z2[label] - shift - log_sum))         # -log p[label]
    loss = sum(losses[1:], losses[0]) / len(losses)
    return loss, {"hidden/kernel": w1v, "hidden/bias": b1v, "output/kernel": w2v, "output/bias": b2v}


def grads_of(values):
    """The ``grad`` of a (nested) list of Values as an array."""
    if isinstance(values, Value):
        return values.grad
    return np.array([grads_of(v) for v in values])


def scalar_gradients():
    """``(loss, {'hidden/kernel': dw1, ...})`` computed by the scalar engine."""
    loss, weights = scalar_network(X, LABELS, w1, b1, w2, b2)
    loss.backward()
    return loss.data, {name: grads_of(v) for name, v in weights.items()}


# %% [markdown]
# ## The matrix layers' gradients
# One call of the model's public step: forward, loss, backward, no update.

# %%
def layer_gradients():
    """``(loss, {'hidden/kernel': dw1, ...})`` from the library's Dense layers."""
    model = build_model()
    loss, _ = model.compute_gradients(X, tinynet.to_categorical(LABELS, 3))
    return loss, {p.name: p.grad for layer in model.layers for p in layer.trainable_weights}


# %% [markdown]
# ## Side by side
# And the bridge written out for w1: the scalar engine's sum over samples is x^T @ dz1.

# %%
def main():
    np.set_printoptions(precision=5, suppress=True)
    scalar_loss, scalar = scalar_gradients()
    matrix_loss, matrix = layer_gradients()
    print(f"loss: scalar engine {scalar_loss:.10f}   matrix layers {matrix_loss:.10f}")
    worst = 0.0
    for name in scalar:
        difference = float(np.abs(scalar[name] - matrix[name]).max())
        worst = max(worst, difference)
        print(f"\n{name}  (largest difference {difference:.1e})")
        print("  scalar engine:", str(scalar[name]).replace("\n", "\n                 "))
        print("  matrix layer: ", str(matrix[name]).replace("\n", "\n                 "))

    z1 = X @ w1 + b1
    h = np.maximum(z1, 0)
    z2 = h @ w2 + b2
    p = np.exp(z2 - z2.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    dz2 = (p - np.eye(3)[LABELS]) / len(X)
    dz1 = dz2 @ w2.T * (z1 > 0)
    print("\nthe bridge, one entry: dL/dw1[0, 0] = x[0, 0] dz1[0, 0] + x[1, 0] dz1[1, 0]"
          f" = {X[0, 0]:g} * {dz1[0, 0]:.5f} + {X[1, 0]:g} * {dz1[1, 0]:.5f} = {X[:, 0] @ dz1[:, 0]:.5f}")
    print("all entries at once: x^T @ dz1 =", str(X.T @ dz1).replace("\n", "\n" + " " * 31))
    # The layers compute in float32 (as Keras does), the scalar engine in Python floats (float64):
    # they agree to float32's rounding, about 1e-7 of each value.
    verdict = "equal to float32 rounding" if worst < 1e-6 else "DIFFERENT"
    print(f"\nscalar engine vs matrix layers: every gradient {verdict} (largest difference {worst:.1e})")


if __name__ == "__main__":
    main()
