"""``format_summary(model)``: the text of ``model.summary()``, laid out exactly as tf.keras 2.11 and 2.12 print it.

    Model: "sequential"
    _________________________________________________________________
     Layer (type)                Output Shape              Param #
    =================================================================
     max_pooling2d (MaxPooling2D  (None, 14, 14, 64)       0
     )
    <a line of 65 spaces>
     dense (Dense)               (None, 10)                1290
    <a line of 65 spaces>
    =================================================================
    Total params: 1,290
    ...

The table is 65 characters wide with columns ending at 29, 55 and 65 (45 %, 85 %
and 100 % of the width). Each cell is cut to its column's width less two spaces;
what does not fit goes on the next line (so a "name (Type)" of 28 characters or
more wraps). Every row is padded with spaces to the full width, and each layer is
followed by a line of spaces, as in Keras (``keras/utils/layer_utils.py``,
``print_summary``). Later Keras versions (2.13+) add sizes in bytes to the totals;
tinynet follows 2.11 / 2.12.
"""
from .checks import check_int, invalid

LINE_LENGTH = 65
POSITIONS = (0.45, 0.85, 1.0)
HEADER = ("Layer (type)", "Output Shape", "Param #")
# A functional model's table has a fourth column, the tensors each layer was called on
# ('dense[0][0]': output 0 of call 0 of layer dense), and is wider.
GRAPH_LINE_LENGTH = 98
GRAPH_POSITIONS = (0.33, 0.55, 0.67, 1.0)
GRAPH_HEADER = (*HEADER, "Connected to")
# A cell is also cut after the end of a tuple, list or dict inside it, for multi-output shapes.
LINE_BREAKS = ("),", "},", "],", "',")


def format_row(fields, positions):
    """One table row as one or more lines, each ``positions[-1]`` characters long."""
    left = [str(field) for field in fields]
    lines = []
    while any(left):
        line = ""
        for col, text in enumerate(left):
            start = positions[col - 1] if col > 0 else 0
            end = positions[col]
            space = 2 if col != len(positions) - 1 else 0  # two spaces between columns, none after the last
            cutoff = end - start - space
            fits = text[:cutoff]
            breaks = [fits.find(mark) + len(mark) for mark in LINE_BREAKS if fits.find(mark) >= 0]
            if breaks:
                cutoff = min(breaks)
                fits = fits[:cutoff]
            if col == 0:
                line += " "
            line += fits + " " * space
            left[col] = text[cutoff:]
            # NOTE: padding to the column's end, not adding a width: a first cell that used its
            # whole width (plus the leading space) pushes the next cell one character right, as in Keras.
            line += " " * (end - len(line))
        lines.append(line)
    return lines


def _shape(shape):
    if shape is None:  # a layer of a subclassed model, called eagerly: Keras 2 prints "multiple"
        return "multiple"
    if isinstance(shape, list):
        return str([tuple(None if d is None else int(d) for d in s) for s in shape])
    return str(tuple(None if d is None else int(d) for d in shape))


def format_summary(model, line_length=None, positions=None):
    """The lines ``model.summary()`` prints, without newlines: ``print("\\n".join(format_summary(model)))``.

    Args:
        model: a built model with ``name``, ``layers`` (each with ``name``, ``output_shape`` and
            ``count_params()``) and ``trainable_weights`` / ``non_trainable_weights``.
        line_length: the table's width (default 65).
        positions: where each column ends, as characters or as fractions of the width
            (default ``(0.45, 0.85, 1.0)``).
    """
    graph = hasattr(model, "_nodes")  # a functional model: the "Connected to" column
    columns = 4 if graph else 3
    line_length = (GRAPH_LINE_LENGTH if graph else LINE_LENGTH) if line_length is None else check_int(
        line_length, "line_length", minimum=10, owner="summary")
    positions = (GRAPH_POSITIONS if graph else POSITIONS) if positions is None else positions
    if (not isinstance(positions, (list, tuple)) or len(positions) != columns
            or not all(isinstance(p, (int, float)) and not isinstance(p, bool) and p > 0 for p in positions)):
        raise invalid("positions", f"{columns} increasing column ends (characters, or fractions of line_length)",
                      positions, "summary")
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    positions = [int(p) for p in positions]
    if positions != sorted(positions):
        raise invalid("positions", "three increasing column ends", positions, "summary")

    lines = [f'Model: "{model.name}"', "_" * line_length, *format_row(GRAPH_HEADER if graph else HEADER, positions),
             "=" * line_length]
    for layer in model.layers:
        kind = getattr(layer, "class_name", type(layer).__name__)  # a nested model shows its own class
        shape = _shape(layer.output_shape)
        if graph and kind == "InputLayer":
            shape = f"[{shape}]"  # Keras 2 prints an InputLayer's output as a list of one shape
        cells = (f"{layer.name} ({kind})", shape, layer.count_params())
        if graph:
            cells += (str(connections(model, layer)),)
        lines += format_row(cells, positions)
        lines.append(" " * line_length)
    trainable = sum(int(p.data.size) for p in model.trainable_weights)
    non_trainable = sum(int(p.data.size) for p in model.non_trainable_weights)
    lines += ["=" * line_length,
              f"Total params: {trainable + non_trainable:,}",
              f"Trainable params: {trainable:,}",
              f"Non-trainable params: {non_trainable:,}",
              "_" * line_length]
    return lines


def connections(model, layer):
    """What ``layer`` was called on in ``model``: ``'name[node][tensor]'`` per input tensor, the node counted
    among all the calls of the layer that made it (Keras's ``node_index``)."""
    names = []
    for node in model._nodes:
        if node.layer is layer:
            for t in node.inputs:
                made, index = t.history
                node_index = next(i for i, n in enumerate(made.layer.inbound_nodes) if n is made)
                names.append(f"{made.layer.name}[{node_index}][{index}]")
    return names


def print_summary(model, line_length=None, positions=None, print_fn=None):
    """Print ``format_summary(model)`` line by line with ``print_fn`` (default ``print``), as Keras's
    ``model.summary(line_length, positions, print_fn)`` does."""
    if print_fn is None:
        print_fn = print
    elif not callable(print_fn):
        raise invalid("print_fn", "a function that takes one line of text", print_fn, "summary", error=TypeError)
    for line in format_summary(model, line_length, positions):
        print_fn(line)
