"""Builders of hostile and damaged files, shared by the robustness tests and benchmarks/fuzz_readers.py.

Each builder writes a file under ``directory`` and returns its path. Sizes are arguments, so
the tests build small versions and the benchmark the sizes the issue measured.
"""
import io
import json
import math
import pickle
import struct
import tarfile
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np

from tinynet import layers
from tinynet.models import Sequential

CHUNK = 1 << 20


def honest_model():
    """A small trained model: Dense(3) on 4 inputs, Dense(2) softmax, compiled with Adam."""
    model = Sequential([layers.Dense(3, activation="relu", input_shape=(4,)), layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.train_on_batch(np.ones((2, 4), np.float32), np.array([0, 1]))
    return model


def members(path):
    """name -> bytes of every member of a zip."""
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def npy_bytes(array):
    out = io.BytesIO()
    np.save(out, array)
    return out.getvalue()


def npy_header(shape, dtype):
    """The .npy header (format 1.0) of an array of ``shape`` and ``dtype``, without data."""
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(out, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
                                               "fortran_order": False, "shape": tuple(shape)})
    return out.getvalue()


def write_zip(path, content, compression=zipfile.ZIP_STORED, streamed=None):
    """A zip of ``content`` (name -> bytes); ``streamed`` (name -> (header, n_bytes, fill byte)) members
    are written in chunks, deflated, so a gigabyte member costs no memory to build."""
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in content.items():
            archive.writestr(name, data)
        for name, (header, n_bytes, fill) in (streamed or {}).items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w", force_zip64=True) as member:
                member.write(header)
                chunk = fill * CHUNK
                for start in range(0, n_bytes, CHUNK):
                    member.write(chunk[:min(CHUNK, n_bytes - start)])
    return Path(path)


def edited_config(directory, edit, name="edited.npz"):
    """The honest model's file with its model_config JSON changed by ``edit(config)``."""
    source = Path(directory) / "honest.npz"
    honest_model().save(source)
    content = members(source)
    config = json.loads(str(np.load(io.BytesIO(content["model_config.npy"]))))
    edit(config)
    content["model_config.npy"] = npy_bytes(np.array(json.dumps(config)))
    return write_zip(Path(directory) / name, content)


def two_wide_dense(directory, units=6000):
    """~8.5 KB claiming Dense(units) twice: building it first would cost 2 * units**2 * 4 bytes."""
    def edit(config):
        config["layers"][0]["config"]["units"] = units
        config["layers"][1]["config"]["units"] = units
    return edited_config(directory, edit, "two_wide_dense.npz")


def wide_input(directory, width=20000):
    """The input shape edited to (width, width) with a Flatten first: a Dense kernel of width**2 rows."""
    def edit(config):
        config["input_shape"] = [width, width]
        config["layers"][0]["config"]["input_shape"] = [width, width]
        config["layers"].insert(0, {"class_name": "Flatten", "config": {"name": "flatten_x"}})
        config["layers"][0]["config"]["input_shape"] = [width, width]
        del config["layers"][1]["config"]["input_shape"]
    return edited_config(directory, edit, "wide_input.npz")


def inflated_member(directory, n_bytes=400 << 20):
    """The first kernel replaced by ``n_bytes`` of zeros (a float32 vector), deflated to ~1/1000."""
    source = Path(directory) / "honest.npz"
    honest_model().save(source)
    content = members(source)
    del content["weight/0000.npy"]
    header = npy_header((n_bytes // 4,), np.float32)
    return write_zip(Path(directory) / "inflated.npz", content,
                     streamed={"weight/0000.npy": (header, n_bytes // 4 * 4, b"\0")})


def long_config(directory, n_chars=100_000_000):
    """model_config replaced by a string of ``n_chars`` characters (UTF-32: 4 bytes each), deflated."""
    source = Path(directory) / "honest.npz"
    honest_model().save(source)
    content = members(source)
    del content["model_config.npy"]
    header = npy_header((), f"<U{n_chars}")
    return write_zip(Path(directory) / "long_config.npz", content,
                     streamed={"model_config.npy": (header, 4 * n_chars, b" \0\0\0")})


def lying_header(directory, shape=(2 ** 40,)):
    """The first kernel's .npy header claiming ``shape`` (its data unchanged)."""
    source = Path(directory) / "honest.npz"
    honest_model().save(source)
    content = members(source)
    data = content["weight/0000.npy"]
    old_header_size = len(npy_header((4, 3), np.float32))
    content["weight/0000.npy"] = npy_header(shape, np.float32) + data[old_header_size:]
    return write_zip(Path(directory) / "lying_header.npz", content)


def edited_weight(directory, key, change, name):
    """The honest model's file with array ``key`` changed by ``change(array)`` (in place)."""
    source = Path(directory) / "honest.npz"
    honest_model().save(source)
    content = members(source)
    array = np.load(io.BytesIO(content[f"{key}.npy"])).copy()
    change(array)
    content[f"{key}.npy"] = npy_bytes(array)
    return write_zip(Path(directory) / name, content)


def mnist_cache_with_header(directory, arrays, name, header):
    """An mnist.npz whose member ``name`` has the raw .npy header bytes ``header`` (data unchanged)."""
    content = {f"{key}.npy": npy_bytes(value) for key, value in arrays.items()}
    data = content[f"{name}.npy"]
    content[f"{name}.npy"] = header + data[len(npy_header(arrays[name].shape, arrays[name].dtype)):]
    return write_zip(Path(directory) / "mnist.npz", content)


class Python2Pickler(pickle._Pickler):
    """Writes pickles as Python 2's cPickle wrote CIFAR's: protocol 2, byte strings as Python 2
    ``str`` (SHORT_BINSTRING / BINSTRING) and NumPy's array rebuilder under its NumPy 1 name."""

    dispatch = dict(pickle._Pickler.dispatch)

    def save_python2_str(self, obj):
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_python2_str

    def save_global(self, obj, name=None):
        module = obj.__module__.replace("numpy._core", "numpy.core")
        self.write(pickle.GLOBAL + f"{module}\n{name or obj.__name__}\n".encode())
        self.memoize(obj)


def python2_pickle(obj):
    buffer = io.BytesIO()
    Python2Pickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue()


def cifar_archive(path, n=(5, 2), fine_labels=None, inflate_train=0, inflate_start=b""):
    """A cifar-100-python.tar.gz with ``n`` = (train, test) images, as Python 2 pickled it.

    ``fine_labels`` replaces the train labels; ``inflate_train`` > 0 makes the train member that
    many bytes of zeros instead (a gzip bomb: zeros compress ~1000-fold), after ``inflate_start``.
    """
    rng = np.random.default_rng(0)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz", compresslevel=1) as archive:
        for part, count in zip(("train", "test"), n):
            info = tarfile.TarInfo(f"cifar-100-python/{part}")
            if part == "train" and inflate_train:
                info.size = inflate_train
                archive.addfile(info, io.BufferedReader(_Zeros(inflate_train, inflate_start)))
                continue
            labels = list(rng.integers(0, 100, count).tolist())
            if part == "train" and fine_labels is not None:
                labels = fine_labels
            content = {b"data": rng.integers(0, 256, (count, 3072), dtype=np.uint8), b"fine_labels": labels,
                       b"coarse_labels": [label % 20 if type(label) is int else 0 for label in labels],
                       b"filenames": [f"img{i}.png".encode() for i in range(count)], b"batch_label": part.encode()}
            data = python2_pickle(content)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return Path(path)


class _Zeros(io.RawIOBase):
    """A stream of ``n`` zero bytes, read in chunks (so a 600 MB member costs no memory to write)."""

    def __init__(self, n, start=b""):
        self.left, self.start = n, start

    def readable(self):
        return True

    def readinto(self, buffer):
        n = min(len(buffer), self.left)
        head, self.start = self.start[:n], self.start[n:]
        buffer[:n] = head + bytes(n - len(head))
        self.left -= n
        return n


def peak_bytes_of(shape, dtype=np.float32):
    return math.prod(shape) * np.dtype(dtype).itemsize


# ----------------------------------------------------------------- Keras HDF5 files (need h5py)
def honest_h5(directory, name="honest.h5"):
    """The honest model saved as a Keras 2 .h5 file by tinynet, named 'sequential' with layers 'dense' and
    'dense_1' (not numbered by how many the process made before), so its layout is the same every time."""
    path = Path(directory) / name
    model = honest_model()
    model.name = "sequential"
    for layer, layer_name in zip(model.layers, ("dense", "dense_1")):
        layer.name = layer_name
    model.save(path)
    return path


def honest_h5_cost(directory):
    """What loading the honest .h5 costs: seconds (the slower of two loads) and the peak memory of the
    child that read it (0 where the child cannot measure itself)."""
    from tinynet.io import hdf5
    from tinynet.models import load_model
    path = honest_h5(directory, "cost.h5")
    seconds = []
    for _ in range(2):
        start = time.perf_counter()
        load_model(path)
        seconds.append(time.perf_counter() - start)
    return max(seconds), hdf5.LAST_CHILD.get("peak_rss", 0)


def _edited_h5(directory, name, edit):
    """The honest .h5 with ``edit(h5py_file)`` applied."""
    import h5py
    path = honest_h5(directory, name)
    with h5py.File(path, "a") as f:
        edit(f)
    return path


def _new_names(f, names, fixed=False, group_name="model_weights", attribute="layer_names"):
    """Replace the group's name list (model_weights' layer_names by default) by ``names``. The group is
    made anew: one written by h5py's defaults cannot take an attribute larger than 64 kB, one tracking
    its order (a newer object header) can."""
    import h5py
    f.move(group_name, "old_group")
    group = f.create_group(group_name, track_order=True)
    for key in list(f["old_group"]):
        f.move(f"old_group/{key}", f"{group_name}/{key}")
    group.attrs.update({k: v for k, v in f["old_group"].attrs.items() if k != attribute})
    del f["old_group"]
    if fixed:
        group.attrs.create(attribute, np.array(names))
    else:
        group.attrs.create(attribute, names, dtype=h5py.string_dtype("ascii"))


def _global_heaps(data):
    """Offsets of the global heap collections ('GCOL') in HDF5 bytes."""
    found, at = [], data.find(b"GCOL")
    while at >= 0:
        found.append(at)
        at = data.find(b"GCOL", at + 1)
    return found


def _vlen_references(data, heaps):
    """(offset, length, heap, index) of every variable-length string reference in HDF5 bytes: 16 bytes
    each, a 4-byte length, the 8-byte address of a global heap collection and a 4-byte object index."""
    heaps = set(heaps)
    found = []
    for at in range(len(data) - 16):
        length, heap, index = struct.unpack_from("<IQI", data, at)
        if heap in heaps and index < 2 ** 20:
            found.append((at, length, heap, index))
    return found


def h5_aliased_names(directory, n_names=500_000, object_bytes=8192, attribute="layer_names"):
    """``layer_names`` (or another ``attribute`` of model_weights, beside it) of ``n_names`` variable-length
    strings that all point to one heap object of ``object_bytes``: the file holds it once (and n_names
    16-byte references), a reader that believes it materialises it n_names times."""
    # Written as one long name and empty ones, then every empty name's reference (length 0, its
    # own empty heap object) made a copy of the long one's.
    path = _edited_h5(directory, f"aliased_{attribute}.h5",
                      lambda f: _new_names(f, [b"d" * object_bytes] + [b""] * (n_names - 1), attribute=attribute))
    data = bytearray(path.read_bytes())
    heaps = _global_heaps(data)
    first = data.find(struct.pack("<I", object_bytes))
    while struct.unpack_from("<Q", data, first + 4)[0] not in heaps:
        first = data.find(struct.pack("<I", object_bytes), first + 1)
    references = np.frombuffer(data, np.uint8, count=16 * n_names, offset=first).reshape(n_names, 16)
    assert not references[1:, :4].any(), "the empty names are not where h5py usually puts them"
    references[1:] = references[0]
    path.write_bytes(bytes(data))
    return path


def h5_names(directory, names, name="names.h5", fixed=False, optimizer=False):
    """``layer_names`` (or with ``optimizer`` the optimizer's ``weight_names``) replaced by ``names``
    (a flood of one-byte names, or one name repeated): variable-length strings, or with ``fixed`` a
    fixed-length string array (one byte each for one-byte names)."""
    where = {"group_name": "optimizer_weights", "attribute": "weight_names"} if optimizer else {}
    return _edited_h5(directory, name, lambda f: _new_names(f, names, fixed, **where))


def h5_optimizer_weights(directory, n_weights):
    """The optimizer's state replaced by ``n_weights`` one-number datasets ``Adam/x<i>/m:0``, all listed."""
    def edit(f):
        del f["optimizer_weights"]
        group = f.create_group("optimizer_weights", track_order=True)
        names = [f"Adam/x{i}/m:0" for i in range(n_weights)]
        for name in names:
            group.create_dataset(name, data=np.float32(0))
        group.attrs.create("weight_names", [name.encode() for name in names],
                           dtype=__import__("h5py").string_dtype("ascii"))
    return _edited_h5(directory, f"optimizer_{n_weights}.h5", edit)


def h5_group_flood(directory, n_groups):
    """The honest .h5 with ``n_groups`` empty groups added at its root."""
    def edit(f):
        for i in range(n_groups):
            f.create_group(f"junk{i}")
    return _edited_h5(directory, f"groups_{n_groups}.h5", edit)


def h5_config_setting(directory, n_chars):
    """model_config whose first Dense layer's activation is a string of ``n_chars`` characters."""
    def edit(f):
        config = json.loads(f.attrs["model_config"])
        config["config"]["layers"][1]["config"]["activation"] = "x" * n_chars
        f.attrs["model_config"] = json.dumps(config).encode()
    return _edited_h5(directory, f"setting_{n_chars}.h5", edit)


def h5_step_count(directory, value):
    """The optimizer's saved iteration count replaced by ``value``."""
    def edit(f):
        group = f["optimizer_weights"]
        names = [n.decode() if isinstance(n, bytes) else n for n in group.attrs["weight_names"]]
        name = next(n for n in names if n.endswith("iter:0"))
        del group[name]
        group.create_dataset(name, data=np.int64(value))
    return _edited_h5(directory, f"step_{value}.h5", edit)


def h5_byte_changed(directory, offset, value, source=None):
    """The honest .h5 (or ``source``) with the byte at ``offset`` set to ``value``."""
    data = bytearray((source or honest_h5(directory)).read_bytes())
    data[offset] = value
    path = Path(directory) / f"byte_{offset}_{value}.h5"
    path.write_bytes(bytes(data))
    return path


def h5_zeroed_heap_header(directory):
    """The 16-byte header of the honest .h5's first global heap collection zeroed."""
    data = bytearray(honest_h5(directory).read_bytes())
    at = _global_heaps(data)[0]
    data[at:at + 16] = bytes(16)
    path = Path(directory) / "zeroed_heap.h5"
    path.write_bytes(bytes(data))
    return path


def h5_vlen_length(directory, length=0xFFFFFFF0):
    """The honest .h5 whose model_config (a variable-length string) claims ``length`` bytes."""
    import h5py
    path = honest_h5(directory)
    with h5py.File(path, "r") as f:
        actual = len(f.attrs["model_config"])
    data = bytearray(path.read_bytes())
    at = next(at for at, size, _, _ in _vlen_references(data, _global_heaps(data)) if size == actual)
    data[at:at + 4] = struct.pack("<I", length)
    path = Path(directory) / "vlen_length.h5"
    path.write_bytes(bytes(data))
    return path


def h5_chunked_kernel(directory, n_inputs=1000, chunk=(1, 1)):
    """A Dense(n_inputs -> n_inputs) model whose kernel is stored in chunks of ``chunk``: one B-tree
    entry per chunk (a million for 1000 x 1000 in 1 x 1 chunks)."""
    import h5py
    model = Sequential([layers.Dense(n_inputs, input_shape=(n_inputs,))])
    path = Path(directory) / f"chunked_{n_inputs}.h5"
    model.save(path)
    with h5py.File(path, "a") as f:
        group = f[f"model_weights/{model.layers[0].name}/{model.layers[0].name}"]
        kernel = group["kernel:0"][()]
        del group["kernel:0"]
        group.create_dataset("kernel:0", data=kernel, chunks=chunk)
    return path


# ----------------------------------------------------------------- zip archives (.keras, .npz)
def zip_flood(source, path, n_members):
    """``source``'s members and ``n_members`` empty ones (a central directory of ~50 bytes each)."""
    content = members(source)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in content.items():
            archive.writestr(name, data)
        for i in range(n_members):
            archive.writestr(f"j{i}", b"")
    return Path(path)


def zip_edited(source, path, edit_member=None, duplicate=None, encrypted=None, deflated=None):
    """``source`` re-zipped: ``edit_member`` (name, bytes) replaced, a ``duplicate`` member written
    twice, the ``encrypted`` member flagged as encrypted (its bytes left plain), the ``deflated``
    members compressed."""
    content = members(source)
    if edit_member is not None:
        content[edit_member[0]] = edit_member[1]
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in content.items():
            archive.writestr(name, data, zipfile.ZIP_DEFLATED if name in (deflated or ()) else zipfile.ZIP_STORED)
        if duplicate is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
                archive.writestr(duplicate, content[duplicate])
    if encrypted is not None:  # zipfile writes no encrypted members: set the flag bit in both headers
        data = bytearray(Path(path).read_bytes())
        for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            at = data.find(signature)
            while at >= 0:
                name_at = at + (30 if signature == b"PK\x03\x04" else 46)
                length = struct.unpack_from("<H", data, at + (26 if signature == b"PK\x03\x04" else 28))[0]
                if data[name_at:name_at + length] == encrypted.encode():
                    data[at + flags_at] |= 0x1
                at = data.find(signature, at + 1)
        Path(path).write_bytes(bytes(data))
    return Path(path)


def semi_compressible(n_bytes, ratio, seed=0):
    """``n_bytes`` that deflate about ``ratio``-fold (for ratios of 30 to 140): zeros with a random byte
    every 3.8 * ``ratio`` bytes (measured: every 300 bytes deflates 79-fold, every 400 bytes 103-fold)."""
    rng = np.random.default_rng(seed)
    data = np.zeros(n_bytes, np.uint8)
    step = max(round(3.8 * ratio), 1)
    data[::step] = rng.integers(1, 256, len(data[::step]))
    return data.tobytes()
