# %% [markdown]
# # The learning rate: too low, about right, too high
#
# Gradient descent steps w <- w - lr * dL/dw. Too small a learning rate and every step is
# right but tiny: after 30 epochs the loss has barely moved. Too large and each step jumps
# over the valley it should descend into: the loss bounces, or climbs, and ReLU units pushed
# to negative pre-activations for every sample die (their gradient is 0 from then on). The
# right value sits in between (docs/training-maths.md: on a quadratic, any step above 2 / its
# largest curvature diverges) and is found by trying a few, a factor of 3 to 10 apart: the
# sweep on the right, final loss against learning rate, is the U every practitioner draws.
#
# The loop below is the training loop of lesson 7 (examples/course/answers/network.py,
# ``train``) with tinynet's own step: ``model.train_on_batch`` = forward, loss, backward, update.
#
#     python examples/course/demos/learning_rate.py          # the picture: learning_rate.png
#     python examples/course/demos/learning_rate.py --quick

# %%
import numpy as np

from common import arguments, epoch_axis, result, save, spirals

import tinynet
from tinynet import layers, optimizers


def losses_per_step(learning_rate, x, y, epochs, batch_size=32):
    """The loss of every step of plain SGD on a 2-100-3 network (the same start and batches for every rate).

    A run whose loss becomes infinite stops there (tinynet refuses the step: TrainingDivergedError).
    """
    tinynet.set_random_seed(0)
    model = tinynet.Sequential([layers.Dense(100, activation="relu", input_shape=(2,)),
                                layers.Dense(3, activation="softmax")])
    model.compile(optimizers.SGD(learning_rate=learning_rate), "sparse_categorical_crossentropy")
    order_rng, steps = np.random.default_rng(1), []
    try:
        for _ in range(epochs):
            order = order_rng.permutation(len(x))
            for start in range(0, len(x), batch_size):
                batch = order[start:start + batch_size]
                steps.append(float(model.train_on_batch(x[batch], y[batch])))
    except tinynet.TrainingDivergedError:
        steps.append(np.inf)
    return np.array(steps)


# %%
def main():
    args = arguments("Learning rate too low, right, too high.", "learning_rate.png")
    x, y = spirals()
    epochs = 4 if args.quick else 30
    chosen = {"too low: 0.01": 0.01, "about right: 1": 1.0, "too high: 5": 5.0, "far too high: 30": 30.0}
    runs = {label: losses_per_step(rate, x, y, epochs) for label, rate in chosen.items()}
    sweep = np.geomspace(1e-3, 30, 7 if args.quick else 15)
    final = np.array([losses_per_step(rate, x, y, epochs)[-10:].mean() for rate in sweep])
    for label, steps in runs.items():
        print(f"{label:18s} loss: first step {steps[0]:.3f}, mean of the last 10 steps {steps[-10:].mean():.3f}")

    # %%
    import matplotlib.pyplot as plt
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.4), gridspec_kw=dict(width_ratios=[1.4, 1]))
    steps_per_epoch = int(np.ceil(len(x) / 32))
    for index, (label, steps) in enumerate(runs.items()):
        finite = np.where(np.isfinite(steps), steps, np.nan)
        left.plot(np.arange(1, len(steps) + 1) / steps_per_epoch, finite, color=f"C{index}", linewidth=0.6,
                  alpha=0.35)
        smooth = np.convolve(finite, np.ones(10) / 10, mode="valid")      # the mean of 10 steps
        left.plot((np.arange(len(smooth)) + 10) / steps_per_epoch, smooth, color=f"C{index}", linewidth=1.8,
                  label=label)
    left.axhline(np.log(3), color="0.5", linestyle="--", linewidth=0.8)
    left.text(0.99, np.log(3) * 1.08, "chance: ln 3", color="0.4", fontsize=8, ha="right",
              transform=left.get_yaxis_transform())
    left.set_yscale("log")
    epoch_axis(left)
    left.set_ylabel("loss of each step (log scale); thick: mean of 10")
    left.set_title("plain SGD, one network, four learning rates")
    left.legend(fontsize=8)
    right.loglog(sweep, final, marker="o")
    right.axhline(np.log(3), color="0.5", linestyle="--", linewidth=0.8)
    right.set_xlabel("learning rate (log scale)")
    right.set_ylabel(f"loss after {epochs} epochs (mean of the last 10 steps)")
    right.set_title("the sweep: too low on the left, too high on the right")
    for ax in (left, right):
        ax.grid(alpha=0.3)
    save(figure, args.plot)
    best = float(sweep[int(np.nanargmin(np.where(np.isfinite(final), final, np.nan)))])
    result(low=runs["too low: 0.01"][-10:].mean(), right=runs["about right: 1"][-10:].mean(),
           high=runs["too high: 5"][-10:].mean(), best_rate=best)


if __name__ == "__main__":
    main()
