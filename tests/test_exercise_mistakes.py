"""The common mistakes of each exercise, the partial score each one earns, and the hint that names it.

Each mistaken submission is the student version answered with the solutions, one answer edited the way a learner
gets it wrong. The whole set is graded like a class, through the grader (answers in the sandboxed process, tests in
the trusted harness). One mistake fails the test cells of its idea only (value, gradient, types, inputs untouched, an
edge case, ...), so it costs those points and no others, and each failing cell's message names the mistake.
"""

from __future__ import annotations

import io
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

from descent_grading import roundtrip
from descent_grading.grade import grade_class

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mistake:
    exercise: str
    answer: str  # the grade_id of the answer cell the learner got wrong
    what: str  # the mistake, in the words of the hint a learner should read
    edits: tuple[tuple[str, str], ...]  # (text of the solution, what the learner wrote instead)
    score: float  # the points the submission earns
    fails: dict[str, str] = field(default_factory=dict)  # failing test cell -> a phrase its message must contain


L1 = "01_loss_functions"
MISTAKES = [
    # Exercise 1: 25 points, 5 per loss (value, gradient, types, untouched, edges).
    Mistake(L1, "mse", "a sum instead of a mean", (("np.mean(error**2)", "np.sum(error**2)"),), 24,
            {"test_mse_value": "n = 2 times too large: did you forget to divide by n?"}),
    Mistake(L1, "mse", "the gradient without 1/n", (("2.0 * error / error.size", "2.0 * error"),), 24,
            {"test_mse_gradient": "n = 3 times too large: did you forget to divide by n?"}),
    Mistake(L1, "mse", "the gradient without the factor 2", (("2.0 * error / error.size", "error / error.size"),),
            24, {"test_mse_gradient": "half the right answer: did you drop a factor 2?"}),
    Mistake(L1, "mse", "the error as y − ŷ", (("2.0 * error /", "-2.0 * error /"),), 24,
            {"test_mse_gradient": "the wrong sign"}),
    Mistake(L1, "mse", "subtracting in place",
            (("error = np.asarray(pred, dtype=float) - np.asarray(target, dtype=float)",
              "pred -= target\n    error = np.asarray(pred, dtype=float)"),), 24,
            {"test_mse_untouched": "changed its argument 1 in place"}),
    Mistake(L1, "mse", "a list for the gradient",
            (("2.0 * error / error.size", "(2.0 * error / error.size).tolist()"),), 24,
            {"test_mse_types": "must be a float NumPy array, got list"}),
    Mistake(L1, "mae", "the gradient as error / |error|", (("np.sign(error)", "error / np.abs(error)"),), 24,
            {"test_mae_edges": "not ±1/n and not 0/0"}),
    Mistake(L1, "mae", "the gradient as the error itself", (("np.sign(error) / error.size", "error / error.size"),),
            24, {"test_mae_gradient": "the gradient of |e| is sign(e)"}),
    Mistake(L1, "mae", "|e| as sqrt(e²)", (("np.mean(np.abs(error))", "np.mean(np.sqrt(error**2))"),), 24,
            {"test_mae_edges": "sqrt(e**2) overflows: use np.abs"}),
    Mistake(L1, "binary_cross_entropy_with_logits", "sigmoid, then the log of probabilities",
            (("loss = np.maximum(z, 0.0) - z * y + np.log1p(np.exp(-np.abs(z)))",
              "q = 1 / (1 + np.exp(-z))\n    loss = -(y * np.log(q) + (1 - y) * np.log(1 - q))"),), 24,
            {"test_bce_edges": "σ(40) rounds to exactly 1"}),
    Mistake(L1, "binary_cross_entropy_with_logits", "log10, and probabilities first",
            (("loss = np.maximum(z, 0.0) - z * y + np.log1p(np.exp(-np.abs(z)))",
              "q = 1 / (1 + np.exp(-z))\n    loss = -(y * np.log10(q) + (1 - y) * np.log10(1 - q))"),), 23,
            {"test_bce_value": "did you use np.log10?", "test_bce_edges": "must be finite"}),
    Mistake(L1, "binary_cross_entropy_with_logits", "the gradient as y − σ(z)", (("(p - y) /", "(y - p) /"),), 24,
            {"test_bce_gradient": "the wrong sign"}),
    Mistake(L1, "cross_entropy", "no shift by the row maximum",
            (("shifted = z - z.max(axis=1, keepdims=True)", "shifted = z"),), 24,
            {"test_ce_edges": "subtract each row's maximum"}),
    Mistake(L1, "cross_entropy", "a mean over all n·C logits",
            (("float(-np.sum(onehot * log_p) / n)", "float(-np.sum(onehot * log_p) / (n * C))"),), 24,
            {"test_ce_value": "average over the n samples"}),
    Mistake(L1, "cross_entropy", "the gradient p / n without the one-hot",
            (("(np.exp(log_p) - onehot) / n", "np.exp(log_p) / n"),), 24,
            {"test_ce_gradient": "subtract the one-hot rows"}),
    Mistake(L1, "hinge", "the gradient without y", (("np.where(active, -y, 0.0)", "np.where(active, -1.0, 0.0)"),),
            24, {"test_hinge_gradient": "label −1 gives +1/n"}),
    Mistake(L1, "hinge", "the slope at the kink", (("active = gap > 0", "active = gap >= 0"),), 24,
            {"test_hinge_edges": "use > 0, not >= 0"}),
    # Found by a review as a learner: a mean over the rows of a 2-D input, np.log of the softmax, a warning.
    Mistake(L1, "mse", "the gradient over len(pred), the rows",
            (("2.0 * error / error.size", "2.0 * error / len(error)"),), 24,
            {"test_mse_gradient": "you divided by len(pred) = 4, the number of rows"}),
    Mistake(L1, "mae", "the mean over len(pred), the rows",
            (("return float(np.mean(np.abs(error))), np.sign(error) / error.size",
              "return float(np.sum(np.abs(error)) / len(error)), np.sign(error) / len(error)"),), 23,
            {"test_mae_value": "you divided by len(pred) = 3", "test_mae_gradient": "you divided by len(pred) = 3"}),
    Mistake(L1, "binary_cross_entropy_with_logits", "a sigmoid by np.where, which warns of overflow (right numbers)",
            (("p = np.exp(-np.logaddexp(0.0, -z))",
              "p = np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))"),), 24,
            {"test_bce_edges": "RuntimeWarning: overflow encountered in exp"}),
    Mistake(L1, "cross_entropy", "np.log of the softmax, after the shift",
            (("log_p = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))",
              "log_p = np.log(np.exp(shifted) / np.sum(np.exp(shifted), axis=1, keepdims=True))"),), 24,
            {"test_ce_edges": "not np.log(softmax), −inf where p rounds to 0"}),
    Mistake(L1, "mse", "the gradient in np.zeros_like(pred), integers for integer input",
            (("return float(np.mean(error**2)), 2.0 * error / error.size",
              "grad = np.zeros_like(pred)\n    grad[...] = 2.0 * error / error.size\n"
              "    return float(np.mean(error**2)), grad"),),
            24, {"test_mse_edges": "np.zeros_like of an integer array holds integers"}),
    Mistake(L1, "hinge", "the gradient in np.zeros_like(pred), integers for integer input",
            (("return float(np.mean(np.where(active, gap, 0.0))), np.where(active, -y, 0.0) / score.size",
              "grad = np.zeros_like(pred)\n    grad[active] = -target[active] / pred.size\n"
              "    return float(np.mean(np.where(active, gap, 0.0))), grad"),), 24,
            {"test_hinge_edges": "np.zeros_like of an integer array holds integers"}),
    Mistake(L1, "binary_cross_entropy_with_logits", "right: ln(1 + e^z) − z y by np.logaddexp",
            (("loss = np.maximum(z, 0.0) - z * y + np.log1p(np.exp(-np.abs(z)))",
              "loss = np.logaddexp(0.0, z) - z * y"),), 25),
    Mistake(L1, "cross_entropy", "right: −ln p of the correct class by fancy indexing",
            (("float(-np.sum(onehot * log_p) / n)", "float(-np.mean(log_p[np.arange(n), target]))"),), 25),
    Mistake(L1, "hinge", "right: np.maximum and a boolean mask",
            (("return float(np.mean(np.where(active, gap, 0.0))), np.where(active, -y, 0.0) / score.size",
              "return float(np.mean(np.maximum(0, gap))), -y * active / score.size"),), 25),
]


L2 = "02_gradient_descent"
MISTAKES += [
    # Exercise 2: 17 points; (a) values 2, shapes 1, untouched 1; (b) last row, rows, shapes, calls; (c) gradient,
    # least squares, uses gradient_descent, returns; (d) right gradients, wrong factors, wrong directions, every
    # scale, returns (graded with a correct numerical_grad, so a mistake in (a) costs nothing there).
    Mistake(L2, "numerical_grad", "a one-sided difference",
            (("(f(x + step) - f(x - step)) / (2 * eps)", "(f(x + step) - f(x)) / eps"),), 15,
            {"test_numerical_grad_values": "that is the one-sided"}),
    Mistake(L2, "numerical_grad", "dividing by eps", (("/ (2 * eps)", "/ eps"),), 15,
            {"test_numerical_grad_values": "divide by 2·eps"}),
    Mistake(L2, "numerical_grad", "shifting x in place, then restoring it",
            (("x = np.array(x, dtype=float)  # a float copy: the caller's x is never touched",
              "x = np.asarray(x, dtype=float)"),
             ("step = np.zeros_like(x)\n        step[i] = eps\n"
              "        grad[i] = (f(x + step) - f(x - step)) / (2 * eps)",
              "x[i] += eps\n        up = f(x)\n        x[i] -= 2 * eps\n        down = f(x)\n        x[i] += eps\n"
              "        grad[i] = (up - down) / (2 * eps)")), 16,
            {"test_numerical_grad_untouched": "in place"}),
    Mistake(L2, "gradient_descent", "aliased rows",
            (("theta = theta - lr * grad_f(theta)", "theta -= lr * grad_f(theta)"),), 16,
            {"test_gradient_descent_rows": "every row is the last point"}),
    Mistake(L2, "gradient_descent", "the start left out", (("path = [theta]", "path = []"),), 15,
            {"test_gradient_descent_rows": "the rows are one step late",
             "test_gradient_descent_shapes": "the start x0 first"}),
    Mistake(L2, "gradient_descent", "a step up the gradient", (("theta - lr * grad_f", "theta + lr * grad_f"),), 15,
            {"test_gradient_descent_last": "subtract the gradient", "test_gradient_descent_rows": "row 0 is x0"}),
    Mistake(L2, "fit_line", "the MSE's gradient without its factor 2", (("return 2 * np.array(", "return np.array("),),
            16, {"test_fit_line_gradient": "half the right answer: did you drop a factor 2?"}),
    Mistake(L2, "fit_line", "a loop of its own instead of gradient_descent",
            (("slope, intercept = gradient_descent(grad, np.zeros(2), lr, steps)[-1]",
              "theta = np.zeros(2)\n    for _ in range(steps):\n        theta = theta - lr * grad(theta)\n"
              "    slope, intercept = theta"),), 16,
            {"test_fit_line_uses_gradient_descent": "called gradient_descent 0 times"}),
    Mistake(L2, "gradient_is_right", "an absolute tolerance",
            (("bool(error < 1e-6 * (np.linalg.norm(analytic) + np.linalg.norm(numeric)))",
              "bool(np.all(np.abs(analytic - numeric) < 1e-6))"),), 16,
            {"test_gradient_is_right_scale": "an absolute tolerance such as |g_a − g_n| < 1e-6 fails"}),
    Mistake(L2, "gradient_is_right", "np.allclose with its default tolerances",
            (("bool(error < 1e-6 * (np.linalg.norm(analytic) + np.linalg.norm(numeric)))",
              "np.allclose(analytic, numeric)"),), 16,
            {"test_gradient_is_right_scale": "np.allclose's default atol = 1e-8"}),
    Mistake(L2, "gradient_is_right", "the lengths compared, not the vectors",
            (("np.linalg.norm(analytic - numeric)", "abs(np.linalg.norm(analytic) - np.linalg.norm(numeric))"),), 16,
            {"test_gradient_is_right_directions": "compare the vectors, ‖g_a − g_n‖, not their lengths"}),
    Mistake(L2, "gradient_is_right", "a threshold of 5 %", (("error < 1e-6 *", "error < 0.05 *"),), 16,
            {"test_gradient_is_right_factors": "is your threshold too loose?"}),
    Mistake(L2, "gradient_is_right", "an array of one bool instead of a bool",
            (("return bool(error < 1e-6 * (np.linalg.norm(analytic) + np.linalg.norm(numeric)))",
              "return np.array([error < 1e-6 * (np.linalg.norm(analytic) + np.linalg.norm(numeric))])"),), 16,
            {"test_gradient_is_right_returns": "must return True or False, got array"}),
    # Found by a review as a learner.
    Mistake(L2, "numerical_grad", "eps scaled by |x_i|",
            (("step[i] = eps\n        grad[i] = (f(x + step) - f(x - step)) / (2 * eps)",
              "h = eps * max(1.0, abs(x[i]))\n        step[i] = h\n"
              "        grad[i] = (f(x + step) - f(x - step)) / (2 * h)"),),
            15, {"test_numerical_grad_values": "you scaled eps by |x_i|"}),
    Mistake(L2, "gradient_descent", "only the end point returned", (("return np.array(path)", "return theta"),), 15,
            {"test_gradient_descent_rows": "expected shape (4, 2) but got shape (2,)",
             "test_gradient_descent_shapes": "return every point, not only the last"}),
    Mistake(L2, "gradient_descent", "one step too few", (("range(steps)", "range(steps - 1)"),), 15,
            {"test_gradient_descent_last": "that is two steps", "test_gradient_descent_shapes": "got shape (3, 2)"}),
    Mistake(L2, "gradient_descent", "one step too many", (("range(steps)", "range(steps + 1)"),), 15,
            {"test_gradient_descent_last": "that is four steps", "test_gradient_descent_shapes": "got shape (5, 2)"}),
    Mistake(L2, "gradient_descent", "grad_f called twice per step",
            (("theta = theta - lr * grad_f(theta)", "grad_f(theta)\n        theta = theta - lr * grad_f(theta)"),), 16,
            {"test_gradient_descent_calls": "called grad_f 6 times, expected 3"}),
    Mistake(L2, "fit_line", "a numerical gradient instead of the one derived by hand",
            (("slope, intercept = gradient_descent(grad, np.zeros(2), lr, steps)[-1]",
              "mse = lambda s: np.mean((s[0] * x + s[1] - y) ** 2)\n    slope, intercept = "
              "gradient_descent(lambda t: numerical_grad(mse, t), np.zeros(2), lr, steps)[-1]"),),
            16, {"test_fit_line_gradient": "a numerical one is off by about 1e-10"}),
    Mistake(L2, "gradient_descent", "right: np.asarray of an integer start, floats from the first step on",
            (("theta = np.array(x0, dtype=float)", "theta = np.asarray(x0)"),), 17),
]


L3 = "03_learning_rate"
MISTAKES += [
    # Exercise 3: 13 points, 1 per idea; (a) value, types, untouched, bad input; (b) nan, infinities, the factor
    # rule, types, no losses; (c) below the limit, progress (loss < 1e-4), the target TOL, repeatable.
    Mistake(L3, "stability_limit", "the limit taken as 1/λ_max", (("float(2.0 / eigenvalues[-1])",
                                                                  "float(1.0 / eigenvalues[-1])"),), 12,
            {"test_stability_limit_value": "that is 1 / λ_max: the limit is 2 / λ_max"}),
    Mistake(L3, "stability_limit", "λ_min instead of λ_max", (("float(2.0 / eigenvalues[-1])",
                                                              "float(2.0 / eigenvalues[0])"),), 12,
            {"test_stability_limit_value": "that is 2 / λ_min"}),
    Mistake(L3, "stability_limit", "the diagonal taken for the eigenvalues",
            (("float(2.0 / eigenvalues[-1])", "float(2.0 / np.max(np.diag(A)))"),), 12,
            {"test_stability_limit_value": "the diagonal of a rotated matrix is not its eigenvalues"}),
    Mistake(L3, "stability_limit", "symmetry checked with ==", (("not np.allclose(A, A.T)", "not np.all(A == A.T)"),),
            12, {"test_stability_limit_value": "check symmetry with np.allclose(A, A.T), not =="}),
    Mistake(L3, "has_diverged", "inf missed: np.isnan instead of np.isfinite",
            (("not np.all(np.isfinite(losses))", "np.any(np.isnan(losses))"),), 12,
            {"test_has_diverged_inf": "np.isnan does not see inf"}),
    Mistake(L3, "has_diverged", "nan missed: np.isinf instead of np.isfinite",
            (("not np.all(np.isfinite(losses))", "np.any(np.isinf(losses))"),), 12,
            {"test_has_diverged_nan": "nan > anything is False"}),
    Mistake(L3, "has_diverged", ">= instead of >", (("losses[-1] > factor", "losses[-1] >= factor"),), 12,
            {"test_has_diverged_factor": "strictly greater"}),
    Mistake(L3, "has_diverged", "a NumPy array of one bool instead of a bool",
            (("return bool(not np.all(np.isfinite(losses)) or losses[-1] > factor * losses[0])",
              "return np.array([not np.all(np.isfinite(losses)) or losses[-1] > factor * losses[0]])"),), 12,
            {"test_has_diverged_types": "must return True or False"}),
    Mistake(L3, "choose_learning_rate", "α = 1/L, too slow for the flat direction",
            (("float(2.0 / (mu + L))", "float(1.0 / L)"),), 12,
            {"test_choose_learning_rate_tol": "raise lr"}),
    Mistake(L3, "choose_learning_rate", "α = 1/(2L), far too slow", (("float(2.0 / (mu + L))", "float(0.5 / L)"),),
            11, {"test_choose_learning_rate_progress": "raise lr", "test_choose_learning_rate_tol": "raise lr"}),
    # Found by a review as a learner.
    Mistake(L3, "stability_limit", "no check that A is 2-D",
            (("if A.ndim != 2 or A.shape[0] != A.shape[1] or A.shape[0] == 0:", "if A.shape[0] != A.shape[1]:"),), 12,
            {"test_stability_limit_invalid": "raised IndexError; raise ValueError: A is not a matrix"}),
    Mistake(L3, "stability_limit", "right: positive definiteness by np.linalg.cholesky (LinAlgError is a ValueError)",
            (("    eigenvalues = np.linalg.eigvalsh(A)\n",
              "    np.linalg.cholesky(A)\n    eigenvalues = np.linalg.eigvalsh(A)\n"),), 13),
    Mistake(L3, "has_diverged", "`if not losses`, which fails for an array",
            (("    losses = np.asarray(losses, dtype=float)\n    if losses.size == 0:", "    if not losses:"),), 12,
            {"test_has_diverged_types": "`if not losses` fails for arrays"}),
    Mistake(L3, "choose_learning_rate", "0.99 × the stability limit",
            (("float(2.0 / (mu + L))", "float(0.99 * 2 / L)"),), 11,
            {"test_choose_learning_rate_progress": "lower lr a little",
             "test_choose_learning_rate_tol": "lower lr a little"}),
]


L4 = "04_sgd_variants"
MISTAKES += [
    # Exercise 4: 16 points; (d) the experiment, graded by running it (3 points).
    Mistake(L4, "choose_momentum", "no momentum, the best plain step", (("return float(lr), float(momentum)",
                                                                        "return 2.0 / 101.0, 0.0"),), 14,
            {"test_choose_momentum_run": "without momentum no step size is fast enough here"}),
    Mistake(L4, "choose_momentum", "momentum 0.9 with α = 1/L", (("return float(lr), float(momentum)",
                                                                 "return 0.01, 0.9"),), 14,
            {"test_choose_momentum_run": "Polyak's"}),
    Mistake(L4, "choose_momentum", "a step beyond the stability limit", (("return float(lr), float(momentum)",
                                                                          "return 0.05, 0.0"),), 13,
            {"test_choose_momentum_visible": "diverges", "test_choose_momentum_run": "the run diverged"}),
    # Exercise 4 (a)-(c): 13 points, one per idea; (a) sizes, shuffle, generator, errors; (b) heavy ball, dampening,
    # Nesterov, weight decay, inputs; (c) average, step, ε, inputs.
    Mistake(L4, "minibatch_indices", "sampling with replacement",
            (("order = rng.permutation(n)", "order = rng.integers(0, n, size=n)"),), 15,
            {"test_minibatch_indices_order": "shuffle without replacement"}),
    Mistake(L4, "minibatch_indices", "the last, short batch dropped",
            (("range(0, n, batch_size)", "range(0, n - batch_size + 1, batch_size)"),), 15,
            {"test_minibatch_indices_sizes": "the last, smaller batch is missing"}),
    Mistake(L4, "minibatch_indices", "a generator of its own with a fixed seed",
            (("order = rng.permutation(n)", "order = np.random.default_rng(0).permutation(n)"),), 15,
            {"test_minibatch_indices_generator": "use the rng you are given"}),
    Mistake(L4, "minibatch_indices", "each batch sorted",
            (("[order[start:start + batch_size] for", "[np.sort(order[start:start + batch_size]) for"),), 15,
            {"test_minibatch_indices_order": "you sorted each batch"}),
    Mistake(L4, "momentum_step", "the buffer as an average, (1 − β) g",
            (("+ (1 - dampening) * grads", "+ (1 - momentum) * grads"),), 14,
            {"test_momentum_step_heavy_ball": "PyTorch's buffer has no (1 − β) factor",
             "test_momentum_step_dampening": "you dampened by (1 − β) whatever the dampening"}),
    Mistake(L4, "momentum_step", "a buffer that starts at 0",
            (("new_buf = grads\n", "new_buf = (1 - dampening) * grads\n"),), 15,
            {"test_momentum_step_dampening": "PyTorch does not dampen the first step"}),
    Mistake(L4, "momentum_step", "Nesterov along the buffer", (("grads + momentum * new_buf if nesterov else new_buf",
                                                               "new_buf"),), 15,
            {"test_momentum_step_nesterov": "with nesterov=True step along g1 + β b1"}),
    Mistake(L4, "momentum_step", "Nesterov with the previous buffer",  # right on the first step: a hidden test
            (("grads + momentum * new_buf if nesterov",
              "grads + momentum * (new_buf if buf is None else np.asarray(buf, dtype=float)) if nesterov"),), 15,
            {"test_momentum_step_nesterov": "you stepped along the buffer you return"}),
    Mistake(L4, "momentum_step", "weight decay after the momentum",
            (("    grads = grads + weight_decay * params  # a new array: the caller's grads stay as they were\n", ""),
             ("return params - lr * grads, None", "return params - lr * (grads + weight_decay * params), None"),
             ("return params - lr * direction, new_buf",
              "return params - lr * (direction + weight_decay * params), new_buf")), 15,
            {"test_momentum_step_weight_decay": "you added λθ after the momentum"}),
    Mistake(L4, "momentum_step", "the buffer updated in place",
            (("new_buf = momentum * np.asarray(buf, dtype=float) + (1 - dampening) * grads",
              "buf *= momentum\n        buf += (1 - dampening) * grads\n        new_buf = buf"),), 15,
            {"test_momentum_step_inputs": "changed its argument 3 in place"}),
    Mistake(L4, "rmsprop_step", "ε inside the square root",
            (("np.sqrt(new_avg) + eps", "np.sqrt(new_avg + eps)"),), 15,
            {"test_rmsprop_step_eps": "eps goes OUTSIDE the square root"}),
    Mistake(L4, "rmsprop_step", "the square of the average",
            (("alpha * square_avg + (1 - alpha) * grads**2", "(alpha * square_avg + (1 - alpha) * grads) ** 2"),), 15,
            {"test_rmsprop_step_average": "you squared the average"}),
    Mistake(L4, "rmsprop_step", "α and lr swapped",
            (("alpha * square_avg + (1 - alpha) * grads**2", "lr * square_avg + (1 - lr) * grads**2"),
             ("params - lr * grads", "params - alpha * grads")), 14,
            {"test_rmsprop_step_average": "that is lr used as the decay",
             "test_rmsprop_step_step": "that is alpha used as the step size"}),
    Mistake(L4, "rmsprop_step", "the average updated in place",
            (("new_avg = alpha * square_avg + (1 - alpha) * grads**2",
              "square_avg *= alpha\n    square_avg += (1 - alpha) * grads**2\n    new_avg = square_avg"),), 15,
            {"test_rmsprop_step_inputs": "changed its argument 3 in place"}),
    # Found by a review as a learner.
    Mistake(L4, "minibatch_indices", "np.array_split into ceil(n / B) batches",
            (("return [order[start:start + batch_size] for start in range(0, n, batch_size)]",
              "return np.array_split(order, -(-n // batch_size))"),), 15,
            {"test_minibatch_indices_sizes": "np.array_split spreads the remainder"}),
    Mistake(L4, "momentum_step", "params updated in place", (("return params - lr * direction, new_buf",
                                                              "params -= lr * direction\n    return params, new_buf"),),
            15, {"test_momentum_step_inputs": "changed its argument 1 in place"}),
    Mistake(L4, "momentum_step", "the decay added to grads in place",
            (("grads = grads + weight_decay * params  #", "grads += weight_decay * params  #"),), 15,
            {"test_momentum_step_inputs": "changed its argument 2 in place"}),
    Mistake(L4, "momentum_step", "the gradient as the buffer when momentum = 0",
            (("return params - lr * grads, None", "return params - lr * grads, grads"),), 15,
            {"test_momentum_step_heavy_ball": "return new_buf = None when momentum = 0"}),
]


L5 = "05_adam"
MISTAKES += [
    # Exercise 5: 16 points; (a) ema, debias, untouched, bad input; (b) bias correction, moments, eps, untouched,
    # bad input; (c) decay, moments, untouched, bad input (with descent's Adam step, so (b)'s mistakes stay in (b));
    # (d) the settings that retrace a path on c × the loss, graded by running both paths.
    Mistake(L5, "ema_debias", "the weights of the average swapped",
            (("return decay * np.asarray(average, dtype=float) + (1.0 - decay) * np.asarray(",
              "return (1.0 - decay) * np.asarray(average, dtype=float) + decay * np.asarray("),), 15,
            {"test_ema": "you swapped the weights"}),
    Mistake(L5, "ema_debias", "the correction with t counted from 0",
            (("/ (1.0 - decay**t)", "/ (1.0 - decay ** (t - 1))"),), 15,
            {"test_debias": "1 - decay**0 = 0"}),
    Mistake(L5, "ema_debias", "the average updated in place",
            (("return decay * np.asarray(average, dtype=float) + (1.0 - decay) * np.asarray(\n"
              "        value, dtype=float\n    )",
              "average = np.asarray(average, dtype=float)\n    average *= decay\n"
              "    average += (1.0 - decay) * np.asarray(value, dtype=float)\n    return average"),), 15,
            {"test_ema_untouched": "changed its argument 1 in place"}),
    Mistake(L5, "adam_step", "no bias correction",
            (("m_hat = new_m / (1.0 - beta1**t)", "m_hat = new_m"),
             ("v_hat = new_v / (1.0 - beta2**t)", "v_hat = new_v")), 15,
            {"test_adam_bias_correction": "did you forget the bias correction?"}),
    Mistake(L5, "adam_step", "the correction with t counted from 0",
            (("m_hat = new_m / (1.0 - beta1**t)", "m_hat = new_m / (1.0 - beta1 ** (t - 1))"),
             ("v_hat = new_v / (1.0 - beta2**t)", "v_hat = new_v / (1.0 - beta2 ** (t - 1))")), 15,
            {"test_adam_bias_correction": "t counts from 1"}),
    Mistake(L5, "adam_step", "eps inside the square root", (("np.sqrt(v_hat) + eps", "np.sqrt(v_hat + eps)"),), 15,
            {"test_adam_eps": "you added eps inside the square root"}),
    Mistake(L5, "adam_step", "eps added before the bias correction",
            (("np.sqrt(v_hat) + eps", "(np.sqrt(new_v) + eps) / np.sqrt(1.0 - beta2**t)"),), 15,
            {"test_adam_bias_correction": "you added eps to sqrt(v) before the bias correction"}),
    Mistake(L5, "adam_step", "beta1 and beta2 swapped", (("beta1, beta2 = betas", "beta2, beta1 = betas"),), 14,
            {"test_adam_moments": "you swapped beta1 and beta2", "test_adam_bias_correction": "you swapped beta1"}),
    Mistake(L5, "adam_step", "m averaging g²", (("+ (1.0 - beta1) * grads\n", "+ (1.0 - beta1) * grads**2\n"),), 14,
            {"test_adam_moments": "m averages the gradient, not its square", "test_adam_bias_correction": "lr·|g|"}),
    Mistake(L5, "adam_step", "the moments updated in place",
            (("new_m = beta1 * np.asarray(m, dtype=float) + (1.0 - beta1) * grads",
              "new_m = np.asarray(m, dtype=float)\n    new_m *= beta1\n    new_m += (1.0 - beta1) * grads"),), 15,
            {"test_adam_untouched": "changed its argument 3 in place"}),
    Mistake(L5, "adam_step", "t = 0 accepted", (("    if t < 1:\n        raise ValueError(f\"t={t!r}: Adam counts "
                                                 "steps from 1.\")\n", ""),), 15,
            {"test_adam_raises": "t counts from 1"}),
    Mistake(L5, "adamw_step", "the decay added to the gradient (Adam's L2)",
            (("decayed = np.asarray(params, dtype=float) * (1.0 - lr * weight_decay)\n"
              "    return adam_step(decayed, grads, m, v, t, lr=lr, betas=betas, eps=eps)",
              "grads = np.asarray(grads, dtype=float) + weight_decay * np.asarray(params, dtype=float)\n"
              "    return adam_step(params, grads, m, v, t, lr=lr, betas=betas, eps=eps)"),), 14,
            {"test_adamw_decay": "Adam's L2 penalty", "test_adamw_moments": "Adam's L2 penalty"}),
    Mistake(L5, "adamw_step", "the decay not multiplied by lr",
            (("(1.0 - lr * weight_decay)", "(1.0 - weight_decay)"),), 15,
            {"test_adamw_decay": "you multiplied by (1 - weight_decay)"}),
    Mistake(L5, "scaled_settings", "eps left as it is",
            (('new["eps"] = settings["eps"] * c', 'new["eps"] = settings["eps"]'),), 15,
            {"test_scaled_adam": "multiply eps by c"}),
    Mistake(L5, "scaled_settings", "SGD's lr left as it is",
            (('new["lr"] = settings["lr"] / c', 'new["lr"] = settings["lr"]'),), 15,
            {"test_scaled_sgd": "divide lr by c"}),
    Mistake(L5, "scaled_settings", "Adam's L2 penalty left as it is",
            (('if optimizer in ("sgd", "adam"):', 'if optimizer == "sgd":'),), 15,
            {"test_scaled_decay": "multiply weight_decay by c"}),
    Mistake(L5, "scaled_settings", "AdamW's decay scaled too",
            (('if optimizer in ("sgd", "adam"):', 'if optimizer in ("sgd", "adam", "adamw"):'),), 15,
            {"test_scaled_decay": "AdamW's decay θ(1 - lr·λ) never sees"}),
    Mistake(L5, "adam_step", "t counted again inside: t = t + 1",
            (("    grads = np.asarray(grads, dtype=float)\n",
              "    t = t + 1\n    grads = np.asarray(grads, dtype=float)\n"),), 15,
            {"test_adam_bias_correction": "the correction uses t + 1"}),
    Mistake(L5, "adam_step", "m_hat and v_hat returned as the moments",
            (("return new_params, new_m, new_v", "return new_params, m_hat, v_hat"),), 14,
            {"test_adam_bias_correction": "you returned m_hat and v_hat", "test_adam_moments": "that is m_hat"}),
    Mistake(L5, "adamw_step", "the decay applied after Adam's step, to the new params",
            (("decayed = np.asarray(params, dtype=float) * (1.0 - lr * weight_decay)\n"
              "    return adam_step(decayed, grads, m, v, t, lr=lr, betas=betas, eps=eps)",
              "new, m, v = adam_step(params, grads, m, v, t, lr=lr, betas=betas, eps=eps)\n"
              "    return new * (1.0 - lr * weight_decay), m, v"),), 15,
            {"test_adamw_decay": "you decayed after Adam's step"}),
    Mistake(L5, "scaled_settings", "AdamW's eps left as it is",
            (('    else:\n        new["eps"] = settings["eps"] * c',
              '    elif optimizer == "adam":\n        new["eps"] = settings["eps"] * c'),), 15,
            {"test_scaled_adam": "multiply eps by c"}),
    Mistake(L5, "scaled_settings", "eps scaled by sqrt(c)",
            (('new["eps"] = settings["eps"] * c', 'new["eps"] = settings["eps"] * c**0.5'),), 15,
            {"test_scaled_adam": "not sqrt(c)"}),
    Mistake(L5, "scaled_settings", "the settings changed in place", (("new = dict(settings)", "new = settings"),), 15,
            {"test_scaled_adam": "changed its argument 2 in place"}),
    Mistake(L5, "adam_step", "a beta of 0 rejected", (("0.0 <= beta1 < 1.0 and 0.0 <= beta2 < 1.0",
                                                     "0.0 < beta1 < 1.0 and 0.0 < beta2 < 1.0"),), 15,
            {"test_adam_eps": "a beta of 0 is valid"}),
]


L6 = "06_schedules"
COSINE = "0.05 * (1 + math.cos(math.pi * e / STEPS))"
MISTAKES += [
    # Exercise 6: 19 points, 1 per idea; (a) levels, drops, types, bad input; (b) values, eta_min, past T_max, types,
    # bad input; (c) warm-up, cosine, past the end, no warm-up, types, bad input; (d) the schedule of the learner's
    # design, run on chapter 6's noisy line over hidden seeds: valid, fast, close, on target.
    Mistake(L6, "step_lr", "off-by-one: steps counted from 1",
            (("gamma ** (step // step_size))", "gamma ** ((step + 1) // step_size))"),), 18,
            {"test_step_lr_drops": "did you count steps from 1, as (step + 1) // step_size?"}),
    Mistake(L6, "step_lr", "a smooth decay instead of a staircase",
            (("gamma ** (step // step_size))", "gamma ** (step / step_size))"),), 17,
            {"test_step_lr_levels": "your rate decays smoothly", "test_step_lr_drops": "use step // step_size"}),
    Mistake(L6, "cosine_annealing", "the cosine without the ½",
            (("(1 + math.cos(math.pi * step / T_max)) / 2", "(1 + math.cos(math.pi * step / T_max))"),), 18,
            {"test_cosine_annealing_values": "that is 1 + cos without the ½"}),
    Mistake(L6, "cosine_annealing", "the wrong phase: 1 − cos", (("(1 + math.cos(", "(1 - math.cos("),), 18,
            {"test_cosine_annealing_values": "the phase is wrong"}),
    Mistake(L6, "cosine_annealing", "eta_min forgotten", (("eta_min + (lr - eta_min) *", "lr *"),), 18,
            {"test_cosine_annealing_eta_min": "did you forget eta_min?"}),
    Mistake(L6, "cosine_annealing", "clamped at T_max",
            (("math.pi * step / T_max", "math.pi * min(step, T_max) / T_max"),), 18,
            {"test_cosine_annealing_past_T_max": "did you clamp at T_max?"}),
    Mistake(L6, "warmup_cosine", "a warm-up from 0, not from LinearLR's start factor",
            (("lr * (s0 + (1 - s0) * step / warmup_steps)", "lr * step / warmup_steps"),), 18,
            {"test_warmup_cosine_warmup": "your warm-up starts at 0: PyTorch's LinearLR starts at start_factor * lr"}),
    Mistake(L6, "warmup_cosine", "the cosine counted from step 0, not from the end of the warm-up",
            (("math.pi * (step - warmup_steps) / T", "math.pi * step / total_steps"),), 18,
            {"test_warmup_cosine_cosine": "your cosine is counted from step 0"}),
    Mistake(L6, "warmup_cosine", "no ValueError when total_steps <= warmup_steps",
            (("if total_steps <= warmup_steps:", "if False:"),), 18,
            {"test_warmup_cosine_invalid": "should raise ValueError: total_steps must exceed warmup_steps"}),
    Mistake(L6, "schedule_rates", "a constant rate, fast but stuck in its band", ((COSINE, "0.1"),), 17,
            {"test_schedule_rates_close": "a constant rate ends in its noisy band",
             "test_schedule_rates_target": "the close test how to end"}),
    Mistake(L6, "schedule_rates", "a small constant rate, precise but slow", ((COSINE, "0.005"),), 17,
            {"test_schedule_rates_fast": "your first 100 rates add up to only 0.5",
             "test_schedule_rates_target": "the fast test says how to start"}),
    Mistake(L6, "schedule_rates", "a cosine counted in epochs, past its T_max",
            (("math.pi * e / STEPS", "math.pi * e / 50"),), 17,
            {"test_schedule_rates_close": "your rate rises again before the last step: a cosine run past its T_max?",
             "test_schedule_rates_target": "after the last step"}),
    Mistake(L6, "schedule_rates", "a decay that comes too early", ((COSINE, "0.1 * 0.9**e"),), 16,
            {"test_schedule_rates_fast": "your first 100 rates add up to only 1",
             "test_schedule_rates_close": "the decay comes too early",
             "test_schedule_rates_target": "after 5 epochs"}),
    Mistake(L6, "schedule_rates", "one rate short", (("range(STEPS)]", "range(STEPS - 1)]"),), 15,
            {"test_schedule_rates_valid": "must be STEPS = 1000, got 999",
             "test_schedule_rates_fast": "lr has 999 rates", "test_schedule_rates_close": "lr has 999 rates",
             "test_schedule_rates_target": "lr has 999 rates"}),
    Mistake(L6, "warmup_cosine", "a warm-up one step ahead: (step + 1) / W",
            (("(1 - s0) * step / warmup_steps", "(1 - s0) * (step + 1) / warmup_steps"),), 18,
            {"test_warmup_cosine_warmup": "your warm-up is one step ahead"}),
    Mistake(L6, "warmup_cosine", "a warm-up that reaches lr at step W - 1",
            (("(1 - s0) * step / warmup_steps", "(1 - s0) * step / max(warmup_steps - 1, 1)"),), 18,
            {"test_warmup_cosine_warmup": "your warm-up reaches lr at step W - 1"}),
    Mistake(L6, "schedule_rates", "a staircase whose last, small rate has too few steps",
            ((COSINE, "0.1 * 0.1 ** ((e >= 500) + (e >= 800))"),), 18,
            {"test_schedule_rates_target": "your last rates are small, but too few steps"}),
]


L7 = "07_clipping"
MISTAKES += [
    # Exercise 7: 17 points, 1 per idea; (a) value, norm type, edges, untouched; (b) values, total, short gradients,
    # norm type, PyTorch's 1e-6, untouched, edges; (c) values, untouched, edges; (d) the log, other logs, inputs.
    Mistake(L7, "global_norm", "the norms of the arrays combined with the 2-norm whatever norm_type",
            (("np.linalg.norm(np.array(norms), ord=norm_type)", "np.linalg.norm(np.array(norms))"),), 16,
            {"test_global_norm_norm_type": "you combined the arrays' ∞-norms with the 2-norm"}),
    Mistake(L7, "clip_grad_norm", "each array clipped by its own norm",
            (("coef = min(max_norm / (total + 1e-6), 1.0)\n    return {key: g * coef for key, g in grads.items()}",
              "return {\n        key: g * min(max_norm / (np.linalg.norm(np.ravel(g), ord=norm_type) + 1e-6), 1.0)\n"
              "        for key, g in grads.items()\n    }"),), 16,
            {"test_clip_grad_norm_values": "each array was clipped by its own norm: clipping is GLOBAL"}),
    Mistake(L7, "clip_grad_norm", "short gradients scaled up",
            (("min(max_norm / (total + 1e-6), 1.0)", "max_norm / (total + 1e-6)"),), 16,
            {"test_clip_grad_norm_short": "scaled UP"}),
    Mistake(L7, "clip_grad_norm", "no 1e-6: max_norm / total",
            (("max_norm / (total + 1e-6), 1.0)", "max_norm / total, 1.0)"),), 16,
            {"test_clip_grad_norm_eps": "keep the 1e-6"}),
    Mistake(L7, "clip_grad_norm", "the norm after clipping returned",
            (("for key, g in grads.items()}, total", "for key, g in grads.items()}, total * coef"),), 16,
            {"test_clip_grad_norm_total": "that is the norm AFTER clipping"}),
    Mistake(L7, "clip_grad_norm", "scaling in place, as PyTorch's clip_grad_norm_",
            (("return {key: g * coef for key, g in grads.items()}, total",
              "for g in grads.values():\n        g *= coef\n    return grads, total"),), 16,
            {"test_clip_grad_norm_untouched": "changed its argument 1 in place"}),
    Mistake(L7, "clip_by_value", "min and max swapped",
            (("np.clip(g, -clip_value, clip_value)", "np.clip(g, clip_value, -clip_value)"),), 16,
            {"test_clip_by_value_values": "the bounds are swapped"}),
    Mistake(L7, "choose_max_norm", "the 99th percentile, pulled up by the spikes",
            (("float(3.0 * np.median(norms))", "float(np.percentile(norms, 99))"),), 15,
            {"test_choose_max_norm_visible": "spikes", "test_choose_max_norm_logs": "a high percentile"}),
    Mistake(L7, "global_norm", "(Σ|x|^p)^(1/p) by hand, which gives 1 at p = ∞",
            (("norms = [\n        np.linalg.norm(np.ravel(g).astype(float), ord=norm_type)\n        if np.size(g)\n"
              "        else 0.0\n        for g in grads.values()\n    ]\n    if not norms:\n        return 0.0\n"
              "    return float(np.linalg.norm(np.array(norms), ord=norm_type))",
              "total = sum(float(np.sum(np.abs(g) ** norm_type)) for g in grads.values())\n"
              "    return float(total ** (1.0 / norm_type))"),), 15,
            {"test_global_norm_norm_type": "the ∞-norm needs its own case",
             "test_global_norm_edges": "the ∞-norm needs its own case"}),
    Mistake(L7, "clip_grad_norm", "clipping only when total > max_norm",
            (("coef = min(max_norm / (total + 1e-6), 1.0)",
              "coef = max_norm / (total + 1e-6) if total > max_norm else 1.0"),), 16,
            {"test_clip_grad_norm_eps": "not only when total > max_norm"}),
]


L8 = "08_training"
ADAM_RECIPE = '"optimizer": "adam",\n    "lr": 1e-2,\n    "schedule": "warmup_cosine",\n    "epochs": 10,'
MISTAKES += [
    # Exercise 8: 15 points; (a) batches, shuffle, steps, divergence, inputs; (b) losses, seeds, best epoch, patience,
    # divergence (graded with a correct train_epoch); (c) the recipe, graded by training it on a hidden seed (1 point
    # for a valid recipe, then 1, 1 and 2 for 85, 90 and 93 % validation accuracy).
    Mistake(L8, "train_epoch", "batches in order, not shuffled",
            (("minibatches(X, y, batch_size, rng=seed)",
              "((X[i:i + batch_size], y[i:i + batch_size]) for i in range(0, len(X), batch_size))"),), 14,
            {"test_train_epoch_shuffle": "the rows come in order: shuffle them"}),
    Mistake(L8, "train_epoch", "the last, partial batch forgotten",
            (("rng=seed):\n", "rng=seed):\n        if len(y_b) < batch_size:\n            break\n"),), 14,
            {"test_train_epoch_batches": "the last, smaller batch is missing"}),
    Mistake(L8, "train_epoch", "step's result ignored, as if it changed params in place",
            (("params = step(params, grads)", "step(params, grads)"),), 14,
            {"test_train_epoch_steps": "step returns the new params"}),
    Mistake(L8, "train_epoch", "no stop at a nan loss",
            (("        if not math.isfinite(loss):\n            break\n", ""),), 14,
            {"test_train_epoch_divergence": "append the loss, then stop before stepping"}),
    Mistake(L8, "train_epoch", "the params dict updated in place",
            (("params = step(params, grads)", "params.update(step(params, grads))"),), 14,
            {"test_train_epoch_untouched": "changed its argument 1 in place"}),
    Mistake(L8, "fit_early_stopping", "the validation loss measured on the training set",
            (("val_losses = [float(loss_and_grad(params, X_val, y_val)[0])]",
              "val_losses = [float(loss_and_grad(params, X_train, y_train)[0])]"),
             ("val_losses.append(float(loss_and_grad(params, X_val, y_val)[0]))",
              "val_losses.append(float(loss_and_grad(params, X_train, y_train)[0]))")), 14,
            {"test_fit_losses": "that is the loss on the training set"}),
    Mistake(L8, "fit_early_stopping", "the mean batch loss as the training loss",
            (("train_losses.append(float(loss_and_grad(params, X_train, y_train)[0]))",
              "train_losses.append(float(np.mean(losses)))"),), 14,
            {"test_fit_losses": "that is the mean of the epoch's batch losses"}),
    Mistake(L8, "fit_early_stopping", "the same shuffle every epoch", (("seed + epoch", "seed"),), 14,
            {"test_fit_seeds": "every epoch shuffled with the same seed"}),
    Mistake(L8, "fit_early_stopping", "the params of the last epoch", (('"params": best_params', '"params": params'),),
            14, {"test_fit_best": "those are the params of the last epoch"}),
    Mistake(L8, "fit_early_stopping", "patience off by one", (("epoch - best >= patience", "epoch - best > patience"),),
            14, {"test_fit_patience": "one epoch too many"}),
    Mistake(L8, "fit_early_stopping", "a tie taken for a new best",
            (("val_losses[-1] < val_losses[best]", "val_losses[-1] <= val_losses[best]"),), 14,
            {"test_fit_best": "only a strictly lower validation loss is a new best"}),
    Mistake(L8, "fit_early_stopping", "no stop when an epoch diverges",
            (("        if losses and not math.isfinite(losses[-1]):\n            break\n", ""),), 14,
            {"test_fit_divergence": "stop at once, without measuring that epoch"}),
    Mistake(L8, "recipe", "plain SGD at 0.1: close to the target",
            ((ADAM_RECIPE, '"optimizer": "sgd",\n    "lr": 0.1,\n    "epochs": 10,'),), 12,
            {"test_recipe_90": "below 90 %", "test_recipe_93": "below 93 %"}),
    Mistake(L8, "recipe", "Adam at 0.001 for 5 epochs: far from it",
            ((ADAM_RECIPE, '"optimizer": "adam",\n    "lr": 1e-3,\n    "epochs": 5,'),), 11,
            {"test_recipe_85": "below 85 %", "test_recipe_90": "below 90 %", "test_recipe_93": "below 93 %"}),
    Mistake(L8, "recipe", "more epochs than the budget", (('"epochs": 10', '"epochs": 12'),), 10,
            {"test_recipe_visible": "the budget is at most 10 epochs", "test_recipe_85": "the budget is at most 10",
             "test_recipe_90": "the budget is at most 10", "test_recipe_93": "the budget is at most 10"}),
    Mistake(L8, "train_epoch", "each loss measured after its step, with a second call",
            (("        losses.append(float(loss))\n        if not math.isfinite(loss):\n            break\n"
              "        params = step(params, grads)",
              "        if not math.isfinite(loss):\n            losses.append(float(loss))\n            break\n"
              "        params = step(params, grads)\n"
              "        losses.append(float(loss_and_grad(params, X_b, y_b)[0]))"),),
            12, {"test_train_epoch_batches": "loss_and_grad saw every batch twice",
                 "test_train_epoch_shuffle": "the same rows twice in a row",
                 "test_train_epoch_steps": "each loss was measured after its step"}),
    Mistake(L8, "train_epoch", "np.isnan, which misses inf", (("if not math.isfinite(loss):", "if np.isnan(loss):"),),
            14, {"test_train_epoch_divergence": "np.isnan(inf) is False"}),
    Mistake(L8, "fit_early_stopping", "epochs counted from 0 for the seeds", (("seed + epoch", "seed + epoch - 1"),),
            14, {"test_fit_seeds": "your epochs count from 0"}),
    Mistake(L8, "recipe", "Adam at 0.001, constant: 89.97 % is not 90 %",
            ((ADAM_RECIPE, '"optimizer": "adam",\n    "lr": 1e-3,\n    "epochs": 10,'),), 12,
            {"test_recipe_90": "reached 89.97%, below 90 %", "test_recipe_93": "below 93 %"}),
]


def student_id(mistake: Mistake) -> str:
    return f"m{MISTAKES.index(mistake):02d}"


def submission(mistake: Mistake) -> nbformat.NotebookNode:
    name = mistake.exercise
    release = nbformat.read(ROOT / "exercises" / name / f"{name}.ipynb", as_version=4)
    answers = roundtrip.answers(nbformat.read(ROOT / "solutions" / name / f"{name}.ipynb", as_version=4))
    source = answers[mistake.answer]
    for right, wrong in mistake.edits:
        assert source.count(right) == 1, f"{right!r} is not once in the solution of {mistake.answer}"
        source = source.replace(right, wrong)
    return roundtrip.answered(release, {**answers, mistake.answer: source})


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    names = sorted({m.exercise for m in MISTAKES})
    root = roundtrip.new_course(tmp_path_factory.mktemp("course"), ROOT / "solutions", names)
    submitted = tmp_path_factory.mktemp("submitted")
    for mistake in MISTAKES:
        folder = submitted / student_id(mistake) / mistake.exercise
        folder.mkdir(parents=True)
        nbformat.write(submission(mistake), folder / f"{mistake.exercise}.ipynb")
    summary = grade_class(root, submitted, unsandboxed=shutil.which("bwrap") is None, stream=io.StringIO())
    assert not summary.failed and not summary.skipped, summary.text(root)
    return {result.student: result for result in summary.results}


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: f"{m.exercise[:2]}-{m.answer}-{m.what}")
def test_a_common_mistake_costs_its_idea_only_and_its_hint_names_it(graded, mistake):
    result = graded[student_id(mistake)]
    failed = {test.name: test.message for test in result.tests if not test.passed}
    assert set(failed) == set(mistake.fails), failed
    for cell, phrase in mistake.fails.items():
        assert phrase in failed[cell], f"{cell}: {failed[cell]}"
    assert result.score == mistake.score
