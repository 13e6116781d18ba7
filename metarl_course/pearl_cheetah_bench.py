"""Benchmark ``pearl-cheetah-vel``: PEARL on HalfCheetah velocity (Rakelly et al. 2019, Figure 3).

For each seed: meta-train PEARL on the 100 training velocities, and every ``eval_every``
iterations run the meta-test protocol on the 30 held-out velocities (the meta-training
curve against environment steps). The protocol is the official one for this task: two
exploration trajectories, each with z drawn from the prior, then one trajectory with z
from the posterior of everything seen; the reported number is the return of that last
trajectory, averaged over the held-out tasks, with a deterministic policy.

Three yardsticks frame the return (H = 200, reward -|v_x - v*| - 0.05 ||a||²): standing
still scores about -200 · E[v*] = -300; the best single velocity for every task (1.5 m/s,
no adaptation at all) about -200 · E|v* - 1.5| = -150; a perfect tracker only pays the
control cost. The bench also reports the same agent without adaptation (z from the prior
on every trajectory) and the velocity it reaches on each held-out task, the clearest
picture of what the posterior buys.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from metarl_course.bench import register
from metarl_course.evaluation import mean_and_stderr
from metarl_course.pearl import PEARLAgent, PEARLConfig, config_from_budget, environment_steps, meta_test, train_pearl
from metarl_course import pearl_bench
from metarl_course.pearl_bench import save_agent
from metarl_course.pearl_cheetah import CheetahVelTasks, cheetah_vel_tasks
from metarl_course.presets import get_budget

CHECKPOINTS = Path("build/bench")
X_VELOCITY = 8  # index of the root's forward velocity in gymnasium v5 HalfCheetah observations (qpos[1:], qvel)


def cheetah_config(budget) -> PEARLConfig:
    """The preset's PEARL settings, with the HalfCheetah-velocity constants (γ = 0.99; H = 200
    except at ``ci``; the official 600 extra posterior steps in ``extra_posterior_trajectories``)."""
    return config_from_budget(budget, gamma=0.99, horizon=budget.horizon,
                              extra_posterior_trajectories=budget.extra_posterior_trajectories)


def load_agent(path: Path) -> tuple[PEARLAgent, PEARLConfig]:
    """A HalfCheetah-velocity agent saved by this bench (``pearl_bench.save_agent``)."""
    return pearl_bench.load_agent(path, CheetahVelTasks.obs_dim, CheetahVelTasks.act_dim)


def evaluate(agent: PEARLAgent, tasks: CheetahVelTasks, test_ids: np.ndarray, n_trajectories: int,
             n_exploration: int, seed: int) -> dict[str, np.ndarray]:
    """The meta-test protocol on the held-out tasks: the return of every trajectory (K, M) and the
    mean forward velocity of every trajectory (K, M)."""
    env = tasks.env(test_ids, seed)
    returns, context = meta_test(agent, env, n_trajectories, n_exploration,
                                 generator=torch.Generator().manual_seed(seed))
    return {"returns": returns.cpu().numpy(), "velocity": trajectory_velocities(context, n_trajectories)}


def trajectory_velocities(context: dict[str, torch.Tensor], n_trajectories: int) -> np.ndarray:
    """The mean forward velocity of every trajectory, (K, M), from a meta-test's context of M tasks
    and K trajectories each (``next_observations`` of shape (M, K·H, obs_dim), trajectories in order)."""
    forward = context["next_observations"][..., X_VELOCITY]
    return forward.reshape(forward.shape[0], n_trajectories, -1).mean(-1).T.cpu().numpy()


def random_policy_return(tasks: CheetahVelTasks, test_ids: np.ndarray, seed: int) -> np.ndarray:
    """The return of one episode of uniform random actions on each held-out task."""
    env = tasks.env(test_ids, seed)
    gen = torch.Generator().manual_seed(seed)
    env.reset()
    total = torch.zeros(len(test_ids))
    for _ in range(env.horizon):
        _, reward, _ = env.step(torch.rand(len(test_ids), 1, tasks.act_dim, generator=gen) * 2 - 1)
        total += reward[:, 0]
    return total.numpy()


def mean_row(method: str, values: np.ndarray, **extra) -> dict:
    """A result row: the mean of ``values`` (one per held-out task) ± its standard error."""
    values = np.asarray(values, dtype=float).reshape(-1)
    mean, stderr = mean_and_stderr(values)
    return {"method": method, "mean": float(mean), "stderr": float(stderr), "n": int(len(values)), **extra}


@register("pearl-cheetah-vel", "PEARL on HalfCheetah velocity (v* ~ U[0, 3], H=200, 100 train / 30 held-out "
          "tasks): held-out return after adaptation vs environment steps, per-trajectory returns and the "
          "velocity reached on each held-out task", default_seeds=(0,))
def pearl_cheetah_vel(preset: str, seeds: list[int]):
    budget = get_budget("bench_pearl_cheetah_vel", preset)
    config = cheetah_config(budget)
    tasks, train_ids, test_ids = cheetah_vel_tasks(budget.n_train, budget.n_test, budget.horizon)
    K, n_exp = budget.n_trajectories, config.exploration_trajectories
    rows, curves, finals = [], [], []
    for seed in seeds:
        curve: list[tuple[int, float, float]] = []

        def on_iteration(iteration: int, agent: PEARLAgent) -> None:
            if (iteration + 1) % budget.eval_every == 0 or iteration + 1 == budget.iterations:
                result = evaluate(agent, tasks, test_ids, K, n_exp, seed)
                steps = environment_steps(config, len(train_ids), iteration + 1)
                curve.append((steps, float(result["returns"][-1].mean()), float(result["returns"][0].mean())))
                print(f"iteration {iteration + 1}: {steps} env steps, held-out return {curve[-1][1]:.1f} "
                      f"after adaptation, {curve[-1][2]:.1f} on the first exploration trajectory", flush=True)

        start = time.perf_counter()
        agent, history = train_pearl(tasks, train_ids, budget.iterations, config, seed=seed, progress=True,
                                     callback=on_iteration)
        seconds = time.perf_counter() - start
        save_agent(agent, config, CHECKPOINTS / "pearl-cheetah-vel" / preset / f"PEARL_seed{seed}.pt")
        adapted = evaluate(agent, tasks, test_ids, K, n_exp, 1000 + seed)
        prior_only = evaluate(agent, tasks, test_ids, K, K, 1000 + seed)
        finals.append((adapted, prior_only))
        for k in range(K):
            phase = "exploration (z ~ prior)" if k < n_exp else "posterior"
            rows.append(mean_row("PEARL return", adapted["returns"][k], seed=seed, trajectory=k + 1, phase=phase))
            rows.append(mean_row("PEARL, belief never updated, return", prior_only["returns"][k], seed=seed,
                                  trajectory=k + 1, phase="exploration (z ~ prior)"))
        rows.append(mean_row("PEARL |velocity - target|, last trajectory",
                              np.abs(adapted["velocity"][-1] - tasks.goals[test_ids, 0]), seed=seed,
                              unit="m/s, mean over the trajectory's steps"))
        rows.append({"method": "PEARL training", "seed": seed, "mean": seconds, "stderr": 0.0,
                     "n": budget.iterations, "unit": "seconds of meta-training (evaluations included)",
                     "env_steps": environment_steps(config, len(train_ids), budget.iterations),
                     "gradient_steps": budget.iterations * config.gradient_steps,
                     "threads": torch.get_num_threads(), "curve": curve,
                     "critic_loss": history.critic, "kl": history.kl})
        curves.append(curve)
    rows.append(mean_row("random policy return", random_policy_return(tasks, test_ids, 0)))
    targets = tasks.goals[test_ids, 0]
    rows.append(mean_row("best single velocity (1.5 m/s), no adaptation: -H |v* - 1.5|",
                          -budget.horizon * np.abs(targets - 1.5), unit="return without the control cost"))
    tasks.close()
    return rows, _figure(curves, finals, targets, n_exp, rows[-1]["mean"])


def _figure(curves: list, finals: list, targets: np.ndarray, n_exp: int, one_velocity: float):
    import matplotlib.pyplot as plt

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for i, curve in enumerate(curves):
        if curve:
            steps, after, first = zip(*curve)
            ax.plot(steps, after, "C0-o", label="after adaptation (last trajectory)" if i == 0 else None)
            ax.plot(steps, first, "C7--", label="first trajectory (z ~ prior)" if i == 0 else None)
    ax.axhline(one_velocity, color="k", linestyle=":", label="one velocity for every task (1.5 m/s)")
    ax.set(xlabel="environment steps", ylabel="held-out return", title="PEARL meta-training, HalfCheetah velocity")
    ax.ticklabel_format(axis="x", style="sci", scilimits=(0, 0))
    ax.legend(fontsize=8)
    adapted, prior_only = finals[0]
    order = np.argsort(targets)
    ax2.plot(targets[order], targets[order], "k:", label="target")
    ax2.plot(targets[order], adapted["velocity"][-1][order], "C0o-", label=f"after {n_exp} exploration trajectories")
    ax2.plot(targets[order], prior_only["velocity"][-1][order], "C7s--", label="z ~ prior (no adaptation)")
    ax2.set(xlabel="target velocity v* (m/s)", ylabel="mean forward velocity (m/s)",
            title="Velocity reached on the 30 held-out tasks")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig
