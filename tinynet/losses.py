"""Losses: ``forward(y_true, y_pred)`` returns the batch mean; ``backward()`` returns dL/dy_pred.

All reduce as Keras does: a per-sample loss, averaged over the batch (N samples).

Cross-entropy with ``from_logits=True`` works on logits ``z`` instead of
probabilities: ``-sum(y * log_softmax(z))``, finite for any logits, with the
gradient ``(p - y) / N`` for one-hot targets. A model whose output activation is a
softmax (sigmoid) and whose loss is the matching cross-entropy uses this form: its
training step stops before that activation and hands the logits to the loss
(``Model.loss_takes_logits``).
"""
import numpy as np

from .ops import log_softmax

# NOTE: probabilities are clipped to [EPSILON, 1 - EPSILON] before the log, as in
# Keras, so a confident wrong prediction costs -log(1e-7) ~ 16 instead of inf.
EPSILON = 1e-7


class Loss:
    name = "loss"
    from_logits = False

    def __call__(self, y_true, y_pred):
        return self.forward(y_true, y_pred)

    def get_config(self):
        return {"from_logits": self.from_logits} if self.from_logits else {}

    def __repr__(self):
        return f"{type(self).__name__}({self.get_config()})"


class CategoricalCrossentropy(Loss):
    """L = -(1/N) sum_n sum_k y_nk log p_nk, with one-hot (or probability) targets ``y: (N, K)``.

    From probabilities:  dL/dp = -y / (N p)          (0 where p was clipped)
    From logits z:       dL/dz = (p * sum_k y_k - y) / N,  p = softmax(z)
                               = (p - y) / N when each row of y sums to 1 (one-hot, soft labels)

    The first form holds for any targets: multi-hot rows get the gradient of the loss reported.
    """

    name = "categorical_crossentropy"

    def __init__(self, from_logits=False):
        self.from_logits = bool(from_logits)

    def forward(self, y_true, y_pred):
        n = y_pred.shape[0]
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
    """

    name = "binary_crossentropy"

    def __init__(self, from_logits=False):
        self.from_logits = bool(from_logits)

    def forward(self, y_true, y_pred):
        self.y = np.asarray(y_true, dtype=y_pred.dtype).reshape(y_pred.shape)
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


ALL = {
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "binary_crossentropy": BinaryCrossentropy,
    "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError,
}


def get(identifier):
    """A loss from a Keras name (``'categorical_crossentropy'``, ``'mse'``, ...) or an instance."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, str) and identifier.lower() in ALL:
        return ALL[identifier.lower()]()
    raise ValueError(f"Unknown loss: {identifier!r}. Expected one of {sorted(ALL)} or a Loss instance.")


__all__ = ["Loss", "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "BinaryCrossentropy",
           "MeanSquaredError", "get"]
