"""Every task family of the kit as a gymnasium environment with a task distribution.

Importing this package registers the environments, so ``gymnasium.make`` finds them:

>>> import gymnasium as gym, metarl_course.envs
>>> env = gym.make("metarl_course/Navigation2D-v0")
"""

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
}

for _env_id, (_entry_point, _kwargs) in ENV_IDS.items():
    if _env_id not in registry:
        register(id=_env_id, entry_point=_entry_point, kwargs=_kwargs)

__all__ = [
    "ENV_IDS",
    "BatchedBernoulliBandit",
    "BatchedNavigation2D",
    "BernoulliBanditEnv",
    "Navigation2DEnv",
    "Task",
    "TaskDistribution",
    "navigation_rewards",
    "sample_arm_means",
    "sample_goals",
]
