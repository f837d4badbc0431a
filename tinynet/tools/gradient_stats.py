"""``GradientStats``: per-epoch gradient health of every layer, as numbers and as histograms.

    stats = tinynet.callbacks.GradientStats(sample=(x[:256], y[:256]))
    history = model.fit(x, y, epochs=10, callbacks=[stats])
    tinynet.plot.plot_gradient_stats(history, stats=stats)     # lines per layer, and histograms

Three numbers per layer and epoch, recorded in ``history.history`` (plain floats, so
``History.to_json`` keeps them):

``grad_norm/<layer>``
    ||dL/dw||, the norm of all the layer's trainable gradients together, averaged over
    the epoch's batches. Shrinking layer by layer towards the input: vanishing
    gradients; growing: exploding ones.
``update_ratio/<layer>``
    ||Δw|| / ||w||: the size of one optimizer step's update Δw = w_after - w_before (the
    update, not the raw gradient: the optimizer's learning rate and moments are in it)
    relative to the weights, averaged over the steps measured. Around 1e-3 is the usual
    healthy rate (Karpathy, CS231n); 1e-1 means the steps are too large, 1e-6 that the
    layer has stopped learning.
``dead_relu/<layer>``
    For a layer with a ReLU (its own, or ``activation='relu'``): the fraction of units
    (channels for images) that output 0 for every training sample of the epoch. A dead
    unit gets no gradient, so it never comes back.

And the distributions, per layer and epoch, in ``stats.histograms`` (one number hides
the shape: a gradient can keep its norm while most of its entries vanish):

``'weight_gradient'``
    log10 |dL/dw| of the layer's weight-gradient entries (a fixed random sample of 10,000 for a
    larger layer), over the measured steps.
``'activation'``
    the values of each layer's output y in the measured training steps (fit's
    ``on_train_layer_output`` hook; at most 10,000 values per layer and step). Saturated
    tanh/sigmoid units show as activations piled at +-1 (or 0 and 1); for the output layer
    paired with its loss these are the logits z. The bins keep the width they had at the
    first step and grow to cover every later value (``GrowingHistogram``): nothing is
    clipped into an end bin, so a pile at the edge is a real one.
``'output_gradient'`` (with ``sample=(x, y)``)
    at each epoch's end, one forward and backward pass of the model on ``sample`` (in
    inference mode, through the model's public ``forward`` / ``backward`` hooks): log10
    |dL/dy| of the gradient arriving at each layer's output. Vanishing gradients show as
    these histograms sliding left layer by layer towards the input.

Each histogram is a ``Histogram(counts, zeros, edges)``: the counts, the fraction of exact
zeros (log10 |0| has no bin) and the bin edges.

Cost: the gradient norms are a few norms per batch; the update ratio and the gradient
histograms need a copy of the weights before the step and a histogram after it, so they
are measured every ``every``-th batch (default every 10th); the dead-ReLU record is one
``any`` over each ReLU's output per batch (fit's ``on_train_layer_output`` hook); the
sample pass is one small batch per epoch.
"""
from typing import NamedTuple

import numpy as np

from ..core.checks import check_int, invalid
from ..core.layers.activations import ReLU
from ..core.callbacks.base import Callback

# log10 |g|: quarter-decade bins from 1e-45 (float32's smallest number) to 1e10: nothing real is clipped
LOG_EDGES = np.linspace(-45.0, 10.0, 221)
ACTIVATION_BINS = 40                        # at the first step; the bins keep that width and grow
MAX_ACTIVATION_BINS = 400                   # beyond, neighbouring bins are merged two by two


class Histogram(NamedTuple):
    counts: np.ndarray
    zeros: float           # the fraction of exact zeros
    edges: np.ndarray


class GrowingHistogram:
    """Counts on bins of one width that grow to cover every value added: no value is clipped.

    The width is set by the first values (``bins`` bins over their range); later values outside
    the edges add bins on that side. Past ``max_bins`` bins, neighbours merge two by two (the
    width doubles), which is exact: the new edges are a subset of the old.
    """

    def __init__(self, values, bins=ACTIVATION_BINS, max_bins=MAX_ACTIVATION_BINS):
        low, high = float(values.min()), float(values.max())
        pad = 0.05 * (high - low) or 1.0
        self.start, self.width = low - pad, (high - low + 2 * pad) / bins
        self.counts = np.zeros(bins)
        self.max_bins = max_bins

    @property
    def edges(self):
        return self.start + self.width * np.arange(len(self.counts) + 1)

    def add(self, values):
        low, high = float(values.min()), float(values.max())
        if low < self.start:                                   # new bins below
            extra = int(np.ceil((self.start - low) / self.width)) + 1
            self.counts = np.concatenate([np.zeros(extra), self.counts])
            self.start -= extra * self.width
        if high >= self.edges[-1]:                             # and above
            extra = int(np.floor((high - self.edges[-1]) / self.width)) + 2
            self.counts = np.concatenate([self.counts, np.zeros(extra)])
        while len(self.counts) > self.max_bins:
            if len(self.counts) % 2:
                self.counts = np.append(self.counts, 0.0)
            self.counts = self.counts.reshape(-1, 2).sum(axis=1)
            self.width *= 2
        index = np.minimum(((values - self.start) // self.width).astype(np.int64), len(self.counts) - 1)
        self.counts += np.bincount(index, minlength=len(self.counts))


HISTOGRAM_ENTRIES = 10_000                  # a layer's weight-gradient histogram uses this many entries at most


def log_histogram(values):
    """``(counts, zero_fraction)`` of log10 |values| over ``LOG_EDGES``; values beyond them (below float32's
    smallest number, above 1e10) in the end bins."""
    values = np.abs(np.asarray(values, dtype=np.float64).ravel())
    nonzero = values[values > 0]
    logs = np.clip(np.log10(nonzero), LOG_EDGES[0], LOG_EDGES[-1]) if nonzero.size else nonzero
    counts, _ = np.histogram(logs, bins=len(LOG_EDGES) - 1, range=(LOG_EDGES[0], LOG_EDGES[-1]))
    return counts, (1.0 - nonzero.size / values.size) if values.size else 0.0


class GradientStats(Callback):
    """Records each layer's gradient norm, update ratio ||Δw|| / ||w||, dead-ReLU fraction and histograms.

    Args:
        every: measure the update ratio and the weight-gradient histograms on every
            ``every``-th batch of an epoch (its first batch included).
        sample: optional ``(x, y)``, a small batch (a few hundred samples) on which each
            layer's output gradients are histogrammed at every epoch's end.
    """

    def __init__(self, every=10, sample=None):
        super().__init__()
        self.every = check_int(every, "every", minimum=1, owner="GradientStats")
        if sample is not None and not (isinstance(sample, (tuple, list)) and len(sample) == 2):
            raise invalid("sample", "a pair (x, y) of a small batch", sample, owner="GradientStats")
        self.sample = sample
        self.histograms = {}
        self.logits_layer = None

    def on_train_begin(self, logs=None):
        layers = self.model.layers
        self.weighted = [layer for layer in layers if layer.trainable_weights]
        self.relus = {layer.name for layer in layers for part in (layer, getattr(layer, "activation", None))
                      if isinstance(part, ReLU)}
        # Where each layer's weights are copied before a measured step.
        self.before = {layer.name: [np.empty_like(p.data) for p in layer.trainable_weights]
                       for layer in self.weighted}
        self.histograms = {layer.name: {} for layer in layers}
        # NOTE: a fixed random sample of each layer's gradient entries: the histogram's shape from
        # 10,000 entries is the whole layer's, at a 70th of the cost for the cca MLP's 669,706.
        sample_rng = np.random.default_rng(0)
        self.entries = {}
        for layer in self.weighted:
            size = sum(p.data.size for p in layer.trainable_weights)
            self.entries[layer.name] = (None if size <= HISTOGRAM_ENTRIES
                                        else np.sort(sample_rng.choice(size, HISTOGRAM_ENTRIES, replace=False)))
        self.activation_bins = {}                 # layer -> GrowingHistogram: its bin width is kept across epochs
        self.logits_layer = layers[-1].name if self.model.loss_takes_logits else None
        self.measuring = False

    def on_epoch_begin(self, epoch, logs=None):
        self.grad_norm_sums = dict.fromkeys((layer.name for layer in self.weighted), 0.0)
        self.ratio_sums = dict.fromkeys(self.grad_norm_sums, 0.0)
        self.gradient_counts = {name: np.zeros(len(LOG_EDGES) - 1) for name in self.grad_norm_sums}
        self.gradient_zeros = dict.fromkeys(self.grad_norm_sums, 0.0)
        self.activation_counts, self.activation_zeros = set(), {}
        self.batches = 0
        self.measured = 0
        self.alive = {name: None for name in self.relus}

    def on_train_batch_begin(self, batch, logs=None):
        self.measuring = batch % self.every == 0
        if self.measuring:
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
                counts, zeros = log_histogram(self._gradient_entries(layer))
                self.gradient_counts[layer.name] += counts
                self.gradient_zeros[layer.name] += zeros

    def on_train_layer_output(self, layer, x, y):
        """Called by fit's training step after each layer's forward (``Model.forward``'s ``on_layer``)."""
        if layer.name in self.relus:
            positive = y > 0  # the layer's output went through its ReLU
            # A unit (a channel, for images) is alive in this batch if any sample activates it.
            alive = positive.reshape(-1, positive.shape[-1]).any(axis=0)
            previous = self.alive[layer.name]
            self.alive[layer.name] = alive if previous is None else previous | alive
        if self.measuring:
            values = np.asarray(y.ravel()[::max(1, y.size // HISTOGRAM_ENTRIES)], dtype=np.float64)
            if layer.name not in self.activation_bins:
                self.activation_bins[layer.name] = GrowingHistogram(values)
            elif layer.name not in self.activation_counts:      # a new epoch: start from zero, same bins
                self.activation_bins[layer.name].counts[:] = 0
            self.activation_bins[layer.name].add(values)
            self.activation_counts.add(layer.name)
            self.activation_zeros[layer.name] = self.activation_zeros.get(layer.name, 0.0) + float((values == 0).mean())

    @property
    def activation_edges(self):
        """The current bin edges of each layer's activation histogram."""
        return {name: bins.edges for name, bins in self.activation_bins.items()}

    def _gradient_entries(self, layer):
        """The layer's gradient entries the histogram uses (all of them, or the fixed sample)."""
        picked = self.entries[layer.name]
        if picked is None:
            return np.concatenate([p.grad.ravel() for p in layer.trainable_weights])
        parts, offset = [], 0
        for p in layer.trainable_weights:
            inside = picked[(picked >= offset) & (picked < offset + p.grad.size)] - offset
            parts.append(p.grad.ravel()[inside])
            offset += p.grad.size
        return np.concatenate(parts)

    def _record(self, name, kind, counts, zeros, edges=LOG_EDGES):
        self.histograms[name].setdefault(kind, []).append(Histogram(np.array(counts), zeros, np.array(edges)))

    def _sample_gradients(self):
        """dL/d(output) of each layer on ``sample``, through the model's public step."""
        x, y = self.sample
        gradients = {}
        model = self.model
        z = model.forward(np.asarray(x, dtype=np.float32), training=False, logits=True)
        model.compute_loss(self.model_targets(y), z)
        model.backward(model.loss.backward(), input_gradient=True,
                       on_layer=lambda layer, dout, dx: gradients.__setitem__(layer.name, dout))
        return gradients

    def model_targets(self, y):
        y = np.asarray(y)
        return y if y.dtype.kind in "iu" else y.astype(np.float32)

    def on_epoch_end(self, epoch, logs=None):
        if logs is None or self.batches == 0:
            return
        for layer in self.weighted:
            logs[f"grad_norm/{layer.name}"] = self.grad_norm_sums[layer.name] / self.batches
            if self.measured:
                logs[f"update_ratio/{layer.name}"] = self.ratio_sums[layer.name] / self.measured
                self._record(layer.name, "weight_gradient", self.gradient_counts[layer.name],
                             self.gradient_zeros[layer.name] / self.measured)
        for name, alive in self.alive.items():
            if alive is not None:
                logs[f"dead_relu/{name}"] = float(1.0 - alive.mean())
        for name in self.activation_counts:
            bins = self.activation_bins[name]
            self._record(name, "activation", bins.counts, self.activation_zeros[name] / self.measured, bins.edges)
        if self.sample is not None:
            for name, values in self._sample_gradients().items():
                self._record(name, "output_gradient", *log_histogram(values))


STATS = (("grad_norm", "gradient norm ||dL/dw||", True),
         ("update_ratio", "update ratio ||Δw|| / ||w||", True),
         ("dead_relu", "dead ReLU fraction", False))
HISTOGRAMS = (("weight_gradient", "log10 |dL/dw|"), ("activation", "activation y"),
              ("output_gradient", "log10 |dL/dy|"))


def plot_gradient_stats(history, path=None, stats=None):
    """Plot what ``GradientStats`` recorded: one panel per statistic, one line per layer; and histograms.

    ``history``: the ``History`` that ``fit`` returned (or its ``.history`` dict). The norms
    and the update ratio ||Δw|| / ||w|| are drawn on a log scale, where vanishing or exploding
    shows as a steady slope; epochs are integer ticks. ``stats``: the ``GradientStats`` callback
    itself, to add its per-layer histograms (one line per epoch, light to dark). Returns the
    matplotlib Figure; saves it when given ``path``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    history = getattr(history, "history", history)
    if not isinstance(history, dict):
        raise invalid("history", "a History or its .history dict", history, error=TypeError)
    panels = [(prefix, title, log) for prefix, title, log in STATS
              if any(key.startswith(prefix + "/") for key in history)]
    if not panels:
        raise ValueError("The history holds no gradient statistics: pass callbacks=[GradientStats()] to fit. "
                         f"Received keys: {sorted(history)}")
    kinds = 0 if stats is None else sum(any(kind in h for h in stats.histograms.values()) for kind, _ in HISTOGRAMS)
    figure = plt.figure(figsize=(max(5.5 * len(panels), 13 if kinds else 0), 4 + 3.2 * kinds))
    grid = figure.add_gridspec(1 + kinds, 1)
    top = grid[0].subgridspec(1, len(panels))
    for i, (prefix, title, log) in enumerate(panels):
        ax = figure.add_subplot(top[i])
        for key, values in history.items():
            if key.startswith(prefix + "/"):
                ax.plot(np.arange(1, len(values) + 1), values, marker="o", label=key.split("/", 1)[1])
        if log:
            ax.set_yscale("log")
        ax.set_title(title)
        ax.set_xlabel("Epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(loc="best", fontsize=8)
    if kinds:
        _histograms(figure, grid, stats)
    figure.tight_layout()
    if path is not None:
        figure.savefig(path)
    return figure


def coarsened(counts, edges, bins=ACTIVATION_BINS):
    """At most about ``bins`` bins, by adding neighbours k at a time (exact: the edges are a subset)."""
    k = int(np.ceil(len(counts) / bins))
    if k <= 1:
        return counts, edges
    padded = np.concatenate([counts, np.zeros(-len(counts) % k)])
    width = edges[1] - edges[0]
    return padded.reshape(-1, k).sum(axis=1), edges[0] + width * k * np.arange(len(padded) // k + 1)


def _histograms(figure, grid, stats):
    """Below the lines: one row per histogram kind, one panel per layer, one line per epoch (dark to light).

    The gradient rows share their axes: the same decades left to right in every panel, so a
    gradient shrinking towards the input shows as the curves sliding left from panel to panel.
    The activation row gives each layer its own x-range (a ReLU's outputs and the logits do not
    compare) and plots densities, since a layer's bins grow wider when its values spread.
    """
    import matplotlib.pyplot as plt
    rows = [(kind, label) for kind, label in HISTOGRAMS
            if any(kind in per_layer for per_layer in stats.histograms.values())]
    for row, (kind, label) in enumerate(rows, 1):
        names = [name for name, per_layer in stats.histograms.items() if kind in per_layer]
        sub = grid[row].subgridspec(1, len(names), wspace=0.08 if kind != "activation" else 0.3)
        shared = None
        if kind != "activation":                       # the decades that hold values, in any layer
            used = np.flatnonzero(sum(h.counts for name in names for h in stats.histograms[name][kind]))
            centres = (LOG_EDGES[:-1] + LOG_EDGES[1:]) / 2
            span = (centres[used[0]] - 0.5, centres[used[-1]] + 0.5) if used.size else (LOG_EDGES[0], LOG_EDGES[-1])
        for i, name in enumerate(names):
            ax = figure.add_subplot(sub[i], sharex=shared, sharey=shared)
            if kind != "activation" and shared is None:
                shared = ax
            epochs = stats.histograms[name][kind]
            colors = plt.cm.viridis(np.linspace(0.0, 0.9, len(epochs)))
            for epoch, (histogram, color) in enumerate(zip(epochs, colors), 1):
                counts, edges = coarsened(histogram.counts, histogram.edges) if kind == "activation" else \
                    (histogram.counts, histogram.edges)
                share = counts / (counts.sum() or 1)
                heights = share / np.diff(edges) if kind == "activation" else share
                ax.stairs(heights, edges, color=color, linewidth=1.1,
                          label=f"epoch {epoch}" if epoch in (1, len(epochs)) and i == 0 else None)
            title = label
            if kind == "activation" and name == stats.logits_layer:
                title = "logits z"
            zeros = epochs[-1].zeros
            ax.set_title(f"{name}: {title}" + (f" ({100 * zeros:.0f} % zeros)" if zeros else ""), fontsize=8.5)
            if kind != "activation":
                ax.set_xlim(*span)
                if i:
                    ax.tick_params(labelleft=False)
            ax.tick_params(labelsize=8)
            if i == 0:
                ax.set_ylabel("density" if kind == "activation" else "share of entries", fontsize=8.5)
                ax.legend(fontsize=8, loc="upper left")
