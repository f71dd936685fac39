"""The grader's guard: the first code that runs in a graded kernel, before any student code.

``descent_grading.grade`` sends this file's source as a hidden first cell (``exec``'d in its own namespace, then
``install(token)``) and rewrites the notebook it executes (never the submission) so that

- read-only instructor cells start with ``<token>.cell("trusted")``, test cells with ``<token>.cell("test")``,
  and the guard's ``pre_run_cell`` hook notes every other cell as the student's: names that read-only cells
  bound (``np``, ``expect_close``, data), and modules and numpy or descent functions that test cells imported,
  are put back before each test, so an answer cannot shadow them;
- every call a test cell makes (not those inside functions it defines) goes through
  ``<token>.call(lambda: callee, *args)``, and the cell's last expression through ``<token>.finish(value)``:
  after the arguments are evaluated (so after the student's function has run) and before the callee is looked
  up, the guard checks the pristine state it captured: the
  attributes of the modules in ``MODULES`` (builtins, math, numpy's comparison and array modules, ...) and of
  ``descent`` and all its submodules, the code of their Python functions, their entries in ``sys.modules``
  and IPython's and ipykernel's execution and error reporting (traceback hooks, custom exception handlers,
  AST/input transformers, events, the kernel's and session's send methods).

Anything found replaced is put back and recorded, and that test and every later one fail with a message naming
what was replaced: an answer that changes the grader's tools earns nothing. See ``descent_grading``'s docstring for
what this does not defend.
"""

import builtins
import operator
from itertools import chain
import sys
import types

MODULES = ("builtins", "math", "cmath", "operator", "functools", "numbers", "numpy", "numpy.linalg", "numpy.testing",
           "numpy.testing._private.utils", "numpy._core.numeric", "numpy._core.fromnumeric", "numpy._core.multiarray",
           "numpy._core.umath")  # and descent with all its submodules
HOOKS = ("do_execute", "execute_request", "send_response", "send", "serialize", "write_output_prompt",
         "write_format_data", "compute_format_data", "finish_displayhook", "start_displayhook", "__call__")
VOLATILE = {"_", "__", "___", "exit", "quit", "get_ipython", "display", "__IPYTHON__", "help",  # IPython and
            "input", "raw_input", "getpass"}  # ipykernel rebind these for every cell
SHELL_HOOKS = ("showtraceback", "_showtraceback", "showsyntaxerror", "showindentationerror", "run_cell",
               "run_cell_async", "run_ast_nodes", "run_code", "transform_cell", "transform_ast", "should_run_async")
MISSING = object()
HEAP_TYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class defined in Python, whose attributes can be replaced
VALUES = operator.methodcaller("values")
FUNCTION_PARTS = [operator.attrgetter(name) for name in ("__code__", "__defaults__", "__kwdefaults__")]


def function_state(functions):
    """The ids of the functions' code and defaults, at C speed."""
    return sum((tuple(map(id, map(part, functions))) for part in FUNCTION_PARTS), ())


def _protected(name):
    return name in MODULES or name == "descent" or name.startswith("descent.")


class Guard:
    def __init__(self, shell, token):
        import cmath  # noqa: F401 (imported so that its pristine state is captured)
        import functools  # noqa: F401
        import math  # noqa: F401
        import numbers  # noqa: F401
        import operator  # noqa: F401

        import numpy
        import numpy.linalg
        import numpy.testing  # noqa: F401

        import descent  # noqa: F401

        self.shell, self.prefix = shell, f"{token}.cell("
        self.modules, self.functions, self.classes = {}, {}, {}
        self.capture_modules()
        targets = [shell, shell.displayhook, getattr(shell, "kernel", None)]
        targets.append(getattr(targets[-1], "session", None))
        self.hook_slots = [(cls, vars(cls), name, vars(cls)[name])  # IPython's and ipykernel's machinery
                           for target in filter(None, targets) for cls in type(target).__mro__[:-1]
                           for name in (*SHELL_HOOKS, *HOOKS) if name in vars(cls)]
        shell.events.register("pre_run_cell", self.pre_run_cell)  # removing it counts as tampering
        self.hooks = self.hook_state()
        self.trusted, self.last, self.last_kind = {}, dict(shell.user_ns), "trusted"
        self.student_seen, self.tampered = False, []

    # -- what is pristine ------------------------------------------------------------------------------------------
    def capture_modules(self):
        for name, module in list(sys.modules.items()):
            if _protected(name) and name not in self.modules and module is not None:
                self.modules[name] = (module, dict(vars(module)))
                for value in list(vars(module).values()):
                    self.capture_object(value)
        self.function_list = [entry[0] for entry in self.functions.values()]
        self.namespaces = [vars(module) for name, (module, _) in self.modules.items() if name != "builtins"]
        self.namespaces += [vars(cls) for cls in self.classes]
        self.stable_builtins = [key for key in vars(builtins) if key not in VOLATILE]
        self.clean = None  # not verified yet

    def capture_object(self, value):
        function = getattr(value, "_implementation", value)  # numpy's dispatchers wrap a Python function
        code = getattr(function, "__code__", None)
        if code is not None and id(function) not in self.functions:
            self.functions[id(function)] = (function, code, function.__defaults__, function.__kwdefaults__)
        if isinstance(value, type) and value.__flags__ & HEAP_TYPE and value not in self.classes \
                and _protected(getattr(value, "__module__", "") or ""):  # (built-in types cannot be patched)
            self.classes[value] = dict(vars(value))
            for member in list(vars(value).values()):
                self.capture_object(member)

    def hook_state(self):
        shell = self.shell
        manager = shell.input_transformer_manager
        return {
            "custom_exceptions": shell.custom_exceptions,
            "CustomTB": shell.CustomTB,
            "instance": {name: shell.__dict__[name] for name in SHELL_HOOKS if name in shell.__dict__},
            "lists": [(owner, name, list(getattr(owner, name)))
                      for owner, name in [(shell, "ast_transformers"), (manager, "cleanup_transforms"),
                                          (manager, "line_transforms"), (manager, "token_transformers")]
                      if hasattr(owner, name)],
            "events": {event: list(callbacks) for event, callbacks in shell.events.callbacks.items()},
            "sys": {name: getattr(sys, name) for name in ("stdout", "stderr", "displayhook")},
        }

    # -- putting it back -------------------------------------------------------------------------------------------
    def fingerprint(self):
        """The ids of every protected object where it is now, computed at C speed. The pristine objects are kept
        alive here, so a replacement cannot reuse one of their ids: equal fingerprints mean nothing moved."""
        namespaces = chain.from_iterable(map(VALUES, self.namespaces))
        return (tuple(map(id, namespaces)), tuple(map(id, map(sys.modules.get, self.modules))),
                tuple(map(id, map(vars(builtins).get, self.stable_builtins))), function_state(self.function_list),
                tuple(id(namespace.get(name)) for _, namespace, name, _ in self.hook_slots))

    def restore(self):
        """Put back everything captured; return what had been replaced."""
        changed = []
        if self.fingerprint() != self.clean:
            changed = self.restore_objects()
            self.clean = self.fingerprint()
        namespace = self.shell.user_ns
        for name, value in self.trusted.items():
            if namespace.get(name, MISSING) is not value:
                namespace[name] = value  # an answer may not shadow np, expect_close, ... (not counted as tampering)
        changed += self.restore_hooks()
        if sys.gettrace() is not None:  # (cheap to ask; setting it is not, with the debugger's hooks loaded)
            sys.settrace(None)
            changed.append("sys.settrace")
        if sys.getprofile() is not None:
            sys.setprofile(None)
            changed.append("sys.setprofile")
        return changed

    def restore_objects(self):
        changed = []
        for name, (module, pristine) in self.modules.items():
            if sys.modules.get(name) is not module:
                sys.modules[name] = module
                changed.append(f"sys.modules[{name!r}]")
            current = vars(module)
            for key, value in pristine.items():
                if current.get(key, MISSING) is not value and not (name == "builtins" and key in VOLATILE):
                    current[key] = value
                    changed.append(f"{name}.{key}")
        for function, code, defaults, kwdefaults in self.functions.values():
            if function.__code__ is not code or function.__defaults__ is not defaults \
                    or function.__kwdefaults__ is not kwdefaults:
                function.__code__, function.__defaults__, function.__kwdefaults__ = code, defaults, kwdefaults
                changed.append(f"{function.__module__}.{function.__qualname__}")
        for cls, pristine in self.classes.items():
            current = vars(cls)
            for key, value in pristine.items():
                if current.get(key, MISSING) is not value:
                    try:
                        setattr(cls, key, value)
                        changed.append(f"{cls.__qualname__}.{key}")
                    except (AttributeError, TypeError):
                        pass
        for cls, namespace, name, value in self.hook_slots:
            if namespace.get(name, MISSING) is not value:
                setattr(cls, name, value)
                changed.append(f"{cls.__qualname__}.{name}")
        return changed

    def restore_hooks(self):
        shell, hooks, changed = self.shell, self.hooks, []
        if shell.custom_exceptions != hooks["custom_exceptions"] or shell.CustomTB is not hooks["CustomTB"]:
            shell.custom_exceptions, shell.CustomTB = hooks["custom_exceptions"], hooks["CustomTB"]
            changed.append("IPython's custom exception handler")
        for name in SHELL_HOOKS:
            if shell.__dict__.get(name, MISSING) is not hooks["instance"].get(name, MISSING):
                shell.__dict__.pop(name, None)
                shell.__dict__.update({name: hooks["instance"][name]} if name in hooks["instance"] else {})
                changed.append(f"IPython's {name}")
        for owner, name, items in hooks["lists"]:
            if list(getattr(owner, name)) != items:
                getattr(owner, name)[:] = items
                changed.append(f"IPython's {name}")
        for event, callbacks in hooks["events"].items():
            if shell.events.callbacks.get(event) != callbacks:
                shell.events.callbacks[event] = list(callbacks)
                changed.append(f"IPython's {event} event")
        for name, value in hooks["sys"].items():
            if getattr(sys, name) is not value:
                setattr(sys, name, value)
                changed.append(f"sys.{name}")
        return changed

    # -- what the rewritten cells call -----------------------------------------------------------------------------
    def pre_run_cell(self, info):
        if not (info.raw_cell or "").startswith(self.prefix):
            self.cell("student")  # the grader marks its own cells; any other cell is the student's

    def cell(self, kind):
        namespace = self.shell.user_ns
        if self.last_kind in ("trusted", "test"):
            self.trusted.update((name, value) for name, value in namespace.items()
                                if self.last.get(name, MISSING) is not value
                                and (self.last_kind == "trusted" or self.is_tool(value)))
            if not self.student_seen:
                self.capture_modules()  # protected modules a trusted cell imported
        if kind == "student":
            self.student_seen = True
        if kind == "test":
            self.check()
        self.last_kind = kind
        self.last = dict(namespace)

    @staticmethod
    def is_tool(value):
        """A protected module or one of its functions: what a test cell may import for later tests. (Never reads
        attributes of other objects: they may be the student's, whose attribute lookups run student code.)"""
        if isinstance(value, types.ModuleType):
            return _protected(value.__name__)
        if isinstance(value, types.FunctionType | types.BuiltinFunctionType):
            return _protected(value.__module__ or "")
        return type(value).__name__ in ("ufunc", "_ArrayFunctionDispatcher")

    def check(self):
        self.tampered += [name for name in self.restore() if name not in self.tampered]
        if self.tampered:
            shown = ", ".join(self.tampered[:3]) + (" and more" if len(self.tampered) > 3 else "")
            raise AssertionError(f"your code replaced {shown}, which the tests rely on: answers that change the "
                                 "grader's tools earn no points")

    def call(self, callee, *args, **kwargs):
        self.check()
        return callee()(*args, **kwargs)

    def finish(self, value=None):
        self.check()
        return value


def install(token):
    from IPython import get_ipython

    builtins.__dict__[token] = Guard(get_ipython(), token)
