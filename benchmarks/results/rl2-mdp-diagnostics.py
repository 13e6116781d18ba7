"""Why RL² plateaus near 117 on tabular MDPs at the laptop preset: the diagnostics behind
the `rl2-mdp` section of benchmarks/README.md.

Two commands (run from the repository root; one thread is enough):

  python benchmarks/results/rl2-mdp-diagnostics.py heuristics [--states 10]
      hand-written strategies on 1000 MDPs (n = 10 episodes): greedy with the posterior of
      the kit's baselines (prior mean 0 as the paper's table, and 1), a per-state greedy that
      ignores transitions, and a *state-agnostic* greedy that treats the MDP as one 5-armed
      bandit (it pools every reward of an action, whatever the state).

  python benchmarks/results/rl2-mdp-diagnostics.py train [--fixed] [--stats | --prevstate] [--states S]
                                                         [--updates U] [--hidden H]
      RL² with the laptop preset's settings (GRU 64, 128 trials per update, PPO, reward
      scale 0.1), evaluated on 1000 held-out MDPs; prints the total, the mean return of
      each episode of the trial, and how often a trial repeats its most frequent action
      (1/5 for a uniform choice; near 1 for a player that ignores the state).
      --fixed  the same MDP in every trial (a learner that works must approach its oracle);
      --stats  a control that is not RL²: the observation also carries, for the current
               state, each action's posterior-mean reward and 1 / (1 + its count), so the
               GRU needs no memory of its own to act per state;
      --prevstate  a second control: the observation also carries the previous state's one-hot,
               so the state in which the previous reward was earned is an input;
      --hidden  the GRU's width (64, the laptop preset's, by default).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from metarl_course.baselines.tabular_mdp import optimal_episode_return, plan_greedy, run_mdp_agent
from metarl_course.envs.tabular_mdp import BatchedTabularMDP, sample_mdps
from metarl_course.rl2 import MDPTrials, RL2Config, _env_seed, _task_seed, collect_trials, train_rl2

N_EPISODES, N_ACTIONS, N_EVAL = 10, 5, 1000


def state_agnostic_greedy(transitions: np.ndarray, mean_rewards: np.ndarray, prior_mean: float = 1.0) -> np.ndarray:
    """Totals of a greedy bandit player that ignores the state: Q(a) = (μ₀ + Σ r(a)) / (1 + N(a))."""
    B = transitions.shape[0]
    env, rng, rows = BatchedTabularMDP(transitions, mean_rewards, seed=1), np.random.default_rng(0), np.arange(B)
    counts, sums, totals = np.zeros((B, N_ACTIONS)), np.zeros((B, N_ACTIONS)), np.zeros(B)
    for _ in range(N_EPISODES):
        env.reset()
        for _ in range(env.horizon):
            q = (prior_mean + sums) / (1.0 + counts) + 1e-9 * rng.random((B, N_ACTIONS))  # random tie-break
            actions = q.argmax(1)
            _, rewards, *_ = env.step(actions)
            counts[rows, actions] += 1
            sums[rows, actions] += rewards
            totals += rewards
    return totals


def plan_per_state_greedy(posterior, horizon: int, rng: np.random.Generator) -> np.ndarray:
    """Q_h(s, a) = the posterior-mean reward of (s, a) at every step: greedy per state, no planning."""
    return np.repeat(posterior.mean_rewards()[:, None], horizon, axis=1)


def heuristics(states: int) -> None:
    P, M = sample_mdps(N_EVAL, 0, n_states=states)
    def show(name: str, totals: np.ndarray) -> None:
        print(f"{name:45s} {totals.mean():6.1f} ± {totals.std(ddof=1) / np.sqrt(len(totals)):.1f}")
    for prior_mean in (0.0, 1.0):
        show(f"greedy (planning), prior mean {prior_mean:g}", run_mdp_agent(plan_greedy, P, M, N_EPISODES, 1, prior_mean=prior_mean))
    show("per-state greedy (no planning), prior mean 1", run_mdp_agent(plan_per_state_greedy, P, M, N_EPISODES, 1))
    show("state-agnostic greedy (one 5-armed bandit)", state_agnostic_greedy(P, M))
    show("oracle (knows the MDP)", N_EPISODES * optimal_episode_return(P, M))


class StatsTrials(MDPTrials):
    """The control: observation = [one-hot s, posterior-mean reward of each action in s, 1 / (1 + N(s, a))]."""

    def _augment(self, one_hot: np.ndarray) -> np.ndarray:
        rows, s = np.arange(len(one_hot)), one_hot.argmax(1)
        self.current = s
        counts, sums = self.counts[rows, s], self.sums[rows, s]
        return np.concatenate([one_hot, (1.0 + sums) / (1.0 + counts), 1.0 / (1.0 + counts)], axis=1)

    def reset(self) -> np.ndarray:
        B, S = self.mdp.transitions.shape[:2]
        self.counts, self.sums = np.zeros((B, S, N_ACTIONS)), np.zeros((B, S, N_ACTIONS))
        return self._augment(super().reset())

    def step(self, actions: np.ndarray):
        rows, s = np.arange(len(actions)), self.current
        obs, rewards, dones = super().step(actions)
        self.counts[rows, s, actions] += 1
        self.sums[rows, s, actions] += rewards
        return self._augment(obs), rewards, dones


class PrevStateTrials(MDPTrials):
    """The second control: observation = [one-hot s_t, one-hot s_{t-1}], so the state in which the
    previous reward was earned is an input, not something the GRU must remember (zeros at a trial's start)."""

    def reset(self) -> np.ndarray:
        self.previous = super().reset()
        return np.concatenate([self.previous, np.zeros_like(self.previous)], axis=1)

    def step(self, actions: np.ndarray):
        obs, rewards, dones = super().step(actions)
        augmented = np.concatenate([obs, self.previous], axis=1)
        self.previous = obs
        return augmented, rewards, dones


def train(args: argparse.Namespace) -> None:
    torch.set_num_threads(1)
    trials_cls = StatsTrials if args.stats else PrevStateTrials if args.prevstate else MDPTrials
    obs_dim = args.states + (2 * N_ACTIONS if args.stats else args.states if args.prevstate else 0)
    fixed = sample_mdps(1, seed=123, n_states=args.states)

    def tasks(batch: int, seed: int):
        if args.fixed:
            return np.repeat(fixed[0], batch, 0), np.repeat(fixed[1], batch, 0)
        return sample_mdps(batch, seed=seed, n_states=args.states)

    def make_trials(update: int):
        P, M = tasks(args.trials, _task_seed(0, update))
        return trials_cls(P, M, N_EPISODES, seed=_env_seed(0, update))  # as train_rl2_mdps draws them

    config = RL2Config(hidden_size=args.hidden, trials_per_update=args.trials, updates=args.updates, lr=3e-3,
                       gamma=0.99, gae_lambda=0.3, reward_scale=0.1)
    start = time.perf_counter()
    policy, history = train_rl2(make_trials, obs_dim, N_ACTIONS, config, seed=0)
    seconds = time.perf_counter() - start
    torch.manual_seed(1)
    P, M = tasks(N_EVAL, 10**9)
    trials = collect_trials(policy, trials_cls(P, M, N_EPISODES, seed=1))
    totals = trials.totals
    print(f"training {seconds:.0f} s; mean total reward every 10 updates:",
          [round(float(np.mean(history.mean_total_reward[i:i + 10])), 1) for i in range(0, args.updates, 10)])
    print(f"held-out total {totals.mean():.2f} ± {totals.std(ddof=1) / np.sqrt(len(totals)):.2f}; "
          f"oracle {float(np.mean(N_EPISODES * optimal_episode_return(P, M))):.1f}")
    actions = trials.actions.cpu().numpy()  # (T, B)
    repeats = np.mean([np.mean(a == np.bincount(a).argmax()) for a in actions.T])
    print(f"fraction of a trial's steps that take its most frequent action: {repeats:.2f}")
    print("mean return of each episode of the trial:", [round(float(x), 2) for x in trials.episode_returns(N_EPISODES).mean(0)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    h = sub.add_parser("heuristics")
    h.add_argument("--states", type=int, default=10)
    t = sub.add_parser("train")
    t.add_argument("--fixed", action="store_true")
    t.add_argument("--stats", action="store_true")
    t.add_argument("--prevstate", action="store_true")
    t.add_argument("--hidden", type=int, default=64)
    t.add_argument("--states", type=int, default=10)
    t.add_argument("--updates", type=int, default=100)
    t.add_argument("--trials", type=int, default=128)
    args = parser.parse_args()
    heuristics(args.states) if args.command == "heuristics" else train(args)


if __name__ == "__main__":
    main()
