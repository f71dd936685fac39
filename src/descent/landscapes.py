r"""Two-dimensional test functions: the landscapes on which the course's optimisers are watched.

A :class:`Landscape` bundles a loss :math:`f(\theta)` of :math:`\theta = (x, y)`, its gradient, its global
minima and a plotting window. ``f`` and ``grad`` are vectorised over leading axes: ``f`` maps an array of
shape ``(..., 2)`` to shape ``(...)`` and ``grad`` maps it to ``(..., 2)``, so a contour plot evaluates a
whole grid in one call:

>>> xs, ys = np.meshgrid(np.linspace(-2, 2, 5), np.linspace(-1, 3, 4))
>>> rosenbrock().f(np.stack([xs, ys], axis=-1)).shape
(4, 5)

The functions are the classics of the optimisation literature; see Jamil & Yang (2013), *A literature survey
of benchmark functions for global optimisation problems*, Int. J. Math. Modelling Numer. Optimisation 4(2),
and the Virtual Library of Simulation Experiments, https://www.sfu.ca/~ssurjano/optimization.html.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from . import _checks

Bounds = tuple[tuple[float, float], tuple[float, float]]


class Landscape(NamedTuple):
    r"""A 2-D loss with its gradient, global minima and a window for plots.

    ``f(x)`` and ``grad(x)`` take a point of shape ``(2,)`` (or a stack of points, shape ``(..., 2)``).
    ``minimum`` has shape ``(k, 2)``, one row per global minimum (shape ``(0, 2)`` when there is none).
    ``bounds`` is the plot window ``((x_min, x_max), (y_min, y_max))`` and ``name`` a title for it.
    ``hessian`` is the constant Hessian :math:`\nabla^2 f` of a quadratic landscape and ``None`` when the
    curvature changes from point to point.

    >>> bowl = quadratic([[2.0, 0.0], [0.0, 1.0]])
    >>> bowl.f(np.array([1.0, 1.0])), bowl.grad(np.array([1.0, 1.0]))
    (array(1.5), array([2., 1.]))
    """

    name: str
    f: Callable[[np.ndarray], np.ndarray]
    grad: Callable[[np.ndarray], np.ndarray]
    minimum: np.ndarray
    bounds: Bounds
    hessian: np.ndarray | None = None

    @property
    def lipschitz(self) -> float:
        r"""The largest curvature :math:`L = \max_i |\lambda_i(\nabla^2 f)|` of a quadratic landscape.

        :math:`L` is the Lipschitz constant of the gradient; gradient descent with a constant step is stable
        on a quadratic exactly when :math:`\alpha < 2 / L` (Nesterov, *Lectures on Convex Optimization*, 2018,
        §2.1).

        >>> ill_conditioned(25.0).lipschitz
        25.0
        """
        if self.hessian is None:
            raise ValueError(
                f"the {self.name} landscape has no constant Hessian, so no single curvature L: "
                "lipschitz is defined for quadratic(), ill_conditioned() and saddle()."
            )
        return float(np.max(np.abs(np.linalg.eigvalsh(self.hessian))))


def _points(x) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.ndim == 0 or x.shape[-1] != 2:
        raise ValueError(
            f"x has shape {x.shape}: pass points of shape (2,) or (..., 2), e.g. a meshgrid stacked with "
            "np.stack([xs, ys], axis=-1)."
        )
    return x


def _landscape(name, f_xy, grad_xy, minimum, bounds, hessian=None) -> Landscape:
    """Build a Landscape from formulas written in the two coordinates ``x, y``."""

    def f(theta):
        theta = _points(theta)
        return np.asarray(f_xy(theta[..., 0], theta[..., 1]), dtype=float)

    def grad(theta):
        theta = _points(theta)
        out = np.empty(theta.shape)  # filled by broadcasting: a component may be a constant
        out[..., 0], out[..., 1] = grad_xy(theta[..., 0], theta[..., 1])
        return out

    minimum = np.array(minimum, dtype=float).reshape(-1, 2)
    return Landscape(name, f, grad, minimum, bounds, hessian)


def quadratic(A=((1.0, 0.0), (0.0, 1.0))) -> Landscape:
    r"""The quadratic bowl :math:`f(\theta) = \tfrac12 \theta^\top A \theta`, with :math:`\nabla f = A\theta`.

    ``A`` must be a symmetric positive semi-definite 2×2 matrix (the default is the round bowl :math:`A = I`);
    its eigenvalues are the curvatures along its eigenvectors and ``lipschitz`` is the largest one. The
    minimum listed is the origin (when ``A`` is singular the whole null space of ``A`` is minimal; the origin
    is one of its points). Reference: Boyd & Vandenberghe, *Convex Optimization* (2004), §9.3.

    >>> bowl = quadratic([[3.0, 1.0], [1.0, 3.0]])
    >>> bowl.grad(np.array([1.0, 0.0])), bowl.lipschitz
    (array([3., 1.]), 4.0)
    """
    A = _checks.finite_array("A", A)
    if A.shape != (2, 2):
        raise ValueError(f"A has shape {A.shape}: pass a 2x2 matrix such as [[1, 0], [0, 10]].")
    if not np.allclose(A, A.T):
        raise ValueError(f"A={A.tolist()} is not symmetric: A must equal its transpose (A[0, 1] == A[1, 0]).")
    smallest = np.linalg.eigvalsh(A)[0]
    if smallest < -1e-12 * max(1.0, np.abs(A).max()):
        raise ValueError(
            f"A={A.tolist()} has eigenvalue {smallest:g} < 0: A must be positive semi-definite, or the "
            "bowl has no bottom (for a saddle use saddle())."
        )
    A = (A + A.T) / 2
    return _landscape(
        "quadratic",
        lambda x, y: 0.5 * (A[0, 0] * x**2 + 2 * A[0, 1] * x * y + A[1, 1] * y**2),
        lambda x, y: (A[0, 0] * x + A[0, 1] * y, A[1, 0] * x + A[1, 1] * y),
        [0.0, 0.0], ((-2.0, 2.0), (-2.0, 2.0)), hessian=A,
    )


def ill_conditioned(kappa: float = 10.0) -> Landscape:
    r"""A quadratic with curvature 1 along :math:`x` and :math:`\kappa` along :math:`y`:
    :math:`f = \tfrac12 (x^2 + \kappa y^2)`.

    The condition number :math:`\kappa = L / \mu` is the ratio of the largest to the smallest curvature; the
    larger it is, the narrower the valley (it runs along the :math:`x`-axis) and the slower plain gradient
    descent, whose step must stay below :math:`2/\kappa`. Reference: Nocedal & Wright, *Numerical
    Optimization* (2006), §3.3.

    >>> valley = ill_conditioned(kappa=100.0)
    >>> valley.f(np.array([1.0, 1.0])), valley.lipschitz
    (array(50.5), 100.0)
    """
    kappa = _checks.number("kappa", kappa, low=1.0, high=np.inf, high_open=True,
                           hint="kappa is the ratio of the largest to the smallest curvature, e.g. 10.")
    landscape = quadratic(np.diag([1.0, kappa]))
    return landscape._replace(name="ill_conditioned")


def rosenbrock(a: float = 1.0, b: float = 100.0) -> Landscape:
    r"""Rosenbrock's banana-shaped valley :math:`f = (a - x)^2 + b (y - x^2)^2`, minimum 0 at
    :math:`(a, a^2)`.

    .. math:: \nabla f = \big(-2(a - x) - 4 b x (y - x^2),\; 2 b (y - x^2)\big)

    The valley floor is easy to find and slow to follow. Reference: H. H. Rosenbrock (1960), *An automatic
    method for finding the greatest or least value of a function*, The Computer Journal 3(3), 175–184.

    >>> banana = rosenbrock()
    >>> banana.minimum, banana.f(banana.minimum)
    (array([[1., 1.]]), array([0.]))
    """
    a = _checks.number("a", a, low=-np.inf, high=np.inf, low_open=True, high_open=True)
    b = _checks.number("b", b, low=0.0, high=np.inf, low_open=True, high_open=True,
                       hint="The classic is 100.")
    return _landscape(
        "rosenbrock",
        lambda x, y: (a - x) ** 2 + b * (y - x**2) ** 2,
        lambda x, y: (-2 * (a - x) - 4 * b * x * (y - x**2), 2 * b * (y - x**2)),
        [a, a**2], ((a - 3.0, a + 1.0), (a**2 - 2.0, a**2 + 2.0)),
    )


def himmelblau() -> Landscape:
    r"""Himmelblau's function :math:`f = (x^2 + y - 11)^2 + (x + y^2 - 7)^2`: four global minima of value 0.

    .. math:: \nabla f = \big(4x(x^2 + y - 11) + 2(x + y^2 - 7),\; 2(x^2 + y - 11) + 4y(x + y^2 - 7)\big)

    Which minimum you reach depends on where you start. The minima other than :math:`(3, 2)` are roots of a
    quartic, listed to double precision. Reference: D. M. Himmelblau (1972), *Applied Nonlinear Programming*.

    >>> len(himmelblau().minimum), himmelblau().f(np.array([3.0, 2.0]))
    (4, array(0.))
    """
    return _landscape(
        "himmelblau",
        lambda x, y: (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2,
        lambda x, y: (4 * x * (x**2 + y - 11) + 2 * (x + y**2 - 7),
                      2 * (x**2 + y - 11) + 4 * y * (x + y**2 - 7)),
        [[3.0, 2.0], [-2.805118086952745, 3.131312518250573],
         [-3.779310253377747, -3.283185991286169], [3.5844283403304917, -1.8481265269644034]],
        ((-5.0, 5.0), (-5.0, 5.0)),
    )


def beale() -> Landscape:
    r"""Beale's function, flat plateaus and sharp ridges around one minimum of 0 at :math:`(3, \tfrac12)`:

    .. math:: f = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2

    Writing :math:`r_k = c_k - x + x y^k`, :math:`\nabla f = \big(\sum_k 2 r_k (y^k - 1),\;
    \sum_k 2 r_k\, k x y^{k-1}\big)`. Reference: E. M. L. Beale (1958), *On an iterative method for finding a
    local minimum of a function of more than one variable*, Tech. Rep. 25, Princeton University.

    >>> beale().f(np.array([3.0, 0.5]))
    array(0.)
    """
    c = (1.5, 2.25, 2.625)

    def f(x, y):
        return sum((c[k - 1] - x + x * y**k) ** 2 for k in (1, 2, 3))

    def grad(x, y):
        r = [c[k - 1] - x + x * y**k for k in (1, 2, 3)]
        return (sum(2 * r[k - 1] * (y**k - 1) for k in (1, 2, 3)),
                sum(2 * r[k - 1] * k * x * y ** (k - 1) for k in (1, 2, 3)))

    return _landscape("beale", f, grad, [3.0, 0.5], ((-4.5, 4.5), (-4.5, 4.5)))


def saddle() -> Landscape:
    r"""The saddle :math:`f = x^2 - y^2`, with :math:`\nabla f = (2x, -2y)`: a stationary point that is no
    minimum.

    It is unbounded below, so ``minimum`` is empty (shape ``(0, 2)``). Started exactly on the :math:`x`-axis,
    gradient descent walks into the saddle point and stops; a tiny :math:`y` lets it escape. Reference:
    Dauphin et al. (2014), *Identifying and attacking the saddle point problem in high-dimensional non-convex
    optimization*, NeurIPS.

    >>> saddle().grad(np.array([1.0, 1.0])), saddle().minimum.shape
    (array([ 2., -2.]), (0, 2))
    """
    return _landscape("saddle", lambda x, y: x**2 - y**2, lambda x, y: (2 * x, -2 * y),
                      np.zeros((0, 2)), ((-2.0, 2.0), (-2.0, 2.0)), hessian=np.diag([2.0, -2.0]))


def rastrigin(A: float = 10.0) -> Landscape:
    r"""Rastrigin's function, a bowl covered in regularly spaced local minima; global minimum 0 at the origin:

    .. math:: f = 2A + \sum_{i} \big(\theta_i^2 - A \cos(2\pi\theta_i)\big), \qquad
              \nabla f = 2\theta + 2\pi A \sin(2\pi\theta)

    Reference: L. A. Rastrigin (1974), *Systems of Extremal Control*, Nauka; generalised by Mühlenbein et al.
    (1991), Parallel Computing 17.

    >>> rastrigin().f(np.array([0.0, 0.0])), rastrigin().f(np.array([1.0, 0.0]))
    (array(0.), array(1.))
    """
    A = _checks.number("A", A, low=0.0, high=np.inf, high_open=True, hint="The classic is 10.")

    def term(t):
        return A + t**2 - A * np.cos(2 * np.pi * t)

    def slope(t):
        return 2 * t + 2 * np.pi * A * np.sin(2 * np.pi * t)

    return _landscape("rastrigin", lambda x, y: term(x) + term(y), lambda x, y: (slope(x), slope(y)),
                      [0.0, 0.0], ((-5.12, 5.12), (-5.12, 5.12)))


# Every landscape by name; each factory can be called with no arguments.
LANDSCAPES: dict[str, Callable[..., Landscape]] = {
    "quadratic": quadratic,
    "ill_conditioned": ill_conditioned,
    "rosenbrock": rosenbrock,
    "himmelblau": himmelblau,
    "beale": beale,
    "saddle": saddle,
    "rastrigin": rastrigin,
}
