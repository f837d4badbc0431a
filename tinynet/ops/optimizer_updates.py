"""The optimizers' update rules, fused and in place: the fast twins of ``tinynet.optimizers``.

Each function has the signature of its textbook rule (``Adam.update(self, w, g, m, v)``
with the optimizer as ``self``) and returns the same ``(new w, new state)``, plus one
keyword, ``out``: ``(w_out, state_out)``, arrays to write the results into. The
optimizer passes the arrays its previous step replaced, so a step allocates
nothing; without ``out`` new arrays are allocated. The inputs are never changed,
so the optimizer can still commit the step all or nothing.

NOTE: what this buys, measured (cca MLP's 670k weights, Adam, 2 shared cores): the
textbook rule allocates a fresh array for every intermediate (12 per weight array),
and the page faults of those allocations made a step 3.3x slower than this version
(18.6 ms vs 5.6 ms before any change), a third of a whole batch-32 training step.
``Optimizer(impl='naive')`` runs the textbook rules; tests check both agree.
"""
import math

import numpy as np


def _outputs(out, w, state):
    if out is None:
        return np.empty_like(w), {key: np.empty_like(value) for key, value in state.items()}
    return out


def sgd_update(optimizer, w, g, momentum=None, out=None):
    """SGD.update: w - lr * g, or with momentum velocity = momentum * velocity - lr * g, w + velocity."""
    lr = optimizer.current_learning_rate
    w_new, new = _outputs(out, w, {} if momentum is None else {"momentum": momentum})
    np.multiply(g, lr, out=w_new)                       # lr * g
    if momentum is None:
        np.subtract(w, w_new, out=w_new)                # w - lr * g
        return w_new, {}
    velocity = new["momentum"]
    np.multiply(momentum, optimizer.momentum, out=velocity)
    velocity -= w_new                                   # velocity = momentum * velocity - lr * g
    if optimizer.nesterov:
        np.subtract(w, w_new, out=w_new)                # w + momentum * velocity - lr * g
        w_new += optimizer.momentum * velocity
    else:
        np.add(w, velocity, out=w_new)                  # w + velocity
    return w_new, {"momentum": velocity}


def rmsprop_update(optimizer, w, g, velocity, out=None):
    """RMSprop.update: velocity = rho * velocity + (1 - rho) * g^2; w - lr * g / (sqrt(velocity) + epsilon)."""
    w_new, new = _outputs(out, w, {"velocity": velocity})
    v_new = new["velocity"]
    np.multiply(g, 1 - optimizer.rho, out=w_new)
    w_new *= g                                          # (1 - rho) * g^2
    np.multiply(velocity, optimizer.rho, out=v_new)
    v_new += w_new                                      # velocity = rho * velocity + (1 - rho) * g^2
    np.sqrt(v_new, out=w_new)
    w_new += optimizer.epsilon
    np.divide(g, w_new, out=w_new)
    w_new *= optimizer.current_learning_rate                    # lr * g / (sqrt(velocity) + epsilon)
    np.subtract(w, w_new, out=w_new)
    return w_new, {"velocity": v_new}


def adam_update(optimizer, w, g, m, v, out=None):
    """Adam.update: m and v as running means of g and g^2; w - lr_t * m / (sqrt(v) + epsilon)."""
    beta_1, beta_2 = optimizer.beta_1, optimizer.beta_2
    t = optimizer.iterations + 1
    lr_t = optimizer.current_learning_rate * math.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
    w_new, new = _outputs(out, w, {"m": m, "v": v})
    m_new, v_new = new["m"], new["v"]
    np.multiply(m, beta_1, out=m_new)
    np.multiply(g, 1 - beta_1, out=w_new)
    m_new += w_new                                      # m = beta_1 * m + (1 - beta_1) * g
    np.multiply(g, 1 - beta_2, out=w_new)
    w_new *= g
    np.multiply(v, beta_2, out=v_new)
    v_new += w_new                                      # v = beta_2 * v + (1 - beta_2) * g^2
    np.sqrt(v_new, out=w_new)
    w_new += optimizer.epsilon
    np.divide(m_new, w_new, out=w_new)
    w_new *= lr_t                                       # lr_t * m / (sqrt(v) + epsilon)
    np.subtract(w, w_new, out=w_new)
    return w_new, {"m": m_new, "v": v_new}
