"""The grader's parts, one by one: what may cross from a student's process (wire), which descent functions an
assignment withholds (withhold), which names cross at all (plan), and how a call's changes reach the tests'
arguments (crossing.writeback)."""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import descent
from descent_grading import wire
from descent_grading.crossing import writeback
from descent_grading.harness import Harness
from descent_grading.plan import SourceCell, Step, crossing_names, python_source
from descent_grading.withhold import build_view

# -- wire: plain data only -------------------------------------------------------------------------------------------
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20))
arrays = hnp.arrays(st.sampled_from([np.float64, np.float32, np.int64, np.int8, np.uint16, np.bool_,
                                     np.complex128]), hnp.array_shapes(min_dims=0, max_dims=3, max_side=4))
plain = st.recursive(st.one_of(scalars, arrays, arrays.map(lambda a: a[()] if a.ndim == 0 else a)),
                     lambda inner: st.one_of(st.lists(inner, max_size=4), st.tuples(inner, inner),
                                             st.dictionaries(st.text(max_size=5), inner, max_size=4)),
                     max_leaves=20)


def same(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray | np.generic):
        nan = a.dtype.kind in "fc"
        return a.dtype == b.dtype and np.shape(a) == np.shape(b) and np.array_equal(a, b, equal_nan=nan)
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


@given(plain)
@settings(max_examples=200, deadline=None)
def test_plain_data_crosses_unchanged_as_fresh_objects(value):
    decoded = wire.decode(wire.loads(wire.dumps(wire.encode(value))))
    assert same(decoded, value)
    if isinstance(value, np.ndarray):
        assert decoded is not value and decoded.flags.writeable and decoded.base is None


json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                                     st.text(max_size=12), st.sampled_from(["array", "scalar", "<f8", "|O", "V8",
                                                                            "<U3", "m8", "AAAA", "list", "dict"])),
                           lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                   st.dictionaries(st.sampled_from(
                                                       ["array", "scalar", "shape", "data", "list", "tuple", "dict",
                                                        "float", "opaque", "handle", "name", "x"]), inner,
                                                       max_size=4)),
                           max_leaves=25)


@given(json_values)
@settings(max_examples=500, deadline=None)
def test_whatever_a_student_process_sends_decodes_to_plain_data_or_is_refused_by_name(value):
    """The grader's trust boundary: no input makes decode fail in any other way, or build anything else."""
    try:
        decoded = wire.decode(value)
    except wire.NotPlainData:
        return
    stack = [decoded]
    while stack:
        item = stack.pop()
        assert type(item) in (type(None), bool, int, float, str, list, tuple, dict, np.ndarray) \
            or type(item) in wire.NUMPY_SCALARS, type(item)
        if isinstance(item, np.ndarray | np.generic):
            assert item.dtype.kind in wire.NUMERIC_KINDS
        stack.extend(item if isinstance(item, list | tuple) else [*item.keys(), *item.values()]
                     if isinstance(item, dict) else [])


@pytest.mark.parametrize(("value", "named"), [
    (np.array([object()], dtype=object), "array of dtype object"),
    (np.array(["a"]), "array of dtype <U1"),
    (np.zeros(2).view(type("Sub", (np.ndarray,), {})), "a Sub object"),
    (type("Lazy", (float,), {})(1.0), "a Lazy object"),
    ([1.0, {"k": type("Deep", (), {})()}], "a Deep object"),
    (print, "a builtin_function_or_method object"),
])
def test_anything_else_is_refused_with_a_message_naming_it(value, named):
    with pytest.raises(wire.NotPlainData, match=named):
        wire.decode(wire.loads(wire.dumps(wire.encode(value))))


@pytest.mark.parametrize("forged", [
    {"array": "|O", "shape": [1], "data": "AAAAAAAAAAA="},
    *({"array": text, "shape": [1], "data": "AAAAAAAAAAA="} for text in ("V8", "<U2", "<M8", ">(,", ",[4", "f,<=>S")),
    {"array": "<f8", "shape": [2], "data": "AAAAAAAAAAA="},  # 8 bytes for two float64
    {"array": "<f8", "shape": [-1], "data": ""},
    {"array": "<f8", "shape": [1], "data": "not base64!"},
    {"scalar": "<f8", "shape": [1], "data": "AAAAAAAAAAA="},
    {"float": "1e999"},
    {"handle": 3},  # a function where none may come
    {"dict": [[["k"], 1]]},
])
def test_forged_frames_are_refused(forged):
    with pytest.raises(wire.NotPlainData):
        wire.decode(forged)


def test_nesting_deeper_than_the_limit_is_refused():
    value = 1.0
    for _ in range(wire.MAX_DEPTH + 2):
        value = {"list": [value]}
    with pytest.raises(wire.NotPlainData, match="nested"):
        wire.decode(value)


def test_frames_bigger_than_the_limit_are_refused_before_reading_them():
    header = wire.HEADER.pack(wire.MAX_FRAME + 1)
    with pytest.raises(wire.FrameError, match="MB"):
        wire.read_frame(io.BytesIO(header + b"x" * 100).read)


# -- withhold: the assignment's copy of descent -----------------------------------------------------------------------
def run_in_view(view: Path, code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(view)!r})\n{code}"],
                          capture_output=True, text=True, timeout=60)


def test_a_withheld_function_raises_everywhere_it_is_exported_and_the_rest_works(tmp_path):
    view = build_view(Path(descent.__file__).parent, ["descent.losses.mse"], "01_loss_functions", tmp_path)
    assert "def mse" not in (view / "descent" / "losses.py").read_text()  # its code is not in the copy
    for call in ("descent.mse", "descent.losses.mse"):
        out = run_in_view(view, f"import numpy as np, descent\ntry:\n    {call}(np.ones(2), np.zeros(2))\n"
                                "except RuntimeError as e:\n    print(type(e).__name__, e)")
        assert out.stdout.strip() == ("WithheldError descent.losses.mse is not available while 01_loss_functions is "
                                      "graded: write your own"), out.stderr
    out = run_in_view(view, "import numpy as np, descent\nprint(descent.mae(np.ones(2), np.zeros(2))[0])")
    assert out.stdout.strip() == "1.0", out.stderr


@pytest.mark.parametrize("name", ["descent.losses.nothing", "descent.nowhere.mse", "descent.losses.mse.inner"])
def test_withholding_a_name_descent_does_not_have_is_an_error(tmp_path, name):
    with pytest.raises(ValueError, match="withheld"):
        build_view(Path(descent.__file__).parent, [name], "x", tmp_path)


# -- plan: which names cross ------------------------------------------------------------------------------------------
def test_answers_always_come_from_the_student_and_the_tests_tools_never_do():
    truth = (SourceCell("setup", "setup", "code", "import numpy as np\nX = np.ones(3)", "", None),
             SourceCell("a", "answer", "code", "import math\nLR = 0.1\ndef step(x):\n    tmp = x\n    return tmp", "",
                        None),
             SourceCell("t", "test", "code", "", "", 1))
    steps = [Step("setup", truth[0].source, "setup"), Step("answer", "def step(x): return x", "a"),
             Step("test", "real = step\nstep = lambda x: 0\nassert real(X) is not None\nhelper(LR)\nnp.ones(1)",
                  "t", 1)]
    want, answers = crossing_names(steps, truth)
    assert answers == {"LR", "step"}  # not its imports, not its functions' locals
    assert want == {"LR", "step", "helper"}  # np, X, real are the instructor's


# -- harness: what a call changed reaches the test's arguments --------------------------------------------------------
def test_writeback_changes_the_tests_objects_in_place():
    array, items, table = np.zeros(3), [1.0, np.zeros(2)], {"a": 1, "b": np.zeros(1)}
    inner = items[1]
    assert writeback(array, np.arange(3.0)) is array and array.tolist() == [0.0, 1.0, 2.0]
    assert writeback(items, [2.0, np.ones(2)]) is items and items[1] is inner and inner.tolist() == [1.0, 1.0]
    assert writeback(table, {"b": np.full(1, 5.0), "c": 3}) is table and table.keys() == {"b", "c"}
    assert json.dumps(table["c"]) == "3"


# -- the harness runs instructor cells as a kernel would --------------------------------------------------------------
def test_magics_become_calls_that_do_nothing_when_graded():
    source = 'import sys\nif "google.colab" in sys.modules:\n    %pip install descent\n%matplotlib inline\nx = 1'
    code = python_source(source)
    assert "get_ipython()" in code and "%" not in code
    harness = Harness(None, set())
    outcome = harness.run_here(code, time.monotonic() + 5)
    assert not outcome.failed and harness.ns["x"] == 1


def test_a_test_cell_sees_numpys_default_error_handling():
    """Underflow is silent and overflow warns (on stderr, which nbgrader counts as a failure), as in a kernel."""
    harness = Harness(None, set())
    quiet = harness.run_here("import numpy as np\nfloat(np.exp(np.array([-1000.0]))[0])", time.monotonic() + 5)
    assert [out.output_type for out in quiet.outputs] == ["execute_result"]
    loud = harness.run_here("np.exp(np.array([1000.0]))", time.monotonic() + 5)
    assert any(out.get("name") == "stderr" and "overflow" in out.text for out in loud.outputs)
