# %% [markdown]
# # Four optimizers on the same problems
#
# Left: a long, narrow valley, f(w) = (w1^2 + 25 w2^2) / 2, the shape of many loss surfaces
# near a minimum. Plain SGD with a learning rate small enough not to blow up across the
# valley crawls along it. Momentum accumulates the steady downhill component and cancels the
# zig-zag. RMSprop and Adam divide each coordinate's step by its recent gradient size, so
# both directions move at about the same speed (Adam with momentum on top, and its bias
# correction making the first steps full-sized: docs/training-maths.md).
#
# Right: the same four, with their usual learning rates, training one two-layer network on
# the spirals from the same initial weights.
#
#     python examples/course/demos/optimizers.py          # the picture: optimizers.png
#     python examples/course/demos/optimizers.py --quick

# %%
import numpy as np

from common import arguments, epoch_axis, result, save, spirals

import tinynet
from tinynet import layers, optimizers
from tinynet.core.layers.base import Parameter

CURVATURE = np.array([1.0, 25.0])          # f(w) = sum(CURVATURE * w^2) / 2
START = np.array([-4.5, 1.2])


def valley_path(optimizer, steps):
    """The points w takes under ``optimizer`` on the valley, through the optimizer's own step."""
    w = Parameter(START.copy(), "w")
    path = [w.data.copy()]
    for _ in range(steps):
        w.grad = CURVATURE * w.data            # df/dw
        optimizer.apply([w])
        path.append(w.data.copy())
    return np.array(path)


def choices():
    """name -> a fresh optimizer, for the valley and for the network (learning rates as usually chosen)."""
    return {"SGD": (lambda: optimizers.SGD(learning_rate=0.035), lambda: optimizers.SGD(learning_rate=0.1)),
            "SGD + momentum 0.9": (lambda: optimizers.SGD(learning_rate=0.01, momentum=0.9),
                                   lambda: optimizers.SGD(learning_rate=0.1, momentum=0.9)),
            "RMSprop": (lambda: optimizers.RMSprop(learning_rate=0.1), lambda: optimizers.RMSprop(learning_rate=0.01)),
            "Adam": (lambda: optimizers.Adam(learning_rate=0.2), lambda: optimizers.Adam(learning_rate=0.01))}


def network(optimizer):
    tinynet.set_random_seed(0)                 # the same initial weights for every optimizer
    model = tinynet.Sequential([layers.Dense(100, activation="relu", input_shape=(2,)),
                                layers.Dense(3, activation="softmax")])
    model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


# %%
def main():
    args = arguments("Four optimizers on a valley and on the spirals.", "optimizers.png")
    x, y = spirals()
    steps, epochs = 60, 5 if args.quick else 60
    paths, histories, rates = {}, {}, {}
    for name, (for_valley, for_network) in choices().items():
        valley_optimizer = for_valley()
        rates[name] = (valley_optimizer.learning_rate, for_network().learning_rate)
        paths[name] = valley_path(valley_optimizer, steps)
        tinynet.set_random_seed(1)             # the same batches for every optimizer
        histories[name] = network(for_network()).fit(x, y, batch_size=32, epochs=epochs, verbose=0).history
        distance = np.linalg.norm(paths[name][-1])
        print(f"{name:20s} valley: |w| after {steps} steps {distance:.2g};  spirals: loss "
              f"{histories[name]['loss'][-1]:.3f}, accuracy {histories[name]['accuracy'][-1]:.2f}")

    # %%
    import matplotlib.pyplot as plt
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.6), gridspec_kw=dict(width_ratios=[1.25, 1]),
                                         layout="constrained")
    w1, w2 = np.meshgrid(np.linspace(-5, 1, 200), np.linspace(-1.6, 1.6, 200))
    left.contour(w1, w2, (CURVATURE[0] * w1 ** 2 + CURVATURE[1] * w2 ** 2) / 2, levels=np.geomspace(0.02, 40, 12),
                 colors="0.75", linewidths=0.8)
    for index, (name, path) in enumerate(paths.items()):
        left.plot(path[:, 0], path[:, 1], marker=".", markersize=4, linewidth=1.2, color=f"C{index}",
                  label=f"{name}, lr {rates[name][0]:g}")
        right.plot(np.arange(1, epochs + 1), histories[name]["loss"], color=f"C{index}",
                   label=f"{name}, lr {rates[name][1]:g}")
    left.plot(*START, "k^", markersize=8)
    left.plot(0, 0, "k*", markersize=12)
    left.set_aspect("equal")                   # a valley drawn as it is: 5 times narrower than long
    left.set_xlabel("w1")
    left.set_ylabel("w2")
    left.set_title(f"f(w) = (w1^2 + 25 w2^2) / 2: {steps} steps from the triangle")
    left.legend(fontsize=8, loc="lower right")
    right.set_yscale("log")
    epoch_axis(right)
    right.set_ylabel("training loss (log scale)")
    right.set_title("a 2-100-3 network on the spirals, same start, same batches")
    right.grid(alpha=0.3)
    right.legend(fontsize=8)
    save(figure, args.plot)
    result(**{f"{name.split()[0].lower()}{'_momentum' if 'momentum' in name else ''}_distance":
              float(np.linalg.norm(path[-1])) for name, path in paths.items()},
           sgd_loss=histories["SGD"]["loss"][-1], adam_loss=histories["Adam"]["loss"][-1])


if __name__ == "__main__":
    main()
