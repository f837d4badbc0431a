"""``Model``: layers that train together. Three ways to make one, one way to run them.

    Sequential([Dense(64), ...])          a chain (``sequential.py``)
    Model(inputs, outputs)                a graph of layer calls, the functional API (``functional.py``)
    class MyModel(Model): def call(...)   any Python code over layers and ops (subclassing)

All three are layers themselves (a model can be used inside another), and calling any of them
records the same tape (``tinynet/core/tape.py``) that the one backward walk runs through. What
they share is here: the layers, the weights, building, ``summary``, configuration, and the seam
for files; training (compile / fit / evaluate / predict) is ``trainer.py``.
"""
import json

import numpy as np

from ..checks import short_repr
from ..layers.base import Layer, unique_name
from ..summary import print_summary
from ..tensor import Tensor
from .step_api import StepAPI
from .trainer import Trainer


class Model(Trainer, StepAPI, Layer):
    """Base class of models. ``Model(inputs, outputs)`` makes a functional model; subclass it and write
    ``call(self, inputs, training=None)`` for any other computation (layers assigned to attributes in
    ``__init__`` are tracked: ``model.layers``, ``model.weights``)."""

    # The seam the io ring plugs file formats into (``tinynet/io/formats.py``, installed by
    # ``import tinynet``): an object with save_model(model, path), save_weights(model, path) and
    # load_weights(model, path). The core itself writes no file.
    files = None

    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs or "input" in kwargs):
            from .functional import Functional  # Model(inputs, outputs) is a Functional: it subclasses Model
            return Layer.__new__(Functional)
        return Layer.__new__(cls)

    def __init__(self, *args, name=None, trainable=True, **kwargs):
        if _functional_arguments(args, kwargs):
            # A subclass built as a graph (``CustomModel(inputs, outputs)``, keras.io's "Customizing what
            # happens in fit()"): it becomes a Functional that keeps the subclass's own methods, as in Keras.
            from .functional import Functional
            if not isinstance(self, Functional):
                self.__class__ = _functional_subclass(type(self))
                Functional.__init__(self, *args, name=name, trainable=trainable, **kwargs)
                return
        if args:
            raise TypeError(f"Model() takes `inputs` and `outputs` (the functional API) or nothing; received "
                            f"{len(args)} positional argument(s).")
        Layer.__init__(self, name=name or unique_name(_model_name(type(self))), trainable=trainable, **kwargs)
        self._init_trainer()

    # A model's computation is its ``call`` (the layers it runs record themselves). Its ``forward`` /
    # ``backward`` are the public step API of the learner's tools (``trainer.py``), not a layer's maths.
    has_forward = False

    # ----- layers ----------------------------------------------------------
    @property
    def layers(self):
        """The layers, in the order they were assigned (a subclassed model) or run."""
        return list(self._layers)

    def get_layer(self, name=None, index=None):
        """The layer called ``name`` (``model.get_layer('dense_1')``), or the one at position ``index``."""
        layers = self.layers
        if index is not None:
            if name is not None:
                raise ValueError("get_layer: give `name` or `index`, not both.")
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"get_layer: model '{self.name}' has {len(layers)} layers; "
                                 f"there is no layer at index {index}.")
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {short_repr(name)}. Model '{self.name}' has the layers "
                         f"{short_repr([layer.name for layer in layers])}.")

    # ----- building -------------------------------------------------------
    def build(self, input_shape=None):
        """Create every weight by running the model once on zeros of ``input_shape`` (batch axis included:
        ``(None, 784)``), as Keras builds a subclassed model."""
        if input_shape is None:
            raise ValueError(f"Model '{self.name}': build needs the input shape, e.g. model.build((None, 784)).")
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        zeros = [Tensor(np.zeros((1,) + tuple(s)[1:], dtype=np.float32)) for s in shapes]
        with np.errstate(all="ignore"):
            self(zeros[0] if len(zeros) == 1 else zeros, training=False)

    def build_on_first_call(self, input_shape):
        pass  # a model's layers build themselves as its call reaches them

    def _ensure_built(self, xs):
        """Before fit / predict: a subclassed model runs once on one sample, so its weights and output shapes
        exist (``as_targets`` checks the labels against them)."""
        if type(self).call is Layer.call:
            return  # no call of its own (a GAN whose train_step runs its parts): nothing to run
        if not self.built or self._output_shapes is None:
            first = [a[:1] for a in xs]
            out = self(first[0] if len(first) == 1 else first, training=False)
            flat = out if isinstance(out, (list, tuple)) else [out]
            self._output_shapes = [(None,) + tuple(np.shape(t))[1:] for t in flat]
            self.built = True

    _output_shapes = None

    @property
    def input_names(self):
        return ["input_1"]

    @property
    def output_names(self):
        n = len(self._output_shapes) if self._output_shapes else 1
        return ["output_1"] if n == 1 else [f"output_{i + 1}" for i in range(n)]

    @property
    def output_shapes(self):
        return list(self._output_shapes or [None])

    @property
    def output_layers(self):
        return [None] * len(self.output_names)

    def output_activation(self):
        """The activation producing the (first) output, or None: ``output_activations()[0]``."""
        return self.output_activations()[0]

    def output_activations(self):
        """The activation (a layer) producing each output, when the model's structure says it; else None."""
        return [None] * len(self.output_names)

    @property
    def output_shape(self):
        shapes = self._output_shapes
        return None if not shapes else (shapes[0] if len(shapes) == 1 else shapes)

    @output_shape.setter
    def output_shape(self, value):
        pass  # a model's output shape is what its outputs say

    def _check_built(self, method):
        if not self.built:
            raise ValueError(
                f"Model '{self.name}' has not been built yet, so {method} has nothing to show. Give the first "
                "layer `input_shape=...`, call model.build((None, ...)), or fit the model first.")

    # ----- weights ---------------------------------------------------------
    def get_weights(self):
        """All weight arrays, layer by layer in Keras's order (Dense: kernel, bias)."""
        self._check_built("get_weights()")
        return Layer.get_weights(self)

    def set_weights(self, weights):
        """Load a list of arrays as returned by ``get_weights`` (from tinynet or Keras).

        Every array is checked first -- count, shape, real finite numbers that fit the
        weight's dtype -- and nothing changes unless all of them are right.
        """
        self._check_built("set_weights()")
        weights = list(weights)
        if len(weights) != len(self.weights):
            raise ValueError(f"Model '{self.name}' has {len(self.weights)} weight arrays, but set_weights received "
                             f"{len(weights)}.")
        Layer.set_weights(self, weights)

    def regularization_loss(self):
        """The sum of the penalties: of the regularized weights (``l2 * sum(w^2)`` for ``regularizers.l2(l2)``), and
        of the outputs of the last ``forward`` (``activity_regularizer``: ``r(y) / N``, as Keras divides it)."""
        recorded = self._recorded["tape"].losses if self._recorded is not None else []  # activity penalties
        return float(sum(float(np.asarray(p.value)) for p in self.weight_penalties() + list(recorded)))

    def count_params(self):
        self._check_built("count_params()")
        return Layer.count_params(self)

    def summary(self, line_length=None, positions=None, print_fn=None):
        """Print Keras's table (tf.keras 2.11+ layout): layer (type), output shape, parameters, totals."""
        self._check_built("summary()")
        print_summary(self, line_length, positions, print_fn)

    # ----- configuration and files -------------------------------------------------
    def get_config(self):
        """The architecture as Keras writes a Sequential's: ``{'name', 'layers': [{'class_name', 'config'}]}``."""
        if any(isinstance(layer, Model) for layer in self.layers):  # a nested model's config is its architecture
            config = self._files().model_config(self)
            return {"name": config["name"], "input_shape": config["input_shape"], "layers": config["layers"]}
        return {"name": self.name,
                "layers": [{"class_name": getattr(layer, "class_name", type(layer).__name__),
                            "config": layer.get_config()} for layer in self.layers]}

    def to_json(self, **kwargs):
        """The architecture as Keras's JSON (no weights); ``tinynet.models.model_from_json`` reads it back.
        ``kwargs`` go to ``json.dumps`` (``indent=2``)."""
        config = {"class_name": type(self).__name__, "config": self.get_config(), "backend": "numpy"}
        return json.dumps(config, default=_json_value, **kwargs)

    def save(self, filepath, overwrite=True, **kwargs):
        """Write the whole model (architecture, weights, compile settings, optimizer state) to ``filepath``;
        ``tinynet.models.load_model(filepath)`` reads it back. The format follows the name (``.h5``: Keras 2
        HDF5, ``.keras``: Keras 3, else tinynet's ``.npz``): ``tinynet/io/formats.py``."""
        return self._files().save_model(self, filepath)

    def save_weights(self, filepath, overwrite=True, **kwargs):
        """Write only the weights; ``load_weights`` reads them into a model of the same architecture."""
        return self._files().save_weights(self, filepath)

    def load_weights(self, filepath, **kwargs):
        """Load weights written by ``save_weights`` (or ``save``) into this built model; shapes must match."""
        return self._files().load_weights(self, filepath)

    def _files(self):
        if Model.files is None:
            raise RuntimeError("tinynet.core writes no file itself: saving and loading need the file formats, which "
                               "`import tinynet` plugs in (tinynet.io.formats.install()).")
        return Model.files


def _model_name(cls):
    from ..layers.base import snake_case
    return "model" if cls.__name__ in ("Model", "Functional") else snake_case(cls.__name__)


def _json_value(value):
    # Shapes are tuples (lists in JSON) and NumPy numbers appear in configs.
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"to_json cannot write a {type(value).__name__} ({value!r}) found in a layer's config.")


def _functional_arguments(args, kwargs):
    """Keras's test for ``Model.__init__`` being given a graph: ``(inputs, outputs)``, by position or name."""
    return (len(args) == 2 or (len(args) == 1 and "outputs" in kwargs)
            or ("inputs" in kwargs and "outputs" in kwargs))


_FUNCTIONAL_SUBCLASSES = {}


def _functional_subclass(cls):
    """``cls`` with ``Functional`` after it: the subclass's methods first, the graph's ``call`` beneath."""
    from .functional import Functional
    if cls not in _FUNCTIONAL_SUBCLASSES:
        _FUNCTIONAL_SUBCLASSES[cls] = type(cls.__name__, (cls, Functional), {"__module__": cls.__module__})
    return _FUNCTIONAL_SUBCLASSES[cls]
