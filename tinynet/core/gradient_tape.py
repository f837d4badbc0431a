"""``GradientTape``: TensorFlow's way to write a training step by hand, on tinynet's tape.

    with tinynet.GradientTape() as tape:
        logits = model(x, training=True)
        loss = loss_fn(y, logits)
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))

It is the same tape ``fit`` records (``tinynet/core/tape.py``) and the same backward walk: a loop
written this way and ``fit`` with the same batches give the same weights, bit for bit.
"""
import numpy as np

from . import tape as tape_module
from .tensor import Tensor


class GradientTape:
    """Records what runs inside ``with GradientTape() as tape:``; ``tape.gradient(target, sources)`` walks
    back from ``target`` and returns the gradient of each source (a weight, or a watched tensor; None where
    the target does not depend on it, as TensorFlow does).

    Moving statistics that layers computed in training mode (BatchNormalization) are written when the
    block ends without an error, as Keras writes them during its forward pass.
    """

    def __init__(self, persistent=False, watch_accessed_variables=True):
        self.persistent = bool(persistent)
        self._tape = tape_module.Tape()
        self._used = False

    def __enter__(self):
        self._tape.__enter__()
        return self

    def __exit__(self, kind, error, traceback):
        self._tape.__exit__(kind, error, traceback)
        if kind is None:
            for parameter, value in self._tape.state_updates:
                parameter.data = np.asarray(value, dtype=parameter.data.dtype)
        return False

    def watch(self, tensor):
        """Ask for gradients with respect to ``tensor`` (a Tensor; weights are watched already)."""
        for t in tensor if isinstance(tensor, (list, tuple)) else [tensor]:
            if not isinstance(t, Tensor):
                raise TypeError(f"GradientTape.watch expects tensors (tinynet.ops.convert_to_tensor(x)); "
                                f"received {type(t).__name__}.")
            t.requires_grad = True

    def gradient(self, target, sources, output_gradients=None):
        """d(target)/d(source) for each source, in the structure ``sources`` was given in."""
        if self._used and not self.persistent:
            raise RuntimeError("A non-persistent GradientTape can compute gradients only once: create it with "
                               "GradientTape(persistent=True) to call gradient() several times.")
        self._used = True
        if not isinstance(target, Tensor):
            raise TypeError(f"GradientTape.gradient: the target must be a tensor computed inside the tape; received "
                            f"{type(target).__name__}.")
        seed = np.ones_like(target.value) if output_gradients is None else np.asarray(output_gradients)
        flat = sources if isinstance(sources, (list, tuple)) else [sources]
        flat = list(flat.values()) if isinstance(sources, dict) else list(flat)
        for source in flat:  # a gradient asked of a weight starts from zero, whatever the last step left
            if hasattr(source, "as_tensor"):
                source.grad = np.zeros_like(source.data)
        grads, written = self._tape.backward({target: seed})
        result = []
        for source in flat:
            if hasattr(source, "as_tensor"):  # a weight
                result.append(source.grad.copy() if id(source) in written else None)
            elif isinstance(source, Tensor):
                result.append(grads.get(id(source)))
            else:
                raise TypeError(f"GradientTape.gradient: sources must be weights or tensors; received "
                                f"{type(source).__name__}.")
        if isinstance(sources, dict):
            return dict(zip(sources, result))
        return result if isinstance(sources, (list, tuple)) else result[0]
