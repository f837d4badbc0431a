# %% [markdown]
# # Batch normalization and the flow of gradients
#
# The deep sigmoid network of vanishing_gradients.py again, with one change: a
# BatchNormalization layer between each Dense layer and its sigmoid. Each unit's input is
# re-centred and re-scaled over the batch, so the sigmoids work where their slope is largest
# (near 0, slope 1/4) instead of drifting into their flat tails, and the gradient each layer
# passes back keeps its size: batch norm's backward divides by the batch's standard deviation,
# undoing the shrinking or growing of the layer before (docs/backprop.md, BatchNormalization).
#
#     python examples/course/demos/batchnorm_flow.py          # the picture: batchnorm_flow.png
#     python examples/course/demos/batchnorm_flow.py --quick

# %%
import numpy as np

from common import arguments, epoch_axis, result, save, spirals

import tinynet
from tinynet import layers

DEPTH, WIDTH = 10, 64


def deep_sigmoid(batch_norm):
    """DEPTH blocks Dense -> (BatchNormalization ->) sigmoid, then a softmax; Glorot initialisation."""
    tinynet.set_random_seed(0)
    blocks = []
    for index in range(DEPTH):
        blocks.append(layers.Dense(WIDTH, input_shape=(2,)) if index == 0 else layers.Dense(WIDTH))
        if batch_norm:
            blocks.append(layers.BatchNormalization())
        blocks.append(layers.Activation("sigmoid"))
    model = tinynet.Sequential(blocks + [layers.Dense(3, activation="softmax")])
    model.compile(tinynet.optimizers.SGD(learning_rate=0.01, momentum=0.9), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def kernel_gradient_norms(model, x, y):
    """||dL/dw|| of each Dense kernel, input side first (training mode: batch statistics, as in fit)."""
    model.compute_gradients(x, y)
    return np.array([np.linalg.norm(layer.kernel.grad) for layer in model.layers if isinstance(layer, layers.Dense)])


# %%
def main():
    args = arguments("Batch normalization and the gradient's flow.", "batchnorm_flow.png")
    x, y = spirals()
    epochs = 3 if args.quick else 30
    norms, histories = {}, {}
    for label, batch_norm in {"sigmoid": False, "BatchNormalization, then sigmoid": True}.items():
        model = deep_sigmoid(batch_norm)
        norms[label] = kernel_gradient_norms(model, x, y)
        histories[label] = model.fit(x, y, batch_size=32, epochs=epochs, verbose=0).history
        norms[label + " (trained)"] = kernel_gradient_norms(model, x, y)
        print(f"{label:34s} ||dL/dw|| first/last layer at init {norms[label][0] / norms[label][-1]:.1e}; "
              f"accuracy after {epochs} epochs {histories[label]['accuracy'][-1]:.2f}")

    # %%
    import matplotlib.pyplot as plt
    figure, (left, right) = plt.subplots(1, 2, figsize=(11.5, 4.3))
    layer_axis = np.arange(1, DEPTH + 2)
    for index, label in enumerate(["sigmoid", "BatchNormalization, then sigmoid"]):
        left.semilogy(layer_axis, norms[label], marker="o", color=f"C{index}", label=f"{label}: at initialisation")
        left.semilogy(layer_axis, norms[label + " (trained)"], marker=".", linestyle="--", color=f"C{index}",
                      label=f"{label}: after {epochs} epochs")
        right.plot(np.arange(1, epochs + 1), histories[label]["loss"], marker=".", color=f"C{index}", label=label)
    left.set_xticks(layer_axis)
    left.set_xlabel(f"Dense layer (1 = next to the input, {DEPTH + 1} = the output layer)")
    left.set_ylabel("||dL/dw|| (log scale)")
    left.set_title("the gradient reaching each Dense layer")
    left.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)   # below: the curves fill it
    epoch_axis(right)
    right.set_ylabel("training loss")
    right.set_title(f"{DEPTH} sigmoid layers, SGD (momentum 0.9, lr 0.01)")
    right.legend(fontsize=8)
    for ax in (left, right):
        ax.grid(alpha=0.3)
    save(figure, args.plot)
    plain, normalised = norms["sigmoid"], norms["BatchNormalization, then sigmoid"]
    result(plain_first_over_last=float(plain[0] / plain[-1]), bn_first_over_last=float(normalised[0] / normalised[-1]),
           plain_accuracy=histories["sigmoid"]["accuracy"][-1],
           bn_accuracy=histories["BatchNormalization, then sigmoid"]["accuracy"][-1])


if __name__ == "__main__":
    main()
