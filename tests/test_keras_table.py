"""The Keras ring's table (tinynet/keras/table.py), row by row: everything tinynet writes to a Keras file it reads back.

Every activation, every layer row (and every tinynet activation layer Keras has as a function),
every loss and every optimizer goes through ``model.save('m.h5')`` and ``model.save('m.keras')``
and ``load_model``: predictions bit-identical, configs equal, the optimizer's state and the next
training step identical. What a Keras file cannot hold is refused (a ValueError naming the layer
and the setting) or, for compile settings, left out with a warning naming it.
"""
import io
import warnings
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("h5py")

import tinynet  # noqa: E402
from tinynet import layers as L, losses, optimizers  # noqa: E402
from tinynet.core import constraints, regularizers  # noqa: E402
from tinynet.core.layers import activations  # noqa: E402
from tinynet.io.errors import KerasFileError, KerasFileWarning  # noqa: E402
from tinynet.keras import table  # noqa: E402

FORMATS = ["h5", "keras"]


def round_trip(model, tmp_path, suffix, **load):
    path = tmp_path / f"m.{suffix}"
    model.save(path)
    return tinynet.models.load_model(path, **load)


def random_weights(model, seed=0):
    """Weights of either sign and far from their initial values (a variance stays positive)."""
    rng = np.random.default_rng(seed)
    model.set_weights([rng.uniform(0.5, 1.5, p.shape) * (1 if p.name.endswith("variance") else
                                                          rng.choice([-1, 1], p.shape)) for p in model.weights])


def settings(layer):
    """A layer's config without what a Keras file keeps elsewhere (the input shape is the InputLayer's)."""
    return {key: value for key, value in layer.get_config().items() if key != "input_shape"}


# ----------------------------------------------------------------- every activation

@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("name", sorted(activations.ACTIVATIONS))
def test_every_activation_round_trips(tmp_path, name, suffix):
    model = tinynet.Sequential([L.Dense(3, activation=name, input_shape=(4,)), L.Activation(name)])
    random_weights(model)
    x = np.random.default_rng(1).standard_normal((6, 4)).astype(np.float32)
    if suffix == "h5" and name in table.KERAS2_DIFFERENT:
        with pytest.raises(ValueError, match=f"Keras 2's '{name}' is .*another function.*Save to a .keras file"):
            model.save(tmp_path / "m.h5")
        assert not list(tmp_path.iterdir())
        return
    copy = round_trip(model, tmp_path, suffix)
    assert np.array_equal(model.predict(x), copy.predict(x))
    assert [settings(layer) for layer in copy.layers] == [settings(layer) for layer in model.layers]


def test_keras_2_hard_sigmoid_is_refused_when_read(tmp_path):
    model = tinynet.Sequential([L.Dense(3, activation="hard_sigmoid", input_shape=(4,))])
    model.save(tmp_path / "m.keras")
    assert tinynet.models.load_model(tmp_path / "m.keras").layers[0].get_config()["activation"] == "hard_sigmoid"
    from tinynet.keras import file_config as config
    keras2 = {"class_name": "Sequential", "keras_version": "2.10.0", "config": {"layers": [
        {"class_name": "Dense", "config": {"name": "d", "units": 3, "activation": "hard_sigmoid",
                                          "batch_input_shape": [None, 4]}}]}}
    with pytest.raises(KerasFileError, match=r"Keras 2's activation 'hard_sigmoid', which is max\(0, min\(1, 0.2 x"):
        config.spec_from_config(keras2, "m.h5")


# ----------------------------------------------------------------- every layer

# One example of every row of table.LAYERS, with settings off their defaults, and its input shape.
LAYER_EXAMPLES = {
    "Dense": (lambda: L.Dense(4, activation="tanh", kernel_initializer="he_normal",
                              kernel_regularizer=regularizers.L1L2(0.01, 0.02), bias_regularizer=regularizers.L2(0.1),
                              activity_regularizer=regularizers.L1(0.001), kernel_constraint=constraints.MaxNorm(3.0),
                              bias_constraint=constraints.NonNeg()), (5,)),
    "Conv2D": (lambda: L.Conv2D(3, (3, 2), strides=(2, 1), padding="same", activation="relu", use_bias=False,
                                kernel_constraint=constraints.UnitNorm(axis=[0, 1, 2])), (6, 6, 2)),
    "MaxPooling2D": (lambda: L.MaxPooling2D((2, 3), strides=1, padding="same"), (5, 5, 2)),
    "AveragePooling2D": (lambda: L.AveragePooling2D(3, strides=2, padding="same"), (5, 5, 2)),
    "GlobalAveragePooling2D": (lambda: L.GlobalAveragePooling2D(), (3, 4, 2)),
    "BatchNormalization": (lambda: L.BatchNormalization(momentum=0.9, epsilon=0.01, center=False), (3, 3, 4)),
    "Dropout": (lambda: L.Dropout(0.3, seed=7), (5,)),
    "Flatten": (lambda: L.Flatten(), (2, 3, 2)),
    "Reshape": (lambda: L.Reshape((3, 2)), (6,)),
    "Activation": (lambda: L.Activation("softplus"), (5,)),
    "ReLU": (lambda: L.ReLU(), (5,)),
    "Softmax": (lambda: L.Softmax(), (5,)),
    "ELU": (lambda: L.ELU(alpha=0.5), (5,)),
    "LeakyReLU": (lambda: L.LeakyReLU(negative_slope=0.1), (5,)),
    "PReLU": (lambda: L.PReLU(shared_axes=[1]), (3, 4)),
    "Conv2DTranspose": (lambda: L.Conv2DTranspose(3, (3, 2), strides=(2, 2), padding="same", activation="relu",
                                                  output_padding=(1, 1)), (4, 4, 2)),
    "UpSampling2D": (lambda: L.UpSampling2D((2, 3), interpolation="bilinear"), (3, 3, 2)),
    "ZeroPadding2D": (lambda: L.ZeroPadding2D(((1, 0), (2, 1))), (3, 3, 2)),
    "Cropping2D": (lambda: L.Cropping2D(((1, 0), (0, 2))), (4, 5, 2)),
    "GlobalMaxPooling2D": (lambda: L.GlobalMaxPooling2D(), (3, 4, 2)),
    "LayerNormalization": (lambda: L.LayerNormalization(epsilon=0.01, center=False), (3, 4)),
    "SpatialDropout2D": (lambda: L.SpatialDropout2D(0.3, seed=2), (3, 3, 2)),
    "GaussianNoise": (lambda: L.GaussianNoise(0.2, seed=4), (5,)),
    "RepeatVector": (lambda: L.RepeatVector(3), (5,)),
    "Permute": (lambda: L.Permute((2, 1)), (3, 4)),
    "Rescaling": (lambda: L.Rescaling(0.5, offset=-1.0), (3, 3, 2)),
    "Resizing": (lambda: L.Resizing(5, 4, interpolation="nearest"), (3, 3, 2)),
    "RandomFlip": (lambda: L.RandomFlip("horizontal", seed=3), (3, 3, 2)),
    "RandomRotation": (lambda: L.RandomRotation((-0.2, 0.1), fill_mode="nearest", seed=3), (4, 4, 2)),
    "RandomTranslation": (lambda: L.RandomTranslation(0.1, (-0.2, 0.3), fill_mode="constant", fill_value=0.5),
                          (4, 4, 2)),
    "RandomZoom": (lambda: L.RandomZoom(0.2, 0.1, interpolation="nearest"), (4, 4, 2)),
}
# The rows a Sequential cannot hold: merge layers (a call on a list) and the InputLayer of a graph,
# round-tripped in a functional model (test_every_merge_layer_round_trips).
MERGE_EXAMPLES = {
    "Add": lambda: L.Add(), "Subtract": lambda: L.Subtract(), "Multiply": lambda: L.Multiply(),
    "Average": lambda: L.Average(), "Maximum": lambda: L.Maximum(), "Minimum": lambda: L.Minimum(),
    "Concatenate": lambda: L.Concatenate(axis=1), "Dot": lambda: L.Dot(axes=1, normalize=True),
}
# tinynet's activation layers Keras has as functions only: written as Activation('<name>').
FUNCTION_LAYERS = sorted({cls for cls in activations.ACTIVATIONS.values()
                          if cls not in table.LAYER_BY_TINYNET and not cls.__name__.startswith("_")},
                         key=lambda cls: cls.__name__)


def test_every_row_of_the_table_has_an_example():
    assert sorted([*LAYER_EXAMPLES, *MERGE_EXAMPLES, "InputLayer"]) == sorted(row.keras for row in table.LAYERS)


def public_layer_classes():
    return sorted({value for value in vars(L).values() if isinstance(value, type) and issubclass(value, L.Layer)
                   and value is not L.Layer}, key=lambda cls: cls.__name__)


@pytest.mark.parametrize("cls", public_layer_classes(), ids=lambda cls: cls.__name__)
def test_every_public_layer_is_in_the_table_or_refused_by_name(tmp_path, cls):
    """A row of the table, an activation layer (written as Keras's Activation), or Lambda: refused, naming why."""
    if cls is L.Lambda:
        model = tinynet.Sequential([L.Dense(3, input_shape=(4,)), L.Lambda(lambda t: t * 2.0, name="double")])
        for suffix in FORMATS:
            with pytest.raises(ValueError, match="Layer 'double' is a Lambda layer, which holds Python code"):
                model.save(tmp_path / f"m.{suffix}")
        from tinynet.keras import file_config
        keras_json = {"class_name": "Sequential", "config": {"layers": [
            {"class_name": "Lambda", "config": {"name": "f", "function": "x", "batch_input_shape": [None, 4]}}]}}
        with pytest.raises(KerasFileError, match="Lambda layer, which holds Python code; tinynet never runs code"):
            file_config.spec_from_config(keras_json, "m.h5")
        return
    assert cls in table.LAYER_BY_TINYNET or cls in activations.ACTIVATIONS.values(), \
        f"{cls.__name__} is in neither the Keras table nor the activations"


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("keras_class", sorted(MERGE_EXAMPLES))
def test_every_merge_layer_round_trips(tmp_path, keras_class, suffix):
    a, b = tinynet.Input((3,), name="a"), tinynet.Input((3,), name="b")
    merged = MERGE_EXAMPLES[keras_class]()([L.Dense(3)(a), b])
    model = tinynet.Model([a, b], L.Dense(2)(L.Flatten()(merged)) if keras_class != "Dot" else merged)
    random_weights(model)
    rng = np.random.default_rng(1)
    x = [rng.standard_normal((4, 3)).astype(np.float32) for _ in range(2)]
    copy = round_trip(model, tmp_path, suffix)
    layer = copy.layers[[type(la) for la in copy.layers].index(table.LAYER_BY_KERAS[keras_class].tinynet)]
    assert settings(layer) == settings(model.get_layer(layer.name))
    assert [type(la) for la in copy.layers] == [type(la) for la in model.layers]
    assert np.array_equal(model.predict(x), copy.predict(x))


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("keras_class", sorted(LAYER_EXAMPLES))
def test_every_layer_of_the_table_round_trips(tmp_path, keras_class, suffix):
    make, shape = LAYER_EXAMPLES[keras_class]
    layer = make()
    assert type(layer) is table.LAYER_BY_KERAS[keras_class].tinynet
    model = tinynet.Sequential([L.InputLayer(input_shape=shape), layer, L.Flatten(), L.Dense(2)])
    random_weights(model)
    x = np.random.default_rng(1).standard_normal((4, *shape)).astype(np.float32)
    copy = round_trip(model, tmp_path, suffix)
    assert type(copy.layers[0]) is type(layer)
    assert settings(copy.layers[0]) == settings(layer)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), copy.get_weights()))
    assert np.array_equal(model.predict(x), copy.predict(x))
    assert copy.input_shape == model.input_shape


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("cls", FUNCTION_LAYERS, ids=lambda cls: cls.__name__)
def test_every_activation_layer_keras_has_as_a_function_round_trips(tmp_path, cls, suffix):
    name = activations.name_of(cls())
    model = tinynet.Sequential([L.Dense(3, input_shape=(4,)), cls(name="act")])
    random_weights(model)
    x = np.random.default_rng(1).standard_normal((6, 4)).astype(np.float32)
    if suffix == "h5" and name in table.KERAS2_DIFFERENT:
        with pytest.raises(ValueError, match="a Keras 2 .h5 file cannot hold it"):
            model.save(tmp_path / "m.h5")
        return
    copy = round_trip(model, tmp_path, suffix)
    assert type(copy.layers[1]) is L.Activation and copy.layers[1].name == "act"
    assert type(copy.layers[1].activation) is cls  # the same function, in Keras's only form for it
    assert np.array_equal(model.predict(x), copy.predict(x))


@pytest.mark.parametrize("suffix", FORMATS)
def test_what_keras_cannot_hold_is_refused_naming_it_and_the_file_is_unchanged(tmp_path, suffix):
    path = tmp_path / f"m.{suffix}"
    tinynet.Sequential([L.Dense(3, input_shape=(4,))]).save(path)
    before = path.read_bytes()
    model = tinynet.Sequential([L.Dense(3, input_shape=(4,)), L.GELU(approximate=True, name="g")])
    with pytest.raises(ValueError, match=r"Layer 'g': Keras's activation 'gelu' has no setting approximate=True"):
        model.save(path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == [path.name]


# ----------------------------------------------------------------- every loss

LOSS_EXAMPLES = {  # settings off their defaults where the loss has any
    "CategoricalCrossentropy": losses.CategoricalCrossentropy(from_logits=True),
    "SparseCategoricalCrossentropy": losses.SparseCategoricalCrossentropy(from_logits=True),
    "BinaryCrossentropy": losses.BinaryCrossentropy(from_logits=True),
    "Huber": losses.Huber(delta=0.5),
}


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("row", table.LOSSES, ids=lambda row: row.keras)
def test_every_loss_round_trips(tmp_path, row, suffix):
    loss = LOSS_EXAMPLES.get(row.keras, row.tinynet())
    sparse = row.keras.startswith("Sparse")
    # Logits for the losses that take them, positive values for the others (Poisson takes a log).
    model = tinynet.Sequential([L.Dense(3, activation=None if row.keras in LOSS_EXAMPLES else "softplus",
                                        input_shape=(4,))])
    model.compile("sgd", loss, metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 4)).astype(np.float32)
    y = rng.integers(0, 3, 8) if sparse else rng.uniform(0.1, 0.9, (8, 3)).astype(np.float32)
    copy = round_trip(model, tmp_path, suffix)
    assert type(copy.loss) is type(model.loss) and copy.loss.get_config() == model.loss.get_config()
    assert copy.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)


@pytest.mark.parametrize("suffix", FORMATS)
def test_from_logits_survives_the_round_trip(tmp_path, suffix):
    # The case of the issue: a linear output compiled with from_logits=True evaluated 0.93 before saving
    # to .h5 and 8.29 after loading, the file having said "categorical_crossentropy".
    tinynet.set_random_seed(3)
    x = np.random.default_rng(3).standard_normal((64, 5)).astype(np.float32)
    y = tinynet.to_categorical((x[:, 0] > 0).astype(int) + (x[:, 1] > 0), 3)
    model = tinynet.Sequential([L.Dense(16, activation="relu", input_shape=(5,)), L.Dense(3)])
    model.compile("adam", losses.CategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    before = model.evaluate(x, y, verbose=0)
    copy = round_trip(model, tmp_path, suffix)
    assert copy.loss.from_logits is True
    assert copy.evaluate(x, y, verbose=0) == before
    # A softmax output compiled on probabilities is written as the user compiled it, and pairs again.
    paired = tinynet.Sequential([L.Dense(3, activation="softmax", input_shape=(5,))])
    paired.compile("adam", "categorical_crossentropy")
    assert paired.loss_takes_logits
    again = round_trip(paired, tmp_path, suffix)
    assert again.loss_takes_logits and again.evaluate(x, y, verbose=0) == paired.evaluate(x, y, verbose=0)


# ----------------------------------------------------------------- every optimizer

OPTIMIZER_EXAMPLES = {  # settings off their defaults, Keras's common ones included
    "SGD": lambda: optimizers.SGD(0.05, momentum=0.8, nesterov=True, clipvalue=0.5),
    "RMSprop": lambda: optimizers.RMSprop(0.01, rho=0.8, epsilon=1e-6, clipnorm=1.0),
    "Adam": lambda: optimizers.Adam(optimizers.schedules.ExponentialDecay(0.01, 3, 0.5), beta_1=0.8, amsgrad=True,
                                    global_clipnorm=2.0),
    "AdamW": lambda: optimizers.AdamW(0.01, weight_decay=0.1, beta_2=0.99),
    "Adagrad": lambda: optimizers.Adagrad(0.1, initial_accumulator_value=0.2),
    "Adadelta": lambda: optimizers.Adadelta(0.5, rho=0.9),
    "Adamax": lambda: optimizers.Adamax(0.01, beta_1=0.7),
    "Nadam": lambda: optimizers.Nadam(0.01, beta_2=0.99),
}


def test_every_optimizer_row_has_an_example():
    assert sorted(OPTIMIZER_EXAMPLES) == sorted(row.keras for row in table.OPTIMIZERS)


def trained(optimizer):
    model = tinynet.Sequential([L.Dense(4, activation="relu", input_shape=(3,)), L.BatchNormalization(),
                                L.Dense(2, activation="softmax")])
    model.compile(optimizer, "categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 3)).astype(np.float32)
    y = tinynet.to_categorical(rng.integers(0, 2, 16), 2)
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    return model, x, y


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("keras_class", sorted(OPTIMIZER_EXAMPLES))
def test_every_optimizer_round_trips_and_training_continues(tmp_path, keras_class, suffix):
    model, x, y = trained(OPTIMIZER_EXAMPLES[keras_class]())
    copy = round_trip(model, tmp_path, suffix)
    assert type(copy.optimizer) is type(model.optimizer)
    assert copy.optimizer.get_config() == model.optimizer.get_config()
    assert copy.optimizer.iterations == model.optimizer.iterations == 4
    for a, b in zip(model.trainable_weights, copy.trainable_weights):
        state, state_copy = model.optimizer.state[a], copy.optimizer.state[b]
        assert sorted(state) == sorted(state_copy)
        for key in state:
            np.testing.assert_array_equal(np.float32(state[key]), state_copy[key])
    # The next step from the file is the step the model would have taken: bit for bit, unless the
    # optimizer turned the float32 weights or its state into float64 (issue 22: Adagrad, Adadelta, Nadam),
    # which the loaded float32 model holds as float32.
    float64 = any(value.dtype == np.float64 for state in model.optimizer.state.values() for value in state.values()) \
        or any(w.dtype == np.float64 for w in model.get_weights())
    model.train_on_batch(x, y)
    copy.train_on_batch(x, y)
    for a, b in zip(model.get_weights(), copy.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6 if float64 else 0, atol=1e-7 if float64 else 0)


def test_decay_is_kept_in_h5_and_named_when_keras_3_cannot_hold_it(tmp_path):
    model, _, _ = trained(optimizers.SGD(0.1, decay=0.01))
    assert round_trip(model, tmp_path, "h5").optimizer.decay == 0.01
    with pytest.warns(KerasFileWarning, match=r"SGD optimizer's decay=0.01 cannot be held by a Keras 3 .keras file"):
        copy = round_trip(model, tmp_path, "keras")
    assert copy.optimizer.decay == 0 and copy.optimizer.learning_rate == 0.1


class MyOptimizer(optimizers.SGD):
    """An optimizer of the user's own: Keras has no such class."""


class MyLoss(losses.MeanSquaredError):
    """A loss of the user's own."""


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("optimizer, loss, named", [(MyOptimizer(), "mse", "optimizer MyOptimizer"),
                                                    ("sgd", MyLoss(), "loss MyLoss")])
def test_compile_settings_keras_lacks_are_left_out_with_a_warning(tmp_path, suffix, optimizer, loss, named):
    model = tinynet.Sequential([L.Dense(2, input_shape=(3,))])
    model.compile(optimizer, loss)
    with pytest.warns(KerasFileWarning, match=f"The {named} cannot be held by a Keras file"):
        copy = round_trip(model, tmp_path, suffix)
    assert copy.loss is None  # loaded uncompiled: the weights and architecture are all there
    assert np.array_equal(copy.get_weights()[0], model.get_weights()[0])


def test_a_model_without_compile_settings_writes_without_a_warning(tmp_path):
    model = tinynet.Sequential([L.Dense(2, input_shape=(3,))])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for suffix in FORMATS:
            assert round_trip(model, tmp_path, suffix).loss is None


# ----------------------------------------------------------------- files real Keras 3.15 wrote

KERAS_3_15 = Path(__file__).parent / "fixtures" / "keras-3.15"   # made by its make.py, with Keras itself


def test_keras_3_15_model_using_every_layer_row_reads_and_predicts_as_keras():
    expected = np.load(KERAS_3_15 / "layers.npz")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an uncompiled Keras 3 model (compile_config {}) loads without a word
        model = tinynet.models.load_model(KERAS_3_15 / "layers.keras")
    used = {table.LAYER_BY_TINYNET.get(type(layer), table.LAYER_BY_KERAS["Activation"]).keras for layer in model.layers}
    # layers.keras holds every row a Sequential can; merges.keras and graph.keras (make_graphs.py) the others
    for name in ("merges.keras", "graph.keras"):
        used |= {table.LAYER_BY_TINYNET.get(type(layer), table.LAYER_BY_KERAS["Activation"]).keras
                 for layer in tinynet.models.load_model(KERAS_3_15 / name).layers}
    assert used == {row.keras for row in table.LAYERS}
    assert model.layers[0].kernel_regularizer.l2 == pytest.approx(0.01)
    # Keras computes in another order: float32 rounding apart, the same numbers.
    np.testing.assert_allclose(model.predict(expected["x"]), expected["y"], rtol=1e-5, atol=1e-6)
    model.set_weights([np.zeros_like(w) + 0.5 for w in model.get_weights()])
    model.load_weights(KERAS_3_15 / "layers.weights.h5")
    np.testing.assert_allclose(model.predict(expected["x"]), expected["y"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, iterations", [("adam.h5", 8), ("nadam.keras", 8)])
def test_keras_3_15_training_state_reads_and_training_continues(name, iterations):
    expected = np.load(KERAS_3_15 / f"{name.split('.')[0]}.npz")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = tinynet.models.load_model(KERAS_3_15 / name)
    assert model.loss.from_logits is True and model.optimizer.iterations == iterations
    assert sum(len(state) for state in model.optimizer.state.values()) == (18 if name == "adam.h5" else 12)
    np.testing.assert_allclose(model.predict(expected["x"]), expected["y"], rtol=1e-5, atol=1e-6)
    assert model.evaluate(expected["x"], expected["target"], verbose=0)[0] == pytest.approx(float(expected["loss"]),
                                                                                            rel=1e-5)
    if name == "adam.h5":  # (schedule, amsgrad, global_clipnorm)
        config = model.optimizer.get_config()
        assert config["learning_rate"]["class_name"] == "ExponentialDecay" and config["amsgrad"] is True
        assert config["global_clipnorm"] == 2.0
        model.train_on_batch(expected["x"], expected["target"])
        for i, weight in enumerate(model.get_weights()):
            np.testing.assert_allclose(weight, expected[f"after_{i}"], rtol=1e-5, atol=1e-6)
    # Nadam's next step is not Keras 3's: Keras 3 changed Nadam's momentum schedule (0.96^t for tf.keras 2's
    # 0.96^(0.004 t), which tinynet follows); see the Nadam row of tinynet/keras/table.py.


def test_keras_3_layout_of_what_tinynet_writes(tmp_path):
    """What real Keras 3.15 showed it needs: a schedule with its module, a mean reduction it accepts,
    no learning-rate variable beside a schedule, no decay=0.0 it would warn about."""
    import h5py
    import json
    import zipfile
    model, _, _ = trained(OPTIMIZER_EXAMPLES["Adam"]())
    model.compile(model.optimizer, losses.CategoricalCrossentropy(from_logits=True))
    model.save(tmp_path / "m.keras")
    model.save(tmp_path / "m.h5")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        compile_config = json.loads(archive.read("config.json"))["compile_config"]
        weights = h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r")
    n = len(model.trainable_weights)
    assert len(weights["optimizer/vars"]) == 1 + 2 * n + n  # iteration, (m, v) per weight, then amsgrad's vhat
    assert compile_config["optimizer"]["config"]["learning_rate"]["module"] == "keras.optimizers.schedules"
    assert compile_config["loss"]["config"]["reduction"] == "sum_over_batch_size"
    with h5py.File(tmp_path / "m.h5", "r") as f:
        training = json.loads(f.attrs["training_config"])
    assert "decay" not in training["optimizer_config"]["config"]
    assert training["optimizer_config"]["config"]["learning_rate"]["module"] == "keras.optimizers.schedules"
    assert training["loss"]["config"]["reduction"] == "sum_over_batch_size"
