"""Benchmark ``pearl-point``: PEARL on the sparse point robot (Rakelly et al. 2019, section 6.3).

For each seed: meta-train PEARL on the 80 training goals (the official split), evaluating
the held-out goals along the way (the meta-training curve against environment steps).
Then run the meta-test protocol on the 20 held-out goals: ``exploration_trajectories``
trajectories with z from the prior, then z from the posterior of everything seen, and
report, for each trajectory, the success rate (the trajectory entered the goal's 0.2
radius) and the sparse return. Two references frame the numbers: the same agent that
never updates its belief (z from the prior on every trajectory: what inference adds) and
the success rate of a uniformly random policy.

The benchmark also times one meta-batch gradient step computed as one batched
computation over the T tasks against a Python loop of T single-task steps.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from metarl_course.bench import register
from metarl_course.checkpoint_code import save_checkpoint
from metarl_course.pearl import (FIELDS, PEARLAgent, PEARLConfig, collect_trajectories, config_from_budget,
                                 environment_steps, make_optimizers, meta_test,
                                 pearl_update, sparse_point_tasks, train_pearl)
from metarl_course.presets import get_budget

CHECKPOINTS = Path("build/bench")
def save_agent(agent: PEARLAgent, config: PEARLConfig, path: Path) -> None:
    """The trained agent and its settings, for the notebook's pictures and for inspection."""
    save_checkpoint({"state_dict": agent.state_dict(), "config": asdict(config)}, path)


def load_agent(path: Path, obs_dim: int = 2, act_dim: int = 2) -> tuple[PEARLAgent, PEARLConfig]:
    """An agent saved by ``save_agent``, for a task set with these observation and action sizes
    (the point robot's by default)."""
    saved = torch.load(path, map_location="cpu", weights_only=False)
    config = PEARLConfig(**saved["config"])
    agent = PEARLAgent(obs_dim, act_dim, config.latent_dim, net_hidden=config.net_hidden,
                       encoder_hidden=config.encoder_hidden)
    agent.load_state_dict(saved["state_dict"])
    return agent, config


def held_out_success(agent: PEARLAgent, tasks, task_ids: np.ndarray, n_trajectories: int, n_exploration: int,
                     seed: int, repeats: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Per trajectory index: success (sparse return > 0) and sparse return on each task of ``task_ids``, (K, M)
    each, averaged over ``repeats`` independent meta-test runs: each run draws its own prior samples of z, so
    one run per task measures the luck of the draw as much as the agent. The runs are rows of one batch
    (every task repeated ``repeats`` times), z drawn from one generator seeded ``seed``."""
    M = len(task_ids)
    returns = meta_test(agent, tasks.env(np.tile(task_ids, repeats)), n_trajectories, n_exploration,
                        generator=torch.Generator().manual_seed(seed))[0].cpu().numpy().reshape(n_trajectories,
                                                                                               repeats, M)
    return (returns > 0).astype(float).mean(axis=1), returns.mean(axis=1)


def prior_z_endpoints(agent: PEARLAgent, tasks, task_id: int, n: int = 200, bins: int = 10,
                      seed: int = 0) -> dict:
    """Where the hypotheses of posterior sampling lead: the deterministic policy's end point for
    ``n`` draws z ~ N(0, I) on one task, as a histogram of angles over ``bins`` equal sectors of
    [0, π] and the mean distance from the origin. Posterior sampling explores only if the draws
    spread over the semicircle."""
    env = tasks.env(np.full(n, task_id))
    z = torch.randn(n, agent.encoder.latent_dim, generator=torch.Generator().manual_seed(seed))
    end = collect_trajectories(agent, env, z.to(env.goals.dtype), deterministic=True)["next_observations"][:, -1]
    angles = torch.atan2(end[:, 1], end[:, 0]).cpu().numpy()
    counts, _ = np.histogram(angles, bins=bins, range=(0.0, np.pi))
    return {"angle_histogram": counts.tolist(), "mean_radius": float(end.norm(dim=-1).mean()),
            "outside_upper_half": int(n - counts.sum())}


def success_by_sector(success: np.ndarray, goals: np.ndarray, n_exp: int, bins: int = 5) -> list[dict]:
    """Success after the exploration trajectories, per task ((K, M) from ``held_out_success``), grouped by
    the goal's angle into ``bins`` equal sectors of [0, π]: which part of the semicircle the agent has learned.
    A sector at 0 while its neighbours are not is a part of the task family meta-training never reached."""
    per_task = success[n_exp:].mean(axis=0)
    angles = np.arctan2(goals[:, 1], goals[:, 0])
    sector = np.minimum((angles / np.pi * bins).astype(int), bins - 1)
    rows = []
    for b in range(bins):
        values = per_task[sector == b]
        rows.append({"sector": b + 1, "angles": [round(b / bins, 3), round((b + 1) / bins, 3)], "mean": float(values.mean()) if len(values) else float("nan"),
                     "stderr": float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0,
                     "n": int(len(values)), "unit": "success after exploration; sector of the goal's angle, in units of π"})
    return rows


def point_guess_success(goals: np.ndarray, n_guesses: int, n_draws: int = 4000, goal_radius: float = 0.2,
                        seed: int = 0) -> float:
    """How often at least one of ``n_guesses`` points drawn uniformly on the unit semicircle lies within
    ``goal_radius`` of the goal, averaged over ``goals``: the success of exploring by going to one random point
    of the semicircle per trajectory and staying there, which is what posterior sampling does with z from the
    prior once every z leads to some goal. One guess covers an arc of about 2 · 0.2 of π, about 13%."""
    rng = np.random.default_rng(seed)
    theta = rng.uniform(0.0, np.pi, size=(n_draws, n_guesses))
    points = np.stack([np.cos(theta), np.sin(theta)], axis=-1)                       # (D, n, 2)
    hits = np.linalg.norm(points[:, None] - goals[None, :, None], axis=-1) <= goal_radius   # (D, M, n)
    return float(hits.any(axis=-1).mean())


def exploration_sweep(agent: PEARLAgent, tasks, task_ids: np.ndarray, n_exps: tuple[int, ...], n_posterior: int,
                      seed: int, repeats: int) -> list[dict]:
    """For each number n of exploration trajectories (z ~ prior), at meta-test: the share of goals found by one of
    them, the success of the ``n_posterior`` trajectories after them (z ~ posterior), and the same share for
    exploring by uniform point guesses (``point_guess_success``)."""
    rows, goals, M = [], tasks.goals[task_ids], len(task_ids)
    for n in n_exps:
        returns = meta_test(agent, tasks.env(np.tile(task_ids, repeats)), n + n_posterior, n,
                            generator=torch.Generator().manual_seed(seed))[0].cpu().numpy().reshape(-1, repeats, M)
        found = (returns[:n] > 0).any(axis=0).mean(axis=0)                               # per goal
        after = (returns[n:] > 0).mean(axis=(0, 1))
        for method, values in (("PEARL, goal found during exploration", found),
                               ("PEARL, success after exploration", after)):
            rows.append({"method": method, "exploration_trajectories": n, "mean": float(values.mean()),
                         "stderr": float(values.std(ddof=1) / np.sqrt(len(values))), "n": int(values.size),
                         "repeats": repeats, "posterior_trajectories": n_posterior})
        rows.append({"method": "uniform point guesses, goal found", "exploration_trajectories": n,
                     "mean": point_guess_success(goals, n), "stderr": 0.0, "n": 4000 * len(goals),
                     "unit": "share of goals within 0.2 of one of n points uniform on the semicircle"})
    return rows


def random_policy_success(env, n_episodes: int, seed: int) -> float:
    """How often uniformly random actions in [-1, 1]² enter a goal's radius within one episode."""
    gen = torch.Generator().manual_seed(seed)
    hits = []
    for _ in range(n_episodes):
        env.reset()
        total = 0.0
        for _ in range(env.horizon):
            action = torch.rand(env.goals.shape[0], 1, 2, generator=gen, dtype=env.goals.dtype) * 2 - 1
            _, reward, _ = env.step(action)
            total = total + reward[:, 0]
        hits.append((total > 0).float())
    return float(torch.stack(hits).mean())


@register("pearl-point", "PEARL on the sparse point robot (goals on the unit semicircle, 80 train / 20 held out, "
          "H=20, reward only within 0.2): success and return per trajectory at meta-test, the meta-training curve, "
          "and the batched vs looped meta-batch update", default_seeds=(0,))
def pearl_point(preset: str, seeds: list[int]):
    budget = get_budget("bench_pearl_point", preset)
    config = config_from_budget(budget)
    threads = torch.get_num_threads()
    if max(config.net_hidden) <= 128:
        # networks this small step faster on one thread: at laptop, 12 ms per meta-batch step on one thread
        # against 19 ms on two (time_meta_batch_update, the course's 2-core machine)
        torch.set_num_threads(1)
    try:
        return _pearl_point(preset, seeds, budget, config)
    finally:
        torch.set_num_threads(threads)


def _pearl_point(preset: str, seeds: list[int], budget, config: PEARLConfig):
    tasks, train_ids, test_ids = sparse_point_tasks()
    K, n_exp = budget.n_trajectories, config.exploration_trajectories
    success, returns, prior_only, success_alg2, curves, spread = [], [], [], [], [], []
    for seed in seeds:
        curve: list[tuple[int, float, float]] = []

        def evaluate(iteration: int, agent: PEARLAgent) -> None:
            if (iteration + 1) % budget.eval_every == 0 or iteration + 1 == budget.iterations:
                s, _ = held_out_success(agent, tasks, test_ids, K, n_exp, seed, budget.n_test_repeats)
                curve.append((environment_steps(config, len(train_ids), iteration + 1), float(s[-1].mean()),
                              float(s.max(axis=0).mean())))

        agent, history = train_pearl(tasks, train_ids, budget.iterations, config, seed=seed, progress=True,
                                     callback=evaluate)
        save_agent(agent, config, CHECKPOINTS / "pearl-point" / preset / f"PEARL_seed{seed}.pt")
        spread.append({"method": "end points of z ~ prior", "seed": seed, "task": int(test_ids[0]),
                       **(ends := prior_z_endpoints(agent, tasks, int(test_ids[0]))),
                       "mean": max(ends["angle_histogram"]) / 200, "stderr": 0.0, "n": 200,
                       "unit": "fraction of 200 draws ending in the most visited of 10 sectors of [0, π] (0.1 if even)"})
        R = budget.n_test_repeats
        s, r = held_out_success(agent, tasks, test_ids, K, n_exp, 1000 + seed, R)
        s_prior, _ = held_out_success(agent, tasks, test_ids, K, K, 1000 + seed, R)
        s_alg2, _ = held_out_success(agent, tasks, test_ids, K, 1, 1000 + seed, R)
        s_train, _ = held_out_success(agent, tasks, train_ids, K, n_exp, 2000 + seed, R)
        for name, values, ids in (("training", s_train, train_ids), ("held-out", s, test_ids)):
            spread += [{"method": f"PEARL success after exploration by goal sector, {name} goals", "seed": seed, **row}
                       for row in success_by_sector(values, tasks.goals[ids], n_exp)]
        spread += [{**row, "seed": seed} for row in exploration_sweep(
            agent, tasks, test_ids, tuple(budget.exploration_sweep), K - n_exp,
            3000 + seed, R)]
        success_alg2.append(s_alg2)
        success.append(s)
        returns.append(r)
        prior_only.append(s_prior)
        curves.append((curve, history.seconds[-1]))
    rows = _rows(np.stack(success), np.stack(returns), np.stack(prior_only), np.stack(success_alg2), n_exp,
                 budget.n_test_repeats)
    rows.append({"method": "random policy", "trajectory": 1,
                 "mean": random_policy_success(tasks.env(test_ids), 50, 0), "stderr": 0.0, "n": 50 * len(test_ids),
                 "unit": "success rate of one episode of uniform random actions"})
    for seed, (curve, seconds) in zip(seeds, curves):
        rows.append({"method": "PEARL training", "seed": seed, "mean": seconds, "stderr": 0.0, "n": budget.iterations,
                     "unit": "seconds of meta-training", "env_steps": environment_steps(config, len(train_ids),
                                                                                         budget.iterations),
                     "curve": curve})
    rows += spread
    rows += time_meta_batch_update(config, budget.n_timed_steps)
    return rows, figure_from_rows(rows)


def _rows(success: np.ndarray, returns: np.ndarray, prior_only: np.ndarray, success_alg2: np.ndarray,
          n_exp: int, n_repeats: int = 1) -> list[dict]:
    """One row per (method, trajectory index); means over seeds × held-out tasks (each task's value
    already averaged over ``n_repeats`` meta-test runs), stderr over seeds (over tasks when there is one seed)."""
    rows = []
    for method, data in (("PEARL success", success), ("PEARL return", returns),
                         ("PEARL, belief never updated, success", prior_only),
                         ("PEARL, posterior after every trajectory (Algorithm 2), success", success_alg2)):
        for k in range(data.shape[1]):
            per_seed = data[:, k].mean(axis=1)
            spread = per_seed if len(per_seed) > 1 else data[0, k]
            rows.append({"method": method, "trajectory": k + 1, "mean": float(data[:, k].mean()),
                         "stderr": float(spread.std(ddof=1) / np.sqrt(len(spread))), "n": int(data[:, k].size),
                         "phase": _phase(method, k, n_exp), "repeats": n_repeats})
    return rows


def _phase(method: str, k: int, n_exp: int) -> str:
    first_posterior = {"never": np.inf, "Algorithm 2": 1}
    start = next((v for key, v in first_posterior.items() if key in method), n_exp)
    return "exploration (z ~ prior)" if k < start else "posterior"


def time_meta_batch_update(config: PEARLConfig, n_steps: int) -> list[dict]:
    """Seconds per PEARL gradient step on a meta-batch of T tasks: one batched computation
    (tasks stacked in the batch dimension) vs a Python loop of T single-task updates."""
    torch.manual_seed(0)
    T = config.meta_batch
    agent = PEARLAgent(2, 2, config.latent_dim, net_hidden=config.net_hidden, encoder_hidden=config.encoder_hidden)
    optimizers = make_optimizers(agent, config.lr)
    dims = {"observations": 2, "actions": 2, "rewards": 1, "next_observations": 2, "dones": 1}
    batch = {k: torch.randn(T, config.rl_batch, dims[k]) for k in FIELDS}
    batch["dones"].zero_()
    context = torch.randn(T, config.context_batch, 5)

    def batched() -> None:
        pearl_update(agent, optimizers, batch, context, config.kl_weight, config.gamma, config.reward_scale, config.tau)

    def looped() -> None:
        for t in range(T):
            pearl_update(agent, optimizers, {k: v[t:t + 1] for k, v in batch.items()}, context[t:t + 1],
                         config.kl_weight, config.gamma, config.reward_scale, config.tau)

    rows = []
    for method, step in (("meta-batch update, batched over tasks", batched),
                         ("meta-batch update, Python loop over tasks", looped)):
        step()
        start = time.perf_counter()
        for _ in range(n_steps):
            step()
        seconds = (time.perf_counter() - start) / n_steps
        rows.append({"method": method, "tasks": T, "mean": seconds, "stderr": 0.0, "n": n_steps,
                     "unit": "seconds per meta-batch gradient step", "threads": torch.get_num_threads()})
    rows.append({"method": "speed-up of batching", "tasks": T, "mean": rows[1]["mean"] / rows[0]["mean"],
                 "stderr": 0.0, "n": n_steps})
    return rows


def figure_from_rows(rows: list[dict]):
    """The bench's figure, drawn from its JSON rows alone (so a result file's PNG can be redrawn): the
    success per meta-test trajectory, and each seed's meta-training curve (kept in its "PEARL training" row)."""
    import matplotlib.pyplot as plt

    n_exp = len({r["trajectory"] for r in rows if r["method"] == "PEARL success"
                 and str(r.get("phase", "")).startswith("exploration")})
    curves = [(r["curve"], r["mean"]) for r in rows if r["method"] == "PEARL training"]

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    labels = {"PEARL success": ("C0", f"PEARL ({n_exp} exploration trajectories)"),
              "PEARL, posterior after every trajectory (Algorithm 2), success": ("C2", "PEARL (Algorithm 2)"),
              "PEARL, belief never updated, success": ("C7", "z from the prior only")}
    for method, (color, label) in labels.items():
        pts = sorted((r["trajectory"], r["mean"], r["stderr"]) for r in rows if r["method"] == method)
        k, m, s = map(np.array, zip(*pts))
        ax.errorbar(k, m, yerr=s, marker="o", color=color, capsize=3, label=label)
    random = next(r["mean"] for r in rows if r["method"] == "random policy")
    ax.axhline(random, color="k", linestyle=":", label="random actions")
    ax.axvspan(0.5, n_exp + 0.5, color="C1", alpha=0.1, label="exploration (z ~ prior)")
    ax.set(xlabel="trajectory on the held-out task", ylabel="success rate", ylim=(-0.02, 1.02),
           title="Sparse point robot: meta-test on 20 held-out goals")
    ax.legend(fontsize=8)
    for i, (curve, _) in enumerate(curves):
        if curve:
            steps, last, any_ = zip(*curve)
            ax2.plot(steps, last, "C0-o", label="last trajectory" if i == 0 else None)
            ax2.plot(steps, any_, "C2--", label="any trajectory" if i == 0 else None)
    ax2.set(xlabel="environment steps", ylabel="held-out success rate", ylim=(-0.02, 1.02),
            title="PEARL meta-training")
    ax2.ticklabel_format(axis="x", style="sci", scilimits=(0, 0))
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig
