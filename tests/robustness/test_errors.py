"""Every bad input gets a clear error before any work is done.

One test per mistake a learner makes. Each checks the exception type and that
the message names the argument or layer, what was expected and what was received.
The README's reliability section counts them: every test here is one kind of
bad input, except the two that check good input passes
(``test_kernel_larger_than_the_input_is_fine_with_same_padding`` and
``test_scaled_or_non_pixel_data_does_not_warn``).
"""
import re
import warnings

import numpy as np
import pytest

import tinynet
from tinynet import initializers, layers, optimizers
from tinynet.models import Sequential


def mlp(loss="sparse_categorical_crossentropy", classes=3, features=4, name=None):
    model = Sequential([layers.Dense(5, activation="relu", input_shape=(features,), name=name),
                        layers.Dense(classes, activation="softmax", name="out")])
    model.compile("sgd", loss)
    return model


X = np.linspace(0, 1, 40, dtype=np.float32).reshape(10, 4)
Y = np.arange(10) % 3


def raises(kind, *fragments):
    """pytest.raises that also requires every fragment (plain text) in the message."""
    return pytest.raises(kind, match="(?s)" + ".*".join(re.escape(f) for f in fragments))


# ----- the data --------------------------------------------------------------
def test_feature_shape_mismatch_names_layer_and_both_shapes():
    model = mlp(name="hidden")
    with raises(ValueError, "'hidden'", "(None, 4)", "(10, 3)"):
        model.fit(X[:, :3], Y, verbose=0)


def test_image_without_channel_axis_says_how_to_add_it():
    model = Sequential([layers.Conv2D(2, 3, input_shape=(6, 6, 1), name="conv"), layers.Flatten(),
                        layers.Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    with raises(ValueError, "'conv'", "(None, 6, 6, 1)", "(2, 6, 6)", "x[..., None]"):
        model.fit(np.zeros((2, 6, 6)), [0, 1], verbose=0)


def test_x_and_y_of_different_lengths():
    with raises(ValueError, "same number of samples", "x has 10", "y has 9"):
        mlp().fit(X, Y[:9], verbose=0)


def test_one_hot_y_for_the_wrong_number_of_classes():
    y = tinynet.to_categorical(np.arange(10) % 5, 5)
    with raises(ValueError, "one-hot encoded for 5 classes", "'out'", "outputs 3 classes"):
        mlp("categorical_crossentropy").fit(X, y, verbose=0)


def test_y_of_the_wrong_shape_for_an_elementwise_loss():
    with raises(ValueError, "shape (10, 2)", "(None, 3)", "mean_squared_error"):
        mlp("mse").fit(X, np.zeros((10, 2)), verbose=0)


def test_one_hot_y_with_the_sparse_loss_names_the_loss_to_use():
    with raises(ValueError, "one-hot", "(10, 3)", "loss='categorical_crossentropy'"):
        mlp().fit(X, tinynet.to_categorical(Y, 3), verbose=0)


def test_integer_y_with_the_categorical_loss_names_the_loss_to_use():
    with raises(ValueError, "integer labels of shape (10,)", "loss='sparse_categorical_crossentropy'",
                "to_categorical(y, 3)"):
        mlp("categorical_crossentropy").fit(X, Y, verbose=0)


def test_integer_column_y_with_the_categorical_loss():
    with raises(ValueError, "(10, 1)", "loss='sparse_categorical_crossentropy'"):
        mlp("categorical_crossentropy").fit(X, Y[:, None], verbose=0)


def test_label_too_large_for_the_output_layer():
    y = Y.copy()
    y[7] = 3
    with raises(ValueError, "label 3 (at index 7)", "'out'", "3 classes", "[0, 2]"):
        mlp().fit(X, y, verbose=0)


def test_negative_label():
    with raises(ValueError, "label -1 (at index 0)", "[0, 2]"):
        mlp().fit(X, np.r_[-1, Y[1:]], verbose=0)


def test_fractional_labels_with_the_sparse_loss():
    with raises(ValueError, "integer labels", "fractions"):
        mlp().fit(X, Y + 0.5, verbose=0)


def test_binary_targets_outside_0_1():
    model = Sequential([layers.Dense(1, activation="sigmoid", input_shape=(4,))])
    model.compile("sgd", "binary_crossentropy")
    with raises(ValueError, "'binary_crossentropy' expects targets in [0, 1]", "from 1 to 2"):
        model.fit(X, Y % 2 + 1, verbose=0)


def test_nan_in_x_says_how_many_and_where_the_first_is():
    x = X.copy()
    x[3, 2] = np.nan
    x[8, 0] = np.nan
    with raises(ValueError, "`x` contains 2 NaN or infinite values (2 NaN, 0 infinite)", "x[3, 2] = nan"):
        mlp().fit(x, Y, verbose=0)


def test_infinity_in_x_including_float64_overflowing_float32():
    x = X.astype(np.float64)
    x[5, 1] = 1e300  # finite in float64, infinite once cast to the model's float32
    with raises(ValueError, "1 NaN or infinite value (0 NaN, 1 infinite)", "x[5, 1] = inf"):
        mlp().evaluate(x, Y, verbose=0)


def test_nan_in_y():
    y = np.zeros((10, 3))
    y[4, 1] = np.nan
    with raises(ValueError, "`y` contains 1 NaN", "y[4, 1] = nan"):
        mlp("mse").fit(X, y, verbose=0)


def test_nan_in_validation_data_is_named_as_such():
    x = X.copy()
    x[0, 0] = np.inf
    with raises(ValueError, "`validation_data[0]` contains 1 NaN or infinite value", "validation_data[0][0, 0] = inf"):
        mlp().fit(X, Y, validation_data=(x, Y), verbose=0)


def test_object_array():
    with raises(TypeError, "`x` must hold real numbers", "dtype object", "Python objects"):
        mlp().fit(np.array([[1, None, 3, 4]] * 10, dtype=object), Y, verbose=0)


def test_string_array():
    with raises(TypeError, "`x` must hold real numbers", "<U1", "strings"):
        mlp().predict(np.full((2, 4), "a"))


def test_complex_array():
    with raises(TypeError, "`x` must hold real numbers", "complex", "(complex numbers)"):
        mlp().fit(X + 1j, Y, verbose=0)


def test_string_labels():
    with raises(TypeError, "`y` must hold real numbers", "dtype <U"):
        mlp().fit(X, np.array(["cat"] * 10), verbose=0)


def test_ragged_x():
    with raises(ValueError, "`x` could not be converted to a NumPy array"):
        mlp().fit([[1, 2, 3, 4], [1, 2]], [0, 1], verbose=0)


def test_empty_x():
    with raises(ValueError, "`x` is empty (shape (0, 4))", "at least one sample"):
        mlp().fit(np.zeros((0, 4)), np.zeros(0), verbose=0)


def test_empty_y():
    with raises(ValueError, "`y` is empty (shape (0,))"):
        mlp().evaluate(X, [], verbose=0)


def test_missing_x_or_y():
    with raises(ValueError, "no value for `x`", "x=None"):
        mlp().fit(y=Y, verbose=0)
    with raises(ValueError, "no value for `y`", "the targets", "y=None"):
        mlp().fit(X, verbose=0)


# ----- fit / evaluate settings -------------------------------------------------
@pytest.mark.parametrize("value", [0, -1, 1.5, True, "32"])
def test_batch_size(value):
    with raises(ValueError, "`batch_size`, expected a positive integer", f"batch_size={value!r}"):
        mlp().fit(X, Y, batch_size=value, verbose=0)


@pytest.mark.parametrize("value", [-1, 2.5, None])
def test_epochs(value):
    with raises(ValueError, "`epochs`, expected a non-negative integer", f"epochs={value!r}"):
        mlp().fit(X, Y, epochs=value, verbose=0)


@pytest.mark.parametrize("value", [1.0, -0.1, "0.2", None])
def test_validation_split_outside_0_1(value):
    with raises(ValueError, "`validation_split`, expected a float in [0, 1)", f"validation_split={value!r}"):
        mlp().fit(X, Y, validation_split=value, verbose=0)


def test_validation_split_that_leaves_no_validation_sample():
    with raises(ValueError, "validation_split=0.95 leaves no training or no validation samples out of 10"):
        mlp().fit(X, Y, validation_split=0.95, verbose=0)


@pytest.mark.parametrize("value, received", [((X, Y, np.ones(10), None), "a tuple of 4 items"),
                                             (X, "a ndarray"), ({"x": X}, "a dict")])
def test_validation_data_structure(value, received):
    with raises(ValueError, "`validation_data`, expected a tuple (x_val, y_val) or (x_val, y_val, "
                "sample_weight_val)", received):
        mlp().fit(X, Y, validation_data=value, verbose=0)


def test_unknown_fit_argument():
    with raises(TypeError, "unexpected keyword arguments", "['nb_epochs']"):
        mlp().fit(X, Y, nb_epochs=2, verbose=0)


# ----- names -----------------------------------------------------------------
def test_unknown_optimizer_lists_the_valid_ones():
    with raises(ValueError, "Unknown optimizer: 'adamq'", "['adadelta', 'adagrad', 'adam', 'adamax', 'adamw', "
                "'nadam', 'rmsprop', 'sgd']"):
        mlp().compile("adamq", "mse")


def test_unknown_loss_lists_the_valid_ones():
    with raises(ValueError, "Unknown loss: 'crossentropy'", "'categorical_crossentropy'", "'mse'"):
        mlp().compile("sgd", "crossentropy")


def test_unknown_metric_lists_the_valid_ones():
    with raises(ValueError, "Unknown metric: 'acuracy'", "'accuracy'", "'sparse_categorical_accuracy'"):
        mlp().compile("sgd", "mse", metrics=["acuracy"])


def test_unknown_activation_lists_the_valid_ones():
    with raises(ValueError, "Unknown activation: 'relux'", "'relu'", "'softmax'"):
        layers.Dense(3, activation="relux")


def test_unknown_padding_lists_the_valid_ones():
    with raises(ValueError, "`padding`", "('valid', 'same')", "padding='full'"):
        layers.Conv2D(3, 3, padding="full")
    with raises(ValueError, "`padding`", "padding='causal'"):
        layers.MaxPooling2D(2, padding="causal")


def test_unknown_initializer_is_refused_in_init_naming_the_argument():
    with raises(ValueError, "Unknown initializer for `kernel_initializer`: 'glorot'", "'glorot_uniform'"):
        layers.Dense(3, kernel_initializer="glorot")  # no input shape yet: nothing is built
    with raises(ValueError, "Unknown initializer for `bias_initializer`: 'zero'", "'zeros'"):
        layers.Conv2D(3, 3, bias_initializer="zero")
    with raises(ValueError, "Unknown initializer: 'xavier'"):
        initializers.get("xavier")


@pytest.mark.parametrize("value", [0, -0.01, float("nan"), float("inf")])
def test_learning_rate_must_be_positive_and_finite(value):
    for optimizer in (optimizers.SGD, optimizers.RMSprop, optimizers.Adam):
        with raises(ValueError, "`learning_rate`, expected a positive finite number", f"learning_rate={value!r}"):
            optimizer(learning_rate=value)
    with raises(ValueError, "`learning_rate`"):
        optimizers.Adam().lr = value  # the Keras 2 attribute is checked as well


# ----- layer settings --------------------------------------------------------
@pytest.mark.parametrize("value", [0, -3, 2.0])
def test_units(value):
    with raises(ValueError, "`units`, expected a positive integer", f"units={value!r}"):
        layers.Dense(value)


def test_filters_and_kernel_size():
    with raises(ValueError, "`filters`, expected a positive integer", "filters=0"):
        layers.Conv2D(0, 3)
    with raises(ValueError, "`kernel_size`", "kernel_size=0"):
        layers.Conv2D(4, 0)
    with raises(ValueError, "`strides`", "strides=(1, 0)"):
        layers.Conv2D(4, 3, strides=(1, 0))


def test_kernel_larger_than_the_input():
    with raises(ValueError, "'big'", "5x5 kernel must fit in the 4x4 input"):
        Sequential([layers.Conv2D(2, 5, input_shape=(4, 4, 1), name="big")])
    with raises(ValueError, "'pool'", "5x5 window must fit in the 4x4 input"):
        Sequential([layers.MaxPooling2D(5, input_shape=(4, 4, 1), name="pool")])


def test_kernel_larger_than_the_input_is_fine_with_same_padding():
    # 'same' pads the input up to the kernel, as in TensorFlow: no error, same spatial size.
    model = Sequential([layers.Conv2D(2, 5, padding="same", input_shape=(4, 4, 1))])
    assert model.output_shape == (None, 4, 4, 2)


@pytest.mark.parametrize("value", [1.0, -0.1, 1.5, "0.5"])
def test_dropout_rate_outside_0_1(value):
    with raises(ValueError, "`rate`, expected a float in [0, 1)", f"rate={value!r}"):
        layers.Dropout(value)


def test_impossible_reshape_names_the_layer():
    with raises(ValueError, "'r'", "(3, 4)", "(5, -1)"):
        Sequential([layers.Reshape((5, -1), input_shape=(3, 4), name="r")])


# ----- the model's life cycle --------------------------------------------------
@pytest.mark.parametrize("method", ["fit", "evaluate", "train_on_batch", "test_on_batch"])
def test_use_before_compile(method):
    model = Sequential([layers.Dense(3, input_shape=(4,))], name="uncompiled")
    with raises(RuntimeError, "compile model 'uncompiled'", f"before calling {method}", "model.compile("):
        getattr(model, method)(X, Y)


def test_compile_without_loss():
    model = Sequential([layers.Dense(3, input_shape=(4,))])
    model.compile("sgd")   # allowed, as in Keras: a model may add its own losses in call (add_loss)
    before = model.get_weights()
    with raises(ValueError, "compile needs a `loss`"):
        model.fit(np.ones((4, 4)), np.ones((4, 3)), verbose=0)
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_set_weights_with_the_wrong_number_of_arrays():
    model = mlp()
    with raises(ValueError, "4 weight arrays", "received 3"):
        model.set_weights(model.get_weights()[:3])


def test_set_weights_with_the_wrong_shape_names_layer_and_both_shapes():
    model = mlp(name="hidden")
    weights = model.get_weights()
    weights[0] = np.zeros((5, 4))
    with raises(ValueError, "Layer 'hidden'", "'hidden/kernel'", "(4, 5)", "(5, 4)"):
        model.set_weights(weights)


def test_layer_set_weights_with_the_wrong_number_of_arrays():
    model = mlp()
    with raises(ValueError, "Layer 'out' expects 2 weight arrays", "out/kernel, out/bias", "received 1"):
        model.layers[1].set_weights([np.zeros((5, 3))])


def test_model_without_layers():
    with raises(ValueError, "has no layers"):
        Sequential().predict(X)


# ----- the unscaled-pixels warning ---------------------------------------------
def test_uint8_pixels_warn_once_per_model():
    x = np.random.default_rng(0).integers(0, 256, (10, 4)).astype(np.uint8)
    model = mlp()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(x, Y, verbose=0)
        model.fit(x, Y, verbose=0)
        model.predict(x)
        mlp().evaluate(x.astype(np.float64), Y, verbose=0)  # a new model warns again, for 0-255 floats too
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert len(messages) == 2
    assert "unscaled 0-255 pixel values" in messages[0] and "/ 255" in messages[0]
    assert all(w.filename == __file__ for w in caught)  # points at the user's line, not at tinynet


def test_scaled_or_non_pixel_data_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mlp().fit(X, Y, verbose=0)  # scaled to [0, 1]
        mlp().fit(np.arange(40.0).reshape(10, 4), Y, verbose=0)  # whole numbers, but only up to 39
        mlp().fit(X * 200 + 0.5, Y, verbose=0)  # fractions: not pixels

