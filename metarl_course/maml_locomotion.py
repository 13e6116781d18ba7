"""MAML's MuJoCo tasks as a task family for ``metarl_course.maml.train_maml``.

The sampler of ``maml`` steps M tasks × N trajectories as tensors of shape (M, N, ...).
For MuJoCo that is a gymnasium ``SyncVectorEnv`` of M·N copies (copy j·N + i runs task j),
built once; each meta-iteration only switches the copies' tasks with ``reset_task``.
"""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

from metarl_course.envs.locomotion import make_task_vector_env
from metarl_course.maml import GaussianMLPPolicy, checkpoint_policy

HORIZON = 200


class LocomotionTaskBatch:
    """M tasks × N copies of one MuJoCo task family behind the ``TaskBatchEnv`` interface."""

    def __init__(self, env_id: str, n_tasks: int, n_per_task: int, seed: int = 0, horizon: int = HORIZON,
                 device: torch.device | str = "cpu") -> None:
        self.env_id, self.n_tasks, self.n_per_task, self.horizon = env_id, n_tasks, n_per_task, horizon
        self.seed = seed
        self.device = torch.device(device)
        first_tasks = gym.make(env_id).unwrapped.sample_tasks(n_tasks, seed=seed)  # replaced by set_tasks
        self.envs = make_task_vector_env(env_id, first_tasks, n_per_task, seed)
        self.family = self.envs.envs[0].unwrapped
        self.key = self.family.task_key  # what a task is, as the number the oracle policy reads
        self.dt = float(self.family.dt)  # seconds per step: 0.01 (cheetah -v1), 0.02 (ant -v1), 0.05 (-v0)
        self.act_dim = self.envs.single_action_space.shape[0]
        self.obs_dim = self.envs.single_observation_space.shape[0]

    def set_tasks(self, tasks: list[dict]) -> torch.Tensor:
        """Give copy j·N + i task j; returns the task features (M, 1) for the oracle."""
        assert len(tasks) == self.n_tasks
        for k, env in enumerate(self.envs.envs):
            env.unwrapped.reset_task(tasks[k // self.n_per_task])
        return torch.tensor([[float(t[self.key])] for t in tasks], dtype=torch.float32, device=self.device)

    def sample_tasks(self, rng: np.random.Generator) -> list[dict]:
        return self.family.sample_tasks(self.n_tasks, seed=int(rng.integers(2**31)))

    def reseed(self, draw: int = 0) -> None:
        """Restart every copy's reset noise: draw 0 where a newly built batch starts it (copy k from
        ``seed + k``), draw d from ``seed + d·M·N + k`` (no copy of one draw shares a seed with another's).

        An evaluation that begins with ``reseed(d)`` gives the same start states whatever ran on this
        batch before it: methods compared on one set of held-out tasks are compared on the same draws."""
        self.envs.reset(seed=self.seed + draw * self.n_tasks * self.n_per_task)

    def _shape(self, x: np.ndarray) -> torch.Tensor:
        x = torch.as_tensor(np.asarray(x), dtype=torch.float32, device=self.device)
        return x.reshape(self.n_tasks, self.n_per_task, *x.shape[1:])

    def reset(self) -> torch.Tensor:
        obs, _ = self.envs.reset()
        return self._shape(obs)

    def step(self, actions: torch.Tensor):
        flat = actions.reshape(-1, self.act_dim).cpu().numpy()
        obs, reward, terminated, truncated, _ = self.envs.step(flat)
        return self._shape(obs), self._shape(reward), self._shape(terminated).bool()


def locomotion_tasks(env_id: str, n_tasks: int, n_per_task: int, seed: int = 0, device: torch.device | str = "cpu"):
    """A task family for ``train_maml``: one vector env, new tasks from p(T) on each call."""
    batch = LocomotionTaskBatch(env_id, n_tasks, n_per_task, seed, device=device)

    def make_tasks(m: int, rng: np.random.Generator):
        assert m == n_tasks, f"built for meta-batch {n_tasks}, asked for {m}"
        feats = batch.set_tasks(batch.sample_tasks(rng))
        return batch, feats

    return make_tasks, batch


def locomotion_test_tasks(env_id: str, n_tasks: int, n_per_task: int, seed: int = 12345,
                          device: torch.device | str = "cpu"):
    """Held-out tasks (fixed by ``seed``) in their own vector env: (env, task features)."""
    batch = LocomotionTaskBatch(env_id, n_tasks, n_per_task, seed, device=device)
    feats = batch.set_tasks(batch.family.sample_tasks(n_tasks, seed=seed))
    return batch, feats


def save_policy(path: Path | str, policy: GaussianMLPPolicy, env_id: str) -> None:
    """Keep a meta-trained locomotion policy as plain tensors and sizes (``load_policy`` reads it)."""
    sizes = [layer.weight.shape for layer in policy.mean if hasattr(layer, "weight")]
    torch.save({"env_id": env_id, "obs_dim": sizes[0][1], "act_dim": sizes[-1][0],
                "hidden": [shape[0] for shape in sizes[:-1]], "policy": policy.state_dict()}, path)


def load_policy(path: Path | str) -> tuple[GaussianMLPPolicy, str]:
    """(policy, env id) saved by ``save_policy`` (only tensors and numbers: ``weights_only``)."""
    saved = torch.load(path, weights_only=True, map_location="cpu")
    policy = GaussianMLPPolicy(saved["obs_dim"], saved["act_dim"], tuple(saved["hidden"]))
    policy.load_state_dict(saved["policy"])
    return policy, saved["env_id"]


def save_checkpoint_policy(checkpoint: Path | str, path: Path | str, env_id: str) -> str:
    """``save_policy`` the policy a ``train_maml`` checkpoint keeps: its best validated iterate when the
    run validated (``maml.Validation``), else its last. Returns which one it saved, in words."""
    state = torch.load(checkpoint, weights_only=False, map_location="cpu")
    save_policy(path, checkpoint_policy(state), env_id)
    if state.get("best") is None:
        return f"the last iterate ({state['iteration']} meta-iterations)"
    return f"the best validated iterate ({state['history'].best_iteration()} of {state['iteration']} meta-iterations)"
