"""Plots for looking at training and at a trained model, with matplotlib alone.

    plot_history(history)                  accuracy and loss per epoch, training and validation
    plot_history(h1, h2, labels=[...])     two runs on the same axes, to compare them
    plot_confusion_matrix(cm)              an annotated heat map
    plot_images(x, y_true, y_pred)         a grid of images with their labels; mistakes in red
    plot_roc(y_true, probs)                one-vs-rest ROC curves with micro and macro averages
    plot_filters(conv_layer)               a Conv2D layer's kernels, one small image per filter
    plot_feature_maps(model, image)        what a Conv2D layer outputs for one image
    plot_gradient_stats(history)           per-layer gradient norms, update ratios, dead ReLUs (GradientStats)

Each returns the matplotlib Figure, and saves it (PNG, PDF, ... by the
extension) when given ``path=``. With no display (a server, CI) matplotlib
draws with its Agg backend, so everything works there too; call
``matplotlib.pyplot.show()`` to see a figure on a desktop.

Images follow Keras's layout: ``(N, H, W)`` or ``(N, H, W, C)``; flat ``(N, 784)``
rows are shown as 28x28 squares. Conv2D kernels are ``(kh, kw, C_in, C_out)``.
"""
import math
import os
import sys

import matplotlib

if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) \
        and "MPLBACKEND" not in os.environ:
    matplotlib.use("Agg")  # no display: draw to files only
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .checks import check_bool, check_int, invalid  # noqa: E402
from .evaluation import _labels, roc_curves  # noqa: E402

ACCURACY_KEYS = ("accuracy", "acc", "categorical_accuracy", "sparse_categorical_accuracy", "binary_accuracy")


def _finish(figure, path):
    figure.tight_layout()
    if path is not None:
        figure.savefig(path)
    return figure


def _history_dict(history, argument):
    history = getattr(history, "history", history)  # a History or its .history dict
    if not isinstance(history, dict) or "loss" not in history:
        raise invalid(argument, "a History (what fit returns) or its .history dict with a 'loss' entry", history,
                      error=TypeError)
    return history


def plot_history(*histories, labels=None, title=None, path=None):
    """Accuracy and loss per epoch, training (solid) and validation (dashed), as seeds 000 and 003 draw them.

    Args:
        *histories: one or more ``History`` objects (or their ``.history`` dicts).
            Several are drawn on the same axes, one colour each, to compare runs.
        labels: a name per history for the legend, default "model 1", "model 2", ...
        title: the figure's title.

    Returns:
        the Figure: one axes "Accuracy" (if an accuracy was recorded) and one "Loss".
    """
    if not histories:
        raise TypeError("plot_history needs at least one history, e.g. plot_history(model.fit(...)).")
    dicts = [_history_dict(h, f"histories[{i}]") for i, h in enumerate(histories)]
    if labels is None:
        labels = [""] if len(dicts) == 1 else [f"model {i + 1}" for i in range(len(dicts))]
    if len(labels) != len(dicts):
        raise ValueError(f"Received {len(labels)} labels for {len(dicts)} histories.")
    accuracy_key = next((k for k in ACCURACY_KEYS if all(k in d for d in dicts)), None)
    panels = ([(accuracy_key, "Accuracy")] if accuracy_key else []) + [("loss", "Loss")]
    figure, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.5), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, (key, name) in zip(axes[0], panels):
        for i, (history, label) in enumerate(zip(dicts, labels)):
            colour = colours[i % len(colours)]
            prefix = f"{label} " if label else ""
            epochs = np.arange(1, len(history[key]) + 1)
            ax.plot(epochs, history[key], "-", color=colour, label=f"{prefix}train")
            if f"val_{key}" in history:
                ax.plot(epochs, history[f"val_{key}"], "--", color=colour, label=f"{prefix}validation")
        ax.set_title(f"Training and validation {name.lower()}")
        ax.set_xlabel("Epoch")
        ax.set_ylabel(name)
        ax.legend(loc="best")
    if title:
        figure.suptitle(title)
    return _finish(figure, path)


def plot_confusion_matrix(cm, class_names=None, normalize=False, title="Confusion matrix", path=None):
    """An annotated heat map of ``cm`` (rows: true class, columns: predicted class).

    Args:
        cm: ``(K, K)`` counts, as ``tinynet.metrics.confusion_matrix`` returns.
        class_names: K tick labels, default 0..K-1.
        normalize: show each row as fractions of its true class (the recall on the diagonal).

    Returns:
        the Figure; the axes hold one image and, for K <= 30, one number per cell.
    """
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"Received an invalid value for `cm`, expected a square (K, K) matrix. Received: shape {cm.shape}")
    k = cm.shape[0]
    names = [str(i) for i in range(k)] if class_names is None else [str(n) for n in class_names]
    if len(names) != k:
        raise ValueError(f"Received an invalid value for `class_names`, expected {k} names. Received: {len(names)}")
    normalize = check_bool(normalize, "normalize", owner="plot_confusion_matrix")
    values = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1) if normalize else cm
    size = max(5.0, 0.5 * k + 2)
    figure, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(values, cmap="Blues", interpolation="nearest")
    figure.colorbar(image, ax=ax)
    ax.set_xticks(range(k), names, rotation=45 if max(map(len, names)) > 2 else 0, ha="right" if
                  max(map(len, names)) > 2 else "center")
    ax.set_yticks(range(k), names)
    ax.set_xlabel("Predicted label")
    ax.set_ylabel("True label")
    ax.set_title(title)
    if k <= 30:  # beyond that the numbers would not fit in the cells
        # Light text on dark cells, dark text on light ones.
        threshold = (values.max() + values.min()) / 2
        for i in range(k):
            for j in range(k):
                text = f"{values[i, j]:.2f}" if normalize else f"{values[i, j]:d}"
                ax.text(j, i, text, ha="center", va="center", fontsize=8,
                        color="white" if values[i, j] > threshold else "black")
    return _finish(figure, path)


def _as_images(x, argument):
    """``(N, H, W)`` or ``(N, H, W, C)`` images from images or flat square rows."""
    x = np.asarray(x)
    if x.ndim == 2:
        side = math.isqrt(x.shape[1])
        if side * side != x.shape[1]:
            raise ValueError(f"Received an invalid value for `{argument}`, expected images (N, H, W[, C]) or flat "
                             f"square rows like (N, 784). Received: shape {x.shape}")
        x = x.reshape(len(x), side, side)
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim not in (3, 4):
        raise ValueError(f"Received an invalid value for `{argument}`, expected images (N, H, W[, C]). "
                         f"Received: shape {x.shape}")
    return x


def _grid(n, cols):
    cols = max(1, min(cols, n))
    return math.ceil(n / cols), cols


def plot_images(x, y_true=None, y_pred=None, class_names=None, max_images=25, cols=5, title=None, path=None):
    """A grid of images titled with their labels; with ``y_pred``, mistakes are titled in red.

    Args:
        x: images ``(N, H, W[, C])`` or flat rows ``(N, H*W)``.
        y_true, y_pred: labels ``(N,)`` (or one-hot / probability rows), optional.
        class_names: names to show instead of the label numbers.
        max_images: at most this many of the first images are drawn.

    Returns:
        the Figure, one axes per image shown.
    """
    max_images = check_int(max_images, "max_images", minimum=1, owner="plot_images")
    cols = check_int(cols, "cols", minimum=1, owner="plot_images")
    x = _as_images(x, "x")
    n = min(len(x), max_images)
    if n == 0:
        raise ValueError("plot_images received no images.")
    true = None if y_true is None else _labels(y_true, "y_true")
    pred = None if y_pred is None else _labels(y_pred, "y_pred")

    def name(label):
        return str(label) if class_names is None else str(class_names[label])

    rows, cols = _grid(n, cols)
    figure, axes = plt.subplots(rows, cols, figsize=(1.8 * cols, 2.0 * rows), squeeze=False)
    for ax in axes.ravel()[n:]:
        figure.delaxes(ax)
    for i, ax in enumerate(axes.ravel()[:n]):
        ax.imshow(x[i], cmap="gray_r" if x[i].ndim == 2 else None)
        ax.set_xticks([])
        ax.set_yticks([])
        if pred is not None and true is not None:
            wrong = pred[i] != true[i]
            ax.set_title(f"true {name(true[i])}\npred {name(pred[i])}", fontsize=8, color="red" if wrong else "black")
        elif true is not None:
            ax.set_title(name(true[i]), fontsize=8)
        elif pred is not None:
            ax.set_title(f"pred {name(pred[i])}", fontsize=8)
    if title:
        figure.suptitle(title)
    return _finish(figure, path)


def plot_roc(y_true, probs, classes=None, class_names=None, title="ROC curves (one vs rest)", path=None):
    """ROC curves of a K-class classifier: micro and macro averages, and one curve per class.

    Args:
        y_true: ``(N,)`` labels or ``(N, K)`` one-hot rows.
        probs: ``(N, K)`` predicted probabilities, e.g. ``model.predict(x)``.
        classes: which classes get their own curve; default all when K <= 10, else the first 3
            (seed 002 draws 3 of its 100).

    Returns:
        the Figure; its legend gives each curve's area (AUC).
    """
    fpr, tpr, roc_auc = roc_curves(y_true, probs)
    k = np.asarray(probs).shape[1]
    if classes is None:
        classes = range(k) if k <= 10 else range(3)
    figure, ax = plt.subplots(figsize=(7, 6))
    ax.plot(fpr["micro"], tpr["micro"], ":", linewidth=3, color="deeppink",
            label=f"micro-average (area = {roc_auc['micro']:.2f})")
    ax.plot(fpr["macro"], tpr["macro"], ":", linewidth=3, color="navy",
            label=f"macro-average (area = {roc_auc['macro']:.2f})")
    for c in classes:
        label = str(c) if class_names is None else str(class_names[c])
        ax.plot(fpr[c], tpr[c], linewidth=1.5, label=f"class {label} (area = {roc_auc[c]:.2f})")
    ax.plot([0, 1], [0, 1], "k--", linewidth=1)  # a classifier that guesses
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.05)
    ax.set_xlabel("False Positive Rate")
    ax.set_ylabel("True Positive Rate")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    return _finish(figure, path)


def plot_filters(conv_layer, input_channel=None, max_filters=64, cols=8, path=None):
    """A Conv2D layer's learned kernels, one small image per output filter.

    ``conv_layer.kernel.data`` has shape ``(kh, kw, C_in, C_out)``. With 3 input
    channels each filter is shown in colour (rescaled to [0, 1]); otherwise one
    input channel is shown in grey (``input_channel``, default 0), each filter
    scaled on its own so its pattern is visible.

    Returns:
        the Figure, one axes per filter shown (at most ``max_filters``).
    """
    max_filters = check_int(max_filters, "max_filters", minimum=1, owner="plot_filters")
    cols = check_int(cols, "cols", minimum=1, owner="plot_filters")
    kernel = getattr(getattr(conv_layer, "kernel", None), "data", None)
    if kernel is None or np.ndim(kernel) != 4:
        raise invalid("conv_layer", "a built Conv2D layer (kernel of shape (kh, kw, C_in, C_out))", conv_layer,
                      error=TypeError)
    kh, kw, c_in, c_out = kernel.shape
    colour = c_in == 3 and input_channel is None
    channel = 0 if input_channel is None else check_int(input_channel, "input_channel", 0, c_in - 1,
                                                        owner="plot_filters")
    n = min(c_out, max_filters)
    rows, cols = _grid(n, cols)
    figure, axes = plt.subplots(rows, cols, figsize=(1.2 * cols, 1.3 * rows + 0.6), squeeze=False)
    for ax in axes.ravel()[n:]:
        figure.delaxes(ax)
    for f, ax in enumerate(axes.ravel()[:n]):
        w = kernel[:, :, :, f] if colour else kernel[:, :, channel, f]
        low, high = w.min(), w.max()
        ax.imshow((w - low) / (high - low) if high > low else np.zeros_like(w), cmap=None if colour else "gray",
                  interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(str(f), fontsize=7)
    figure.suptitle(f"{getattr(conv_layer, 'name', 'conv')}: {n} of {c_out} filters ({kh}x{kw}"
                    + (", RGB)" if colour else f", input channel {channel})"))
    return _finish(figure, path)


def plot_feature_maps(model, image, layer=None, max_maps=32, cols=8, path=None):
    """The feature maps a layer outputs for one image: one grey image per channel.

    Args:
        model: a built Sequential.
        image: one input, ``(H, W)``, ``(H, W, C)``, or a batch of one.
        layer: the layer whose output to show, by name, index or object; default
            the first layer with 4-D outputs ``(N, H, W, C)`` (the first Conv2D).

    Returns:
        the Figure, one axes per channel shown (at most ``max_maps``).
    """
    max_maps = check_int(max_maps, "max_maps", minimum=1, owner="plot_feature_maps")
    cols = check_int(cols, "cols", minimum=1, owner="plot_feature_maps")
    layers = list(model.layers)
    target = _find_layer(layers, layer)
    x = np.asarray(image, dtype=np.float32)
    expected = tuple(model.input_shape[1:]) if getattr(model, "input_shape", None) else None
    if expected is not None and x.shape == expected:
        x = x[None]
    elif expected is not None and x.shape == expected[:-1] and expected[-1] == 1:
        x = x[None, ..., None]
    for current in layers:
        x = current.forward(x, training=False)
        if current is target:
            break
    if x.ndim != 4:
        raise ValueError(f"Layer '{target.name}' outputs shape {x.shape}, not feature maps (N, H, W, C).")
    maps = x[0]
    n = min(maps.shape[-1], max_maps)
    rows, cols = _grid(n, cols)
    figure, axes = plt.subplots(rows, cols, figsize=(1.4 * cols, 1.5 * rows + 0.6), squeeze=False)
    for ax in axes.ravel()[n:]:
        figure.delaxes(ax)
    for c, ax in enumerate(axes.ravel()[:n]):
        ax.imshow(maps[:, :, c], cmap="viridis")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(str(c), fontsize=7)
    figure.suptitle(f"{target.name}: {n} of {maps.shape[-1]} feature maps, {maps.shape[0]}x{maps.shape[1]}")
    return _finish(figure, path)


def _find_layer(layers, layer):
    if layer is None:
        for candidate in layers:
            shape = getattr(candidate, "output_shape", None)
            if shape is not None and len(shape) == 4:
                return candidate
        raise ValueError("The model has no layer with 4-D outputs (N, H, W, C): nothing to show as feature maps.")
    if isinstance(layer, int):
        return layers[layer]
    if isinstance(layer, str):
        for candidate in layers:
            if candidate.name == layer:
                return candidate
        raise ValueError(f"Received an invalid value for `layer`: no layer is named {layer!r}. "
                         f"Layers: {[c.name for c in layers]}")
    if layer in layers:
        return layer
    raise ValueError(f"Received an invalid value for `layer`, expected a name, an index or one of the model's "
                     f"layers. Received: {layer!r}")


# Drawn next to the callback that records what it plots (one concept per file).
from .callbacks.gradient_stats import plot_gradient_stats  # noqa: E402

__all__ = ["plot_history", "plot_confusion_matrix", "plot_images", "plot_roc", "plot_filters", "plot_feature_maps",
           "plot_gradient_stats"]
