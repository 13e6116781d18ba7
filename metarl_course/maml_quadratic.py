"""MAML on quadratic tasks, solved exactly: where a meta-learned start differs from a pretrained one.

Each task i is a bowl in two dimensions with its own centre c_i and curvature A_i (symmetric,
positive definite):

    L_i(θ) = ½ (θ - c_i)ᵀ A_i (θ - c_i),        ∇L_i(θ) = A_i (θ - c_i).

One inner step of size α lands at θ'_i = θ - α A_i (θ - c_i), so θ'_i - c_i = (I - α A_i)(θ - c_i)
and the loss after the step is again a bowl around c_i, with the curvature

    B_i = (I - α A_i) A_i (I - α A_i).

Every objective below is therefore a sum of bowls, and its minimiser is a weighted mean of the
centres, θ* = (Σ W_i)⁻¹ Σ W_i c_i:

- **pretrained** (minimise the loss before adaptation, Σ L_i(θ)): W_i = A_i;
- **MAML** (minimise the loss after one step, Σ L_i(θ'_i)): W_i = B_i;
- **first-order MAML** (its update uses ∇L_i(θ'_i) and drops the Hessian term of ∂θ'_i/∂θ, so it
  stops where Σ A_i (θ'_i - c_i) = 0): W_i = A_i (I - α A_i).

A direction in which a task is steep (α λ close to 1) is one the inner step fixes by itself, so
MAML gives it almost no weight (B_i is small there); pretraining gives it the most. Unit 03 uses
this as a picture before any policy gradient appears.
"""

from __future__ import annotations

import numpy as np

# Three tasks, each steep along one direction and flat across it (eigenvalues 1.8 and 0.3), the
# steep directions at different angles; α = 0.5 makes one step almost exact along a steep direction.
EXAMPLE_CENTRES = np.array([[-1.0, 0.0], [1.0, 0.3], [0.1, 1.3]])
EXAMPLE_ANGLES = np.array([0.0, 1.0, 2.2])      # radians: each task's steep direction
EXAMPLE_CURVATURES = (1.8, 0.3)
EXAMPLE_STEP = 0.5
TASK_COLOURS = ("tab:green", "tab:purple", "tab:olive")
START_STYLES = {"pretrained": ("s", "k", "--"), "MAML": ("o", "C3", "-")}   # marker, colour, arrow line


def curvature(angle: float, steep: float, flat: float) -> np.ndarray:
    """A = R diag(steep, flat) Rᵀ: a bowl steep along the direction ``angle``, flat across it."""
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return rotation @ np.diag([steep, flat]) @ rotation.T


def example_tasks() -> tuple[np.ndarray, np.ndarray, float]:
    """The picture's tasks: (curvatures (N, 2, 2), centres (N, 2), step size α)."""
    curvatures = np.stack([curvature(a, *EXAMPLE_CURVATURES) for a in EXAMPLE_ANGLES])
    return curvatures, EXAMPLE_CENTRES.copy(), EXAMPLE_STEP


def inner_step(theta: np.ndarray, curvatures: np.ndarray, centres: np.ndarray, alpha: float) -> np.ndarray:
    """θ'_i = θ - α A_i (θ - c_i) for every task: (N, 2)."""
    return theta - alpha * np.einsum("nij,nj->ni", curvatures, theta - centres)


def bowl(points: np.ndarray, curvature: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """One task's loss ½ (θ - c)ᵀ A (θ - c) at every point θ of ``points`` (..., d), shape (...)."""
    gap = points - centre
    return 0.5 * np.einsum("...i,ij,...j->...", gap, curvature, gap)


def task_losses(points: np.ndarray, curvatures: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """L_i at point i (or at one point for every task): ½ (θ_i - c_i)ᵀ A_i (θ_i - c_i), shape (N,)."""
    points = np.broadcast_to(points, centres.shape)
    return np.array([bowl(theta, A, c) for theta, A, c in zip(points, curvatures, centres)])


def weighted_centre(weights: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """argmin_θ Σ ½ (θ - c_i)ᵀ W_i (θ - c_i) = (Σ W_i)⁻¹ Σ W_i c_i."""
    return np.linalg.solve(weights.sum(0), np.einsum("nij,nj->i", weights, centres))


def starting_points(curvatures: np.ndarray, centres: np.ndarray, alpha: float) -> dict[str, np.ndarray]:
    """The three starts of the module docstring: pretrained, MAML and first-order MAML."""
    eye = np.eye(centres.shape[1])
    shrink = eye - alpha * curvatures                                   # I - α A_i
    return {
        "pretrained": weighted_centre(curvatures, centres),
        "MAML": weighted_centre(shrink @ curvatures @ shrink, centres),
        "first-order MAML": weighted_centre(curvatures @ shrink, centres),
    }


def plot_example(ax=None):
    """Each task's bowl (contours), its centre (star), and one inner step from the pretrained start
    and from MAML's start; the legend gives the mean loss before and after that step."""
    import matplotlib.pyplot as plt

    curvatures, centres, alpha = example_tasks()
    starts = starting_points(curvatures, centres, alpha)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 5.5))
    grid = np.stack(np.meshgrid(np.linspace(-2, 2, 161), np.linspace(-1.2, 2.2, 137)), -1)
    for i, (A, c, colour) in enumerate(zip(curvatures, centres, TASK_COLOURS)):
        ax.contour(grid[..., 0], grid[..., 1], bowl(grid, A, c),
                   levels=[0.05, 0.2, 0.5, 1.0], colors=colour, alpha=0.45, linewidths=1)
        ax.plot(*c, marker="*", ms=14, color=colour, ls="none", label="each task's optimum" if i == 0 else None)
    for name, (marker, colour, line) in START_STYLES.items():
        theta = starts[name]
        adapted = inner_step(theta, curvatures, centres, alpha)
        before = task_losses(theta, curvatures, centres).mean()
        after = task_losses(adapted, curvatures, centres).mean()
        ax.plot(*theta, marker=marker, ms=10, color=colour, ls="none",
                label=f"{name} start: mean loss {before:.2f} before the step, {after:.3f} after")
        for point in adapted:
            ax.annotate("", xy=point, xytext=theta, arrowprops=dict(arrowstyle="->", color=colour, ls=line, lw=1.5))
            ax.plot(*point, marker=marker, ms=5, color=colour, alpha=0.7)
    ax.set(aspect="equal", xlabel="θ₁", ylabel="θ₂",
           title=f"One gradient step (α = {alpha}) from each start, on three quadratic tasks")
    ax.legend(fontsize=8, loc="lower left")
    return ax
