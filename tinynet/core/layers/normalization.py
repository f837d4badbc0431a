"""BatchNormalization (each channel by the batch's statistics) and LayerNormalization (each sample by its own)."""
import numpy as np

from ..checks import check_bool, check_float, check_int
from ..ops import check_impl
from ..ops.normalization import layer_norm_backward, layer_norm_forward
from .base import Layer


class BatchNormalization(Layer):
    """Batch normalization (Ioffe & Szegedy, 2015) over the last axis, as in Keras.

    In training (``fit``), with the batch's per-channel mean and biased variance:

        xhat = (x - mean) / sqrt(var + epsilon)        y = gamma * xhat + beta

    and the moving statistics follow the batch's:

        moving_mean     = moving_mean * momentum     + mean * (1 - momentum)
        moving_variance = moving_variance * momentum + var  * (1 - momentum)

    The forward does not write them: it lists the new values in ``self.state_updates``, the
    call hands them to the tape, and ``Optimizer.take_step`` commits them with the new weights
    when the whole training step has succeeded (a ``GradientTape`` block when it ends; a layer
    called on its own, ``Layer.commit_state_updates``). In inference (``predict``, ``evaluate``), and in a
    frozen layer (``trainable=False``, as in Keras), the moving statistics replace the
    batch's, so each sample's output no longer depends on the rest of its batch.

    Shapes: ``x: (N, C)`` after Dense (one statistic per feature) or ``(N, H, W, C)`` after
    Conv2D (one per channel, over N*H*W values); gamma, beta, moving_mean, moving_variance:
    ``(C,)``. Weights are [gamma, beta, moving_mean, moving_variance] as in Keras (gamma
    only if ``scale``, beta only if ``center``); the moving statistics are non-trainable.

    Backward (training mode), over the M values of each channel, with dxhat = dout * gamma:

        dbeta = sum dout        dgamma = sum dout * xhat
        dx = (1/M) * (1/sqrt(var + eps)) * (M * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat))

    (``tinynet/core/ops/normalization.py::batch_norm_backward`` derives it step by step.) In
    inference mean and var are constants: dx = dout * gamma / sqrt(moving_variance + eps).
    Cache: (training, the op's cache).
    """

    equation = "y = gamma * (x - mean) / sqrt(var + epsilon) + beta"

    def forward(self, x, training=False):
        gamma, beta = self._gamma_beta()
        # A frozen layer (trainable=False) runs in inference mode even inside fit, as in Keras
        # 2.x/3: fine-tuning keeps its statistics. Backward differs: batch statistics depend
        # on x, moving ones do not.
        training = training and self.trainable
        if training:
            y, mean, var, cache = self.ops.batch_norm_forward(x, gamma, beta, self.epsilon)
            m = self.momentum
            self.state_updates = [(self.moving_mean, self.moving_mean.data * m + mean * (1 - m)),
                                  (self.moving_variance, self.moving_variance.data * m + var * (1 - m))]
        else:
            y, cache = self.ops.batch_norm_inference(x, gamma, beta, self.moving_mean.data,
                                                     self.moving_variance.data, self.epsilon)
            self.state_updates = []
        self.cache = (training, cache)
        return y

    def backward(self, dout):
        training, cache = self.cache
        if training:
            dx, dgamma, dbeta = self.ops.batch_norm_backward(dout, cache)
        else:
            dx, dgamma, dbeta = self.ops.batch_norm_inference_backward(dout, cache)
        if self.scale:
            self.gamma.grad[...] = dgamma
        if self.center:
            self.beta.grad[...] = dbeta
        return dx

    def _gamma_beta(self):
        """gamma and beta, or the constants 1 and 0 that stand for them when scale/center is off."""
        C, dtype = self.moving_mean.shape, self.moving_mean.data.dtype
        gamma = self.gamma.data if self.scale else np.ones(C, dtype)
        beta = self.beta.data if self.center else np.zeros(C, dtype)
        return gamma, beta

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, impl="fast", **kwargs):
        super().__init__(**kwargs)
        self.impl = check_impl(impl, self.name)
        self.axis = check_int(axis, "axis")
        self.momentum = check_float(momentum, "momentum", 0, 1)
        self.epsilon = check_float(epsilon, "epsilon", 0, min_open=True)
        self.center = check_bool(center, "center")
        self.scale = check_bool(scale, "scale")

    def build(self, input_shape):
        # Only the last (channels) axis is supported; Keras users often write it as a positive
        # index, e.g. axis=3 for (N, H, W, C) images, which is the same axis.
        if self.axis not in (-1, len(input_shape)):
            raise ValueError(
                f"Layer '{self.name}' (BatchNormalization) supports only the last axis: axis=-1 "
                f"(or {len(input_shape)} for inputs of shape (None, {', '.join(map(str, input_shape))})). "
                f"Received: axis={self.axis}")
        C = (input_shape[-1],)
        self.gamma = self.add_weight("gamma", C, "ones") if self.scale else None
        self.beta = self.add_weight("beta", C, "zeros") if self.center else None
        self.moving_mean = self.add_weight("moving_mean", C, "zeros", trainable=False)
        self.moving_variance = self.add_weight("moving_variance", C, "ones", trainable=False)
        super().build(input_shape)


class LayerNormalization(Layer):
    """Layer normalization (Ba, Kiros & Hinton, 2016): each SAMPLE normalized by its own statistics.

        mean, var = the mean and (biased) variance of one sample's values along ``axis``
        xhat = (x - mean) / sqrt(var + epsilon)        y = gamma * xhat + beta

    Unlike BatchNormalization, nothing depends on the rest of the batch, so training and inference
    compute the same thing and there are no moving statistics. ``axis`` (default -1, the features)
    counts the batch axis as 0, as in Keras; a list normalizes over several axes (``[1, 2, 3]``: each
    image as a whole). gamma and beta have the sizes of the normalized axes: ``(C,)`` for the default.
    Weights: [gamma, beta] (gamma only if ``scale``, beta only if ``center``), as in Keras.

    Backward is batch norm's, per sample over its D normalized values (``ops/normalization.py``):

        dxhat = dout * gamma        dx = (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) / sqrt(var + eps)
        dgamma = sum of dout * xhat over the other axes          dbeta = sum of dout over the other axes

    Cache: the op's ``LayerNormCache`` (xhat, sqrt(var + eps), the broadcast gamma and the axes).
    """

    equation = "y = gamma * (x - mean(x)) / sqrt(var(x) + epsilon) + beta   (per sample)"

    def forward(self, x, training=False):
        gamma = self.gamma.data.reshape(self.broadcast_shape) if self.scale else x.dtype.type(1)
        beta = self.beta.data.reshape(self.broadcast_shape) if self.center else x.dtype.type(0)
        y, self.cache = layer_norm_forward(x, gamma, beta, self.axes, self.epsilon)
        return y

    def backward(self, dout):
        dx, dgamma, dbeta = layer_norm_backward(dout, self.cache)
        if self.scale:
            self.gamma.grad[...] = dgamma.reshape(self.gamma.shape)
        if self.center:
            self.beta.grad[...] = dbeta.reshape(self.beta.shape)
        return dx

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, rms_scaling=False, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
        self.axis = [check_int(a, "axis", owner=self.name) for a in axes] if axes else None
        if not self.axis:
            raise ValueError(f"Layer '{self.name}': `axis` must name at least one axis. Received: axis={axis!r}")
        self.epsilon = check_float(epsilon, "epsilon", 0, min_open=True, owner=self.name)
        self.center = check_bool(center, "center")
        self.scale = check_bool(scale, "scale")
        if rms_scaling:
            raise ValueError(f"Layer '{self.name}': rms_scaling=True (RMS normalization) is not implemented in "
                             "tinynet. Received: rms_scaling=True")
        self.beta_initializer, self.gamma_initializer = beta_initializer, gamma_initializer
        self.beta_regularizer, self.gamma_regularizer = beta_regularizer, gamma_regularizer
        self.beta_constraint, self.gamma_constraint = beta_constraint, gamma_constraint

    def _axes(self, rank):
        """The normalized axes as non-negative indices of an input of ``rank`` axes, batch included."""
        axes = []
        for a in self.axis:
            axis = a + rank if a < 0 else a
            if not 1 <= axis < rank:
                raise ValueError(f"Layer '{self.name}': axis={a} is not an axis of a sample of inputs of rank {rank} "
                                 "(the batch axis 0 cannot be normalized over).")
            axes.append(axis)
        return tuple(sorted(set(axes)))

    def build(self, input_shape):
        rank = len(input_shape) + 1
        self.axes = self._axes(rank)
        shape = tuple(input_shape[a - 1] for a in self.axes)
        # gamma and beta as stored (Keras's shape), and as they broadcast against x: size 1 off the axes.
        self.broadcast_shape = tuple(input_shape[a - 1] if a in self.axes else 1 for a in range(1, rank))
        self.gamma = self.add_weight("gamma", shape, self.gamma_initializer, regularizer=self.gamma_regularizer,
                                     constraint=self.gamma_constraint) if self.scale else None
        self.beta = self.add_weight("beta", shape, self.beta_initializer, regularizer=self.beta_regularizer,
                                    constraint=self.beta_constraint) if self.center else None
        super().build(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis if len(self.axis) > 1 else self.axis[0],
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale}
