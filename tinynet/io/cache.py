"""The dataset cache that every loader shares: where it lives, what it must hold, how it heals.

A loader (``datasets/mnist.py``, ``fashion_mnist.py``) decides *what* to fetch and
*what the arrays must look like* (``ArraySpec``: shape, dtype, sha256). This module
does the rest the same way for all of them:

- ``cache_dir()`` is ``$TINYNET_HOME/datasets`` or ``~/.tinynet/datasets``;
  ``keras_cache_dir()`` is Keras's, which loaders may read but never write;
- ``load_or_fetch(path, expected, fetch, name)``: the cached ``.npz`` if it reads and
  verifies; otherwise, whatever went wrong in reading it, a warning and one fetch; the
  fetched arrays are cached, and a cache that cannot be written (read-only, full disk)
  costs a warning, not the arrays;
- ``load_npz`` reads an .npz with every header compared with ``expected`` before its
  data is read, so a damaged header cannot ask for gigabytes.
"""
import hashlib
import http.client
import os
import pickle
import subprocess
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .atomic import atomic_write
from .errors import CacheWarning, CorruptDataError
from .npz import NpzReader

# What one failing source may raise: network and file errors (OSError covers URLError and
# timeouts), truncated HTTP bodies, bad archives, failed pip runs, refused pickles, and
# CorruptDataError (a ValueError). A loader moves on to its next source on any of them.
FETCH_ERRORS = (OSError, ValueError, EOFError, KeyError, zlib.error, zipfile.BadZipFile,
                http.client.HTTPException, subprocess.SubprocessError, pickle.UnpicklingError)


def cache_dir():
    """The tinynet dataset cache directory (it may not exist yet): ``$TINYNET_HOME/datasets``
    when TINYNET_HOME is set and non-empty, else ``~/.tinynet/datasets``."""
    home = os.environ.get("TINYNET_HOME")
    base = Path(home).expanduser() if home else Path.home() / ".tinynet"
    return base / "datasets"


def keras_cache_dir():
    """Keras's dataset cache directory (``$KERAS_HOME/datasets`` or ``~/.keras/datasets``)."""
    home = os.environ.get("KERAS_HOME")
    base = Path(home).expanduser() if home else Path.home() / ".keras"
    return base / "datasets"


class ArraySpec(NamedTuple):
    """What one array of a data set must be: its shape, dtype and content hash."""

    shape: tuple
    dtype: str
    sha256: str


def sha256_array(array):
    """The hex sha256 of ``array.tobytes()`` (C order), read through a memoryview (no copy)."""
    return hashlib.sha256(memoryview(np.ascontiguousarray(array))).hexdigest()


def verify_arrays(arrays, expected, *, source):
    """Check ``arrays`` (name -> ndarray) against ``expected`` (name -> ArraySpec).

    Extra arrays are ignored. Raises CorruptDataError naming ``source`` and the first
    difference; the cheap checks (presence, dtype, shape) come before hashing.
    """
    missing = [name for name in expected if name not in arrays]
    if missing:
        raise CorruptDataError(f"{source}: missing arrays {missing}")
    for name, spec in expected.items():
        array = arrays[name]
        if array.dtype != np.dtype(spec.dtype) or array.shape != tuple(spec.shape):
            raise CorruptDataError(f"{source}: {name} should be {spec.dtype} of shape {tuple(spec.shape)}, "
                                   f"received {array.dtype} of shape {array.shape}")
        digest = sha256_array(array)
        if digest != spec.sha256:
            raise CorruptDataError(f"{source}: {name} has sha256 {digest}, expected {spec.sha256}")


def writable(arrays):
    """``arrays`` (name -> ndarray) as a script may change them in place, as Keras's loaders return them
    (``np.random.shuffle(y_train)``): a copy of each array a reader left read-only (``np.frombuffer`` of a
    file's bytes), the others as they are."""
    return {name: array if array.flags.writeable else array.copy() for name, array in arrays.items()}


def save_npz(path, arrays):
    """Write ``arrays`` (name -> ndarray) to ``path`` as an uncompressed .npz, atomically."""
    with atomic_write(path) as file:
        np.savez(file, **arrays)  # a file object, so np.savez does not append ".npz"


def load_npz(path, expected):
    """The arrays named in ``expected`` (name -> ArraySpec) from the .npz at ``path``, verified.

    Each member's header is compared with its spec before its data is read.

    Raises:
        FileNotFoundError, NotADirectoryError: there is no file at ``path``.
        CorruptDataError: anything else that keeps the file from giving the expected arrays
            (not a regular file, not an .npz, truncated, a wrong header, dtype, shape or hash).
    """
    try:
        with NpzReader(path, CorruptDataError) as npz:
            for name, spec in expected.items():
                shape, dtype = npz.header(name)
                if dtype != np.dtype(spec.dtype) or shape != tuple(spec.shape):
                    raise CorruptDataError(f"{path}: {name} should be {spec.dtype} of shape {tuple(spec.shape)}, "
                                           f"its header declares {dtype} of shape {shape}")
            arrays = {name: npz.array(name) for name in expected}
    except (FileNotFoundError, NotADirectoryError, CorruptDataError):
        raise
    except Exception as error:  # noqa: BLE001 - whatever a damaged file makes the readers raise
        raise CorruptDataError(f"{path} cannot be read ({type(error).__name__}: {error})") from error
    verify_arrays(arrays, expected, source=str(path))
    return arrays


def load_or_fetch(path, expected, fetch, name):
    """The cached arrays at ``path`` if they read and verify, else ``fetch()``'s, cached.

    Any failure to read the cache counts as a damaged cache: a ``CacheWarning`` says so and
    ``fetch`` (which must return verified arrays) is called once. A cache that cannot be
    written afterwards costs a ``CacheWarning``; the arrays are returned all the same.
    """
    try:
        return load_npz(path, expected)
    except (FileNotFoundError, NotADirectoryError):  # nothing cached yet
        pass
    except Exception as error:  # noqa: BLE001 - see the docstring
        warnings.warn(f"The cached {name} at {path} is unusable, fetching it again: {error}", CacheWarning,
                      stacklevel=3)
    arrays = fetch()
    save_to_cache(path, arrays, name)
    return arrays


def save_to_cache(path, arrays, name):
    """``save_npz``, turning a failure to write (read-only directory, full disk) into a warning."""
    try:
        save_npz(path, arrays)
    except OSError as error:
        warnings.warn(f"Could not cache {name} at {path} ({type(error).__name__}: {error}); the data is "
                      "loaded, but will be fetched again next time.", CacheWarning, stacklevel=3)
        return False
    return True
