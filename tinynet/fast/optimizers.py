"""Fast twins of the SGD, RMSprop and Adam update rules, registered with ``register_fast_rule``.

A twin takes its rule's arguments (``Adam.update(self, w, g, lr, m, v)`` with the optimizer as
``self``) plus ``out``, the arrays the parameter's previous step replaced, and writes the new
weights and state there (into new arrays when ``out`` is None): the inputs are never changed, so
the optimizer can still commit the step all or nothing. It returns ``(new w, new state, finite)``.
The operations are the rule's, in the rule's order, so the numbers are bit-identical (the tests
compare them); ``impl='naive'`` runs the rules as written.

NOTE: what the twins do differently, each to save passes over memory. The textbook rule makes a
new array for every intermediate result and goes over whole arrays a dozen times. A twin
- works through the arrays one block of 65536 values at a time (BLOCK), so the dozen operations on
  a block run in the core's cache and each array is read from memory once;
- writes into the arrays the previous step replaced: no allocation, and the commit is a swap of
  references (``Optimizer.take_step``);
- checks the new values for NaN and infinity block by block, while they are in cache, instead of
  in a pass of its own after the rule (``finite`` in the result).
"""
import math

import numpy as np

from ..core.optimizers import SGD, Adam, RMSprop, register_fast_rule

# Values per block. Adam's block (w, g, m, v, the three results and a scratch row) is 2 MB in
# float32: it stays in the last-level cache between the dozen operations on it.
BLOCK = 2 ** 16


def sgd_update(optimizer, w, g, lr, momentum=None, out=None):
    """SGD.update: w - lr * g; with momentum, velocity = momentum * velocity - lr * g and
    w + velocity (w + momentum * velocity - lr * g with nesterov)."""
    kernel, constants = sgd_kernel(optimizer, lr, momentum is not None)
    if momentum is None:
        w_new, new = _outputs(out, w, {})
        return w_new, new, _in_blocks(kernel, (w, g), (w_new,), *constants)
    w_new, new = _outputs(out, w, {"momentum": momentum})
    return w_new, new, _in_blocks(kernel, (w, g, momentum), (w_new, new["momentum"]), *constants)


def sgd_kernel(optimizer, lr, with_momentum=None):
    """``(kernel, constants)`` of SGD's rule for this step: the block function and its numbers."""
    if not (optimizer.momentum if with_momentum is None else with_momentum):
        return _sgd, (lr,)
    return (_sgd_nesterov if optimizer.nesterov else _sgd_momentum), (lr, optimizer.momentum)


def _sgd(w, g, w_new, scratch, lr):
    np.multiply(g, lr, out=w_new)                       # lr * g
    np.subtract(w, w_new, out=w_new)                    # w - lr * g
    return _finite(w_new, w_new)


def _sgd_momentum(w, g, velocity, w_new, velocity_new, scratch, lr, momentum):
    np.multiply(velocity, momentum, out=velocity_new)
    np.multiply(g, lr, out=w_new)
    velocity_new -= w_new                               # velocity = momentum * velocity - lr * g
    np.add(w, velocity_new, out=w_new)                  # w + velocity
    return _finite(w_new, velocity_new)


def _sgd_nesterov(w, g, velocity, w_new, velocity_new, scratch, lr, momentum):
    np.multiply(velocity, momentum, out=velocity_new)
    np.multiply(g, lr, out=scratch)
    velocity_new -= scratch                             # velocity = momentum * velocity - lr * g
    np.multiply(velocity_new, momentum, out=w_new)
    w_new += w
    w_new -= scratch                                    # w + momentum * velocity - lr * g
    return _finite(w_new, velocity_new)


def rmsprop_update(optimizer, w, g, lr, velocity, out=None):
    """RMSprop.update: velocity = rho * velocity + (1 - rho) * g^2; w - lr * g / sqrt(velocity + epsilon)."""
    w_new, new = _outputs(out, w, {"velocity": velocity})
    kernel, constants = rmsprop_kernel(optimizer, lr)
    return w_new, new, _in_blocks(kernel, (w, g, velocity), (w_new, new["velocity"]), *constants)


def rmsprop_kernel(optimizer, lr):
    """``(kernel, constants)`` of RMSprop's rule."""
    return _rmsprop, (lr, optimizer.rho, optimizer.epsilon)


def _rmsprop(w, g, velocity, w_new, velocity_new, scratch, lr, rho, epsilon):
    np.multiply(velocity, rho, out=velocity_new)
    np.multiply(g, 1 - rho, out=w_new)
    w_new *= g
    velocity_new += w_new                               # velocity = rho * velocity + (1 - rho) * g^2
    np.add(velocity_new, epsilon, out=w_new)
    np.sqrt(w_new, out=w_new)
    np.divide(g, w_new, out=w_new)
    w_new *= lr                                         # lr * (g / sqrt(velocity + epsilon))
    np.subtract(w, w_new, out=w_new)
    return _finite(w_new, velocity_new)


def adam_update(optimizer, w, g, lr, m, v, vhat=None, out=None):
    """Adam.update: m and v as running means of g and g^2; w - lr_t * m / (sqrt(v) + epsilon)
    (sqrt(vhat), vhat = max(vhat, v), with amsgrad)."""
    state = {"m": m, "v": v} if vhat is None else {"m": m, "v": v, "vhat": vhat}
    w_new, new = _outputs(out, w, state)
    kernel, constants = adam_kernel(optimizer, lr, vhat is not None)
    names = list(state)  # the kernel's order, whatever order ``out``'s dict has
    return w_new, new, _in_blocks(kernel, (w, g, *state.values()), (w_new, *[new[k] for k in names]), *constants)


def adam_kernel(optimizer, lr, amsgrad=None):
    """``(kernel, constants)`` of Adam's rule for this step: lr_t = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)."""
    beta_1, beta_2 = optimizer.beta_1, optimizer.beta_2
    t = optimizer._iterations + 1
    lr_t = lr * math.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
    amsgrad = optimizer.amsgrad if amsgrad is None else amsgrad
    return (_amsgrad if amsgrad else _adam), (beta_1, beta_2, lr_t, optimizer.epsilon)


def _moments(g, m, v, w_new, m_new, v_new, beta_1, beta_2):
    np.multiply(m, beta_1, out=m_new)
    np.multiply(g, 1 - beta_1, out=w_new)
    m_new += w_new                                      # m = beta_1 * m + (1 - beta_1) * g
    np.multiply(g, 1 - beta_2, out=w_new)
    w_new *= g
    np.multiply(v, beta_2, out=v_new)
    v_new += w_new                                      # v = beta_2 * v + (1 - beta_2) * g^2


def _adam_step(w, m_new, v_or_vhat, w_new, lr_t, epsilon):
    np.sqrt(v_or_vhat, out=w_new)
    w_new += epsilon
    np.divide(m_new, w_new, out=w_new)
    w_new *= lr_t                                       # lr_t * (m / (sqrt(v) + epsilon))
    np.subtract(w, w_new, out=w_new)


def _adam(w, g, m, v, w_new, m_new, v_new, scratch, beta_1, beta_2, lr_t, epsilon):
    _moments(g, m, v, w_new, m_new, v_new, beta_1, beta_2)
    _adam_step(w, m_new, v_new, w_new, lr_t, epsilon)
    return _finite(w_new, v_new)  # w and v tell whether m is finite too: see Adam.finite


def _amsgrad(w, g, m, v, vhat, w_new, m_new, v_new, vhat_new, scratch, beta_1, beta_2, lr_t, epsilon):
    _moments(g, m, v, w_new, m_new, v_new, beta_1, beta_2)
    np.maximum(vhat, v_new, out=vhat_new)               # vhat = max(vhat, v)
    _adam_step(w, m_new, vhat_new, w_new, lr_t, epsilon)
    return _finite(w_new, v_new)


def _outputs(out, w, state):
    """``out`` when it can be written through flat views (C-contiguous), else new arrays like ``w``."""
    if out is not None and all(a.flags.c_contiguous for a in (out[0], *out[1].values())):
        return out
    return np.empty(w.shape, w.dtype), {key: np.empty(w.shape, w.dtype) for key in state}


def _in_blocks(kernel, inputs, outputs, *constants):
    """``kernel(*inputs, *outputs, scratch, *constants)`` on consecutive blocks of the flattened
    arrays; True when the kernel found every block's new values finite."""
    # NOTE: a parameter of one block (a bias, a small kernel) goes straight to the kernel: the
    # loop's slicing is Python work per block that such a parameter does not need.
    arrays = [(a if a.flags.c_contiguous else np.ascontiguousarray(a)).reshape(-1) for a in inputs]
    arrays += [a.reshape(-1) for a in outputs]  # views: _outputs made sure they are contiguous
    size = arrays[0].size
    arrays.append(np.empty(min(size, BLOCK), arrays[-1].dtype))  # the scratch row
    if size <= BLOCK:
        return kernel(*arrays, *constants)
    finite = True
    for start in range(0, size, BLOCK):
        stop = start + BLOCK
        finite &= kernel(*[a[start:stop] for a in arrays[:-1]], arrays[-1][:min(BLOCK, size - start)], *constants)
    return finite


def _finite(a, b):
    """Whether every entry of the blocks ``a`` and ``b`` is finite, checked while they are in cache."""
    # NOTE: one dot product reads both; it is NaN or infinite when any entry is, and it also
    # overflows for large finite values: only then is each entry looked at.
    return math.isfinite(a @ b) or bool(np.isfinite(a).all() and np.isfinite(b).all())


register_fast_rule(SGD, sgd_update)
register_fast_rule(RMSprop, rmsprop_update)
register_fast_rule(Adam, adam_update)
