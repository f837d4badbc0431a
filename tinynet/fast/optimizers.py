"""The optimizers' update rules, fused and in place: the fast twins of ``tinynet.optimizers``.

Each function has the signature of its textbook rule (``Adam.update(self, w, g, m, v)``
with the optimizer as ``self``) and returns the same ``(new w, new state)``, plus one
keyword, ``out``: ``(w_out, state_out)``, arrays to write the results into. The
optimizer passes the arrays its previous step replaced, so a step allocates
nothing; without ``out`` new arrays are allocated. The inputs are never changed,
so the optimizer can still commit the step all or nothing.

NOTE: what this buys, measured with Adam on the cca MLP's 670k weights (one ``apply``,
alternating with tinynet 0.1's in-place update, medians of 30 rounds of 20 steps, on the
shared 2-core machine): the textbook rules, which allocate a fresh
array for every intermediate (12 per weight array), take 1.49x-1.74x as long as 0.1's
update; these take 1.07x-1.12x (12 passes instead of 0.1's 10, since the state is kept as
Keras keeps it and written beside the old one, so that a refused step can leave it as it was).
``Optimizer(impl='naive')`` runs the textbook rules; tests check both agree.
"""
import math

import numpy as np


# Values per block: the seven arrays of an Adam block (w, g, m, v and the three results) take
# 1.8 MB in float32, so each block's dozen passes run in the core's L2 cache (4 MB here).
BLOCK = 2 ** 16


def _outputs(out, w, state):
    if out is None:
        return np.empty_like(w), {key: np.empty_like(value) for key, value in state.items()}
    return out


def _in_blocks(kernel, inputs, outputs, *constants):
    """``kernel(*inputs, *outputs, *constants)`` on consecutive blocks of the flattened arrays.

    NOTE: one pass of NumPy over a whole large array at a time streams it from memory a dozen
    times per update; a block at a time, it is read from memory once and the other passes hit
    the cache.
    """
    if inputs[0].size <= BLOCK:
        kernel(*inputs, *outputs, *constants)
        return
    inputs = [np.ascontiguousarray(a).reshape(-1) for a in inputs]
    outputs = [a.reshape(-1) for a in outputs]  # the optimizer's own contiguous arrays
    for start in range(0, inputs[0].size, BLOCK):
        part = slice(start, start + BLOCK)
        kernel(*(a[part] for a in inputs), *(a[part] for a in outputs), *constants)


def sgd_update(optimizer, w, g, momentum=None, out=None):
    """SGD.update: w - lr * g, or with momentum velocity = momentum * velocity - lr * g, w + velocity."""
    w_new, new = _outputs(out, w, {} if momentum is None else {"momentum": momentum})
    if momentum is None:
        _in_blocks(_sgd, (w, g), (w_new,), optimizer.current_learning_rate)
        return w_new, {}
    _in_blocks(_sgd_momentum, (w, g, momentum), (w_new, new["momentum"]), optimizer.current_learning_rate,
               optimizer.momentum, optimizer.nesterov)
    return w_new, {"momentum": new["momentum"]}


def _sgd(w, g, w_new, lr):
    np.multiply(g, lr, out=w_new)                       # lr * g
    np.subtract(w, w_new, out=w_new)                    # w - lr * g


def _sgd_momentum(w, g, velocity, w_new, velocity_new, lr, momentum, nesterov):
    np.multiply(g, lr, out=w_new)                       # lr * g
    np.multiply(velocity, momentum, out=velocity_new)
    velocity_new -= w_new                               # velocity = momentum * velocity - lr * g
    if nesterov:
        np.subtract(w, w_new, out=w_new)                # w + momentum * velocity - lr * g
        w_new += momentum * velocity_new
    else:
        np.add(w, velocity_new, out=w_new)              # w + velocity


def rmsprop_update(optimizer, w, g, velocity, out=None):
    """RMSprop.update: velocity = rho * velocity + (1 - rho) * g^2; w - lr * g / (sqrt(velocity) + epsilon)."""
    w_new, new = _outputs(out, w, {"velocity": velocity})
    _in_blocks(_rmsprop, (w, g, velocity), (w_new, new["velocity"]), optimizer.current_learning_rate, optimizer.rho,
               optimizer.epsilon)
    return w_new, {"velocity": new["velocity"]}


def _rmsprop(w, g, velocity, w_new, velocity_new, lr, rho, epsilon):
    np.multiply(g, 1 - rho, out=w_new)
    w_new *= g                                          # (1 - rho) * g^2
    np.multiply(velocity, rho, out=velocity_new)
    velocity_new += w_new                               # velocity = rho * velocity + (1 - rho) * g^2
    np.sqrt(velocity_new, out=w_new)
    w_new += epsilon
    np.divide(g, w_new, out=w_new)
    w_new *= lr                                         # lr * g / (sqrt(velocity) + epsilon)
    np.subtract(w, w_new, out=w_new)


def adam_update(optimizer, w, g, m, v, out=None):
    """Adam.update: m and v as running means of g and g^2; w - lr_t * m / (sqrt(v) + epsilon)."""
    beta_1, beta_2 = optimizer.beta_1, optimizer.beta_2
    t = optimizer.iterations + 1
    lr_t = optimizer.current_learning_rate * math.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
    w_new, new = _outputs(out, w, {"m": m, "v": v})
    _in_blocks(_adam, (w, g, m, v), (w_new, new["m"], new["v"]), beta_1, beta_2, lr_t, optimizer.epsilon)
    return w_new, {"m": new["m"], "v": new["v"]}


def _adam(w, g, m, v, w_new, m_new, v_new, beta_1, beta_2, lr_t, epsilon):
    np.multiply(m, beta_1, out=m_new)
    np.multiply(g, 1 - beta_1, out=w_new)
    m_new += w_new                                      # m = beta_1 * m + (1 - beta_1) * g
    np.multiply(g, 1 - beta_2, out=w_new)
    w_new *= g
    np.multiply(v, beta_2, out=v_new)
    v_new += w_new                                      # v = beta_2 * v + (1 - beta_2) * g^2
    np.sqrt(v_new, out=w_new)
    w_new += epsilon
    np.divide(m_new, w_new, out=w_new)
    w_new *= lr_t                                       # lr_t * m / (sqrt(v) + epsilon)
    np.subtract(w, w_new, out=w_new)
