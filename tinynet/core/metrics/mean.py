"""Metric objects whose value is a mean over samples: the ``Metric`` base class, ``MeanMetricWrapper``
and Keras's accuracy and error classes built on it."""
import copy

import numpy as np

from ..checks import check_float, check_int, invalid
from .functions import (accuracy, binary_accuracy, categorical_accuracy, mean_absolute_error, mean_squared_error,
                        sparse_categorical_accuracy, sparse_top_k_categorical_accuracy, top_k_categorical_accuracy)


class Metric:
    """Base class: ``update_state`` adds a batch, ``result`` gives the value so far, ``reset_state`` forgets.

    ``m(y_true, y_pred)`` is ``m.update_state(y_true, y_pred)`` then ``m.result()``, as in Keras.
    ``m.batch_value(y_true, y_pred)`` is the value on that batch alone, and leaves the state alone.

    A metric written as Keras's guides write one keeps its state in variables made in ``__init__``
    (after ``super().__init__``) with ``self.add_weight(name, initializer="zeros")`` and changed with
    ``assign_add``; the default ``reset_state`` sets every such variable back to zeros. tinynet's own
    metrics keep plain arrays, made by their ``reset_state`` at the end of their ``__init__``.
    """

    default_name = "metric"

    def __init__(self, name=None, dtype=None):
        if name is not None and not isinstance(name, str):
            raise invalid("name", "a string", name, type(self).__name__)
        self.name = name or self.default_name
        self.dtype = dtype
        self._variables = []

    def add_weight(self, name=None, shape=(), initializer="zeros", dtype=None):
        """A state variable of this metric (a non-trainable ``Parameter``: ``assign``, ``assign_add``, usable
        in ops), ``zeros`` of ``shape`` -- the only initializer Keras's metrics use."""
        if initializer != "zeros":
            raise invalid("initializer", "'zeros' (a metric's state starts empty)", initializer, type(self).__name__)
        from ..layers.base import Parameter   # a metric's state is a variable, as a layer's weight is
        variable = Parameter(np.zeros(shape, dtype=np.dtype(dtype or "float32")), name or "variable", trainable=False)
        self._variables.append(variable)
        return variable

    @property
    def variables(self):
        return list(self._variables)

    def reset_state(self):
        for variable in self._variables:
            variable.assign(np.zeros_like(variable.data))

    def update_state(self, y_true, y_pred, sample_weight=None):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def reset_states(self):  # the Keras 2 spelling
        self.reset_state()

    def __call__(self, y_true, y_pred, sample_weight=None):
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()

    def batch_value(self, y_true, y_pred):
        fresh = copy.deepcopy(self)
        fresh.reset_state()
        fresh.update_state(y_true, y_pred)
        return fresh.result()

    def get_config(self):
        """The arguments that rebuild this metric (``type(m)(**m.get_config())``), as Keras names them."""
        return {"name": self.name, "dtype": None if self.dtype is None else str(self.dtype)}

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}>"


def checked_sample_weight(sample_weight, n):
    if sample_weight is None:
        return np.ones(n)
    weight = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
    if weight.shape != (n,) or not np.all(np.isfinite(weight)) or np.any(weight < 0):
        raise invalid("sample_weight", f"{n} finite non-negative weights, one per sample", sample_weight)
    return weight


class MeanMetricWrapper(Metric):
    """The (weighted) mean of ``fn(y_true, y_pred)`` over every sample seen.

        result = sum_i w_i v_i / sum_i w_i

    ``fn`` returns one value per sample, or one value for the batch (then it counts
    for each of the batch's samples, which is how ``fit`` has always averaged).
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        if not callable(fn):
            raise invalid("fn", "a function (y_true, y_pred) -> values", fn, "MeanMetricWrapper", error=TypeError)
        self.fn, self.kwargs = fn, kwargs
        super().__init__(name or getattr(fn, "__name__", None), dtype)
        self.reset_state()

    def reset_state(self):
        self.total, self.count = 0.0, 0.0

    def update_state(self, y_true, y_pred, sample_weight=None):
        n = len(y_pred)
        values = np.asarray(self.fn(y_true, y_pred, **self.kwargs), dtype=np.float64)
        if values.shape != (n,):
            values = np.full(n, float(values)) if values.ndim == 0 else values.reshape(n, -1).mean(axis=1)
        weight = checked_sample_weight(sample_weight, n)
        self.total += float(values @ weight)
        self.count += float(n if sample_weight is None else weight.sum())

    def result(self):
        return self.total / self.count if self.count else 0.0

    def batch_value(self, y_true, y_pred):
        return float(np.mean(self.fn(y_true, y_pred, **self.kwargs)))

    def get_config(self):
        return {**super().get_config(), **self.kwargs}   # TopK's k, BinaryAccuracy's threshold


class Mean(Metric):
    """The (weighted) mean of every value given: ``m.update_state(values)``, ``m.result()``; ``m(values)``
    adds them and returns the mean so far (Keras's ``keras.metrics.Mean``, how a training loop written by
    hand averages its batch losses).

        result = sum_i w_i v_i / sum_i w_i     (w_i = 1 without ``sample_weight``)
    """

    default_name = "mean"

    def __init__(self, name=None, dtype=None):
        super().__init__(name, dtype)
        self.reset_state()

    def reset_state(self):
        self.total, self.count = 0.0, 0.0

    def update_state(self, values, sample_weight=None):
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        weight = checked_sample_weight(sample_weight, len(values))
        self.total += float(values @ weight)
        self.count += float(weight.sum())

    def result(self):
        return self.total / self.count if self.count else 0.0

    def __call__(self, values, sample_weight=None):
        self.update_state(values, sample_weight)
        return self.result()


class Accuracy(MeanMetricWrapper):
    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name, dtype)


class BinaryAccuracy(MeanMetricWrapper):
    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        threshold = check_float(threshold, "threshold", owner="BinaryAccuracy")
        super().__init__(binary_accuracy, name, dtype, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name, dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name, dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        k = check_int(k, "k", minimum=1, owner="TopKCategoricalAccuracy")
        super().__init__(top_k_categorical_accuracy, name, dtype, k=k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        k = check_int(k, "k", minimum=1, owner="SparseTopKCategoricalAccuracy")
        super().__init__(sparse_top_k_categorical_accuracy, name, dtype, k=k)


class MeanSquaredError(MeanMetricWrapper):
    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name, dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name, dtype)
