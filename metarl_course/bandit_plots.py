"""Pictures for the bandit unit: regret curves, a bar chart against the Bayes optimum, and
one trial stepped through pull by pull with the posterior beside it."""

from __future__ import annotations

from typing import Mapping

import matplotlib.pyplot as plt
import numpy as np


def regret_per_step(means: np.ndarray, arms: np.ndarray) -> np.ndarray:
    """Expected regret of each pull, max_a p_a - p_{a_t}, averaged over trials: shape (n,).

    ``means`` (B, k) are the tasks, ``arms`` (B, n) the arms pulled.
    """
    rows = np.arange(len(means))[:, None]
    return (means.max(axis=1, keepdims=True) - means[rows, arms]).mean(axis=0)


def plot_regret_curves(curves: Mapping[str, np.ndarray], ax=None, title: str = ""):
    """Per-step regret (left) and cumulative regret (right) of each method."""
    if ax is None:
        _, ax = plt.subplots(1, 2, figsize=(11, 3.8))
    for name, regret in curves.items():
        steps = np.arange(1, len(regret) + 1)
        ax[0].plot(steps, regret, marker=".", label=name)
        ax[1].plot(steps, np.cumsum(regret), label=name)
    ax[0].set(xlabel="pull t", ylabel="expected regret of pull t", title=title or "regret per pull")
    ax[1].set(xlabel="pull t", ylabel="cumulative regret", title="cumulative regret (lower is better)")
    ax[1].legend(fontsize=8)
    return ax


def plot_method_bars(results: Mapping[str, tuple[float, float]], bayes_optimal: float | None = None,
                     paper: Mapping[str, float] | None = None, ax=None, title: str = ""):
    """Mean total reward ± standard error per method, the Bayes optimum as a line, the
    paper's values as black ticks."""
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3.8))
    names = list(results)
    means = np.array([results[name][0] for name in names])
    errors = np.array([results[name][1] for name in names])
    ax.bar(names, means, yerr=errors, capsize=3, color="tab:blue", alpha=0.75)
    if paper:
        xs = [i for i, name in enumerate(names) if name in paper]
        ax.scatter(xs, [paper[names[i]] for i in xs], marker="_", s=500, color="black", zorder=3, label="paper")
    if bayes_optimal is not None:
        ax.axhline(bayes_optimal, color="tab:red", linestyle="--", label=f"Bayes-optimal {bayes_optimal:.3f}")
    low = min(means.min(), bayes_optimal or means.min())
    ax.set_ylim(low - 0.35 * (means.max() - low + 1e-9) - 0.05 * abs(low), None)
    ax.set(ylabel="total reward per trial", title=title)
    ax.tick_params(axis="x", rotation=30)
    ax.legend(fontsize=8)
    return ax


def _beta_pdf(x: np.ndarray, a: float, b: float) -> np.ndarray:
    """Density of Beta(a, b) on a grid, normalised numerically (no scipy needed)."""
    log_density = (a - 1) * np.log(np.clip(x, 1e-12, None)) + (b - 1) * np.log(np.clip(1 - x, 1e-12, None))
    density = np.exp(log_density - log_density.max())
    return density / (density.sum() * (x[1] - x[0]))


def show_trial(means: np.ndarray, arms: np.ndarray, rewards: np.ndarray, t: int, title: str = "") -> None:
    """One trial after its first ``t`` pulls: which arm was pulled when (and what it paid),
    and each arm's posterior Beta(1 + s, 1 + f) next to its true mean."""
    k, n = len(means), len(arms)
    fig, (ax_pulls, ax_post) = plt.subplots(1, 2, figsize=(11, 3.6))
    colors = plt.cm.tab10(np.arange(k) % 10)
    for i in range(t):
        ax_pulls.scatter(i + 1, arms[i], color=colors[arms[i]], marker="o" if rewards[i] else "x", s=40)
    ax_pulls.set(xlim=(0.5, n + 0.5), ylim=(-0.5, k - 0.5), yticks=range(k), xlabel="pull t", ylabel="arm",
                 title=f"{title} pulls 1..{t} (o: reward 1, x: reward 0)")
    x = np.linspace(0.0, 1.0, 401)
    for a in range(k):
        s = float(rewards[:t][arms[:t] == a].sum())
        f = float((arms[:t] == a).sum()) - s
        ax_post.plot(x, _beta_pdf(x, 1 + s, 1 + f), color=colors[a], label=f"arm {a}: {int(s)}/{int(s + f)}")
        ax_post.axvline(means[a], color=colors[a], linestyle=":", alpha=0.8)
    ax_post.set(xlabel="success probability p", ylabel="posterior density", title="posterior after these pulls (dotted: true p)")
    ax_post.legend(fontsize=7)
    plt.show()


def trial_slider(means: np.ndarray, arms: np.ndarray, rewards: np.ndarray, title: str = ""):
    """An ipywidgets slider over the pulls of one trial (a static picture of the whole
    trial where widgets are not available, e.g. while grading)."""
    from metarl_course.session import widgets_wanted

    if not widgets_wanted():
        return show_trial(means, arms, rewards, len(arms), title)
    try:
        import ipywidgets as widgets
    except ImportError:  # pragma: no cover - ipywidgets is a dependency of the kit
        return show_trial(means, arms, rewards, len(arms), title)
    slider = widgets.IntSlider(value=len(arms), min=0, max=len(arms), description="pulls")
    return widgets.interact(lambda t: show_trial(means, arms, rewards, t, title), t=slider)
