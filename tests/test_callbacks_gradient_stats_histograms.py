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


def test_the_output_layers_histogram_holds_the_logits_the_loss_took():
    """'out: logits z' is what it says: the Dense's z before its softmax, not the probabilities."""
    x, y = data(32)
    x = 5 * x                                                   # logits spread over several units
    apart = Sequential([Dense(8, activation="tanh", input_shape=(6,), name="h1"), Dense(2, name="out"),
                        tinynet.layers.Softmax(name="p")])            # the softmax as a layer of its own
    apart.compile("adam", "sparse_categorical_crossentropy")
    for m in (model(), apart):
        z = m.forward(x, training=True, logits=True)             # the step's logits, before its update
        stats = GradientStats(every=1)
        m.fit(x, y, batch_size=32, epochs=1, verbose=0, shuffle=False, callbacks=[stats])
        counts, _, edges = stats.histograms["out"]["activation"][0]
        centres = (edges[:-1] + edges[1:]) / 2
        assert counts.sum() == z.size
        assert abs((counts * centres).sum() / counts.sum() - z.mean()) <= edges[1] - edges[0]
        assert edges[0] <= z.min() and z.max() < edges[-1] and z.max() - z.min() > 2    # not in [0, 1]


def test_a_graph_model_with_a_fork_gets_every_layers_histograms_on_shared_axes(tmp_path):
    x, y = data()
    inputs = tinynet.Input((6,))
    trunk = Dense(8, activation="relu", name="trunk")(inputs)
    left, right = Dense(8, activation="tanh", name="left")(trunk), Dense(8, activation="relu", name="right")(trunk)
    outputs = Dense(2, activation="softmax", name="out")(tinynet.layers.Add(name="sum")([left, right]))
    m = tinynet.Model(inputs, outputs)
    m.compile("adam", "sparse_categorical_crossentropy")
    stats = GradientStats(every=1, sample=(x[:32], y[:32]))
    history = m.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[stats])
    assert {k for k in history.history if k.startswith("grad_norm/")} == {f"grad_norm/{n}" for n in
                                                                          ("trunk", "left", "right", "out")}
    assert {k for k in history.history if k.startswith("dead_relu/")} == {"dead_relu/trunk", "dead_relu/right"}
    for name in ("trunk", "left", "right", "sum", "out"):
        per_layer = stats.histograms[name]
        assert per_layer["output_gradient"][-1].counts.sum() + per_layer["output_gradient"][-1].zeros * 32 * 8 \
            == pytest.approx(32 * (8 if name != "out" else 2))
        assert per_layer["activation"][-1].counts.sum() == 4 * 16 * (8 if name != "out" else 2)
    # the trunk's dL/dy is the sum of what both branches send back, and the histogram is of that sum
    douts, dxs = {}, {}

    def record(layer, dout, dx):
        douts[layer.name], dxs[layer.name] = dout, dx
    m.compute_loss(y[:32], m.forward(x[:32], training=False, logits=True))
    m.backward(m.loss.backward(), on_layer=record)
    np.testing.assert_allclose(douts["trunk"], dxs["left"] + dxs["right"], rtol=1e-6)
    assert np.abs(dxs["left"]).sum() > 0 and np.abs(dxs["right"]).sum() > 0
    counts, _ = log_histogram(douts["trunk"])
    np.testing.assert_array_equal(counts, stats.histograms["trunk"]["output_gradient"][-1].counts)
    figure = plot_gradient_stats(history, path=tmp_path / "graph.png", stats=stats)
    for kind in ("log10 |dL/dw|", "log10 |dL/dy|"):
        axes = [ax for ax in figure.axes if kind in ax.get_title()]
        assert len(axes) == (4 if "dw" in kind else 5) and len({ax.get_xlim() for ax in axes}) == 1, kind
