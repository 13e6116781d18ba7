"""MAML's adaptation curve on 2D navigation under two protocols for the linear baseline.

fresh: ours; each step's advantages use a baseline fitted on that step's own trajectories.
stale: what rllab's sampler does (``BaseSampler.process_samples`` in cbfinn/maml_rl predicts
       with the baseline *before* refitting it): each step uses the fit of the previous
       step's trajectories, and the first step, before any fit, a baseline of zero.

Usage: python benchmarks/results/maml-nav-stale-baseline.py CHECKPOINT.pt [...]
(the checkpoints ``metarl-course bench maml-nav`` writes under build/bench/maml-nav/).
Prints mean return (± standard error over the 40 held-out goals) after 0-3 steps of
α, α/2, α/2, with 20 and 40 trajectories per step.
"""
import sys

import numpy as np
import torch

from metarl_course.maml import GaussianMLPPolicy, adapt, navigation_test_tasks, per_task, sample_episodes
from metarl_course.policy_gradient import baseline_features, compute_advantages, discounted_returns, normalize_advantages

GAMMA = 0.99


def _features(episodes) -> torch.Tensor:
    """φ(s, t) of every step, masked, as (M, N·T, F) in float64."""
    phi = baseline_features(episodes.observations).double() * episodes.mask[..., None].double()
    return phi.reshape(phi.shape[0], -1, phi.shape[-1])


def fit_weights(episodes, reg: float = 1e-5) -> torch.Tensor:
    """Each task's ridge-regression weights w_i = (ΦᵀΦ + reg·I)⁻¹ ΦᵀG, shape (M, F, 1)."""
    phi = _features(episodes)
    returns = discounted_returns(episodes.rewards, episodes.mask, GAMMA) * episodes.mask
    eye = torch.eye(phi.shape[-1], dtype=torch.float64)
    return torch.linalg.solve(phi.transpose(1, 2) @ phi + reg * eye, phi.transpose(1, 2) @ returns.double().reshape(phi.shape[0], -1, 1))


def stale_advantages(episodes, weights: torch.Tensor | None) -> torch.Tensor:
    """normalise(G - b) with b from ``weights`` fitted on other trajectories (b = 0 when None)."""
    returns = discounted_returns(episodes.rewards, episodes.mask, GAMMA)
    values = torch.zeros_like(returns) if weights is None else (_features(episodes) @ weights).reshape(returns.shape).float()
    return normalize_advantages(returns - values, episodes.mask)


@torch.no_grad()
def curve(policy, env, feats, step_sizes, stale: bool, seed: int = 0) -> list[str]:
    generator = torch.Generator().manual_seed(777 + seed)  # the bench's draws
    M = feats.shape[0]
    params = per_task({k: v.detach() for k, v in policy.named_parameters()}, M)
    out, weights = [], None
    for k in range(len(step_sizes) + 1):
        episodes = sample_episodes(policy, params, env, generator, None)
        per_goal = episodes.returns_per_episode.mean(dim=1)
        out.append(f"{float(per_goal.mean()):.2f} ± {float(per_goal.std() / np.sqrt(M)):.2f}")
        if k < len(step_sizes):
            advantages = stale_advantages(episodes, weights) if stale else compute_advantages(episodes, GAMMA)
            weights = fit_weights(episodes)
            params = {n: v.detach() for n, v in adapt(policy, params, episodes, advantages, step_sizes[k], True).items()}
    return out


def main(paths: list[str]) -> None:
    for path in paths:
        state = torch.load(path, weights_only=False)
        alpha = state["config"]["inner_step"]
        policy = GaussianMLPPolicy(2, 2, tuple(state["config"]["hidden"]))
        policy.load_state_dict(state["policy"])
        sigma = [round(float(x), 2) for x in policy.log_std.detach().exp()]
        print(f"{path}: {state['iteration']} meta-iterations, α = {alpha}, σ = {sigma}")
        for n in (20, 40):
            env, feats = navigation_test_tasks(40, n)
            for stale in (False, True):
                print(f"  {n} trajectories per step, {'stale' if stale else 'fresh'} baseline:",
                      curve(policy, env, feats, (alpha, alpha / 2, alpha / 2), stale))


if __name__ == "__main__":
    main(sys.argv[1:])
