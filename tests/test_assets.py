"""What the kit ships in ``assets/``: the laptop HalfCheetah-velocity agent that units 04 and 05 run.

A fresh clone has no ``build/bench/``, so without the shipped agent units 04 and 05 at the laptop preset
would fall back to a tiny agent that has learned nothing. These tests check that the notebook's
helper finds the asset, that it still matches the laptop preset's settings (a changed preset needs
a new asset: ``assets/README.md`` says how), and that it adapts to held-out velocities.
"""

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest

from metarl_course import pixel_notebook, trained_agents
from metarl_course.pearl_cheetah import cheetah_vel_tasks
from metarl_course.pearl_cheetah_bench import cheetah_config, evaluate, load_agent
from metarl_course.presets import get_budget

ASSETS = Path(__file__).resolve().parent.parent / "assets"
AGENT = ASSETS / "pearl-cheetah-vel-laptop-seed0.pt"


def test_every_asset_is_described_in_the_assets_readme():
    readme = (ASSETS / "README.md").read_text()
    shipped = sorted(p.name for p in ASSETS.iterdir() if p.name != "README.md")
    assert shipped and all(f"`{name}`" in readme for name in shipped)


def test_the_shipped_agent_has_the_laptop_presets_settings():
    _, config = load_agent(AGENT)
    laptop = cheetah_config(get_budget("bench_pearl_cheetah_vel", "laptop"))
    assert dataclasses.asdict(config) == dataclasses.asdict(laptop), "the laptop preset changed: retrain the asset"


def test_units_04_and_05_find_the_shipped_agent_and_prefer_a_bench_checkpoint(tmp_path, monkeypatch):
    (tmp_path / "assets").mkdir()
    shutil.copy(AGENT, tmp_path / "assets" / AGENT.name)
    monkeypatch.setattr(trained_agents, "repo_root", lambda: tmp_path)
    *_, tasks, _, _, origin = trained_agents.pearl_cheetah_agent("laptop")            # unit 04
    assert "kit's copy" in origin and "assets/" in origin and tasks.horizon == 200
    *_, origin = pixel_notebook.state_agent("laptop", horizon=200)                    # unit 05
    assert "kit's copy" in origin and "assets/" in origin
    bench = tmp_path / "build" / "bench" / "pearl-cheetah-vel" / "laptop" / "PEARL_seed0.pt"
    bench.parent.mkdir(parents=True)
    shutil.copy(AGENT, bench)
    *_, origin = pixel_notebook.state_agent("laptop", horizon=200)
    assert origin.startswith("the pearl-cheetah-vel bench's laptop agent")


def test_the_shipped_agent_adapts_to_held_out_velocities():
    """After two exploration trajectories it runs near the target: far above standing still."""
    agent, config = load_agent(AGENT)
    budget = get_budget("bench_pearl_cheetah_vel", "laptop")
    tasks, _, test_ids = cheetah_vel_tasks(budget.n_train, budget.n_test, horizon=config.horizon)
    ids = test_ids[:8]
    result = evaluate(agent, tasks, ids, n_trajectories=3, n_exploration=2, seed=0)
    after = result["returns"][2]                                         # the posterior trajectory, (M,)
    standing = pixel_notebook.standing_still_return(tasks.goals[ids, 0], config.horizon)
    assert after.mean() > standing + 120, (after.mean(), standing)
    gap = np.abs(result["velocity"][2] - tasks.goals[ids, 0])
    assert gap.mean() < 0.5, gap                                           # m/s from the target, on average
    assert after.mean() > result["returns"][0].mean() + 60                 # adaptation, not a fixed gait


@pytest.mark.parametrize("preset", ["ci"])
def test_grading_never_uses_the_asset(preset, monkeypatch):
    *_, origin = pixel_notebook.state_agent(preset, horizon=20)
    assert "tiny agent" in origin
    *_, tasks, _, _, origin = trained_agents.pearl_cheetah_agent(preset)
    assert "tiny agent" in origin and tasks.horizon == 20


MAML_POLICY = ASSETS / "maml-cheetah-dir-laptop-seed0.pt"


def test_unit_03_finds_the_shipped_maml_policy_and_grading_never_does(tmp_path, monkeypatch):
    policy, env_id, origin = trained_agents.maml_cheetah_policy("laptop")
    assert env_id == "metarl_course/HalfCheetahDir-v0" and "kit's copy" in origin
    *_, origin = trained_agents.maml_cheetah_policy("ci")
    assert "randomly initialised" in origin
    monkeypatch.setattr(trained_agents, "repo_root", lambda: tmp_path)        # a clone without the asset
    *_, origin = trained_agents.maml_cheetah_policy("laptop")
    assert "randomly initialised" in origin and "ships no laptop policy" in origin


def test_the_shipped_maml_policy_adapts_in_one_step():
    """Unit 03's section 9 with the reference pieces: one step of α = 0.1 on 10 trajectories of each of
    10 held-out directions. Both ways (backward -2.4 -> 107.8, forward -94.9 -> -20.0 with these reference
    pieces, the maml-cheetah bench's numbers)."""
    import torch

    from metarl_course.maml import adaptation_curve
    from metarl_course.maml_locomotion import load_policy, locomotion_test_tasks

    policy, env_id = load_policy(MAML_POLICY)
    env, directions = locomotion_test_tasks(env_id, 10, 10)
    before, after = adaptation_curve(policy, env, directions, step_sizes=(0.1,),
                                     generator=torch.Generator().manual_seed(777))["returns"]
    backward = directions[:, 0].numpy() < 0
    assert after[backward].mean() > before[backward].mean() + 60, (before, after)
    assert after[~backward].mean() > before[~backward].mean() + 40, (before, after)
