"""tinynet.trace: one printed forward/backward pass that leaves the model untouched."""
import os
import sys

import numpy as np
import pytest

import tinynet
from conftest import REPO
from tinynet import Sequential, gradcheck, utils
from tinynet.tools import trace_plot
from tinynet.layers import Dense, Dropout, ReLU


def model_and_batch(loss="categorical_crossentropy"):
    tinynet.set_random_seed(3)
    model = Sequential([Dense(4, activation="relu", input_shape=(3,), name="hidden"), Dropout(0.5, name="drop"),
                        Dense(3, activation="softmax", name="out")])
    model.compile("adam", loss)
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    return model, x, np.eye(3, dtype=np.float32)[[0, 2]]


def test_trace_prints_each_layer_forward_then_backward():
    model, x, y = model_and_batch()
    lines = []
    trace = tinynet.trace(model, x, y, print_fn=lines.append)
    text = "\n".join(lines)
    assert str(trace) == text
    assert text.index("[1] hidden (Dense)   (2, 3) -> (2, 4)") < text.index("loss") < text.index("backward")
    assert "act: y = max(x, 0)" in text and "z = x @ w + b" in text
    assert "zeros after ReLU" in text and "p - y" in text and "dL/dz = (p - y) / N = (p - y) / 2" in text
    assert text.index("[3] out (Dense)\n") < text.index("[1] hidden (Dense)\n")
    assert lines[-1].startswith(f"loss {trace.loss:.6g}")


def test_trace_arrays_match_the_math():
    model, x, y = model_and_batch()
    trace = tinynet.trace(model, x, y, training=False, verbose=False)
    hidden, _, out = trace.layers
    w1, b1, w2, b2 = (w.astype(np.float64) for w in model.get_weights())
    h = np.maximum(x @ w1 + b1, 0)
    np.testing.assert_allclose(hidden.y, h, rtol=1e-6)
    z = h @ w2 + b2
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    np.testing.assert_allclose(trace.y_pred, p, rtol=1e-6)
    np.testing.assert_allclose(trace.p_minus_y, p - y, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(trace.loss, -np.log(p[[0, 1], [0, 2]]).mean(), rtol=1e-6)
    np.testing.assert_allclose(out.grads["out/kernel"], h.T @ ((p - y) / 2), rtol=1e-6, atol=1e-12)
    assert hidden.zero_fraction == pytest.approx((h == 0).mean()) and out.zero_fraction is None
    assert hidden.dx.shape == x.shape and hidden.dx_norm == pytest.approx(np.linalg.norm(hidden.dx))


def test_trace_gradients_agree_with_centred_differences():
    model, x, y = model_and_batch()
    model = tinynet.Sequential([layer for i, layer in enumerate(model.layers) if i != 1])  # no dropout: the loss below is the traced function
    model.compile("sgd", "categorical_crossentropy")
    trace = tinynet.trace(model, x, y, verbose=False)
    w1, b1, w2, b2 = (w.astype(np.float64) for w in model.get_weights())

    def loss():
        z = np.maximum(x @ w1 + b1, 0) @ w2 + b2
        log_p = z - z.max(1, keepdims=True) - np.log(np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True))
        return -(y * log_p).sum() / len(x)

    assert trace.loss == pytest.approx(loss(), rel=1e-6)
    for analytic, weight in [(trace.layers[0].grads["hidden/kernel"], w1), (trace.layers[1].grads["out/bias"], b2)]:
        assert gradcheck.relative_error(analytic, gradcheck.numerical_gradient(loss, weight)) < 1e-6


def test_trace_leaves_weights_optimizer_and_random_state_alone():
    model, x, y = model_and_batch()
    model.fit(x, y, epochs=1, verbose=0)             # the optimizer now has state
    weights = model.get_weights()
    state = {k: v.copy() for k, v in vars(model.optimizer).items() if isinstance(v, np.ndarray)}
    iterations = getattr(model.optimizer, "iterations", None)
    grads = [p.grad.copy() for p in model.trainable_weights]
    random_before = utils.rng().bit_generator.state
    tinynet.trace(model, x, y, verbose=False)
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights()))
    assert all(np.array_equal(a, p.grad) for a, p in zip(grads, model.trainable_weights))
    assert getattr(model.optimizer, "iterations", None) == iterations
    assert all(np.array_equal(v, getattr(model.optimizer, k)) for k, v in state.items())
    assert utils.rng().bit_generator.state == random_before


def test_sparse_labels_and_unfused_losses():
    model, x, y = model_and_batch("sparse_categorical_crossentropy")
    trace = tinynet.trace(model, x, np.array([0, 2]), verbose=False)
    np.testing.assert_array_equal(trace.y_true, np.eye(3)[[0, 2]])
    mse = Sequential([Dense(2, input_shape=(3,), name="lin")])
    mse.compile("sgd", "mse")
    lines = []
    trace = tinynet.trace(mse, x, np.zeros((2, 2)), print_fn=lines.append)
    assert not trace.fused and trace.p_minus_y is None
    assert any("dL/dy_pred = 2 (y_pred - y) / (N*K) = 2 (y_pred - y) / 4" in line for line in lines)
    np.testing.assert_allclose(trace.dloss, 2 * trace.y_pred / 4)


def test_trace_needs_a_compiled_model_and_checks_the_data_as_fit_does():
    with pytest.raises(RuntimeError, match="compile"):
        tinynet.trace(Sequential([ReLU(input_shape=(2,))]), np.ones((1, 2)), np.ones((1, 2)))
    model, x, y = model_and_batch()
    with pytest.raises(ValueError, match="same number of samples"):
        tinynet.trace(model, x, y[:1])


# ---------------------------------------------------------------- every stage, and the picture
def walkthrough_trace():
    sys.path.insert(0, os.path.join(REPO, "examples"))
    from backprop_walkthrough import LABELS, X, build_model
    return tinynet.trace(build_model(), X, tinynet.to_categorical(LABELS, 3), verbose=False), X


def test_dense_stages_are_the_walkthrough_equations():
    trace, x = walkthrough_trace()
    hidden, output = trace.layers
    w1 = hidden.layer.kernel.data
    z1 = x @ w1 + hidden.layer.bias.data
    np.testing.assert_allclose(hidden.stage("z").value, z1)
    np.testing.assert_array_equal(hidden.stage("mask").value, z1 > 0)
    p, y = trace.y_pred, trace.y_true
    np.testing.assert_allclose(trace.dloss, (p - y) / 2, atol=1e-12)
    np.testing.assert_allclose(output.stage("dz").value, (p - y) / 2, atol=1e-12)
    dz1 = hidden.stage("dz").value
    np.testing.assert_allclose(dz1, hidden.dout * (z1 > 0))
    np.testing.assert_allclose(hidden.stage("dw").value, x.T @ dz1, atol=1e-12)
    np.testing.assert_allclose(hidden.stage("dx").value, dz1 @ w1.T, atol=1e-12)
    text = "\n".join(trace.lines)
    for label in ("relu'(z) = [z > 0]", "dz = dy * [z > 0]", "dw = x^T @ dz", "dx = dz @ w^T", "p - y:"):
        assert label in text, label


def cnn_trace():
    sys.path.insert(0, os.path.join(REPO, "benchmarks"))
    from seed_models import tf2_cnn
    x = np.random.default_rng(0).random((2, 28, 28)).astype(np.float32)
    return tinynet.trace(tf2_cnn(), x, np.array([3, 7]), verbose=False)


def test_cnn_stages_im2col_winners_batch_norm_and_the_bias_before_it():
    trace = cnn_trace()
    conv, bn, pool = trace.layers[1], trace.layers[2], trace.layers[4]
    assert conv.stage("cols").shape == (2 * 28 * 28, 3 * 3 * 1)
    assert conv.stage("dcols").shape == (2 * 28 * 28, 9)
    w_col = conv.layer.kernel.data.reshape(9, 16)
    np.testing.assert_allclose(conv.stage("dcols").value, conv.stage("dz").value.reshape(-1, 16) @ w_col.T)
    np.testing.assert_allclose(conv.stage("dw").value.reshape(9, 16),
                               conv.stage("cols").value.T @ conv.stage("dz").value.reshape(-1, 16), atol=1e-10)
    # batch norm: xhat has mean 0, and dx matches the stages' formula
    xhat = bn.stage("xhat").value
    np.testing.assert_allclose(xhat.mean(axis=(0, 1, 2)), 0, atol=1e-10)
    m = 2 * 28 * 28
    x, mean, var = bn.x, bn.stage("mean").value, bn.stage("var").value
    dx = (bn.stage("dxhat").value / np.sqrt(var + bn.layer.epsilon) + bn.stage("dvar").value * 2 * (x - mean) / m
          + bn.stage("dmean").value / m)
    np.testing.assert_allclose(dx, bn.dx, rtol=1e-6, atol=1e-10)
    # max-pool: one winner per window, and dx is zero off the winners
    winners = pool.stage("winners").value
    assert winners.sum() == pool.y.size
    assert np.all(pool.dx[winners == 0] == 0)
    assert any(f"bias sits right before '{bn.name}'" in note for note in conv.notes)
    assert np.abs(conv.grads[conv.layer.bias.name]).max() < 1e-10


def figure_texts(figure):
    return [text for ax in figure.axes for text in ax.texts]


@pytest.mark.parametrize("which", ["walkthrough_mlp", "seed_cnn"])
def test_the_picture_is_a_graph_of_operations_with_values_and_gradients(which, tmp_path):
    import matplotlib.pyplot as plt
    trace = walkthrough_trace()[0] if which == "walkthrough_mlp" else cnn_trace()
    path = tmp_path / f"{which}.png"
    figure = trace.plot(path)
    assert path.stat().st_size > 20_000
    texts = figure_texts(figure)
    labels = {text.get_text() for text in texts}
    expected = {"x (input)", "@ w + b", "relu", "w", "b", "y (labels)"}
    if which == "seed_cnn":
        expected |= {"im2col 3x3", "mean", "x - mean", "var = mean(d^2)", "/ sqrt(var + eps)", "gamma * xhat + beta",
                     "max 2x2", "reshape", "gamma", "beta"}
    assert expected <= labels, expected - labels
    assert any(label.startswith("softmax + cross-entropy") for label in labels)
    # every text is readable on a printed page
    assert min(text.get_fontsize() for text in texts) >= 7.5
    # the gradients flow back along the arrows: dz of the output layer is the loss's (p - y) / N
    assert f"dz |{np.linalg.norm(trace.dloss):.3g}|" in labels
    # the zoom on one unit: the scalar circuit's gradients are a_i dL/dz and w_i dL/dz
    circuit = trace_plot.unit_circuit(trace)
    np.testing.assert_allclose(circuit["dw"], circuit["a"] * circuit["dz"])
    np.testing.assert_allclose(circuit["da"], circuit["w"] * circuit["dz"])
    assert any(title.startswith("one unit:") for title in (ax.get_title() for ax in figure.axes))
    plt.close(figure)


def test_batch_norm_is_drawn_with_its_forks_and_their_sums():
    from tinynet.tools import trace_graph
    trace = cnn_trace()
    graph = trace_graph.from_trace(trace)
    bn = trace.layers[2]
    forks = graph.forks()
    # x feeds mean and x - mean; d = x - mean feeds var and the division: two forks per batch norm
    assert {f"{trace.layers[1].name}/matmul", f"{bn.name}/sub"} <= set(forks)
    into_bn = forks[f"{trace.layers[1].name}/matmul"]
    assert {graph.op(e.dst).label for e in into_bn} == {"mean", "x - mean"}
    # the paths' gradients add up to the dx the layer's backward returned
    np.testing.assert_allclose(sum(e.grad for e in into_bn), bn.dx, rtol=1e-6, atol=1e-10)
    assert graph.flags == []


def test_a_batch_norm_whose_dx_misses_a_path_is_flagged():
    from tinynet.tools import trace_graph
    from tinynet.layers import BatchNormalization, Dense

    class ConstantStatistics(BatchNormalization):       # treats mean and var as constants in training
        def backward(self, dout):
            super().backward(dout)
            _, cache = self.cache
            return dout * cache.gamma / np.sqrt(cache.var + cache.epsilon)

    model = Sequential([Dense(4, input_shape=(3,), name="d"), ConstantStatistics(impl="naive", name="bn"),
                        Dense(2, activation="softmax", name="out")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    trace = tinynet.trace(model, np.random.default_rng(0).standard_normal((5, 3)), [0, 1, 0, 1, 1], verbose=False)
    graph = trace_graph.from_trace(trace)
    assert len(graph.flags) == 1 and "'bn' returned a dx of" in graph.flags[0][1]
    texts = {text.get_text() for text in figure_texts(trace.plot(show_unit=False))}
    assert any(text.startswith("!! the three paths sum to") for text in texts)


def test_a_block_fits_a_page_and_images_keep_their_aspect(tmp_path):
    import matplotlib.pyplot as plt
    trace = cnn_trace()
    paths = trace_plot.plot_trace_blocks(trace, str(tmp_path / "block{}.png"))
    assert len(paths) == 4 and all(os.path.getsize(p) > 20_000 for p in paths)
    figure = trace.plot(block=0)
    width, height = figure.get_size_inches()
    assert width <= 8.3 and height <= 11.7                          # an A4 page, portrait
    images = [inset for ax in figure.axes for inset in ax.child_axes if inset.images]
    assert len(images) >= 6
    for ax in images:
        assert ax.get_aspect() == 1.0                              # a 28x28 digit is drawn square
        h, w = ax.images[0].get_array().shape[:2]
        assert (h, w) in {(28, 28), (14, 14), (7, 7)}
    plt.close(figure)


# ---------------------------------------------------------------- what the code computed, and the flags
def find_the_bug_trace():
    sys.path.insert(0, os.path.join(REPO, "examples", "course"))
    import find_the_bug
    model = find_the_bug.buggy_model()
    return tinynet.trace(model, *find_the_bug.data(), verbose=False)


def test_the_trace_shows_the_buggy_dz_and_flags_it_at_its_stage():
    trace = find_the_bug_trace()
    middle = trace.layer("middle")
    dy, dz, z = middle.stage("dy").value, middle.stage("dz").value, middle.stage("z").value
    # the printed dz is what the forgetful ReLU returned (dy unmasked), not the textbook dy * [z > 0]
    np.testing.assert_array_equal(dz, dy)
    assert np.any((z <= 0) & (dy != 0))                 # so the mask would have changed it
    np.testing.assert_allclose(middle.stage("dz").expected, dy * (z > 0))
    # and what the layer then computed from it: its dw is x^T @ (that dz), as Dense's own backward does
    np.testing.assert_allclose(middle.stage("dw").value, middle.x.T @ dz, rtol=1e-10)
    assert [(label, key) for label, key, _ in trace.flags] == [("middle", "dz")]
    text = "\n".join(trace.lines)
    assert "!! dz disagrees with its equation dz = dy * [z > 0]" in text
    assert "1 stage(s) disagree with their equations: middle dz" in text


def test_a_wrong_dw_after_a_right_mask_is_flagged_at_dw_only():
    class AbsoluteDense(Dense):                 # dw = |x|^T @ dz: right on non-negative pixels only
        def backward(self, dz):
            dx = super().backward(dz)
            (x,) = self.cache
            self.kernel.grad[...] = np.abs(x).T @ dz
            return dx

    tinynet.set_random_seed(0)
    model = Sequential([AbsoluteDense(4, activation="relu", input_shape=(3,), name="bad"),
                        Dense(2, activation="softmax", name="out")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    x = np.random.default_rng(1).standard_normal((4, 3))
    trace = tinynet.trace(model, x, [0, 1, 1, 0], verbose=False)
    bad = trace.layer("bad")
    dz = bad.stage("dz").value
    np.testing.assert_allclose(dz, bad.stage("dy").value * (bad.stage("z").value > 0))   # the mask is right
    np.testing.assert_allclose(bad.stage("dw").value, np.abs(x).T @ dz, rtol=1e-10)    # the code's dw, shown
    np.testing.assert_allclose(bad.stage("dw").expected, x.T @ dz, rtol=1e-10)
    assert [(label, key) for label, key, _ in trace.flags] == [("bad", "dw")]


def test_correct_layers_are_not_flagged():
    walkthrough = walkthrough_trace()[0]
    assert walkthrough.flags == [] and walkthrough.layers[0].stage("dz").expected is not None
    trace = cnn_trace()
    assert trace.flags == []
    checked = [s for r in trace.layers for s in r.forward_stages + r.backward_stages if s.expected is not None]
    assert {s.key for s in checked} >= {"cols", "z", "mask", "dw", "db", "dx", "mean", "var", "dgamma"}


def test_a_conv_whose_dx_is_wrong_is_flagged_at_dx():
    from tinynet.layers import Conv2D, Flatten

    class TransposedConv(Conv2D):               # dx with the kernel flipped the wrong way
        def backward(self, dz):
            dx = super().backward(dz)
            return dx[:, ::-1, ::-1, :]

    tinynet.set_random_seed(0)
    model = Sequential([Conv2D(2, 3, input_shape=(5, 5, 1), name="c1"), TransposedConv(2, 2, name="c2"),
                        Flatten(), Dense(2, activation="softmax", name="out")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    trace = tinynet.trace(model, np.random.default_rng(0).standard_normal((2, 5, 5, 1)), [0, 1], verbose=False)
    assert [(label, key) for label, key, _ in trace.flags] == [("c2", "dx")]


def test_a_fast_twin_is_noted_once_and_shows_the_same_values():
    from tinynet.layers import BatchNormalization, Conv2D, Flatten, MaxPooling2D

    def model(impl):
        tinynet.set_random_seed(0)
        m = Sequential([Conv2D(3, 3, padding="same", input_shape=(6, 6, 2), impl=impl, name="conv"),
                        BatchNormalization(impl=impl, name="bn"), ReLU(name="relu"),
                        MaxPooling2D(2, impl=impl, name="pool"), Flatten(name="flat"),
                        Dense(2, activation="softmax", impl=impl, name="out")])
        m.compile("sgd", "sparse_categorical_crossentropy")
        return m

    x = np.random.default_rng(0).standard_normal((2, 6, 6, 2))
    fast, naive = (tinynet.trace(model(impl), x, [0, 1], verbose=False) for impl in ("fast", "naive"))
    notes = [line for line in fast.lines if line.startswith("note: fast twins ran")]
    assert len(notes) == 1 and "conv2d_forward (tinynet/fast/conv.py)" in notes[0] and \
        "batch_norm_backward (tinynet/fast/normalization.py)" in notes[0]
    assert not any(line.startswith("note: fast twins ran") for line in naive.lines)
    assert ("conv2d_backward", "tinynet/fast/conv.py") in fast.layer("conv").fast_ops
    for a, b in zip(fast.layers, naive.layers):
        for sa, sb in zip(a.forward_stages + a.backward_stages, b.forward_stages + b.backward_stages):
            assert sa.key == sb.key and sa.source == sb.source
            np.testing.assert_allclose(sa.value, sb.value, rtol=1e-9, atol=1e-12, err_msg=f"{a.name} {sa.key}")
    assert fast.flags == [] and naive.flags == []
    assert fast.layer("bn").stage("mean").source == "recorded"     # what the op returned, either twin


def test_an_unknown_layer_is_both_a_key_error_and_a_value_error():
    from tinynet.tools.trace import UnknownLayerError
    model, x, y = model_and_batch()
    trace = tinynet.trace(model, x, y, verbose=False)
    assert trace.layer("hidden").name == "hidden"
    for expected in (KeyError, ValueError, UnknownLayerError):
        with pytest.raises(expected) as error:
            trace.layer("hiden")
    message = str(error.value)
    assert "'hiden'" in message and "['hidden', 'drop', 'out']" in message
    with pytest.raises(KeyError, match="called 1 time"):
        trace.layer("hidden", call=1)
