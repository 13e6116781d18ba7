"""Every task family of the kit as a gymnasium environment with a task distribution.

Importing this package registers the environments, so ``gymnasium.make`` finds them:

>>> import gymnasium as gym, metarl_course.envs
>>> env = gym.make("metarl_course/Navigation2D-v0")
"""

import warnings

from gymnasium.envs.registration import register, registry

from metarl_course.envs.bandits import BatchedBernoulliBandit, BernoulliBanditEnv, sample_arm_means
from metarl_course.envs.base import Task, TaskDistribution
from metarl_course.envs.navigation import BatchedNavigation2D, Navigation2DEnv, navigation_rewards, sample_goals

ENV_IDS = {
    # MAML's 2D navigation: goals in [-0.5, 0.5]^2, dense reward, H = 100.
    "metarl_course/Navigation2D-v0": ("metarl_course.envs.navigation:Navigation2DEnv", {}),
    # PEARL's sparse point robot: goals on the unit semicircle, goal radius 0.2, H = 20.
    "metarl_course/SparseNavigation2D-v0": (
        "metarl_course.envs.navigation:Navigation2DEnv",
        {"goal_distribution": "semicircle", "horizon": 20, "sparse": True, "goal_radius": 0.2},
    ),
    # Bernoulli bandits, k = 5 arms by default (pass k=... to gymnasium.make).
    "metarl_course/BernoulliBandit-v0": ("metarl_course.envs.bandits:BernoulliBanditEnv", {}),
    # RL²'s random tabular MDPs: |S| = 10, |A| = 5, T = 10, Dirichlet(1) transitions.
    "metarl_course/TabularMDP-v0": ("metarl_course.envs.tabular_mdp:TabularMDPEnv", {}),
    # MAML's MuJoCo locomotion families on gymnasium's v5 models (see envs/locomotion.py), H = 200.
    # -v1: one step is as long as in MAML's rllab (0.01 s for the cheetah, 0.02 s for the ant), so an
    # episode lasts what the paper's did (2 s, 4 s); the MAML benchmarks use these.
    "metarl_course/HalfCheetahVel-v1": ("metarl_course.envs.locomotion:HalfCheetahVelEnv", {"frame_skip": 1}, 200),
    "metarl_course/HalfCheetahDir-v1": ("metarl_course.envs.locomotion:HalfCheetahDirEnv", {"frame_skip": 1}, 200),
    "metarl_course/AntVel-v1": ("metarl_course.envs.locomotion:AntVelEnv", {"frame_skip": 2}, 200),
    "metarl_course/AntDir-v1": ("metarl_course.envs.locomotion:AntDirEnv", {"frame_skip": 2}, 200),
    # -v0: gymnasium's own step of 0.05 s (an episode of 10 s): the kit's earlier MAML results and the
    # HalfCheetah-direction policy unit 03 ships (assets/) were made on these.
    "metarl_course/HalfCheetahVel-v0": ("metarl_course.envs.locomotion:HalfCheetahVelEnv", {}, 200),
    "metarl_course/HalfCheetahDir-v0": ("metarl_course.envs.locomotion:HalfCheetahDirEnv", {}, 200),
    "metarl_course/AntVel-v0": ("metarl_course.envs.locomotion:AntVelEnv", {}, 200),
    "metarl_course/AntDir-v0": ("metarl_course.envs.locomotion:AntDirEnv", {}, 200),
}
"""id -> (entry point, kwargs) or (entry point, kwargs, max_episode_steps)."""

# The -v0 locomotion ids are kept on purpose (unit 03's shipped policy runs on them); gymnasium would
# warn at every make that a -v1 exists ("out of date"), under a student's cell.
warnings.filterwarnings("ignore", message=r".*environment metarl_course/\w+-v0 is out of date", category=DeprecationWarning)

for _env_id, (_entry_point, _kwargs, *_max_steps) in ENV_IDS.items():
    if _env_id not in registry:
        register(id=_env_id, entry_point=_entry_point, kwargs=_kwargs,
                 max_episode_steps=_max_steps[0] if _max_steps else None)

# The MuJoCo families are imported on first use, so that importing this package (and the
# non-MuJoCo units) does not load mujoco (about 0.4 s).
_LOCOMOTION_NAMES = ("AntDirEnv", "AntVelEnv", "HalfCheetahDirEnv", "HalfCheetahVelEnv", "first_episode_mask",
                     "make_task_vector_env", "measure_step_throughput")


def __getattr__(name: str):
    if name in _LOCOMOTION_NAMES:
        from metarl_course.envs import locomotion

        return getattr(locomotion, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ENV_IDS",
    "AntDirEnv",
    "AntVelEnv",
    "BatchedBernoulliBandit",
    "BatchedNavigation2D",
    "BernoulliBanditEnv",
    "HalfCheetahDirEnv",
    "HalfCheetahVelEnv",
    "Navigation2DEnv",
    "Task",
    "TaskDistribution",
    "first_episode_mask",
    "make_task_vector_env",
    "measure_step_throughput",
    "navigation_rewards",
    "sample_arm_means",
    "sample_goals",
]
