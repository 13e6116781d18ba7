"""Checkpoint folders record the code that made them, and a run on other code is warned."""

import warnings
from pathlib import Path

import pytest
import torch

from metarl_course import bench, checkpoint_code
from metarl_course.checkpoint_code import StaleCheckpointWarning, check_checkpoint_code, code_fingerprint, save_checkpoint
from metarl_course.maml import MAMLConfig, navigation_tasks, train_maml


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch):
    monkeypatch.setattr(checkpoint_code, "_warned", set())


def test_the_fingerprint_changes_with_any_source_file_and_only_with_them(tmp_path):
    package = tmp_path / "package"
    (package / "sub").mkdir(parents=True)
    (package / "a.py").write_text("x = 1\n")
    (package / "sub" / "b.py").write_text("y = 2\n")
    first = code_fingerprint(package)
    assert len(first) == 12 and code_fingerprint(package) == first
    (package / "notes.txt").write_text("not code")
    assert code_fingerprint(package) == first
    (package / "sub" / "b.py").write_text("y = 3\n")
    assert code_fingerprint(package) != first
    (package / "sub" / "b.py").write_text("y = 2\n")
    (package / "sub" / "b.py").rename(package / "b.py")          # same bytes, other place
    assert code_fingerprint(package) != first
    assert code_fingerprint() != first                            # the real package


def test_a_new_folder_is_stamped_and_the_same_code_resumes_silently(tmp_path):
    folder = tmp_path / "bench" / "abc12345"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_checkpoint_code(folder, "aaaaaaaaaaaa")
        (folder / "MAML_seed0.pt").write_bytes(b"weights")
        assert check_checkpoint_code(folder, "aaaaaaaaaaaa")
    assert (folder / "CODE").read_text().strip() == "aaaaaaaaaaaa"


def test_other_code_is_warned_once_and_the_stamp_keeps_the_code_that_trained(tmp_path):
    check_checkpoint_code(tmp_path, "aaaaaaaaaaaa")
    (tmp_path / "MAML_seed0.pt").write_bytes(b"weights")
    with pytest.warns(StaleCheckpointWarning, match="code aaaaaaaaaaaa; running bbbbbbbbbbbb.*delete the folder"):
        assert not check_checkpoint_code(tmp_path, "bbbbbbbbbbbb")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not check_checkpoint_code(tmp_path, "bbbbbbbbbbbb")   # once per folder and process
    assert (tmp_path / "CODE").read_text().strip() == "aaaaaaaaaaaa"


def test_checkpoints_without_a_stamp_are_of_unknown_code(tmp_path):
    (tmp_path / "stage4_seed0.pt").write_bytes(b"weights")
    with pytest.warns(StaleCheckpointWarning, match="unknown"):
        assert not check_checkpoint_code(tmp_path, "aaaaaaaaaaaa")
    assert not (tmp_path / "CODE").exists()


def test_a_benchmark_that_resumes_after_a_code_change_says_so(tmp_path, monkeypatch):
    from metarl_course import rl2_bench

    monkeypatch.setattr(rl2_bench, "CHECKPOINTS", tmp_path / "checkpoints")
    with warnings.catch_warnings():
        warnings.simplefilter("error", StaleCheckpointWarning)
        bench.run_benchmark("rl2-bandits", "ci", tmp_path / "r.json", seeds=[0])
    (stamp,) = (tmp_path / "checkpoints").rglob("CODE")
    assert stamp.read_text().strip() == code_fingerprint()
    stamp.write_text("000000000000\n")                              # as if the code had changed since
    with pytest.warns(StaleCheckpointWarning, match=str(stamp.parent)):
        bench.run_benchmark("rl2-bandits", "ci", tmp_path / "r2.json", seeds=[0])


def _stopped_halfway(obj, f) -> None:
    """torch.save as a run stopped in the middle of it leaves things: part of a file, then the stop."""
    Path(f).write_bytes(b"half a checkpo")
    raise KeyboardInterrupt


def test_a_save_stopped_halfway_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "run" / "MAML_seed0.pt"
    save_checkpoint({"iteration": 10}, path)
    with monkeypatch.context() as patch:
        patch.setattr(torch, "save", _stopped_halfway)
        with pytest.raises(KeyboardInterrupt):
            save_checkpoint({"iteration": 20}, path)
    assert torch.load(path)["iteration"] == 10
    save_checkpoint({"iteration": 20}, path)
    assert torch.load(path)["iteration"] == 20
    assert [p.name for p in path.parent.iterdir()] == ["MAML_seed0.pt"]


def test_maml_stopped_while_saving_resumes_from_its_previous_checkpoint(tmp_path, monkeypatch):
    """train_maml saves every 10 iterations; a stop during the save at 20 must not cost the one at 10."""
    config = MAMLConfig(meta_batch=2, n_per_task=2)
    family, checkpoint = navigation_tasks(2, horizon=5), tmp_path / "MAML_seed0.pt"
    train_maml(family, 2, 2, 10, config, seed=0, checkpoint=checkpoint)
    with monkeypatch.context() as patch:
        patch.setattr(torch, "save", _stopped_halfway)
        with pytest.raises(KeyboardInterrupt):
            train_maml(family, 2, 2, 20, config, seed=0, checkpoint=checkpoint)
    assert torch.load(checkpoint, weights_only=False)["iteration"] == 10
    meta_batches = []
    _, history = train_maml(lambda m, rng: meta_batches.append(m) or family(m, rng), 2, 2, 12, config, seed=0,
                            checkpoint=checkpoint)
    assert history.iteration == list(range(12)) and len(meta_batches) == 2   # resumed at 10, not retrained


def test_maml_saves_after_every_iteration_that_takes_a_minute(tmp_path, monkeypatch):
    """Fast iterations are saved every 10 (and at the end); a paper-scale run, whose iterations take
    a minute or more, is saved after each, so a session that ends loses at most one iteration."""
    from metarl_course import maml

    config = MAMLConfig(meta_batch=2, n_per_task=2)
    family, checkpoint = navigation_tasks(2, horizon=5), tmp_path / "MAML_seed0.pt"
    saved: list[int] = []
    real_save = maml.save_checkpoint

    def spy(state, path):
        saved.append(state["iteration"])
        real_save(state, path)

    monkeypatch.setattr(maml, "save_checkpoint", spy)
    train_maml(family, 2, 2, 12, config, seed=0, checkpoint=checkpoint)
    assert saved == [10, 12]
    clock = iter(range(0, 10_000, 61))                      # every reading of the clock 61 s later
    monkeypatch.setattr(maml.time, "perf_counter", lambda: float(next(clock)))
    saved.clear()
    train_maml(family, 2, 2, 15, config, seed=0, checkpoint=checkpoint)
    assert saved == [13, 14, 15]


def test_when_a_checkpoint_is_due():
    from metarl_course.checkpoint_code import checkpoint_due

    assert checkpoint_due(10, 500, 5.0)                  # every 10 steps
    assert checkpoint_due(7, 7, 5.0)                     # the last one
    assert not checkpoint_due(11, 500, 59.9)
    assert checkpoint_due(11, 500, 60.0)                 # a minute since the last save
