"""The model-file formats, in one table: a name's ending chooses the writer, a file's first bytes the reader.

    format         written for names ending   whole model             weights only              read when the file
    tinynet        any other name             npz_model.write_model   npz_model.write_weights   is a zip holding
                                                                                                tinynet_format.npy
    keras-v3       .keras                     write_keras_archive     (refused: a whole model)  is a zip holding
                                                                                                config.json
    keras-weights  .weights.h5                (refused: weights)      write_keras_weights       is HDF5 (as keras-h5)
    keras-h5       .h5, .hdf5                 write_keras_h5          write_keras2_weights      is HDF5

So ``model.save('m.keras')`` writes what Keras 3's ``model.save('m.keras')`` writes,
``model.save_weights('w.weights.h5')`` what Keras 3's ``save_weights`` writes, ``'w.h5'`` what Keras 2's
did, and ``load_model`` / ``load_weights`` read any of them, whatever the file is called.

The core's ``Model.save``, ``save_weights`` and ``load_weights`` reach this module through the seam
``Model.files`` (``install()`` fills it; ``tinynet/__init__.py`` calls it): the core writes no file
itself. A format's module is imported when a file of that format is written or read, so
``import tinynet`` loads none of them (nor h5py).
"""
import importlib
import os
import sys
from typing import NamedTuple

import numpy as np

from ..core.models import Model
from ..core.utils import rng
from .errors import ModelFileError

ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"   # a zip with no member is all end record
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


class Format(NamedTuple):
    """One format. Writers and reader are named ``module.name`` under ``tinynet.io``, imported on first use."""

    name: str
    what: str                  # how error messages name it
    suffixes: tuple            # the name endings that ask for it; () for every other name
    write_model: str           # function(model, path) writing the whole model; None: the format holds weights only
    write_weights: str         # function(model, path) writing the weights only; None: it holds whole models only
    reader: str                # the ModelFile class that reads it
    magic: tuple               # what its first bytes may be
    member: str = None         # for a zip: the member that tells it from other zips


FORMATS = (
    Format("tinynet", "tinynet's .npz", (), "formats.write_tinynet_model", "npz_model.write_weights",
           "npz_model.NpzModelFile", (ZIP_MAGIC, EMPTY_ZIP_MAGIC), "tinynet_format.npy"),
    Format("keras-v3", "a Keras 3 .keras archive", (".keras",), "keras_archive.write_keras_archive", None,
           "keras_archive.KerasArchiveFile", (ZIP_MAGIC, EMPTY_ZIP_MAGIC), "config.json"),
    Format("keras-weights", "a Keras 3 weights file", (".weights.h5",), None, "keras_archive.write_keras_weights",
           "keras_h5.KerasH5File", (HDF5_MAGIC,)),
    Format("keras-h5", "a Keras 2 HDF5 file", (".h5", ".hdf5"), "keras_h5.write_keras_h5",
           "keras_h5.write_keras2_weights", "keras_h5.KerasH5File", (HDF5_MAGIC,)),
)
TINYNET = FORMATS[0]


def format_for(path):
    """The format a file name asks for: the first row whose ending it has (``.weights.h5`` before ``.h5``),
    else tinynet's."""
    name = os.fspath(path).lower()
    return next((fmt for fmt in FORMATS if fmt.suffixes and name.endswith(fmt.suffixes)), TINYNET)


def writer(path, weights_only):
    """The function that writes a model (or its weights) to ``path``; ValueError when the format holds the other."""
    from .model_files import check_path

    check_path(path)
    fmt = format_for(path)
    function = fmt.write_weights if weights_only else fmt.write_model
    if function is None and weights_only:
        raise ValueError(f"{os.fspath(path)!r} names {fmt.what}, which holds a whole model, not only its weights. "
                         "Call model.save(path) for the whole model, or name the weights file 'w.weights.h5' "
                         "(Keras 3's weights file), 'w.h5' (Keras 2's) or 'w.npz' (tinynet's).")
    if function is None:
        raise ValueError(f"{os.fspath(path)!r} names {fmt.what}, which holds weights only. Call "
                         "model.save_weights(path), or name the model file 'm.keras' (Keras 3), 'm.h5' (Keras 2) "
                         "or 'm.npz' (tinynet's, with the optimizer's state and the random state).")
    return named(function)


def named(name):
    """The function or class ``'module.name'`` of ``tinynet.io``, its module imported now."""
    module, _, attribute = name.rpartition(".")
    return getattr(importlib.import_module(f"{__package__}.{module}"), attribute)


def write_tinynet_model(model, path):
    """tinynet's .npz of the whole model, with the random generator's state (the next shuffle, dropout masks)."""
    from . import npz_model

    npz_model.write_model(model, path, rng_state=rng().bit_generator.state)


# ----------------------------------------------------------------- what Model's methods call

def save_model(model, path):
    """``model.save(path)``: the whole model, in the format the name asks for."""
    writer(path, weights_only=False)(model, path)


def save_weights(model, path):
    """``model.save_weights(path)``: the weights, in the format the name asks for."""
    writer(path, weights_only=True)(model, path)


def model_config(model):
    """``model.get_config()`` of a functional model: its graph as tinynet's file holds it."""
    from . import npz_model

    return npz_model.model_config(model)


def load_weights(model, path):
    """``model.load_weights(path)``: weights from a file of any format (its content decides)."""
    from .loading import load_weights

    load_weights(model, path)


def check_writable(model, path, weights_only=False):
    """Raise now (ValueError, ImportError) what writing ``model`` to ``path`` would raise, writing nothing.

    ``ModelCheckpoint`` calls it before training starts, so a model its file cannot hold (a nested
    model in a Keras file, a layer Keras lacks, h5py missing) is refused before the first epoch
    rather than after it. Settings a Keras file cannot hold are warned about now, as when writing.
    """
    fmt = format_for(path)
    writer(path, weights_only)
    if fmt is TINYNET:
        from . import npz_model

        if not weights_only:
            try:
                npz_model.json_array(npz_model.model_config(model))
            except NotImplementedError as error:
                raise ValueError(str(error)) from None
        return
    from ..keras import file_config as config, training_config
    from .hdf5 import require_h5py

    require_h5py()
    keras3 = fmt.name != "keras-h5"
    layers = config.writable_layers(model, keras3)
    if not weights_only:
        config.model_config(model, layers, keras3)
        (training_config.keras3_compile_config if keras3 else training_config.keras2_training_config)(model)


def install():
    """Plug this module into the core's seam: ``Model.save`` / ``save_weights`` / ``load_weights`` call it."""
    Model.files = sys.modules[__name__]


# ----------------------------------------------------------------- reading

def open_model_file(path):
    """Open ``path`` with the reader its first bytes call for; returns a ``ModelFile`` (``model_files.py``).

    Raises:
        FileNotFoundError: no such file.
        ModelFileError: not a regular file, or not a model file of a format tinynet reads.
    """
    import zipfile  # here: `import tinynet` need not load the zip reader

    from .model_files import check_path
    from .npz import open_regular_file
    from .zips import check_directory_size

    check_path(path)
    names = None
    with open_regular_file(path, ModelFileError) as file:
        magic = file.read(8)
        if magic.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC)):
            check_directory_size(file, path, ModelFileError)  # a flood of members is refused before zipfile reads
            try:
                names = set(zipfile.ZipFile(file).namelist())
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
                names = set()  # damaged: tinynet's npz reader says how
    for fmt in FORMATS:  # tinynet's first: a zip holding its marker is its own, whatever else it holds
        if magic.startswith(fmt.magic) and (fmt.member is None or fmt.member in names):
            return named(fmt.reader)(path)
    if names is not None:
        return named(TINYNET.reader)(path)
    if magic.startswith(np.lib.format.MAGIC_PREFIX):
        raise ModelFileError(f"{path} is a single .npy array, not a model file")
    raise ModelFileError(f"{path} is not a model file tinynet reads: it is neither tinynet's .npz, "
                         f"a Keras .keras archive nor a Keras .h5 file (its first bytes are {magic!r})")


