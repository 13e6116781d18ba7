"""Checks for unit 00, the meta-RL problem."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from metarl_course import evaluation, nav_agents
from metarl_course.checks._core import CheckFailure, as_array, call_student, expect_close, fail, passed
from metarl_course.envs import BernoulliBanditEnv, Navigation2DEnv


# -- exercise 1: meta-train / meta-test split ------------------------------------------
def _goal_keys(tasks) -> list[tuple[float, float]]:
    return [tuple(np.round(np.asarray(t["goal"], dtype=np.float64), 12)) for t in tasks]


def check_split_tasks(split_tasks: Callable, cases: Sequence[tuple[int, int, int]] = ((10, 3, 0),)) -> None:
    """``cases`` are (number of tasks, n_test, seed)."""
    for n, n_test, seed in cases:
        tasks = Navigation2DEnv().sample_tasks(n, seed=1000 + seed)
        result = call_student(split_tasks, tasks, n_test, seed)
        if not (isinstance(result, (tuple, list)) and len(result) == 2):   # a pair that unpacks as two
            fail(f"split_tasks must return a tuple (meta_train, meta_test); got {type(result).__name__}.")
        train, test = (list(part) for part in result)
        ref_train, ref_test = evaluation.split_tasks(tasks, n_test, seed)
        where = f"split_tasks({n} tasks, n_test={n_test}, seed={seed})"
        if len(train) == n_test and len(test) == n - n_test and n != 2 * n_test:
            fail(f"{where}: the two sets have swapped sizes.", hint="return (meta_train, meta_test) in that order.")
        if len(test) != n_test or len(train) != n - n_test:
            fail(f"{where}: wrong set sizes (meta-train, meta-test).", expected=(n - n_test, n_test), got=(len(train), len(test)))
        train_keys, test_keys = _goal_keys(train), _goal_keys(test)
        if set(train_keys) & set(test_keys):
            fail(f"{where}: a task appears in both sets; meta-test tasks must be held out from meta-training.")
        if set(train_keys) | set(test_keys) != set(_goal_keys(tasks)):
            fail(f"{where}: the sets do not contain exactly the given tasks (a task was lost, duplicated or changed).")
        again = call_student(split_tasks, tasks, n_test, seed)
        if _goal_keys(list(again[1])) != test_keys:
            fail(f"{where}: two calls with the same seed gave different splits.",
                 hint="draw from np.random.default_rng(seed), not from a global or unseeded generator.")
        if set(test_keys) != set(_goal_keys(ref_test)):
            fail(f"{where}: not the meta-test tasks the seed selects.", expected=_goal_keys(ref_test)[:3], got=test_keys[:3],
                 hint="perm = np.random.default_rng(seed).permutation(len(tasks)); meta-test = tasks at perm[:n_test].")
        if test_keys != _goal_keys(ref_test) or train_keys != _goal_keys(ref_train):
            fail(f"{where}: the right tasks in a different order.", hint="keep both sets in the order of perm.")
        passed(f"{where}: disjoint, complete, reproducible, and the seed's split")


# -- exercise 2: the oracle --------------------------------------------------------------
def check_oracle_action(oracle_action: Callable, seeds: Sequence[int] = (0,), batched: bool = False) -> None:
    for seed in seeds:
        rng = np.random.default_rng(seed)
        shape = (6, 2) if batched else (2,)
        cases = [(np.zeros(2), np.array([0.3, -0.04])), (np.array([0.25, 0.1]), np.array([0.2, 0.18]))]
        cases += [(rng.uniform(-0.5, 0.5, size=shape), rng.uniform(-0.5, 0.5, size=shape)) for _ in range(3)]
        for position, goal in cases:
            got = as_array(_call_oracle(oracle_action, position, goal), "the action", shape=position.shape)
            expected = nav_agents.oracle_action(position, goal)
            if np.allclose(got, expected, atol=1e-9):
                continue
            where = f"oracle_action(position={np.round(position, 3).tolist()}, goal={np.round(goal, 3).tolist()})"
            if np.allclose(got, goal - position):
                hint = "the action is clipped to [-0.1, 0.1] in each coordinate: clip g - x."
            elif np.allclose(got, -expected):
                hint = "the sign is flipped: move from the position toward the goal, g - x."
            elif np.all(np.abs(got) <= 0.1 + 1e-9) and np.allclose(got / (np.linalg.norm(got, axis=-1, keepdims=True) + 1e-12),
                                                                 (goal - position) / (np.linalg.norm(goal - position, axis=-1, keepdims=True) + 1e-12)):
                hint = "right direction, wrong length: the box [-0.1, 0.1]^2 allows more than a step of length 0.1 diagonally; clip each coordinate."
            else:
                hint = "a = clip(goal - position, -0.1, 0.1), coordinate by coordinate."
            fail(f"{where} is wrong.", expected=expected, got=got, hint=hint)
    passed(f"oracle_action matches clip(g - x, -0.1, 0.1) on {len(seeds) * len(cases)} cases" + (" (batched)" if batched else ""))


def _call_oracle(oracle_action: Callable, position: np.ndarray, goal: np.ndarray):
    """The student's oracle_action; on a batch of robots (B, 2), a failure says that it was a batch."""
    try:
        return call_student(oracle_action, position.copy(), goal.copy())
    except CheckFailure as failure:
        if position.ndim == 1:
            raise
        fail(f"{failure}\nHere position and goal were a batch of shape {position.shape}, one row per robot: write "
             "oracle_action with array operations (np.clip of goal - position) so that it works for one robot, "
             "shape (2,), and for a batch, shape (B, 2).")


# -- exercise 3: the meta-test evaluation loop ------------------------------------------
class _GuardedEnv:
    """Wraps an env: counts calls, and refuses to step an episode that has ended."""

    def __init__(self, env) -> None:
        self.env = env
        self.done = True
        self.steps = 0
        self.task_resets = 0
        self.observation = self.previous = None     # copies of what the env last returned, and the one before

    def __getattr__(self, name):
        return getattr(self.env, name)

    def reset_task(self, task) -> None:
        self.task_resets += 1
        self.env.reset_task(task)

    def reset(self, **kwargs):
        self.done = False
        out = self.env.reset(**kwargs)
        self.observation = np.array(out[0], copy=True)
        return out

    def step(self, action):
        if self.done:
            raise RuntimeError("env.step was called after the episode ended (or before env.reset). "
                               "Reset at the start of each episode and stop when terminated or truncated is True.")
        self.previous = self.observation
        out = self.env.step(action)
        self.done = bool(out[2] or out[3])
        self.observation = np.array(out[0], copy=True)
        self.steps += 1
        return out


class _SpyAgent:
    """Moves right in its first episode and up afterwards: its returns reveal its memory. It also
    notes what it is handed that is not what the environment said (``mistakes``)."""

    def __init__(self, kind: str, env: _GuardedEnv) -> None:
        self.kind = kind  # 'nav' or 'bandit'
        self.env = env
        self.episodes_seen = 0
        self.observed = 0
        self.mistakes: set[str] = set()

    def act(self, observation):
        if not np.array_equal(np.asarray(observation), np.asarray(self.env.observation)):
            self.mistakes.add("act")
        if self.kind == "bandit":
            return min(self.episodes_seen, 2)
        return np.array([0.1, 0.0] if self.episodes_seen == 0 else [0.0, 0.1], dtype=np.float32)

    def observe(self, observation, action, reward, next_observation, done) -> None:
        self.observed += 1
        if bool(done) != self.env.done:
            self.mistakes.add("done")
        if not (np.array_equal(np.asarray(next_observation), np.asarray(self.env.observation))
                and np.array_equal(np.asarray(observation), np.asarray(self.env.previous))):
            self.mistakes.add("observations")
        if done:
            self.episodes_seen += 1


_SPY_HINTS = {
    "done": "observe's done flag is wrong: pass done = terminated or truncated (a navigation episode ends by "
            "truncation at the horizon, a bandit pull by termination).",
    "act": "agent.act was not given the current observation: start from obs = env.reset(...)[0], and after "
           "each step set obs = next_obs.",
    "observations": "agent.observe(obs, action, reward, next_obs, done) must get the observation the action "
                    "was taken in and the one the step returned.",
}


def _evaluate_with_spy(evaluate_fn: Callable, env, tasks, n_episodes: int, kind: str, student: bool):
    agents: list[_SpyAgent] = []
    guarded = _GuardedEnv(env)

    def make_agent() -> _SpyAgent:
        agents.append(_SpyAgent(kind, guarded))
        return agents[-1]

    if student:
        returns = call_student(evaluate_fn, make_agent, guarded, tasks, n_episodes, name="evaluate_adaptation")
    else:
        returns = evaluate_fn(make_agent, guarded, tasks, n_episodes)
    return returns, agents, guarded


def check_evaluate_adaptation(evaluate_adaptation: Callable, seed: int = 0, family: str = "navigation") -> None:
    if family == "navigation":
        env, kind, n_episodes, horizon = Navigation2DEnv(horizon=5), "nav", 3, 5
        tasks = env.sample_tasks(4, seed=seed)
    else:  # one-step episodes that end by termination, not truncation
        env, kind, n_episodes, horizon = BernoulliBanditEnv(k=3), "bandit", 4, 1
        rng = np.random.default_rng(seed)
        tasks = [{"means": rng.permutation([0.0, 1.0, 1.0])} for _ in range(4)]
    got, agents, guarded = _evaluate_with_spy(evaluate_adaptation, env, tasks, n_episodes, kind, student=True)
    expected, _, _ = _evaluate_with_spy(evaluation.evaluate_adaptation, env, tasks, n_episodes, kind, student=False)
    where = f"evaluate_adaptation on {len(tasks)} {family} tasks with {n_episodes} episodes each"
    got = as_array(got, "the returns", shape=(len(tasks), n_episodes))
    if len(agents) == 1:
        fail(f"{where}: make_agent() was called once for all tasks.",
             hint="each task must start from a fresh agent (an empty memory): call make_agent() once per task.")
    if len(agents) == len(tasks) * n_episodes:
        fail(f"{where}: a new agent was made for every episode.",
             hint="the agent must keep its memory across the episodes of one task: make it once per task, before the episodes.")
    if len(agents) != len(tasks):
        fail(f"{where}: make_agent() should be called once per task.", expected=len(tasks), got=len(agents))
    if guarded.task_resets < len(tasks):
        fail(f"{where}: env.reset_task(task) was called {guarded.task_resets} times.",
             hint="switch the environment to each task with env.reset_task(task) before its episodes.")
    observed = sum(a.observed for a in agents)
    if observed != len(tasks) * n_episodes * horizon:
        fail(f"{where}: agent.observe was called {observed} times for {guarded.steps} environment steps.",
             hint="call agent.observe(obs, action, reward, next_obs, done) after every step, with done = terminated or truncated.")
    for mistake in ("done", "act", "observations"):
        if any(mistake in agent.mistakes for agent in agents):
            fail(f"{where}: {_SPY_HINTS[mistake]}")
    expect_close(got, expected, f"{where}: the returns (rows = tasks, columns = episodes)",
                 hint="a return is the sum of the rewards of one episode; row i is task i, column k its k-th episode.")
    passed(f"{where}: fresh agent per task, memory kept across episodes, returns exact")


# -- exercise 4: inferring the task from context ---------------------------------------
def check_infer_goal(infer_goal: Callable, seeds: Sequence[int] = (0,), n_points: Sequence[int] = (3, 5)) -> None:
    for seed in seeds:
        for n in n_points:
            rng = np.random.default_rng(seed * 100 + n)
            goal = rng.uniform(-0.5, 0.5, size=2)
            positions = rng.uniform(-0.3, 0.3, size=(n, 2))
            rewards = -np.linalg.norm(positions - goal, axis=1)
            got = as_array(call_student(infer_goal, positions.copy(), rewards.copy()), "the inferred goal", shape=(2,))
            where = f"infer_goal from {n} context points (seed {seed})"
            hint = None
            if np.allclose(got, -goal, atol=1e-6):
                hint = "the sign of the solution is flipped: check the system 2 (x_i - x_0) . g = c_i - c_0."
            elif np.allclose(got, positions[np.argmax(rewards)]):
                hint = "the best context point is not the goal: solve for g from the distances d_i = -r_i."
            else:
                hint = "use the squared distances d_i^2 = r_i^2, subtract the first equation, and solve by least squares."
            expect_close(got, goal, f"{where}: the goal", hint=hint, atol=1e-6)
    passed(f"infer_goal recovers the exact goal from 3 or more points ({len(seeds) * len(n_points)} cases)")
