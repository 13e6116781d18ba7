"""``metarl-course bench``: reproduce a published table or figure, as JSON and a PNG.

Each unit registers its benchmarks with ``@register``. A benchmark is a function
``fn(preset, seeds) -> (rows, figure)``: ``rows`` is a list of dicts
``{"method", <setting columns>..., "mean", "stderr", "n"}`` and ``figure`` a matplotlib
figure (or None: ``rows_figure`` then draws the rows). ``run_benchmark`` adds what makes a
number trustworthy (the setting, preset, seeds, commit, machine, wall time) and writes
``FILE.json`` and ``FILE.png``.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

# Modules that register benchmarks when imported; each unit adds its own.
BENCHMARK_MODULES = ["metarl_course.nav_bench", "metarl_course.rl2_baselines_bench",
                     "metarl_course.rl2_bench", "metarl_course.maml_bench",
                     "metarl_course.pearl_bench", "metarl_course.pearl_cheetah_bench",
                     "metarl_course.pixel_bench", "metarl_course.pixel_pearl_bench"]

Rows = list[dict]
BenchFn = Callable[[str, list[int]], tuple[Rows, object]]


@dataclass(frozen=True)
class Benchmark:
    name: str
    fn: BenchFn
    description: str
    default_seeds: tuple[int, ...]


_REGISTRY: dict[str, Benchmark] = {}


def register(name: str, description: str, default_seeds: tuple[int, ...] = (0, 1, 2)) -> Callable[[BenchFn], BenchFn]:
    def decorate(fn: BenchFn) -> BenchFn:
        _REGISTRY[name] = Benchmark(name, fn, description, default_seeds)
        return fn
    return decorate


def registry() -> dict[str, Benchmark]:
    for module in BENCHMARK_MODULES:
        importlib.import_module(module)
    return dict(sorted(_REGISTRY.items()))


def git_commit(root: Path | None = None) -> str:
    root = root or Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True, text=True).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def describe_machine() -> str:
    from metarl_course.device import describe_device

    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores, {describe_device()}, python {platform.python_version()}"


REQUIRED_ROW_KEYS = ("method", "mean", "stderr", "n")


def run_benchmark(name: str, preset: str, out: Path, seeds: list[int] | None = None,
                  overrides: dict[str, dict] | None = None) -> dict:
    """Run benchmark ``name`` at ``preset``; write ``out`` (JSON) and the PNG beside it.

    ``overrides`` ({section: {key: value}}) replace budgets of the preset for this run; the
    JSON records them, so a result measured off the preset says so."""
    from metarl_course.presets import overridden

    benchmarks = registry()
    if name not in benchmarks:
        raise SystemExit(f"no benchmark {name!r}; available: {', '.join(benchmarks)}")
    bench = benchmarks[name]
    seeds = list(bench.default_seeds if seeds is None else seeds)
    commit = git_commit()  # the code as it was when the run started
    start = time.perf_counter()
    with overridden(overrides or {}):
        rows, figure = bench.fn(preset, seeds)
        setting = bench_setting(name, preset)
    wall = time.perf_counter() - start
    for row in rows:
        missing = [k for k in REQUIRED_ROW_KEYS if k not in row]
        if missing:
            raise ValueError(f"benchmark {name} produced a row without {missing}: {row}")
    result = {
        "name": name,
        "description": bench.description,
        "preset": preset,
        "commit": commit,
        "machine": describe_machine(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seeds": seeds,
        "setting": setting,
        "overrides": overrides or {},
        "wall_seconds": round(wall, 3),
        "rows": rows,
    }
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    if figure is None:
        figure = rows_figure(rows, f"{name} ({preset})")
    figure.savefig(out.with_suffix(".png"), dpi=120, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(figure)   # saved: a session that runs many benches keeps no open figures
    return result


def bench_setting(name: str, preset: str) -> dict:
    """The budgets the benchmark ran with: its preset section ``bench_<name>``, ``--set`` overrides applied."""
    from metarl_course.presets import get_budget

    try:
        budget = vars(get_budget("bench_" + name.replace("-", "_"), preset))
    except KeyError:
        return {}
    return {key: value for key, value in budget.items() if key != "preset"}


_NOT_A_LABEL = {"method", "mean", "stderr", "n", "unit", "seed", "wall"}


def rows_figure(rows: list[dict], title: str):
    """A plain picture of any benchmark's rows: per unit of measurement, one bar per row (mean ± standard
    error), labelled by its method and its setting columns. For benchmarks without a figure of their own."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    units: dict[str, list[dict]] = {}
    for row in rows:
        units.setdefault(str(row.get("unit", "")), []).append(row)
    fig, axes = plt.subplots(len(units), 1, figsize=(9, 0.35 * len(rows) + 1.2 * len(units)), squeeze=False)
    for ax, (unit, group) in zip(axes[:, 0], units.items()):
        labels = [", ".join([str(r["method"])] + [f"{k} {v}" for k, v in r.items() if k not in _NOT_A_LABEL
                                                  and isinstance(v, (str, int, float))]) for r in group]
        means = [float(r["mean"]) for r in group]
        ax.barh(range(len(group)), means, xerr=[float(r["stderr"]) for r in group], color="C0", capsize=3)
        ax.set_yticks(range(len(group)), [label[:90] for label in labels], fontsize=7)
        ax.invert_yaxis()
        positive = [m for m in means if m > 0]
        if positive and len(positive) == len(means) and max(positive) / min(positive) > 100:
            ax.set_xscale("log")
        ax.set_xlabel(unit, fontsize=8)
    axes[0, 0].set_title(title)
    fig.tight_layout()
    return fig
