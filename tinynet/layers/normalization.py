"""BatchNormalization: normalize each channel by the batch's statistics, then scale and shift."""
import numpy as np

from ..ops import naive, normalization as ops
from .base import Layer


class BatchNormalization(Layer):
    """Batch normalization (Ioffe & Szegedy, 2015) over the last axis, as in Keras.

    In training (``fit``), with the batch's per-channel mean and biased variance:

        xhat = (x - mean) / sqrt(var + epsilon)        y = gamma * xhat + beta

    and the moving statistics follow the batch's:

        moving_mean     = moving_mean * momentum     + mean * (1 - momentum)
        moving_variance = moving_variance * momentum + var  * (1 - momentum)

    In inference (``predict``, ``evaluate``) the moving statistics replace the batch's,
    so each sample's output no longer depends on the rest of its batch.

    Shapes: ``x: (N, C)`` after Dense (one statistic per feature) or ``(N, H, W, C)`` after
    Conv2D (one per channel, over N*H*W values); gamma, beta, moving_mean, moving_variance:
    ``(C,)``. Weights are [gamma, beta, moving_mean, moving_variance] as in Keras (gamma
    only if ``scale``, beta only if ``center``); the moving statistics are non-trainable:
    the optimizer never touches them, ``forward`` updates them.

    Backward (training mode; see ``tinynet.ops.normalization.batch_norm_backward`` for the
    derivation), over the M values of each channel:

        dbeta = sum dout     dgamma = sum dout * xhat
        dx = (1/M) * inv_std * (M * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat)),  dxhat = dout * gamma
    """

    equation = "y = gamma * (x - mean) / sqrt(var + epsilon) + beta"

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, impl="fast", **kwargs):
        super().__init__(**kwargs)
        # impl='naive': the per-channel, step-by-step version in tinynet.ops.naive
        self.impl = naive.check_impl(impl, self.name)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise ValueError(
                f"Received an invalid value for `axis`, expected an integer (the channels axis, -1). "
                f"Received: axis={axis!r}")
        if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or not 0 <= momentum <= 1:
            raise ValueError(
                f"Received an invalid value for `momentum`, expected a float in [0, 1]. "
                f"Received: momentum={momentum!r}")
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or not epsilon > 0:
            raise ValueError(
                f"Received an invalid value for `epsilon`, expected a positive float. "
                f"Received: epsilon={epsilon!r}")
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)

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

    def _gamma_beta(self):
        """gamma and beta, or the constants 1 and 0 that stand for them when scale/center is off."""
        C = self.moving_mean.shape
        dtype = self.moving_mean.data.dtype
        gamma = self.gamma.data if self.scale else np.ones(C, dtype)
        beta = self.beta.data if self.center else np.zeros(C, dtype)
        return gamma, beta

    @property
    def _ops(self):
        """Where the arithmetic lives: tinynet.ops.normalization, or tinynet.ops.naive for impl='naive'."""
        return naive if self.impl == "naive" else ops

    def forward(self, x, training=False):
        gamma, beta = self._gamma_beta()
        # A frozen layer (trainable=False) runs in inference mode even inside fit, as in Keras
        # 2.x/3: fine-tuning keeps its statistics. Backward differs: batch statistics depend
        # on x, moving ones do not.
        self.training = training and self.trainable
        if not self.training:
            self.x = x  # inference backward recomputes xhat from x (a reference, no copy)
            return self._ops.batch_norm_inference(x, gamma, beta, self.moving_mean.data,
                                                  self.moving_variance.data, self.epsilon)
        y, mean, var, self.cache = self._ops.batch_norm_forward(x, gamma, beta, self.epsilon)
        # moving = moving * momentum + batch * (1 - momentum), written as one in-place update.
        self.moving_mean.data += (mean - self.moving_mean.data) * (1 - self.momentum)
        self.moving_variance.data += (var - self.moving_variance.data) * (1 - self.momentum)
        return y

    def backward(self, dout):
        if self.training:
            dx, dgamma, dbeta = self._ops.batch_norm_backward(dout, self.cache)
        else:
            gamma, _ = self._gamma_beta()
            dx, dgamma, dbeta = self._ops.batch_norm_inference_backward(
                dout, self.x, gamma, self.moving_mean.data, self.moving_variance.data, self.epsilon)
        if self.scale:
            self.gamma.grad[...] = dgamma
        if self.center:
            self.beta.grad[...] = dbeta
        return dx

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale, "impl": self.impl}
