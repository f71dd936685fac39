"""descent reproduces PyTorch: every golden case of tests/golden/*.json replayed, agreeing to 1e-10.

The JSON files are written by ``tests/golden/make_golden.py`` with torch; this test needs only numpy.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import numpy as np
import pytest
from golden.make_golden import build, run_descent_optimizer

import descent.clipping
import descent.optim
import descent.schedules

GOLDEN = Path(__file__).parent / "golden"
RTOL = 1e-10


def load(name: str) -> list[dict]:
    return json.loads((GOLDEN / name).read_text())["cases"]


OPTIM, SCHEDULES, CLIPPING = load("optim.json"), load("schedules.json"), load("clipping.json")


def cases(golden: list[dict]):
    return pytest.mark.parametrize("case", golden, ids=[case["id"] for case in golden])


def arrays(tree: dict) -> dict[str, np.ndarray]:
    return {k: np.array(v, dtype=np.float64) for k, v in tree.items()}


@cases(OPTIM)
@pytest.mark.parametrize("in_place", [False, True], ids=["pure", "step_in_place"])
def test_optimiser_matches_pytorch(case, in_place):
    trajectory = run_descent_optimizer(case, case["params0"], case["grads"], in_place)
    ours = [trajectory[step - 1] for step in case["checked_steps"]]
    for k in case["params0"]:
        mine = np.array([params[k] for params in ours])
        expected = np.array([params[k] for params in case["params"]])
        np.testing.assert_allclose(mine, expected, rtol=RTOL, atol=0,
                                   err_msg=f"params[{k!r}] at steps {case['checked_steps']}")


@cases(SCHEDULES)
def test_schedule_matches_pytorch(case):
    schedule = build(descent.schedules, case)
    ours = [schedule(e) for e in range(len(case["lrs"]))]
    # No absolute tolerance, even where the lr is exactly 0 (a cosine at eta_min = 0, a linear decay to
    # end_factor = 0): PyTorch's recursive updates land on 0.0 there and so does descent's closed form.
    np.testing.assert_allclose(ours, case["lrs"], rtol=RTOL, atol=0)


@cases([case for case in CLIPPING if case["name"] == "clip_grad_norm" and not case.get("raises")])
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # inf × 0 = NaN, as in torch
def test_clip_grad_norm_matches_pytorch(case):
    clipped, total = descent.clipping.clip_grad_norm(arrays(case["grads"]), **case["kwargs"])
    np.testing.assert_allclose(total, case["total_norm"], rtol=RTOL, atol=0)
    for k, expected in arrays(case["clipped"]).items():
        np.testing.assert_allclose(clipped[k], expected, rtol=RTOL, atol=0, err_msg=k)


@cases([case for case in CLIPPING if case.get("raises")])
def test_clip_grad_norm_raises_where_pytorch_raises(case):
    with pytest.raises(ValueError, match="error_if_nonfinite"):
        descent.clipping.clip_grad_norm(arrays(case["grads"]), **case["kwargs"])


def as_transform(case: dict):
    """A clip_grad_norm case is also a clip_by_global_norm case: the transform clips the same way."""
    if case["name"] == "clip_by_value":
        return build(descent.clipping, case)
    return descent.clipping.clip_by_global_norm(case["kwargs"]["max_norm"], case["kwargs"].get("norm_type", 2.0))


@cases([case for case in CLIPPING if not case.get("raises")])
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_clipping_transform_matches_pytorch(case):
    transform = as_transform(case)
    grads = arrays(case["grads"])
    clipped, _ = transform.update(grads, transform.init(grads), grads)
    for k, expected in arrays(case["clipped"]).items():
        np.testing.assert_allclose(clipped[k], expected, rtol=RTOL, atol=0, err_msg=k)


def public_functions(module) -> set[str]:
    return {name for name, obj in vars(module).items()
            if inspect.isfunction(obj) and obj.__module__ == module.__name__ and not name.startswith("_")}


def test_every_optimiser_and_schedule_has_golden_cases():
    named_optimisers = {"sgd", "adagrad", "rmsprop", "adam", "adamw"}
    assert named_optimisers <= {case["name"] for case in OPTIM}
    used_as_lr = {name for case in OPTIM if isinstance(case["kwargs"].get("lr"), dict)
                  for name in [case["kwargs"]["lr"]["name"]]}
    assert used_as_lr >= {"cosine_annealing", "exponential_lr", "one_cycle", "warmup_cosine", "step_lr",
                          "join_schedules"}
    assert public_functions(descent.schedules) <= {case["name"] for case in SCHEDULES}
    assert {"clip_grad_norm", "clip_by_value"} <= {case["name"] for case in CLIPPING}
