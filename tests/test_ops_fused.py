"""The fused batch norm -> ReLU -> max-pool op against its reference, the three ops in a row."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from tinynet.gradcheck import numerical_gradient
from tinynet import ops
from tinynet.fast import fused

EPS = 1e-3


@st.composite
def blocks(draw):
    """A random block: z (float64), gamma of every sign (zero too), beta, pooling settings."""
    N, H, W, C = (draw(st.integers(1, 3)), draw(st.integers(2, 7)), draw(st.integers(2, 7)),
                  draw(st.integers(1, 4)))
    ph, pw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = min(ph, H), min(pw, W)
    strides = draw(st.sampled_from([None, (ph, pw), (ph + 1, pw), (max(ph - 1, 1), pw), (1, 1)]))
    padding = draw(st.sampled_from(["valid", "valid", "same"]))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    if draw(st.booleans()):
        z = rng.integers(-2, 3, (N, H, W, C)) * 0.5          # few values: many ties in each window
    else:
        z = rng.standard_normal((N, H, W, C)) * 3 + rng.standard_normal(C)
    gamma = rng.choice([-1.5, -0.3, 0.0, 0.7, 2.0], C) if draw(st.booleans()) else rng.standard_normal(C)
    beta = rng.standard_normal(C)
    return z, gamma, beta, (ph, pw), strides, padding, rng


def assert_same_gradients(got, want):
    for g, w, name in zip(got, want, ("dz", "dgamma", "dbeta")):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12, err_msg=name)


@given(blocks())
def test_fused_forward_and_backward_equal_the_reference(block):
    z, gamma, beta, pool_size, strides, padding, rng = block
    y_ref, mean_ref, var_ref, cache_ref = fused.unfused_forward(z, gamma, beta, EPS, pool_size, strides, padding)
    y, mean, var, cache = fused.fused_forward(z, gamma, beta, EPS, pool_size, strides, padding)
    np.testing.assert_allclose(y, y_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(mean, mean_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(var, var_ref, rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(y.shape)
    assert_same_gradients(fused.fused_backward(dout, cache), fused.unfused_backward(dout, cache_ref))


@given(blocks())
def test_fused_inference_and_its_backward_equal_the_reference(block):
    z, gamma, beta, pool_size, strides, padding, rng = block
    C = z.shape[-1]
    mean, var = rng.standard_normal(C), rng.random(C) + 0.1
    y_ref, cache_ref = fused.unfused_inference(z, gamma, beta, mean, var, EPS, pool_size, strides, padding)
    y, cache = fused.fused_inference(z, gamma, beta, mean, var, EPS, pool_size, strides, padding)
    np.testing.assert_allclose(y, y_ref, rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(y.shape)
    assert_same_gradients(fused.fused_backward(dout, cache), fused.unfused_backward(dout, cache_ref))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_is_bit_for_bit_the_layer_by_layer_result(dtype):
    # The fast batch norm rounds (z - mean) * (gamma * inv_std) + beta; the fused op rounds the
    # same expression on the pooled values, and every step of it is monotone: the same bits.
    # (The textbook reference rounds gamma * ((z - mean) / sqrt(var + eps)) + beta: equal to ~1 ulp.)
    rng = np.random.default_rng(0)
    z = (rng.standard_normal((8, 28, 28, 16)) * 2 + 1).astype(dtype)
    gamma = rng.standard_normal(16).astype(dtype)
    beta = rng.standard_normal(16).astype(dtype)
    fast = ops.get("fast")
    t, mean, var, _ = fast.batch_norm_forward(z, gamma, beta, EPS)
    want, _ = fast.maxpool2d_forward(np.maximum(t, 0), 2)
    y, mean_f, var_f, _ = fused.fused_forward(z, gamma, beta, EPS)
    np.testing.assert_array_equal(y, want)
    np.testing.assert_array_equal(mean_f, mean)
    np.testing.assert_array_equal(var_f, var)


@pytest.mark.parametrize("g", [2.0, -2.0, 0.0])
def test_ties_send_the_gradient_to_the_same_cell(g):
    # Every window holds its extreme twice, and some windows hold one value four times; with
    # gamma > 0 the first maximum wins, with gamma < 0 the first minimum, with gamma = 0 the
    # first cell (all cells tie after the map) -- as max-pool after the map decides.
    z = np.array([[1.0, 3.0, 2.0, 2.0],
                  [3.0, 0.0, 2.0, 2.0],
                  [0.0, 0.0, 5.0, -1.0],
                  [4.0, 4.0, -1.0, 5.0]]).reshape(1, 4, 4, 1)
    gamma, beta = np.array([g]), np.array([0.5])
    y_ref, _, _, cache_ref = fused.unfused_forward(z, gamma, beta, EPS)
    y, _, _, cache = fused.fused_forward(z, gamma, beta, EPS)
    np.testing.assert_allclose(y, y_ref, rtol=1e-12)
    dout = np.arange(1.0, 5.0).reshape(1, 2, 2, 1)
    dz, dgamma, dbeta = fused.fused_backward(dout, cache)
    dz_ref, dgamma_ref, dbeta_ref = fused.unfused_backward(dout, cache_ref)
    assert_same_gradients((dz, dgamma, dbeta), (dz_ref, dgamma_ref, dbeta_ref))
    winners = {2.0: [1, 0, 2, 0], -2.0: [3, 0, 0, 1], 0.0: [0, 0, 0, 0]}[g]  # di*2 + dj per window
    np.testing.assert_array_equal(fused.winners(cache).ravel(), winners)


def test_windows_that_are_zero_after_the_relu_pass_no_gradient_on_either_path():
    # beta pushes every output below 0: layer by layer, every cell of each window ties at 0
    # after the ReLU and the first one gets dout * relu'(u) = 0; fused, the max of z wins and
    # also gets 0. So dz is batch norm's correction alone, and dgamma = dbeta = 0.
    rng = np.random.default_rng(3)
    z = rng.standard_normal((2, 4, 4, 3))
    gamma, beta = np.array([1.0, -1.0, 0.5]), np.full(3, -10.0)
    y_ref, _, _, cache_ref = fused.unfused_forward(z, gamma, beta, EPS)
    y, _, _, cache = fused.fused_forward(z, gamma, beta, EPS)
    assert not y.any() and not y_ref.any()
    dout = rng.standard_normal(y.shape)
    dz, dgamma, dbeta = fused.fused_backward(dout, cache)
    assert_same_gradients((dz, dgamma, dbeta), fused.unfused_backward(dout, cache_ref))
    assert not dz.any() and not dgamma.any() and not dbeta.any()


@pytest.mark.parametrize("pool_size, strides, padding", [
    (2, None, "valid"), (3, 2, "valid"), ((2, 3), (2, 3), "valid"), (2, None, "same"), (2, 1, "same")])
def test_settings_the_fused_op_does_not_handle_run_the_reference(pool_size, strides, padding):
    z = np.random.default_rng(0).standard_normal((2, 7, 6, 2))
    gamma, beta = np.array([1.0, -0.5]), np.array([0.1, 0.2])
    _, _, _, cache = fused.fused_forward(z, gamma, beta, EPS, pool_size, strides, padding)
    expect_fused = fused.fusable(pool_size, strides, padding)
    assert isinstance(cache, fused.FusedCache) == expect_fused
    assert isinstance(cache, fused.UnfusedCache) == (not expect_fused)


@pytest.mark.parametrize("gamma", [np.array([1.3, -0.7, 0.05]), np.array([0.2, 1.0, -2.0])])
def test_fused_gradients_match_centred_differences(gamma):
    # Random z has no ties and no u exactly 0, so the block is differentiable there. gamma = 0
    # is a kink (the winner jumps from the max to the min of each window): avoided here.
    rng = np.random.default_rng(5)
    z = rng.standard_normal((2, 6, 5, 3))
    beta = np.array([0.3, -0.2, 0.1])
    gamma = gamma.copy()
    y, _, _, cache = fused.fused_forward(z, gamma, beta, EPS)
    dout = rng.standard_normal(y.shape)

    def f():
        return float((fused.fused_forward(z, gamma, beta, EPS)[0] * dout).sum())

    dz, dgamma, dbeta = fused.fused_backward(dout, cache)
    np.testing.assert_allclose(dz, numerical_gradient(f, z), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(dgamma, numerical_gradient(f, gamma), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(dbeta, numerical_gradient(f, beta), rtol=1e-5, atol=1e-8)


def test_float32_stays_float32():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((2, 4, 4, 3)).astype(np.float32)
    gamma, beta = np.ones(3, np.float32), np.zeros(3, np.float32)
    y, mean, var, cache = fused.fused_forward(z, gamma, beta, EPS)
    grads = fused.fused_backward(np.ones_like(y), cache)
    assert y.dtype == np.float32 and all(g.dtype == np.float32 for g in grads)


# ----- FusedBlock: the step a model runs in place of the three layers ------------------------
def seed_block_layers(impl="fast", trainable=True):
    from tinynet import layers
    run = [layers.BatchNormalization(impl=impl, trainable=trainable), layers.ReLU(),
           layers.MaxPooling2D(2, impl=impl)]
    shape = (6, 6, 3)
    for layer in run:
        layer.build(shape)
        shape = layer.compute_output_shape(shape)
    return run


def layer_by_layer(run, x, dout, training):
    for layer in run:
        x = layer.forward(x, training=training)
    for layer in reversed(run):
        dout = layer.backward(dout)
    return x, dout


@pytest.mark.parametrize("trainable", [True, False])
def test_fused_block_does_what_the_three_layers_do(trainable):
    from tinynet.fast.fused_block import FusedBlock, steps
    rng = np.random.default_rng(0)
    run = seed_block_layers(trainable=trainable)
    bn = run[0]
    bn.gamma.data[:] = [1.5, -0.5, 0.0]
    bn.beta.data[:] = [0.1, 0.2, -0.3]
    (block,) = steps(run)
    assert isinstance(block, FusedBlock) and block.layers == tuple(run)
    x = rng.standard_normal((4, 6, 6, 3)).astype(np.float32)
    dout = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    y, dx = layer_by_layer(run, x, dout, training=True)
    want = dict(y=y, dx=dx, dgamma=bn.gamma.grad.copy(), dbeta=bn.beta.grad.copy(), updates=bn.state_updates)
    bn.gamma.grad[:] = bn.beta.grad[:] = np.nan
    bn.state_updates = None
    y = block.forward(x, training=True)
    dx = block.backward(dout)
    np.testing.assert_allclose(y, want["y"], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(dx, want["dx"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bn.gamma.grad, want["dgamma"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(bn.beta.grad, want["dbeta"], rtol=1e-5, atol=1e-5)
    assert len(bn.state_updates) == len(want["updates"]) == (2 if trainable else 0)
    for (p, v), (p_want, v_want) in zip(bn.state_updates, want["updates"]):
        assert p is p_want
        np.testing.assert_allclose(v, v_want, rtol=1e-6)
    np.testing.assert_array_equal(bn.moving_mean.data, 0)  # recorded, not written: the model commits


def test_steps_fuse_only_fast_layers_with_settings_the_op_handles():
    from tinynet import layers
    from tinynet.fast.fused_block import FusedBlock, steps
    assert not any(isinstance(s, FusedBlock) for s in steps(seed_block_layers(impl="naive")))
    run = seed_block_layers()
    assert [type(s) for s in steps([layers.Flatten()] + run)] == [layers.Flatten, FusedBlock]
    overlapping = seed_block_layers()
    overlapping[2] = layers.MaxPooling2D(2, strides=1)
    overlapping[2].build((6, 6, 3))
    assert steps(overlapping) == overlapping
    assert steps(run[:2]) == run[:2]


# ----- inside a model ----------------------------------------------------------------------
def small_cnn(impl="fast", filters=(4, 6), size=12, use_bias=True):
    import tinynet
    from tinynet import layers, optimizers
    from tinynet.models import Sequential
    model = Sequential([layers.Reshape((size, size, 1), input_shape=(size, size))])
    for f in filters:
        model.add(layers.Conv2D(f, 3, padding="same", use_bias=use_bias))
        model.add(layers.BatchNormalization(impl=impl))
        model.add(layers.ReLU())
        model.add(layers.MaxPooling2D(2, impl=impl))
    for layer in (layers.Flatten(), layers.Dense(8, use_bias=use_bias), layers.BatchNormalization(), layers.ReLU(),
                  layers.Dense(10, activation="softmax")):
        model.add(layer)
    model.compile(optimizers.Adam(0.01), "sparse_categorical_crossentropy")
    return model


def test_a_model_trains_the_same_fused_and_layer_by_layer():
    import tinynet
    from tinynet.fast import fused_block
    rng = np.random.default_rng(0)
    x, y = rng.random((32, 12, 12)).astype(np.float32), rng.integers(0, 10, 32)
    # Without the biases before batch norm: there a bias has gradient 0 up to rounding, which Adam
    # scales up to whole steps, so it (and the moving mean it shifts) would differ run to run.
    tinynet.set_random_seed(0)
    fused_model = small_cnn(use_bias=False)
    tinynet.set_random_seed(0)
    plain = small_cnn(use_bias=False)
    fused_model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
    original, fused_block.steps = fused_block.steps, list   # the same model walking the layers one by one
    try:
        plain.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
        want = plain.predict(x)
    finally:
        fused_block.steps = original
    for a, b in zip(fused_model.weights, plain.weights):
        np.testing.assert_allclose(a.data, b.data, rtol=2e-3, atol=2e-4, err_msg=a.name)
    np.testing.assert_allclose(fused_model.predict(x), want, rtol=2e-3, atol=2e-4)


def test_summary_lists_the_layers_and_naive_turns_fusion_off():
    from tinynet.fast.fused_block import FusedBlock, steps
    lines = []
    model = small_cnn()
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert all(layer.name in text for layer in model.layers)
    assert sum(isinstance(s, FusedBlock) for s in steps(model.layers)) == 2
    assert not any(isinstance(s, FusedBlock) for s in steps(small_cnn(impl="naive").layers))


def test_the_trace_shows_each_layer_and_says_the_block_ran_fused():
    import tinynet
    rng = np.random.default_rng(0)
    model = small_cnn()
    trace = tinynet.trace(model, rng.random((2, 12, 12)), np.array([1, 2]), print_fn=lambda line: None)
    names = [record.name for record in trace.layers]
    bn, relu, pool = (trace.layers[names.index(layer.name)] for layer in model.layers[2:5])
    assert [bn.kind, relu.kind, pool.kind] == ["BatchNormalization", "ReLU", "MaxPooling2D"]
    fused = "ran fused: " + " -> ".join(layer.name for layer in model.layers[2:5])   # names count up per process
    assert all(any(note.startswith(fused) for note in record.notes) for record in (bn, relu, pool))
    # each layer's reported values chain into the next, and the pool's output is the block's output
    np.testing.assert_array_equal(relu.x, bn.y)
    np.testing.assert_array_equal(pool.x, relu.y)
    np.testing.assert_array_equal(pool.y, np.maximum(np.maximum(pool.x[:, ::2, ::2], pool.x[:, 1::2, ::2]),
                                                     np.maximum(pool.x[:, ::2, 1::2], pool.x[:, 1::2, 1::2])))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_refused_step_leaves_the_fused_batch_norm_bit_identical():
    import tinynet
    rng = np.random.default_rng(0)
    x, y = rng.random((16, 12, 12)).astype(np.float32), rng.integers(0, 10, 16)
    model = small_cnn()
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    bn = model.layers[2]
    assert not np.array_equal(bn.moving_mean.data, np.zeros_like(bn.moving_mean.data))  # committed steps moved it
    model.layers[1].kernel.data *= 1e21          # conv outputs ~1e21: their variance is inf in float32
    before = [p.data.copy() for p in model.weights]
    with pytest.raises(tinynet.TrainingDivergedError):
        model.train_on_batch(x, y)
    for a, b in zip(before, model.weights):
        assert a.tobytes() == b.data.tobytes()


# ----- the whole seed CNN, with and without fusion -------------------------------------------
@pytest.mark.parametrize("impl", ["fast", "naive"])
def test_seed_cnn_gradients_match_centred_differences(impl):
    # The seed CNN (benchmarks/seed_models.py, tf2) on 3 small images: impl='fast' runs its two
    # conv blocks fused, impl='naive' layer by layer; both through the model's public step.
    import tinynet
    from tinynet import gradcheck, layers, optimizers
    from tinynet.models import Sequential
    from tinynet.fast.fused_block import FusedBlock, steps
    tinynet.set_random_seed(0)
    model = Sequential([
        layers.Reshape((12, 12, 1), input_shape=(12, 12)),
        layers.Conv2D(4, 3, padding="same"), layers.BatchNormalization(impl=impl), layers.ReLU(),
        layers.MaxPooling2D(2, impl=impl),
        layers.Conv2D(6, 3, padding="same"), layers.BatchNormalization(impl=impl), layers.ReLU(),
        layers.MaxPooling2D(2, impl=impl),
        layers.Flatten(), layers.Dense(8), layers.BatchNormalization(), layers.ReLU(),
        layers.Dense(10, activation="softmax")])
    model.compile(optimizers.Adam(), "sparse_categorical_crossentropy")
    assert sum(isinstance(step, FusedBlock) for step in steps(model.layers)) == (2 if impl == "fast" else 0)
    rng = np.random.default_rng(1)
    x, y = rng.random((3, 12, 12)), rng.integers(0, 10, 3)
    result = gradcheck.check_model(model, x, y, verbose=False, max_entries=25)
    assert result.passed, result.table()
