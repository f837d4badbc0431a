"""A functional model (``Model(inputs, outputs)``) as plain data, and back: the graph part of every model file.

    {'name': 'residual',
     'layers': [{'class_name': 'InputLayer', 'name': 'x', 'config': {...}, 'inbound_nodes': []},
                {'class_name': 'Dense', 'name': 'dense', 'config': {...},
                 'inbound_nodes': [[['x', 0, 0, {}]]]},                       one list per call of the layer
                {'class_name': 'Add', 'name': 'add', 'config': {...},
                 'inbound_nodes': [[['x', 0, 0, {}], ['dense', 0, 0, {}]]]},  a call on a list of two tensors
                ...],
     'input_layers':  [['x', 0, 0]],
     'output_layers': [['add', 0, 0]]}

A tensor is named by where it was made: ``[layer name, node index, tensor index]``, the
``tensor index``-th output of the ``node index``-th call of that layer in this model (a shared
layer has one node per call). Each call lists the tensors it was called on (one: ``layer(x)``;
several: ``layer([a, b])``) with its keyword arguments (``{'training': True}`` when fixed at the
call). ``input_layers`` / ``output_layers`` are one triple (a model of one tensor), a list of
triples, or ``{key: triple}`` (a dict). This is Keras 2's functional config;
``tinynet/keras/keras_graph.py`` spells it as Keras 3 does and fills the layers' configs from the
Keras table; tinynet's ``.npz`` holds it with tinynet's own layer configs.

Reading builds the model by calling each layer on symbolic tensors, as the user did, in an order
where every call comes after the calls it reads (Kahn's algorithm: no recursion, however deep the
chain). A file is hostile until checked: the sizes are bounded before anything is made, every name
and index is checked, and a cycle is refused by name.
"""
import heapq

from ..core.graph import Input
from ..core.layers.core import InputLayer
from ..core.models import Model
from .errors import ModelFileError
from .model_files import cut, short

# Far beyond real models (a ResNet-152 has about 500 layers and nodes), checked before anything is built.
MAX_LAYERS = 20_000
MAX_NODES = 50_000
MAX_CALL_INPUTS = 1_000     # tensors in one call (a Concatenate of 1,000 branches)
MAX_TENSOR_INDEX = 1_000    # outputs of one call
MAX_NESTING = 16            # models inside models


# ================================================================= writing

def graph_config(model, layer_entry):
    """The plain-data graph of the functional ``model``; ``layer_entry(layer)`` gives ``(class_name, config)``
    for each of its layers (a nested model's config too: the caller recurses)."""
    nodes, index = _numbered_calls(model)
    by_layer = {}
    for node in nodes:
        by_layer.setdefault(id(node.layer), []).append(node)

    def tensor(t, kwargs=None):
        node, i = t.history
        return [node.layer.name, index[id(node)], i] + ([] if kwargs is None else [kwargs])

    layers = []
    for layer in model.layers:
        class_name, config = layer_entry(layer)
        inbound = []
        for node in by_layer.get(id(layer), []):
            if not node.inputs:
                continue  # an Input: made, not called
            if isinstance(node.structure, tuple):
                raise ValueError(f"Layer '{layer.name}' is called on a dict of tensors in model '{model.name}'; "
                                 "a model file holds calls on one tensor or a list of tensors")
            kwargs = {} if node.training is None else {"training": node.training}
            inbound.append([tensor(t, kwargs) for t in node.inputs])
        layers.append({"class_name": class_name, "name": layer.name, "config": config, "inbound_nodes": inbound})
    return {"name": model.name, "layers": layers,
            "input_layers": _structured(model._input_structure, [tensor(t) for t in model.inputs]),
            "output_layers": _structured(model._output_structure, [tensor(t) for t in model.outputs])}


def _numbered_calls(model):
    """The model's nodes (its inputs' first), and each node's number among its layer's calls in this model."""
    nodes = [t.history[0] for t in model.inputs] + list(model._nodes)
    index, calls = {}, {}
    for node in nodes:  # a layer's calls in this model, numbered in the order they run
        index[id(node)] = calls.get(id(node.layer), 0)
        calls[id(node.layer)] = index[id(node)] + 1
    return nodes, index


def tensor_shapes(model):
    """``{(layer name, node index, tensor index): shape}`` of every tensor of the model's graph."""
    nodes, index = _numbered_calls(model)
    return {(node.layer.name, index[id(node)], i): tuple(t.shape) for node in nodes for i, t in enumerate(node.outputs)}


def _structured(structure, triples):
    if structure == "single":
        return triples[0]
    if structure == "list":
        return triples
    return dict(zip(structure, triples))


# ================================================================= reading

def check_sizes(config, source, error=ModelFileError):
    """Bound a graph's size before anything is read from it: counts of layers, calls and tensors (lengths
    only, no allocation), and nested models (by their ``layers``) counted in."""
    layers_seen, nodes_seen = 0, 0
    pending = [(config, 0)]
    while pending:
        graph, depth = pending.pop()
        if depth > MAX_NESTING:
            raise error(f"{source}: models are nested more than {MAX_NESTING} deep; refused")
        if not isinstance(graph, dict) or not isinstance(graph.get("layers"), list):
            raise error(f"{source}: a model's config should be an object with a list of 'layers'")
        layers_seen += len(graph["layers"])
        if layers_seen > MAX_LAYERS:
            raise error(f"{source}: the model has more than {MAX_LAYERS:,} layers; refused before building it")
        for entry in graph["layers"]:
            nodes = entry.get("inbound_nodes", []) if isinstance(entry, dict) else None
            if not isinstance(nodes, list):
                raise error(f"{source}: a layer's 'inbound_nodes' should be a list, found {short(nodes)}")
            nodes_seen += len(nodes)
            if nodes_seen > MAX_NODES:
                raise error(f"{source}: the model has more than {MAX_NODES:,} layer calls (inbound nodes); refused "
                            "before building it")
            inner = entry.get("config") if entry.get("class_name") in ("Functional", "Model", "Sequential") else None
            if isinstance(inner, dict) and isinstance(inner.get("layers"), list):
                pending.append((inner, depth + 1))


def build_graph(config, make_layer, source, error=ModelFileError):
    """A functional model from its plain-data graph (the module docstring's form).

    ``make_layer(entry)`` makes the layer of one entry of ``config['layers']`` (a nested model
    too); an ``InputLayer`` becomes the ``Input`` tensor of its shape. Errors (``error``, a
    ModelFileError by default) name the layer and what is wrong: an unknown or duplicate name, a
    node or tensor index out of range, a cycle, a call the layer refuses.
    """
    check_sizes(config, source, error)
    name = config.get("name", "model")
    if not isinstance(name, str):
        raise error(f"{source}: the model's name should be a string, found {short(name)}")
    entries = config["layers"]
    if not entries:
        raise error(f"{source}: model '{cut(name, 60)}' has no layers")
    position, calls, names = {}, [], []
    for i, entry in enumerate(entries):
        inner = entry.get("config")
        layer_name = entry.get("name", inner.get("name") if isinstance(inner, dict) else None)
        if not isinstance(layer_name, str):
            raise error(f"{source}: layer {i} of model '{cut(name, 60)}' has no name")
        if layer_name in position:
            raise error(f"{source}: model '{cut(name, 60)}' has two layers named {cut(repr(layer_name), 60)}")
        position[layer_name] = i
        names.append(layer_name)
        calls.append(entry.get("inbound_nodes", []))
    where = f"model '{cut(name, 60)}'"

    def reference(ref, what):
        """``(layer position, node index, tensor index)`` of one ``[name, node, tensor(, kwargs)]``, checked."""
        if not (isinstance(ref, list) and len(ref) in (3, 4) and isinstance(ref[0], str)
                and all(type(k) is int for k in ref[1:3])):
            raise error(f"{source}: {what} should be [layer name, node index, tensor index], found {short(ref)}")
        if ref[0] not in position:
            raise error(f"{source}: {what} reads layer {cut(repr(ref[0]), 60)}, which {where} does not have")
        at = position[ref[0]]
        n_nodes = max(1, len(calls[at]))  # an InputLayer has its one node without a call
        if not 0 <= ref[1] < n_nodes:
            raise error(f"{source}: {what} reads call {ref[1]} of layer {cut(repr(ref[0]), 60)}, which has "
                        f"{n_nodes} call(s)")
        if not 0 <= ref[2] < MAX_TENSOR_INDEX:
            raise error(f"{source}: {what} reads output {ref[2]} of layer {cut(repr(ref[0]), 60)}; refused")
        return at, ref[1], ref[2]

    # Every call's inputs, checked; then the calls in an order where each follows the calls it reads.
    reads, waiting_on, readers = {}, {}, {}
    for at, nodes in enumerate(calls):
        for k, node in enumerate(nodes):
            label = f"call {k} of layer {cut(repr(names[at]), 60)}"
            if not isinstance(node, list) or not 0 < len(node) <= MAX_CALL_INPUTS:
                raise error(f"{source}: {label} should list 1 to {MAX_CALL_INPUTS} input tensors, found "
                            f"{short(node)}")
            refs = [reference(ref, f"{label} of {where}") for ref in node]
            reads[(at, k)] = refs
            producers = {(p, n) for p, n, _ in refs if calls[p]}  # an InputLayer's tensor is there from the start
            waiting_on[(at, k)] = len(producers)
            for producer in producers:
                readers.setdefault(producer, []).append((at, k))

    layers = [None] * len(entries)
    outputs = {}  # (position, node) -> the call's output tensors
    for at, entry in enumerate(entries):
        layer = make_layer(entry)
        layers[at] = layer
        if isinstance(layer, InputLayer):
            if calls[at]:
                raise error(f"{source}: InputLayer {cut(repr(layer.name), 60)} of {where} is called on tensors")
            outputs[(at, 0)] = [Input(shape=layer.declared_input_shape, name=layer.name)]
        elif not calls[at]:
            raise error(f"{source}: layer {cut(repr(layer.name), 60)} of {where} is never called (no inbound "
                        "nodes) and is not an InputLayer")
    ready = [key for key, count in waiting_on.items() if count == 0]
    heapq.heapify(ready)  # the file's order among the calls that can run: the weights are made in that order
    done = 0
    while ready:
        at, k = heapq.heappop(ready)
        layer = layers[at]
        tensors = []
        for p, n, i in reads[(at, k)]:
            made = outputs[(p, n)]
            if i >= len(made):
                raise error(f"{source}: call {k} of layer '{layer.name}' reads output {i} of layer "
                            f"'{layers[p].name}', which has {len(made)} output(s)")
            tensors.append(made[i])
        kwargs = entry_kwargs(calls[at][k][0], f"call {k} of layer '{layer.name}'", source, error)
        try:
            out = layer(tensors[0] if len(tensors) == 1 else tensors, **kwargs)
        except (ValueError, TypeError, NotImplementedError) as exc:
            raise error(f"{source}: call {k} of layer '{layer.name}' ({type(layer).__name__}) in {where} fails: "
                        f"{cut(str(exc))}") from None
        outputs[(at, k)] = out if isinstance(out, list) else [out]
        done += 1
        for reader in readers.get((at, k), []):
            waiting_on[reader] -= 1
            if waiting_on[reader] == 0:
                heapq.heappush(ready, reader)
    if done != len(reads):
        stuck = sorted({names[at] for (at, _), count in waiting_on.items() if count})
        raise error(f"{source}: the calls of {where} form a cycle (or read a call that never runs): layers "
                    f"{cut(', '.join(map(str, stuck[:10])), 200)} each wait for another")

    def tensor_of(ref, what):
        at, n, i = reference(ref, what)
        made = outputs.get((at, n))
        if made is None or i >= len(made):
            raise error(f"{source}: {what} {short(ref)} is not a tensor of {where}")
        return made[i]

    inputs = _read_structure(config.get("input_layers"), tensor_of, "input_layers", source, error)
    model_outputs = _read_structure(config.get("output_layers"), tensor_of, "output_layers", source, error)
    try:
        return Model(inputs, model_outputs, name=name)
    except (ValueError, TypeError) as exc:
        raise error(f"{source}: {where} cannot be rebuilt: {cut(str(exc))}") from None


def entry_kwargs(ref, what, source, error):
    """A call's keyword arguments (the 4th item of its first input): ``training`` only."""
    kwargs = ref[3] if len(ref) == 4 else {}
    if not isinstance(kwargs, dict):
        raise error(f"{source}: the keyword arguments of {what} should be an object, found {short(kwargs)}")
    kwargs = {key: value for key, value in kwargs.items() if value is not None}
    unknown = sorted(set(kwargs) - {"training"})
    if unknown or not isinstance(kwargs.get("training", False), bool):
        raise error(f"{source}: {what} has the arguments {short(kwargs)}; tinynet's calls take training=True/False "
                    "only")
    return kwargs


def _read_structure(value, tensor_of, what, source, error):
    """One tensor, a list, or a dict of tensors, from ``input_layers`` / ``output_layers``."""
    if isinstance(value, list) and len(value) in (3, 4) and isinstance(value[0], str):
        return tensor_of(value, what)
    if isinstance(value, list) and value and len(value) <= MAX_LAYERS:
        return [tensor_of(ref, f"{what}[{i}]") for i, ref in enumerate(value)]
    if isinstance(value, dict) and value and len(value) <= MAX_LAYERS:
        return {key: tensor_of(ref, f"{what}[{key!r}]") for key, ref in value.items()}
    raise error(f"{source}: {what} should be a [layer, node, tensor] triple, a list or a dict of them, found "
                f"{short(value)}")

