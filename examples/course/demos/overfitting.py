# %% [markdown]
# # Overfitting a small training set, and what a penalty on the weights changes
#
# 45 noisy spiral points (15 per arm) and a network with 41,000 weights: enough to learn
# every training point by heart. Its training loss goes on falling; the loss on 300 other
# points from the same spirals falls for a few epochs, then climbs: from there on the model
# learns the noise of its 45 points, not the spirals. Its accuracy barely changes -- what
# grows is its confidence: the regions (shaded by the predicted probability, white where the
# model hesitates) turn certain right up to the boundaries, so each validation point on the
# wrong side costs -log(p) with p near 0.
#
# An L2 penalty, l2 * sum(w^2) added to the loss (its gradient 2 * l2 * w pulls every weight
# towards 0 at each step: docs/training-maths.md), keeps the weights small and the regions
# smooth: a higher training loss, a lower validation loss.
#
#     python examples/course/demos/overfitting.py          # the picture: overfitting.png
#     python examples/course/demos/overfitting.py --quick

# %%
import numpy as np

from common import arguments, epoch_axis, result, save, spirals

import tinynet
from tinynet import layers, regularizers

NOISE = 0.6


def wide_network(penalty):
    tinynet.set_random_seed(0)
    model = tinynet.Sequential([layers.Dense(200, activation="relu", input_shape=(2,), kernel_regularizer=penalty),
                                layers.Dense(200, activation="relu", kernel_regularizer=penalty),
                                layers.Dense(3, activation="softmax")])
    model.compile(tinynet.optimizers.Adam(learning_rate=0.01), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


# %%
def main():
    args = arguments("Overfitting 45 points, with and without an L2 penalty.", "overfitting.png")
    x, y = spirals(points_per_class=15, noise=NOISE, seed=0)
    x_val, y_val = spirals(points_per_class=100, noise=NOISE, seed=1)
    epochs = 25 if args.quick else 250
    runs = {"no penalty": None, "L2 penalty, l2 = 0.003": regularizers.l2(0.003)}
    models, histories = {}, {}
    for label, penalty in runs.items():
        models[label] = wide_network(penalty)
        histories[label] = models[label].fit(x, y, batch_size=len(x), epochs=epochs, verbose=0,
                                             validation_data=(x_val, y_val)).history
        h = histories[label]
        best = int(np.argmin(h["val_loss"]))
        print(f"{label:24s} train loss {h['loss'][-1]:.3f} (accuracy {h['accuracy'][-1]:.2f}), validation loss "
              f"{h['val_loss'][-1]:.3f} (accuracy {h['val_accuracy'][-1]:.2f}); validation loss lowest at "
              f"epoch {best + 1}: {h['val_loss'][best]:.3f}")

    # %%
    import matplotlib.pyplot as plt
    figure = plt.figure(figsize=(14, 4.6))
    grid = figure.add_gridspec(1, 3, width_ratios=[1.2, 1, 1], wspace=0.25)
    curves = figure.add_subplot(grid[0])
    for index, (label, h) in enumerate(histories.items()):
        epochs_axis = np.arange(1, len(h["loss"]) + 1)
        curves.plot(epochs_axis, h["loss"], color=f"C{index}", label=f"{label}: training")
        curves.plot(epochs_axis, h["val_loss"], color=f"C{index}", linestyle="--", label=f"{label}: validation")
    curves.set_yscale("log")
    epoch_axis(curves)
    curves.set_ylabel("loss (log scale)")
    curves.set_title("45 training points, 300 validation points\n(the L2 run's training loss includes its penalty)",
                     fontsize=10)
    curves.grid(alpha=0.3)
    curves.legend(fontsize=8)
    g1, g2 = np.meshgrid(np.linspace(-1.3, 1.3, 200), np.linspace(-1.3, 1.3, 200))
    grid_points = np.c_[g1.ravel(), g2.ravel()].astype(np.float32)
    dark = np.array([[21, 101, 192], [230, 81, 0], [46, 125, 50]]) / 255       # one colour per arm
    for index, (label, model) in enumerate(models.items()):
        ax = figure.add_subplot(grid[index + 1])
        p = model.predict(grid_points)
        confidence = ((p.max(axis=1) - 1 / 3) / (2 / 3)).reshape(g1.shape + (1,))  # 0: a guess, 1: certain
        light = 0.6 + 0.4 * dark                                                  # the region's tint when certain
        image = 1 - confidence * (1 - light[p.argmax(axis=1).reshape(g1.shape)])
        ax.imshow(image, origin="lower", extent=(-1.3, 1.3, -1.3, 1.3), interpolation="bilinear")
        ax.scatter(x_val[:, 0], x_val[:, 1], c=dark[y_val], s=5, alpha=0.45)
        ax.scatter(x[:, 0], x[:, 1], c=dark[y], s=40, edgecolors="black")
        ax.set_aspect("equal")          # the plane as it is: circles stay circles
        ax.set_xticks([])
        ax.set_yticks([])
        h = histories[label]
        ax.set_title(f"{label}\nvalidation accuracy {h['val_accuracy'][-1]:.2f}", fontsize=10)
    figure.suptitle("Predicted class, shaded by its probability (white: 1/3 each, full colour: certain); big dots "
                    "the training points, small dots the validation points", y=-0.03, fontsize=9)
    save(figure, args.plot)
    plain, penalised = histories["no penalty"], histories["L2 penalty, l2 = 0.003"]
    result(train_loss=plain["loss"][-1], val_loss=plain["val_loss"][-1], best_val_loss=min(plain["val_loss"]),
           l2_val_loss=penalised["val_loss"][-1])


if __name__ == "__main__":
    main()
