"""Pictures of a ``tinynet.trace``: the computational graph of one batch, one row per block, and one unit's circuit.

    trace = tinynet.trace(model, x[:2], y[:2], verbose=False)
    trace.plot("trace.png")                        # every block, one row each, and the zoom on one unit
    trace.plot("block.png", block=1)               # one block: a page of its own
    trace_plot.plot_trace_blocks(trace, "trace_block{}.png")   # each block to its own file

The graph (``trace_graph.from_trace``): a box per operation (``@ w + b``, ``relu``, ``mean``,
``x - mean``, ``im2col``, ``max 2x2``, the loss), the rule its backward applies written under
it in blue; an arrow per value, left to right in forward order, labelled with its name,
shape and norm (green) and, under it, the norm of the gradient flowing back along that
arrow (red). A value used twice -- batch norm's x and x - mean -- has two arrows, and the
red label at the fork is their sum: dx is what both uses send back, added. Weights come in
from above (purple) with their gradients. Images ride above their arrow as thumbnails at
their own aspect (sample 0, channel 0): the value in grey, its gradient in red and blue.

Below the graph, a zoom on one unit: the scalar circuit of a single output neuron with the
numbers of this batch -- inputs a_i, weights w_i, their products, the sum z, and the gradient
flowing back: dL/dw_i = a_i dL/dz and dL/da_i = w_i dL/dz (computed by ``tinynet.scalar``).
"""
import textwrap

import numpy as np

from . import trace_graph
from .scalar import Value

FORWARD_COLOR, RULE_COLOR, GRADIENT_COLOR, PARAM_COLOR, FLAG_COLOR = "#2e7d32", "#1565c0", "#c62828", "#6a1b9a", \
    "#e65100"
LEVEL, BOX_W, BOX_H = 0.86, 1.0, 0.36                 # inches: the picture is laid out in inches
MAIN_X, SIDE_X, PARAM_X = 2.6, 4.5, 1.3               # where the main line, side branches and weights sit
BLOCK_W = 5.9                                          # one block's width
FONT, SMALL = 8.5, 7.5                                 # points: readable on a printed page


def _norm(array):
    return f"|{np.linalg.norm(array):.3g}|"


def _shape(array):
    return "(" + ", ".join(str(n) for n in np.shape(array)) + ("," if np.ndim(array) == 1 else "") + ")"


def layout(graph, block):
    """``{op key: (level, lane)}`` of the ops of one block, top to bottom in forward order. Lane 0 is the
    main line, lane 1 beside it holds side computations (batch norm's mean and var), lane -1 the weights."""
    names = set(block)
    ops = [op for op in graph.ops if op.layer in names and op.kind != "param"
           and not (op.kind == "source" and op.key != "input")]
    keys = {op.key for op in ops}
    level, lane = {}, {}
    for op in ops:                                     # the ops are in forward order
        sources = [e.src for e in graph.into(op.key) if e.src in keys]
        level[op.key] = max((level[s] + 1 for s in sources), default=0)
        lane[op.key] = 0
    for source, edges in graph.forks().items():
        consumers = {e.dst for e in edges}
        for consumer in consumers & keys:
            after = {e.dst for e in graph.out_of(consumer)}
            if after and after <= consumers:           # feeds only ops that read the fork again: a side branch
                lane[consumer] = 1
    places = {key: (level[key], lane[key]) for key in level}
    for op in graph.ops:
        if op.layer in names and (op.kind == "param" or op.key == "labels"):
            consumer = graph.out_of(op.key)[0].dst
            siblings = [e.src for e in graph.into(consumer) if graph.op(e.src).kind == "param"]
            where = places[consumer][0]
            if op.kind == "param":
                places[op.key] = (where - 0.6 + 0.42 * siblings.index(op.key), -1)     # above-left of their op
            else:
                places[op.key] = (where, 1)                                       # beside the loss
    return places


def _depth(graph, block):
    return max(level for level, lane in layout(graph, block).values() if lane >= 0) + 1


def _position(place, left, top):
    level, lane = place
    return left + {-1: PARAM_X, 0: MAIN_X, 1: SIDE_X}[lane], top - 0.75 - level * LEVEL


def _thumbnail(ax, corner, value, grad):
    """Sample 0, channel 0 of an image-shaped value and its gradient, side by side, at their aspect."""
    size = 0.34
    for index, (array, cmap, symmetric) in enumerate(((value, "gray", False), (grad, "RdBu_r", True))):
        if array is None:
            continue
        image = np.asarray(array, dtype=np.float64)[0]
        image = image[..., 0] if image.ndim == 3 else image
        inset = ax.inset_axes((corner[0] + index * (size + 0.04), corner[1] - size / 2, size, size),
                              transform=ax.transData)
        limit = np.abs(image).max() or 1.0
        inset.imshow(image, cmap=cmap, interpolation="nearest", vmin=-limit if symmetric else image.min(),
                     vmax=limit if symmetric else max(image.max(), image.min() + 1e-12))
        inset.set_aspect("equal")                      # a 28x28 digit stays square
        inset.set_xticks([])
        inset.set_yticks([])
        for spine in inset.spines.values():
            spine.set_linewidth(0.4)


def _box(ax, op, x, y):
    from matplotlib.patches import FancyBboxPatch
    color = PARAM_COLOR if op.kind == "param" else "black"
    height = BOX_H * (0.8 if op.kind == "param" else 1) + 0.15 * op.label.count("\n")
    longest = max(len(line) for line in op.label.split("\n"))
    width = max(0.5, 0.075 * longest + 0.15) if op.kind == "param" else max(BOX_W, 0.075 * longest + 0.2)
    fill = {"op": "white", "source": "#f1f8e9", "param": "#f3e5f5"}[op.kind]
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height, linewidth=1.0, edgecolor=color,
                                facecolor=fill, boxstyle="round,pad=0.02,rounding_size=0.06"))
    ax.text(x, y, op.label, ha="center", va="center", fontsize=FONT, color=color)
    if op.backward and op.key == "loss":                # the labels come in from the right: the rule goes under
        ax.text(x, y - height / 2 - 0.05, op.backward, ha="center", va="top", fontsize=SMALL, color=RULE_COLOR,
                style="italic")
    elif op.backward:
        ax.text(x + width / 2 + 0.06, y + 0.02, op.backward, ha="left", va="center", fontsize=SMALL,
                color=RULE_COLOR, style="italic")
    return width, height


def _draw_block(ax, graph, block, left, top, heatmaps):
    """One block: its ops top to bottom, the arrows, their labels; forks labelled with their sum."""
    from matplotlib.patches import FancyArrowPatch
    places = layout(graph, block)
    where = {key: _position(place, left, top) for key, place in places.items()}
    sizes = {key: _box(ax, graph.op(key), *xy) for key, xy in where.items()}
    forks = graph.forks()
    for edge in graph.edges:
        if edge.dst not in where:
            continue
        x1, y1 = where[edge.dst]
        param = graph.op(edge.src).kind == "param"
        if edge.src in where:
            x0, y0 = where[edge.src]
        elif any(e.src in where for e in graph.into(edge.dst) if graph.op(e.src).kind != "param"):
            x0, y0 = x1 - 1.4, y1 + LEVEL * 0.9        # a skip connection from an earlier block: from the left
            ax.text(x0, y0 + 0.04, f"from {graph.op(edge.src).layer}", fontsize=SMALL, ha="center", va="bottom")
        else:                                          # from the block before: a stub from above
            x0, y0 = x1, y1 + LEVEL * 0.9
        w0, h0 = sizes.get(edge.src, (0, 0))
        w1, h1 = sizes[edge.dst]
        if param:
            start, end = (x0 + w0 / 2, y0), (x1 - w1 / 2, y1 + (y0 - y1) * 0.3)
        else:
            start, end = (x0, y0 - h0 / 2), (x1 - (w1 / 2 - 0.1 if x0 < x1 - 0.1 else 0) * (x0 != x1),
                                              y1 + h1 / 2)
            if x0 > x1 + 0.1:                          # back from the side lane
                end = (x1 + w1 / 2 - 0.1, y1 + h1 / 2)
            if abs(y0 - y1) < 1e-9:                    # side by side (the labels beside the loss)
                start, end = (x0 - w0 / 2, y0), (x1 + w1 / 2, y1)
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=9, linewidth=1.0,
                                     color=PARAM_COLOR if param else "black", shrinkA=0, shrinkB=0))
        if param:
            grad = f"d{edge.name} {_norm(edge.grad)}" if edge.grad is not None else ""
            ax.text(x0 - w0 / 2 - 0.06, y0, f"{_shape(edge.value)}\n{grad}", fontsize=SMALL, color=PARAM_COLOR,
                    ha="right", va="center")
            continue
        mx, my = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
        side = start[0] != end[0]
        tx = mx + (0.1 if not side else 0.12)
        if abs(start[1] - end[1]) < 1e-9:
            tx, my = min(start[0], end[0]) + 0.05, my - 0.35
        ax.text(tx, my + 0.01, f"{edge.name} {_shape(edge.value)} {_norm(edge.value)}", ha="left", va="bottom",
                fontsize=SMALL, color=FORWARD_COLOR)
        if edge.grad is not None:
            ax.text(tx, my - 0.01, f"d{edge.name} {_norm(edge.grad)}", ha="left", va="top", fontsize=SMALL,
                    color=GRADIENT_COLOR)
        if heatmaps and np.ndim(edge.value) in (3, 4) and min(np.shape(edge.value)[1:3]) > 1 and not side:
            _thumbnail(ax, (mx - 0.8, my), edge.value, edge.grad)
    for source, edges in forks.items():
        if source in where:
            x, y = where[source]
            total = sum(e.grad for e in edges if e.grad is not None)
            ax.text(x - 0.08, y - sizes[source][1] / 2 - 0.04, f"sum of {len(edges)} paths:\nd{edges[0].name} "
                    f"{_norm(total)}", fontsize=SMALL, color=GRADIENT_COLOR, ha="right", va="top", weight="bold")
    for source, message in graph.flags:
        if source in where:
            x, y = where[source]
            ax.text(left + 0.1, y - 0.45, "!! " + message, fontsize=FONT, color=FLAG_COLOR, ha="left", va="top")


def unit_circuit(trace, layer=None, unit=None, sample=0, terms=4):
    """The numbers of one output neuron's circuit, computed with ``tinynet.scalar``.

    ``layer``: a layer name (default: the last Dense or Conv2D layer); ``unit``: its output
    unit (default: sample 0's label when it is the output layer, else the unit with the largest
    |dz|). For Conv2D the neuron is filter ``unit`` at the middle output pixel. Returns a dict:
    inputs a, weights w, bias b, z, dL/dz, and dL/dw_i, dL/da_i for the ``terms`` largest |a_i w_i|.
    """
    records = [r for r in trace.layers if r.layer is not None and hasattr(r.layer, "kernel")]
    if not records:
        raise ValueError("unit_circuit needs a Dense or Conv2D layer in the traced model.")
    record = records[-1] if layer is None else next(r for r in records if r.name == layer)
    dz_all = record.stage("dz").value
    kernel = record.layer.kernel.data
    filters = kernel.shape[-1]
    if record.kind == "Conv2D":
        out_h, out_w = record.y.shape[1:3]
        row = sample * out_h * out_w + (out_h // 2) * out_w + out_w // 2
        a = record.stage("cols").value[row]
        dz_row = dz_all.reshape(-1, filters)[row]
        where = f"sample {sample}, pixel ({out_h // 2}, {out_w // 2})"
    else:
        a = record.x[sample]
        dz_row = dz_all[sample]
        where = f"sample {sample}"
    if unit is None:
        is_output = record is trace.layers[-1]
        unit = int(trace.y_true[sample].argmax()) if is_output and trace.y_true.ndim == 2 else int(
            np.abs(dz_row).argmax())
    w = kernel.reshape(-1, filters)[:, unit]
    b = record.layer.bias.data[unit] if record.layer.bias is not None else 0.0
    # the circuit, one scalar at a time: z = sum_i a_i w_i + b, and L's gradient dL/dz arriving at z
    a_v = [Value(v) for v in a]
    w_v = [Value(v) for v in w]
    products = [ai * wi for ai, wi in zip(a_v, w_v)]
    z = sum(products[1:], products[0]) + b
    dz = float(dz_row[unit])
    (z * dz).backward()                       # a surrogate whose gradient at z is dL/dz
    order = np.argsort(-np.abs(a * w))[:terms]
    return dict(layer=record.name, kind=record.kind, unit=unit, where=where, a=a[order], w=w[order],
                products=(a * w)[order], order=order, rest=float((a * w).sum() - (a * w)[order].sum()),
                n_inputs=len(a), b=float(b), z=z.data, dz=dz,
                dw=np.array([w_v[i].grad for i in order]), da=np.array([a_v[i].grad for i in order]),
                activation=type(getattr(record.layer, "activation", None)).__name__)


def _circuit_rows(circuit):
    """The circuit's rows: one per input drawn, one for the inputs left out (if any), one for the bias."""
    k = len(circuit["a"])
    return k + (1 if circuit["n_inputs"] > k else 0) + 1


def _draw_circuit(ax, circuit):
    from matplotlib.patches import FancyArrowPatch
    k = len(circuit["a"])
    rows = _circuit_rows(circuit)
    ax.set_xlim(-0.5, 10.5)
    ax.set_ylim(-0.8, 2 * rows + 0.6)
    ax.axis("off")

    def wire(start, end, forward, backward, at=0.5, place="split"):
        """An arrow with its value (green) and gradient (red): split above / below it, or side by side on
        one line above or below (where wires run close together)."""
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=8, color="black", linewidth=0.9))
        mx, my = start[0] + at * (end[0] - start[0]), start[1] + at * (end[1] - start[1])
        if place == "split":
            ax.text(mx, my + 0.12, forward, color=FORWARD_COLOR, fontsize=8, ha="center", va="bottom")
            ax.text(mx, my - 0.12, backward, color=GRADIENT_COLOR, fontsize=8, ha="center", va="top")
            return
        offset, va = (0.1, "bottom") if place == "above" else (-0.1, "top")
        ax.text(mx - 0.05, my + offset, forward, color=FORWARD_COLOR, fontsize=8, ha="right", va=va)
        ax.text(mx + 0.05, my + offset, backward, color=GRADIENT_COLOR, fontsize=8, ha="left", va=va)

    # a marker is round whatever the axes' aspect: each gate a circle 0.3 inch wide
    inch = (ax.transData.transform((1, 0))[0] - ax.transData.transform((0, 0))[0]) / ax.figure.dpi
    r = 0.15 / inch                                    # its radius in x units

    def gate(x, y, text):
        ax.plot([x], [y], "o", markersize=0.3 * 72, markerfacecolor="white", markeredgecolor="black", zorder=3)
        ax.text(x, y, text, ha="center", va="center", fontsize=10, zorder=4)

    sum_x, sum_y = 6.2, rows
    for i in range(k):
        y = 2 * (rows - 1 - i) + 0.6
        index = circuit["order"][i]
        ax.text(0.0, y + 0.65, f"a[{index}]", fontsize=8, ha="left", va="center")
        ax.text(0.0, y - 0.65, f"w[{index}]", fontsize=8, ha="left", va="center", color=PARAM_COLOR)
        gate(3.0, y, "*")
        wire((0.7, y + 0.65), (3.0 - r, y + 0.1), f"a = {circuit['a'][i]:.3g}", f"da = {circuit['da'][i]:.3g}",
             at=0.35, place="above")
        wire((0.7, y - 0.65), (3.0 - r, y - 0.1), f"w = {circuit['w'][i]:.3g}", f"dw = {circuit['dw'][i]:.3g}",
             at=0.35, place="below")
        wire((3.0 + r, y), (sum_x - r, sum_y), f"{circuit['products'][i]:.3g}", f"{circuit['dz']:.3g}", at=0.25)
    if circuit["n_inputs"] > k:
        y = 2 * (rows - 1 - k) + 0.6
        ax.text(0.0, y, f"+ {circuit['n_inputs'] - k} more terms", fontsize=8, ha="left")
        wire((2.2, y), (sum_x - r, sum_y), f"{circuit['rest']:.3g}", f"{circuit['dz']:.3g}", at=0.25)
    ax.text(0.0, 0.0, "bias b", fontsize=8, ha="left")
    wire((0.9, 0.0), (sum_x - 0.8 * r, sum_y - 0.25), f"{circuit['b']:.3g}", f"{circuit['dz']:.3g}", at=0.2)
    gate(sum_x, sum_y, "+")
    wire((sum_x + r, sum_y), (9.2, sum_y), f"z = {circuit['z']:.4g}", f"dL/dz = {circuit['dz']:.3g}")
    ax.text(9.3, sum_y, "to the activation\nand the loss", fontsize=8, va="center")
    ax.set_title(f"one unit: {circuit['layer']} ({circuit['kind']}) unit {circuit['unit']}, {circuit['where']}.  "
                 "green: forward value, red: gradient.  dL/dw_i = a_i * dL/dz (this sample's term of "
                 "dw = x^T @ dz), dL/da_i = w_i * dL/dz", fontsize=9)


def plot_trace(trace, path=None, block=None, heatmaps=True, show_unit=True, unit=None, layer=None, per_row=2):
    """Draw ``trace``'s computational graph, block by block (and one unit's circuit); save to ``path``.

    Each block (a layer with a kernel and the layers after it) reads top to bottom; ``per_row``
    blocks side by side. ``block``: draw only that block (an index into the graph's blocks): a
    picture that fits a page. ``layer`` / ``unit`` choose the neuron of the zoom (``unit_circuit``);
    ``show_unit=False`` leaves it out (a single block's picture has none). Returns the Figure.
    """
    import matplotlib.pyplot as plt

    graph = trace_graph.from_trace(trace)
    blocks = graph.blocks if block is None else [graph.blocks[block]]
    circuit = unit_circuit(trace, layer, unit) if show_unit and block is None and any(
        hasattr(r.layer, "kernel") for r in trace.layers) else None
    rows = [blocks[i:i + per_row] for i in range(0, len(blocks), per_row)]
    heights = [0.9 + LEVEL * max(_depth(graph, b) for b in row) for row in rows]
    width = BLOCK_W * min(per_row, len(blocks))
    mode = "training" if trace.training else "inference"
    caption = textwrap.fill(
        f"One batch through the model ({mode} mode; {trace.loss_name} {trace.loss:.4g}), top to bottom. Boxes: "
        "operations, their backward rule in blue. Arrows: values -- green: name, shape and norm; red: the norm of "
        "the gradient flowing back along that arrow. A value used twice sends back the sum of its paths. Weights "
        "(purple) enter from the left. Thumbnails: sample 0, channel 0 of the value (grey) and of its gradient "
        "(red/blue).", int(width * 14))
    header = 0.2 + 0.16 * (caption.count("\n") + 1)
    graph_height = sum(heights)
    # about 0.8 inch per input of the unit: its two labelled wires, clear of the next input's
    circuit_height = 0.8 * _circuit_rows(circuit) if circuit else 0
    height = graph_height + header + circuit_height
    figure = plt.figure(figsize=(width, height))
    ax = figure.add_axes((0, circuit_height / height, 1, (graph_height + header) / height))
    ax.set_xlim(0, width)
    ax.set_ylim(0, graph_height + header)
    ax.axis("off")
    ax.text(0.1, graph_height + header - 0.05, caption, fontsize=FONT, va="top")
    top = graph_height
    for row, row_height in zip(rows, heights):
        for column, names in enumerate(row):
            left = column * BLOCK_W
            number = graph.blocks.index(names) + 1
            ax.text(left + 0.1, top - 0.05, f"block {number}: " + ", ".join(names), fontsize=FONT + 0.5,
                    weight="bold", va="top", wrap=True)
            _draw_block(ax, graph, names, left, top - 0.15, heatmaps)
        top -= row_height
    if circuit:
        _draw_circuit(figure.add_axes((0.02, 0.01, 0.96, (circuit_height - 0.3) / height)), circuit)
    if path is not None:
        figure.savefig(path, dpi=110, bbox_inches="tight")
    return figure


def plot_trace_blocks(trace, pattern="trace_block{}.png", heatmaps=True):
    """Each block of ``trace``'s graph to its own file, ``pattern.format(1)``, ... Returns the paths."""
    import matplotlib.pyplot as plt

    paths = []
    for index in range(len(trace_graph.from_trace(trace).blocks)):
        figure = plot_trace(trace, pattern.format(index + 1), block=index, heatmaps=heatmaps)
        plt.close(figure)
        paths.append(pattern.format(index + 1))
    return paths
