"""The benchmark still runs and still compares like with like (no timing is asserted: machines are noisy)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).parents[1] / "benchmarks" / "bench_optim.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_optim", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_run_prints_a_ratio_for_every_optimiser_and_size(bench, capsys):
    bench.main(["--quick", "--baseline", "numpy"])
    rows = [line for line in capsys.readouterr().out.splitlines() if line.rstrip().endswith("x")]
    assert len(rows) == 2 * len(bench.OPTIMISERS)
    for name in bench.OPTIMISERS:
        assert sum(row.startswith(name) for row in rows) == 2


@pytest.mark.parametrize("name", ["adam", "sgd (momentum 0.9)", "rmsprop"])
def test_every_loop_makes_the_same_update(bench, name):
    factory, torch_name, kwargs = bench.OPTIMISERS[name]
    params, grads = np.array([1.0, -2.0, 0.5]), np.array([0.5, -0.25, 2.0])
    expected = bench.descent_loop(factory, kwargs, params, grads)(4)
    np.testing.assert_array_equal(bench.in_place_loop(factory, kwargs, params, grads)(4), expected)
    np.testing.assert_allclose(bench.numpy_loop(torch_name, kwargs, params, grads)(4), expected, rtol=1e-12)
    try:
        import torch  # noqa: F401
    except ModuleNotFoundError:
        return
    np.testing.assert_allclose(bench.torch_loop(torch_name, kwargs, params, grads)(4), expected, rtol=1e-12)
