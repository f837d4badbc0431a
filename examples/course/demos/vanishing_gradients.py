# %% [markdown]
# # Vanishing gradients: a deep sigmoid network against ReLU with He initialisation
#
# Backprop multiplies, layer after layer, by each activation's derivative and by the next
# kernel: dL/dz_l = (dL/dz_{l+1} @ w_{l+1}^T) * act'(z_l). A sigmoid's derivative is at most
# 1/4, so through ten sigmoid layers the gradient reaching the first kernel is thousands of
# times smaller than the last one's: the first layers barely learn. ReLU's derivative is 1
# where the unit is active, and He initialisation (Var w = 2 / fan_in) keeps the size of the
# signal, forward and backward, the same from layer to layer (docs/training-maths.md).
#
#     python examples/course/demos/vanishing_gradients.py           # the picture: vanishing_gradients.png
#     python examples/course/demos/vanishing_gradients.py --quick   # fewer epochs

# %%
import numpy as np

from common import arguments, epoch_axis, result, save, spirals

import tinynet
from tinynet import layers

DEPTH, WIDTH = 10, 64


def deep_model(activation, initializer):
    """DEPTH hidden layers of WIDTH units, then a softmax over the 3 spiral arms."""
    tinynet.set_random_seed(0)
    model = tinynet.Sequential([layers.Dense(WIDTH, activation=activation, kernel_initializer=initializer,
                                             input_shape=(2,))]
                               + [layers.Dense(WIDTH, activation=activation, kernel_initializer=initializer)
                                  for _ in range(DEPTH - 1)]
                               + [layers.Dense(3, activation="softmax")])
    model.compile(tinynet.optimizers.SGD(learning_rate=0.01, momentum=0.9), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def gradient_norms(model, x, y):
    """||dL/dw|| of every layer's kernel, input side first: one forward and backward pass, no step."""
    model.compute_gradients(x, y)
    return np.array([np.linalg.norm(layer.kernel.grad) for layer in model.layers])


# %%
def main():
    args = arguments("Vanishing gradients: sigmoid vs ReLU + He.", "vanishing_gradients.png")
    x, y = spirals()
    runs = {"sigmoid, Glorot init": ("sigmoid", "glorot_uniform"), "ReLU, He init": ("relu", "he_normal")}
    norms, histories = {}, {}
    for label, (activation, initializer) in runs.items():
        model = deep_model(activation, initializer)
        norms[label] = gradient_norms(model, x, y)
        histories[label] = model.fit(x, y, batch_size=32, epochs=3 if args.quick else 40, verbose=0).history
        print(f"{label:22s} ||dL/dw|| from the first layer to the last: "
              + " ".join(f"{n:.1e}" for n in norms[label]))
        print(f"{'':22s} training accuracy after {len(histories[label]['loss'])} epochs: "
              f"{histories[label]['accuracy'][-1]:.2f}")

    # %%
    import matplotlib.pyplot as plt
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for label, values in norms.items():
        left.semilogy(np.arange(1, len(values) + 1), values, marker="o", label=label)
        right.plot(np.arange(1, len(histories[label]["loss"]) + 1), histories[label]["loss"], marker=".", label=label)
    left.set_xlabel(f"layer (1 = next to the input, {DEPTH + 1} = the output layer)")
    left.set_ylabel("||dL/dw|| at initialisation (log scale)")
    left.set_title(f"the gradient reaching each of {DEPTH + 1} layers")
    left.set_xticks(range(1, DEPTH + 2))
    epoch_axis(right)
    right.set_ylabel("training loss")
    right.set_title("training (SGD, momentum 0.9, lr 0.01)")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend()
    save(figure, args.plot)
    sigmoid, relu = norms["sigmoid, Glorot init"], norms["ReLU, He init"]
    result(sigmoid_first_over_last=float(sigmoid[0] / sigmoid[-1]), relu_first_over_last=float(relu[0] / relu[-1]),
           sigmoid_accuracy=histories["sigmoid, Glorot init"]["accuracy"][-1],
           relu_accuracy=histories["ReLU, He init"]["accuracy"][-1])


if __name__ == "__main__":
    main()
