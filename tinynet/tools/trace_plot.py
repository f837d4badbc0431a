"""Pictures of a ``tinynet.trace``: the computational graph of one batch, and one unit's scalar circuit.

    trace = tinynet.trace(model, x[:2], y[:2], verbose=False)
    trace.plot("trace.png")            # or tinynet.tools.trace_plot.plot_trace(trace, "trace.png")

Top: the graph of the traced step, in the style of CS231n's circuit diagrams but for whole
layers. One node per stage (the input x, im2col's cols, z, the ReLU mask, batch norm's xhat,
the max-pool winners, y, ..., and the loss), left to right in forward order. Each node shows
its shape and a summary of its forward value (norm and a small heat-map, green); under it, in
red, the gradient dL/d(that value) that backward computed, with its norm and heat-map. Black
arrows run forward, red arrows run back. A layer's weights sit above the stage that uses them,
with their gradients. Heat-maps show sample 0 (an image: its first channel).

Bottom: a zoom on one unit, the scalar circuit of a single output neuron with the numbers of
this batch: its inputs a_i and weights w_i, the products, the sum plus bias z, and the
gradient flowing back: dL/dz from the trace, then dL/dw_i = a_i dL/dz and dL/da_i = w_i dL/dz
(computed here by ``tinynet.scalar``). This sample's dL/dw_i is one term of dw = x^T @ dz.
"""
import numpy as np

from .scalar import Value

# the gradient stage belonging to each forward stage (None: a local derivative, no gradient of its own)
GRADIENT_OF = {"cols": "dcols", "z": "dz", "xhat": "dxhat", "mean": "dmean", "var": "dvar", "y": "dy"}
PARAMETER_GRADIENT = {"kernel": "dw", "bias": "db", "gamma": "dgamma", "beta": "dbeta"}
FORWARD_COLOR, LOCAL_COLOR, GRADIENT_COLOR = "#2e7d32", "#1565c0", "#c62828"


def graph_nodes(trace):
    """The graph's nodes in forward order: dicts with title, value, gradient, parameters, layer."""
    first_dx = trace.layers[0].dx if trace.layers else None
    nodes = [dict(title="x (input)", key="x", value=trace.x, gradient=first_dx, gradient_label="dx", kind="forward",
                  layer=None, parameters=[])]
    for record in trace.layers:
        backward = {stage.key: stage for stage in record.backward_stages}
        params = []
        for parameter in record.layer.trainable_weights if record.layer is not None else []:
            short = parameter.name.split("/")[-1]
            params.append(dict(title=short, value=parameter.data, gradient=record.grads.get(parameter.name),
                               gradient_label=PARAMETER_GRADIENT.get(short, "d" + short)))
        stages = record.forward_stages
        anchor = next((i for i, s in enumerate(stages) if s.key in ("z", "xhat")), len(stages) - 1)
        for index, stage in enumerate(stages):
            gradient_key = GRADIENT_OF.get(stage.key) if stage.kind != "local" else None
            if stage is stages[-1]:
                gradient = record.dout            # dL/d(layer output)
                gradient_key = "dy" if stage.key != "z" else "dz"
                if stage.key == "z" and "dz" in backward:
                    gradient = backward["dz"].value
            else:
                gradient = backward[gradient_key].value if gradient_key in backward else None
            nodes.append(dict(title=f"{record.name}: {stage.key}", key=stage.key, value=stage.value,
                              gradient=gradient, gradient_label=gradient_key, kind=stage.kind, layer=record.name,
                              label=stage.label, parameters=params if index == anchor else []))
    nodes.append(dict(title=f"loss {trace.loss:.4g}: " + ("p" if trace.takes_logits else "y_pred"), key="loss", value=trace.y_pred, gradient=trace.dloss,
                      gradient_label=trace.dloss_equation.split("=")[0].strip(), kind="loss", layer=None,
                      parameters=[], label=("p = softmax(z)" if trace.takes_logits else "y_pred")))
    return nodes


def _as_image(array):
    """A 2-D view of ``array`` for a heat-map: sample 0, first channel of an image."""
    a = np.asarray(array, dtype=np.float64)
    if a.ndim == 0:
        return a.reshape(1, 1)
    if a.ndim == 1:
        return a.reshape(1, -1)
    if a.ndim == 2:
        return a[: min(len(a), 64)]
    if a.ndim == 3:
        return a[0]
    return a[0, ..., 0] if a.ndim == 4 else a.reshape(a.shape[0], -1)


def _heatmap(ax, box, array, cmap, symmetric):
    image = _as_image(array)
    inset = ax.inset_axes(box, transform=ax.transData)
    limit = np.abs(image).max() or 1.0
    inset.imshow(image, aspect="auto", interpolation="nearest", cmap=cmap,
                 vmin=-limit if symmetric else image.min(), vmax=limit if symmetric else max(image.max(), image.min() + 1e-12))
    inset.set_xticks([])
    inset.set_yticks([])
    for spine in inset.spines.values():
        spine.set_linewidth(0.3)


def _box(ax, x, y, w, h, color, title, lines, fill):
    from matplotlib.patches import FancyBboxPatch
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.06", linewidth=1.2,
                                edgecolor=color, facecolor=fill))
    ax.text(x + 0.05, y + h - 0.08, title, fontsize=6.5, fontweight="bold", color=color, va="top", ha="left",
            clip_on=True)
    for i, line in enumerate(lines):
        ax.text(x + 0.05, y + h - 0.27 - 0.17 * i, line, fontsize=5.5, color="black", va="top", ha="left")


def _draw_graph(ax, nodes, columns, heatmaps):
    from matplotlib.patches import FancyArrowPatch
    cell_w, node_w, value_h, grad_h, param_h = 2.1, 1.75, 1.2, 1.2, 0.95
    row_h = param_h + value_h + grad_h + 0.9
    rows = (len(nodes) + columns - 1) // columns
    positions = []
    for index, node in enumerate(nodes):
        row, col = divmod(index, columns)
        x0 = col * cell_w
        top = (rows - row) * row_h
        value_y = top - param_h - value_h
        grad_y = value_y - 0.25 - grad_h
        positions.append((x0, value_y, grad_y))
        color = {"forward": FORWARD_COLOR, "local": LOCAL_COLOR, "loss": "black"}[node["kind"]]
        kind = "local derivative" if node["kind"] == "local" else ""
        value = np.asarray(node["value"])
        _box(ax, x0, value_y, node_w, value_h, color, node["title"],
             [f"{kind or 'value'} {value.shape}", f"norm {np.linalg.norm(value):.3g}"], "#f1f8e9" if
             node["kind"] != "local" else "#e3f2fd")
        if heatmaps and value.size:
            _heatmap(ax, (x0 + 0.07, value_y + 0.06, node_w - 0.14, 0.42), value, "viridis", False)
        if node["gradient"] is not None:
            gradient = np.asarray(node["gradient"])
            _box(ax, x0, grad_y, node_w, grad_h, GRADIENT_COLOR, node["gradient_label"] or "gradient",
                 [f"{gradient.shape}", f"norm {np.linalg.norm(gradient):.3g}"], "#ffebee")
            if heatmaps and gradient.size:
                _heatmap(ax, (x0 + 0.07, grad_y + 0.06, node_w - 0.14, 0.42), gradient, "RdBu_r", True)
        for p_index, parameter in enumerate(node["parameters"][:2]):
            px = x0 + p_index * (node_w / 2 + 0.02)
            py = value_y + value_h + 0.12
            grad = parameter["gradient"]
            _box(ax, px, py, node_w / 2 - 0.02, param_h - 0.2, "#6a1b9a", parameter["title"],
                 [f"{parameter['value'].shape}", f"{parameter['gradient_label']} "
                  + (f"{np.linalg.norm(grad):.2g}" if grad is not None else "-")], "#f3e5f5")
            ax.add_patch(FancyArrowPatch((px + node_w / 4, py), (px + node_w / 4, value_y + value_h),
                                         arrowstyle="-|>", mutation_scale=6, color="#6a1b9a", linewidth=0.8))
    with_gradient = [node["gradient"] is not None for node in nodes]
    for index in range(len(nodes) - 1):
        (x0, value_y, grad_y), (x1, value_y1, grad_y1) = positions[index], positions[index + 1]
        if abs(value_y - value_y1) > 1e-9:          # the graph continues on the next row
            ax.text(x0 + node_w + 0.05, value_y + value_h / 2, "...", fontsize=10, va="center")
            ax.text(x1 - 0.18, value_y1 + value_h / 2, "...", fontsize=10, va="center")
            continue
        ax.add_patch(FancyArrowPatch((x0 + node_w, value_y + value_h / 2), (x1, value_y1 + value_h / 2),
                                     arrowstyle="-|>", mutation_scale=8, color="black", linewidth=1.0))
        # the gradient flows back to the nearest earlier stage that has one (a local derivative has none)
        if with_gradient[index + 1]:
            back = index
            while back >= 0 and not with_gradient[back] and abs(positions[back][1] - value_y1) < 1e-9:
                back -= 1
            if back >= 0 and with_gradient[back] and abs(positions[back][1] - value_y1) < 1e-9:
                ax.add_patch(FancyArrowPatch((x1, grad_y1 + grad_h / 2),
                                             (positions[back][0] + node_w, positions[back][2] + grad_h / 2),
                                             arrowstyle="-|>", mutation_scale=8, color=GRADIENT_COLOR,
                                             linewidth=1.0))
    ax.set_xlim(-0.2, columns * cell_w)
    ax.set_ylim(0, rows * row_h + 0.2)
    ax.axis("off")


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


def _draw_circuit(ax, circuit):
    from matplotlib.patches import Circle, FancyArrowPatch
    k = len(circuit["a"])
    rows = k + (1 if circuit["n_inputs"] > k else 0) + 1
    ax.set_xlim(-0.5, 10.5)
    ax.set_ylim(-0.8, 2 * rows + 0.6)
    ax.axis("off")

    def wire(start, end, forward, backward, at=0.5):
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=8, color="black", linewidth=0.9))
        mx, my = start[0] + at * (end[0] - start[0]), start[1] + at * (end[1] - start[1])
        ax.text(mx, my + 0.12, forward, color=FORWARD_COLOR, fontsize=6.5, ha="center", va="bottom")
        if backward is not None:
            ax.text(mx, my - 0.12, backward, color=GRADIENT_COLOR, fontsize=6.5, ha="center", va="top")

    def gate(x, y, text):
        ax.add_patch(Circle((x, y), 0.32, facecolor="white", edgecolor="black", linewidth=1.0))
        ax.text(x, y, text, ha="center", va="center", fontsize=9)

    sum_x, sum_y = 6.2, rows
    for i in range(k):
        y = 2 * (rows - 1 - i) + 0.6
        index = circuit["order"][i]
        ax.text(0.0, y + 0.65, f"a[{index}]", fontsize=7, ha="left", va="center")
        ax.text(0.0, y - 0.65, f"w[{index}]", fontsize=7, ha="left", va="center")
        gate(3.0, y, "*")
        wire((0.7, y + 0.65), (2.68, y + 0.1), f"{circuit['a'][i]:.3g}", f"{circuit['da'][i]:.3g}", at=0.2)
        wire((0.7, y - 0.65), (2.68, y - 0.1), f"{circuit['w'][i]:.3g}", f"{circuit['dw'][i]:.3g}", at=0.2)
        wire((3.32, y), (sum_x - 0.32, sum_y), f"{circuit['products'][i]:.3g}", f"{circuit['dz']:.3g}", at=0.25)
    if circuit["n_inputs"] > k:
        y = 2 * (rows - 1 - k) + 0.6
        ax.text(0.0, y, f"+ {circuit['n_inputs'] - k} more terms", fontsize=7, ha="left")
        wire((2.2, y), (sum_x - 0.32, sum_y), f"{circuit['rest']:.3g}", f"{circuit['dz']:.3g}", at=0.25)
    ax.text(0.0, 0.0, "bias b", fontsize=7, ha="left")
    wire((0.9, 0.0), (sum_x - 0.25, sum_y - 0.25), f"{circuit['b']:.3g}", f"{circuit['dz']:.3g}", at=0.2)
    gate(sum_x, sum_y, "+")
    wire((sum_x + 0.32, sum_y), (9.2, sum_y), f"z = {circuit['z']:.4g}", f"dL/dz = {circuit['dz']:.3g}")
    ax.text(9.3, sum_y, "to the activation\nand the loss", fontsize=7, va="center")
    ax.set_title(f"one unit: {circuit['layer']} ({circuit['kind']}) unit {circuit['unit']}, {circuit['where']}.  "
                 "green: forward value, red: gradient.  dL/dw_i = a_i * dL/dz (this sample's term of "
                 "dw = x^T @ dz), dL/da_i = w_i * dL/dz", fontsize=7.5)


def plot_trace(trace, path=None, unit=None, layer=None, columns=8, heatmaps=True, show_unit=True):
    """Draw ``trace``'s computational graph (and one unit's circuit); save to ``path`` if given.

    Returns the matplotlib Figure. ``columns`` nodes per row; ``layer`` / ``unit`` choose the
    neuron of the zoom (see ``unit_circuit``); ``show_unit=False`` leaves the zoom out.
    """
    import matplotlib.pyplot as plt

    nodes = graph_nodes(trace)
    rows = (len(nodes) + columns - 1) // columns
    graph_height = 3.0 * rows
    circuit = unit_circuit(trace, layer, unit) if show_unit else None
    height = graph_height + (5.0 if circuit else 0)
    fig = plt.figure(figsize=(2.1 * columns + 0.4, height))
    ratios = [graph_height, 5.0] if circuit else [graph_height]
    grid = fig.add_gridspec(len(ratios), 1, height_ratios=ratios, hspace=0.08)
    ax = fig.add_subplot(grid[0])
    _draw_graph(ax, nodes, columns, heatmaps)
    mode = "training" if trace.training else "inference"
    ax.set_title(f"computational graph of one batch ({mode} mode; loss {trace.loss:.4g}, {trace.loss_name}). "
                 "Boxes: forward value (green; blue: a local derivative), gradient dL/d(value) under it (red); "
                 "weights above (purple). Heat-maps: sample 0.", fontsize=8)
    if circuit:
        _draw_circuit(fig.add_subplot(grid[1]), circuit)
    if path is not None:
        fig.savefig(path, dpi=110, bbox_inches="tight")
    return fig
