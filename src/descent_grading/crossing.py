"""What crosses between the harness and the student's process, as the tests see it.

A function of the student's is a ``StudentFunction`` (calling it asks the harness to run it there); a value that
could not cross is ``Unusable`` (any use says why); an exception the student's code raised is raised again here
as the same built-in type (``raised_here``); what a call changed in its arguments is copied into the tests' own
objects (``writeback``). Going the other way, ``Pickler`` sends a proxy as its handle and an instructor's function
as a callback (``instructors`` says which functions those are).
"""

from __future__ import annotations

import builtins
import functools
import pickle
import types
from typing import Protocol

import numpy as np

NOT_PLAIN = "expected numbers, arrays, or tuples, lists and dicts of them"


class Caller(Protocol):  # the harness, as the objects here use it
    def call(self, handle: int, args: tuple, kwargs: dict, name: str): ...

    def register(self, function) -> int: ...


class StudentFunction:
    """A function of the student's as the tests see it."""

    __slots__ = ("__name__", "_handle", "_harness")

    def __init__(self, harness: Caller, handle: int, name: str):
        self._harness, self._handle, self.__name__ = harness, handle, name

    def __call__(self, *args, **kwargs):
        return self._harness.call(self._handle, args, kwargs, self.__name__)

    def __repr__(self) -> str:
        return f"<your function {self.__name__}>"


def instructors(obj) -> bool:
    """Whether ``obj`` is a function of the instructor's that must run here: one defined in a test or setup cell,
    one of the real ``descent``'s, a bound method (``calls.append``) or a partial. Other functions (NumPy's, and
    those pickle itself uses to rebuild arrays and generators) travel by reference."""
    if isinstance(obj, functools.partial):
        return True
    if isinstance(obj, types.MethodType):
        obj = obj.__func__
    elif isinstance(obj, types.BuiltinFunctionType):
        return not isinstance(obj.__self__, types.ModuleType | type(None))
    if isinstance(obj, types.FunctionType):
        module = obj.__module__ or ""
        return module == "__main__" or module.split(".")[0] == "descent"
    return False


class Pickler(pickle.Pickler):
    """Pickles what the harness sends: a proxy as its handle, an instructor's function as a callback."""

    def __init__(self, file, harness: Caller):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.harness = harness

    def persistent_id(self, obj):
        if type(obj) is StudentFunction:
            return ("handle", obj._handle)
        if callable(obj) and not isinstance(obj, type) and instructors(obj):
            return ("callback", self.harness.register(obj))
        return None


class Unusable:
    """A name whose value could not cross (not plain data): any use raises a TypeError that says why."""

    def __init__(self, name: str, what: str):
        object.__setattr__(self, "_message", f"'{name}' is {what}: {NOT_PLAIN}")

    def __getattr__(self, attribute):
        raise TypeError(object.__getattribute__(self, "_message"))

    def _refuse(self, *args, **kwargs):
        raise TypeError(object.__getattribute__(self, "_message"))

    __call__ = __float__ = __int__ = __index__ = __bool__ = __len__ = __iter__ = __getitem__ = __array__ = _refuse
    __eq__ = __lt__ = __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = _refuse
    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"<unusable: {object.__getattribute__(self, '_message')}>"


def writeback(old, new):
    """Make ``old`` (the harness's argument) hold ``new`` (its value after the student's call changed it), in
    place where it is mutable. Returns what the caller should hold (``new`` where ``old`` cannot change)."""
    if type(old) is np.ndarray and type(new) is np.ndarray and old.shape == new.shape and old.flags.writeable:
        try:
            old[...] = new
            return old
        except (TypeError, ValueError):
            return new
    if type(old) is list and type(new) is list:
        if len(old) == len(new):
            old[:] = [writeback(a, b) for a, b in zip(old, new, strict=True)]
        else:
            old[:] = new
        return old
    if type(old) is dict and type(new) is dict:
        for key in [key for key in old if key not in new]:
            del old[key]
        for key, value in new.items():
            old[key] = writeback(old[key], value) if key in old else value
        return old
    return new


def described(error: BaseException) -> dict:
    """What an instructor's function raised, as the student's process raises it."""
    base = next(cls.__name__ for cls in type(error).__mro__ if getattr(builtins, cls.__name__, None) is cls)
    return {"type": type(error).__name__, "builtin": base, "message": str(error)[:4000]}


def raised_here(raised: dict, name: str) -> Exception:
    """The exception to raise for what the student's function raised: the same built-in type, or RuntimeError."""
    kind, base, message = (str(raised.get(key, ""))[:4000] for key in ("type", "builtin", "message"))
    cls = getattr(builtins, base, None)
    if not (isinstance(cls, type) and issubclass(cls, Exception)) or base in ("StopIteration", "StopAsyncIteration"):
        cls = RuntimeError
    if kind != cls.__name__:
        message = f"{kind}: {message}" if message else kind[:80]
    try:
        return cls(message)
    except TypeError:  # a built-in that wants other arguments (UnicodeError's kinds)
        return RuntimeError(f"{kind}: {message}")
