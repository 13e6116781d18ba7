"""MuJoCo's warnings: gymnasium's known deprecation is dropped, anything else is a Python warning."""

import subprocess
import sys

import pytest

from metarl_course.envs.mujoco_warnings import mujoco_warning

MAKE_ENVS = """
import gymnasium as gym
{setup}
cheetah = gym.make("HalfCheetah-v5").unwrapped
gym.make("HalfCheetah-v5")
gym.make("Ant-v5")
print("mass", round(float(cheetah.model.body_mass.sum()), 6))
"""


def _make_envs(tmp_path, setup: str) -> tuple[str, bool]:
    """Make two HalfCheetahs and an Ant in a fresh process in tmp_path: (its output, whether a log file appeared)."""
    result = subprocess.run([sys.executable, "-c", MAKE_ENVS.format(setup=setup)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120, check=True)
    return result.stdout + result.stderr, (tmp_path / "MUJOCO_LOG.TXT").exists()


def test_without_the_handler_mujoco_prints_the_deprecation_and_writes_a_log(tmp_path):
    # The control: if this fails, MuJoCo or gymnasium no longer warns and the handler can go.
    output, log_written = _make_envs(tmp_path, setup="")
    assert output.count("settotalmass") == 2 and log_written  # once per cheetah made (Ant's model has no total mass)


def test_the_kit_makes_cheetah_and_ant_silently_and_keeps_their_mass(tmp_path):
    output, log_written = _make_envs(tmp_path, setup="import metarl_course.envs.locomotion")
    assert "settotalmass" not in output and "WARNING" not in output, output
    assert not log_written
    assert "mass 14.0" in output  # settotalmass="14" in half_cheetah.xml still applies


def test_any_other_mujoco_warning_becomes_a_runtime_warning():
    with pytest.warns(RuntimeWarning, match="MuJoCo: Nan, Inf or huge value in QACC"):
        mujoco_warning("Nan, Inf or huge value in QACC at DOF 0. The simulation is unstable.")


def test_the_known_deprecation_is_dropped(recwarn):
    mujoco_warning("compiler attribute 'settotalmass' is deprecated and will be removed in a future release")
    assert len(recwarn) == 0
