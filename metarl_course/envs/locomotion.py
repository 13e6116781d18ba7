r"""MAML's MuJoCo locomotion task families on gymnasium's official v5 environments.

Finn et al. (2017, MAML), Sec. 5.3, meta-train a half-cheetah and an ant to run at a goal
velocity or in a goal direction. The official code (cbfinn/maml_rl, files
``rllab/envs/mujoco/{half_cheetah_env_rand, half_cheetah_env_rand_direc, ant_env_rand,
ant_env_rand_direc}.py``) defines the tasks on top of rllab's MuJoCo 1.31 models. Here the
same task rewards replace the reward of gymnasium's ``HalfCheetahEnv`` and ``AntEnv`` (v5,
official ``mujoco`` bindings). Horizon H = 200 for all four (the registered ids use
``max_episode_steps=200``), as in MAML.


The length of a step. rllab's ``MujocoEnv`` simulates one MuJoCo step per environment step unless
the model file names a ``frame_skip``, and rllab's ``half_cheetah.xml`` (timestep 0.01 s) and
``ant.xml`` (0.02 s) name none: in MAML's experiments a step was 0.01 s for the cheetah and 0.02 s
for the ant, so H = 200 steps were 2 s and 4 s. Gymnasium's v5 models have a timestep of 0.01 s
and a default ``frame_skip`` of 5 (0.05 s per step, 10 s per episode). The registered ``-v1`` ids
pass ``frame_skip=1`` (cheetah) and ``frame_skip=2`` (ant) and so keep the paper's step length and
episode duration; the MAML benchmarks use them. The ``-v0`` ids keep gymnasium's 0.05 s: in 10 s
a cheetah reaches and holds a far higher speed than in 2 s, so their returns are on another scale
than the paper's (the kit's first MAML locomotion results, and the policy unit 03 ships, are -v0).

Notation: a in [-1, 1]^d is the action (clipped to the action space before its cost, as
rllab's ``normalize`` wrapper clipped it before the env saw it); v_x is the forward velocity
of the torso, computed as gymnasium does: (x_after - x_before) / dt, dt = frame_skip × the
model's timestep (cheetah: qpos[0]; ant: the torso body's x position).

HalfCheetahVel (task ``{"velocity": v*}``, v* ~ U[0, 2]; PEARL uses U[0, 3], see ``velocity_range``)
    r = -|v_x - v*| - 0.5 * 0.1 * ||a||^2,                      never terminates
HalfCheetahDir (task ``{"direction": d}``, d = ±1 with probability 1/2 each)
    r = d * v_x - 0.5 * 0.1 * ||a||^2,                           never terminates
AntVel (task ``{"velocity": v*}``, v* ~ U[0, 3])
    r = -|v_x - v*| + 1 + 0.05 * healthy - 0.5 * 1e-2 * ||a||^2 - 0.5 * 1e-3 * ||clip(cfrc_ext, -1, 1)||^2
AntDir (task ``{"direction": d}``, d = ±1 with probability 1/2 each)
    r = d * v_x + 0.05 * healthy - 0.5 * 1e-2 * ||a||^2 - 0.5 * 1e-3 * ||clip(cfrc_ext, -1, 1)||^2
    Both ants terminate when unhealthy: torso z outside [0.2, 1.0] or a non-finite state
    (rllab's ant had the same test; it is gymnasium's ``is_healthy``).

Sources of the constants (all from the maml_rl files above):
- velocity ranges: ``np.random.uniform(0.0, 2.0)`` (cheetah), ``np.random.uniform(0.0, 3.0)`` (ant);
- directions: maml_rl draws g ~ U[0, 2] (cheetah) / U[0, 3] (ant) and sets d = -1 below the
  midpoint, +1 above it, i.e. d = ±1 with probability 1/2; we draw d directly;
- control costs ``1e-1 * 0.5 * sum(a^2)`` (cheetah) and ``0.5 * 1e-2 * sum((a / scaling)^2)``
  (ant; the rllab actions were rescaled so that a / scaling is in [-1, 1], as our actions are);
- contact cost ``0.5 * 1e-3 * sum(square(clip(cfrc_ext, -1, 1)))``: exactly gymnasium's
  ``AntEnv.contact_cost`` with ``contact_cost_weight=5e-4`` and its default
  ``contact_force_range=(-1, 1)`` (also over all bodies, the world body's row being 0), so it
  is reused as is;
- survive reward 0.05: rllab's ``survive_reward = 0.05``. Gymnasium's default ``healthy_reward``
  is 1.0; we use 0.05 (the ``healthy_reward`` argument changes it).

Differences from rllab (the numbers are comparable to the paper's only in spirit):
- observations are gymnasium's v5 defaults (cheetah: 17 = qpos[1:] + qvel; ant: 105 = qpos[2:]
  + qvel + clipped cfrc_ext of the 13 non-world bodies), not rllab's (which add the torso's
  centre of mass, and for the ant the full qpos and the torso's rotation matrix);
- the models are gymnasium's XML files simulated by MuJoCo 3+, not rllab's under MuJoCo 1.31;
  the contact forces in particular are computed differently by the two simulators;
- v_x: rllab used the instantaneous centre-of-mass velocity of the torso subtree after the
  step (``get_body_comvel("torso")``), we use gymnasium's finite difference of the torso position;
- maml_rl's AntVel adds a constant +1.0 to the forward reward ("make it happy, not suicidal"),
  on top of the 0.05 survive reward. We keep it (``forward_bonus=1.0``), because without it the
  paper's positive Ant-velocity returns (30.6 → 96.7, oracle 107.9) cannot be compared with ours;
  ``AntVelEnv(forward_bonus=0.0)`` removes it;
- gymnasium pays the survive reward only while healthy (so not on the terminating step);
  rllab paid it on every step, the terminating one included.

``info`` of every step carries the pieces of the reward with costs as positive numbers:
``reward = forward_reward - ctrl_cost`` (cheetah), ``reward = forward_reward + survive_reward
- ctrl_cost - contact_cost`` (ant), plus gymnasium's ``x_position`` / ``x_velocity`` and the
task (``velocity`` or ``direction``).

``make_task_vector_env`` runs many copies of one family, each fixed to one task, as a
gymnasium vector env for batched rollouts; ``measure_step_throughput`` times it.
"""

from __future__ import annotations

import time
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import utils
from gymnasium.envs.mujoco.ant_v5 import AntEnv
from gymnasium.envs.mujoco.half_cheetah_v5 import HalfCheetahEnv
from gymnasium.vector import AsyncVectorEnv, AutoresetMode, SyncVectorEnv

from metarl_course.envs.base import Task, as_task
from metarl_course.envs.mujoco_warnings import route_mujoco_warnings

route_mujoco_warnings()  # gymnasium's cheetah model would print a deprecation for every env made

HORIZON = 200
"""MAML's episode length for the locomotion tasks (the registered ids' ``max_episode_steps``)."""

CHEETAH_CTRL_COST_WEIGHT = 0.5 * 0.1
ANT_CTRL_COST_WEIGHT = 0.5 * 1e-2
ANT_CONTACT_COST_WEIGHT = 0.5 * 1e-3
ANT_SURVIVE_REWARD = 0.05
ANT_VEL_FORWARD_BONUS = 1.0  # maml_rl's ant_env_rand.py: -|v - v*| + 1.0 ("make it happy, not suicidal")


# -- the two kinds of task -----------------------------------------------------------
class _VelocityTasks:
    """Tasks ``{"velocity": v*}`` with v* ~ U[velocity_range]; forward reward -|v_x - v*|."""

    task_key = "velocity"
    velocity_range: tuple[float, float]
    goal_velocity: float
    forward_bonus: float = 0.0

    def sample_tasks(self, n: int, seed: int | None = None) -> list[Task]:
        low, high = self.velocity_range
        velocities = np.random.default_rng(seed).uniform(low, high, size=n)
        return [{"velocity": float(v)} for v in velocities]

    def reset_task(self, task: Task) -> None:
        self.goal_velocity = float(as_task(task, "velocity"))

    @property
    def task(self) -> Task:
        return {"velocity": self.goal_velocity}

    def forward_reward(self, x_velocity: float) -> float:
        return -abs(x_velocity - self.goal_velocity) + self.forward_bonus


class _DirectionTasks:
    """Tasks ``{"direction": d}`` with d = ±1 (probability 1/2 each); forward reward d * v_x."""

    task_key = "direction"
    direction: float

    def sample_tasks(self, n: int, seed: int | None = None) -> list[Task]:
        directions = np.where(np.random.default_rng(seed).random(n) < 0.5, -1.0, 1.0)
        return [{"direction": float(d)} for d in directions]

    def reset_task(self, task: Task) -> None:
        direction = float(as_task(task, "direction"))
        if direction not in (-1.0, 1.0):
            raise ValueError(f"a direction task needs direction -1 or +1, got {direction}")
        self.direction = direction

    @property
    def task(self) -> Task:
        return {"direction": self.direction}

    def forward_reward(self, x_velocity: float) -> float:
        return self.direction * x_velocity


class _TaskReset:
    """``reset(options={"task": task})`` switches the task before resetting; info carries the task."""

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        if options and "task" in options:
            self.reset_task(options["task"])
        obs, info = super().reset(seed=seed, options=options)
        return obs, {**info, **self.task}

    def _clipped(self, action) -> np.ndarray:
        return np.clip(action, self.action_space.low, self.action_space.high)


# -- the two robots ------------------------------------------------------------------
class _TaskHalfCheetah(_TaskReset, HalfCheetahEnv):
    # gymnasium's HalfCheetahEnv.step computes x_velocity, then calls _get_rew(x_velocity, action)
    # and merges the returned dict into info; only the reward is replaced here.
    def _get_rew(self, x_velocity: float, action):
        forward_reward = float(self.forward_reward(x_velocity))
        ctrl_cost = float(self.control_cost(self._clipped(action)))
        reward = forward_reward - ctrl_cost
        return float(reward), {"forward_reward": forward_reward, "ctrl_cost": ctrl_cost, **self.task}


class _TaskAnt(_TaskReset, AntEnv):
    # gymnasium's AntEnv.step computes x_velocity, calls _get_rew, and terminates when unhealthy.
    def _get_rew(self, x_velocity: float, action):
        forward_reward = float(self.forward_reward(x_velocity))
        survive_reward = float(self.healthy_reward)  # 0.05 while healthy, 0 otherwise
        ctrl_cost = float(self.control_cost(self._clipped(action)))
        contact_cost = float(self.contact_cost)  # 0.5 * 1e-3 * sum(clip(cfrc_ext, -1, 1)^2)
        reward = forward_reward + survive_reward - ctrl_cost - contact_cost
        info = {
            "forward_reward": forward_reward,
            "survive_reward": survive_reward,
            "ctrl_cost": ctrl_cost,
            "contact_cost": contact_cost,
            **self.task,
        }
        return float(reward), info


# -- the four families -----------------------------------------------------------------
class HalfCheetahVelEnv(_VelocityTasks, _TaskHalfCheetah):
    """Half-cheetah running at a goal velocity v* ~ U[velocity_range] (MAML: U[0, 2]; PEARL: U[0, 3])."""

    def __init__(self, velocity_range: tuple[float, float] = (0.0, 2.0),
                 ctrl_cost_weight: float = CHEETAH_CTRL_COST_WEIGHT, **kwargs) -> None:
        self.velocity_range = (float(velocity_range[0]), float(velocity_range[1]))
        self.reset_task(self.sample_tasks(1, seed=0)[0])
        super().__init__(ctrl_cost_weight=ctrl_cost_weight, **kwargs)
        utils.EzPickle.__init__(self, velocity_range=velocity_range, ctrl_cost_weight=ctrl_cost_weight, **kwargs)


class HalfCheetahDirEnv(_DirectionTasks, _TaskHalfCheetah):
    """Half-cheetah running forward (d = +1) or backward (d = -1)."""

    def __init__(self, ctrl_cost_weight: float = CHEETAH_CTRL_COST_WEIGHT, **kwargs) -> None:
        self.reset_task(self.sample_tasks(1, seed=0)[0])
        super().__init__(ctrl_cost_weight=ctrl_cost_weight, **kwargs)
        utils.EzPickle.__init__(self, ctrl_cost_weight=ctrl_cost_weight, **kwargs)


class AntVelEnv(_VelocityTasks, _TaskAnt):
    """Ant running at a goal velocity v* ~ U[velocity_range] (MAML: U[0, 3])."""

    def __init__(self, velocity_range: tuple[float, float] = (0.0, 3.0),
                 healthy_reward: float = ANT_SURVIVE_REWARD, ctrl_cost_weight: float = ANT_CTRL_COST_WEIGHT,
                 contact_cost_weight: float = ANT_CONTACT_COST_WEIGHT, forward_bonus: float = ANT_VEL_FORWARD_BONUS,
                 **kwargs) -> None:
        self.velocity_range = (float(velocity_range[0]), float(velocity_range[1]))
        self.forward_bonus = float(forward_bonus)
        self.reset_task(self.sample_tasks(1, seed=0)[0])
        costs = dict(healthy_reward=healthy_reward, ctrl_cost_weight=ctrl_cost_weight,
                     contact_cost_weight=contact_cost_weight)
        super().__init__(**costs, **kwargs)
        utils.EzPickle.__init__(self, velocity_range=velocity_range, forward_bonus=forward_bonus, **costs, **kwargs)


class AntDirEnv(_DirectionTasks, _TaskAnt):
    """Ant running forward (d = +1) or backward (d = -1) along x."""

    def __init__(self, healthy_reward: float = ANT_SURVIVE_REWARD, ctrl_cost_weight: float = ANT_CTRL_COST_WEIGHT,
                 contact_cost_weight: float = ANT_CONTACT_COST_WEIGHT, **kwargs) -> None:
        self.reset_task(self.sample_tasks(1, seed=0)[0])
        costs = dict(healthy_reward=healthy_reward, ctrl_cost_weight=ctrl_cost_weight,
                     contact_cost_weight=contact_cost_weight)
        super().__init__(**costs, **kwargs)
        utils.EzPickle.__init__(self, **costs, **kwargs)


# -- batched rollouts ------------------------------------------------------------------
def _make_task_env(env_id: str, task: Task, seed: int):
    env = gym.make(env_id)
    env.unwrapped.reset_task(task)
    env.reset(seed=seed)  # seeds the copy's RNG; the vector env's own reset() starts the episode
    env.action_space.seed(seed)
    return env


def make_task_vector_env(env_id: str, tasks: list[Task], n_per_task: int, seed: int,
                         asynchronous: bool = False) -> gym.vector.VectorEnv:
    """``len(tasks) * n_per_task`` copies of ``env_id``; copy ``j * n_per_task + i`` runs ``tasks[j]``.

    Copy k's RNG is seeded with ``seed + k`` (by a first ``reset(seed=seed + k)`` inside its
    factory, after ``reset_task``), so ``reset()`` without a seed is reproducible too.

    Autoreset: ``AutoresetMode.NEXT_STEP`` (gymnasium's default). One ``reset()`` followed by
    exactly H = ``max_episode_steps`` steps then gives one episode per copy in arrays of shape
    (H, N): with NEXT_STEP a finished copy is only reset by the *following* step call, so the
    observation returned with ``terminated``/``truncated`` is the true last observation (no
    ``final_obs`` bookkeeping, unlike SAME_STEP), and since every copy truncates at step H no
    reset ever happens within the H steps of a family that never terminates (the cheetahs).
    A copy that terminates early (an ant falling over) at step t < H is reset at step t + 1
    (reward 0, action ignored) and then runs a second, partial episode: drop its steps after
    t with ``first_episode_mask``. (DISABLED would assert on the step after a termination,
    so it cannot give fixed-length batches when episodes can end early.)
    """
    if n_per_task < 1 or not tasks:
        raise ValueError("need at least one task and n_per_task >= 1")
    env_fns = []
    for j, task in enumerate(tasks):
        for i in range(n_per_task):
            k = j * n_per_task + i
            env_fns.append(lambda task=dict(task), k=k: _make_task_env(env_id, task, seed + k))
    vector_cls = AsyncVectorEnv if asynchronous else SyncVectorEnv
    envs = vector_cls(env_fns, autoreset_mode=AutoresetMode.NEXT_STEP)
    envs.action_space.seed(seed)
    return envs


def first_episode_mask(terminated: np.ndarray, truncated: np.ndarray) -> np.ndarray:
    """Which of H vector steps, arrays of shape (H, N), belong to each copy's first episode.

    Step t of copy n belongs to it iff no step before t ended an episode of that copy
    (the step that ends it is included).
    """
    done = np.logical_or(terminated, truncated)
    mask = np.ones_like(done, dtype=bool)
    mask[1:] = np.cumsum(done, axis=0)[:-1] == 0
    return mask


def measure_step_throughput(env_id: str, n_envs: int, n_steps: int, asynchronous: bool = False) -> float:
    """Environment steps per second (``n_envs * n_steps`` / wall time) of a vector env with random actions.

    Building the vector env and its first reset are not timed.
    """
    base = gym.make(env_id).unwrapped
    tasks = base.sample_tasks(n_envs, seed=0)
    base.close()
    envs = make_task_vector_env(env_id, tasks, n_per_task=1, seed=0, asynchronous=asynchronous)
    try:
        envs.reset(seed=0)
        actions = [envs.action_space.sample() for _ in range(n_steps)]
        start = time.perf_counter()
        for action in actions:
            envs.step(action)
        elapsed = time.perf_counter() - start
    finally:
        envs.close()
    return n_envs * n_steps / elapsed
