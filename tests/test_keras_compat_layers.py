"""Layer arguments and activations Keras users write, each in a snippet as they write it."""
import math

import numpy as np
import pytest

import tinynet
from tinynet import constraints, layers, models, regularizers
from tinynet.gradcheck import check_layer, check_model

RNG = np.random.default_rng(0)


def away_from_kinks(shape, scale=2.0):
    x = RNG.normal(size=shape) * scale
    x[np.abs(x) < 0.05] = 0.3                                      # relu-like kinks at 0
    x[np.abs(np.abs(x) - 3) < 0.05] = 1.0                          # hard_sigmoid's kinks at -3, 3
    return x


# ----- activations ---------------------------------------------------------------
@pytest.mark.parametrize("name", ["elu", "selu", "swish", "silu", "gelu", "leaky_relu", "softplus", "softsign",
                                  "hard_sigmoid", "exponential"])
def test_activation_by_name_gradient_check(name):
    layer = layers.Dense(4, activation=name, input_shape=(3,))
    result = check_layer(layer, away_from_kinks((5, 3), 1.0), verbose=False)
    assert result.passed, result.table()


@pytest.mark.parametrize("layer", [layers.LeakyReLU(), layers.LeakyReLU(alpha=0.1), layers.ELU(alpha=0.5),
                                   layers.PReLU(alpha_initializer="glorot_uniform"), layers.GELU(approximate=True)],
                         ids=["LeakyReLU", "LeakyReLU-alpha", "ELU", "PReLU", "GELU-tanh"])
def test_activation_layers_gradient_check(layer):
    result = check_layer(layer, away_from_kinks((4, 5)), verbose=False)
    assert result.passed, result.table()


def test_activation_values_by_hand():
    x = np.array([[-2.0, 0.0, 1.5]])
    assert np.allclose(layers.Activation("elu")(x), [[math.exp(-2) - 1, 0, 1.5]])
    assert np.allclose(layers.LeakyReLU()(x), [[-0.6, 0, 1.5]])                     # Keras 3 layer default 0.3
    assert np.allclose(layers.Activation("leaky_relu")(x), [[-0.4, 0, 1.5]])        # the function's 0.2
    assert np.allclose(layers.Activation("softplus")(x), np.log1p(np.exp(x)))
    assert np.allclose(layers.Activation("softsign")(x), [[-2 / 3, 0, 0.6]])
    assert np.allclose(layers.Activation("hard_sigmoid")(x), [[0.5 - 1 / 3, 0.5, 0.75]])
    assert np.allclose(layers.Activation("swish")(x), x / (1 + np.exp(-x)))
    assert np.allclose(layers.Activation("gelu")(x), [[-2 * 0.0227501319, 0, 1.5 * 0.9331927987]])
    selu = layers.Activation("selu")(x)
    assert selu[0, 2] == pytest.approx(1.0507009873554805 * 1.5)


def test_prelu_shared_axes_on_images():
    layer = layers.PReLU(shared_axes=[1, 2])
    model = models.Sequential([layers.Conv2D(4, 3, input_shape=(6, 6, 1)), layer])
    assert layer.alpha.shape == (1, 1, 4) and model.count_params() == 40 + 4
    result = check_layer(layers.PReLU(shared_axes=[1, 2], alpha_initializer="glorot_uniform"),
                         away_from_kinks((2, 3, 3, 2)), verbose=False)
    assert result.passed, result.table()


# ----- regularizers and constraints ----------------------------------------------------
def regularized_model():
    model = models.Sequential([
        layers.Dense(4, activation="tanh", input_shape=(3,), kernel_regularizer=regularizers.l2(0.01),
                     bias_regularizer=regularizers.l1(0.02)),
        layers.Dense(2, activation="softmax", kernel_regularizer=regularizers.l1_l2(l1=0.01, l2=0.01)),
    ])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    return model


def test_regularizer_penalty_is_in_the_reported_loss():
    model = regularized_model()
    x, y = RNG.normal(size=(6, 3)), np.eye(2)[RNG.integers(0, 2, 6)]
    k1, b1, k2 = model.layers[0].kernel.data, model.layers[0].bias.data, model.layers[1].kernel.data
    penalty = 0.01 * np.sum(k1 ** 2) + 0.02 * np.sum(np.abs(b1)) + 0.01 * np.sum(np.abs(k2)) + 0.01 * np.sum(k2 ** 2)
    assert model.regularization_loss() == pytest.approx(penalty, rel=1e-6)
    plain = model.loss.forward(y, model.forward(x, logits=True))
    assert model.evaluate(x, y, verbose=0) == pytest.approx(plain + penalty, rel=1e-5)


def test_regularizer_gradients_checked():
    model = regularized_model()
    model.layers[0].bias.data[...] = [0.5, -0.5, 0.25, -0.25]       # l1 on the bias: away from its kink at 0
    result = check_model(model, RNG.normal(size=(6, 3)), np.eye(2)[RNG.integers(0, 2, 6)], verbose=False)
    assert result.passed, result.table()


def test_kernel_constraint_holds_after_fit():
    model = models.Sequential([layers.Dense(8, input_shape=(4,), kernel_constraint=constraints.max_norm(0.5)),
                               layers.Dense(1, kernel_constraint="non_neg")])
    model.compile(optimizer=tinynet.optimizers.SGD(learning_rate=0.05), loss="mse")
    model.fit(RNG.normal(size=(64, 4)), RNG.normal(size=(64, 1)), epochs=3, verbose=0)
    norms = np.sqrt((model.layers[0].kernel.data ** 2).sum(axis=0))
    assert np.all(norms <= 0.5 + 1e-6)
    assert np.all(model.layers[1].kernel.data >= 0)


def test_activity_regularizer_penalty_and_gradients():
    # Keras's documented example: Dense(5, kernel 'ones', kernel L1(0.01), activity L2(0.01)) on a (5, 5) batch
    # of 2.0: outputs are 10, the activity penalty 0.01 * 25 * 100 / 5 = 5 (divided by the batch size), the
    # kernel's 0.01 * 25 = 0.25: 5.25 in all.
    layer = layers.Dense(5, input_dim=5, kernel_initializer="ones", kernel_regularizer=regularizers.L1(0.01),
                         activity_regularizer=regularizers.L2(0.01))
    model = models.Sequential([layer])
    model.forward(np.full((5, 5), 2.0))
    assert model.regularization_loss() == pytest.approx(5.25)
    tinynet.set_random_seed(0)
    model = models.Sequential([layers.Dense(4, activation="tanh", input_shape=(3,),
                                            activity_regularizer=regularizers.l1_l2(0.01, 0.02)),
                               layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    result = check_model(model, RNG.normal(size=(6, 3)), np.eye(2)[RNG.integers(0, 2, 6)], verbose=False)
    assert result.passed, result.table()


# ----- other layer arguments ------------------------------------------------------------
def test_dropout_seed_draws_the_same_masks():
    x = np.ones((4, 10), np.float32)
    a = layers.Dropout(0.5, seed=7)
    b = layers.Dropout(0.5, seed=7)
    tinynet.set_random_seed(1)
    first = a(x, training=True)
    tinynet.set_random_seed(2)                                      # the global seed does not matter
    assert np.array_equal(first, b(x, training=True))


def test_conv2d_channels_first_and_dilation_are_refused_clearly():
    layers.Conv2D(8, 3, data_format="channels_last")
    with pytest.raises(ValueError, match="channels-last"):
        layers.Conv2D(8, 3, data_format="channels_first")
    with pytest.raises(ValueError, match="channels-last"):
        layers.MaxPooling2D(data_format="channels_first")
    with pytest.raises(ValueError, match="dilat"):
        layers.Conv2D(8, 3, dilation_rate=2)
    layers.Conv2D(8, 3, dilation_rate=(1, 1))


def test_initializers_by_keras_short_names():
    tinynet.set_random_seed(0)
    normal = layers.Dense(1000, kernel_initializer="normal", input_shape=(100,))
    uniform = layers.Dense(1000, kernel_initializer="uniform", input_shape=(100,))
    models.Sequential([normal]), models.Sequential([uniform])
    assert normal.kernel.data.std() == pytest.approx(0.05, rel=0.02)
    assert np.abs(uniform.kernel.data).max() <= 0.05
    for name in ["lecun_normal", "he_uniform", "lecun_uniform", "glorot_normal"]:
        models.Sequential([layers.Dense(3, kernel_initializer=name, input_shape=(2,))])


# ----- Keras 1 spellings --------------------------------------------------------------
def test_keras1_convolution2d_and_friends():
    conv = layers.Convolution2D(32, 3, 3, border_mode="same", subsample=(2, 2), init="he_normal",
                                input_shape=(28, 28, 1))
    model = models.Sequential([conv, layers.MaxPooling2D(pool_size=(2, 2), border_mode="valid"),
                               layers.Flatten(), layers.Dense(output_dim=10, init="uniform"), layers.Dropout(p=0.5)])
    assert isinstance(conv, layers.Conv2D)
    assert (conv.kernel_size, conv.strides, conv.padding) == ((3, 3), (2, 2), "same")
    assert model.output_shape == (None, 10) and model.layers[3].units == 10 and model.layers[4].rate == 0.5
    assert layers.Convolution2D(16, (5, 5)).kernel_size == (5, 5)  # Keras 2's alias
    assert layers.Conv2D(8, 3, W_regularizer=regularizers.l2(0.1)).kernel_regularizer.l2 == 0.1
    with pytest.raises(ValueError, match="channels-last"):
        layers.Convolution2D(32, 3, 3, dim_ordering="th")
    with pytest.raises(TypeError, match="both"):
        layers.Dense(units=10, output_dim=10)


# ----- Input, calling and nesting models, utilities -----------------------------------
def test_keras_input_first_in_a_sequential():
    model = tinynet.Sequential([tinynet.Input(shape=(28, 28, 1)), layers.Conv2D(4, 3), layers.Flatten(),
                                layers.Dense(10)])
    assert model.input_shape == (None, 28, 28, 1) and model.output_shape == (None, 10)
    assert model.count_params() == 40 + 26 * 26 * 4 * 10 + 10
    assert layers.Input(shape=(784,)).shape == (None, 784)


def logits_model():
    tinynet.set_random_seed(0)
    model = models.Sequential([layers.Flatten(input_shape=(4, 4)), layers.Dense(8, activation="relu"),
                               layers.Dense(3)])
    model.compile(optimizer="adam", loss=tinynet.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def test_model_call_and_nesting_with_softmax():
    model = logits_model()
    x = RNG.normal(size=(5, 4, 4))
    logits = model(x)
    assert np.allclose(logits, model.predict(x))
    probability_model = models.Sequential([model, layers.Softmax()])
    p = probability_model(x)
    assert np.allclose(p, np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True), atol=1e-6)
    assert probability_model.count_params() == model.count_params()
    lines = []
    probability_model.summary(print_fn=lines.append)
    assert any(line.startswith(f" {model.name} (Sequential)") for line in lines)


def test_training_the_outer_model_trains_the_inner_one():
    model = logits_model()
    outer = models.Sequential([model, layers.Softmax()])
    outer.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    before = model.layers[1].kernel.data.copy()
    x, y = RNG.normal(size=(32, 4, 4)), RNG.integers(0, 3, 32)
    history = outer.fit(x, y, epochs=5, verbose=0)
    assert not np.allclose(before, model.layers[1].kernel.data)
    assert history.history["loss"][-1] < history.history["loss"][0]
    result = check_model(outer, x[:4], y[:4], verbose=False)
    assert result.passed, result.table()


def test_get_layer_pop_metrics_names():
    model = logits_model()
    assert model.get_layer(model.layers[1].name) is model.layers[1]
    assert model.get_layer(index=-1) is model.layers[-1]
    with pytest.raises(ValueError, match="No such layer"):
        model.get_layer("nope")
    assert model.metrics_names == ["loss", "accuracy"]
    last = model.pop()
    assert isinstance(last, layers.Dense) and len(model.layers) == 2 and model.output_shape == (None, 8)


def test_trainable_false_freezes_the_model_in_fit():
    model = logits_model()
    model.trainable = False
    model.compile(optimizer="adam", loss=tinynet.losses.SparseCategoricalCrossentropy(from_logits=True))
    before = model.get_weights()
    model.fit(RNG.normal(size=(16, 4, 4)), RNG.integers(0, 3, 16), epochs=2, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert model.trainable_weights == [] and len(model.non_trainable_weights) == 4


def test_to_json_writes_keras_sequential_form():
    import json
    model = models.Sequential([layers.Dense(4, activation="relu", input_shape=(3,), kernel_regularizer="l2"),
                               layers.Dropout(0.2, seed=1), layers.Dense(2, activation="softmax")])
    config = json.loads(model.to_json())
    assert config["class_name"] == "Sequential" and config["config"]["name"] == model.name
    assert [entry["class_name"] for entry in config["config"]["layers"]] == ["Dense", "Dropout", "Dense"]
    first = config["config"]["layers"][0]["config"]
    assert first["units"] == 4 and first["input_shape"] == [3] and first["kernel_regularizer"]["class_name"] == "L2"
    loading = pytest.importorskip("tinynet.io.loading")          # the files team's reader
    again = loading.model_from_json(model.to_json())
    assert [type(layer) for layer in again.layers] == [type(layer) for layer in model.layers]
    assert again.count_params() == model.count_params()


def test_a_nested_model_is_saved_with_its_architecture(tmp_path):
    outer = models.Sequential([logits_model(), layers.Softmax()])
    outer.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    outer.save(tmp_path / "nested.npz")
    again = tinynet.models.load_model(tmp_path / "nested.npz")
    x = np.random.default_rng(0).random((3, 4, 4), dtype=np.float32)
    np.testing.assert_array_equal(again.predict(x, verbose=0), outer.predict(x, verbose=0))


def test_inputs_and_outputs_describe_the_model():
    model = tinynet.Sequential([tinynet.layers.Dense(8, activation="relu", input_shape=(784,)),
                                tinynet.layers.Dense(10, activation="softmax")])
    (spec_in,), (spec_out,) = model.inputs, model.outputs
    assert spec_in.shape == (None, 784) and spec_out.shape == (None, 10)
    assert spec_in.dtype == spec_out.dtype == "float32"
    assert spec_out.name == model.layers[-1].name
    with pytest.raises(ValueError, match="not been built"):
        tinynet.Sequential([tinynet.layers.Dense(3)]).inputs


def test_metrics_names_before_compile_is_empty_for_chains_and_graphs():
    """Keras lists no loss and no metric for a model not yet compiled (a loaded file without compile
    settings is one): [] for a Sequential and for a model of two outputs, then the names once compiled."""
    from tinynet import keras
    chain = models.Sequential([layers.Dense(2, input_shape=(3,))])
    inputs = keras.Input(shape=(3,))
    hidden = layers.Dense(4)(inputs)
    graph = keras.Model(inputs, [layers.Dense(2, name="a")(hidden), layers.Dense(1, name="b")(hidden)])
    assert chain.metrics_names == [] and graph.metrics_names == []
    graph.compile(optimizer="sgd", loss=["mse", "mae"])
    assert graph.metrics_names == ["loss", "a_loss", "b_loss"]
