"""Metrics reported during training, as functions and as Keras's metric objects.

Functions take ``(y_true, y_pred)`` for one batch and return one value per sample,
as Keras's do: ``categorical_accuracy(y, p)`` is an array of 0s and 1s of shape ``(N,)``.

Objects accumulate over many batches and give the value for all of them:

    m = metrics.AUC()
    for x, y in batches:
        m.update_state(y, model.predict(x))
    m.result()          # the AUC of every sample seen since the last m.reset_state()

An average of per-batch values is right for the mean metrics (accuracies, MAE)
but not for AUC, precision or recall, which is why they keep counts instead.
``get_metric`` turns anything ``compile(metrics=[...])`` accepts into such an object.

    functions.py   the per-sample functions
    mean.py        Metric, MeanMetricWrapper, and the accuracies and errors (means over samples)
    confusion.py   Precision, Recall, AUC (counts at thresholds)

The metrics for a finished model (confusion matrix, classification report, ROC
curves and AUC) live in ``evaluation.py`` and are re-exported here, so
``tinynet.metrics.confusion_matrix`` works like scikit-learn's.
"""
from ..checks import invalid, is_int, short_repr
from .confusion import AUC, Precision, Recall
from .functions import (accuracy, binary_accuracy, categorical_accuracy, mean_absolute_error, mean_squared_error,
                        sparse_categorical_accuracy, sparse_top_k_categorical_accuracy, top_k_categorical_accuracy)
from .mean import (Accuracy, BinaryAccuracy, CategoricalAccuracy, Mean, MeanAbsoluteError, MeanMetricWrapper,
                   MeanSquaredError, Metric, SparseCategoricalAccuracy, SparseTopKCategoricalAccuracy,
                   TopKCategoricalAccuracy)


# ----- names, as compile(metrics=[...]) accepts them ---------------------------------

FUNCTIONS = {
    "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "binary_accuracy": binary_accuracy,
    "top_k_categorical_accuracy": top_k_categorical_accuracy,
    "sparse_top_k_categorical_accuracy": sparse_top_k_categorical_accuracy,
    "mse": mean_squared_error,
    "mean_squared_error": mean_squared_error,
    "mae": mean_absolute_error,
    "mean_absolute_error": mean_absolute_error,
}

# Names that stand for a stateful object; the History key is the object's name ('AUC' -> 'auc').
CLASSES = {"auc": AUC, "precision": Precision, "recall": Recall}

OBJECTS = {cls.__name__: cls for cls in (
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy, MeanSquaredError, MeanAbsoluteError, Precision, Recall, AUC)}


def _accuracy_for(loss_name):
    """'accuracy' means the accuracy that matches the loss, as in Keras."""
    if loss_name == "sparse_categorical_crossentropy":
        return sparse_categorical_accuracy
    if loss_name == "binary_crossentropy":
        return binary_accuracy
    return categorical_accuracy


def get_metric(identifier, loss_name=None):
    """A ``Metric`` object for anything ``compile(metrics=[...])`` accepts.

    - a ``Metric`` object: itself;
    - ``'accuracy'`` / ``'acc'``: the accuracy that matches the loss (sparse for sparse
      labels, binary for binary cross-entropy, categorical otherwise), named as spelled;
    - a function name (``'mae'``, ``'top_k_categorical_accuracy'``, ...) or a function:
      the mean of its values, named as spelled (a function by its ``__name__``);
    - ``'AUC'``, ``'precision'``, ``'recall'`` or a class name (``'SparseCategoricalAccuracy'``):
      a new object of that class, named as Keras names it (``'auc'``).
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier) and not isinstance(identifier, str):
        return MeanMetricWrapper(identifier, getattr(identifier, "__name__", type(identifier).__name__))
    if not isinstance(identifier, str):
        raise invalid("metrics", "a metric name such as 'accuracy', a function or a tinynet.metrics.Metric",
                      identifier, error=TypeError)
    name = identifier.lower()
    if name in ("accuracy", "acc"):
        return MeanMetricWrapper(_accuracy_for(loss_name), identifier)
    if name in FUNCTIONS:
        return MeanMetricWrapper(FUNCTIONS[name], identifier)
    if name in CLASSES:
        return CLASSES[name]()
    if identifier in OBJECTS:
        return OBJECTS[identifier]()
    known = sorted(["accuracy", "acc", *FUNCTIONS, *CLASSES, *OBJECTS])
    raise ValueError(f"Unknown metric: {short_repr(identifier)}. Expected one of {known}, a function or a "
                     "tinynet.metrics.Metric object.")


MAX_FILE_THRESHOLDS = 100_000


def serialize(metric, weighted=False):
    """A compiled metric as a file holds it: its name (a metric given by name or as a function), or
    ``{'class_name', 'config'}`` for one of the classes above, so its settings (Precision's thresholds,
    TopK's k) come back with it. ``weighted``: one of ``weighted_metrics``, whose name compile may have
    prefixed with 'weighted_' (compile does it again)."""
    if type(metric) in OBJECTS.values():
        return {"class_name": type(metric).__name__, "config": metric.get_config()}
    if weighted and metric.name.startswith("weighted_"):
        return metric.name[len("weighted_"):]
    return metric.name


def deserialize(spec):
    """The metric ``serialize`` wrote: a name as ``compile`` takes it, or a new object of the class named,
    built from its config (TypeError / ValueError from the class's own checks for a bad one)."""
    if isinstance(spec, dict):
        cls = OBJECTS.get(spec.get("class_name"))
        if cls is None or not isinstance(spec.get("config"), dict):
            raise ValueError(f"Unknown metric: {short_repr(spec)}. Expected one of {sorted(OBJECTS)}.")
        config = spec["config"]
        # A file is not trusted: AUC(num_thresholds=10**9) would allocate gigabytes before any check.
        count = config.get("num_thresholds", 0)
        thresholds = config.get("thresholds")
        if (is_int(count) and count > MAX_FILE_THRESHOLDS) or \
                (isinstance(thresholds, list) and len(thresholds) > MAX_FILE_THRESHOLDS):
            raise ValueError(f"{spec['class_name']} with more than {MAX_FILE_THRESHOLDS:,} thresholds is not read "
                             "from a file")
        return cls(**config)
    return spec


def get(identifier, loss_name):
    """``(name, function)`` for a metric given as Keras accepts it: ``function(y_true, y_pred)``
    is the metric's value on one batch (a float), which ``fit`` averages over an epoch.

    For AUC, precision and recall a mean of batch values is not the epoch's value;
    a training loop that wants the exact one uses ``get_metric`` and the object's
    ``reset_state`` / ``update_state`` / ``result``.
    """
    metric = get_metric(identifier, loss_name)
    return metric.name, metric.batch_value
