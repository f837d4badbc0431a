"""GradientStats: per-layer histograms of weight gradients, activations and output gradients; the plot."""
import numpy as np
import pytest

import tinynet
from tinynet import Sequential
from tinynet.callbacks import GradientStats
from tinynet.tools.gradient_stats import LOG_EDGES, GrowingHistogram, log_histogram
from tinynet.layers import Dense
from tinynet.plot import plot_gradient_stats


def data(n=64):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 6)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(int)


def model(activation="tanh"):
    m = Sequential([Dense(8, activation=activation, input_shape=(6,), name="h1"),
                    Dense(8, activation=activation, name="h2"), Dense(2, activation="softmax", name="out")])
    m.compile("adam", "sparse_categorical_crossentropy")
    return m


def test_log_histogram_counts_zeros_apart():
    counts, zeros = log_histogram(np.array([0.0, 1e-3, 1e-3, 10.0, 1e-20]))
    assert zeros == pytest.approx(0.2) and counts.sum() == 4
    assert counts[np.searchsorted(LOG_EDGES, -20.0, side="right") - 1] == 1      # 1e-20 in its own bin, not clipped
    assert counts[0] == 0
    assert counts[np.searchsorted(LOG_EDGES, -3.0, side="right") - 1] == 2


def test_activation_bins_grow_instead_of_clipping_later_values():
    first = np.linspace(-0.1, 0.1, 101)
    histogram = GrowingHistogram(first, max_bins=2000)
    width = histogram.width
    later = np.array([-3.0, 2.5, 0.0])                     # far outside the first step's range
    histogram.add(later)
    assert histogram.edges[0] <= -3.0 and histogram.edges[-1] > 2.5
    assert histogram.width == width and histogram.counts.sum() == 3
    assert histogram.counts[0] == 0 or histogram.edges[1] > -3.0       # -3 sits in a bin of its own width
    # past the bin limit, neighbours merge two by two: the counts are kept exactly
    histogram.add(np.array([1000.0]))
    assert len(histogram.counts) <= histogram.max_bins and histogram.counts.sum() == 4 and histogram.width > width
    assert histogram.edges[-1] > 1000


def test_histograms_per_layer_and_epoch():
    x, y = data()
    stats = GradientStats(every=1, sample=(x[:32], y[:32]))
    model().fit(x, y, batch_size=16, epochs=3, verbose=0, callbacks=[stats])
    for name in ("h1", "h2", "out"):
        per_layer = stats.histograms[name]
        assert set(per_layer) == {"weight_gradient", "activation", "output_gradient"}
        assert all(len(epochs) == 3 for epochs in per_layer.values())
        counts, zeros, edges = per_layer["weight_gradient"][0]
        assert counts.sum() > 0 and 0 <= zeros <= 1 and len(edges) == len(counts) + 1
        counts, _, _ = per_layer["activation"][-1]
        assert counts.sum() == 64 * (8 if name != "out" else 2)      # every step measured: 64 samples
    assert stats.logits_layer == "out"
    # tanh outputs lie in [-1, 1]: the activation bins of h1 span that range, not more
    edges = stats.activation_edges["h1"]
    assert -1.2 < edges[0] and edges[-1] < 1.2


def test_sample_pass_gradients_match_the_model_step():
    x, y = data()
    stats = GradientStats(sample=(x[:16], y[:16]))
    m = model()
    m.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[stats])
    # the output layer's dL/dz on the sample is (p - y) / N: its largest |entry| is at most 1/16
    counts, zeros, _ = stats.histograms["out"]["output_gradient"][0]
    top_bin = np.flatnonzero(counts).max()
    assert LOG_EDGES[top_bin] <= np.log10(1 / 16) + 1e-9


def test_the_plot_names_the_update_ratio_and_has_integer_epochs(tmp_path):
    x, y = data()
    stats = GradientStats(sample=(x[:32], y[:32]))
    history = model("relu").fit(x, y, batch_size=16, epochs=3, verbose=0, callbacks=[stats])
    figure = plot_gradient_stats(history, path=tmp_path / "stats.png", stats=stats)
    titles = [ax.get_title() for ax in figure.axes]
    assert "update ratio ||Δw|| / ||w||" in titles
    assert any(title.startswith("h1: log10 |dL/dw|") for title in titles)
    assert any(title.startswith("h2: activation y") for title in titles)
    assert any(title.startswith("out: logits z") for title in titles)
    # the gradient rows share their x-axis, so a slide towards the input can be seen panel to panel
    gradient_axes = [ax for ax in figure.axes if "log10 |dL/dy|" in ax.get_title()]
    assert len(gradient_axes) == 3 and len({ax.get_xlim() for ax in gradient_axes}) == 1
    assert min(ax.title.get_fontsize() for ax in figure.axes) >= 8
    assert any(title.startswith("h1: log10 |dL/dy|") for title in titles)
    ticks = figure.axes[0].get_xticks()
    assert np.allclose(ticks, np.round(ticks))
    assert (tmp_path / "stats.png").stat().st_size > 20_000


def test_sample_must_be_a_pair():
    with pytest.raises(ValueError, match="sample"):
        GradientStats(sample=np.ones((3, 2)))


def test_activation_histograms_need_no_sample():
    x, y = data()
    stats = GradientStats(every=2)
    model().fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[stats])
    assert set(stats.histograms["h1"]) == {"weight_gradient", "activation"}
    counts, _, _ = stats.histograms["h1"]["activation"][0]
    assert counts.sum() == 2 * 16 * 8                           # steps 0 and 2 of 4, 16 samples, 8 units
