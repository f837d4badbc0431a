"""sample_weight and class_weight (tinynet/core/sample_weights.py): the weights Keras's rule gives, and every
weight or key that would be silently ignored or would wreck training refused before anything changes."""
import json

import numpy as np
import pytest

import tinynet
from tinynet import layers, optimizers
from tinynet.core.sample_weights import check_class_weight, check_sample_weight, sample_weights
from tinynet.models import Sequential

RNG = np.random.default_rng(0)
X = RNG.random((24, 4), dtype=np.float32)
LABELS = RNG.integers(0, 3, 24)


def trained_model():
    """A 3-class classifier that has taken a few Adam steps, so its optimizer has state to keep."""
    model = Sequential([layers.Dense(3, activation="softmax", input_shape=(4,))])
    model.compile(optimizer=optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    model.fit(X, LABELS, epochs=1, batch_size=8, verbose=0)
    return model


def keras_rule(labels, class_weight):
    """Keras's class_weight_to_sample_weights, one sample at a time: the reference the vectorised code must match."""
    return np.array([class_weight.get(int(label), 1.0) for label in labels])


# ----------------------------------------------------------------- the right numbers

def test_class_weights_follow_keras_rule_for_every_form_of_target():
    class_weight = {0: 0.5, 2: 4.0}                                   # class 1 unlisted: weight 1
    expected = keras_rule(LABELS, class_weight)
    one_hot = np.eye(3, dtype=np.float32)[LABELS]
    np.testing.assert_array_equal(sample_weights(LABELS, class_weight=class_weight, classes=3), expected)
    np.testing.assert_array_equal(sample_weights(one_hot, class_weight=class_weight, classes=3), expected)
    # One sigmoid column: two classes, and a soft target counts as the class it rounds to (as in Keras).
    binary = np.array([[0.0], [1.0], [0.7], [0.2]], dtype=np.float32)
    np.testing.assert_array_equal(sample_weights(binary, class_weight={0: 2.0, 1: 3.0}, classes=1),
                                  [2.0, 3.0, 3.0, 2.0])


def test_sample_and_class_weights_multiply():
    s = RNG.random(24)
    np.testing.assert_allclose(sample_weights(LABELS, s, {1: 3.0}, classes=3), s * keras_rule(LABELS, {1: 3.0}))
    assert sample_weights(LABELS, classes=3) is None


def test_class_weight_read_from_json_trains_as_the_integer_keys():
    from_json = json.loads(json.dumps({0: 1.0, 1: 3.0, 2: 0.5}))      # {'0': 1.0, '1': 3.0, '2': 0.5}
    converted = {int(k): w for k, w in from_json.items()}

    def after_fit(**weights):
        tinynet.set_random_seed(0)
        model = trained_model()
        model.fit(X, LABELS, epochs=1, batch_size=8, shuffle=False, verbose=0, **weights)
        return model.get_weights()[0]
    by_rule = after_fit(sample_weight=keras_rule(LABELS, converted))
    np.testing.assert_array_equal(after_fit(class_weight=from_json), by_rule)
    np.testing.assert_array_equal(after_fit(class_weight=converted), by_rule)
    assert not np.array_equal(after_fit(), by_rule)   # the weights did change the step


# ----------------------------------------------------------------- refused before anything changes

@pytest.mark.parametrize("class_weight, message", [
    ({"zero": 100}, r"keys must be class indices .* key 'zero' of type str"),
    ({"-1": 100}, r"key '-1' of type str"),
    ({0: 1.0, "0": 2.0}, r"gives class 0 two weights"),
    ({"3": 1.0}, r"key 3, but the model outputs 3 classes"),
    ({0.0: 1.0}, r"key 0\.0 of type float"),
    ({True: 2.0}, r"key True of type bool"),
    ({1: 1.0, 2: 1.0, 3: 5.0}, r"key 3, but the model outputs 3 classes, numbered 0 to 2"),   # 1-based classes
    ({-1: 2.0}, r"key -1, but the model outputs 3 classes"),
    ({0: -1.0}, r"class 0 has the weight -1\.0"),
    ({1: float("nan")}, r"class 1 has the weight nan"),
    ({2: float("inf")}, r"class 2 has the weight inf"),
    ({0: 1e39}, r"class 0 has the weight 1e\+39"),                    # infinite in float32
    ({0: "2"}, r"class 0 has the weight '2'"),
    ({0: None}, r"class 0 has the weight None"),
    ([1.0, 2.0, 3.0], r"must be a dict \{class index: weight\}"),
])
def test_class_weights_that_would_be_ignored_or_wreck_training_are_refused(class_weight, message, tmp_path,
                                                                         unchanged):
    model = trained_model()
    with unchanged(model, tmp_path), pytest.raises(ValueError, match=message):
        model.fit(X, LABELS, class_weight=class_weight, verbose=0)


@pytest.mark.parametrize("weights, error, message", [
    (-np.ones(24), ValueError, r"finite weights >= 0, but 24 of its 24 entries are not; the first is "
                               r"sample_weight\[0\] = -1\.0"),
    (np.r_[np.ones(23), np.nan], ValueError, r"the first is sample_weight\[23\] = nan"),
    (np.r_[np.inf, np.ones(23)], ValueError, r"sample_weight\[0\] = inf"),
    (np.ones(23), ValueError, r"one weight per sample: an array of shape \(24,\). Received an array of shape \(23,\)"),
    (np.ones((2, 12)), ValueError, r"Received an array of shape \(2, 12\)"),
    (np.array(["1"] * 24), TypeError, r"real numbers, one per sample. Received an array of dtype <U1"),
    (np.ones(24) * 1j, TypeError, r"dtype complex128"),
])
def test_sample_weights_that_would_wreck_training_are_refused(weights, error, message, tmp_path, unchanged):
    model = trained_model()
    with unchanged(model, tmp_path), pytest.raises(error, match=message):
        model.fit(X, LABELS, sample_weight=weights, verbose=0)
    with unchanged(model, tmp_path), pytest.raises(error, match=message):
        model.evaluate(X, LABELS, sample_weight=weights, verbose=0)


def test_validation_sample_weights_are_checked_before_training():
    model = trained_model()
    with pytest.raises(ValueError, match=r"sample_weight\[1\] = -2\.0"):
        model.fit(X, LABELS, validation_data=(X[:3], LABELS[:3], np.array([1.0, -2.0, 1.0])), verbose=0)
    assert model.optimizer.iterations == 3                               # the first fit's 3 steps only


def test_class_weight_is_refused_for_targets_with_several_labels_per_sample():
    with pytest.raises(ValueError, match=r"targets have shape \(2, 3, 4\); .* use `sample_weight`"):
        sample_weights(np.zeros((2, 3, 4)), class_weight={0: 1.0}, classes=4)


def test_checkers_return_what_the_loss_uses():
    np.testing.assert_array_equal(check_sample_weight([[1], [0], [2]], 3), [1.0, 0.0, 2.0])
    np.testing.assert_array_equal(check_class_weight({np.int64(1): np.float32(2.5)}, 3), [1.0, 2.5, 1.0])
