"""What crosses between the grader and a student's process: length-prefixed frames, and plain data.

The grader sends requests as pickles (its own data: test inputs, and instructor callables by value through
cloudpickle). The student's process answers in JSON, and the grader rebuilds from it only **plain data**: ``None``,
bools, ints, floats, strings, NumPy numeric scalars and arrays (bool, integer, float, complex; never object dtype or
a subclass) and tuples, lists and dicts of those. Nothing a student's process sends can become code, an object with
methods of the student's, or a reference into the grader: ``decode`` builds fresh values of built-in types from
bytes and numbers, and refuses everything else with a message that names what came back.

This module is imported by both sides; only ``decode`` and ``read_frame`` are the grader's defence, so they trust
nothing in what they read.
"""

from __future__ import annotations

import base64
import json
import math
import struct

import numpy as np

MAX_FRAME = 64 << 20  # bytes: a bigger reply is an attack or a bug, never an answer
MAX_DEPTH = 64  # nesting of lists, tuples and dicts
HEADER = struct.Struct(">I")
NUMERIC_KINDS = "biufc"  # bool, signed and unsigned integer, float, complex
NUMPY_SCALARS = frozenset(np.sctypeDict.values())
DTYPES = {dtype.str: dtype for dtype in (np.dtype(kind).newbyteorder(order) for kind in
                                         (*np.typecodes["AllInteger"], *np.typecodes["AllFloat"], "?")
                                         for order in "<>")}


class NotPlainData(TypeError):
    """What came back is not plain data (its message names what it was)."""


class FrameError(OSError):
    """The other side sent something that is not a frame: it is broken or hostile."""


# -- frames -----------------------------------------------------------------------------------------------------------
def write_frame(fd: int, payload: bytes) -> None:
    import os

    data = HEADER.pack(len(payload)) + payload
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def read_exactly(read, size: int) -> bytes:
    """``size`` bytes from ``read(n)`` (a file's ``read``), or FrameError at the end of the stream."""
    chunks, missing = [], size
    while missing:
        chunk = read(missing)
        if not chunk:
            raise FrameError("the stream ended in the middle of a frame" if chunks or missing != size else
                             "the stream ended")
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def read_frame(read) -> bytes:
    (size,) = HEADER.unpack(read_exactly(read, HEADER.size))
    if size > MAX_FRAME:
        raise FrameError(f"a reply of {size >> 20} MB, more than the {MAX_FRAME >> 20} MB allowed")
    return read_exactly(read, size)


# -- plain data: the student's side writes it ------------------------------------------------------------------------
def _type_name(value) -> str:
    return type(value).__name__


def encode(value, handle=None, depth: int = 0):
    """A JSON-ready form of ``value``. Callables become ``{"handle": id}`` through ``handle(value)`` when given;
    anything else that is not plain data becomes ``{"opaque": its type's name}`` (decoding it raises)."""
    kind = type(value)
    if value is None or kind in (bool, int, str):
        return value
    if kind is float:
        return value if math.isfinite(value) else {"float": repr(value)}
    if depth > MAX_DEPTH:
        return {"opaque": "structure nested too deeply"}
    if kind in (list, tuple):
        return {kind.__name__: [encode(item, handle, depth + 1) for item in value]}
    if kind is dict:
        return {"dict": [[encode(key, handle, depth + 1), encode(item, handle, depth + 1)]
                         for key, item in value.items()]}
    if kind is np.ndarray or kind in NUMPY_SCALARS:
        array = np.asarray(value) if kind is not np.ndarray else value
        if array.dtype.kind not in NUMERIC_KINDS or array.dtype.fields is not None:
            return {"opaque": f"array of dtype {array.dtype}"}
        tag = "array" if kind is np.ndarray else "scalar"
        data = base64.b64encode(np.ascontiguousarray(array).tobytes()).decode()
        return {tag: array.dtype.str, "shape": list(array.shape), "data": data}
    if handle is not None and callable(value):
        return {"handle": handle(value), "name": getattr(value, "__name__", _type_name(value))[:60]}
    return {"opaque": _type_name(value)}


def is_plain(encoded) -> bool:
    """Whether an ``encode`` result holds no opaque part (and so decodes)."""
    if type(encoded) is dict:
        return "opaque" not in encoded and all(map(is_plain, encoded.values()))
    return all(map(is_plain, encoded)) if type(encoded) is list else True


def dumps(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


# -- plain data: the grader's side reads it (the trust boundary) ---------------------------------------------------
def loads(payload: bytes):
    try:
        return json.loads(payload)
    except (ValueError, RecursionError) as error:
        raise FrameError(f"a reply that is not JSON ({type(error).__name__})") from None


def _dtype(text) -> np.dtype:
    """The numeric dtype ``text`` names (an allow-list: np.dtype itself parses far more, and raises in many ways)."""
    if type(text) is not str or text not in DTYPES:
        raise NotPlainData(f"an array of dtype {str(text)[:8]!r}, expected numbers")
    return DTYPES[text]


def _array(tagged: dict, tag: str):
    dtype = _dtype(tagged[tag])
    shape, data = tagged.get("shape"), tagged.get("data")
    if not isinstance(shape, list) or len(shape) > 32 or not all(type(n) is int and n >= 0 for n in shape):
        raise NotPlainData("an array with an unreadable shape")
    if not isinstance(data, str):
        raise NotPlainData("an array without data")
    try:
        raw = base64.b64decode(data.encode(), validate=True)
    except ValueError:  # binascii.Error
        raise NotPlainData("an array whose data is not base64") from None
    if len(raw) != math.prod(shape) * dtype.itemsize:
        raise NotPlainData(f"an array of shape {tuple(shape)} with {len(raw)} bytes of data")
    array = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    if tag == "scalar":
        if shape:
            raise NotPlainData("a NumPy scalar with a shape")
        return array[()]
    return array


def decode(value, handle=None, depth: int = 0):
    """Plain data rebuilt from what ``loads`` read; ``handle(id, name)`` makes the proxy of a returned callable
    (without it a callable is refused). Raises NotPlainData naming what was not plain data."""
    kind = type(value)
    if value is None or kind in (bool, int, float, str):
        return value
    if depth > MAX_DEPTH:
        raise NotPlainData("a structure nested more than 64 levels deep")
    if kind is not dict or len(value) == 0:
        raise NotPlainData("an unreadable value")
    tag = next(iter(value))
    if tag == "float" and len(value) == 1 and value[tag] in ("nan", "inf", "-inf"):
        return float(value[tag])
    if tag in ("list", "tuple") and len(value) == 1 and type(value[tag]) is list:
        items = [decode(item, handle, depth + 1) for item in value[tag]]
        return items if tag == "list" else tuple(items)
    if tag == "dict" and len(value) == 1 and type(value[tag]) is list:
        result = {}
        for pair in value[tag]:
            if type(pair) is not list or len(pair) != 2:
                raise NotPlainData("an unreadable dict")
            key, item = decode(pair[0], None, depth + 1), decode(pair[1], handle, depth + 1)
            try:
                result[key] = item
            except TypeError:  # an unhashable key
                raise NotPlainData(f"a dict with a key of type {type(key).__name__}") from None
        return result
    if tag in ("array", "scalar"):
        return _array(value, tag)
    if tag == "handle" and handle is not None and type(value[tag]) is int:
        name = value.get("name")
        return handle(value[tag], name if isinstance(name, str) else "function")
    if tag == "opaque":
        what = str(value[tag])[:60]
        raise NotPlainData(f"a {what} object" if " " not in what else what)
    raise NotPlainData("an unreadable value")
