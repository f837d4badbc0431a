"""The public step API the learner's tools (gradcheck, trace, sanity, GradientStats) are written against.

    z = model.forward(x, training, logits=True, on_layer=...)   one recorded forward; with logits=True (and a
                                                               loss that takes them) the logits
    loss = model.compute_loss(y, z)                              the loss of what forward returned
    dx = model.backward(dloss, input_gradient=True, on_layer=...)  the backward walk from dL/dz

They are the training step cut into its three parts, on the same tape and walk (``tinynet/core/tape.py``);
``on_layer`` reports each layer's step (a layer and its own activation as one, as the user wrote it).
"""
import numpy as np

from ..tape import Tape
from ..tensor import Tensor, logits_of
from .structures import as_array, values_of


class StepAPI:
    """``forward`` / ``compute_loss`` (of a recorded forward) / ``backward``, for ``Model``."""

    # ----- the public step API the learner's tools use -------------------------
    def forward(self, x, training=False, logits=False, on_layer=None, on_node=None):
        """The model's output for a batch ``x`` as an array, recorded for ``backward``; with ``logits=True``
        and a loss that takes logits, the logits. ``on_layer(layer, x_in, y_out)`` after each layer;
        ``on_node(node)`` for each node of the tape, in order (the trace reads the layers' caches there)."""
        with Tape() as tape:
            inputs = Tensor(as_array(x), requires_grad=True)
            out = self(inputs, training=training)
        target = logits_of(out) if logits and self.loss_takes_logits else out
        self._recorded = {"tape": tape, "inputs": inputs, "target": target, "target_value": values_of(target),
                          "logits": target is not out, "penalties": []}
        if on_layer is not None:
            report_forward(tape, on_layer, stop_at=target)
        for node in tape.nodes if on_node is not None else ():
            on_node(node)
        return self._recorded["target_value"]

    def _recorded_loss(self, y, sample_weight):
        recorded = self._recorded
        with recorded["tape"]:
            loss = self.loss if recorded["logits"] else self.output_losses[0]
            # On the array, not the tensor: ``loss.backward()`` is then dL/d(what forward returned), even when a
            # subclassed model's softmax output would make a loss on the tensor take its logits instead.
            target = recorded["target"] if recorded["logits"] else recorded["target_value"]
            value = loss(y, target, sample_weight=sample_weight)
            penalties = self.losses + list(recorded["tape"].losses)
        recorded["penalties"] = penalties
        return float(np.asarray(value)) + sum(float(np.asarray(p)) for p in penalties)

    def backward(self, dloss, input_gradient=False, on_layer=None, on_node=None):
        """Backpropagate ``dloss`` (dL/d of what the last ``forward`` returned) through the recorded step;
        fills every ``Parameter.grad`` (the weight penalties' gradients included). Returns dL/dx with
        ``input_gradient=True``, else None. ``on_layer(layer, dout, dx)`` after each layer; ``on_node(node,
        douts, dxs)`` after each node's backward (what reached it, what it returned)."""
        recorded = self._recorded
        if recorded is None:
            raise RuntimeError(f"Model '{self.name}': call forward(x) before backward(dloss).")
        seeds = {recorded["target"]: np.asarray(dloss)}
        seeds.update({p: 1.0 for p in recorded["penalties"]})
        watchers = ([] if on_layer is None else [reporter(recorded["tape"], on_layer)]) + (
            [] if on_node is None else [on_node])
        on_each = watchers[0] if len(watchers) == 1 else None if not watchers else (
            lambda node, douts, dxs: [watch(node, douts, dxs) for watch in watchers])
        grads = self.backpropagate(recorded["tape"], seeds, on_node=on_each)
        return grads.get(id(recorded["inputs"])) if input_gradient else None


def _layer_steps(tape):
    """The layer nodes of a tape, with each layer's own node and its activation's node taken as one step:
    ``[(layer, first node, last node)]`` (a Dense with activation='relu' is one step, as the user wrote it)."""
    nodes = [n for n in tape.nodes if n.layer is not None]
    steps, i = [], 0
    while i < len(nodes):
        node = nodes[i]
        nxt = nodes[i + 1] if i + 1 < len(nodes) else None
        if nxt is not None and nxt.layer.owner is node.layer and nxt.inputs[0] is node.outputs[0]:
            steps.append((node.layer, node, nxt))
            i += 2
        else:
            steps.append((node.layer.owner or node.layer, node, node))
            i += 1
    return steps


def report_forward(tape, on_layer, stop_at=None):
    """``on_layer(layer, x_in, y_out)`` for each layer step the tape recorded, in order; a step whose
    activation's input is ``stop_at`` (the logits a loss took) reports that input as its output."""
    for layer, first, last in _layer_steps(tape):
        if stop_at is not None and first.inputs[0] is stop_at and first.layer.pairs_with:
            continue  # the softmax (sigmoid) layer whose input the loss took: no gradient flows through it
        out = first.outputs[0] if first.outputs[0] is stop_at else last.outputs[0]
        x_in = [t.value for t in first.inputs] if first.structure == "list" else first.inputs[0].value
        on_layer(layer, x_in, out.value)     # a merge layer's inputs as the list its forward took


def reporter(tape, on_layer):
    """An ``on_node`` for the backward walk calling ``on_layer(layer, dout, dx)`` as each layer step's backward
    completes (a step whose activation no gradient reached -- the loss took the logits -- reports
    dL/dlogits as its dout)."""
    steps = {id(first): (layer, last) for layer, first, last in _layer_steps(tape)}
    seen = {}

    def on_node(node, douts, dxs):
        seen[id(node)] = douts[0]
        if id(node) in steps:
            layer, last = steps[id(node)]
            on_layer(layer, seen.get(id(last), douts[0]), list(dxs) if node.structure == "list" else dxs[0])
    return on_node
