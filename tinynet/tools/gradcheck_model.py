"""``check_model``'s walk: a model's gradients through its loss at each point, then each layer alone.

At each point one warm-up step (another batch of the same shape) runs before the measured
step, whose per-layer inputs, douts and dxs are logged through the model's public step
(``forward(..., on_layer=)``, ``compute_loss``, ``backward(..., on_layer=)``). When a gradient
of the loss disagrees, every logged layer is checked alone: ``f = sum(layer.forward(x_in) * dout)``
(plus its weights' penalties), and the loss on its own. A layer whose own rows fail is the culprit.
"""
import numpy as np

from ..core.layers.core import Activation
from ..core.layers.activations import Linear
from ..core.layers.normalization import BatchNormalization
from ..core.utils import rng, set_random_seed
from .gradcheck_compare import compare, noise_floor
from .gradcheck_points import (NotRepeatable, Sample, StepFailed, as_array, check_dx, checked_dx, failed, kink_record,
                               other_batch, random_layers, repeatable)
from .gradcheck_report import FAIL, GradCheckRow, merge


def loss_gradient(model):
    """dL/d(what the last forward returned): the loss object's backward after ``compute_loss``."""
    return model.loss.backward()


def zero_reason(model, layer_index, parameter, dloss, floor):
    """Why an array's gradient can be exactly (or within noise) zero."""
    if np.abs(dloss).max() <= floor:
        return (f"the loss is saturated (every dL/d(output) <= {np.abs(dloss).max():.1e}, below rounding noise): "
                "confident, correct predictions; check on samples the model gets wrong, or an untrained model")
    nxt = model.layers[layer_index + 1] if layer_index is not None and layer_index + 1 < len(model.layers) else None
    if parameter is not None and parameter.name.endswith("bias") and isinstance(nxt, BatchNormalization):
        return (f"zero, as it must be: the bias sits right before '{nxt.name}' (BatchNormalization), "
                "which subtracts the batch mean and with it any constant shift")
    return f"every compared entry is below the loss's rounding noise ({floor:.1e})"



class Step:
    """What one forward and backward pass of the model did: per layer its input, output, dout, dx."""

    def __init__(self):
        self.forward, self.backward, self.states = [], {}, []


class ModelCheck:
    """The comparisons of one model at each point: through the loss, and (on a disagreement) layer by layer."""

    def __init__(self, model, seed, eps, tolerance, max_entries, training, draw):
        self.model, self.seed, self.eps, self.tolerance = model, seed, eps, tolerance
        self.max_entries, self.training, self.draw = max_entries, training, draw
        self.kinks = []
        self.at = {}       # array name -> {point: Comparison}
        self.own = {}      # array name -> [Comparison, ...] of the layer alone
        self.shapes = {}
        self.input_shape = ()
        self.failures = []  # (layer name, Comparison) of the steps that could not run
        self.previous_size = None
        self.not_alone = {}  # layer name -> (class name, why it is not checked alone)

    # the loss at the current weights, as fit computes it
    def step(self, x, y, log=None):
        model = self.model
        if self.seed is not None:
            set_random_seed(self.seed)
        self.kinks.clear()
        state = [rng().bit_generator.state]

        def on_forward(layer, x_in, y_out):
            record = kink_record(layer, x_in, y_out)
            if record is not None:
                self.kinks.append(record)
            if log is not None:
                log.forward.append((layer, np.array(x_in, dtype=np.float64), state[0]))
                state[0] = rng().bit_generator.state

        z = model.forward(x, training=self.training, logits=True, on_layer=on_forward)
        return model.compute_loss(y, z), z

    def backward(self, log):
        inputs = {id(layer): x_in for layer, x_in, _ in log.forward}

        def on_backward(layer, dout, dx):
            check_dx(layer, dx, inputs[id(layer)])
            log.backward[id(layer)] = (np.array(dout, dtype=np.float64), as_array(dx))

        return as_array(self.model.backward(loss_gradient(self.model), input_gradient=True, on_layer=on_backward))

    def checked_step(self, x, y, log):
        """``step`` and ``backward``, blaming the layer that raised (or returned a dx of the wrong shape)."""
        try:
            _, z = self.step(x, y, log=log)
            dloss = np.array(loss_gradient(self.model), dtype=np.float64)
            return z, dloss, self.backward(log)
        except (StepFailed, NotRepeatable):
            raise
        except Exception as error:  # noqa: BLE001 - the learner's layer may raise anything: say where
            layers = reported_layers(self.model)
            done = {id(layer) for layer, _, _ in log.forward}
            if len(done) == len(layers):
                blamed = next((layer for layer in reversed(layers) if id(layer) not in log.backward), layers[0])
                where = "backward"
            else:
                blamed, where = next(layer for layer in layers if id(layer) not in done), "forward"
            raise StepFailed(blamed.name, f"its {where} raised {type(error).__name__}: {error}") from error

    def at_point(self, point, x, y):
        model = self.model
        x = np.ascontiguousarray(x)
        self.input_shape = self.input_shape or tuple(x.shape)
        f = lambda: self.step(x, y)[0]  # noqa: E731  (the loss as a function of whatever arrays f reads)
        floor = noise_floor(repeatable(f, "check_model", random_layers(model.layers), self.seed), self.eps)
        weights = [p for layer in model.layers for p in layer.trainable_weights]
        warm, measured = Step(), Step()
        try:
            _, _, dx_warm = self.checked_step(*other_batch(x, self.draw, len(x), y), log=warm)   # the warm-up
            warm_grads = {p.name: p.grad.copy() for p in weights}
            z, dloss, dx = self.checked_step(x, y, log=measured)
        except StepFailed as failure:
            hint = (f" (the call before had {self.previous_size} samples: does it read a cache or a dx of an earlier "
                    "call?)" if self.previous_size not in (None, len(x)) else "")
            self.failures.append((failure.layer, failed(point, f"at the {'measured' if warm.backward else 'warm-up'} "
                                                                f"step of {len(x)} samples, {failure}{hint}")))
            return
        finally:
            self.previous_size = len(x)
        grads = {p.name: p.grad.copy() for p in weights}
        common = dict(eps=self.eps, floor=floor, tolerance=self.tolerance, kinks=lambda: list(self.kinks),
                      point=point)
        self._add("input", point, compare(f, x, checked_dx(dx, x), Sample(x.shape, self.max_entries, self.draw),
                                          previous=dx_warm, zero_reason=zero_reason(model, None, None, dloss, floor),
                                          **common))
        for index, layer in enumerate(model.layers):
            for parameter in layer.trainable_weights:
                grad = grads[parameter.name]
                self._add(parameter.name, point,
                          compare(f, parameter.data, grad, Sample(grad.shape, self.max_entries, self.draw),
                                  previous=warm_grads[parameter.name],
                                  zero_reason=zero_reason(model, index, parameter, dloss, floor), **common))
        if any(self.at[name][point].status == FAIL for name in self.at if point in self.at[name]):
            self.alone(point, measured, warm, grads, warm_grads, y, z, dloss)

    def _add(self, name, point, comparison):
        self.at.setdefault(name, {})[point] = comparison

    def alone(self, point, measured, warm, grads, warm_grads, y, z, dloss):
        """Each layer checked on its own input and dout from the measured step, and the loss on its own."""
        model = self.model
        last = model.layers[-1]
        calls = {}
        for layer, _, _ in measured.forward:
            calls[id(layer)] = calls.get(id(layer), 0) + 1
        for layer, x_in, state in measured.forward:
            if several_inputs(layer) or calls[id(layer)] > 1:   # its gradients sum several inputs or calls
                self.not_alone.setdefault(layer.name, (type(layer).__name__, "takes several inputs"
                                                       if several_inputs(layer) else "runs twice in one step"))
                continue
            dout, dx = measured.backward[id(layer)]
            kinks = []

            def f(layer=layer, x_in=x_in, state=state, dout=dout, kinks=kinks):
                if self.seed is not None:
                    rng().bit_generator.state = state
                y_out = run_alone(layer, x_in, self.training, logits=layer is last and model.loss_takes_logits)
                record = kink_record(layer, x_in, y_out)
                kinks[:] = [] if record is None else [record]
                penalty = sum(p.regularizer(p.data) for p in layer.trainable_weights if p.regularizer is not None)
                return float((y_out * dout).sum()) + penalty

            floor = noise_floor(f(), self.eps)
            common = dict(eps=self.eps, floor=floor, tolerance=self.tolerance, kinks=lambda kinks=kinks: list(kinks),
                          point=point, zero_reason="the dL/dy it received is (near) zero here")
            previous = warm.backward.get(id(layer), (None, None))[1]
            name = "input" if layer is measured.forward[0][0] else f"{layer.name}/dx"
            self.own.setdefault(name, []).append(compare(
                f, x_in, checked_dx(dx, x_in), Sample(x_in.shape, self.max_entries, self.draw),
                previous=previous if previous is not None and previous.shape == x_in.shape else None, **common))
            self.shapes.setdefault(name, (layer.name, x_in.shape))
            for parameter in layer.trainable_weights:
                self.own.setdefault(parameter.name, []).append(compare(
                    f, parameter.data, grads[parameter.name], Sample(parameter.shape, self.max_entries, self.draw),
                    previous=warm_grads[parameter.name], **common))
        z = np.array(z, dtype=np.float64)

        def loss_alone():
            return float(model.loss.forward(y, z))

        floor = noise_floor(loss_alone(), self.eps)
        self.own.setdefault("loss", []).append(compare(loss_alone, z, dloss, Sample(z.shape, self.max_entries,
                                                                                      self.draw),
                                                       eps=self.eps, floor=floor, tolerance=self.tolerance,
                                                       point=point))
        self.shapes.setdefault("loss", ("(loss)", z.shape))

    def rows(self):
        """The table's rows in forward order, and the culprits in backward order."""
        model = self.model
        first = model.layers[0].name
        rows = [GradCheckRow.joined("input", f"(input of {first})", "input", self.input_shape,
                                    self.at.get("input", {}), merge(self.own.get("input", [])))]
        culprits = []
        for layer in reported_layers(model):
            own_dx = merge(self.own.get(f"{layer.name}/dx", []))
            if own_dx is not None:
                rows.append(GradCheckRow.joined(f"{layer.name}/dx", layer.name, "dx",
                                                self.shapes[f"{layer.name}/dx"][1], {}, own_dx))
            for parameter in layer.trainable_weights:
                rows.append(GradCheckRow.joined(parameter.name, layer.name, parameter.name.split("/")[-1],
                                                parameter.shape, self.at.get(parameter.name, {}),
                                                merge(self.own.get(parameter.name, []))))
            for name, failure in self.failures:
                if name == layer.name:
                    rows.append(GradCheckRow.joined(f"{name}/step", name, "step", (), {failure.point: failure}))
        if "loss" in self.own:
            rows.append(GradCheckRow.joined("loss", "(loss)", "dL/dz", self.shapes["loss"][1], {},
                                            merge(self.own["loss"])))
            if rows[-1].status == FAIL:
                culprits.append("the loss")
        first_dx = merge(self.own.get("input", []))
        for layer in reversed(reported_layers(model)):
            own = [merge(self.own.get(p.name, [])) for p in layer.trainable_weights]
            own.append(first_dx if layer is reported_layers(model)[0] else merge(self.own.get(f"{layer.name}/dx", [])))
            if any(c is not None and c.status == FAIL for c in own) or any(n == layer.name for n, _ in self.failures):
                culprits.append(layer.name)
        return rows, culprits


def several_inputs(layer):
    """Whether a functional graph calls ``layer`` on a list or a dict of inputs (``Add()([a, b])``).

    The step reports a layer's first input only, so such a layer cannot be run alone here.
    """
    return any(node.structure != "single" for node in getattr(layer, "inbound_nodes", ()))


def reported_layers(model):
    """The layers whose forward the model reports (a Softmax layer the loss took over is not one)."""
    layers = list(model.layers)
    if model.loss_takes_logits and layers and layers[-1] is model.output_activation():
        layers = layers[:-1]
    return layers


def run_alone(layer, x, training, logits):
    """The layer's step as the model ran it: its forward, then its own activation (``Dense(...,
    activation='relu')``), except for the last layer when the loss takes its logits."""
    y = layer.forward(x, training=training)
    activation = getattr(layer, "activation", None)
    if logits or activation is None or isinstance(activation, Linear) or isinstance(layer, Activation):
        return y                                          # (an Activation layer's forward is its activation)
    return activation.forward(y, training=training)

