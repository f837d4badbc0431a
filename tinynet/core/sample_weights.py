"""Per-sample loss weights: ``fit(sample_weight=..., class_weight=...)``, checked before training starts.

With weights ``s_i`` the loss of a batch is Keras's weighted mean

    L = sum_i s_i * loss_i / N          (N: the samples in the batch, not the sum of the weights)

so a sample of weight 2 counts as that sample twice, and weight 0 drops it. ``class_weight``
gives each sample the weight of its class, ``s_i = class_weight[label_i]`` (1 for a class
it does not list); with both, a sample's weight is the product.

Every weight must be a finite number >= 0 and every ``class_weight`` key a class the
model outputs, or a ValueError says which one is wrong before anything changes. A
negative weight would make training climb the loss, a NaN or infinite one stop it as
"diverged", and a key the labels never match -- 1-based classes, say -- would be ignored
without a word. A key that is a string of digits is that class: ``{'0': 100, '1': 0}``
is how JSON gives ``{0: 100, 1: 0}`` back (Keras 3 ignored such keys without a word).
"""
import math

import numpy as np

from .checks import is_int, is_real, short_repr

_FLOAT32_MAX = float(np.finfo(np.float32).max)


def sample_weights(y, sample_weight=None, class_weight=None, classes=None, argument="sample_weight"):
    """One weight per sample of ``y`` (float64, shape ``(N,)``), or None when neither weighting is given.

    Args:
        y: the targets as the loss takes them: integer labels ``(N,)``, one-hot or
            multi-hot rows ``(N, C)``, or one column ``(N, 1)`` (binary).
        sample_weight: None, or N numbers (shape ``(N,)`` or ``(N, 1)``).
        class_weight: None, or a dict ``{class index: weight}``.
        classes: how many classes the model outputs (its last layer's width); a
            one-column output has two classes, 0 and 1. Only read with ``class_weight``.
        argument: the name ``sample_weight`` had for the user (``validation_data[2]``).
    """
    weights = None if sample_weight is None else check_sample_weight(sample_weight, len(y), argument)
    if class_weight is None:
        return weights
    by_class = class_weight_of_each_sample(y, class_weight, classes)
    return by_class if weights is None else weights * by_class


def check_sample_weight(sample_weight, n, argument="sample_weight"):
    """``sample_weight`` as a float64 array of shape ``(n,)``, every entry finite and >= 0."""
    try:
        weights = np.asarray(sample_weight)
    except Exception as error:  # ragged lists and the like
        raise ValueError(f"`{argument}` could not be read as an array of numbers: {error}") from None
    if weights.dtype.kind not in "biuf":
        raise TypeError(f"`{argument}` must hold real numbers, one per sample. Received an array of dtype "
                        f"{weights.dtype}.")
    if weights.shape not in ((n,), (n, 1)):
        raise ValueError(f"`{argument}` must hold one weight per sample: an array of shape ({n},). "
                         f"Received an array of shape {weights.shape}.")
    weights = weights.reshape(n).astype(np.float64)
    bad = ~(np.isfinite(weights) & (weights >= 0) & (weights <= _FLOAT32_MAX))
    if bad.any():
        first = int(np.argmax(bad))
        raise ValueError(f"`{argument}` must hold finite weights >= 0, but {int(bad.sum())} of its {n} entries are "
                         f"not; the first is {argument}[{first}] = {weights[first].item()!r}.")
    return weights


def check_class_weight(class_weight, classes):
    """``class_weight`` as a float64 table ``t`` of ``classes`` entries: ``t[c]`` is class c's weight
    (1 if unlisted)."""
    if not isinstance(class_weight, dict):
        raise ValueError(f"`class_weight` must be a dict {{class index: weight}}, e.g. {{0: 1.0, 1: 5.0}}. "
                        f"Received: {short_repr(class_weight)} of type {type(class_weight).__name__}.")
    table, seen = np.ones(classes), set()
    for key, weight in class_weight.items():
        if isinstance(key, str) and key.isascii() and key.isdigit() and len(key) <= 18:
            key = int(key)  # '3': JSON writes every key as a string, and gives '3' back for 3
        if not is_int(key):
            raise ValueError(f"`class_weight` keys must be class indices (integers from 0 to {classes - 1}), but "
                             f"it has the key {short_repr(key)} of type {type(key).__name__}.")
        if int(key) in seen:
            raise ValueError(f"`class_weight` gives class {int(key)} two weights (as {short_repr(key)} and as a "
                             f"number or string spelling the same class): give it one.")
        seen.add(int(key))
        if not 0 <= key < classes:
            raise ValueError(f"`class_weight` has the key {int(key)}, but the model outputs {classes} classes, "
                             f"numbered 0 to {classes - 1}: that weight would never be used.")
        if not (is_real(weight) and math.isfinite(weight) and 0 <= weight <= _FLOAT32_MAX):
            raise ValueError(f"`class_weight` must map each class to a finite weight >= 0, but class {int(key)} "
                             f"has the weight {short_repr(weight)}.")
        table[key] = float(weight)
    return table


def class_weight_of_each_sample(y, class_weight, classes):
    """``class_weight[label_i]`` for each sample; the label is the argmax of a row of several
    columns, else the rounded value (as Keras reads labels for ``class_weight``)."""
    if y.ndim > 2:
        raise ValueError(f"`class_weight` needs one label per sample, but the targets have shape {y.shape}; "
                         "for targets of 3 or more dimensions use `sample_weight` instead (Keras refuses this too).")
    several_columns = y.ndim == 2 and y.shape[1] > 1
    if several_columns:
        classes = y.shape[1]
    elif classes is None or classes < 2:
        classes = 2  # one output column: the classes 0 and 1
    table = check_class_weight(class_weight, classes)
    labels = y.argmax(axis=1) if several_columns else np.round(y.reshape(len(y))).astype(np.int64)
    # A label outside the table (a rounded regression target) keeps the weight 1, as in Keras.
    inside = (labels >= 0) & (labels < classes)
    return np.where(inside, table[np.where(inside, labels, 0)], 1.0)

