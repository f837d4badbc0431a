"""The Keras ring's one table: what each Keras name is in tinynet, for every reader and writer of Keras's files.

    LAYERS       Keras layer class -> tinynet layer class: the settings they share, the values tinynet
                 has only one of, the weights the layer makes
    ACTIVATIONS  the activation names Keras spells otherwise than tinynet (tinynet's own list, by
                 Keras 3's names, is ``tinynet.core.layers.activations.ACTIVATIONS``)
    LOSSES       Keras loss class -> tinynet loss, and the name Keras gives its function
    OPTIMIZERS   Keras optimizer class -> tinynet optimizer: its settings and its state's slots, as
                 Keras 2 and Keras 3 name and order them in their files
    METRICS, INITIALIZERS, and the classes Keras and tinynet share by name (regularizers,
    constraints, learning-rate schedules: ``tinynet.core`` lists them)

Adding a layer to tinynet is its file in ``tinynet/core/layers`` and, if Keras has the layer, one
row of LAYERS. ``file_config.py`` (models and layers), ``keras_graph.py`` (functional models: the calls
between the layers) and ``training_config.py`` (losses, metrics, optimizers and their state) read these
rows; nothing else in tinynet knows a Keras name.
"Keras 2" is tf.keras 2.10, whose ``.h5`` tinynet writes; "Keras 3" the ``.keras`` archive of
Keras 3.0 and later, and its ``.weights.h5``.
"""
from typing import Callable, NamedTuple

from ..core import losses, optimizers
from ..core import layers as L


# ----------------------------------------------------------------- layers

class Layer(NamedTuple):
    """One Keras layer class and the tinynet layer it is.

    ``keys`` are the settings of Keras's config, in Keras's order. Each is the tinynet layer's
    argument (and attribute) of the same name, unless ``fixed`` gives it: a Keras setting tinynet
    has one value of, written as that value and refused in a file that has another (a
    ``*_regularizer`` or ``*_constraint`` only warned about and dropped: it changes training, never
    the predictions; an ``*_initializer`` ignored: the weights come from the file). Values are
    translated by what the key names: ``activation``, ``*_initializer``, ``*_regularizer``,
    ``*_constraint``; tuples become lists.
    """

    keras: str
    tinynet: type
    keys: tuple = ()
    fixed: dict = {}
    weights: Callable = None     # (layer, input_shape) -> [(name, shape)], in Keras's order
    aliases: tuple = ()          # other names Keras gave the class
    keras2: dict = {}            # {key: Keras 2's name for it}
    keras3_when_set: tuple = ()  # keys Keras 3 writes only when they are not None
    omit: tuple = ()             # common keys (trainable, dtype) Keras 3's class refuses (tf.keras 2 takes them missing)


def dense_weights(layer, shape):
    return [("kernel", (shape[-1], layer.units))] + ([("bias", (layer.units,))] if layer.use_bias else [])


def conv2d_weights(layer, shape):
    kh, kw = layer.kernel_size
    return [("kernel", (kh, kw, shape[-1], layer.filters))] + ([("bias", (layer.filters,))] if layer.use_bias else [])


def batch_normalization_weights(layer, shape):
    if layer.axis not in (-1, len(shape)):
        raise ValueError(f"tinynet normalizes over the last (channels) axis only, axis=-1 or {len(shape)} here; "
                         f"received axis={layer.axis}")
    channels = (shape[-1],)
    return ([("gamma", channels)] if layer.scale else []) + ([("beta", channels)] if layer.center else []) + [
        ("moving_mean", channels), ("moving_variance", channels)]


# The weights Keras and tinynet never train (the optimizer has no state for them).
NOT_TRAINED = ("moving_mean", "moving_variance")


def prelu_weights(layer, shape):
    shape = list(shape)
    for axis in layer.shared_axes or []:
        if not 1 <= axis <= len(shape):
            raise ValueError(f"shared_axes={layer.shared_axes} does not fit inputs of shape {tuple(shape)}")
        shape[axis - 1] = 1
    return [("alpha", tuple(shape))]


def conv2d_transpose_weights(layer, shape):
    kh, kw = layer.kernel_size  # Keras's layout: (kh, kw, C_out, C_in), the adjoint's of Conv2D
    return [("kernel", (kh, kw, layer.filters, shape[-1]))] + ([("bias", (layer.filters,))] if layer.use_bias else [])


def layer_normalization_weights(layer, shape):
    axes = layer.axis if isinstance(layer.axis, (list, tuple)) else [layer.axis]
    for axis in axes:
        if not -len(shape) - 1 < axis <= len(shape) or axis == 0:
            raise ValueError(f"axis={layer.axis} does not fit inputs of shape {tuple(shape)}")
    sizes = tuple(shape[axis - 1 if axis > 0 else axis] for axis in axes)
    return ([("gamma", sizes)] if layer.scale else []) + ([("beta", sizes)] if layer.center else [])


KERNEL_AND_BIAS = ("activation", "use_bias", "kernel_initializer", "bias_initializer", "kernel_regularizer",
                   "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint")
POOLING = ("pool_size", "padding", "strides", "data_format")
CHANNELS_LAST = {"data_format": "channels_last"}

LAYERS = (
    Layer("Dense", L.Dense, ("units", *KERNEL_AND_BIAS), weights=dense_weights,
          keras3_when_set=("activity_regularizer",)),
    Layer("Conv2D", L.Conv2D, ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
                               "groups", *KERNEL_AND_BIAS),
          fixed={**CHANNELS_LAST, "dilation_rate": (1, 1), "groups": 1}, weights=conv2d_weights,
          aliases=("Convolution2D",)),
    Layer("MaxPooling2D", L.MaxPooling2D, POOLING, CHANNELS_LAST, aliases=("MaxPool2D",)),
    Layer("AveragePooling2D", L.AveragePooling2D, POOLING, CHANNELS_LAST, aliases=("AvgPool2D",)),
    Layer("GlobalAveragePooling2D", L.GlobalAveragePooling2D, ("data_format", "keepdims"),
          {**CHANNELS_LAST, "keepdims": False}, aliases=("GlobalAvgPool2D",)),
    Layer("BatchNormalization", L.BatchNormalization,
          ("axis", "momentum", "epsilon", "center", "scale", "beta_initializer", "gamma_initializer",
           "moving_mean_initializer", "moving_variance_initializer", "beta_regularizer", "gamma_regularizer",
           "beta_constraint", "gamma_constraint"),
          {"beta_initializer": "zeros", "gamma_initializer": "ones", "moving_mean_initializer": "zeros",
           "moving_variance_initializer": "ones", "beta_regularizer": None, "gamma_regularizer": None,
           "beta_constraint": None, "gamma_constraint": None, "renorm": False, "renorm_clipping": None,
           "virtual_batch_size": None, "adjustment": None, "synchronized": False},
          weights=batch_normalization_weights),
    Layer("Dropout", L.Dropout, ("rate", "noise_shape", "seed"), {"noise_shape": None}),
    Layer("Flatten", L.Flatten, ("data_format",), CHANNELS_LAST),
    Layer("Reshape", L.Reshape, ("target_shape",)),
    Layer("Activation", L.Activation, ("activation",)),
    Layer("ReLU", L.ReLU, ("max_value", "negative_slope", "threshold"),
          {"max_value": None, "negative_slope": 0.0, "threshold": 0.0}),
    Layer("Softmax", L.Softmax, ("axis",)),
    Layer("ELU", L.ELU, ("alpha",)),
    Layer("LeakyReLU", L.LeakyReLU, ("negative_slope",), keras2={"negative_slope": "alpha"}),
    Layer("PReLU", L.PReLU, ("alpha_initializer", "alpha_regularizer", "alpha_constraint", "shared_axes"),
          {"alpha_regularizer": None, "alpha_constraint": None}, weights=prelu_weights),
    # The input of a functional model (a Sequential's is its first layer's input shape).
    Layer("InputLayer", L.InputLayer, ("batch_shape",), {"sparse": False, "ragged": False, "optional": False},
          keras2={"batch_shape": "batch_input_shape"}),
    # Merge layers: a call on a list of tensors (functional models only).
    Layer("Add", L.Add), Layer("Subtract", L.Subtract), Layer("Multiply", L.Multiply), Layer("Average", L.Average),
    Layer("Maximum", L.Maximum), Layer("Minimum", L.Minimum),
    Layer("Concatenate", L.Concatenate, ("axis",)),
    Layer("Dot", L.Dot, ("axes", "normalize")),
    # Keras 2 writes groups=1 for Conv2DTranspose, which Keras 3 does not take: read, never written.
    Layer("Conv2DTranspose", L.Conv2DTranspose, ("filters", "kernel_size", "strides", "padding", "output_padding",
                                                 "data_format", "dilation_rate", *KERNEL_AND_BIAS),
          fixed={**CHANNELS_LAST, "dilation_rate": (1, 1), "groups": 1}, weights=conv2d_transpose_weights,
          aliases=("Convolution2DTranspose",), keras3_when_set=("activity_regularizer",)),
    Layer("UpSampling2D", L.UpSampling2D, ("size", "data_format", "interpolation"), CHANNELS_LAST),
    Layer("ZeroPadding2D", L.ZeroPadding2D, ("padding", "data_format"), CHANNELS_LAST),
    Layer("Cropping2D", L.Cropping2D, ("cropping", "data_format"), CHANNELS_LAST),
    Layer("GlobalMaxPooling2D", L.GlobalMaxPooling2D, ("data_format", "keepdims"), {**CHANNELS_LAST, "keepdims": False},
          aliases=("GlobalMaxPool2D",)),
    Layer("LayerNormalization", L.LayerNormalization,
          ("axis", "epsilon", "center", "scale", "beta_initializer", "gamma_initializer", "beta_regularizer",
           "gamma_regularizer", "beta_constraint", "gamma_constraint"),
          {"rms_scaling": False}, weights=layer_normalization_weights),
    Layer("SpatialDropout2D", L.SpatialDropout2D, ("rate", "seed", "data_format"),
          {**CHANNELS_LAST, "noise_shape": None}, omit=("trainable", "dtype")),
    Layer("GaussianNoise", L.GaussianNoise, ("stddev", "seed")),
    Layer("RepeatVector", L.RepeatVector, ("n",)),
    Layer("Permute", L.Permute, ("dims",)),
    # Preprocessing layers: Keras 3 writes data_format (and Resizing's newer settings) at the one value
    # tinynet has; tf.keras 2.10 takes none of them, so they are read, never written.
    Layer("Rescaling", L.Rescaling, ("scale", "offset")),
    Layer("Resizing", L.Resizing, ("height", "width", "interpolation"),
          {**CHANNELS_LAST, "crop_to_aspect_ratio": False, "pad_to_aspect_ratio": False, "fill_mode": "constant",
           "fill_value": 0.0, "antialias": False}),
    Layer("RandomFlip", L.RandomFlip, ("mode", "seed"), CHANNELS_LAST),
    Layer("RandomRotation", L.RandomRotation, ("factor", "fill_mode", "interpolation", "seed", "fill_value"),
          CHANNELS_LAST),
    Layer("RandomTranslation", L.RandomTranslation, ("height_factor", "width_factor", "fill_mode", "interpolation",
                                                     "seed", "fill_value"), CHANNELS_LAST),
    Layer("RandomZoom", L.RandomZoom, ("height_factor", "width_factor", "fill_mode", "interpolation", "seed",
                                       "fill_value"), CHANNELS_LAST),
)
# tinynet's other activation layers (Sigmoid, Tanh, GELU ...) Keras has as functions only: they are
# written as ``Activation('sigmoid')`` and read back as tinynet's ``Activation`` layer.

# The Keras classes that hold Python code: refused by name, read or written (tinynet never runs code from a file).
CODE_LAYERS = ("Lambda", "TFOpLambda", "SlicingOpLambda")


# ----------------------------------------------------------------- activations

# Keras 3 writes ``swish`` as ``silu``; tf.keras 2.10 knows only ``swish``.
KERAS3_ACTIVATIONS = {"swish": "silu"}
KERAS2_ACTIVATIONS = {"silu": "swish"}
# Names under which tf.keras 2 computes another function than Keras 3 (and tinynet): a Keras 2 file
# using one is refused, and tinynet does not write one into a Keras 2 file.
KERAS2_DIFFERENT = {"hard_sigmoid": "max(0, min(1, 0.2 x + 0.5))"}


# ----------------------------------------------------------------- losses

class Loss(NamedTuple):
    """A Keras loss class (tinynet's of the same name); ``function``: the name Keras gives its function,
    which is how a loss compiled by name is written. ``fixed``: settings tinynet has one value of."""

    tinynet: type
    function: str
    fixed: dict = {}

    @property
    def keras(self):
        return self.tinynet.__name__


CROSSENTROPY = {"axis": -1}

LOSSES = (
    Loss(losses.CategoricalCrossentropy, "categorical_crossentropy", CROSSENTROPY),
    Loss(losses.SparseCategoricalCrossentropy, "sparse_categorical_crossentropy", {"ignore_class": None, "axis": -1}),
    Loss(losses.BinaryCrossentropy, "binary_crossentropy", CROSSENTROPY),
    Loss(losses.MeanSquaredError, "mean_squared_error"),
    Loss(losses.MeanAbsoluteError, "mean_absolute_error"),
    Loss(losses.Huber, "huber"),
    Loss(losses.LogCosh, "log_cosh"),
    Loss(losses.Hinge, "hinge"),
    Loss(losses.SquaredHinge, "squared_hinge"),
    Loss(losses.KLDivergence, "kl_divergence"),
    Loss(losses.Poisson, "poisson"),
)
# How Keras reduces a batch's losses to one number: the mean, as tinynet does.
MEAN_REDUCTIONS = (None, "auto", "sum_over_batch_size")


# ----------------------------------------------------------------- metrics

# Keras metric classes -> the name tinynet compiles them by.
METRICS = {"Accuracy": "accuracy", "CategoricalAccuracy": "categorical_accuracy",
           "SparseCategoricalAccuracy": "sparse_categorical_accuracy", "BinaryAccuracy": "binary_accuracy",
           "MeanSquaredError": "mse", "MeanAbsoluteError": "mae", "TopKCategoricalAccuracy":
           "top_k_categorical_accuracy", "SparseTopKCategoricalAccuracy": "sparse_top_k_categorical_accuracy",
           "AUC": "auc", "Precision": "precision", "Recall": "recall"}


# ----------------------------------------------------------------- optimizers

class Slot(NamedTuple):
    """One array of an optimizer's state per trainable weight: tinynet's key, Keras 2's and Keras 3's names."""

    tinynet: str
    keras2: str
    keras3: str
    only_if: str = None    # the setting that must be on for the slot to exist (SGD's momentum, Adam's amsgrad)


class Optimizer(NamedTuple):
    """A Keras optimizer class (tinynet's of the same name).

    ``keys``: its own settings, shared by name (besides ``learning_rate``, ``decay`` (Keras 2 only),
    ``clipnorm``, ``clipvalue``, ``global_clipnorm``, which every optimizer has); ``fixed``: settings
    tinynet has one value of. ``slots`` in Keras's order. Keras 2 stores the iteration count, then
    ``keras2_scalars``, then each slot for every weight in turn (all ``m``, then all ``v``); Keras 3
    the iteration count and the learning rate, then each weight's slots together, then the slots
    only some settings make (Adam's ``velocity_hat``), then ``keras3_scalars``.
    """

    tinynet: type
    keys: tuple
    slots: tuple
    fixed: dict = {}
    keras2_scalars: tuple = ()
    keras3_scalars: tuple = ()

    @property
    def keras(self):
        return self.tinynet.__name__


ADAM_SLOTS = (Slot("m", "m", "momentum"), Slot("v", "v", "velocity"),
              Slot("vhat", "vhat", "velocity_hat", only_if="amsgrad"))

OPTIMIZERS = (
    Optimizer(optimizers.SGD, ("momentum", "nesterov"), (Slot("momentum", "momentum", "momentum", "momentum"),)),
    Optimizer(optimizers.RMSprop, ("rho", "momentum", "epsilon", "centered"), (Slot("velocity", "rms", "velocity"),),
              fixed={"momentum": 0.0, "centered": False}),
    Optimizer(optimizers.Adam, ("beta_1", "beta_2", "epsilon", "amsgrad"), ADAM_SLOTS),
    Optimizer(optimizers.AdamW, ("weight_decay", "beta_1", "beta_2", "epsilon", "amsgrad"), ADAM_SLOTS),
    Optimizer(optimizers.Adagrad, ("initial_accumulator_value", "epsilon"),
              (Slot("accumulator", "accumulator", "accumulator"),)),
    Optimizer(optimizers.Adadelta, ("rho", "epsilon"), (Slot("accumulated_grad", "accum_grad", "accumulated_grad"),
                                                         Slot("accumulated_delta_var", "accum_var",
                                                              "accumulated_delta_var"))),
    Optimizer(optimizers.Adamax, ("beta_1", "beta_2", "epsilon"), (Slot("m", "m", "momentum"), Slot("u", "v", "norm"))),
    # Nadam's product of its momentum schedule: Keras keeps it as a variable (Keras 3's is unnamed), tinynet
    # computes it from the step. NOTE: Keras 3 changed the schedule (0.96^t for tf.keras 2's 0.96^(0.004 t),
    # which tinynet follows), so a Nadam run continued in Keras 3 steps differently.
    Optimizer(optimizers.Nadam, ("beta_1", "beta_2", "epsilon"), (Slot("m", "m", "momentum"),
                                                                   Slot("v", "v", "velocity")),
              keras2_scalars=("momentum_cache",), keras3_scalars=("variable",)),
)
# Settings every optimizer has; Keras 3 dropped ``decay`` (a schedule does its work).
COMMON_OPTIMIZER_KEYS = ("learning_rate", "decay", "clipnorm", "clipvalue", "global_clipnorm", "weight_decay")
# Keras 3 settings tinynet has one value of.
KERAS3_OPTIMIZER_FIXED = {"use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
                          "loss_scale_factor": None, "gradient_accumulation_steps": None}


# ----------------------------------------------------------------- initializers

# Keras initializer classes -> tinynet's initializer names. An initializer matters only before
# training (the weights come from the file), so an unknown one is read as tinynet's default.
INITIALIZERS = {"GlorotUniform": "glorot_uniform", "GlorotNormal": "glorot_normal", "HeNormal": "he_normal",
                "HeUniform": "he_uniform", "LecunNormal": "lecun_normal", "LecunUniform": "lecun_uniform",
                "Zeros": "zeros", "Ones": "ones", "RandomNormal": "random_normal", "RandomUniform": "random_uniform"}


# ----------------------------------------------------------------- look-ups

LAYER_BY_KERAS = {name: row for row in LAYERS for name in (row.keras, *row.aliases)}
LAYER_BY_TINYNET = {row.tinynet: row for row in LAYERS}
LOSS_BY_KERAS = {row.keras: row for row in LOSSES}
LOSS_BY_TINYNET = {row.tinynet: row for row in LOSSES}
OPTIMIZER_BY_KERAS = {row.keras: row for row in OPTIMIZERS}
OPTIMIZER_BY_TINYNET = {row.tinynet: row for row in OPTIMIZERS}
