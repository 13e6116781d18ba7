import random

import numpy as np
import pytest
import torch

from metarl_course.device import get_device
from metarl_course.envs import Navigation2DEnv
from metarl_course.seeding import seed_everything


def _draw(env):
    return (random.random(), float(np.random.rand()), float(torch.rand(1)), tuple(env.action_space.sample()))


def test_seed_everything_repeats_every_source_of_randomness():
    env = Navigation2DEnv()
    rng_a = seed_everything(3, env)
    first = _draw(env), rng_a.random()
    rng_b = seed_everything(3, env)
    assert (_draw(env), rng_b.random()) == first
    seed_everything(4, env)
    assert _draw(env) != first[0]


def test_device_is_cpu_without_a_gpu_and_says_why(capsys, monkeypatch):
    monkeypatch.delenv("METARL_DEVICE", raising=False)
    device = get_device(verbose=True)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert device.type == expected
    assert capsys.readouterr().out.startswith(f"device: {expected}")


def test_device_override(monkeypatch):
    monkeypatch.setenv("METARL_DEVICE", "cpu")
    assert get_device().type == "cpu"
    if not torch.cuda.is_available():
        monkeypatch.setenv("METARL_DEVICE", "cuda")
        with pytest.raises(RuntimeError, match="no CUDA GPU"):
            get_device()


def test_units_01_02_and_04_train_on_one_cpu_thread_at_every_preset(monkeypatch, capsys):
    import torch

    import metarl_course

    monkeypatch.setenv("METARL_PRESET", "laptop")
    monkeypatch.setenv("METARL_DEVICE", "cpu")
    before = torch.get_num_threads()
    try:
        for unit, threads in (("01_rl2_bandits", 1), ("02_rl2_tabular_mdp", 1), ("03_maml_pg", 2),
                              ("04_pearl", 1), ("05_pixel_pearl", 2)):   # MAML's batches and the CNN keep both
            torch.set_num_threads(2)
            metarl_course.start_unit(unit)
            assert torch.get_num_threads() == threads, unit
            assert ("one CPU thread" in capsys.readouterr().out.splitlines()[-1]) == (threads == 1), unit
    finally:
        torch.set_num_threads(before)


def test_run_device_is_where_the_notebook_trains(monkeypatch, capsys):
    """Only unit 02's notebook trains on the visible GPU; the others say the GPU is for the benches."""
    import torch

    import metarl_course
    from metarl_course import session

    monkeypatch.setenv("METARL_PRESET", "ci")
    monkeypatch.setattr(session, "get_device", lambda: torch.device("cuda"))  # as on a GPU machine
    assert metarl_course.start_unit("02_rl2_tabular_mdp").device == torch.device("cuda")
    assert "device cuda" in capsys.readouterr().out
    for unit in ("01_rl2_bandits", "03_maml_pg", "04_pearl", "05_pixel_pearl"):
        assert metarl_course.start_unit(unit).device == torch.device("cpu"), unit
        assert "device cpu (cuda visible: `metarl-course bench` uses it" in capsys.readouterr().out, unit
    monkeypatch.setattr(session, "get_device", lambda: torch.device("cpu"))
    metarl_course.start_unit("04_pearl")
    assert "visible" not in capsys.readouterr().out  # a CPU-only machine: nothing to explain
