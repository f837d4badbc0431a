"""A reader for IDX files, the format of MNIST and Fashion-MNIST.

An IDX file is a small header followed by the array's values, big-endian:

    bytes 0-1   0x00 0x00                      (the magic number starts with two zeros)
    byte  2     type code: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                           0x0D float32, 0x0E float64
    byte  3     number of dimensions, ndim
    4 * ndim    each dimension as a big-endian uint32
    the rest    prod(dims) values, row-major

``train-images-idx3-ubyte`` is therefore ``00 00 08 03``, then 60000, 28, 28,
then 47,040,000 pixels. Files are often gzipped (``*.gz``); ``read_idx`` sees
that from the first bytes, whatever the file is called.

The header decides how much memory the reader allocates, so a damaged or
hostile header could ask for terabytes: the size is checked against
``max_bytes`` (and, for a plain file, against the file's real size) before
anything is allocated.
"""
import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from .errors import CorruptDataError
from .npz import open_regular_file

# The type code in the magic number -> big-endian NumPy dtype.
DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

# Far above any IDX data set in use (Fashion-MNIST's training images are 47 MB),
# far below what would exhaust a laptop's memory.
DEFAULT_MAX_BYTES = 1 << 30

GZIP_MAGIC = b"\x1f\x8b"
MAX_DIMS = 64  # NumPy's limit


def read_idx(path, max_bytes=DEFAULT_MAX_BYTES):
    """Read one IDX file (plain or gzipped) into a NumPy array.

    Args:
        path: str or os.PathLike naming the file.
        max_bytes: the largest array the header may ask for; a bigger one is
            refused before any memory is allocated.

    Returns:
        ndarray of shape ``dims`` from the header, with the header's type in
        native byte order (uint8 for MNIST's images and labels).

    Raises:
        CorruptDataError (a ValueError): wrong magic number, unknown type
            code, a header asking for more than ``max_bytes``, or a file that
            is truncated, has trailing bytes, or is a damaged gzip stream.
            The message names the file.
        TypeError: ``path`` is not a str or os.PathLike.
        OSError: the file cannot be opened.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            "Received an invalid value for `path`, expected a str or os.PathLike naming an IDX file. "
            f"Received: path={path!r}")
    path = Path(path)
    with open_regular_file(path, CorruptDataError) as raw:
        compressed = raw.read(2) == GZIP_MAGIC
        raw.seek(0)
        if compressed:
            with gzip.GzipFile(fileobj=raw) as file:
                return _read_stream(file, path, max_bytes, plain_size=None)
        return _read_stream(raw, path, max_bytes, plain_size=os.fstat(raw.fileno()).st_size)


def _read_stream(file, path, max_bytes, plain_size):
    """Parse header and data from a binary stream. ``plain_size`` is the file's
    size when it is not compressed (so the data length can be checked up front)."""
    try:
        magic = _read_exactly(file, 4, path, "the 4-byte magic number")
        zeros, type_code, ndim = struct.unpack(">HBB", magic)
        if zeros != 0 or type_code not in DTYPES:
            raise CorruptDataError(
                f"{path} is not an IDX file: its magic number is 0x{magic.hex()}, expected 0x0000TTDD with a "
                f"type code TT in {sorted(f'{code:02x}' for code in DTYPES)} and DD the number of dimensions")
        if not 1 <= ndim <= MAX_DIMS:
            raise CorruptDataError(f"{path}: the IDX header declares {ndim} dimensions, expected 1 to {MAX_DIMS}")
        dims = struct.unpack(f">{ndim}I", _read_exactly(file, 4 * ndim, path, f"{ndim} dimension sizes"))
        dtype = DTYPES[type_code]
        header_size = 4 + 4 * ndim
        # Python ints: the product cannot overflow, however large the header's numbers.
        n_bytes = dtype.itemsize
        for d in dims:
            n_bytes *= d
        if n_bytes > max_bytes:
            raise CorruptDataError(
                f"{path}: the IDX header declares an array of shape {dims} ({n_bytes:,} bytes), more than "
                f"max_bytes={max_bytes:,}; refusing to allocate it")
        if plain_size is not None and plain_size != header_size + n_bytes:
            raise CorruptDataError(
                f"{path}: the IDX header declares shape {dims} ({n_bytes:,} bytes of data), but the file holds "
                f"{plain_size - header_size:,} bytes after its {header_size}-byte header"
                + (" (truncated)" if plain_size < header_size + n_bytes else " (trailing bytes)"))
        if plain_size is None:
            # A gzip stream does not say how much it holds: read it in bounded chunks, so a
            # header that lies about the size costs only the memory of the data really there.
            data = np.frombuffer(_read_up_to(file, n_bytes), dtype=np.uint8)
            filled = len(data)
        else:
            data = np.empty(n_bytes, dtype=np.uint8)
            filled = _read_into(file, data)
        if filled < n_bytes:
            raise CorruptDataError(
                f"{path} is truncated: the IDX header declares shape {dims} ({n_bytes:,} bytes of data), "
                f"but only {filled:,} bytes follow it")
        if file.read(1):
            raise CorruptDataError(f"{path} has trailing bytes after the {n_bytes:,} bytes of shape {dims}")
    except (EOFError, OSError, zlib.error) as error:
        # gzip reports a cut-off or damaged stream with these.
        raise CorruptDataError(f"{path} could not be read as IDX ({type(error).__name__}: {error})") from error
    return data.view(dtype).reshape(dims).astype(dtype.newbyteorder("="))


def _read_exactly(file, n, path, what):
    data = file.read(n)
    if len(data) != n:
        raise CorruptDataError(f"{path} is too short to be an IDX file: it ends inside {what}")
    return data


def _read_up_to(file, n, chunk_size=1 << 22):
    """Up to ``n`` bytes from ``file`` (fewer at end of file), read ``chunk_size`` at a time."""
    chunks = []
    while n > 0:
        chunk = file.read(min(n, chunk_size))
        if not chunk:
            break
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _read_into(file, buffer):
    """Fill ``buffer`` from ``file``; return the number of bytes read (less at end of file)."""
    view = memoryview(buffer)
    filled = 0
    while filled < len(view):
        n = file.readinto(view[filled:])
        if not n:
            break
        filled += n
    return filled


def write_idx(path, array):
    """Write ``array`` as a plain (uncompressed) IDX file: the inverse of ``read_idx``.

    Useful to build small test files; the dtype must be one IDX has (see DTYPES).
    """
    array = np.asarray(array)
    codes = {dtype.newbyteorder("="): code for code, dtype in DTYPES.items()}
    if array.dtype not in codes or array.ndim == 0:
        raise ValueError(
            f"Received an invalid value for `array`, expected an array with at least one axis and a dtype in "
            f"{sorted(str(d) for d in codes)}. Received: dtype={array.dtype}, ndim={array.ndim}")
    code = codes[array.dtype]
    header = struct.pack(f">HBB{array.ndim}I", 0, code, array.ndim, *array.shape)
    with open(path, "wb") as file:
        file.write(header + np.ascontiguousarray(array, dtype=DTYPES[code]).tobytes())
