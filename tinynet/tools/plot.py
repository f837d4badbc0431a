"""Plots for looking at training and at a trained model, with matplotlib alone.

    plot_history(history)                  accuracy and loss per epoch, training and validation
    plot_history(h1, h2, labels=[...])     two runs on the same axes, to compare them
    plot_confusion_matrix(cm)              an annotated heat map
    plot_images(x, y_true, y_pred)         a grid of images with their labels; mistakes in red
    plot_roc(y_true, probs)                one-vs-rest ROC curves with micro and macro averages
    plot_filters(conv_layer)               a Conv2D layer's kernels, one small image per filter
    plot_feature_maps(model, image)        what a Conv2D layer outputs for one image
    plot_model(model, show_shapes=True)    one box per layer with its input and output shapes (Keras's picture)
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

from ..core.checks import check_bool, check_choice, check_int, invalid  # noqa: E402
from .evaluation import class_labels, roc_curves  # noqa: E402

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
    """Accuracy and loss per epoch, training (solid) and validation (dashed), as the Cambridge Coding Academy
    MNIST tutorial and "Keras MNIST 手寫辨識 x 深度學習的 HelloWorld" draw them (docs/articles.md).

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
        raise invalid("cm.shape", "a square (K, K) matrix", cm.shape)
    k = cm.shape[0]
    names = [str(i) for i in range(k)] if class_names is None else [str(n) for n in class_names]
    if len(names) != k:
        raise invalid("class_names", f"{k} names", class_names)
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
            raise invalid(f"{argument}.shape", "images (N, H, W[, C]) or flat square rows like (N, 784)", x.shape)
        x = x.reshape(len(x), side, side)
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim not in (3, 4):
        raise invalid(f"{argument}.shape", "images (N, H, W[, C])", x.shape)
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
    true = None if y_true is None else class_labels(y_true, "y_true")
    pred = None if y_pred is None else class_labels(y_pred, "y_pred")

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
            (the CIFAR-100 article draws 3 of its 100).

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
    raise invalid("layer", "a name, an index or one of the model's layers", layer)


def _with_batch(shape):
    shape = tuple(shape)
    return str(shape if shape and shape[0] is None else (None, *shape))


def _activation_name(activation):
    from ..core.layers import activations  # the name as get_config writes it: 'relu', 'softmax', 'linear'
    try:
        return activations.name_of(activation)
    except Exception:  # a user's own activation object
        return type(activation).__name__.lower()


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False, show_layer_names=True, rankdir="TB",
               expand_nested=False, dpi=96, layer_range=None, show_layer_activations=False, show_trainable=False):
    """Keras's ``utils.plot_model``, drawn with matplotlib: one box per layer, arrows in data order.

    Each box reads ``name: Type`` (just ``Type`` with ``show_layer_names=False``); with
    ``show_shapes=True`` it also shows the layer's input and output shapes beside it,
    ``input: (None, 784)`` over ``output: (None, 512)``, as Keras's picture does. As in
    Keras, a Sequential model starts with its input, ``<first layer>_input: InputLayer``.
    ``rankdir='LR'`` lays the boxes left to right. ``show_layer_activations`` adds a
    Dense or Conv2D layer's activation; ``show_trainable`` marks each box ``Trainable:
    Y`` / ``N``. ``show_dtype``, ``expand_nested`` and ``layer_range`` are accepted for
    Keras scripts and change nothing (tinynet is float32, with flat models).

    Returns the matplotlib Figure and writes it to ``to_file`` (the format by its
    extension: .png, .pdf, .svg), unless ``to_file`` is None.
    """
    owner = "plot_model"
    for argument, value in (("show_shapes", show_shapes), ("show_layer_names", show_layer_names),
                            ("show_layer_activations", show_layer_activations), ("show_trainable", show_trainable)):
        check_bool(value, argument, owner=owner)
    rankdir = check_choice(rankdir, "rankdir", ("tb", "lr"), owner=owner)
    dpi = check_int(dpi, "dpi", minimum=1, owner=owner)
    if not getattr(model, "built", False):
        raise ValueError("plot_model needs a built model, to know its shapes: give the first layer input_shape=... "
                         "or call model.build((None, ...)) first.")
    first = model.layers[0]
    boxes = [(f"{first.name}_input", "InputLayer", _with_batch(model.input_shape), _with_batch(model.input_shape), "")]
    for layer in model.layers:
        extra = []
        activation = getattr(layer, "activation", None)
        if show_layer_activations and activation is not None:
            extra.append(f"activation: {_activation_name(activation)}")
        if show_trainable:
            extra.append(f"Trainable: {'Y' if layer.trainable else 'N'}")
        boxes.append((layer.name, type(layer).__name__, _with_batch(layer.input_shape), _with_batch(layer.output_shape),
                      "\n".join(extra)))
    titles = [(f"{name}: {kind}" if show_layer_names else kind) + (f"\n{extra}" if extra else "")
              for name, kind, _, _, extra in boxes]

    # Sizes in "characters": the monospace font makes a character about 0.6 of the font size wide.
    title_width = max(len(line) for title in titles for line in title.split("\n")) + 2
    label_width, shape_width = 8, max(len(box[3]) for box in boxes) + 2
    width = title_width + (label_width + shape_width if show_shapes else 0)
    height = 2 + max(title.count("\n") for title in titles)
    gap = 2.0
    vertical = rankdir == "tb"
    n = len(boxes)
    extent = (width, n * height + (n - 1) * gap) if vertical else (n * width + (n - 1) * gap, height)
    scale = 0.11  # inches per character
    figure = plt.figure(figsize=(extent[0] * scale + 0.2, extent[1] * scale * 1.9 + 0.2))
    ax = figure.add_axes([0, 0, 1, 1])
    ax.set_xlim(-0.5, extent[0] + 0.5)
    ax.set_ylim(-extent[1] - 0.5, 0.5)
    ax.axis("off")
    text = dict(family="monospace", fontsize=9, va="center")
    for index, (title, (_, _, shape_in, shape_out, _)) in enumerate(zip(titles, boxes)):
        x = 0 if vertical else index * (width + gap)
        y = -(index * (height + gap)) if vertical else 0
        ax.add_patch(plt.Rectangle((x, y - height), width, height, fill=False, linewidth=1))
        ax.text(x + title_width / 2, y - height / 2, title, ha="center", **text)
        if show_shapes:
            left = x + title_width
            ax.plot([left, left], [y, y - height], color="black", linewidth=1)
            ax.plot([left + label_width, left + label_width], [y, y - height], color="black", linewidth=1)
            ax.plot([left, x + width], [y - height / 2, y - height / 2], color="black", linewidth=1)
            for row, (label, shape) in enumerate((("input:", shape_in), ("output:", shape_out))):
                middle = y - height / 4 - row * height / 2
                ax.text(left + label_width / 2, middle, label, ha="center", **text)
                ax.text(left + label_width + shape_width / 2, middle, shape, ha="center", **text)
        if index + 1 < n:  # an arrow to the next box
            start, end = ((x + width / 2, y - height), (x + width / 2, y - height - gap)) if vertical else \
                ((x + width, y - height / 2), (x + width + gap, y - height / 2))
            ax.annotate("", xy=end, xytext=start, arrowprops=dict(arrowstyle="->", linewidth=1))
    if to_file is not None:
        figure.savefig(os.fspath(to_file), dpi=dpi)
    return figure


# Drawn next to the callback that records what it plots (one concept per file).
from .gradient_stats import plot_gradient_stats  # noqa: E402
from .trace_plot import plot_trace  # noqa: E402

__all__ = ["plot_history", "plot_confusion_matrix", "plot_images", "plot_roc", "plot_filters", "plot_feature_maps",
           "plot_model", "plot_gradient_stats", "plot_trace"]
