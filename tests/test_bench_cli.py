"""The benchmark registry, its JSON contract, and the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import partial

import numpy as np
import pytest
import torch

from metarl_course import bench, cli
from metarl_course.device import get_device
from metarl_course.presets import get_budget


def test_nav_protocol_writes_the_contracted_json_and_png(tmp_path):
    out = tmp_path / "nav.json"
    result = bench.run_benchmark("nav-protocol", "ci", out, seeds=[0, 1])
    saved = json.loads(out.read_text())
    assert saved == result
    for key in ("name", "preset", "commit", "machine", "seeds", "wall_seconds", "rows"):
        assert key in saved
    assert saved["preset"] == "ci" and saved["seeds"] == [0, 1] and saved["wall_seconds"] > 0
    assert out.with_suffix(".png").stat().st_size > 5000
    rows = {(r["task"], r["method"], r["episode"]): r for r in saved["rows"]}
    for row in saved["rows"]:
        assert {"method", "mean", "stderr", "n"} <= set(row)
    dense = lambda m, k: rows[("navigation-dense", m, k)]["mean"]  # noqa: E731
    assert dense("oracle", 1) > dense("probe-then-go", 1) > dense("stay", 1) > dense("random", 1)
    assert dense("probe-then-go", 2) == pytest.approx(dense("oracle", 2))
    sparse = lambda m, k: rows[("navigation-sparse", m, k)]["mean"]  # noqa: E731
    assert sparse("search-then-go", 3) > sparse("search-then-go", 1) > sparse("random", 1)


def test_unknown_benchmark_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit, match="no benchmark 'nope'; available: bandit-baselines, maml-cheetah, maml-nav, mdp-baselines, nav-protocol, pearl-cheetah-vel, pearl-point, pixel-estimator, pixel-pearl, pixel-throughput, rl2-bandits, rl2-mdp, rl2-throughput"):
        bench.run_benchmark("nope", "ci", tmp_path / "x.json")


def test_benchmark_rows_must_carry_mean_stderr_n(tmp_path, monkeypatch):
    bench.register("broken-for-test", "a benchmark that forgets stderr")(lambda preset, seeds: ([{"method": "x", "mean": 1}], None))
    with pytest.raises(ValueError, match="without"):
        bench.run_benchmark("broken-for-test", "ci", tmp_path / "b.json")
    bench._REGISTRY.pop("broken-for-test")


def test_cli_help_lists_the_subcommands():
    out = subprocess.run([sys.executable, "-m", "metarl_course.cli", "--help"], capture_output=True, text=True, check=True).stdout
    for command in ("doctor", "run", "release", "grade", "bench"):
        assert command in out


def test_cli_resolves_units_by_number():
    from metarl_course import pipeline

    assert pipeline.resolve_units("00") == ["00_meta_rl_problem"]
    with pytest.raises(SystemExit, match="no unit"):
        pipeline.resolve_units("42")
    assert cli.build_parser().parse_args(["run", "00", "--preset", "ci"]).unit == "00"


def test_doctor_reports_rendering_and_versions(capsys):
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "torch" in out and "rendering ok" in out and "all good" in out


def test_rl2_baseline_benchmarks_at_ci_preset(tmp_path):
    bandits = bench.run_benchmark("bandit-baselines", "ci", tmp_path / "b.json", seeds=[0])
    by_method = {r["method"]: r for r in bandits["rows"]}
    assert (by_method["random"]["k"], by_method["random"]["episodes"]) == (5, 10)
    assert by_method["bayes_optimal"]["mean"] == pytest.approx(6.66, abs=0.001)
    assert by_method["random"]["mean"] < by_method["ucb1"]["mean"] <= by_method["oracle"]["mean"]
    mdp = {r["method"]: r for r in bench.run_benchmark("mdp-baselines", "ci", tmp_path / "m.json", seeds=[0])["rows"]}
    assert mdp["random"]["mean"] < mdp["psrl"]["mean"] < mdp["oracle"]["mean"]


def test_rl2_throughput_rows_are_seconds_per_update(tmp_path):
    rows = bench.run_benchmark("rl2-throughput", "ci", tmp_path / "t.json")["rows"]
    assert (tmp_path / "t.png").stat().st_size > 5_000          # no figure of its own: the rows are drawn
    env_rows = {(r["env"], r["batch"]): r["mean"] for r in rows if r["method"] == "env-steps"}
    assert env_rows[("bandit", 1024)] > 10 * env_rows[("bandit", 1)]  # batching is what makes RL² trainable
    assert env_rows[("tabular-mdp", 1024)] > 10 * env_rows[("tabular-mdp", 1)]
    rows = [r for r in rows if r["method"] != "env-steps"]
    by_method = {r["method"]: r for r in rows}
    assert set(by_method) == {"collect", "ppo-update", "total"}
    assert by_method["total"]["mean"] == pytest.approx(by_method["collect"]["mean"] + by_method["ppo-update"]["mean"])
    assert all(r["mean"] > 0 and r["unit"] == "seconds per update" for r in rows)


@pytest.mark.parametrize("name, cell", [("rl2-bandits", {"k": 5, "episodes": 10}), ("rl2-mdp", {"episodes": 10})])
def test_rl2_benchmarks_train_evaluate_and_resume(name, cell, tmp_path, monkeypatch):
    from metarl_course import rl2_bench

    monkeypatch.setattr(rl2_bench, "CHECKPOINTS", tmp_path / "checkpoints")
    result = bench.run_benchmark(name, "ci", tmp_path / "r.json", seeds=[0])
    by_method = {r["method"]: r for r in result["rows"]}
    rl2 = by_method["rl2"]
    assert {key: rl2[key] for key in cell} == cell and rl2["n"] > 1 and rl2["paper"] > 0
    assert {"random", "greedy", "oracle"} <= set(by_method)
    assert by_method["random"]["paper"] is not None and (tmp_path / "r.png").exists()
    checkpoints = list((tmp_path / "checkpoints" / name / "ci").rglob("*.pt"))
    assert len(checkpoints) == 1 and len(checkpoints[0].parent.name) == 8   # in the folder of its settings
    # A rerun finds the finished checkpoint: it evaluates the same policy without training again.
    again = {r["method"]: r for r in bench.run_benchmark(name, "ci", tmp_path / "r2.json", seeds=[0])["rows"]}["rl2"]
    assert again["mean"] == pytest.approx(rl2["mean"])


def test_rl2_bandits_trains_each_trial_length_with_its_own_number_of_trials(tmp_path, monkeypatch):
    from metarl_course import rl2_bench

    monkeypatch.setattr(rl2_bench, "CHECKPOINTS", tmp_path / "checkpoints")
    overrides = {"bench_rl2_bandits": {"trials_n10": 24}}
    result = bench.run_benchmark("rl2-bandits", "ci", tmp_path / "r.json", seeds=[0], overrides=overrides)
    rl2 = {r["method"]: r for r in result["rows"]}["rl2"]
    assert (rl2["episodes"], rl2["trials_per_update"]) == (10, 24)
    # the JSON records the budgets the run used, the override included
    saved = json.loads((tmp_path / "r.json").read_text())["setting"]
    expected = {k: v for k, v in vars(get_budget("bench_rl2_bandits", "ci")).items() if k != "preset"}
    assert saved == {**expected, "trials_n10": 24}
    for preset in ("ci", "laptop", "paper"):
        budget = get_budget("bench_rl2_bandits", preset)
        assert all(getattr(budget, f"trials_n{n}") > 0 for n in (10, 100, 500)), preset


@pytest.mark.parametrize("name, task", [("maml-nav", "2D navigation"), ("maml-cheetah", "HalfCheetah velocity")])
def test_maml_benchmarks_write_adaptation_curves_and_resume(name, task, tmp_path, monkeypatch):
    from metarl_course import maml_bench

    monkeypatch.setattr(maml_bench, "CHECKPOINTS", tmp_path / "checkpoints")
    result = bench.run_benchmark(name, "ci", tmp_path / "r.json", seeds=[0])
    rows = result["rows"]
    curve = {(r["method"], r["steps"]): r for r in rows if r.get("task") == task and "steps" in r}
    for method in ("MAML", "pretrained", "random"):
        assert all((method, k) in curve for k in range(4)), method
    assert ("oracle", 0) in curve and ("oracle", 1) not in curve
    wide = [k for (method, k) in curve if method == maml_bench.WIDE_TEST]  # the official test's 40 trajectories
    assert sorted(wide) == ([0, 1, 2, 3] if task == "2D navigation" else [])
    # the cheetah bench keeps each method's best iterate on validation tasks, and compares MAML's last
    last = [k for (method, k) in curve if method == maml_bench.LAST_ITERATE]
    assert sorted(last) == ([] if task == "2D navigation" else [0, 1, 2, 3])
    assert curve[("MAML", 1)]["draws"] == (1 if task == "2D navigation" else 2)   # ci: each task adapted twice
    scored = [r for r in rows if r["method"] == "MAML validation score"]     # ci: validated after iteration 1
    assert [(r["iteration"], r["kept"], r["draws"]) for r in scored] == ([] if task == "2D navigation" else [([1], 1, 2)])
    assert curve[("paper MAML", 1)]["mean"] == {"2D navigation": -11.7, "HalfCheetah velocity": -78.6}[task]
    assert any(r["method"] == "seconds per meta-iteration" and r["mean"] > 0 for r in rows)
    assert (tmp_path / "r.png").exists()
    assert len(list((tmp_path / "checkpoints").rglob("*.pt"))) == 3  # MAML, pretrained, oracle
    # A rerun resumes from the finished checkpoints and evaluates the same policies.
    again = bench.run_benchmark(name, "ci", tmp_path / "r2.json", seeds=[0])["rows"]
    again_curve = {(r["method"], r["steps"]): r for r in again if r.get("task") == task and "steps" in r}
    assert again_curve[("MAML", 1)]["mean"] == pytest.approx(curve[("MAML", 1)]["mean"])


def test_maml_locomotion_bench_runs_ant_and_draws_one_row_of_panels_per_task(tmp_path, monkeypatch):
    import matplotlib.image

    from metarl_course import maml_bench

    monkeypatch.setattr(maml_bench, "CHECKPOINTS", tmp_path / "checkpoints")
    ant = {task: env for task, env in maml_bench.LOCOMOTION_TASKS.items() if task.startswith("Ant")}
    assert list(ant) == ["Ant velocity", "Ant direction"]
    monkeypatch.setattr(maml_bench, "LOCOMOTION_TASKS", ant)
    rows = bench.run_benchmark("maml-cheetah", "ci", tmp_path / "a.json", seeds=[0],
                               overrides={"bench_maml_cheetah": {"n_tasks_kinds": 2}})["rows"]
    paper = {r["task"]: r["mean"] for r in rows if r["method"] == "paper MAML" and r["steps"] == 1}
    assert paper == {"Ant velocity": 96.7, "Ant direction": 499.1}
    for task in ant:
        assert {r["steps"] for r in rows if r.get("task") == task and r["method"] == "MAML"} == {0, 1, 2, 3}
    height, width, _ = matplotlib.image.imread(tmp_path / "a.png").shape
    assert height / width > 0.6   # two rows of (adaptation, meta-training) panels: 11 x 8 inches, not 11 x 4


def test_maml_methods_trained_in_worker_processes_equal_those_trained_in_process(tmp_path, monkeypatch):
    from metarl_course import maml_bench
    from metarl_course.maml import MAMLConfig, navigation_tasks

    config = MAMLConfig(meta_batch=2, n_per_task=2, fisher_subsample=0.5)
    make_family = partial(navigation_tasks, 2, 20)   # picklable: the workers build their own
    trained = {}
    for workers in (1, 2):
        monkeypatch.setattr(maml_bench, "CHECKPOINTS", tmp_path / f"workers{workers}")
        trained[workers] = maml_bench._train_all("nav", "ci", 0, make_family, 2, 2, 2, config, 3, 2,
                                                 torch.device("cpu"), workers=workers)
    assert len(list((tmp_path / "workers2").rglob("*.pt"))) == 3   # the workers' checkpoints, which the bench loaded
    for method in ("MAML", "pretrained", "oracle", "random"):
        one, two = (dict(trained[w][method][0].named_parameters()) for w in (1, 2))
        for name in one:
            assert torch.allclose(one[name], two[name], atol=1e-5), (method, name)
    assert len(trained[2]["MAML"][1].iteration) == 3 and len(trained[2]["oracle"][1].iteration) == 2
    # Loading the finished checkpoints again builds no environment.
    built = []
    monkeypatch.setattr(maml_bench, "CHECKPOINTS", tmp_path / "workers1")
    maml_bench._train_all("nav", "ci", 0, lambda: built.append(1) or make_family(), 2, 2, 2, config, 3, 2,
                          torch.device("cpu"))
    assert built == []


def test_a_resumed_maml_run_gives_the_cores_to_the_methods_left_to_train(tmp_path, monkeypatch):
    from metarl_course import maml_bench
    from metarl_course.maml import MAMLConfig, navigation_tasks

    monkeypatch.setattr(maml_bench, "CHECKPOINTS", tmp_path)
    monkeypatch.setattr(maml_bench.os, "cpu_count", lambda: 4)
    config, family = MAMLConfig(meta_batch=2, n_per_task=2), partial(navigation_tasks, 2, 5)
    maml_bench._train_all("nav", "ci", 0, family, 2, 2, 2, config, 2, 1, torch.device("cpu"))  # all three done
    started = []
    monkeypatch.setattr(maml_bench, "ProcessPoolExecutor", _RecordingPool.factory(started))
    maml_bench._train_all("nav", "ci", 0, family, 2, 2, 2, config, 2, 1, torch.device("cpu"), workers=3)
    assert started == []                                            # nothing left: no process started
    (maml_checkpoint,) = tmp_path.rglob("MAML_seed0.pt")
    maml_checkpoint.unlink()                                        # pretrained and the oracle are done, MAML not
    maml_bench._train_all("nav", "ci", 0, family, 2, 2, 2, config, 2, 1, torch.device("cpu"), workers=3)
    assert started == [("nav MAML seed 0", 4)]                      # MAML alone, with all 4 threads


class _RecordingPool:
    """A stand-in for ProcessPoolExecutor that runs each job here and records (job, threads)."""

    def __init__(self, started: list, **_):
        self.started = started

    @classmethod
    def factory(cls, started: list):
        return lambda max_workers, mp_context: cls(started)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def submit(self, fn, job, threads):
        from concurrent.futures import Future

        self.started.append((job["desc"], threads))
        future = Future()
        future.set_result(fn(job, threads))
        return future


def test_each_maml_method_trains_on_its_own_cheetah_environment_so_order_does_not_matter(tmp_path, monkeypatch):
    """A shared vector env would hand the oracle reset noise already advanced by MAML and pretrained."""
    from metarl_course import maml_bench
    from metarl_course.maml import MAMLConfig

    monkeypatch.setattr(maml_bench, "CHECKPOINTS", tmp_path)
    config = MAMLConfig(meta_batch=2, n_per_task=2)
    make_family = partial(maml_bench._locomotion_family, "metarl_course/HalfCheetahVel-v0", 2, 2, 0, "cpu")
    together = maml_bench._train_all("vel", "ci", 0, make_family, 17, 6, 1, config, 1, 1, torch.device("cpu"))
    oracle_cfg = maml_bench.replace(config, n_inner=0, task_input=True)
    alone, _ = maml_bench._train_one(make_family, 17, 6, 1, oracle_cfg, 0, 1, "oracle", None, "cpu")
    for name, value in alone.named_parameters():
        assert torch.allclose(value, dict(together["oracle"][0].named_parameters())[name]), name


def test_a_worker_process_error_reaches_the_bench(tmp_path, monkeypatch):
    from metarl_course import maml_bench
    from metarl_course.maml import MAMLConfig

    monkeypatch.setattr(maml_bench, "CHECKPOINTS", tmp_path)
    broken = partial(maml_bench._locomotion_family, "metarl_course/NoSuchCheetah-v0", 2, 2, 0, "cpu")
    with pytest.raises(Exception, match="NoSuchCheetah"):
        maml_bench._train_all("broken", "ci", 0, broken, 17, 6, 1, MAMLConfig(meta_batch=2, n_per_task=2), 1, 1,
                              torch.device("cpu"), workers=2)
    assert not list(tmp_path.rglob("*.pt"))


def test_pearl_point_reports_success_per_trajectory_and_the_cost_of_looping_over_tasks(tmp_path, monkeypatch):
    from metarl_course import pearl_bench

    monkeypatch.setattr(pearl_bench, "CHECKPOINTS", tmp_path / "checkpoints")
    result = bench.run_benchmark("pearl-point", "ci", tmp_path / "p.json", seeds=[0])
    rows = result["rows"]
    success = sorted((r["trajectory"], r["phase"]) for r in rows if r["method"] == "PEARL success")
    assert success == [(1, "exploration (z ~ prior)"), (2, "posterior"), (3, "posterior")]   # ci: 1 exploration trajectory
    assert all(0.0 <= r["mean"] <= 1.0 for r in rows if "success" in r["method"])
    assert all(r["phase"] == "exploration (z ~ prior)" for r in rows if "never updated" in r["method"])
    algorithm2 = sorted((r["trajectory"], r["phase"]) for r in rows if "Algorithm 2" in r["method"])
    assert algorithm2 == [(1, "exploration (z ~ prior)"), (2, "posterior"), (3, "posterior")]
    # the figure can be redrawn from the JSON alone (benchmarks/results/redraw-png.py): the same panels and curves
    saved = json.loads((tmp_path / "p.json").read_text())["rows"]
    figure = pearl_bench.figure_from_rows(saved)
    left, right = figure.axes
    assert len(left.containers) == 3 and len(right.lines) == 2
    assert right.lines[0].get_xdata().tolist() == [c[0] for c in next(r for r in saved if r["method"] == "PEARL training")["curve"]]
    # twenty steps of uniform random actions from the origin seldom reach a goal at distance 1
    assert next(r["mean"] for r in rows if r["method"] == "random policy") < 0.05
    training = next(r for r in rows if r["method"] == "PEARL training")
    assert training["env_steps"] == 20 * (80 * 2 + 2 * 2 * 2) and len(training["curve"]) == 2
    methods = {r["method"] for r in rows}
    assert {"meta-batch update, batched over tasks", "meta-batch update, Python loop over tasks",
            "speed-up of batching"} <= methods
    assert (tmp_path / "p.png").exists()
    ends = next(r for r in rows if r["method"] == "end points of z ~ prior")
    assert sum(ends["angle_histogram"]) + ends["outside_upper_half"] == 200 and 0.0 < ends["mean"] <= 1.0
    agent, config = pearl_bench.load_agent(tmp_path / "checkpoints" / "pearl-point" / "ci" / "PEARL_seed0.pt")
    assert config.net_hidden == (16,) and agent.encoder.latent_dim == config.latent_dim


def test_pixel_throughput_reports_frames_and_gradient_steps_per_second(tmp_path):
    result = bench.run_benchmark("pixel-throughput", "ci", tmp_path / "p.json")
    rows = {r["method"]: r for r in result["rows"]}
    assert rows["render"]["unit"] == "frames per second" and rows["render"]["mean"] > 1
    assert rows["estimator-step"]["unit"] == "gradient steps per second" and rows["estimator-step"]["mean"] > 0
    pearl = rows["pearl-step"]      # PEARL's gradient steps at the pixel study's ci sizes, on this machine's device
    assert pearl["unit"] == "gradient steps per second" and pearl["mean"] > 0 and pearl["n"] == 2
    assert pearl["device"] == str(get_device()) == rows["estimator-step"]["device"]
    assert (pearl["meta_batch"], pearl["rl_batch"], pearl["context_batch"], pearl["hidden"]) == (2, 8, 8, [16])
    assert (tmp_path / "p.json").exists()


def test_pixel_estimator_reports_relative_error_per_dimension(tmp_path, monkeypatch):
    from metarl_course import pixels

    monkeypatch.setattr(pixels, "CACHE", tmp_path / "cache")
    rows = bench.run_benchmark("pixel-estimator", "ci", tmp_path / "e.json")["rows"]
    assert {r["k"] for r in rows} == {1, 3} and len(rows) == 2 * 17
    assert all(r["mean"] >= 0 and r["unit"] == "held-out RMSE / std of the dimension" for r in rows)
    assert (tmp_path / "e.png").exists() and len(list((tmp_path / "cache").iterdir())) == 1


def test_held_out_success_averages_each_tasks_own_runs():
    """The repeated runs are rows of one batch; each task's mean must come from its own rows."""
    from metarl_course import pearl_bench
    from metarl_course.pearl import PEARLAgent, meta_test, sparse_point_tasks

    torch.manual_seed(0)
    tasks, _, test_ids = sparse_point_tasks()
    agent = PEARLAgent(2, 2, 2, net_hidden=(8,), encoder_hidden=(8,))
    with torch.no_grad():          # whatever z, the policy walks 0.05 g per step: it reaches g of the first task
        for p in agent.policy.parameters():
            p.zero_()
        agent.policy.net[-1].bias[:2] = torch.atanh(torch.as_tensor(tasks.goals[test_ids[0]]) / 2)
    ids = test_ids[:3]
    success, returns = pearl_bench.held_out_success(agent, tasks, ids, 2, 1, seed=0, repeats=4)
    assert success.shape == returns.shape == (2, 3)
    assert success[:, 0].tolist() == [1.0, 1.0]          # found on every run
    runs = meta_test(agent, tasks.env(np.tile(ids, 4)), 2, 1, generator=torch.Generator().manual_seed(0))[0]
    expected = runs.reshape(2, 4, 3).mean(dim=1)
    assert np.allclose(returns, expected.numpy())
    assert returns[0, 0] > 0 and np.allclose(returns[:, 0], runs[:, 0].numpy())   # deterministic, so every run alike


def test_bench_set_is_checked_before_anything_runs_and_recorded(tmp_path, monkeypatch):
    with pytest.raises(SystemExit, match="has no key 'nope'"):
        cli.main(["bench", "nav-protocol", "--preset", "ci", "--set", "bench_pearl_point.nope=1"])
    seen = {}

    def fake(preset, seeds):
        from metarl_course.presets import get_budget
        seen["kl"] = get_budget("bench_pearl_point", preset).kl_weight
        return [{"method": "m", "mean": 0.0, "stderr": 0.0, "n": 1}], None

    monkeypatch.setitem(bench._REGISTRY, "fake", bench.Benchmark("fake", fake, "a fake", (0,)))
    monkeypatch.setattr(bench, "registry", lambda: dict(bench._REGISTRY))
    out = tmp_path / "f.json"
    assert cli.main(["bench", "fake", "--preset", "ci", "--out", str(out), "--set", "bench_pearl_point.kl_weight=0.5"]) == 0
    assert seen["kl"] == 0.5
    assert json.loads(out.read_text())["overrides"] == {"bench_pearl_point": {"kl_weight": 0.5}}


def test_run_and_bench_take_their_preset_from_metarl_preset_like_the_notebooks(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setitem(bench._REGISTRY, "fake", bench.Benchmark(
        "fake", lambda preset, seeds: seen.append(preset) or ([{"method": "m", "mean": 0.0, "stderr": 0.0, "n": 1}], None), "a fake", (0,)))
    monkeypatch.setattr(bench, "registry", lambda: dict(bench._REGISTRY))
    out = str(tmp_path / "f.json")
    monkeypatch.delenv("METARL_PRESET", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    for environ, flag, expected in ((None, [], "laptop"), ("ci", [], "ci"), ("ci", ["--preset", "paper"], "paper")):
        if environ:
            monkeypatch.setenv("METARL_PRESET", environ)
        assert cli.main(["bench", "fake", "--out", out, *flag]) == 0
        assert seen[-1] == expected
    monkeypatch.setenv("METARL_PRESET", "huge")
    with pytest.raises(SystemExit, match="METARL_PRESET='huge' is not a preset"):
        cli.main(["bench", "fake", "--out", out])
    ran = []
    from metarl_course import pipeline
    monkeypatch.setattr(pipeline, "run_units", lambda units, preset: ran.append((units, preset)) or [])
    monkeypatch.setenv("METARL_PRESET", "ci")
    assert cli.main(["run", "00"]) == 0 and ran == [(["00_meta_rl_problem"], "ci")]


def test_maml_nav_inner_step_budget_reaches_training_and_the_test_protocol(tmp_path, monkeypatch):
    """``bench_maml_nav.inner_step`` is α for meta-training and for the meta-test (α, then α/2)."""
    from metarl_course import maml, maml_bench

    assert maml_bench.meta_test_step_sizes(0.1) == (0.1, 0.05, 0.05)  # the paper's text
    assert maml_bench.meta_test_step_sizes(0.5) == (0.5, 0.25, 0.25)  # the official 2D-navigation scripts
    used = []
    real = maml.adaptation_curve                # what the bench's curves call, through adaptation_curve_over_draws
    monkeypatch.setattr(maml, "adaptation_curve", lambda *a, **k: used.append(a[3]) or real(*a, **k))
    monkeypatch.setattr(maml_bench, "CHECKPOINTS", tmp_path / "checkpoints")
    bench.run_benchmark("maml-nav", "ci", tmp_path / "r.json", seeds=[0], overrides={"bench_maml_nav": {"inner_step": 0.5}})
    assert (0.5, 0.25, 0.25) in used and (0.5, 0.125, 0.125) in used and (0.1, 0.05, 0.05) not in used
    maml_checkpoint = next((tmp_path / "checkpoints").rglob("MAML_seed0.pt"))
    assert torch.load(maml_checkpoint, weights_only=False)["config"]["inner_step"] == 0.5


def test_maml_adaptation_panel_cuts_a_diverging_curve_below_random():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from metarl_course import maml_bench

    def curve(method, values):
        return [{"method": method, "steps": k, "mean": v, "stderr": 0.0} for k, v in enumerate(values)]

    rows = (curve("MAML", [-36, -10, -16, -10]) + curve("random", [-80, -74, -73, -73])
            + curve("pretrained", [-36, -614, -533, -468]) + curve(maml_bench.SMALL_LATER, [-36, -10, -4, -6])
            + curve("paper MAML", [-40.4, -11.7]) + [{"method": "oracle", "steps": 0, "mean": -0.4, "stderr": 0.0},
                                                    {"method": "paper oracle", "steps": 0, "mean": -2.3, "stderr": 0.0}])
    figure, ax = plt.subplots()
    maml_bench._adaptation_panel(ax, "2D navigation", rows)
    assert ax.get_ylim()[0] == pytest.approx(1.5 * -80)
    assert any("pretrained (lowest -614)" in t.get_text() for t in ax.texts)
    plt.close(figure)


def test_maml_cheetah_curves_average_draws_and_the_first_draw_is_unit_03s():
    from metarl_course import maml_bench
    from metarl_course.maml import GaussianMLPPolicy, adaptation_curve
    from metarl_course.maml_locomotion import locomotion_test_tasks

    env_id = "metarl_course/HalfCheetahDir-v0"
    torch.manual_seed(1)
    policy = GaussianMLPPolicy(17, 6, (8,))
    oracle = GaussianMLPPolicy(18, 6, (8,))
    policies = {"MAML": (policy, None, False), "oracle": (oracle, None, True)}
    env, feats = locomotion_test_tasks(env_id, 2, 2)
    one = maml_bench._curves(policies, env, feats, seed=0, draws=1)
    two = maml_bench._curves(policies, env, feats, seed=0, draws=2)

    def unit_03(generator_seed, draw):          # section 9's protocol, on a batch built for it
        fresh, fresh_feats = locomotion_test_tasks(env_id, 2, 2)
        fresh.reseed(draw)
        return adaptation_curve(policy, fresh, fresh_feats, (0.1, 0.05, 0.05),
                                generator=torch.Generator().manual_seed(generator_seed))["returns"]

    np.testing.assert_allclose(one["MAML"], unit_03(777, 0), rtol=1e-6)
    np.testing.assert_allclose(two["MAML"], (unit_03(777, 0) + unit_03(1777, 1)) / 2, rtol=1e-6)
    assert one["oracle"].shape == (1, 2) and not np.allclose(one["MAML"], two["MAML"])


def test_maml_validation_settings_get_their_own_checkpoint_folder(tmp_path, monkeypatch):
    """A changed number of validation tasks would keep another iterate: it must not resume that run."""
    from metarl_course import maml_bench
    from metarl_course.maml import MAMLConfig, navigation_tasks, navigation_test_tasks

    monkeypatch.setattr(maml_bench, "CHECKPOINTS", tmp_path)
    config = MAMLConfig(meta_batch=2, n_per_task=2, hidden=(8,), fisher_subsample=0.5)
    make_family = partial(navigation_tasks, 2, 10)
    for n_validation in (0, 2, 3):
        validation = partial(navigation_test_tasks, n_validation, 2, seed=1, horizon=10) if n_validation else None
        policies = maml_bench._train_all("nav", "ci", 0, make_family, 2, 2, 2, config, 2, 1, torch.device("cpu"),
                                         validation_tasks=validation, validate_every=1 if n_validation else 0,
                                         n_validation_tasks=n_validation)
        assert (maml_bench.LAST_ITERATE in policies) == bool(n_validation)
    assert len({path.parent for path in tmp_path.rglob("MAML_seed0.pt")}) == 3
