"""PyTorch as the oracle: the golden cases for ``descent.optim``, ``descent.schedules`` and ``descent.clipping``.

Every case is written once, below, as a *spec* ``{"id", "name", "kwargs"}`` naming a descent factory and its
keyword arguments; PyTorch's names, defaults and argument names are the same, so one spec also builds the
matching ``torch.optim`` optimiser, ``torch.optim.lr_scheduler`` scheduler or ``torch.nn.utils`` call. A
schedule given as a learning rate is itself a spec (``"lr": {"name": "cosine_annealing", "kwargs": {...}}``).

Run by hand when the cases or PyTorch change (needs ``torch==2.13.0``, CPU)::

    .venv/bin/python tests/golden/make_golden.py

It writes ``optim.json``, ``schedules.json`` and ``clipping.json`` next to this file. ``tests/test_golden.py``
replays them with descent (no torch needed) and ``tests/test_torch_live.py`` reuses the runners below on random
configurations. Everything is float64 and seeded; the optimiser cases store the gradient fed at every step and
the parameters after it, so descent replays exactly the same gradients.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

import descent.clipping
import descent.optim
import descent.schedules
from descent.base import apply_updates, step_in_place

HERE = Path(__file__).parent
STEPS = 60

TORCH_OPTIMIZERS = {"sgd": "SGD", "adagrad": "Adagrad", "rmsprop": "RMSprop", "adam": "Adam", "adamw": "AdamW"}
TORCH_SCHEDULERS = {
    "step_lr": "StepLR",
    "exponential_lr": "ExponentialLR",
    "linear_lr": "LinearLR",
    "cosine_annealing": "CosineAnnealingLR",
    "cosine_warm_restarts": "CosineAnnealingWarmRestarts",
    "one_cycle": "OneCycleLR",
}


def spec(id, name, **kwargs):
    return {"id": id, "name": name, "kwargs": kwargs}


def call(name, **kwargs):
    """A spec without an id: a schedule passed as lr, or a part of a join."""
    return {"name": name, "kwargs": kwargs}


def is_spec(value) -> bool:
    return isinstance(value, dict) and value.keys() == {"name", "kwargs"}


# ------------------------------------------------------------------------------------------------- the cases

OPTIM_CASES = [
    spec("sgd-defaults", "sgd"),
    spec("sgd-plain", "sgd", lr=0.1),
    spec("sgd-momentum", "sgd", lr=0.05, momentum=0.9),
    spec("sgd-momentum-dampening", "sgd", lr=0.05, momentum=0.9, dampening=0.5),
    spec("sgd-nesterov", "sgd", lr=0.05, momentum=0.9, nesterov=True),
    spec("sgd-weight_decay", "sgd", lr=0.1, weight_decay=0.1),
    spec("sgd-maximize", "sgd", lr=0.1, maximize=True),
    spec("sgd-momentum-dampening-weight_decay", "sgd", lr=0.05, momentum=0.5, dampening=0.1, weight_decay=0.05),
    spec("sgd-nesterov-weight_decay-maximize", "sgd", lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1,
         maximize=True),
    spec("sgd-momentum-cosine_annealing", "sgd", momentum=0.9,
         lr=call("cosine_annealing", lr=0.1, T_max=25, eta_min=0.001)),
    spec("adagrad-defaults", "adagrad"),
    spec("adagrad-plain", "adagrad", lr=0.1),
    spec("adagrad-lr_decay", "adagrad", lr=0.2, lr_decay=0.05),
    spec("adagrad-initial_accumulator_value", "adagrad", lr=0.1, initial_accumulator_value=0.5),
    spec("adagrad-weight_decay", "adagrad", lr=0.1, weight_decay=0.1),
    spec("adagrad-eps", "adagrad", lr=0.1, eps=0.1),
    spec("adagrad-maximize", "adagrad", lr=0.1, maximize=True),
    spec("adagrad-lr_decay-initial_accumulator_value-weight_decay", "adagrad", lr=0.2, lr_decay=0.01,
         initial_accumulator_value=0.1, weight_decay=0.05),
    spec("adagrad-exponential_lr", "adagrad", lr=call("exponential_lr", lr=0.3, gamma=0.97)),
    spec("rmsprop-defaults", "rmsprop"),
    spec("rmsprop-alpha", "rmsprop", lr=0.01, alpha=0.9),
    spec("rmsprop-eps", "rmsprop", lr=0.01, eps=0.01),
    spec("rmsprop-centered", "rmsprop", lr=0.01, centered=True),
    spec("rmsprop-momentum", "rmsprop", lr=0.005, momentum=0.9),
    spec("rmsprop-centered-momentum", "rmsprop", lr=0.005, alpha=0.95, momentum=0.8, centered=True),
    spec("rmsprop-weight_decay", "rmsprop", lr=0.01, weight_decay=0.1),
    spec("rmsprop-maximize", "rmsprop", lr=0.01, maximize=True),
    spec("rmsprop-centered-momentum-weight_decay-maximize", "rmsprop", lr=0.005, momentum=0.5, centered=True,
         weight_decay=0.05, maximize=True),
    spec("rmsprop-one_cycle", "rmsprop", momentum=0.5,
         lr=call("one_cycle", max_lr=0.02, total_steps=STEPS)),
    spec("adam-defaults", "adam"),
    spec("adam-plain", "adam", lr=0.05),
    spec("adam-amsgrad", "adam", lr=0.05, amsgrad=True),
    spec("adam-weight_decay", "adam", lr=0.05, weight_decay=0.1),
    spec("adam-betas", "adam", lr=0.05, betas=[0.5, 0.9]),
    spec("adam-eps", "adam", lr=0.05, eps=0.1),
    spec("adam-maximize", "adam", lr=0.05, maximize=True),
    spec("adam-amsgrad-weight_decay-betas-maximize", "adam", lr=0.05, betas=[0.8, 0.95], amsgrad=True,
         weight_decay=0.05, maximize=True),
    spec("adam-warmup_cosine", "adam",
         lr=call("warmup_cosine", lr=0.05, warmup_steps=10, total_steps=STEPS, warmup_start_factor=0.1,
                     eta_min=0.001)),
    spec("adamw-defaults", "adamw"),
    spec("adamw-plain", "adamw", lr=0.05),
    spec("adamw-amsgrad", "adamw", lr=0.05, amsgrad=True),
    spec("adamw-no_weight_decay", "adamw", lr=0.05, weight_decay=0.0),
    spec("adamw-weight_decay_0.1", "adamw", lr=0.05, weight_decay=0.1),
    spec("adamw-weight_decay_1", "adamw", lr=0.05, weight_decay=1.0),
    spec("adamw-betas-eps", "adamw", lr=0.05, betas=[0.7, 0.99], eps=1e-3),
    spec("adamw-amsgrad-weight_decay-maximize", "adamw", lr=0.05, amsgrad=True, weight_decay=0.5, maximize=True),
    spec("adamw-step_lr", "adamw", lr=call("step_lr", lr=0.05, step_size=15, gamma=0.5)),
    spec("adamw-join_schedules", "adamw",
         lr=call("join_schedules", milestones=[10],
                     schedules=[call("linear_lr", lr=0.05, start_factor=0.2, total_iters=10),
                                call("cosine_annealing", lr=0.05, T_max=STEPS - 10)])),
]

SCHEDULE_CASES = [
    (spec("constant", "constant", lr=0.1), 10),
    (spec("step_lr-defaults", "step_lr", lr=0.1, step_size=5), 20),
    (spec("step_lr-gamma", "step_lr", lr=0.5, step_size=3, gamma=0.5), 20),
    (spec("step_lr-step_size_1", "step_lr", lr=1.0, step_size=1, gamma=0.9), 20),
    (spec("exponential_lr", "exponential_lr", lr=0.1, gamma=0.9), 40),
    (spec("exponential_lr-gamma_1", "exponential_lr", lr=0.1, gamma=1.0), 5),
    (spec("linear_lr-defaults", "linear_lr", lr=0.1), 10),
    (spec("linear_lr-decay", "linear_lr", lr=0.1, start_factor=1.0, end_factor=0.1, total_iters=8), 15),
    (spec("linear_lr-to_zero", "linear_lr", lr=0.3, start_factor=0.5, end_factor=0.0, total_iters=10), 15),
    (spec("cosine_annealing", "cosine_annealing", lr=0.1, T_max=10), 45),
    (spec("cosine_annealing-eta_min", "cosine_annealing", lr=0.1, T_max=7, eta_min=0.01), 30),
    (spec("cosine_warm_restarts", "cosine_warm_restarts", lr=0.1, T_0=5), 30),
    (spec("cosine_warm_restarts-T_mult_2", "cosine_warm_restarts", lr=0.1, T_0=3, T_mult=2, eta_min=0.001), 50),
    (spec("cosine_warm_restarts-T_mult_3", "cosine_warm_restarts", lr=1.0, T_0=2, T_mult=3), 30),
    # OneCycleLR may be stepped total_steps times (the last lr extrapolates the final phase), no further
    (spec("one_cycle-defaults", "one_cycle", max_lr=0.1, total_steps=50), 51),
    (spec("one_cycle-linear", "one_cycle", max_lr=0.1, total_steps=40, anneal_strategy="linear"), 41),
    (spec("one_cycle-three_phase", "one_cycle", max_lr=1.0, total_steps=60, three_phase=True), 61),
    (spec("one_cycle-three_phase-linear-options", "one_cycle", max_lr=0.5, total_steps=45, pct_start=0.25,
          anneal_strategy="linear", div_factor=10.0, final_div_factor=100.0, three_phase=True), 46),
    (spec("warmup_cosine", "warmup_cosine", lr=0.1, warmup_steps=5, total_steps=30, warmup_start_factor=0.1), 31),
    (spec("warmup_cosine-eta_min", "warmup_cosine", lr=0.2, warmup_steps=10, total_steps=25,
          warmup_start_factor=0.01, eta_min=0.002), 26),
    (spec("join_schedules-linear-exponential", "join_schedules", milestones=[4],
          schedules=[call("linear_lr", lr=0.1, start_factor=0.1, total_iters=4),
                     call("exponential_lr", lr=0.1, gamma=0.9)]), 20),
    (spec("join_schedules-three", "join_schedules", milestones=[5, 12],
          schedules=[call("step_lr", lr=0.1, step_size=2, gamma=0.5),
                     call("linear_lr", lr=0.1, start_factor=0.5, total_iters=4),
                     call("cosine_annealing", lr=0.1, T_max=10, eta_min=0.01)]), 30),
]

_inf = math.inf
CLIP_NORM_CASES = [
    spec("l2-clipped", "clip_grad_norm", max_norm=1.0),
    spec("l2-unclipped", "clip_grad_norm", max_norm=100.0),
    spec("l1-clipped", "clip_grad_norm", max_norm=1.0, norm_type=1.0),
    spec("l1-unclipped", "clip_grad_norm", max_norm=100.0, norm_type=1.0),
    spec("linf-clipped", "clip_grad_norm", max_norm=0.5, norm_type=_inf),
    spec("linf-unclipped", "clip_grad_norm", max_norm=10.0, norm_type=_inf),
    spec("l3-clipped", "clip_grad_norm", max_norm=0.7, norm_type=3.0),
    spec("l0.5-clipped", "clip_grad_norm", max_norm=2.0, norm_type=0.5),
    spec("l2-zero_max_norm", "clip_grad_norm", max_norm=0.0),
]
CLIP_VALUE_CASES = [
    spec("value-0.5", "clip_by_value", clip_value=0.5),
    spec("value-10", "clip_by_value", clip_value=10.0),
    spec("value-0", "clip_by_value", clip_value=0.0),
]


# ---------------------------------------------------------------------------------------- shared helpers


def initial_params(seed: int = 0) -> dict[str, np.ndarray]:
    """The parameters every optimiser case starts from: a 3→2 linear layer."""
    rng = np.random.default_rng(seed)
    return {"w": rng.normal(size=(3, 2)), "b": rng.normal(size=2)}


def regression_grads(seed: int = 1, n: int = 5):
    r"""The gradient of :math:`L(\theta) = \frac{1}{2n}\|Xw + b - Y\|^2 + 0.1\sum\sin\theta`, a function of params.

    With ``maximize=True`` the optimisers are fed :math:`-\nabla L`, so they still walk downhill.
    """
    rng = np.random.default_rng(seed)
    X, Y = rng.normal(size=(n, 3)), rng.normal(size=(n, 2))

    def grad(params, maximize=False):
        residual = X @ params["w"] + params["b"] - Y
        g = {"w": X.T @ residual / n + 0.1 * np.cos(params["w"]),
             "b": residual.sum(axis=0) / n + 0.1 * np.cos(params["b"])}
        return {k: -v for k, v in g.items()} if maximize else g

    return grad


def base_lr(sched: dict) -> float:
    """The learning rate a schedule spec starts from, the one PyTorch reads from the optimiser."""
    kwargs = sched["kwargs"]
    if sched["name"] == "join_schedules":
        lrs = {base_lr(s) for s in kwargs["schedules"]}
        assert len(lrs) == 1, "PyTorch's SequentialLR shares one optimiser lr: give every part the same lr"
        return lrs.pop()
    return kwargs["max_lr"] / kwargs.get("div_factor", 25.0) if sched["name"] == "one_cycle" else kwargs["lr"]


# ------------------------------------------------------------------------------------ the descent side


def build(module, case: dict):
    """The descent object a spec describes: ``getattr(module, name)(**kwargs)``, schedules built on the way."""

    def value(v):
        if is_spec(v):
            return build(descent.schedules, v)
        if isinstance(v, list):  # JSON has no tuples: betas, milestones, or a list of schedules
            return [value(x) for x in v] if any(is_spec(x) for x in v) else tuple(v)
        return v

    return getattr(module, case["name"])(**{k: value(v) for k, v in case["kwargs"].items()})


def run_descent_optimizer(case: dict, params: dict, grads: list[dict], in_place: bool = False) -> list[dict]:
    """Replay ``grads`` through descent's optimiser in the user's loop (the pure pair, or ``step_in_place``);
    the parameters after each step."""
    opt = build(descent.optim, case)
    params = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    state = opt.init(params)
    trajectory = []
    for g in grads:
        g = {k: np.array(v, dtype=np.float64) for k, v in g.items()}
        if in_place:
            state = step_in_place(opt, g, state, params)
        else:
            updates, state = opt.update(g, state, params)
            params = apply_updates(params, updates)
        trajectory.append({k: v.copy() for k, v in params.items()})
    return trajectory


# ------------------------------------------------------------------------------------------- torch runners
# torch is imported inside the runners: test_golden.py and pytest's doctest collection import this file
# without torch (and importing torch costs seconds).


def torch_scheduler(opt, sched: dict):
    """The ``torch.optim.lr_scheduler`` object a schedule spec describes, driving ``opt``."""
    import torch

    lrs = torch.optim.lr_scheduler
    name, kwargs = sched["name"], dict(sched["kwargs"])
    kwargs.pop("lr", None)
    if name == "constant":
        return lrs.LambdaLR(opt, lambda e: 1.0)
    if name == "warmup_cosine":
        warmup, total = kwargs["warmup_steps"], kwargs["total_steps"]
        parts = [lrs.LinearLR(opt, kwargs["warmup_start_factor"], 1.0, total_iters=warmup),
                 lrs.CosineAnnealingLR(opt, T_max=total - warmup, eta_min=kwargs.get("eta_min", 0.0))]
        return lrs.SequentialLR(opt, parts, milestones=[warmup])
    if name == "join_schedules":
        parts = [torch_scheduler(opt, s) for s in kwargs["schedules"]]
        return lrs.SequentialLR(opt, parts, milestones=list(kwargs["milestones"]))
    if name == "one_cycle":  # descent schedules only the lr; PyTorch would also cycle momentum/beta1
        kwargs["cycle_momentum"] = False
    return getattr(lrs, TORCH_SCHEDULERS[name])(opt, **kwargs)


def torch_optimizer(case: dict, tensors: list, foreach: bool = False):
    """``(optimizer, scheduler or None)`` for an optimiser spec; a schedule as ``lr`` becomes a scheduler."""
    import torch

    kwargs = dict(case["kwargs"])
    sched = kwargs.get("lr")
    if is_spec(sched):
        kwargs["lr"] = base_lr(sched)
    if "betas" in kwargs:
        kwargs["betas"] = tuple(kwargs["betas"])
    opt = getattr(torch.optim, TORCH_OPTIMIZERS[case["name"]])(tensors, foreach=foreach, **kwargs)
    return opt, (torch_scheduler(opt, sched) if is_spec(sched) else None)


def run_torch_optimizer(case: dict, params: dict, grad_fn, steps: int, foreach: bool = False):
    """Run PyTorch for ``steps`` steps (``opt.step(); sched.step()``), feeding ``grad_fn(params, t)``.

    Returns ``(grads, params)``: the gradient fed at each step and the parameters after it, lists of dicts.
    """
    import torch

    tensors = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    opt, sched = torch_optimizer(case, list(tensors.values()), foreach)
    fed, trajectory = [], []
    for t in range(steps):
        grads = grad_fn({k: v.detach().numpy().copy() for k, v in tensors.items()}, t)
        for k, v in tensors.items():
            v.grad = torch.tensor(grads[k], dtype=torch.float64)
        opt.step()
        if sched is not None:
            sched.step()
        fed.append(grads)
        trajectory.append({k: v.detach().numpy().copy() for k, v in tensors.items()})
    return fed, trajectory


def torch_schedule(sched: dict, steps: int) -> list[float]:
    """The lr PyTorch's scheduler reports (``get_last_lr()``) after e = 0 … steps−1 ``scheduler.step()`` calls."""
    import torch

    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base_lr(sched))
    scheduler = torch_scheduler(opt, sched)
    lrs = [scheduler.get_last_lr()[0]]
    for _ in range(steps - 1):
        opt.step()  # no gradient, so a no-op; keeps PyTorch's "step the optimiser first" check quiet
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
    return [float(lr) for lr in lrs]


def torch_clip(case: dict, grads: dict, foreach: bool = False):
    """``(clipped grads, total norm or None)`` from ``clip_grad_norm_`` / ``clip_grad_value_`` on copies of grads."""
    import torch

    tensors = [torch.zeros(np.shape(g), dtype=torch.float64, requires_grad=True) for g in grads.values()]
    for tensor, g in zip(tensors, grads.values(), strict=True):
        tensor.grad = torch.tensor(g, dtype=torch.float64)
    kwargs = case["kwargs"]
    if case["name"] == "clip_by_value":
        torch.nn.utils.clip_grad_value_(tensors, foreach=foreach, **kwargs)
        total = None
    else:
        total = float(torch.nn.utils.clip_grad_norm_(tensors, foreach=foreach, **kwargs))
    return {k: t.grad.numpy().copy() for k, t in zip(grads, tensors, strict=True)}, total


# -------------------------------------------------------------------------------------- golden generation


def tolist(tree):
    if isinstance(tree, dict):
        return {k: tolist(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [tolist(v) for v in tree]
    return np.asarray(tree).tolist() if isinstance(tree, np.ndarray) else tree


CHECK_EVERY = 5


def optim_golden() -> list[dict]:
    cases = []
    params0 = initial_params()
    grad = regression_grads()
    for case in OPTIM_CASES:
        maximize = case["kwargs"].get("maximize", False)
        grads, trajectory = run_torch_optimizer(case, params0, lambda p, t, m=maximize: grad(p, m), STEPS)
        # foreach=True must agree: replay the same gradients through the multi-tensor implementation
        _, again = run_torch_optimizer(case, params0, lambda p, t, fed=grads: fed[t], STEPS, foreach=True)
        for a, b in zip(trajectory, again, strict=True):
            for k in a:
                np.testing.assert_allclose(b[k], a[k], rtol=1e-13, atol=0, err_msg=case["id"])
        # Every gradient is stored (descent replays them), the params only every CHECK_EVERY steps: enough to
        # see any drift over the whole run, at a third of the file size.
        checked = list(range(CHECK_EVERY, STEPS + 1, CHECK_EVERY))
        cases.append({**case, "params0": params0, "grads": grads, "checked_steps": checked,
                      "params": [trajectory[step - 1] for step in checked]})
    return cases


def schedules_golden() -> list[dict]:
    return [{**case, "lrs": torch_schedule(case, steps)}
            for case, steps in SCHEDULE_CASES]


def clip_grads(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"w": rng.normal(size=(3, 4)), "b": rng.normal(size=4), "v": rng.normal(scale=3.0, size=2)}


def clipping_golden() -> list[dict]:
    cases = []
    for i, case in enumerate(CLIP_NORM_CASES + CLIP_VALUE_CASES):
        grads = clip_grads(seed=i)
        clipped, total = torch_clip(case, grads)
        again, total_again = torch_clip(case, grads, foreach=True)
        assert total == total_again, case["id"]
        for k in clipped:
            np.testing.assert_array_equal(again[k], clipped[k], err_msg=case["id"])
        cases.append({**case, "grads": grads, "clipped": clipped, "total_norm": total})
    nonfinite = {"w": np.array([[1.0, np.inf], [0.5, -2.0]]), "b": np.array([0.1, 0.2])}
    clipped, total = torch_clip(spec("l2-nonfinite", "clip_grad_norm", max_norm=1.0), nonfinite)
    cases.append({**spec("l2-nonfinite", "clip_grad_norm", max_norm=1.0), "grads": nonfinite, "clipped": clipped,
                  "total_norm": total})
    raising = spec("l2-nonfinite-error", "clip_grad_norm", max_norm=1.0, error_if_nonfinite=True)
    try:
        torch_clip(raising, nonfinite)
    except RuntimeError:
        cases.append({**raising, "grads": nonfinite, "raises": True})
    else:
        raise AssertionError("PyTorch no longer raises on a nonfinite norm with error_if_nonfinite=True")
    return cases


def dumps(value, indent: int = 0) -> str:
    """JSON with one line per array or tree of arrays: readable, diffable, exact (``repr`` of each float)."""
    pad = " " * indent
    if isinstance(value, dict) and any(isinstance(v, dict | list) for v in value.values()) and not all(
            isinstance(v, list) for v in value.values()):
        items = [f'{pad} {json.dumps(k)}: {dumps(v, indent + 1).lstrip()}' for k, v in value.items()]
        return pad + "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and any(isinstance(v, dict) for v in value):
        return pad + "[\n" + ",\n".join(dumps(v, indent + 1) for v in value) + "\n" + pad + "]"
    return pad + json.dumps(value, separators=(",", ":"))


def write(filename: str, cases: list[dict]) -> None:
    import torch

    meta = {"generated_by": "tests/golden/make_golden.py", "torch": torch.__version__, "numpy": np.__version__,
            "dtype": "float64"}
    text = dumps({"meta": meta, "cases": tolist(cases)}) + "\n"
    (HERE / filename).write_text(text)
    print(f"{filename}: {len(cases)} cases, {len(text) / 1e3:.0f} kB")


def main() -> None:
    write("optim.json", optim_golden())
    write("schedules.json", schedules_golden())
    write("clipping.json", clipping_golden())


if __name__ == "__main__":
    main()
