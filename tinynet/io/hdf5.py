"""Reading HDF5 files that may come from anywhere, at bounded cost, in a separate process.

The HDF5 library believes the file it reads. Fuzzing tinynet's Keras reader found files
of a few kilobytes that make it crash the process (a segmentation fault), spin forever,
or allocate gigabytes (variable-length strings that all point to one large heap object,
a length field of 0xFFFFFFF0, a kernel stored in a million 1x1 chunks). No check made
from Python before the library reads a file can rule all of these out, so the library
reads it in a child process (``hdf5_child.py``) that may use at most

    memory    MEMORY_ALLOWANCE more than the file's size (RLIMIT_AS), and
    CPU time  CPU_SECONDS plus a second per CPU_BYTES_PER_SECOND of file for each object it
              reads (RLIMIT_CPU, set anew before each; whole seconds, so between one second
              less and that),

and that checks, before the library reads each thing, what the file declares about it
(the ``LIMITS`` below). The child sends back a *snapshot*: every group, attribute and
dataset reached by hard links, as plain data and NumPy arrays, at most the file's size of
them. ``H5Reader`` answers questions about that snapshot; whatever the file does to the
library, this process gets a snapshot or a ``KerasFileError`` naming the file and the
problem. Starting the child costs about 0.2 s.

h5py is an optional extra (``pip install tinynet[h5]``): only the child imports it to read.
"""
import json
import os
import re
import signal
import stat
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np

from .errors import KerasFileError
from .model_files import cut
from .npz import open_regular_file

INSTALL_HINT = "pip install tinynet[h5]"
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
CHILD = Path(__file__).with_name("hdf5_child.py")

# What the child may read from a file (a Keras model file has a few groups, datasets and
# attributes per layer, names of a few dozen characters, and unchunked weights).
LIMITS = {
    "max_nodes": 5_000,                       # groups and datasets (450 Dense layers and Adam's state: 4,956)
    "max_attributes": 50_000,
    "max_name_chars": 1_024,                  # one link's name
    "max_strings": 100_000,                   # in one attribute (layer_names, weight_names)
    "attribute_bytes": 8 * 2 ** 20,           # one attribute (model_config is a few kB per layer)
    "tree_bytes": 16 * 2 ** 20,               # all names and attributes, as the child sends them (JSON)
    "max_chunks": 16_384,                     # one dataset's (Keras writes weights in one piece)
}
MEMORY_ALLOWANCE = 80 * 2 ** 20
CPU_SECONDS = 1.5
CPU_BYTES_PER_SECOND = 200 * 2 ** 20
# Only a child blocked without using CPU (a hung network file system) meets this one.
WALL_SECONDS = 60
# What the last child used, as it measured itself (peak_rss: its peak resident memory in bytes, on
# Linux; cpu_seconds) and its exit code: for the tests and benchmarks/fuzz_readers.py, which compare
# hostile files with honest ones. (The kernel's count for a child, wait4's ru_maxrss, includes the
# memory of the parent it was forked from.) A child that crashed or was stopped reports nothing.
LAST_CHILD = {}
_ARRAY_DTYPE = re.compile(r"[<>|][biuf][1248]")


def require_h5py():
    """The h5py module, or an ImportError that says how to install it."""
    try:
        import h5py
    except ImportError:
        raise ImportError(
            f"Keras .h5 and .keras files are HDF5 inside, which needs h5py: {INSTALL_HINT}") from None
    return h5py


def is_hdf5(path):
    """True when ``path`` is a regular file starting with the HDF5 signature (what ``load_model`` dispatches on)."""
    try:
        with open_regular_file(path, KerasFileError) as file:
            return file.read(8) == HDF5_SIGNATURE
    except KerasFileError:  # a FIFO, a device: never opened for reading
        return False


def check_regular_file(path):
    """Refuse anything but a regular file (a FIFO or a device would block or never end); return its size."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"No such file: {path}") from None
    if not stat.S_ISREG(mode):
        raise KerasFileError(f"{path} is not a regular file")
    return os.path.getsize(path)


# ----------------------------------------------------------------- the snapshot

class Node:
    """A group or dataset of the snapshot: its ``parent`` node and the ``link`` name it has there;
    ``attrs``: attribute name -> record (see ``hdf5_child``)."""

    def __init__(self, parent, link, attrs):
        self.parent, self.link, self.attrs = parent, link, attrs

    @property
    def name(self):
        """The node's path, from the root; its beginning cut when long (groups may nest 5,000 deep)."""
        parts, node, length = [], self, 0
        while node.parent is not None and length < 300:
            parts.append(node.link)
            length += len(node.link) + 1
            node = node.parent
        path = "/" + "/".join(reversed(parts))
        return path if node.parent is None else "..." + path


class Group(Node):
    """A group: ``links`` (name -> node, or the kind of a link that was not followed: 'SoftLink', ...)."""

    def __init__(self, parent, link, attrs):
        super().__init__(parent, link, attrs)
        self.links = {}

    def __len__(self):
        return len(self.links)


class Dataset(Node):
    """A dataset: ``dtype`` and ``shape`` as declared, ``values`` (an array, or None with ``refused``
    saying why it was not read; ``outside`` when it is stored in another file)."""

    def __init__(self, parent, link, attrs, record, arrays):
        super().__init__(parent, link, attrs)
        self.refused, self.outside = record.get("refused"), record.get("outside")
        self.shape = None if record.get("shape") is None else tuple(record["shape"])
        self.dtype = record.get("dtype")
        self.values = None if record.get("array") is None else arrays[record["array"]]


def read_snapshot(path, source):
    """The root ``Group`` of the HDF5 file at ``path``, read by the child; ``source`` names it in errors."""
    size = check_regular_file(path)
    request = {"path": os.fspath(path), "limits": {**LIMITS, "memory_bytes": MEMORY_ALLOWANCE + size,
                                                   "cpu_seconds": CPU_SECONDS + size / CPU_BYTES_PER_SECOND}}
    # -I -S: no user site, no environment, no current directory on the path; the parent's path instead,
    # so the child finds the NumPy and h5py this process would. One BLAS thread: the child does no algebra.
    boot = ("import json, runpy, sys; sys.path[:] = json.loads(sys.argv[2]); "
            "runpy.run_path(sys.argv[3], run_name='__main__')")
    command = [sys.executable, "-I", "-S", "-c", boot, json.dumps(request), json.dumps(sys.path), str(CHILD)]
    environment = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    with tempfile.TemporaryFile() as errors:
        child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors,
                                 env=environment)
        timer = threading.Timer(WALL_SECONDS + size / 2 ** 20, child.kill)
        timer.start()
        try:
            tree, arrays = _records(child.stdout, size, source)
        except _NoTree:
            tree = None
        finally:
            timer.cancel()
            child.stdout.close()
            if tree is None:
                child.kill()
            child.wait()
        LAST_CHILD.clear()
        LAST_CHILD.update(returncode=child.returncode, **(tree or {}).get("usage", {}))
        if tree is None:
            errors.seek(0)
            raise KerasFileError(_death(source, child.returncode, errors.read()[-2000:]))
    if "error" in tree:
        raise KerasFileError(f"{source} {tree['error']}")
    return _build(tree, arrays, source)


class _NoTree(Exception):
    """The child stopped before sending its tree."""


def _records(stream, size, source):
    """The arrays and the tree the child sends, refusing more than the file's size of array bytes."""
    arrays, received = [], 0
    tree_limit = LIMITS["tree_bytes"] + 2 ** 20
    while True:
        head = stream.read(9)
        if len(head) < 9:
            raise _NoTree
        kind, length = head[:1], int.from_bytes(head[1:], "little")
        received += length
        if kind == b"A" and received <= size:
            data = stream.read(length)
            if len(data) < length:
                raise _NoTree
            arrays.append(data)
        elif kind == b"T" and length <= tree_limit:
            text = stream.read(length)
            if len(text) < length:
                raise _NoTree
            try:
                return json.loads(text), arrays
            except (ValueError, RecursionError):
                raise _NoTree from None
        else:
            raise KerasFileError(f"{source}: the HDF5 reading process sent {kind!r} of {length:,} bytes, more "
                                 "than the file holds")


def _death(source, returncode, stderr):
    """What to tell the user when the child died before sending its tree."""
    if returncode is not None and returncode < 0:
        number = -returncode
        if number == getattr(signal, "SIGXCPU", None) or number == signal.SIGKILL:
            return (f"{source} could not be read: the HDF5 library was still reading it after the time a file of "
                    "its size needs (the file is damaged, or built to make readers loop)")
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return (f"{source} could not be read: the HDF5 library crashed on it ({name}); the file is damaged. "
                "tinynet reads HDF5 files in a separate process, so only that process ended")
    last = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
    if "MemoryError" in last[0]:
        return (f"{source} could not be read: reading it needs more memory than a file of its size can honestly "
                "need (the file is damaged, or built to make readers allocate)")
    return f"{source} could not be read: the HDF5 reading process failed ({cut(last[0], 200)})"


def _build(tree, arrays, source):
    """Groups and datasets from the child's tree; every number in it checked before it is used."""
    try:
        nodes, specs = tree["nodes"], tree["arrays"]
        values = []
        for (dtype, shape), data in zip(specs, arrays, strict=True):
            if not _ARRAY_DTYPE.fullmatch(dtype) or not all(isinstance(d, int) and d >= 0 for d in shape):
                raise ValueError(f"array {dtype!r}")
            values.append(np.frombuffer(data, dtype).reshape(shape))
        built = []
        for node in nodes:
            parent = None if node["parent"] is None else built[node["parent"]]
            attrs = dict(node["attrs"])
            for record in attrs.values():
                if "array" in record:
                    record["value"] = values[record["array"]]
            built.append(Group(parent, node["link"], attrs) if node["kind"] == "group"
                         else Dataset(parent, node["link"], attrs, node, values))
        for node, group in zip(nodes, built):
            for link, target in node.get("links", {}).items():
                group.links[link] = built[target] if isinstance(target, int) else str(target)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        raise KerasFileError(f"{source}: the HDF5 reading process sent a snapshot tinynet cannot use") from None
    return built[0]


# ----------------------------------------------------------------- reading the snapshot

class H5Reader:
    """An HDF5 file read in a child process (``read_snapshot``) and a budget: the bytes its datasets may claim.

    ``path`` is the file; ``source`` names it in errors (``model.keras:model.weights.h5``).
    """

    def __init__(self, path, source=None):
        require_h5py()
        self.source = str(path if source is None else source)
        self.root = read_snapshot(path, self.source)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        pass

    def child(self, group, path, kind="group"):
        """``group[path]`` walked one hard link at a time; ``kind`` 'group' or 'dataset'."""
        node = group
        for part in [p for p in path.split("/") if p]:
            if not isinstance(node, Group):
                raise KerasFileError(f"{self.source}: {_name(node)} should be a group")
            link = node.links.get(part)
            where = f"{node.name.rstrip('/')}/{cut(part, 100)}"
            if link is None:
                raise KerasFileError(f"{self.source}: {where} is missing")
            if isinstance(link, str):
                raise KerasFileError(f"{self.source}: {where} is a {link}; tinynet follows only links inside the file")
            node = link
        wanted = Group if kind == "group" else Dataset
        if not isinstance(node, wanted):
            raise KerasFileError(f"{self.source}: {_name(node)} should be a {kind}")
        return node

    def has(self, group, name):
        return isinstance(group, Group) and name in group.links

    def text(self, node, name, required=True):
        """A string attribute (stored as bytes or str)."""
        if name not in node.attrs:
            if required:
                raise KerasFileError(f"{self.source}: {_name(node)} has no attribute {name!r}")
            return None
        record = self._attribute(node, name)
        if "text" not in record:
            found = "strings" if "strings" in record else str(record["value"].dtype)
            raise KerasFileError(f"{self.source}: attribute {name!r} of {_name(node)} should be a string, found "
                                 f"{found}")
        if not record["bytes"]:
            return record["text"]
        try:
            return record["text"].encode("latin-1").decode("utf-8")
        except UnicodeError:
            raise KerasFileError(f"{self.source}: attribute {name!r} of {_name(node)} is not UTF-8") from None

    def strings(self, node, name):
        """A list-of-strings attribute, as Keras writes it: fixed or variable-length strings, split into
        ``name0``, ``name1``, ... when long, and an empty list stored as a float array of shape (0,).
        A name listed twice is refused (a name list of a Keras file names each layer or weight once)."""
        if name in node.attrs:
            parts = [self._attribute(node, name)]
        elif f"{name}0" in node.attrs:
            parts = [self._attribute(node, f"{name}{i}") for i in range(len(node.attrs))
                     if f"{name}{i}" in node.attrs]
        else:
            raise KerasFileError(f"{self.source}: {_name(node)} has no attribute {name!r}")
        result = []
        for part in parts:
            if "value" in part and part["value"].size == 0:  # Keras 2's empty list
                continue
            if "strings" not in part or len(part["shape"]) != 1:
                found = part["value"].dtype if "value" in part else "one string" if "text" in part else "strings"
                raise KerasFileError(f"{self.source}: attribute {name!r} of {_name(node)} should be a list of "
                                     f"strings, found {found}")
            if part["bytes"]:
                result += [item.encode("latin-1").decode("utf-8", errors="replace") for item in part["strings"]]
            else:
                result += part["strings"]
        seen = set()
        twice = next((item for item in result if item in seen or seen.add(item)), None)
        if twice is not None:
            raise KerasFileError(f"{self.source}: attribute {name!r} of {_name(node)} lists {cut(repr(twice), 80)} "
                                 f"{result.count(twice):,} times; a Keras file lists each name once")
        return result

    def _attribute(self, node, name):
        record = node.attrs[name]
        if "refused" in record:
            raise KerasFileError(f"{self.source}: attribute {name!r} of {_name(node)} {record['refused']}")
        return record

    def array(self, dataset, expected_shape, what, kinds="f"):
        """The dataset's values, after checking its storage, kind of number and shape against what is expected."""
        if not isinstance(dataset, Dataset):
            raise KerasFileError(f"{self.source}: {what} should be a dataset")
        where = f"{self.source}: {what} ({_name(dataset)})"
        if dataset.outside:
            raise KerasFileError(f"{where} {dataset.outside}; refused")
        if dataset.dtype is None:
            raise KerasFileError(f"{where} {dataset.refused}")
        if not _is_dtype(dataset.dtype) or dataset.dtype[1] not in kinds:
            found = np.dtype(dataset.dtype).name if _is_dtype(dataset.dtype) else dataset.dtype
            raise KerasFileError(f"{where} holds {found}, expected "
                                 f"{'floating-point' if kinds == 'f' else 'integer'} numbers")
        if expected_shape is not None and dataset.shape != tuple(expected_shape):
            raise KerasFileError(f"{where} has shape {dataset.shape}, but the model needs {tuple(expected_shape)}")
        if dataset.values is None:
            raise KerasFileError(f"{where} {dataset.refused}")
        values = dataset.values
        if kinds == "f":
            values = values.astype(np.float32)
            if not np.isfinite(values).all():
                raise KerasFileError(f"{where} holds NaN or infinite values")
        return values


def _is_dtype(text):
    return isinstance(text, str) and _ARRAY_DTYPE.fullmatch(text) is not None


def _name(node):
    return cut(getattr(node, "name", "?"), 200)
