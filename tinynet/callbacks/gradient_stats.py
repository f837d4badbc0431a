"""``GradientStats``: per-epoch gradient health of every layer, recorded in ``History``.

    stats = tinynet.callbacks.GradientStats()
    history = model.fit(x, y, epochs=10, callbacks=[stats])
    tinynet.plot.plot_gradient_stats(history)      # after `import tinynet.plot`; defined below

Three signals, the ones practitioners watch to spot vanishing or exploding gradients:

``grad_norm/<layer>``
    ||dL/dW||, the norm of all the layer's trainable gradients together, averaged over
    the epoch's batches. Shrinking layer by layer towards the input: vanishing
    gradients; growing: exploding ones.
``update_ratio/<layer>``
    ||W_after - W_before|| / ||W_after|| for one optimizer step, averaged over the steps
    measured. Around 1e-3 is the usual healthy rate (Karpathy, CS231n); 1e-1 means the
    steps are too large, 1e-6 that the layer has stopped learning.
``dead_relu/<layer>``
    For a layer with a ReLU (its own, or ``activation='relu'``): the fraction of units
    (channels for images) that output 0 for every training sample of the epoch. A dead
    unit gets no gradient, so it never comes back.

The values are plain floats in ``history.history``, so ``History.to_json`` keeps them.

Cost: the gradient norms are a few norms per batch; the update ratio needs a copy of
the weights before the step, so it is measured every ``every``-th batch (default
every 10th); the dead-ReLU record is one ``any`` over each ReLU's output per batch.
Measured on the cca MLP (784-512-512-10, Adam, batch 128, 2 cores): see README
"Seeing backprop".
"""
import numpy as np

from ..checks import check_int, invalid
from .base import Callback
from ..layers.activations import ReLU


class GradientStats(Callback):
    """Records each layer's gradient norm, update-to-weight ratio and dead-ReLU fraction per epoch.

    Args:
        every: measure the update ratio on every ``every``-th batch of an epoch (its
            first batch included). 1 measures every step, at the cost of one copy of
            the weights per step.
    """

    def __init__(self, every=10):
        super().__init__()
        self.every = check_int(every, "every", minimum=1, owner="GradientStats")

    def on_train_begin(self, logs=None):
        layers = self.model.layers
        self.weighted = [layer for layer in layers if layer.trainable_weights]
        self.relus = {layer.name for layer in layers for part in (layer, getattr(layer, "activation", None))
                      if isinstance(part, ReLU)}
        # Where each layer's weights are copied before a measured step.
        self.before = {layer.name: [np.empty_like(p.data) for p in layer.trainable_weights]
                       for layer in self.weighted}

    def on_epoch_begin(self, epoch, logs=None):
        self.grad_norm_sums = dict.fromkeys((layer.name for layer in self.weighted), 0.0)
        self.ratio_sums = dict.fromkeys(self.grad_norm_sums, 0.0)
        self.batches = 0
        self.measured = 0
        self.alive = {name: None for name in self.relus}

    def on_train_batch_begin(self, batch, logs=None):
        if batch % self.every == 0:
            for layer in self.weighted:
                for copy, parameter in zip(self.before[layer.name], layer.trainable_weights):
                    np.copyto(copy, parameter.data)

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1
        for layer in self.weighted:
            # sqrt of the summed squares = the norm of all the layer's gradients as one vector
            squares = sum(float(np.vdot(p.grad, p.grad)) for p in layer.trainable_weights)
            self.grad_norm_sums[layer.name] += squares ** 0.5
        if batch % self.every == 0:
            self.measured += 1
            for layer in self.weighted:
                step = sum(float(np.sum(np.square(p.data - w0)))
                           for p, w0 in zip(layer.trainable_weights, self.before[layer.name]))
                size = sum(float(np.vdot(p.data, p.data)) for p in layer.trainable_weights)
                self.ratio_sums[layer.name] += (step / size) ** 0.5 if size > 0 else 0.0

    def on_train_layer_output(self, layer, x, y):
        """Called by fit's training step after each layer's forward (``Model.forward``'s ``on_layer``)."""
        if layer.name in self.relus:
            # A unit (a channel, for images) is alive in this batch if any sample activates it.
            alive = (y > 0).reshape(-1, y.shape[-1]).any(axis=0)
            previous = self.alive[layer.name]
            self.alive[layer.name] = alive if previous is None else previous | alive

    def on_epoch_end(self, epoch, logs=None):
        if logs is None or self.batches == 0:
            return
        for layer in self.weighted:
            logs[f"grad_norm/{layer.name}"] = self.grad_norm_sums[layer.name] / self.batches
            if self.measured:
                logs[f"update_ratio/{layer.name}"] = self.ratio_sums[layer.name] / self.measured
        for name, alive in self.alive.items():
            if alive is not None:
                logs[f"dead_relu/{name}"] = float(1.0 - alive.mean())


STATS = (("grad_norm", "gradient norm ||dL/dW||", True),
         ("update_ratio", "update / weight  ||dW|| / ||W||", True),
         ("dead_relu", "dead ReLU fraction", False))


def plot_gradient_stats(history, path=None):
    """Plot what ``GradientStats`` recorded: one panel per statistic, one line per layer.

    ``history``: the ``History`` that ``fit`` returned (or its ``.history`` dict). The norms
    and ratios are drawn on a log scale, where vanishing or exploding shows as a steady
    slope. Returns the matplotlib Figure; saves it when given ``path``.
    """
    import matplotlib.pyplot as plt

    history = getattr(history, "history", history)
    if not isinstance(history, dict):
        raise invalid("history", "a History or its .history dict", history, error=TypeError)
    panels = [(prefix, title, log) for prefix, title, log in STATS
              if any(key.startswith(prefix + "/") for key in history)]
    if not panels:
        raise ValueError("The history holds no gradient statistics: pass callbacks=[GradientStats()] to fit. "
                         f"Received keys: {sorted(history)}")
    figure, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
    for ax, (prefix, title, log) in zip(axes[0], panels):
        for key, values in history.items():
            if key.startswith(prefix + "/"):
                ax.plot(np.arange(1, len(values) + 1), values, marker="o", label=key.split("/", 1)[1])
        if log:
            ax.set_yscale("log")
        ax.set_title(title)
        ax.set_xlabel("Epoch")
        ax.legend(loc="best", fontsize=8)
    figure.tight_layout()
    if path is not None:
        figure.savefig(path)
    return figure
