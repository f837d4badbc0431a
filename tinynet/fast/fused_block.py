"""Where a model runs BatchNormalization -> ReLU -> MaxPooling2D as one op: the FusedBlock step.

A model's forward and backward walk its layers one at a time. ``steps(layers)`` is the same
walk with every run of these three layers that ``tinynet.fast.fused`` handles replaced by one
``FusedBlock``, which the walk treats like a layer (``forward``, ``backward``,
``trainable_weights``, ``needs_input_gradient``). The three layers stay in ``model.layers``:
``summary()``, the weights, saving and loading see them unchanged. The block computes with their
settings and weights and writes what they would: gamma's and beta's gradients, and batch norm's
``state_updates`` (the new moving statistics, committed by the model with the step). Observers
of the walk (``on_layer``: the trace, gradient checks, GradientStats) still see each of the three
layers with its own input and output (``report_forward`` / ``report_backward``).

A run is fused when the three layers are exactly BatchNormalization, ReLU and MaxPooling2D on
images, all with ``impl='fast'`` (``impl='naive'`` on any of them runs them one by one), and the
pooling is 'valid' with windows that do not overlap.
"""

import numpy as np

from . import fused


class FusedBlock:
    """batch norm -> ReLU -> max-pool as one step of a model's forward and backward walk."""

    activity_regularizer = None  # steps() fuses only layers without one

    def __init__(self, batch_norm, relu, pool):
        self.layers = (batch_norm, relu, pool)
        self.name = " -> ".join(layer.name for layer in self.layers) + " (fused)"
        self.needs_input_gradient = True
        self.cache = None            # (training, the fused op's cache)
        self.report = None           # what report_backward needs from report_forward

    @property
    def trainable_weights(self):
        return self.layers[0].trainable_weights

    def forward(self, z, training=False):
        bn, _, pool = self.layers
        gamma, beta = bn._gamma_beta()
        training = training and bn.trainable     # a frozen batch norm runs in inference mode, as alone
        settings = (pool.pool_size, pool.strides, pool.padding)
        if training:
            y, mean, var, cache = fused.fused_forward(z, gamma, beta, bn.epsilon, *settings)
            # The same moving-average update as BatchNormalization.forward, recorded, not written.
            m = bn.momentum
            bn.state_updates = [(bn.moving_mean, bn.moving_mean.data * m + mean * (1 - m)),
                                (bn.moving_variance, bn.moving_variance.data * m + var * (1 - m))]
        else:
            y, cache = fused.fused_inference(z, gamma, beta, bn.moving_mean.data, bn.moving_variance.data,
                                             bn.epsilon, *settings)
            bn.state_updates = []
        self.cache = (training, cache)
        return y

    def backward(self, dout):
        bn = self.layers[0]
        _, cache = self.cache
        dz, dgamma, dbeta = fused.fused_backward(dout, cache)
        if bn.scale:
            bn.gamma.grad[...] = dgamma
        if bn.center:
            bn.beta.grad[...] = dbeta
        return dz

    def add_regularization_gradients(self):
        for layer in self.layers:
            layer.add_regularization_gradients()

    def report_forward(self, on_layer, z, y):
        """``on_layer(layer, x_in, y_out)`` for each of the three layers, as if they had run one by one.

        For observers (trace, gradient checks, GradientStats) only: the layers' intermediate
        outputs -- batch norm's and the ReLU's, full size -- are computed again here with the
        layers' own ops; the fused op never builds them. They match the fused output exactly.
        """
        bn, relu, pool = self.layers
        ops = bn.ops
        gamma, beta = bn._gamma_beta()
        training, _ = self.cache
        if training:
            t = ops.batch_norm_forward(z, gamma, beta, bn.epsilon)[0]
        else:
            t = ops.batch_norm_inference(z, gamma, beta, bn.moving_mean.data, bn.moving_variance.data, bn.epsilon)[0]
        r = np.maximum(t, 0)
        _, pool_cache = pool.ops.maxpool2d_forward(r, pool.pool_size, pool.strides, pool.padding)
        self.report = (r, pool_cache)
        on_layer(bn, z, t)
        on_layer(relu, t, r)
        on_layer(pool, r, y)

    def report_backward(self, on_layer, dout, dz):
        """``on_layer(layer, dout, dx)`` for each layer, in reverse (after ``report_forward``)."""
        bn, relu, pool = self.layers
        r, pool_cache = self.report
        dr = pool.ops.maxpool2d_backward(dout, pool_cache)
        dt = dr * (r > 0)
        on_layer(pool, dout, dr)
        on_layer(relu, dr, dt)
        on_layer(bn, dt, dz)

    def __repr__(self):
        return f"<FusedBlock {self.name}>"


def report_forward(on_layer, step, x_in, y_out):
    """``on_layer(step, x_in, y_out)``; a FusedBlock reports each of its three layers instead."""
    if isinstance(step, FusedBlock):
        step.report_forward(on_layer, x_in, y_out)
    else:
        on_layer(step, x_in, y_out)


def report_backward(on_layer, step, dout, dx):
    """``on_layer(step, dout, dx)``; a FusedBlock reports each of its three layers instead."""
    if isinstance(step, FusedBlock):
        step.report_backward(on_layer, dout, dx)
    else:
        on_layer(step, dout, dx)


def steps(layers):
    """``layers`` in order, with each fusable BatchNormalization -> ReLU -> MaxPooling2D as one FusedBlock."""
    walk, i = [], 0
    while i < len(layers):
        if _fusable(layers[i:i + 3]):
            walk.append(FusedBlock(*layers[i:i + 3]))
            i += 3
        else:
            walk.append(layers[i])
            i += 1
    return walk


def _fusable(run):
    from ..core.layers import BatchNormalization, MaxPooling2D, ReLU  # the layers import ops: import late

    if len(run) != 3:
        return False
    bn, relu, pool = run
    return (type(bn) is BatchNormalization and type(relu) is ReLU and type(pool) is MaxPooling2D
            and all(getattr(layer, "impl", "fast") == "fast" and layer.activity_regularizer is None for layer in run)
            and bn.built and len(bn.input_shape) == 3
            and fused.fusable(pool.pool_size, pool.strides, pool.padding))

