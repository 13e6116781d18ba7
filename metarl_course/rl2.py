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
simulated as arrays (``BatchedBernoulliBandit``).

The three pieces a student writes in the notebook are arguments of ``train_rl2``:
``encode`` (the input x_t), ``advantage_fn`` (GAE) and ``policy_loss`` (PPO's clipped
surrogate); the defaults are the reference versions below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
import torch.nn as nn
from torch.distributions import Categorical

from metarl_course.envs.bandits import BatchedBernoulliBandit, sample_arm_means


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


# -- collecting trials -----------------------------------------------------------------
@dataclass
class Trials:
    """A batch of B trials of T steps, everything of shape (T, B, ...)."""

    inputs: torch.Tensor
    actions: torch.Tensor
    logp: torch.Tensor
    values: torch.Tensor
    rewards: torch.Tensor

    @property
    def totals(self) -> np.ndarray:
        return self.rewards.sum(0).cpu().numpy()


@torch.no_grad()
def collect_bandit_trials(policy: RL2Policy, means: np.ndarray, n: int, seed: int,
                          encode=rl2_inputs, greedy: bool = False, device=None) -> Trials:
    """Play one trial of ``n`` pulls on each bandit task (rows of ``means``), all at once.

    Each pull is a one-step episode, so d_{t-1} = 1 at every step after the first; the
    hidden state is carried through all n pulls and only the first step starts empty.
    """
    bandit = BatchedBernoulliBandit(means, seed=seed)
    B, k = bandit.batch_size, bandit.k
    obs = torch.zeros(B, 1, device=device)  # a bandit has one state
    prev_action = torch.full((B,), -1, dtype=torch.long, device=device)
    prev_reward = torch.zeros(B, device=device)
    prev_done = torch.zeros(B, device=device)
    h = policy.initial_state(B, device)
    steps: dict[str, list[torch.Tensor]] = {key: [] for key in ("inputs", "actions", "logp", "values", "rewards")}
    for _ in range(n):
        x = encode(obs, prev_action, prev_reward, prev_done, k)
        logits, value, h = policy(x[None], h)
        dist = Categorical(logits=logits[0])
        action = logits[0].argmax(-1) if greedy else dist.sample()
        reward = torch.as_tensor(bandit.pull(action.cpu().numpy()), dtype=torch.float32, device=device)
        for key, item in zip(steps, (x, action, dist.log_prob(action), value[0], reward)):
            steps[key].append(item)
        prev_action, prev_reward, prev_done = action, reward, torch.ones(B, device=device)
    return Trials(**{key: torch.stack(items) for key, items in steps.items()})


# -- training ----------------------------------------------------------------------------
@dataclass
class RL2Config:
    """PPO settings; the defaults follow the public re-implementation that matched the paper."""

    hidden_size: int = 256
    trials_per_update: int = 256
    updates: int = 300
    lr: float = 1e-3
    gamma: float = 0.99
    gae_lambda: float = 0.3
    clip: float = 0.1
    epochs: int = 8
    minibatches: int = 4
    entropy_coef: float = 0.01
    value_coef: float = 0.5
    max_grad_norm: float = 0.5


@dataclass
class History:
    update: list[int] = field(default_factory=list)
    mean_total_reward: list[float] = field(default_factory=list)


def train_rl2_bandits(k: int, n: int, config: RL2Config, seed: int = 0,
                      encode: Callable = rl2_inputs, advantage_fn: Callable = gae,
                      policy_loss: Callable = ppo_clip_loss, device=None,
                      progress: bool = False) -> tuple[RL2Policy, History]:
    """Meta-train an RL² policy on Bernoulli bandits with k arms and trials of n pulls."""
    torch.manual_seed(seed)
    device = device or torch.device("cpu")
    policy = RL2Policy(1 + k + 2, k, config.hidden_size).to(device)
    optimizer = torch.optim.Adam(policy.parameters(), lr=config.lr, eps=1e-5)
    history = History()
    updates = range(config.updates)
    if progress:
        from tqdm.auto import tqdm
        updates = tqdm(updates, desc=f"RL² k={k} n={n}")
    for update in updates:
        means = sample_arm_means(config.trials_per_update, k, seed=seed * 1_000_003 + update)
        trials = collect_bandit_trials(policy, means, n, seed=seed * 7_919 + update, encode=encode, device=device)
        history.update.append(update)
        history.mean_total_reward.append(float(trials.totals.mean()))
        ppo_update(policy, optimizer, trials, config, advantage_fn, policy_loss)
    return policy, history


def ppo_update(policy: RL2Policy, optimizer, trials: Trials, config: RL2Config,
               advantage_fn: Callable = gae, policy_loss: Callable = ppo_clip_loss) -> None:
    """Several epochs of PPO on whole trials (the GRU is unrolled from the trial's start)."""
    advantages = advantage_fn(trials.rewards, trials.values, config.gamma, config.gae_lambda)
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
                    - config.entropy_coef * dist.entropy().mean())
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(policy.parameters(), config.max_grad_norm)
            optimizer.step()


def evaluate_rl2_bandits(policy: RL2Policy, k: int, n: int, n_trials: int, seed: int, device=None) -> np.ndarray:
    """Total reward of each of ``n_trials`` held-out trials (the policy samples its actions)."""
    means = sample_arm_means(n_trials, k, seed=10**9 + seed)
    return collect_bandit_trials(policy, means, n, seed=seed, device=device).totals
