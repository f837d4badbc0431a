"""Metric functions and objects against the worked examples in Keras's documentation
(keras.io/api/metrics), and the accumulation over batches that a mean of batch values gets wrong."""
import numpy as np
import pytest

from tinynet import layers, metrics
from tinynet.models import Sequential


@pytest.mark.parametrize("metric, y_true, y_pred, expected", [
    (metrics.Accuracy(), [[1], [2], [3], [4]], [[0], [2], [3], [4]], 0.75),
    (metrics.BinaryAccuracy(), [[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]], 0.75),
    (metrics.CategoricalAccuracy(), [[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], 0.5),
    (metrics.SparseCategoricalAccuracy(), [[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]], 0.5),
    (metrics.TopKCategoricalAccuracy(k=1), [[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], 0.5),
    (metrics.SparseTopKCategoricalAccuracy(k=1), [2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], 0.5),
    (metrics.Precision(), [0, 1, 1, 1], [1, 0, 1, 1], 2 / 3),
    (metrics.Recall(), [0, 1, 1, 1], [1, 0, 1, 1], 2 / 3),
    (metrics.AUC(num_thresholds=3), [0, 0, 1, 1], [0, 0.5, 0.3, 0.9], 0.75),
    (metrics.MeanAbsoluteError(), [[0, 1], [0, 0]], [[1, 1], [0, 0]], 0.25),
    (metrics.MeanSquaredError(), [[0, 1], [0, 0]], [[1, 1], [0, 0]], 0.25),
])
def test_keras_documented_examples(metric, y_true, y_pred, expected):
    metric.update_state(np.array(y_true), np.array(y_pred, dtype=float))
    assert metric.result() == pytest.approx(expected)
    metric.reset_state()
    assert metric(np.array(y_true), np.array(y_pred, dtype=float)) == pytest.approx(expected)  # __call__


@pytest.mark.parametrize("metric, y_true, y_pred, weight, expected", [
    (metrics.Precision(), [0, 1, 1, 1], [1, 0, 1, 1], [0, 0, 1, 0], 1.0),
    (metrics.Recall(), [0, 1, 1, 1], [1, 0, 1, 1], [0, 0, 1, 0], 1.0),
    (metrics.AUC(num_thresholds=3), [0, 0, 1, 1], [0, 0.5, 0.3, 0.9], [1, 0, 0, 1], 1.0),
    (metrics.MeanAbsoluteError(), [[0, 1], [0, 0]], [[1, 1], [0, 0]], [1, 0], 0.5),
    (metrics.MeanSquaredError(), [[0, 1], [0, 0]], [[1, 1], [0, 0]], [1, 0], 0.5),
    (metrics.Accuracy(), [[1], [2], [3], [4]], [[0], [2], [3], [4]], [1, 1, 0, 0], 0.5),
])
def test_keras_documented_examples_with_sample_weight(metric, y_true, y_pred, weight, expected):
    metric.update_state(np.array(y_true), np.array(y_pred, dtype=float), sample_weight=weight)
    assert metric.result() == pytest.approx(expected)


def test_precision_recall_auc_accumulate_over_batches_not_average_them():
    y = np.array([1, 0, 0, 0, 1, 1, 1, 0])
    p = np.array([0.9, 0.8, 0.1, 0.2, 0.7, 0.3, 0.6, 0.4])
    whole = {m.name: m(y, p) for m in (metrics.Precision(), metrics.Recall(), metrics.AUC())}
    # by hand: predicted positive 0.9, 0.8, 0.7, 0.6 -> TP 3, FP 1; positives 4 -> recall 3/4;
    # ROC AUC = P(a positive outranks a negative) = (4 + 3 + 2 + 3) / 16 with these distinct scores.
    assert whole == pytest.approx({"precision": 0.75, "recall": 0.75, "auc": 12 / 16}, abs=1e-6)
    for metric in (metrics.Precision(), metrics.Recall(), metrics.AUC()):
        for start in (0, 2, 4, 6):  # four batches of two
            metric.update_state(y[start:start + 2], p[start:start + 2])
        assert metric.result() == pytest.approx(whole[metric.name], abs=1e-6)
    batch_means = np.mean([metrics.Precision().batch_value(y[s:s + 2], p[s:s + 2]) for s in (0, 2, 4, 6)])
    assert batch_means != pytest.approx(0.75)  # the reason for keeping counts


def test_auc_approaches_the_exact_roc_auc_and_pr_variants():
    generator = np.random.default_rng(0)
    y = generator.integers(0, 2, 500)
    p = np.clip(0.3 * y + 0.7 * generator.random(500), 0, 1)
    exact = metrics.auc(*metrics.roc_curve(y, p)[:2])
    assert metrics.AUC(num_thresholds=2000)(y, p) == pytest.approx(exact, abs=2e-3)
    pr = metrics.AUC(curve="PR")(y, p)
    majoring = metrics.AUC(curve="PR", summation_method="majoring")(y, p)
    minoring = metrics.AUC(curve="PR", summation_method="minoring")(y, p)
    assert minoring <= pr <= majoring and 0.5 < pr < 1


def test_pr_auc_interpolation_by_hand():
    # num_thresholds=3: thresholds -eps, 0.5, 1+eps. Labels [0, 1], scores [0.2, 0.7].
    # tp = [1, 1, 0], fp = [1, 0, 0], fn = [0, 0, 1]; p = tp + fp = [2, 1, 0].
    # Interval 0: dtp = 0 -> slope 0, nothing. Interval 1: dtp = 1, dp = 1, slope 1, intercept 0,
    # p[2] = 0 so the ratio is 1, increment = 1 * (1 + 0) / (tp[2] + fn[2]) = 1.
    assert metrics.AUC(num_thresholds=3, curve="PR")([0, 1], [0.2, 0.7]) == pytest.approx(1.0)


def test_top_k_counts_ties_as_in_the_top_k():
    # as tf.math.in_top_k: the label's score ties the k-th largest -> in.
    assert metrics.sparse_top_k_categorical_accuracy([0, 2], [[0.5, 0.5, 0.0], [0.2, 0.5, 0.3]], k=1).tolist() == [
        1.0, 0.0]
    assert metrics.top_k_categorical_accuracy([[0, 0, 1]], [[0.2, 0.5, 0.3]], k=2).tolist() == [1.0]


def test_precision_with_class_id_and_top_k():
    y = np.array([[0, 1, 0], [1, 0, 0], [0, 1, 0]])
    p = np.array([[0.1, 0.8, 0.6], [0.7, 0.2, 0.9], [0.3, 0.4, 0.6]])
    # class 1 predicted positive (> 0.5) only in row 0, which is class 1: precision 1; recall 1 of 2.
    assert metrics.Precision(class_id=1)(y, p) == 1.0
    assert metrics.Recall(class_id=1)(y, p) == 0.5
    # top_k=1: row 0 -> class 1 (right), row 1 -> class 2 (wrong), row 2 -> class 2 (wrong): precision 1/3.
    assert metrics.Precision(top_k=1)(y, p) == pytest.approx(1 / 3)


def test_functions_return_one_value_per_sample():
    assert metrics.categorical_accuracy(np.eye(3), np.eye(3)[[0, 2, 2]]).tolist() == [1, 0, 1]
    assert metrics.mean_absolute_error([[0, 2]], [[1, 1]]).tolist() == [1.0]
    assert metrics.binary_accuracy([1, 0], [0.7, 0.7]).tolist() == [1, 0]


@pytest.mark.parametrize("identifier, loss, name, value", [
    ("mae", "mse", "mae", 0.5),
    ("mse", "mse", "mse", 0.25),
    ("binary_accuracy", "binary_crossentropy", "binary_accuracy", 0.5),
    ("accuracy", "binary_crossentropy", "accuracy", 0.5),
    ("AUC", "binary_crossentropy", "auc", 0.5),
    ("precision", "binary_crossentropy", "precision", 0.0),
    ("recall", "binary_crossentropy", "recall", 0.0),
])
def test_get_by_string_gives_keras_names(identifier, loss, name, value):
    got_name, fn = metrics.get(identifier, loss)
    assert got_name == name
    # y_true [1, 0] against 0.5 for both: off by 0.5 each; nothing above the 0.5 threshold; a tie for AUC.
    y, p = np.array([[1.0], [0.0]]), np.array([[0.5], [0.5]])
    assert fn(y, p) == pytest.approx(value)
    assert isinstance(metrics.get_metric(identifier, loss), metrics.Metric)


def test_get_with_top_k_strings_and_objects():
    name, fn = metrics.get("sparse_top_k_categorical_accuracy", "sparse_categorical_crossentropy")
    assert name == "sparse_top_k_categorical_accuracy"
    assert fn([0], [[0.1] * 6 + [0.9]]) == 1.0  # only one class scores higher: in the top 5
    assert fn([0], [[0.1] + [0.5] * 5 + [0.9]]) == 0.0  # six score higher
    auc = metrics.AUC(name="my_auc")
    assert metrics.get(auc, "binary_crossentropy")[0] == "my_auc" and metrics.get_metric(auc) is auc
    assert metrics.get_metric("SparseCategoricalAccuracy").name == "sparse_categorical_accuracy"
    with pytest.raises(ValueError, match="Unknown metric: 'f1'"):
        metrics.get("f1", "mse")
    with pytest.raises(TypeError, match="Received: metrics=5"):
        metrics.get(5, "mse")


def test_batch_value_leaves_the_state_alone():
    metric = metrics.AUC(num_thresholds=3)
    metric.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    assert metric.batch_value([1, 0], [0.9, 0.1]) == 1.0
    assert metric.result() == pytest.approx(0.75)


@pytest.mark.parametrize("make, shown", [
    (lambda: metrics.AUC(num_thresholds=1), "num_thresholds=1"),
    (lambda: metrics.AUC(curve="XY"), "curve='XY'"),
    (lambda: metrics.TopKCategoricalAccuracy(k=0), "k=0"),
    (lambda: metrics.Precision(thresholds=1.5), "thresholds=1.5"),
    (lambda: metrics.Recall(class_id=-1), "class_id=-1"),
])
def test_bad_metric_arguments(make, shown):
    with pytest.raises(ValueError, match=f"Received: {shown}"):
        make()


def test_compile_with_metric_objects_and_strings_trains():
    generator = np.random.default_rng(0)
    x = generator.random((64, 4), dtype=np.float32)
    y = (x.sum(axis=1) > 2).astype(np.float32)
    model = Sequential([layers.Dense(8, activation="relu", input_shape=(4,)), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy",
                  metrics=["binary_accuracy", metrics.AUC(), "precision", metrics.Recall(), "mae"])
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert set(history.history) == {"loss", "binary_accuracy", "auc", "precision", "recall", "mae"}
    assert all(0 <= v <= 1 for key in ("auc", "precision", "recall") for v in history.history[key])


def test_evaluate_accumulates_auc_precision_recall_over_the_whole_set():
    generator = np.random.default_rng(1)
    x = generator.standard_normal((64, 4)).astype(np.float32)
    y = (x[:, 0] + 0.5 * generator.standard_normal(64) > 0).astype(np.float32)
    model = Sequential([layers.Dense(1, activation="sigmoid", input_shape=(4,))])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=[metrics.AUC(), "precision", "recall"])
    loss, auc, precision, recall = model.evaluate(x, y, batch_size=8, verbose=0)
    p = model.predict(x)
    assert auc == pytest.approx(metrics.AUC()(y, p))  # one curve over all 64 samples, not a mean of 8
    assert precision == pytest.approx(metrics.Precision()(y, p))
    assert recall == pytest.approx(metrics.Recall()(y, p))
    batch_mean = np.mean([metrics.AUC()(y[i:i + 8], p[i:i + 8]) for i in range(0, 64, 8)])
    assert auc != pytest.approx(batch_mean)
