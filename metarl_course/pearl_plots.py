"""Pictures for the PEARL unit: the sparse point robot's goals, Gaussian factors and their
product, meta-test paths on the semicircle, the belief collapsing as evidence accumulates,
and the latent space of task beliefs (with an ipywidgets task picker).

Everything here reads the outputs of meta-test, ``(returns, context)``, where the context
holds every transition of every trajectory: fields of shape (M, n·H, ...), trajectory k
being the transitions k·H ... (k + 1)·H - 1.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from metarl_course import pearl
from metarl_course.evaluation import mean_and_stderr

TRAJECTORY_CMAP = "viridis"   # colour of trajectory k: dark = early, yellow = late
ANGLE_CMAP = "plasma"         # colour of a goal's angle on the semicircle, 0 .. π


def goal_angles(goals: np.ndarray) -> np.ndarray:
    """θ = atan2(y, x) of each goal, in [0, π] on the upper semicircle."""
    return np.arctan2(goals[:, 1], goals[:, 0])


# -- the task ------------------------------------------------------------------------------------
def draw_arena(ax, goals: np.ndarray | None = None, goal_radius: float = 0.2) -> None:
    """The unit semicircle, the start, and (faintly) every goal."""
    theta = np.linspace(0, np.pi, 200)
    ax.plot(np.cos(theta), np.sin(theta), color="0.8", lw=1, zorder=0)
    if goals is not None:
        ax.scatter(goals[:, 0], goals[:, 1], s=6, color="0.75", zorder=1)
    ax.plot(0, 0, "ko", ms=4, zorder=3)
    ax.set(xlim=(-1.3, 1.3), ylim=(-0.35, 1.3), aspect="equal")


def plot_goals(goals: np.ndarray, train_ids: np.ndarray, test_ids: np.ndarray, goal_radius: float = 0.2, ax=None):
    """Meta-training and held-out goals on the semicircle, with the region where the sparse reward is paid."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.8))
    draw_arena(ax)
    ax.scatter(*goals[train_ids].T, s=14, color="C0", label=f"meta-training goals ({len(train_ids)})", zorder=2)
    ax.scatter(*goals[test_ids].T, s=30, marker="*", color="C3", label=f"held-out goals ({len(test_ids)})", zorder=2)
    example = goals[test_ids[0]]
    ax.add_patch(plt.Circle(example, goal_radius, color="C3", alpha=0.15, zorder=0))
    ax.annotate(f"sparse reward only within {goal_radius}", example, xytext=(0.3, -0.25), fontsize=8,
                arrowprops=dict(arrowstyle="->", color="0.4"))
    ax.set(title="The sparse point robot: goals on the unit semicircle")
    ax.legend(fontsize=8, loc="upper right")
    return ax


# -- the product of Gaussians ----------------------------------------------------------------------
def gaussian_density(x: np.ndarray, mean: float, variance: float) -> np.ndarray:
    return np.exp(-0.5 * (x - mean) ** 2 / variance) / np.sqrt(2 * np.pi * variance)


def plot_factors_and_products(means: Sequence[float], variances: Sequence[float],
                              products: Sequence[tuple[float, float]], ax=None):
    """1-D factors Ψ(z | c_n) (thin) and the normalised product of the first k of them (thick, k = 1 .. N)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.8))
    spread = 3 * np.sqrt(max(variances))
    x = np.linspace(min(means) - spread, max(means) + spread, 600)
    for n, (m, v) in enumerate(zip(means, variances)):
        ax.plot(x, gaussian_density(x, m, v), color="0.6", lw=1, ls="--", label="factors Ψ(z | c_n)" if n == 0 else None)
    colors = plt.get_cmap(TRAJECTORY_CMAP)(np.linspace(0, 0.9, len(products)))
    for k, ((m, v), color) in enumerate(zip(products, colors), start=1):
        ax.plot(x, gaussian_density(x, m, v), color=color, lw=2, label=f"product of the first {k}: σ² = {v:.3f}")
    ax.set(xlabel="z (one latent dimension)", ylabel="density", title="Every factor is evidence: the product sharpens")
    ax.legend(fontsize=7)
    return ax


def plot_kl_landscape(kl_values: np.ndarray, means: np.ndarray, log_variances: np.ndarray, ax=None):
    """KL(N(μ, σ²) ‖ N(0, 1)) over a grid of μ (columns) and log σ² (rows)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    image = ax.contourf(means, log_variances, kl_values, levels=np.linspace(0, 4, 17), cmap="magma_r", extend="max")
    ax.plot(0, 0, "w*", ms=12, label="the prior N(0, 1): KL = 0")
    plt.colorbar(image, ax=ax, label="KL to the prior (nats)")
    ax.set(xlabel="posterior mean μ", ylabel="log σ²", title="What a belief pays for being far and sharp")
    ax.legend(fontsize=8, loc="lower right")
    return ax


# -- meta-test: paths, returns, beliefs -------------------------------------------------------------
def trajectory_positions(context: dict[str, torch.Tensor], horizon: int) -> np.ndarray:
    """Positions (M, n, H + 1, 2) of every trajectory, the start included."""
    obs = context["observations"].detach().cpu().numpy()
    nxt = context["next_observations"].detach().cpu().numpy()
    M, total, _ = obs.shape
    n = total // horizon
    start = obs.reshape(M, n, horizon, -1)[:, :, :1]
    return np.concatenate([start, nxt.reshape(M, n, horizon, -1)], axis=2)


def success_per_trajectory(context: dict[str, torch.Tensor], horizon: int) -> np.ndarray:
    """(n, M) booleans: did trajectory k ever earn a sparse reward (reach the goal region) on task i?"""
    rewards = context["rewards"][..., 0].detach().cpu().numpy()
    M, total = rewards.shape
    return (rewards.reshape(M, total // horizon, horizon) > 0).any(axis=-1).T


@torch.no_grad()
def belief_after_each_trajectory(agent: pearl.PEARLAgent, context: dict[str, torch.Tensor],
                                 horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """The belief q(z | c_{1:k}) after k = 0 .. n trajectories (k = 0: the prior): means and
    variances of shape (n + 1, M, latent_dim)."""
    n = context["rewards"].shape[1] // horizon
    means, variances = [], []
    for k in range(n + 1):
        part = {name: value[:, : k * horizon] for name, value in context.items()}
        mean, variance = pearl.infer_posterior(agent.encoder, agent.context(part))
        means.append(mean.cpu().numpy())
        variances.append(variance.cpu().numpy())
    return np.stack(means), np.stack(variances)


def plot_paths(ax, positions: np.ndarray, goal: np.ndarray, goals: np.ndarray | None = None,
               goal_radius: float = 0.2, title: str = "") -> None:
    """The n trajectories of one task (positions (n, H + 1, 2)), coloured by their index."""
    draw_arena(ax, goals, goal_radius)
    ax.add_patch(plt.Circle(goal, goal_radius, color="C3", alpha=0.15, zorder=0))
    ax.plot(*goal, "r*", ms=14, zorder=4)
    colors = plt.get_cmap(TRAJECTORY_CMAP)(np.linspace(0, 1, len(positions)))
    for k, (path, color) in enumerate(zip(positions, colors)):
        ax.plot(*path.T, color=color, lw=1.5, alpha=0.9, zorder=2)
        ax.plot(*path[-1], "o", color=color, ms=3, zorder=3)
    ax.set_title(title, fontsize=9)


def plot_meta_test_paths(positions: np.ndarray, goals_shown: np.ndarray, returns: np.ndarray, n_exploration: int,
                         all_goals: np.ndarray | None = None, titles: Sequence[str] | None = None):
    """One panel per task: its trajectories coloured by index (a colour bar marks where the posterior takes over)."""
    n_tasks, n = positions.shape[:2]
    fig, axes = plt.subplots(1, n_tasks, figsize=(4.3 * n_tasks + 1, 3.6), squeeze=False)
    for i, ax in enumerate(axes[0]):
        label = titles[i] if titles else f"task {i}"
        plot_paths(ax, positions[i], goals_shown[i], all_goals,
                   title=f"{label}\nreturns: " + " ".join(f"{r:.1f}" for r in returns[:, i]))
    mappable = plt.cm.ScalarMappable(cmap=TRAJECTORY_CMAP, norm=plt.Normalize(0.5, n + 0.5))
    bar = fig.colorbar(mappable, ax=axes[0].tolist(), ticks=range(1, n + 1), fraction=0.02)
    bar.set_label("trajectory (1 = first)")
    bar.ax.axhline(n_exploration + 0.5, color="r", lw=2)
    fig.suptitle(f"Online adaptation on held-out goals: {n_exploration} trajectories with z from the prior "
                 "(below the red mark), then z from the posterior", fontsize=10)
    return fig


def shade_exploration(ax, n_exploration: int) -> None:
    """Grey out trajectories 1..n_exploration on an axis of trajectory numbers: those of z ~ prior."""
    ax.axvspan(0.5, n_exploration + 0.5, color="0.9", zorder=0)
    ax.text(0.6, 0.97, "z ~ prior", transform=ax.get_xaxis_transform(), va="top", fontsize=8, color="0.4")


def plot_adaptation_curves(curves: dict[str, tuple[np.ndarray, np.ndarray]], n_exploration: int, horizon: int):
    """Return and success rate of trajectory k (mean over tasks ± standard error), for each named task set.

    ``curves[name] = (returns (n, M), success (n, M))``."""
    fig, (ax_ret, ax_succ) = plt.subplots(1, 2, figsize=(12, 3.9))
    for (name, (returns, success)), color in zip(curves.items(), ["C3", "C0", "C2"]):
        k = np.arange(1, returns.shape[0] + 1)
        mean, err = mean_and_stderr(returns, axis=1)
        ax_ret.errorbar(k, mean, yerr=err, marker="o", capsize=3, color=color, label=name)
        ax_succ.plot(k, success.mean(axis=1), marker="o", color=color, label=name)
    for ax in (ax_ret, ax_succ):
        shade_exploration(ax, n_exploration)
        ax.set(xlabel="trajectory on the task (1 = first)", xticks=k)
        ax.legend(fontsize=8)
    ax_ret.set(ylabel=f"sparse return of the trajectory (H = {horizon})", title="Return of each meta-test trajectory")
    ax_succ.set(ylabel="fraction of tasks", ylim=(-0.03, 1.03), title="Success: the trajectory reached the goal region")
    plt.tight_layout()
    return fig


# -- the latent space -----------------------------------------------------------------------------
def principal_components(points: np.ndarray, k: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """(centre, components (k, d)) of PCA by SVD; with d <= k, the identity (padded with zeros)."""
    centre = points.mean(axis=0)
    d = points.shape[1]
    if d <= k:
        return centre, np.eye(k, d)
    _, _, vt = np.linalg.svd(points - centre, full_matrices=False)
    return centre, vt[:k]


def project(points: np.ndarray, centre: np.ndarray, components: np.ndarray) -> np.ndarray:
    return (points - centre) @ components.T


def plot_latent_space(ax, latent_2d: np.ndarray, angles: np.ndarray, test_ids: np.ndarray, explained: str = "") -> None:
    """The final posterior mean of every task, coloured by its goal's angle (held-out tasks as stars)."""
    is_test = np.zeros(len(latent_2d), dtype=bool)
    is_test[test_ids] = True
    norm = plt.Normalize(0, np.pi)
    ax.scatter(*latent_2d[~is_test].T, c=angles[~is_test], cmap=ANGLE_CMAP, norm=norm, s=18, label="meta-training task")
    ax.scatter(*latent_2d[is_test].T, c=angles[is_test], cmap=ANGLE_CMAP, norm=norm, s=90, marker="*",
               edgecolors="k", linewidths=0.5, label="held-out task")
    ax.set(xlabel="latent component 1", ylabel="latent component 2", title=f"Posterior means{explained}")
    ax.legend(fontsize=7, loc="best")


def plot_latent_overview(belief_means_2d: np.ndarray, belief_variances: np.ndarray, goals: np.ndarray,
                         test_ids: np.ndarray, n_exploration: int, explained: str = ""):
    """Left: every task's final posterior mean, coloured by goal angle. Right: how wide the belief
    is after k trajectories (mean σ over latent dimensions; median and quartiles over held-out tasks)."""
    angles = goal_angles(goals)
    fig, (ax_latent, ax_width) = plt.subplots(1, 2, figsize=(12, 4.2))
    plot_latent_space(ax_latent, belief_means_2d[-1], angles, test_ids, explained)
    bar = fig.colorbar(plt.cm.ScalarMappable(cmap=ANGLE_CMAP, norm=plt.Normalize(0, 180)), ax=ax_latent)
    bar.set_label("goal angle (degrees)")
    width = np.sqrt(belief_variances[:, test_ids]).mean(axis=-1)          # (n + 1, held-out tasks)
    k = np.arange(width.shape[0])
    ax_width.plot(k, np.median(width, axis=1), "k.-", label="median over held-out tasks")
    ax_width.fill_between(k, *np.percentile(width, [25, 75], axis=1), color="0.8", label="quartiles")
    ax_width.axvline(n_exploration, color="r", ls="--", lw=1, label="the posterior takes over")
    ax_width.set(xlabel="trajectories in the context", ylabel="belief width σ (mean over latent dims)", yscale="log",
                 xticks=k, title="The belief narrows with evidence (0 trajectories: the prior)")
    ax_width.legend(fontsize=8)
    plt.tight_layout()
    return fig


def show_task(task: int, goals: np.ndarray, test_ids: np.ndarray, positions: np.ndarray, returns: np.ndarray,
              belief_means_2d: np.ndarray, belief_variances: np.ndarray, n_exploration: int) -> None:
    """One task in three panels: its paths, its belief moving through the latent space as
    evidence accumulates, and the return of each trajectory next to the belief's width.

    ``positions`` (M, n, H + 1, 2), ``returns`` (n, M), ``belief_means_2d`` (n + 1, M, 2) projected
    belief means after k = 0 .. n trajectories, ``belief_variances`` (n + 1, M, d)."""
    angles = goal_angles(goals)
    n = returns.shape[0]
    fig, (ax_path, ax_latent, ax_belief) = plt.subplots(1, 3, figsize=(15, 4.2))
    plot_paths(ax_path, positions[task], goals[task], goals,
               title=f"task {task}: goal angle {np.degrees(angles[task]):.0f}°, paths coloured by trajectory")
    plot_latent_space(ax_latent, belief_means_2d[-1], angles, test_ids)
    path = belief_means_2d[1:, task]                  # after 1 .. n trajectories (the prior's mean is far off)
    ax_latent.plot(*path.T, color="k", lw=1, zorder=3)
    ax_latent.scatter(*path.T, c=plt.get_cmap(TRAJECTORY_CMAP)(np.linspace(0, 1, n)), s=45, edgecolors="k", zorder=4)
    ax_latent.annotate("after trajectory 1", path[0], xytext=(5, 5), textcoords="offset points", fontsize=8)
    ax_latent.set_title(f"Posterior means of all tasks; task {task}'s belief\nafter 1 .. {n} trajectories "
                        "(coloured like its paths)", fontsize=9)
    k = np.arange(1, n + 1)
    ax_belief.bar(k, returns[:, task], color=plt.get_cmap(TRAJECTORY_CMAP)(np.linspace(0, 1, n)), alpha=0.8)
    ax_belief.axvline(n_exploration + 0.5, color="r", lw=1, ls="--")
    ax_belief.set(xlabel="trajectory (red line: the posterior takes over)", ylabel="sparse return", xticks=k)
    width = ax_belief.twinx()
    width.plot(np.arange(0, n + 1) + 0.5, np.sqrt(belief_variances[:, task]).mean(axis=-1), "k.-",
               label="mean σ of the belief after k trajectories")
    width.set(ylabel="belief width σ (mean over latent dims)", yscale="log")
    width.legend(fontsize=7, loc="upper right")
    ax_belief.set_title("Return per trajectory, and the belief narrowing", fontsize=9)
    plt.tight_layout()
    plt.show()


def task_explorer(goals: np.ndarray, test_ids: np.ndarray, positions: np.ndarray, returns: np.ndarray,
                  belief_means_2d: np.ndarray, belief_variances: np.ndarray, n_exploration: int):
    """A dropdown over the held-out tasks that redraws ``show_task`` (a static picture of the first
    held-out task where widgets are not available, e.g. while grading)."""
    args = (goals, test_ids, positions, returns, belief_means_2d, belief_variances, n_exploration)
    from metarl_course.session import widgets_wanted

    if not widgets_wanted():
        return show_task(int(test_ids[0]), *args)
    try:
        import ipywidgets as widgets
    except ImportError:  # pragma: no cover - ipywidgets is a dependency of the kit
        return show_task(int(test_ids[0]), *args)
    angles = np.degrees(goal_angles(goals))
    options = [(f"task {i}: goal at {angles[i]:.0f}°", int(i)) for i in sorted(test_ids, key=lambda i: angles[i])]
    picker = widgets.Dropdown(options=options, value=int(test_ids[0]), description="held-out")
    return widgets.interact(lambda task: show_task(task, *args), task=picker)


def plot_training(history: pearl.PEARLHistory):
    """The critic loss and the KL of every iteration, each a mean over its gradient steps."""
    fig, (ax_q, ax_kl) = plt.subplots(1, 2, figsize=(11, 3.5))
    iterations = np.asarray(history.iteration) + 1
    ax_q.plot(iterations, history.critic, marker=".", color="C0")
    ax_q.set(xlabel="iteration", ylabel="critic loss (mean over the iteration)", yscale="log", title="Bellman error of Q_1 + Q_2")
    ax_kl.plot(iterations, history.kl, marker=".", color="C1")
    ax_kl.set(xlabel="iteration", ylabel="KL(q(z | c) ‖ N(0, I))", title="Information in the beliefs (sum over the meta-batch)")
    plt.tight_layout()
    return fig


# -- HalfCheetah velocity -------------------------------------------------------------------------
def plot_cheetah_meta_test(targets: np.ndarray, velocity: np.ndarray, returns: np.ndarray, n_exploration: int,
                           horizon: int):
    """PEARL's meta-test on HalfCheetah velocity: the velocity each trajectory ran at against its
    task's target (left), and the return of each trajectory, mean over tasks ± standard error (right).

    ``targets`` (M,) in m/s; ``velocity`` and ``returns`` (K, M) for K trajectories per task, the
    first ``n_exploration`` with z from the prior. The dotted line on the right is standing still,
    -H · mean(v*): what a cheetah earns that has not found out how fast to run."""
    fig, (ax_v, ax_r) = plt.subplots(1, 2, figsize=(12, 4.2))
    for k in range(velocity.shape[0]):
        prior = k < n_exploration
        ax_v.scatter(targets, velocity[k], s=22, marker="o" if prior else "D", alpha=0.5 if prior else 0.95,
                     color=f"C{k}", label=f"trajectory {k + 1} ({'z ~ prior' if prior else 'z ~ posterior'})")
    top = max(3.0, float(np.max(velocity)) + 0.2)
    ax_v.plot([0, top], [0, top], color="0.4", lw=1, ls="--", label="the target")
    ax_v.set(xlabel="target velocity v* (m/s)", ylabel="mean forward velocity of the trajectory (m/s)",
             title="How fast the cheetah ran, per held-out task")
    ax_v.legend(fontsize=8)
    k = np.arange(1, returns.shape[0] + 1)
    mean, err = mean_and_stderr(returns, axis=1)
    ax_r.errorbar(k, mean, yerr=err, marker="o", capsize=3, color="C3", label="held-out tasks")
    ax_r.axhline(-horizon * float(np.mean(targets)), color="0.4", ls=":", label="standing still")
    shade_exploration(ax_r, n_exploration)
    ax_r.set(xlabel="trajectory on the task (1 = first)", xticks=k, ylabel=f"return of the trajectory (H = {horizon})",
             title="Return of each meta-test trajectory")
    ax_r.legend(fontsize=8)
    plt.tight_layout()
    return fig
