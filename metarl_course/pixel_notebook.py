"""Helpers of unit 05's notebook (PEARL from pixels): where things are, the state-based agent,
the RL signal on the estimates, the bench's results, and the pictures.

The study's machinery lives in ``pixels``, ``state_estimator`` and ``pixel_pearl``; this
module only arranges it for the notebook, so that the notebook's cells stay about the ideas.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import torch

from metarl_course.state_estimator import STATE_NAMES
from metarl_course.trained_agents import pearl_cheetah_agent, repo_root

VX = STATE_NAMES.index("vx")
STAGES = {1: "trained on true states, run on CNN estimates", 2: "trained on CNN estimates",
          3: "CNN trained with the RL signal", 4: "PEARL on true states (upper bound)", 5: "end to end from frames"}


def cache_dir() -> Path:
    """Where rendered datasets are cached: the repository's ``build/cache/pixels`` when it is writable,
    else a temporary folder (the grader's sandbox sees only the package, read-only)."""
    root = repo_root()
    if root is not None:
        folder = root / "build" / "cache" / "pixels"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / ".writable"
            probe.touch()
            probe.unlink()
            return folder
        except OSError:
            pass
    return Path(tempfile.gettempdir()) / "metarl-course-pixels"


def bench_results(preset: str) -> dict | None:
    """``benchmarks/results/pixel-pearl-<preset>.json`` if it exists (never at ``ci``: grading must not
    depend on files outside the package)."""
    root = repo_root()
    if preset == "ci" or root is None:
        return None
    path = root / "benchmarks" / "results" / f"pixel-pearl-{preset}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def state_agent(preset: str, horizon: int, seed: int = 0):
    """The state-based PEARL agent of stage 4, and the HalfCheetah-velocity tasks it was trained on:
    ``trained_agents.pearl_cheetah_agent`` (the bench's checkpoint, else the kit's copy in ``assets/``;
    a tiny agent trained in seconds at ``ci``). Returns (agent, config, tasks, train_ids, test_ids, origin)."""
    return pearl_cheetah_agent(preset, horizon, seed)


def standing_still_return(velocities: np.ndarray, horizon: int) -> float:
    """The return of a cheetah that does not move (reward -|0 - v*| per step): the floor no learning is needed for."""
    return float(-horizon * np.mean(velocities))


def rl_signal_on_estimates(agent, config, env, context, cnn, stack_fn, n_tasks: int = 4):
    """The critic loss of the state-trained agent computed *through* the estimates of the last trajectory,
    the L_Q of the ``pixel-pearl`` bench's stage 3 (``pixel_pearl.perception_step``):

        L_RL(ŝ) = Σ_k mean (Q_k(ŝ_t, a_t, z) - y_t)²,   y_t = s_r r_t + γ V̄(ŝ_{t+1}, z)   (held constant)

    with z the posterior mean of the task's whole context. Returns (estimates, states, std, L_RL) with
    the estimates ŝ (M, T+1, 17) a leaf that requires grad, so that the gradient of any loss with respect
    to them can be read; the frames are stacked with ``stack_fn`` (yours) and perceived by ``cnn``.
    """
    from metarl_course.pearl import infer_posterior, with_task
    from metarl_course.sac import q_loss

    last = env.episodes()[-1]
    M = min(n_tasks, last["frames"].shape[0])
    H = env.horizon
    with torch.no_grad():
        stacks = np.stack([stack_fn(last["frames"][m], env.k) for m in range(M)])        # (M, T+1, 3k, 64, 64)
        estimates = cnn(torch.as_tensor(stacks.reshape(-1, *stacks.shape[2:]))).reshape(M, H + 1, -1)
        z, _ = infer_posterior(agent.encoder, agent.context({k: v[:M] for k, v in context.items()}))
    estimates = estimates.clone().requires_grad_()
    actions, rewards = context["actions"][:M, -H:], context["rewards"][:M, -H:, 0]
    q_in = with_task(torch.cat([estimates[:, :-1], actions], dim=-1), z)
    next_value = agent.target_value(with_task(estimates[:, 1:], z)).squeeze(-1).detach()
    rl_loss = q_loss(agent.q1(q_in).squeeze(-1), agent.q2(q_in).squeeze(-1), rewards, torch.zeros_like(rewards),
                     next_value, config.gamma, config.reward_scale)
    states = torch.as_tensor(last["states"][:M], dtype=estimates.dtype)
    return estimates, states, cnn.state_std.detach(), rl_loss


# -- pictures ---------------------------------------------------------------------------------------------
def show_frames(frames: np.ndarray, titles: list[str], suptitle: str | None = None):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(frames), figsize=(1.9 * len(frames), 2.4))
    for ax, frame, title in zip(np.atleast_1d(axes), frames, titles):
        ax.imshow(frame)
        ax.set_title(title, fontsize=8)
        ax.axis("off")
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    fig.tight_layout()
    return fig


def show_stack(stack: np.ndarray, k: int):
    """The k frames of one (3k, H, W) stack, oldest first, and the difference of the last two: motion."""
    import matplotlib.pyplot as plt

    frames = [np.transpose(stack[3 * j:3 * j + 3], (1, 2, 0)) for j in range(k)]
    fig, axes = plt.subplots(1, k + 1, figsize=(2.1 * (k + 1), 2.5))
    for j, (ax, frame) in enumerate(zip(axes, frames)):
        ax.imshow(frame)
        ax.set_title(f"channels {3 * j}-{3 * j + 2}" + ("\n(oldest)" if j == 0 else "\n(x_t)" if j == k - 1 else ""),
                     fontsize=8)
        ax.axis("off")
    diff = np.abs(frames[-1].astype(int) - frames[-2].astype(int)).sum(-1) if k > 1 else np.zeros(frames[0].shape[:2])
    axes[-1].imshow(diff, cmap="magma")
    axes[-1].set_title("|x_t - x_{t-1}|\n(what moved)", fontsize=8)
    axes[-1].axis("off")
    fig.tight_layout()
    return fig


def plot_dimension_errors(errors: dict[str, dict[str, dict[str, float]]], title: str):
    """Relative RMSE (RMSE / σ_d) per state dimension, one bar group per label; 1 = learned nothing."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 3.6))
    x = np.arange(len(STATE_NAMES))
    width = 0.8 / len(errors)
    for i, (label, error) in enumerate(errors.items()):
        ax.bar(x + (i - (len(errors) - 1) / 2) * width, [error[n]["relative"] for n in STATE_NAMES], width, label=label)
    ax.axhline(1.0, color="gray", linestyle=":", label="no better than the mean")
    ax.axvspan(VX - 0.5, VX + 0.5, color="gold", alpha=0.25, zorder=0)
    ax.set_xticks(x, STATE_NAMES, rotation=60, ha="right", fontsize=8)
    ax.set(ylabel="RMSE / std of the dimension", title=title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_true_vs_estimated(frames: np.ndarray, steps: np.ndarray, true_vx: np.ndarray, estimated: dict[str, np.ndarray]):
    """A few frames with their true and estimated forward velocity, and the whole episode's vx over time."""
    import matplotlib.pyplot as plt

    shown = np.linspace(0, len(steps) - 1, min(5, len(steps))).astype(int)
    fig = plt.figure(figsize=(12, 5))
    grid = fig.add_gridspec(2, len(shown))
    for i, s in enumerate(shown):
        ax = fig.add_subplot(grid[0, i])
        ax.imshow(frames[s])
        text = "\n".join(f"{label}: {values[s]:+.2f}" for label, values in estimated.items())
        ax.set_title(f"t = {steps[s]}, vx = {true_vx[s]:+.2f}\n{text}", fontsize=7)
        ax.axis("off")
    ax = fig.add_subplot(grid[1, :])
    ax.plot(steps, true_vx, color="k", linewidth=2, label="true vx")
    for label, values in estimated.items():
        ax.plot(steps, values, label=f"estimated, {label}")
    ax.set(xlabel="step of a held-out episode", ylabel="vx (m/s)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_error_over_time(error: np.ndarray, std: np.ndarray, n_exploration: int):
    """``evaluate_on_estimates``'s error (K, M, T+1, 17): |v̂x - vx| per step (mean over tasks), per trajectory,
    and the relative error of every dimension over the steps."""
    import matplotlib.pyplot as plt

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 3.8))
    for k, curve in enumerate(np.abs(error[..., VX]).mean(axis=1)):
        phase = "z ~ prior" if k < n_exploration else "z ~ posterior"
        ax.plot(curve, label=f"trajectory {k + 1} ({phase})")
    ax.set(xlabel="step", ylabel="|v̂x - vx| (m/s), mean over tasks", title="Velocity estimation error along the agent's trajectories")
    ax.legend(fontsize=8)
    relative = np.sqrt((error ** 2).mean(axis=(0, 1))) / std                           # (T+1, 17)
    image = ax2.imshow(relative.T, aspect="auto", cmap="viridis", vmin=0, vmax=max(1.5, float(np.percentile(relative, 95))))
    ax2.set_yticks(range(len(STATE_NAMES)), STATE_NAMES, fontsize=6)
    ax2.set(xlabel="step", title="RMSE / std per dimension over time")
    ax2.grid(False)
    fig.colorbar(image, ax=ax2)
    fig.tight_layout()
    return fig


def plot_gradients(gradients: dict[str, np.ndarray]):
    """Mean |∂L/∂ŝ_d| per state dimension for each loss: which estimation errors each loss cares about."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 3.4))
    x = np.arange(len(STATE_NAMES))
    width = 0.8 / len(gradients)
    for i, (label, g) in enumerate(gradients.items()):
        ax.bar(x + (i - (len(gradients) - 1) / 2) * width, g / max(g.sum(), 1e-12), width, label=label)
    ax.set_xticks(x, STATE_NAMES, rotation=60, ha="right", fontsize=8)
    ax.set(ylabel="share of mean |∂L/∂ŝ_d|", title="Where each loss pushes the estimates")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def stage_means(results: dict | None, computed: dict[int, np.ndarray]) -> dict[int, tuple[float, float, str]]:
    """Per stage 1..5: (mean return of the last trajectory, its stderr, where it comes from), from the bench's
    JSON where it has the stage, else from ``computed`` (stage -> returns of the last trajectory)."""
    out: dict[int, tuple[float, float, str]] = {}
    if results is not None:
        rows = [r for r in results["rows"] if r.get("trajectory")]
        for stage in STAGES:
            mine = [r for r in rows if r["method"].startswith(f"stage {stage}:")]
            if mine:
                last = max(r["trajectory"] for r in mine)
                chosen = [r for r in mine if r["trajectory"] == last]
                out[stage] = (float(np.mean([r["mean"] for r in chosen])), float(np.mean([r["stderr"] for r in chosen])),
                              f"bench, {results['preset']}")
    for stage, returns in computed.items():
        if stage not in out:
            returns = np.asarray(returns, dtype=float).reshape(-1)
            stderr = float(returns.std(ddof=1) / np.sqrt(len(returns))) if len(returns) > 1 else 0.0
            out[stage] = (float(returns.mean()), stderr, "this notebook")
    return out


def source_floors(results: dict | None, notebook_floor: float) -> dict[str, float]:
    """Standing still's return on the tasks behind each source of ``stage_means``: this notebook's
    held-out velocities, and the bench's (its rows carry their ``floor``) when its results are read."""
    floors = {"this notebook": notebook_floor}
    bench = [r["floor"] for r in (results or {}).get("rows", []) if "floor" in r]
    if bench:
        floors[f"bench, {results['preset']}"] = float(np.mean(bench))
    return floors


def plot_stage_comparison(means: dict[int, tuple[float, float, str]], floors: dict[str, float], missing_note: str):
    """One point per stage (mean ± standard error of the last trajectory's return), labelled with its
    value and source, and standing still's return on the same tasks as a dotted line per source."""
    import textwrap

    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 4.2))
    used = {source for _, _, source in means.values()}
    for style, source in zip([":", "--"], sorted(used)):
        ax.axhline(floors[source], color="k", linestyle=style, lw=1)
        ax.text(len(STAGES) - 0.35, floors[source], f"standing still on the same tasks\n({source}): {floors[source]:.0f}",
                ha="right", va="top", fontsize=7, color="0.3")
    values = [floors[s] for s in used] + [m for m, _, _ in means.values()]
    low, high = min(values), max(values)
    pad = 0.12 * max(high - low, 1.0)
    for i, (stage, label) in enumerate(STAGES.items()):
        if stage in means:
            mean, stderr, source = means[stage]
            ax.errorbar(i, mean, yerr=stderr, marker="o", ms=8, capsize=5, color=f"C{i}")
            ax.annotate(f"{mean:.0f} ± {stderr:.0f}\n({source})", (i, mean), xytext=(12, 0),
                        textcoords="offset points", va="center", fontsize=8)
        else:
            ax.text(i, (low + high) / 2, "not\nmeasured", ha="center", va="center", fontsize=8, color="gray")
    ax.set_xlim(-0.5, len(STAGES) - 0.3)
    ax.set_ylim(low - pad - max((e for _, e, _ in means.values()), default=0.0), high + pad)
    ax.set_xticks(range(len(STAGES)), [textwrap.fill(f"{s}: {l}", 22) for s, l in STAGES.items()], fontsize=8)
    ax.set(ylabel="held-out return, last trajectory", title="The five ways of putting perception and PEARL together")
    if missing_note:
        fig.text(0.5, 0.01, missing_note, ha="center", fontsize=8)
    fig.tight_layout(rect=(0, 0.04 if missing_note else 0, 1, 1))
    return fig
