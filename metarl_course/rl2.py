"""RL²: fast reinforcement learning via slow reinforcement learning (Duan et al. 2016).

The idea: a recurrent policy that is *not reset between the episodes of a task* can
implement a learning algorithm in its hidden state. At every step it sees

    x_t = [ o_t,  onehot(a_{t-1}),  r_{t-1},  d_{t-1} ]

(the observation, its previous action, the reward that action earned, and whether the
previous step ended an episode) and updates h_t = GRU(x_t, h_{t-1}). A *trial* is n
episodes on one task drawn from p(T); h is reset only between trials. The outer,
"slow" RL trains the GRU's weights to maximise the total reward of the whole trial,

    J(θ) = E_{T ~ p(T)} E_{trial} [ sum over all steps of all n episodes of r_t ],

so that exploring early in the trial and exploiting later is what the gradient rewards.
The slow learner here is PPO (clipped surrogate) with GAE(γ, λ) on batches of trials
simulated as arrays: ``BanditTrials`` (each pull a one-step episode) and ``MDPTrials``
(episodes of T steps on a random tabular MDP).

The three pieces a student writes in the notebook are arguments of ``train_rl2``:
``encode`` (the input x_t), ``advantage_fn`` (GAE) and ``policy_loss`` (PPO's clipped
surrogate); the defaults are the reference versions below. Keeping the hidden state
across episodes is the fourth: it is what ``collect_trials`` does, and what the
notebook asks the student to do in their own rollout loop.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

import numpy as np
import torch
import torch.nn as nn
from torch.distributions import Categorical

from metarl_course.checkpoint_code import checkpoint_due, save_checkpoint
from metarl_course.envs.bandits import BatchedBernoulliBandit, sample_arm_means
from metarl_course.envs.tabular_mdp import HORIZON, BatchedTabularMDP, sample_mdps


# -- the three core pieces ----------------------------------------------------------
def rl2_inputs(obs: torch.Tensor, prev_action: torch.Tensor, prev_reward: torch.Tensor,
               prev_done: torch.Tensor, n_actions: int) -> torch.Tensor:
    """x_t = [o_t, onehot(a_{t-1}), r_{t-1}, d_{t-1}], shape (B, obs_dim + n_actions + 2).

    At the start of a trial there is no previous action: ``prev_action`` is -1 there and
    its one-hot is all zeros (and the previous reward and done flag are 0).
    """
    onehot = torch.zeros(prev_action.shape[0], n_actions, dtype=obs.dtype, device=obs.device)
    has_action = prev_action >= 0
    onehot[has_action, prev_action[has_action]] = 1.0
    return torch.cat([obs, onehot, prev_reward[:, None], prev_done[:, None]], dim=1)


def gae(rewards: torch.Tensor, values: torch.Tensor, gamma: float, lam: float) -> torch.Tensor:
    """Generalised advantage estimates over a trial, shapes (T, B) -> (T, B).

    δ_t = r_t + γ V(x_{t+1}) - V(x_t),   A_t = δ_t + γ λ A_{t+1},
    with V = 0 after the last step of the trial. Episode boundaries *inside* a trial are
    not cut: in RL² the return runs across the episodes of a trial.
    """
    T = rewards.shape[0]
    advantages = torch.zeros_like(rewards)
    next_value = torch.zeros_like(rewards[0])
    running = torch.zeros_like(rewards[0])
    for t in reversed(range(T)):
        delta = rewards[t] + gamma * next_value - values[t]
        running = delta + gamma * lam * running
        advantages[t] = running
        next_value = values[t]
    return advantages


def ppo_clip_loss(logp: torch.Tensor, old_logp: torch.Tensor, advantages: torch.Tensor, clip: float) -> torch.Tensor:
    """PPO's clipped surrogate, to minimise:  -E[ min(ρ A, clip(ρ, 1-ε, 1+ε) A) ],  ρ = π/π_old."""
    ratio = torch.exp(logp - old_logp)
    clipped = torch.clamp(ratio, 1.0 - clip, 1.0 + clip)
    return -torch.min(ratio * advantages, clipped * advantages).mean()


# -- the recurrent policy --------------------------------------------------------------
class RL2Policy(nn.Module):
    """GRU over the trial, with a categorical policy head and a value head."""

    def __init__(self, input_size: int, n_actions: int, hidden_size: int = 256) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.gru = nn.GRU(input_size, hidden_size)
        self.policy_head = nn.Linear(hidden_size, n_actions)
        self.value_head = nn.Linear(hidden_size, 1)
        nn.init.orthogonal_(self.policy_head.weight, gain=0.01)
        nn.init.zeros_(self.policy_head.bias)

    def initial_state(self, batch_size: int, device=None) -> torch.Tensor:
        """The empty memory every trial starts from."""
        return torch.zeros(1, batch_size, self.hidden_size, device=device)

    def forward(self, inputs: torch.Tensor, h: torch.Tensor):
        """inputs (T, B, D), h (1, B, H) -> logits (T, B, A), values (T, B), h_T."""
        out, h = self.gru(inputs, h)
        return self.policy_head(out), self.value_head(out).squeeze(-1), h


# -- trial environments: B trials stepped at once ----------------------------------------
class TrialEnv(Protocol):
    """What ``collect_trials`` needs: B trials of ``n_steps`` steps, stepped together."""

    batch_size: int
    obs_dim: int
    n_actions: int
    n_steps: int

    def reset(self) -> np.ndarray: ...  # observations (B, obs_dim) at the start of the trial

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...  # obs, rewards, dones


class BanditTrials:
    """B Bernoulli-bandit trials of n pulls; every pull is a one-step episode (done = 1).

    A bandit has a single state, so the observation is the constant 0.
    """

    obs_dim = 1

    def __init__(self, means: np.ndarray, n: int, seed: int | np.random.SeedSequence | None = None) -> None:
        self.bandit = BatchedBernoulliBandit(means, seed=seed)
        self.batch_size, self.n_actions, self.n_steps = self.bandit.batch_size, self.bandit.k, n

    def reset(self) -> np.ndarray:
        return np.zeros((self.batch_size, 1))

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rewards = self.bandit.pull(actions)
        return np.zeros((self.batch_size, 1)), rewards, np.ones(self.batch_size)


class MDPTrials:
    """B trials of ``n_episodes`` episodes of T steps, each trial on its own tabular MDP.

    The observation is the one-hot state. When an episode ends (every T steps) the
    environment goes back to the start state, but the *policy's memory does not*: the
    done flag d = 1 is all it is told.
    """

    def __init__(self, transitions: np.ndarray, mean_rewards: np.ndarray, n_episodes: int,
                 seed: int | np.random.SeedSequence | None = None, horizon: int = HORIZON) -> None:
        self.mdp = BatchedTabularMDP(transitions, mean_rewards, horizon=horizon, seed=seed)
        self.batch_size, self.obs_dim, self.n_actions = self.mdp.batch_size, self.mdp.n_states, self.mdp.n_actions
        self.n_steps = n_episodes * horizon

    def _one_hot(self, states: np.ndarray) -> np.ndarray:
        return np.eye(self.obs_dim)[states]

    def reset(self) -> np.ndarray:
        return self._one_hot(self.mdp.reset())

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        states, rewards, _, truncated, _ = self.mdp.step(actions)
        if truncated.all():
            states = self.mdp.reset()
        return self._one_hot(states), rewards, truncated.astype(np.float64)


# -- collecting trials -----------------------------------------------------------------
@dataclass
class Trials:
    """A batch of B trials of T steps, everything of shape (T, B, ...)."""

    inputs: torch.Tensor
    actions: torch.Tensor
    logp: torch.Tensor
    values: torch.Tensor
    rewards: torch.Tensor
    dones: torch.Tensor

    @property
    def totals(self) -> np.ndarray:
        """Total reward of each trial, shape (B,)."""
        return self.rewards.sum(0).cpu().numpy()

    def episode_returns(self, n_episodes: int) -> np.ndarray:
        """Return of each episode of each trial, shape (B, n_episodes)."""
        T, B = self.rewards.shape
        return self.rewards.reshape(n_episodes, T // n_episodes, B).sum(1).T.cpu().numpy()


def _as_tensor(array: np.ndarray, device) -> torch.Tensor:
    return torch.as_tensor(array, dtype=torch.float32, device=device)


@torch.no_grad()
def collect_trials(policy: RL2Policy, env: TrialEnv, encode: Callable = rl2_inputs,
                   greedy: bool = False, device=None) -> Trials:
    """Play one trial in each of the B rows of ``env``, all at once.

    The hidden state h starts empty and is carried through *every* step of the trial,
    across episode boundaries; at step t the policy reads x_t = encode(o_t, a_{t-1},
    r_{t-1}, d_{t-1}). Nothing else tells it where episodes end.
    """
    B = env.batch_size
    obs = _as_tensor(env.reset(), device)
    prev_action = torch.full((B,), -1, dtype=torch.long, device=device)
    prev_reward = torch.zeros(B, device=device)
    prev_done = torch.zeros(B, device=device)
    h = policy.initial_state(B, device)
    steps: dict[str, list[torch.Tensor]] = {key: [] for key in ("inputs", "actions", "logp", "values", "rewards", "dones")}
    for _ in range(env.n_steps):
        x = encode(obs, prev_action, prev_reward, prev_done, env.n_actions)
        logits, value, h = policy(x[None], h)
        dist = Categorical(logits=logits[0])
        action = logits[0].argmax(-1) if greedy else dist.sample()
        next_obs, reward, done = env.step(action.cpu().numpy())
        reward, done = _as_tensor(reward, device), _as_tensor(done, device)
        for key, item in zip(steps, (x, action, dist.log_prob(action), value[0], reward, done)):
            steps[key].append(item)
        obs, prev_action, prev_reward, prev_done = _as_tensor(next_obs, device), action, reward, done
    return Trials(**{key: torch.stack(items) for key, items in steps.items()})


def collect_bandit_trials(policy: RL2Policy, means: np.ndarray, n: int, seed: int,
                          encode: Callable = rl2_inputs, greedy: bool = False, device=None) -> Trials:
    """One trial of ``n`` pulls on each bandit task (rows of ``means``)."""
    return collect_trials(policy, BanditTrials(means, n, seed), encode, greedy, device)


def collect_mdp_trials(policy: RL2Policy, transitions: np.ndarray, mean_rewards: np.ndarray, n_episodes: int,
                       seed: int, encode: Callable = rl2_inputs, greedy: bool = False, device=None) -> Trials:
    """One trial of ``n_episodes`` episodes on each tabular MDP (rows of the arrays)."""
    return collect_trials(policy, MDPTrials(transitions, mean_rewards, n_episodes, seed), encode, greedy, device)


# -- training ----------------------------------------------------------------------------
@dataclass
class RL2Config:
    """PPO settings (clip 0.1, 8 epochs, entropy 0.01, GAE λ = 0.3 as in the public
    re-implementation that matched the paper), with fewer observations per update and a
    larger learning rate so that a laptop sees learning within minutes.

    ``anneal`` decays the learning rate and the entropy bonus linearly to zero over the
    run, which lets the policy settle on exploiting once it has learned to explore.
    ``reward_scale`` multiplies rewards before GAE and the value loss (MDP trials
    have returns of hundreds; the value head learns better on numbers near 1).
    """

    hidden_size: int = 256
    trials_per_update: int = 256
    updates: int = 300
    lr: float = 3e-3
    gamma: float = 0.99
    gae_lambda: float = 0.3
    clip: float = 0.1
    epochs: int = 8
    minibatches: int = 4
    entropy_coef: float = 0.01
    value_coef: float = 0.5
    max_grad_norm: float = 0.5
    reward_scale: float = 1.0
    anneal: bool = True


@dataclass
class History:
    """One entry per update: the mean total reward of that update's training trials."""

    update: list[int] = field(default_factory=list)
    mean_total_reward: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)


def train_rl2(make_trials: Callable[[int], TrialEnv], obs_dim: int, n_actions: int, config: RL2Config,
              seed: int = 0, encode: Callable = rl2_inputs, advantage_fn: Callable = gae,
              policy_loss: Callable = ppo_clip_loss, collect: Callable = collect_trials,
              device=None, progress: bool = False, checkpoint: str | Path | None = None, desc: str = "RL²",
              warm_start: RL2Policy | None = None) -> tuple[RL2Policy, History]:
    """The slow reinforcement learning of RL²: PPO over batches of whole trials.

    ``make_trials(update)`` returns that update's batch of fresh tasks as a ``TrialEnv``.
    The four pieces a student can swap in: ``encode``, ``collect`` (the rollout that keeps
    the hidden state across episodes), ``advantage_fn`` and ``policy_loss``.
    With ``checkpoint`` the policy, optimiser and history are saved there every 10
    updates, after any update that ends a minute after the last save, and at the end;
    a run that finds the file resumes from it (long runs are cut in pieces). ``warm_start``
    is a trained policy to start from instead of fresh weights (a curriculum: the GRU's inputs do not depend on the trial length, so a policy
    trained on short trials can go on training on long ones).
    """
    torch.manual_seed(seed)
    device = device or torch.device("cpu")
    policy = RL2Policy(obs_dim + n_actions + 2, n_actions, config.hidden_size).to(device)
    if warm_start is not None:
        policy.load_state_dict(warm_start.state_dict())
    optimizer = torch.optim.Adam(policy.parameters(), lr=config.lr, eps=1e-5)
    history = History()
    if checkpoint is not None and Path(checkpoint).exists():
        history = _load_checkpoint(checkpoint, policy, optimizer)
    updates = range(len(history.update), config.updates)
    if progress:
        from metarl_course.session import progress_bar
        updates = progress_bar(updates, desc=desc, initial=len(history.update), total=config.updates)
    since_save = 0.0
    for update in updates:
        start = time.perf_counter()
        fraction_left = 1.0 - update / config.updates if config.anneal else 1.0
        for group in optimizer.param_groups:
            group["lr"] = config.lr * fraction_left
        trials = collect(policy, make_trials(update), encode, device=device)
        ppo_update(policy, optimizer, trials, config, advantage_fn, policy_loss,
                   entropy_coef=config.entropy_coef * fraction_left)
        history.update.append(update)
        history.mean_total_reward.append(float(trials.totals.mean()))
        history.seconds.append(time.perf_counter() - start)
        if progress:
            updates.set_postfix(reward=f"{history.mean_total_reward[-1]:.2f}")
        since_save += history.seconds[-1]
        if checkpoint is not None and checkpoint_due(update + 1, config.updates, since_save):
            _save_checkpoint(checkpoint, policy, optimizer, history)
            since_save = 0.0
    return policy, history


def _save_checkpoint(path, policy: RL2Policy, optimizer, history: History) -> None:
    save_checkpoint({"policy": policy.state_dict(), "optimizer": optimizer.state_dict(), "history": vars(history)}, path)


def _load_checkpoint(path, policy: RL2Policy, optimizer) -> History:
    state = torch.load(path, map_location=next(policy.parameters()).device)
    policy.load_state_dict(state["policy"])
    optimizer.load_state_dict(state["optimizer"])
    return History(**state["history"])


def _task_seed(seed: int, update: int) -> int:
    return seed * 1_000_003 + update


def _env_seed(seed: int, update: int) -> np.random.SeedSequence:
    """The seed of an update's environment noise (rewards, transitions), a stream apart from
    ``_task_seed``'s. (It was the integer ``seed * 7_919 + update``, equal to the task seed
    at seed 0: each batch's first pulls then replayed the uniforms that drew its arm means, and
    the MDP reward noise the normals that drew the batch's mean rewards.)"""
    return np.random.SeedSequence((seed, update, 7_919))


def train_rl2_bandits(k: int, n: int, config: RL2Config, seed: int = 0, **kwargs) -> tuple[RL2Policy, History]:
    """Meta-train an RL² policy on Bernoulli bandits with k arms and trials of n pulls."""
    def make_trials(update: int) -> BanditTrials:
        means = sample_arm_means(config.trials_per_update, k, seed=_task_seed(seed, update))
        return BanditTrials(means, n, seed=_env_seed(seed, update))

    return train_rl2(make_trials, 1, k, config, seed, desc=f"RL² bandits k={k} n={n}", **kwargs)


def train_rl2_mdps(n_episodes: int, config: RL2Config, seed: int = 0, **kwargs) -> tuple[RL2Policy, History]:
    """Meta-train an RL² policy on random tabular MDPs with trials of ``n_episodes`` episodes."""
    def make_trials(update: int) -> MDPTrials:
        transitions, mean_rewards = sample_mdps(config.trials_per_update, seed=_task_seed(seed, update))
        return MDPTrials(transitions, mean_rewards, n_episodes, seed=_env_seed(seed, update))

    transitions, _ = sample_mdps(1, seed=0)
    n_states, n_actions = transitions.shape[1], transitions.shape[2]
    return train_rl2(make_trials, n_states, n_actions, config, seed, desc=f"RL² MDPs n={n_episodes}", **kwargs)


def ppo_update(policy: RL2Policy, optimizer, trials: Trials, config: RL2Config,
               advantage_fn: Callable = gae, policy_loss: Callable = ppo_clip_loss,
               entropy_coef: float | None = None) -> None:
    """Several epochs of PPO on whole trials (the GRU is unrolled from the trial's start)."""
    entropy_coef = config.entropy_coef if entropy_coef is None else entropy_coef
    rewards = trials.rewards * config.reward_scale
    advantages = advantage_fn(rewards, trials.values, config.gamma, config.gae_lambda)
    returns = advantages + trials.values
    advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    B = trials.actions.shape[1]
    for _ in range(config.epochs):
        for idx in torch.randperm(B).chunk(config.minibatches):
            logits, values, _ = policy(trials.inputs[:, idx], policy.initial_state(len(idx), trials.inputs.device))
            dist = Categorical(logits=logits)
            logp = dist.log_prob(trials.actions[:, idx])
            loss = (policy_loss(logp, trials.logp[:, idx], advantages[:, idx], config.clip)
                    + config.value_coef * ((values - returns[:, idx]) ** 2).mean()
                    - entropy_coef * dist.entropy().mean())
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(policy.parameters(), config.max_grad_norm)
            optimizer.step()


def evaluate_rl2_bandits(policy: RL2Policy, k: int, n: int, n_trials: int, seed: int, device=None) -> np.ndarray:
    """Total reward of each of ``n_trials`` held-out trials (the policy samples its actions;
    the seed fixes the tasks, the rewards and the policy's samples)."""
    torch.manual_seed(seed)
    means = sample_arm_means(n_trials, k, seed=10**9 + seed)
    return collect_bandit_trials(policy, means, n, seed=seed, device=device).totals


def evaluate_rl2_mdps(policy: RL2Policy, n_episodes: int, n_trials: int, seed: int, device=None) -> np.ndarray:
    """Total reward of each of ``n_trials`` held-out trials on fresh MDPs (seeded like
    ``evaluate_rl2_bandits``)."""
    torch.manual_seed(seed)
    transitions, mean_rewards = sample_mdps(n_trials, seed=10**9 + seed)
    return collect_mdp_trials(policy, transitions, mean_rewards, n_episodes, seed=seed, device=device).totals
