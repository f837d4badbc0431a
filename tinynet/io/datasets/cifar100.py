"""CIFAR-100, loaded exactly like ``keras.datasets.cifar100.load_data``.

60,000 colour images of 32x32 pixels in 100 classes (the "fine" labels), grouped into 20
superclasses (the "coarse" labels): 50,000 for training and 10,000 for testing.

The data is read from the canonical archive ``cifar-100-python.tar.gz`` (the "CIFAR-100
python version" of https://www.cs.toronto.edu/~kriz/cifar.html, 161 MB, md5
``eb9058c3a382ffc7106e4002c42a8d85``), without extracting it. First hit wins:

1. ``load_data(path=...)``: the archive, or the directory it extracts to;
2. the tinynet cache, ``~/.tinynet/datasets/cifar-100-python.tar.gz``
   (``$TINYNET_HOME/datasets/...`` when TINYNET_HOME is set);
3. Keras's cache, ``~/.keras/datasets/cifar-100-python.tar.gz`` or its extracted
   ``cifar-100-python`` directory (read, never written).

tinynet does not download the archive: when none of these exists, ``load_data`` raises
DatasetUnavailableError saying where to put it.

Inside, ``train`` and ``test`` are Python 2 pickles of a dict with the keys ``data``
(uint8 (N, 3072): each row the red, then green, then blue 32x32 plane), ``fine_labels``,
``coarse_labels`` (lists of ints), ``filenames`` and ``batch_label``. They are read with
the restricted unpickler, which may rebuild NumPy arrays and nothing else.
"""

import os
import tarfile
from pathlib import Path

import numpy as np

from .. import cache, safe_pickle
from ..errors import CorruptDataError, DatasetUnavailableError
from ..npz import open_regular_file

FILENAME = "cifar-100-python.tar.gz"
DIRNAME = "cifar-100-python"
URL = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
ARCHIVE_MD5 = "eb9058c3a382ffc7106e4002c42a8d85"

LABEL_MODES = {"fine": 100, "coarse": 20}  # label mode -> number of classes

# The pickles are about 156 MB (train) and 31 MB (test): 3072 bytes per image, then names and
# labels. A member past these caps is not CIFAR-100 and is refused before it is read.
MAX_PICKLE_BYTES = {"train": 200 << 20, "test": 40 << 20}
# Each label and file name is a few opcodes: about 250,000 in train.
MAX_PICKLE_OPCODES = 1_000_000

# The only globals the archive's Python 2 pickles name: how NumPy 1.x rebuilt an array.
ALLOWED_GLOBALS = {
    key: safe_pickle.SAFE_NUMPY_GLOBALS[key]
    for key in [("numpy.core.multiarray", "_reconstruct"), ("numpy", "ndarray"), ("numpy", "dtype")]
}


def load_data(label_mode="fine", path=None):
    """Load CIFAR-100 from the archive (see the module docstring for where it is looked for).

    Args:
        label_mode: ``"fine"`` (100 classes) or ``"coarse"`` (20 superclasses).
        path: optional location of ``cifar-100-python.tar.gz`` or of its extracted
            ``cifar-100-python`` directory.

    Returns:
        ``(x_train, y_train), (x_test, y_test)`` as Keras returns them:
        x uint8 (N, 32, 32, 3) channels-last, y int64 (N, 1); N = 50000 and 10000.

    Raises:
        ValueError: ``label_mode`` is neither "fine" nor "coarse".
        DatasetUnavailableError: no archive found; the message says where to put it.
        CorruptDataError: the archive is damaged or not CIFAR-100's format.
    """
    if label_mode not in LABEL_MODES:
        raise ValueError(
            f'Received an invalid value for `label_mode`, expected "fine" or "coarse". '
            f"Received: label_mode={label_mode!r}")
    source = _find_source(path)
    parts = _read_parts(source)
    (x_train, y_train) = _keras_layout(parts["train"], label_mode, f"{source}: train")
    (x_test, y_test) = _keras_layout(parts["test"], label_mode, f"{source}: test")
    arrays = cache.writable({"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test})
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def _find_source(path):
    if path is not None:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(
                "Received an invalid value for `path`, expected a str or os.PathLike naming "
                f"{FILENAME} or its extracted {DIRNAME} directory. Received: path={path!r}")
        path = Path(path).expanduser()
        if not path.exists():
            raise DatasetUnavailableError(f"load_data(path={str(path)!r}): no such file or directory.\n{_where_to_put_it()}")
        return path
    candidates = [cache.cache_dir() / FILENAME, cache.keras_cache_dir() / FILENAME,
                  cache.keras_cache_dir() / DIRNAME]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    raise DatasetUnavailableError(
        "CIFAR-100 is not on this machine, and tinynet does not download it (161 MB). Looked for:\n"
        + "".join(f"  {candidate}\n" for candidate in candidates) + _where_to_put_it())


def _where_to_put_it():
    return (f"Download the 'CIFAR-100 python version' {FILENAME} (md5 {ARCHIVE_MD5}) from\n"
            f"  {URL}\n"
            f"and put it at {cache.cache_dir() / FILENAME},\n"
            f"or pass its location: tinynet.datasets.cifar100.load_data(path='/path/to/{FILENAME}').")


def _read_parts(source):
    """{'train': dict, 'test': dict} unpickled from the archive or the extracted directory."""
    parts = {}
    try:
        if source.is_dir():
            for part in ("train", "test"):
                file_path = source / part
                if not file_path.exists():
                    raise CorruptDataError(f"{source}: no '{part}' file in the directory")
                with open_regular_file(file_path, CorruptDataError) as file:
                    parts[part] = _unpickle(file, part, f"{file_path}")
        else:
            # Stream through the gzip once ("r|gz"), picking the two members as they come.
            with open_regular_file(source, CorruptDataError) as file, \
                    tarfile.open(fileobj=file, mode="r|gz") as archive:
                for member in archive:
                    part = Path(member.name).name
                    if member.isfile() and part in ("train", "test") and part not in parts:
                        if member.size > MAX_PICKLE_BYTES[part]:
                            raise CorruptDataError(
                                f"{source}:{member.name} declares {member.size:,} bytes, more than the "
                                f"{MAX_PICKLE_BYTES[part]:,} CIFAR-100's {part} pickle can hold; refusing it")
                        parts[part] = _unpickle(archive.extractfile(member), part, f"{source}:{member.name}")
    except CorruptDataError:
        raise
    # Whatever else a damaged archive makes tarfile and gzip raise (TarError, OSError, EOFError,
    # zlib.error, and a TypeError on a gzip header cut short).
    except Exception as error:  # noqa: BLE001
        raise CorruptDataError(f"{source} is not a readable {FILENAME} archive ({error!r})") from error
    missing = [part for part in ("train", "test") if part not in parts]
    if missing:
        raise CorruptDataError(f"{source}: no {' or '.join(missing)} member, expected {DIRNAME}/train and "
                               f"{DIRNAME}/test as in {FILENAME}")
    return parts


def _unpickle(file, part, source):
    # Python 2's cPickle wrote protocol 2: anything else is refused before the rest is read.
    start = file.read(2)
    if start != b"\x80\x02":
        raise CorruptDataError(f"{source}: not a CIFAR-100 pickle (those start with protocol 2's "
                               f"b'\\x80\\x02', this one with {start!r})")
    data = safe_pickle.read_capped(file, max_size=MAX_PICKLE_BYTES[part], source=source, start=start)
    # Written by Python 2: its byte strings (the array data) decode only as latin1.
    content = safe_pickle.restricted_loads(data, encoding="latin1", allowed=ALLOWED_GLOBALS,
                                           max_opcodes=MAX_PICKLE_OPCODES, source=source)
    del data
    if not isinstance(content, dict):
        raise CorruptDataError(f"{source}: expected a pickled dict, found {type(content).__name__}")
    # Keys are str with encoding="latin1"; accept bytes too, as Keras's encoding="bytes" sees them.
    return {key.decode("latin1") if isinstance(key, bytes) else key: value for key, value in content.items()}


def _keras_layout(part, label_mode, source):
    """(x uint8 (N, 32, 32, 3), y int64 (N, 1)) from one unpickled dict, checked first."""
    data, labels = part.get("data"), part.get(f"{label_mode}_labels")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise CorruptDataError(
            f"{source}: 'data' should be a uint8 array of shape (N, 3072), found "
            f"{getattr(data, 'dtype', type(data).__name__)} of shape {getattr(data, 'shape', None)}")
    labels = _labels(labels, len(data), LABEL_MODES[label_mode], f"{source}: '{label_mode}_labels'")
    # Each row is 3 planes of 32x32 (channels-first); Keras returns channels-last images.
    x = np.ascontiguousarray(data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    return x, labels.reshape(-1, 1)


def _labels(labels, n, classes, source):
    """``labels`` as int64 (n,), if it is a list or integer array of n class numbers in [0, classes).

    Checked before any conversion: NumPy would truncate floats (1.7 -> 1) and raise its own
    errors on huge ints, None or strings.
    """
    if isinstance(labels, list) and all(type(label) is int and 0 <= label < classes for label in labels):
        labels = np.array(labels, dtype=np.int64)
    elif isinstance(labels, np.ndarray) and labels.dtype.kind in "iu" and labels.ndim == 1:
        labels = np.asarray(labels, np.int64) if labels.min(initial=0) >= 0 and labels.max(initial=0) < classes else None
    else:
        labels = None
    if labels is None or labels.shape != (n,):
        raise CorruptDataError(f"{source} should be {n} integers in [0, {classes}), one per image")
    return labels
