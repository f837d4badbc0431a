"""Reading a NumPy ``.npz`` archive we did not write, at a cost bounded by what it declares.

``np.load`` believes an archive: a damaged zip directory or ``.npy`` header can make it
set aside gigabytes, and it reads a member in full before anyone can compare its shape
with what was expected. ``NpzReader`` reads with ``zipfile`` and ``numpy.lib.format``
instead, in two steps:

    reader.header(key)   ->  (shape, dtype), from the member's first bytes only
    reader.array(key)    ->  the array, read only now, whose size was checked against
                             the zip directory before any memory was set aside

so a caller compares declared shapes with what it expects between the two.
``open_regular_file`` refuses devices and FIFOs (``/dev/zero`` never ends; a FIFO
without a writer blocks forever).
"""
import math
import os
import stat
import tokenize
import zipfile

import numpy as np

from .zips import ZIP_ERRORS, open_zip

# What zipfile and numpy.lib.format can raise on a damaged archive or header
# (TokenError: an unterminated bracket in a header).
READ_ERRORS = ZIP_ERRORS + (tokenize.TokenError,)
# np.savez's headers are under 128 bytes; NumPy's own limit is 10000. A small limit keeps
# NumPy's header parser (ast.literal_eval) away from large hostile inputs.
MAX_NPY_HEADER = 1024
# NOTE: deflate cannot expand data more than about 1032-fold (its best case codes a run of
# 258 bytes in 2 bits), so a deflated member claiming more than that is lying about its size.
MAX_DEFLATE_RATIO = 1032


def open_regular_file(path, error):
    """Open ``path`` for binary reading if it is a regular file; else raise ``error(message)``.

    Opened non-blocking, so a FIFO without a writer is refused instead of waiting; the
    check is made on the open descriptor, so the file cannot be swapped in between.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise error(f"{path} is not a regular file (a directory, device, FIFO or socket); refusing to read it")
    return os.fdopen(fd, "rb")


class NpzReader:
    """An open .npz archive: ``keys()``, ``header(key)``, ``array(key)``, ``text(key)``.

    Every problem raises ``error`` (a ValueError subclass chosen by the caller) with a
    message naming the file. Use as a context manager. ``max_inflation``: how many bytes
    the deflated entries read may add to their compressed size, in all (None: no limit,
    for callers that compare every shape with a pinned one before reading).
    """

    def __init__(self, path, error, max_inflation=None):
        self.path, self.error, self.inflation_left = path, error, max_inflation
        self._file = open_regular_file(path, error)
        try:
            self._size = os.fstat(self._file.fileno()).st_size
            if self._file.read(len(np.lib.format.MAGIC_PREFIX)) == np.lib.format.MAGIC_PREFIX:
                raise error(f"{path} is a single .npy array, not an .npz archive")
            self._file.seek(0)
            self._zip = open_zip(self._file, path, error, "an .npz archive")
            # np.savez names each array's member "<key>.npy".
            self._members = {info.filename[:-len(".npy")]: info for info in self._zip.infolist()
                             if info.filename.endswith(".npy")}
            self._headers = {}
        except BaseException:
            self.close()
            raise

    def keys(self):
        return list(self._members)

    def has(self, key):
        return key in self._members

    def header(self, key):
        """``(shape, dtype)`` of entry ``key``, from its .npy header, checked against the member's size."""
        if key not in self._headers:
            info = self._member(key)
            try:
                with self._zip.open(info) as member:
                    shape, fortran_order, dtype = _read_npy_header(member)
                    header_size = member.tell()
            except READ_ERRORS as cause:
                raise self.error(f"{self.path} is corrupt: its entry {key!r} has no readable .npy header "
                                 f"({type(cause).__name__}: {_cut(str(cause))})") from cause
            # NumPy's own limits: 64 axes, and a size (zero axes aside) that fits in an intp.
            if (dtype.hasobject or len(shape) > 64 or any(d < 0 for d in shape)
                    or math.prod(d for d in shape if d) * max(dtype.itemsize, 1) >= 2 ** 63):
                raise self.error(f"{self.path} is corrupt: its entry {key!r} declares {_cut(str(dtype), 40)} "
                                 f"of shape {_cut(str(shape), 60)}")
            data_size = math.prod(shape) * dtype.itemsize
            if header_size + data_size != info.file_size:
                raise self.error(
                    f"{self.path} is corrupt: its entry {key!r} declares {dtype} of shape {_cut(str(shape), 60)} "
                    f"({data_size:,} bytes), but holds {info.file_size - header_size:,} bytes of data")
            self._headers[key] = (shape, fortran_order, dtype, header_size, data_size)
        shape, _, dtype, _, _ = self._headers[key]
        return shape, dtype

    def nbytes(self, key):
        """The size in bytes of entry ``key``'s data, as its (checked) header declares."""
        self.header(key)
        return self._headers[key][4]

    def array(self, key, dtypes=None):
        """Entry ``key`` as a read-only array; its dtype must be one of ``dtypes`` (any plain one if None)."""
        shape, dtype = self.header(key)
        if dtypes is not None and dtype not in dtypes:
            raise self.error(f"{self.path} is corrupt: its entry {key!r} holds {dtype}, expected "
                             + " or ".join(str(np.dtype(d)) for d in dtypes))
        _, fortran_order, _, header_size, data_size = self._headers[key]
        self._charge_inflation(key)
        try:
            with self._zip.open(self._member(key)) as member:
                member.read(header_size)
                data = member.read(data_size)
                # The header and the directory agreed on the size; the data must not go on.
                if len(data) != data_size or member.read(1):
                    raise self.error(f"{self.path} is corrupt: its entry {key!r} does not hold the "
                                     f"{data_size:,} bytes its header declares")
        except READ_ERRORS as cause:
            raise self.error(f"{self.path} is corrupt: its entry {key!r} cannot be read "
                             f"({type(cause).__name__}: {_cut(str(cause))})") from cause
        return np.frombuffer(data, dtype).reshape(shape, order="F" if fortran_order else "C")

    def text(self, key, max_chars):
        """Entry ``key``, a single unicode string of at most ``max_chars`` characters."""
        shape, dtype = self.header(key)
        if dtype.kind != "U" or shape != ():
            raise self.error(f"{self.path} is corrupt: its entry {key!r} should be one string, but is "
                             f"{dtype} of shape {shape}")
        if dtype.itemsize > 4 * max_chars:
            raise self.error(f"{self.path}: its entry {key!r} is a string of {dtype.itemsize // 4:,} characters, "
                             f"more than the {max_chars:,} this reader accepts; refusing to read it")
        data = self.array(key).tobytes()
        # A NumPy string is UTF-32, padded with NULs. Decoding it here (rather than with str(array))
        # turns invalid code points into a UnicodeDecodeError instead of a SystemError.
        try:
            return data.decode("utf-32-be" if dtype.byteorder == ">" else "utf-32-le").rstrip("\0")
        except UnicodeDecodeError as cause:
            raise self.error(f"{self.path} is corrupt: its entry {key!r} is not valid text ({cause})") from cause

    def _charge_inflation(self, key):
        """Count what inflating entry ``key`` adds to its compressed size against ``max_inflation``."""
        info = self._member(key)
        if self.inflation_left is None or info.compress_type != zipfile.ZIP_DEFLATED:
            return
        self.inflation_left -= info.file_size - info.compress_size
        if self.inflation_left < 0:
            raise self.error(f"{self.path}: its entry {key!r} inflates {info.compress_size:,} bytes to "
                             f"{info.file_size:,}, more than this reader inflates in all; refused (tinynet writes "
                             "its files uncompressed: np.savez, not np.savez_compressed)")

    def _member(self, key):
        """The zip directory's record of entry ``key``, checked to be a member this file can really hold."""
        info = self._members.get(key)
        if info is None:
            raise self.error(f"{self.path} is incomplete: it has no entry {key!r}")
        if info.compress_type == zipfile.ZIP_STORED:  # np.savez
            sizes_agree = info.file_size == info.compress_size
        elif info.compress_type == zipfile.ZIP_DEFLATED:  # np.savez_compressed
            sizes_agree = info.file_size <= MAX_DEFLATE_RATIO * info.compress_size
        else:
            raise self.error(f"{self.path}: its entry {key!r} uses zip compression method {info.compress_type}; "
                             "only stored and deflated entries are read (what np.savez and np.savez_compressed write)")
        # zipfile trusts the directory's sizes; a damaged directory could otherwise ask for gigabytes.
        if info.compress_size > self._size or not sizes_agree:
            raise self.error(
                f"{self.path} is corrupt: the zip directory gives its entry {key!r} {info.compress_size:,} bytes "
                f"compressed and {info.file_size:,} uncompressed, impossible in a {self._size:,}-byte file")
        return info

    def close(self):
        if getattr(self, "_zip", None) is not None:
            self._zip.close()
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _read_npy_header(member):
    """``(shape, fortran_order, dtype)`` from the start of a .npy file; ValueError if it is not one."""
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(member, max_header_size=MAX_NPY_HEADER)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(member, max_header_size=MAX_NPY_HEADER)
    raise ValueError(f".npy format version {version}, expected 1.0 or 2.0 (what np.savez writes)")


def _cut(text, limit=300):
    """``text`` cut short, for messages quoting a hostile file's content."""
    return text if len(text) <= limit else text[:limit - 3] + "..."
