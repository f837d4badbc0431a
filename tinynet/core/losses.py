"""Losses: ``forward(y_true, y_pred)`` returns the batch mean; ``backward()`` returns dL/dy_pred.

All reduce as Keras does: a per-sample loss, averaged over the batch (N samples).

Cross-entropy with ``from_logits=True`` works on logits ``z`` instead of
probabilities: ``-sum(y * log_softmax(z))``, finite for any logits, with the
gradient ``(p - y) / N`` for one-hot targets. A model whose output activation is a
softmax (sigmoid) and whose loss is the matching cross-entropy uses this form: the
loss is handed that activation's input, the logits, found on the tape
(``Model.loss_takes_logits``, ``loss_op``).
"""
import math

import numpy as np

from . import tape as tape_module
from .checks import check_float, short_repr
from .ops import log_softmax
from .ops import math as math_ops
from .tensor import Tensor, logits_for, record

# NOTE: probabilities are clipped to [EPSILON, 1 - EPSILON] before the log, as in
# Keras, so a confident wrong prediction costs -log(1e-7) ~ 16 instead of inf.
EPSILON = 1e-7


class Loss:
    """Base class: ``forward(y_true, y_pred)`` -> the batch mean, ``backward()`` -> dL/dy_pred.

    Called like a Keras loss object, ``loss(y_true, y_pred, sample_weight=None)`` gives the
    same mean; with ``sample_weight``, the mean over the batch of ``sample_weight * per-sample
    loss`` (Keras's default reduction). On a tensor it returns a scalar tensor, recorded with
    its gradient while a tape records (``loss_op``). ``per_sample(y_true, y_pred)`` is Keras's
    loss function: one value per sample.
    """

    name = "loss"
    from_logits = False

    def __call__(self, y_true, y_pred, sample_weight=None):
        """The loss as a scalar tensor (``loss_fn(y, logits).numpy()``), on tensors or arrays alike."""
        if not isinstance(y_pred, Tensor):
            y_pred = Tensor(np.asarray(y_pred, dtype=float) if not isinstance(y_pred, np.ndarray) else y_pred)
        return loss_op(self, y_true, y_pred, sample_weight)

    def per_sample(self, y_true, y_pred):
        """One loss value per sample: Keras's loss function of the same name."""
        settings = {"from_logits": True} if self.from_logits else {}
        return FUNCTIONS[self.name](y_true, y_pred, **settings, **getattr(self, "settings", {}))

    def logits_twin(self):
        """The same loss taking logits (``from_logits=True``): what a cross-entropy becomes when the prediction
        it is given came out of the softmax / sigmoid it pairs with. Its other settings stay."""
        return self.with_settings(from_logits=True)

    def with_settings(self, **changes):
        """A new loss of this class with these settings changed and the others kept."""
        return type(self)(**{**self.get_config(), **changes})

    def get_config(self):
        config = {"from_logits": self.from_logits} if self.from_logits else {}
        if getattr(self, "label_smoothing", 0):
            config["label_smoothing"] = self.label_smoothing
        return config

    def __repr__(self):
        return f"{type(self).__name__}({self.get_config()})"


def loss_op(loss, y_true, y_pred, sample_weight=None):
    """A loss on a prediction tensor, as a recorded op: its value (a scalar tensor) and, while a tape
    records, its gradient ``loss.backward()`` (scaled by each sample's weight) as the node's VJP.

    As Keras does, a cross-entropy given the output of the softmax (sigmoid) it pairs with, and not told
    ``from_logits``, takes that activation's input, the logits: finite for any logits, exact gradients.
    """
    if not loss.from_logits and logits_for(y_pred, loss.name) is not None:
        loss, y_pred = loss.logits_twin(), logits_for(y_pred, loss.name)
    y, p = _plain(y_true), y_pred.value
    if sample_weight is None:
        value = loss.forward(y, p)
    else:
        w = np.asarray(sample_weight, dtype=np.float64)
        value = float(np.mean(w.reshape(-1) * loss.per_sample(y, p).reshape(len(w), -1).mean(axis=-1)))
        loss.forward(y, p)
    tape = tape_module.current()
    if not (y_pred.requires_grad and tape is not None and tape.record_nodes):
        return Tensor(np.asarray(value, dtype=np.float64))
    # Computed now, not in the VJP: the same loss object may be called again before backward runs.
    grad = loss.backward()
    if sample_weight is not None:
        grad = grad * np.asarray(sample_weight, dtype=grad.dtype).reshape((-1,) + (1,) * (grad.ndim - 1))
    return record(loss.name, [y_pred], np.asarray(value, dtype=np.float64), lambda g: [g * grad])


class LossFunction(Loss):
    """A loss given as a Python function ``fn(y_true, y_pred)`` (``compile(loss=my_loss)``), written with
    tinynet's ops (``K.mean(K.square(y_pred - y_true), axis=-1)``): its value is recorded op by op, so
    its gradient needs nothing hand-written. Per-sample values are averaged over the batch, as Keras does."""

    def __init__(self, function):
        self.function = function
        self.name = getattr(function, "__name__", type(function).__name__)

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_pred = y_pred if isinstance(y_pred, Tensor) else Tensor(np.asarray(y_pred))
        values = self.function(Tensor(np.asarray(_plain(y_true))), y_pred)
        if not isinstance(values, Tensor):
            if isinstance(values, (np.ndarray, np.generic, float, int)):
                raise TypeError(
                    f"The loss function {self.name!r} returned a NumPy value, not a tensor, so no gradient can flow "
                    "back through it: a NumPy function tinynet cannot differentiate was applied on the way. Write it "
                    "with tinynet's ops (K.mean, K.square, tinynet.ops.*) or the tensors' operators.")
            raise TypeError(f"The loss function {self.name!r} must return a tensor; it returned "
                            f"{type(values).__name__}.")
        if sample_weight is not None:
            per_sample = math_ops.mean(values, axis=tuple(range(1, values.ndim))) if values.ndim > 1 else values
            return math_ops.mean(per_sample * np.asarray(sample_weight, dtype=np.float32))
        return math_ops.mean(values)

    def per_sample(self, y_true, y_pred):
        values = np.asarray(self.function(Tensor(np.asarray(y_true)), Tensor(np.asarray(y_pred))))
        return values.reshape(len(values), -1).mean(axis=-1) if values.ndim > 1 else values

    def forward(self, y_true, y_pred):
        return float(np.asarray(self(y_true, Tensor(np.asarray(y_pred)))))

    def get_config(self):
        return {"function": self.name}


def _plain(y):
    return y.value if isinstance(y, Tensor) else y


class CategoricalCrossentropy(Loss):
    """L = -(1/N) sum_n sum_k y_nk log p_nk, with one-hot (or probability) targets ``y: (N, K)``.

    From probabilities:  dL/dp = -y / (N p)          (0 where p was clipped)
    From logits z:       dL/dz = (p * sum_k y_k - y) / N,  p = softmax(z)
                               = (p - y) / N when each row of y sums to 1 (one-hot, soft labels)

    The first form holds for any targets: multi-hot rows get the gradient of the loss reported.
    ``label_smoothing`` = s trains on y (1 - s) + s / K instead of y (Keras's formula); rows still sum to 1.
    """

    name = "categorical_crossentropy"

    def __init__(self, from_logits=False, label_smoothing=0.0):
        self.from_logits = bool(from_logits)
        self.label_smoothing = check_float(label_smoothing, "label_smoothing", 0, 1, owner=type(self).__name__)
        self.settings = {"label_smoothing": self.label_smoothing} if self.label_smoothing else {}

    def forward(self, y_true, y_pred):
        n = y_pred.shape[0]
        y_true = smooth(y_true, self.label_smoothing, 1 / y_pred.shape[-1])
        self.y = y_true
        if self.from_logits:
            log_p = log_softmax(y_pred)
            self.p = np.exp(log_p)
            return float(-(y_true * log_p).sum() / n)
        self.p = y_pred
        clipped = np.clip(y_pred, EPSILON, 1 - EPSILON)
        self.inside_clip = clipped == y_pred
        return float(-(y_true * np.log(clipped)).sum() / n)

    def backward(self):
        n = self.p.shape[0]
        if self.from_logits:
            return (self.p * self.y.sum(axis=-1, keepdims=True) - self.y) / n
        return -self.y / (n * np.clip(self.p, EPSILON, 1 - EPSILON)) * self.inside_clip


class SparseCategoricalCrossentropy(Loss):
    """Categorical cross-entropy with integer labels ``y: (N,)`` (or ``(N, 1)``).

    L = -(1/N) sum_n log p_{n, y_n}.  Gradients as in CategoricalCrossentropy with y one-hot.
    """

    name = "sparse_categorical_crossentropy"

    def __init__(self, from_logits=False):
        self.from_logits = bool(from_logits)

    def forward(self, y_true, y_pred):
        n = y_pred.shape[0]
        self.labels = np.asarray(y_true).reshape(n).astype(np.intp)
        rows = np.arange(n)
        if self.from_logits:
            log_p = log_softmax(y_pred)
            self.p = np.exp(log_p)
            return float(-log_p[rows, self.labels].sum() / n)
        self.p = y_pred
        picked = y_pred[rows, self.labels]
        clipped = np.clip(picked, EPSILON, 1 - EPSILON)
        self.picked_inside_clip = clipped == picked
        return float(-np.log(clipped).sum() / n)

    def backward(self):
        n = self.p.shape[0]
        rows = np.arange(n)
        if self.from_logits:
            grad = self.p.copy()
            grad[rows, self.labels] -= 1
            return grad / n
        grad = np.zeros_like(self.p)
        picked = np.clip(self.p[rows, self.labels], EPSILON, 1 - EPSILON)
        grad[rows, self.labels] = -1.0 / (n * picked) * self.picked_inside_clip
        return grad


class BinaryCrossentropy(Loss):
    """L = -(1/(N K)) sum (y log p + (1 - y) log(1 - p)) for ``K`` independent outputs.

    From probabilities: dL/dp = (p - y) / (p (1 - p) N K)   (0 where p was clipped)
    From logits z:      L per element = max(z, 0) - z y + log(1 + exp(-|z|)),
                        dL/dz = (sigmoid(z) - y) / (N K)
    ``label_smoothing`` = s trains on y (1 - s) + s / 2 instead of y (Keras's formula).
    """

    name = "binary_crossentropy"

    def __init__(self, from_logits=False, label_smoothing=0.0):
        self.from_logits = bool(from_logits)
        self.label_smoothing = check_float(label_smoothing, "label_smoothing", 0, 1, owner=type(self).__name__)
        self.settings = {"label_smoothing": self.label_smoothing} if self.label_smoothing else {}

    def forward(self, y_true, y_pred):
        self.y = smooth(np.asarray(y_true, dtype=y_pred.dtype).reshape(y_pred.shape), self.label_smoothing, 0.5)
        if self.from_logits:
            z = y_pred
            e = np.exp(-np.abs(z))
            self.p = np.where(z >= 0, 1 / (1 + e), e / (1 + e))
            return float((np.maximum(z, 0) - z * self.y + np.log1p(e)).mean())
        self.p = y_pred
        clipped = np.clip(y_pred, EPSILON, 1 - EPSILON)
        self.inside_clip = clipped == y_pred
        return float(-(self.y * np.log(clipped) + (1 - self.y) * np.log(1 - clipped)).mean())

    def backward(self):
        if self.from_logits:
            return (self.p - self.y) / self.p.size
        p = np.clip(self.p, EPSILON, 1 - EPSILON)
        return (p - self.y) / (p * (1 - p) * p.size) * self.inside_clip


class MeanSquaredError(Loss):
    """L = (1/(N K)) sum (p - y)^2;  dL/dp = 2 (p - y) / (N K)."""

    name = "mean_squared_error"

    def forward(self, y_true, y_pred):
        self.diff = y_pred - np.asarray(y_true, dtype=y_pred.dtype).reshape(y_pred.shape)
        return float((self.diff * self.diff).mean())

    def backward(self):
        return 2 * self.diff / self.diff.size


# ----- regression and margin losses: Keras's per-sample function, then the Loss with its gradient -----
# Each function returns one value per sample (the mean over the last axis), as Keras's do; the
# Loss object's value is their mean over the batch, and its gradient is taken of that mean.

def mean_absolute_error(y_true, y_pred):
    """mean_k |p - y| per sample."""
    if isinstance(y_pred, Tensor):  # recorded, as the functions below
        return math_ops.mean(math_ops.abs(y_pred - _like(y_true, y_pred)), axis=-1)
    return np.abs(y_pred - _like(y_true, y_pred)).mean(axis=-1)


def huber(y_true, y_pred, delta=1.0):
    """mean_k l(p - y) per sample, l(e) = e^2 / 2 for |e| <= delta, delta (|e| - delta / 2) beyond."""
    e = y_pred - _like(y_true, y_pred)
    a = np.abs(e)
    return np.where(a <= delta, 0.5 * e * e, delta * (a - 0.5 * delta)).mean(axis=-1)


def log_cosh(y_true, y_pred):
    """mean_k log(cosh(p - y)) per sample.

    NOTE: written e + log(1 + exp(-2e)) - log 2, which does not overflow for large |e|.
    """
    e = y_pred - _like(y_true, y_pred)
    return (e + np.logaddexp(0, -2 * e) - math.log(2)).mean(axis=-1)


def hinge(y_true, y_pred):
    """mean_k max(1 - y p, 0) per sample; labels in {-1, 1} (0/1 are mapped to -1/1, as Keras does)."""
    y = _plus_minus_one(_like(y_true, y_pred))
    return np.maximum(1 - y * y_pred, 0).mean(axis=-1)


def squared_hinge(y_true, y_pred):
    """mean_k max(1 - y p, 0)^2 per sample; labels as for ``hinge``."""
    y = _plus_minus_one(_like(y_true, y_pred))
    return np.square(np.maximum(1 - y * y_pred, 0)).mean(axis=-1)


def kl_divergence(y_true, y_pred):
    """sum_k y log(y / p) per sample, both clipped to [EPSILON, 1] as in Keras."""
    y = np.clip(_like(y_true, y_pred), EPSILON, 1)
    return (y * np.log(y / np.clip(y_pred, EPSILON, 1))).sum(axis=-1)


def poisson(y_true, y_pred):
    """mean_k p - y log(p + EPSILON) per sample: the Poisson negative log-likelihood of counts y, rate p."""
    return (y_pred - _like(y_true, y_pred) * np.log(y_pred + EPSILON)).mean(axis=-1)


class MeanAbsoluteError(Loss):
    """L = (1/(N K)) sum |p - y|;  dL/dp = sign(p - y) / (N K)   (0 where p = y, as Keras's sign)."""

    name = "mean_absolute_error"

    def forward(self, y_true, y_pred):
        self.cache = (y_pred - _like(y_true, y_pred),)
        return float(mean_absolute_error(y_true, y_pred).mean())

    def backward(self):
        (e,) = self.cache
        return np.sign(e) / e.size


class Huber(Loss):
    """L = mean of l(p - y) (see ``huber``);  dL/dp = clip(p - y, -delta, delta) / (N K)."""

    name = "huber_loss"

    def __init__(self, delta=1.0):
        self.delta = check_float(delta, "delta", minimum=0, min_open=True, owner="Huber")
        self.settings = {"delta": self.delta}

    def forward(self, y_true, y_pred):
        self.cache = (y_pred - _like(y_true, y_pred),)
        return float(huber(y_true, y_pred, self.delta).mean())

    def backward(self):
        (e,) = self.cache
        return np.clip(e, -self.delta, self.delta) / e.size

    def get_config(self):
        return {"delta": self.delta}


class LogCosh(Loss):
    """L = mean of log(cosh(p - y));  dL/dp = tanh(p - y) / (N K)."""

    name = "log_cosh"

    def forward(self, y_true, y_pred):
        self.cache = (y_pred - _like(y_true, y_pred),)
        return float(log_cosh(y_true, y_pred).mean())

    def backward(self):
        (e,) = self.cache
        return np.tanh(e) / e.size


class Hinge(Loss):
    """L = mean of max(1 - y p, 0);  dL/dp = -y [1 - y p > 0] / (N K).

    NOTE: at the kink y p = 1 we use the derivative 0: the slope of the flat side, where the
    margin is met. In p that is the right-hand derivative for y = 1 (the kink at p = 1) but
    the left-hand one for y = -1 (the kink at p = -1).
    """

    name = "hinge"

    def forward(self, y_true, y_pred):
        y = _plus_minus_one(_like(y_true, y_pred))
        self.cache = (y, 1 - y * y_pred)
        return float(hinge(y_true, y_pred).mean())

    def backward(self):
        y, margin = self.cache
        return -y * (margin > 0) / y.size


class SquaredHinge(Loss):
    """L = mean of max(1 - y p, 0)^2;  dL/dp = -2 y max(1 - y p, 0) / (N K)."""

    name = "squared_hinge"

    def forward(self, y_true, y_pred):
        y = _plus_minus_one(_like(y_true, y_pred))
        self.cache = (y, np.maximum(1 - y * y_pred, 0))
        return float(squared_hinge(y_true, y_pred).mean())

    def backward(self):
        y, margin = self.cache
        return -2 * y * margin / y.size


class KLDivergence(Loss):
    """L = (1/N) sum_n sum_k y log(y / p);  dL/dp = -y / (N p)   (0 where p was clipped)."""

    name = "kl_divergence"

    def forward(self, y_true, y_pred):
        y = np.clip(_like(y_true, y_pred), EPSILON, 1)
        p = np.clip(y_pred, EPSILON, 1)
        self.cache = (y, p, p == y_pred)
        return float(kl_divergence(y_true, y_pred).mean())

    def backward(self):
        y, p, inside_clip = self.cache
        return -y / (len(p) * p) * inside_clip


class Poisson(Loss):
    """L = mean of p - y log(p + EPSILON);  dL/dp = (1 - y / (p + EPSILON)) / (N K)."""

    name = "poisson"

    def forward(self, y_true, y_pred):
        self.cache = (_like(y_true, y_pred), y_pred)
        return float(poisson(y_true, y_pred).mean())

    def backward(self):
        y, p = self.cache
        return (1 - y / (p + EPSILON)) / p.size


def _like(y_true, y_pred):
    return np.asarray(y_true, dtype=np.asarray(y_pred).dtype).reshape(np.shape(y_pred))


def _plus_minus_one(y):
    # Keras: labels given as 0/1 are turned into -1/1.
    return 2 * y - 1 if np.all((y == 0) | (y == 1)) else y


# ----- Keras's cross-entropy and squared-error functions: per-sample values -----------------------
# Given a tensor (``y_pred = self(x, training=True)`` inside a GradientTape, as a model's own train_step
# computes its loss), they compute the same values from recorded ops, so the tape can differentiate them.
def smooth(y, label_smoothing, uniform):
    """Keras's label smoothing: y (1 - s) + s * uniform (1/K for K classes, 1/2 for a binary output)."""
    return y if not label_smoothing else y * (1 - label_smoothing) + label_smoothing * uniform


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0):
    """-sum_k y log p per sample (``from_logits``: p = softmax(y_pred))."""
    if isinstance(y_pred, Tensor):
        y = smooth(_like(y_true, y_pred), label_smoothing, 1 / y_pred.shape[-1])
        return math_ops.categorical_crossentropy(y, y_pred, from_logits)
    y_pred = np.asarray(y_pred)
    y_true = smooth(_like(y_true, y_pred), label_smoothing, 1 / y_pred.shape[-1])
    log_p = log_softmax(y_pred) if from_logits else np.log(np.clip(y_pred, EPSILON, 1 - EPSILON))
    return -(_like(y_true, y_pred) * log_p).sum(axis=-1)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):
    """-log p[label] per sample."""
    if isinstance(y_pred, Tensor):
        return math_ops.sparse_categorical_crossentropy(y_true, y_pred, from_logits)
    y_pred = np.asarray(y_pred)
    log_p = log_softmax(y_pred) if from_logits else np.log(np.clip(y_pred, EPSILON, 1 - EPSILON))
    labels = np.asarray(y_true).reshape(log_p.shape[:-1]).astype(np.intp)
    return -np.take_along_axis(log_p, labels[..., None], axis=-1)[..., 0]


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0):
    """mean_k -(y log p + (1 - y) log(1 - p)) per sample."""
    y = smooth(_like(y_true, y_pred), label_smoothing, 0.5)
    if isinstance(y_pred, Tensor):
        return math_ops.mean(math_ops.binary_crossentropy(y, y_pred, from_logits), axis=-1)
    y_pred = np.asarray(y_pred)
    if from_logits:
        return (np.maximum(y_pred, 0) - y_pred * y + np.log1p(np.exp(-np.abs(y_pred)))).mean(axis=-1)
    p = np.clip(y_pred, EPSILON, 1 - EPSILON)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean(axis=-1)


def mean_squared_error(y_true, y_pred):
    """mean_k (p - y)^2 per sample."""
    if isinstance(y_pred, Tensor):
        return math_ops.mean(math_ops.square(y_pred - _like(y_true, y_pred)), axis=-1)
    return np.square(np.asarray(y_pred) - _like(y_true, y_pred)).mean(axis=-1)


# Keras's short names for the functions.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
kld = KLD = kl_divergence
logcosh = log_cosh


ALL = {
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "binary_crossentropy": BinaryCrossentropy,
    "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError,
    "mae": MeanAbsoluteError,
    "huber": Huber,
    "huber_loss": Huber,
    "log_cosh": LogCosh,
    "logcosh": LogCosh,
    "hinge": Hinge,
    "squared_hinge": SquaredHinge,
    "kl_divergence": KLDivergence,
    "kullback_leibler_divergence": KLDivergence,
    "kld": KLDivergence,
    "poisson": Poisson,
}
ALL.update({cls.__name__.lower(): cls for cls in set(ALL.values())})  # 'MeanSquaredError', as Keras accepts too

# Keras's loss functions by the name of the loss that uses them.
FUNCTIONS = {
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "binary_crossentropy": binary_crossentropy,
    "mean_squared_error": mean_squared_error,
    "mean_absolute_error": mean_absolute_error,
    "huber_loss": huber,
    "log_cosh": log_cosh,
    "hinge": hinge,
    "squared_hinge": squared_hinge,
    "kl_divergence": kl_divergence,
    "poisson": poisson,
}
_LOSS_OF_FUNCTION = {function: ALL[name] for name, function in FUNCTIONS.items()}


def get(identifier):
    """A loss from a Keras name (``'categorical_crossentropy'``, ``'mae'``, ``'Huber'``), a Loss class or
    instance, or Keras's loss function (``losses.categorical_crossentropy``)."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, str) and identifier.lower() in ALL:
        return ALL[identifier.lower()]()
    if callable(identifier) and identifier in _LOSS_OF_FUNCTION:
        return _LOSS_OF_FUNCTION[identifier]()
    if callable(identifier):
        return LossFunction(identifier)
    raise ValueError(f"Unknown loss: {short_repr(identifier)}. Expected one of {sorted(ALL)} or a Loss instance.")


__all__ = ["Loss", "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "BinaryCrossentropy",
           "MeanSquaredError", "MeanAbsoluteError", "Huber", "LogCosh", "Hinge", "SquaredHinge", "KLDivergence",
           "Poisson", "get", *FUNCTIONS, "mse", "mae", "kld", "logcosh"]
