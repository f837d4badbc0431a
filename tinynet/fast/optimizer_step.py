"""The fast twin of ``Optimizer.update_parameters``: one rule over all the parameters at once, in flat buffers.

``optimizers.py`` runs a rule's twin parameter by parameter; a small MLP's step then pays the
Python around the rule six times (one weight and one bias per layer) and cuts the blocks at every
parameter's end. Here all the parameters of a step live side by side in flat arrays, twice:

    set 0:  w | m | v      (each a flat array holding every parameter, one after the other)
    set 1:  w | m | v      the other set: the step reads one set and writes the other
    g                      the gradients, flat too

After a commit each ``parameter.data`` and optimizer state array is a view of one set (the
commit stays a swap of references, ``Optimizer.take_step``); the next step reads that set and
writes the other, so a refused step leaves the committed set untouched. Each ``parameter.grad``
becomes a view of ``g``, which the layers write into (Dense's ``out=``): no gathering the next time.
Whatever else happened in between -- a weight or state replaced (``load_state``, a loaded file),
a parameter list or rule settings changed -- is seen by identity checks, and the values are
copied in again first.

The rule's operations are its twin's kernel (``optimizers.py``), in its order, on blocks of the
flat arrays: the numbers are bit-identical to ``impl='naive'`` (``tests/test_optimizer_step.py``).
It declines (returns None: each parameter then goes through ``update_parameter``) for what the
kernels do not do: weight decay, constraints, parameters of different dtypes, gradients of
another dtype or shape.
"""
import weakref

import numpy as np

from ..core.optimizers import SGD, Adam, RMSprop, register_fast_step
from .optimizers import BLOCK, adam_kernel, rmsprop_kernel, sgd_kernel

# The rules run here: {optimizer class: kernel_of(optimizer, lr) -> (kernel, constants)}.
KERNELS = {SGD: sgd_kernel, RMSprop: rmsprop_kernel, Adam: adam_kernel}
# Each parameter starts on a 64-byte boundary (a cache line): the layers' products write its gradient.
ALIGN_BYTES = 64

_PLANS = weakref.WeakKeyDictionary()  # optimizer -> its FlatBuffers


def flat_step(optimizer, parameters, gradients, lr):
    """``[(new w, new state, all finite?)]`` of every parameter, as ``update_parameters`` gives them; or None."""
    kernel_of = KERNELS.get(type(optimizer))
    if kernel_of is None or optimizer.weight_decay or not parameters:
        return None
    names = optimizer.state_names()
    plan = _PLANS.get(optimizer)
    source = None if plan is None else plan.holding(optimizer, parameters, names)
    if source is None:
        if not _suitable(parameters):
            return None
        if plan is None or not plan.fits(parameters, names):
            plan = _PLANS[optimizer] = FlatBuffers(parameters, names)
        source = plan.load(optimizer, parameters)
        if source is None:
            return None
    if not plan.gather(parameters, gradients):
        return None
    kernel, constants = kernel_of(optimizer, lr)
    finite = True
    for arrays in plan.blocks[source]:
        finite &= kernel(*arrays, *constants)
    weights, states = plan.give_out(1 - source)
    return [(w, state, finite) for w, state in zip(weights, states)]


def _suitable(parameters):
    dtype = parameters[0].data.dtype
    return dtype.kind == "f" and all(p.data.dtype == dtype and p.constraint is None for p in parameters)


class FlatBuffers:
    """The two sets of flat weights and state of one list of parameters, the flat gradients, and the
    blocks the rule runs on: ``blocks[k]`` reads set k and writes set 1 - k."""

    def __init__(self, parameters, names):
        self.names, self.dtype = names, parameters[0].data.dtype
        self.shapes = [p.shape for p in parameters]
        align = max(1, ALIGN_BYTES // self.dtype.itemsize)
        self.offsets, total = [], 0
        for p in parameters:
            self.offsets.append(total)
            total += -(-p.data.size // align) * align
        # Zeros: the padding between parameters stays 0 through every rule (finite, never read).
        self.g = np.zeros(total, self.dtype)
        self.g_views = self.views(self.g)
        # Twice: (flat arrays [w, *state], w views, the state views of each parameter, the state dicts
        # given out with the last step that wrote the set: new dicts each time, so none is reused).
        self.sets = []
        for _ in range(2):
            flats = [np.zeros(total, self.dtype) for _ in range(1 + len(names))]
            state_views = list(zip(*[self.views(flat) for flat in flats[1:]])) or [()] * len(parameters)
            self.sets.append([flats, self.views(flats[0]), state_views, [None] * len(parameters)])
        scratch = np.empty(min(total, BLOCK), self.dtype)
        self.blocks = []
        for source in (0, 1):
            reading, writing = self.sets[source][0], self.sets[1 - source][0]
            self.blocks.append([(reading[0][s], self.g[s], *[a[s] for a in reading[1:]],
                                 *[a[s] for a in writing], scratch[:s.stop - s.start])
                                for s in (slice(start, min(start + BLOCK, total)) for start in range(0, total, BLOCK))])

    def views(self, flat):
        """One view of ``flat`` per parameter, in its shape."""
        return [flat[offset:offset + int(np.prod(shape))].reshape(shape)
                for offset, shape in zip(self.offsets, self.shapes)]

    def give_out(self, k):
        """The weights and new state dicts of set k, as the step's results."""
        names, entry = self.names, self.sets[k]
        entry[3] = [dict(zip(names, views)) for views in entry[2]]
        return entry[1], entry[3]

    def fits(self, parameters, names):
        return (names == self.names and parameters[0].data.dtype == self.dtype
                and [p.shape for p in parameters] == self.shapes)

    def holding(self, optimizer, parameters, names):
        """The set that holds every parameter's weights and state (the last committed step's), or None."""
        if names != self.names or len(parameters) != len(self.shapes):
            return None
        state_of = optimizer.state
        for k in (0, 1):
            _, weights, state_views, states = self.sets[k]
            if parameters[0].data is not weights[0]:
                continue
            for p, w, views, given in zip(parameters, weights, state_views, states):
                state = state_of.get(p)
                if p.data is not w or p.constraint is not None or state is not given:
                    return None
                for name, view in zip(names, views):
                    if state.get(name) is not view:  # an entry replaced in the dict we gave
                        return None
            return k
        return None

    def load(self, optimizer, parameters):
        """Copy every parameter's weights and state (``current_state``: zeros the first time) into a set;
        which one, or None when both hold live arrays (then the step is not taken here)."""
        values = [(p.data, optimizer.current_state(p)) for p in parameters]
        live = {id(a.base) for w, state in values for a in (w, *state.values()) if a.base is not None}
        free = [k for k in (0, 1) if not any(id(flat) in live for flat in self.sets[1 - k][0])]
        if not free:
            return None
        k = free[0]
        values = [(np.array(w), {name: np.array(a) for name, a in state.items()}) for w, state in values]
        _, weights, state_views, _ = self.sets[k]
        for (w, state), w_view, views in zip(values, weights, state_views):
            np.copyto(w_view, w)
            for name, view in zip(self.names, views):
                np.copyto(view, state[name])
        return k

    def gather(self, parameters, gradients):
        """The gradients into ``g`` (skipped for those already there); False when one does not fit."""
        for p, g, view in zip(parameters, gradients, self.g_views):
            if g is view:
                continue
            if getattr(g, "dtype", None) != self.dtype or g.shape != view.shape:
                return False
            np.copyto(view, g)
            if p.grad is g:
                p.grad = view  # the layers write the next gradient straight into g
        return True


register_fast_step(SGD, flat_step)
register_fast_step(RMSprop, flat_step)
register_fast_step(Adam, flat_step)
