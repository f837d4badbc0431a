# %% [markdown]
# # Initialisation scale: what ten layers do to a signal
#
# A Dense layer's output unit sums fan_in products w * x. With independent, zero-mean weights
# of variance s^2, Var(z) = fan_in * s^2 * E[x^2]: each layer multiplies the signal's variance
# by fan_in * s^2 (times what the activation keeps). Too small a scale and the activations
# shrink to 0 layer after layer (and so does every gradient, which is proportional to them);
# too large and tanh saturates at +-1, where its derivative is 0. Xavier/Glorot's 1 / fan_in
# keeps tanh's variance; He's 2 / fan_in keeps ReLU's, which zeroes half of its inputs
# (the derivations: docs/training-maths.md).
#
#     python examples/course/demos/init_scale.py          # the picture: init_scale.png
#     python examples/course/demos/init_scale.py --quick

# %%
import numpy as np

from common import arguments, result, save

import tinynet
from tinynet import initializers, layers

DEPTH, WIDTH = 10, 256
SHOWN = (1, 2, 4, 7, 10)        # the layers whose histograms are drawn


def activations(activation, initializer, x):
    """The output of each of DEPTH layers for the batch x (one forward pass, no training)."""
    tinynet.set_random_seed(0)
    model = tinynet.Sequential([layers.Dense(WIDTH, activation=activation, kernel_initializer=initializer,
                                             input_shape=(x.shape[1],)) for _ in range(DEPTH)])
    outputs = []
    model.forward(x, on_layer=lambda layer, x_in, y_out: outputs.append(y_out))
    return outputs


# %%
def main():
    args = arguments("Initialisation scale: activations through 10 layers.", "init_scale.png")
    x = np.random.default_rng(0).standard_normal((200 if args.quick else 1000, WIDTH)).astype(np.float32)
    runs = {"tanh, N(0, 0.01^2): too small": ("tanh", initializers.RandomNormal(stddev=0.01)),
            "tanh, N(0, 1): too large": ("tanh", initializers.RandomNormal(stddev=1.0)),
            "tanh, Glorot (Var = 2 / (fan_in + fan_out))": ("tanh", "glorot_normal"),
            "ReLU, He (Var = 2 / fan_in)": ("relu", "he_normal")}
    stds = {}
    import matplotlib.pyplot as plt
    figure = plt.figure(figsize=(13, 8.5))
    grid = figure.add_gridspec(len(runs), len(SHOWN) + 2, width_ratios=[1] * len(SHOWN) + [0.15, 1.6],
                               hspace=0.55, wspace=0.35)
    for row, (label, (activation, initializer)) in enumerate(runs.items()):
        outputs = activations(activation, initializer, x)
        stds[label] = [float(out.std()) for out in outputs]
        print(f"{label:45s} std per layer: " + " ".join(f"{s:.2g}" for s in stds[label]))
        edges = np.linspace(-1, 1, 42) if activation == "tanh" else np.linspace(0, 3, 42)   # 0 mid-bin
        for column, index in enumerate(SHOWN):
            ax = figure.add_subplot(grid[row, column])
            values = outputs[index - 1].ravel()
            # values beyond the edges are counted in the end bins, and said: nothing is dropped
            counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]), edges)
            ax.stairs(counts / values.size, edges, fill=True, color=f"C{row}")      # one patch, not 41 bars
            ax.set_ylim(0, 1)
            ax.set_yticks([0, 0.5, 1] if column == 0 else [])
            ax.tick_params(labelsize=8)
            ax.set_title(f"layer {index}: std {values.std():.2g}", fontsize=9)
            if column == 0:
                ax.set_ylabel("share", fontsize=9)
        figure.text(0.5 * (grid[row, 0].get_position(figure).x0 + grid[row, len(SHOWN) - 1].get_position(figure).x1),
                    grid[row, 0].get_position(figure).y1 + 0.03, label, ha="center", fontsize=10, weight="bold")
    ax = figure.add_subplot(grid[:, -1])
    for row, (label, values) in enumerate(stds.items()):
        ax.semilogy(range(1, DEPTH + 1), values, marker="o", color=f"C{row}", label=label.split(":")[0].split(" (")[0])
    ax.set_xlabel("layer")
    ax.set_ylabel("std of the layer's output (log scale)")
    ax.set_title("the signal's size, layer by layer")
    ax.set_xticks(range(1, DEPTH + 1))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.08))
    figure.suptitle("Activations of a 10-layer network at initialisation (one batch of N(0, 1) inputs); "
                    "share of the values per bin, the end bins holding everything beyond them", fontsize=11)
    save(figure, args.plot)
    small = stds["tanh, N(0, 0.01^2): too small"]
    glorot, he = stds["tanh, Glorot (Var = 2 / (fan_in + fan_out))"], stds["ReLU, He (Var = 2 / fan_in)"]
    saturated = float(np.mean(np.abs(activations("tanh", initializers.RandomNormal(stddev=1.0), x)[-1]) > 0.99))
    result(small_last_std=small[-1], large_saturated=saturated, glorot_last_std=glorot[-1], he_last_std=he[-1])


if __name__ == "__main__":
    main()
