"""tinynet.trace: one printed forward/backward pass that leaves the model untouched."""
import numpy as np
import pytest

import tinynet
from tinynet import Sequential, gradcheck, utils
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
    assert "y = act(x @ W + b),  act: y = max(x, 0)" in text
    assert "zeros after ReLU" in text and "p - y" in text and "dL/dz = (p - y) / 2" in text
    assert text.index("[3] out (Dense)\n") < text.index("[1] hidden (Dense)\n")
    assert lines[-1].startswith(f"loss {trace.loss:.6g}")


def test_trace_arrays_match_the_math():
    model, x, y = model_and_batch()
    trace = tinynet.trace(model, x, y, training=False, verbose=False)
    hidden, _, out = trace.layers
    W1, b1, W2, b2 = (w.astype(np.float64) for w in model.get_weights())
    h = np.maximum(x @ W1 + b1, 0)
    np.testing.assert_allclose(hidden.y, h, rtol=1e-6)
    z = h @ W2 + b2
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
    model.layers.pop(1)  # no dropout, so the loss below is the traced function
    trace = tinynet.trace(model, x, y, verbose=False)
    W1, b1, W2, b2 = (w.astype(np.float64) for w in model.get_weights())

    def loss():
        z = np.maximum(x @ W1 + b1, 0) @ W2 + b2
        log_p = z - z.max(1, keepdims=True) - np.log(np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True))
        return -(y * log_p).sum() / len(x)

    assert trace.loss == pytest.approx(loss(), rel=1e-6)
    for analytic, weight in [(trace.layers[0].grads["hidden/kernel"], W1), (trace.layers[1].grads["out/bias"], b2)]:
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
    assert not trace.fused and trace.p_minus_y is None and any("dL/dy_pred" in line for line in lines)
    np.testing.assert_allclose(trace.dloss, 2 * trace.y_pred / 4)


def test_trace_needs_a_compiled_model():
    with pytest.raises(RuntimeError, match="compile"):
        tinynet.trace(Sequential([ReLU(input_shape=(2,))]), np.ones((1, 2)), np.ones((1, 2)))
