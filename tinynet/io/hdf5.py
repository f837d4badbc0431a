"""Reading HDF5 files that may come from anywhere, at bounded cost.

h5py is an optional extra (``pip install tinynet[h5]``) imported only here, on
first use. Everything read goes through these helpers, which check before they
read: a file must be a regular file; links must be hard links inside the file
(an external or soft link could point at another file on the machine); a
dataset must be stored in the file (not external, not virtual), have the shape
and kind of number the caller expects, and fit in the file's own size (Keras
never compresses weights, so a dataset larger than its file is a lie), so a
hostile file cannot make tinynet allocate more than the file holds.
"""
import io
import os
import stat

import numpy as np

from .errors import KerasFileError

INSTALL_HINT = "pip install tinynet[h5]"
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def require_h5py():
    """The h5py module, or an ImportError that says how to install it."""
    try:
        import h5py
    except ImportError:
        raise ImportError(
            f"Keras .h5 and .keras files are HDF5 inside, which needs h5py: {INSTALL_HINT}") from None
    return h5py


def is_hdf5(path):
    """True when ``path`` starts with the HDF5 signature (what ``load_model`` dispatches on)."""
    with open(path, "rb") as file:
        return file.read(8) == HDF5_SIGNATURE


def check_regular_file(path):
    """Refuse anything but a regular file (a FIFO or a device would block or never end)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"No such file: {path}") from None
    if not stat.S_ISREG(mode):
        raise KerasFileError(f"{path} is not a regular file")
    return os.path.getsize(path)


class H5Reader:
    """An open HDF5 file (a path or bytes) and a budget: the bytes its datasets may still claim."""

    def __init__(self, source, data=None):
        h5py = self.h5py = require_h5py()
        self.source = str(source)
        if data is None:
            self.budget = check_regular_file(source)
            target = os.fspath(source)
        else:
            self.budget = len(data)
            target = io.BytesIO(data)
        try:
            self.file = h5py.File(target, "r")
        except (OSError, ValueError) as error:
            raise KerasFileError(f"{self.source} is not a readable HDF5 file ({error})") from None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.file.close()

    @property
    def root(self):
        return self.file

    def child(self, group, path, kind="group"):
        """``group[path]`` walked one hard link at a time; ``kind`` 'group' or 'dataset'."""
        node = group
        for part in [p for p in path.split("/") if p]:
            if not isinstance(node, self.h5py.Group):
                raise KerasFileError(f"{self.source}: {node.name} should be a group")
            link = node.get(part, getlink=True)
            if link is None:
                raise KerasFileError(f"{self.source}: {node.name.rstrip('/')}/{part} is missing")
            if not isinstance(link, self.h5py.HardLink):
                raise KerasFileError(f"{self.source}: {node.name.rstrip('/')}/{part} is a {type(link).__name__}; "
                                     "tinynet follows only links inside the file")
            node = node[part]
        wanted = self.h5py.Group if kind == "group" else self.h5py.Dataset
        if not isinstance(node, wanted):
            raise KerasFileError(f"{self.source}: {node.name} should be a {kind}")
        return node

    def has(self, group, name):
        return isinstance(group, self.h5py.Group) and group.get(name, getlink=True) is not None

    def text(self, node, name, required=True):
        """A string attribute (stored as bytes or str)."""
        if name not in node.attrs:
            if required:
                raise KerasFileError(f"{self.source}: {node.name} has no attribute {name!r}")
            return None
        value = self._attribute(node, name)
        if isinstance(value, np.ndarray) and value.shape == ():
            value = value[()]
        if isinstance(value, bytes):
            try:
                value = value.decode("utf-8")
            except UnicodeDecodeError:
                raise KerasFileError(f"{self.source}: attribute {name!r} of {node.name} is not UTF-8") from None
        if not isinstance(value, str):
            raise KerasFileError(f"{self.source}: attribute {name!r} of {node.name} should be a string, found "
                                 f"{type(value).__name__}")
        return value

    def strings(self, node, name):
        """A list-of-strings attribute, as Keras writes it: fixed or variable-length strings, split into
        ``name0``, ``name1``, ... when long, and an empty list stored as a float array of shape (0,)."""
        if name in node.attrs:
            parts = [self._attribute(node, name)]
        elif f"{name}0" in node.attrs:
            parts, i = [], 0
            while f"{name}{i}" in node.attrs and i < 10_000:
                parts.append(self._attribute(node, f"{name}{i}"))
                i += 1
        else:
            raise KerasFileError(f"{self.source}: {node.name} has no attribute {name!r}")
        result = []
        for part in parts:
            part = np.asarray(part)
            if part.size == 0:
                continue
            if part.ndim != 1 or part.dtype.kind not in "SOU":
                raise KerasFileError(f"{self.source}: attribute {name!r} of {node.name} should be a list of "
                                     f"strings, found {part.dtype} of shape {part.shape}")
            for item in part:
                if isinstance(item, bytes):
                    item = item.decode("utf-8", errors="replace")
                if not isinstance(item, str):
                    raise KerasFileError(f"{self.source}: attribute {name!r} of {node.name} holds a non-string")
                result.append(item)
        return result

    def _attribute(self, node, name):
        # The attribute's size is known before it is read: refuse what could not be a Keras attribute.
        attribute = node.attrs.get_id(name)
        shape = attribute.shape or ()
        if len(shape) > 1 or int(np.prod(shape, dtype=np.float64)) * attribute.get_type().get_size() > 64 * 2 ** 20:
            raise KerasFileError(f"{self.source}: attribute {name!r} of {node.name} is too large")
        try:
            return node.attrs[name]
        except (OSError, TypeError, ValueError) as error:
            raise KerasFileError(f"{self.source}: attribute {name!r} of {node.name} cannot be read ({error})") \
                from None

    def array(self, dataset, expected_shape, what, kinds="f"):
        """The dataset's values, after checking its storage, kind of number and shape against what is expected."""
        if not isinstance(dataset, self.h5py.Dataset):
            raise KerasFileError(f"{self.source}: {what} should be a dataset")
        if dataset.is_virtual or dataset.external:
            raise KerasFileError(f"{self.source}: {what} ({dataset.name}) is stored outside the file; refused")
        if dataset.dtype.kind not in kinds or dataset.dtype.itemsize > 8:
            raise KerasFileError(f"{self.source}: {what} ({dataset.name}) holds {dataset.dtype}, expected "
                                 f"{'floating-point' if kinds == 'f' else 'integer'} numbers")
        if expected_shape is not None and tuple(dataset.shape) != tuple(expected_shape):
            raise KerasFileError(f"{self.source}: {what} ({dataset.name}) has shape {tuple(dataset.shape)}, but "
                                 f"the model needs {tuple(expected_shape)}")
        nbytes = int(np.prod(dataset.shape, dtype=np.float64)) * dataset.dtype.itemsize
        if nbytes > self.budget:
            raise KerasFileError(f"{self.source}: {what} ({dataset.name}) declares {nbytes:,} bytes, more than the "
                                 "file holds")
        self.budget -= nbytes
        try:
            values = dataset[()]
        except (OSError, ValueError, TypeError) as error:
            raise KerasFileError(f"{self.source}: {what} ({dataset.name}) cannot be read ({error})") from None
        values = np.asarray(values)
        if kinds == "f":
            values = values.astype(np.float32)
            if not np.isfinite(values).all():
                raise KerasFileError(f"{self.source}: {what} ({dataset.name}) holds NaN or infinite values")
        return values
