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
