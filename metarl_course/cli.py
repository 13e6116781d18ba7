"""The ``metarl-course`` command: doctor, run, release, grade, bench."""

from __future__ import annotations

import argparse
import importlib.metadata
import platform
import sys
import time
from pathlib import Path

from metarl_course.presets import PRESET_NAMES, parse_override, preset_name


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def doctor(args: argparse.Namespace) -> int:
    """Say what is installed and whether the pieces the course needs work here."""
    problems = []
    print(f"python      {platform.python_version()} ({sys.executable})")
    for package in ("metarl-course", "torch", "numpy", "gymnasium", "mujoco", "nbgrader", "jupyterlab", "ipywidgets"):
        print(f"{package:11s} {_version(package)}")
    try:
        import torch

        from metarl_course.device import get_device

        print(f"device      {get_device()} (CUDA available: {torch.cuda.is_available()}, "
              f"torch CUDA build: {torch.version.cuda or 'none'})")
    except Exception as error:  # noqa: BLE001 - report, do not crash
        problems.append(f"torch: {error}")
    try:
        print(f"mujoco      rendering {_render_check()}")
    except Exception as error:  # noqa: BLE001
        problems.append(f"MuJoCo rendering: {type(error).__name__}: {error}")
    try:
        from metarl_course.sandbox import check_sandbox

        print(f"sandbox     {check_sandbox()} (grading runs student code in it)")
    except Exception as error:  # noqa: BLE001
        problems.append(f"grading sandbox: {error}")
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        specs = KernelSpecManager().find_kernel_specs()
        names = ", ".join(sorted(specs))
        print(f"kernels     {names}" + ("" if "metarl-course" in specs else "  (run `make kernel` to add metarl-course)"))
    except Exception as error:  # noqa: BLE001
        problems.append(f"jupyter kernels: {error}")
    for problem in problems:
        print(f"PROBLEM     {problem}")
    print("all good" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


def _render_check(n_frames: int = 20) -> str:
    import os

    import gymnasium as gym

    from metarl_course.envs.mujoco_warnings import route_mujoco_warnings

    route_mujoco_warnings()
    env = gym.make("HalfCheetah-v5", render_mode="rgb_array", width=64, height=64)
    env.reset(seed=0)
    env.render()  # the first frame sets up the GL context
    start = time.perf_counter()
    for _ in range(n_frames):
        env.step(env.action_space.sample())
        frame = env.render()
    fps = n_frames / (time.perf_counter() - start)
    env.close()
    return f"ok: HalfCheetah 64x64 frame {frame.shape}, {fps:.0f} frames/s (MUJOCO_GL={os.environ.get('MUJOCO_GL', 'default')})"


def run(args: argparse.Namespace) -> int:
    from metarl_course import pipeline

    failures = 0
    for result in pipeline.run_units(pipeline.resolve_units(args.unit), args.preset):
        status = "ok" if result.error is None else "FAILED"
        print(f"{result.unit}: {status} in {result.seconds:.1f} s -> {result.html}")
        if result.error:
            failures += 1
            print(result.error[-2000:])
    return 1 if failures else 0


def release(args: argparse.Namespace) -> int:
    from metarl_course import pipeline

    units = None if args.unit == "all" else pipeline.resolve_units(args.unit)
    for path in pipeline.release(units):
        print(f"released {path.relative_to(pipeline.REPO_ROOT)}")
    return 0


def grade(args: argparse.Namespace) -> int:
    from metarl_course import pipeline, sandbox

    limits = sandbox.Limits(cpu_seconds=args.cpu_seconds, memory_bytes=int(args.memory_gib * sandbox.GiB))

    def progress(graded, done: int, total: int) -> None:
        print(f"[{done}/{total}] {graded.student}: {sum(graded.scores.values()):g} points, {graded.status}", flush=True)
    try:
        report = pipeline.grade(pipeline.resolve_units(args.unit)[0], Path(args.submissions), Path(args.out),
                                progress=progress, jobs=args.jobs, cell_timeout=args.timeout,
                                use_sandbox=not args.no_sandbox, limits=limits, feedback=not args.no_feedback)
    except sandbox.SandboxUnavailable as error:
        print(f"cannot grade: {error}", file=sys.stderr)
        return 2
    flagged = sum(row["status"] != "ok" for row in report.rows)
    out = Path(args.out)
    print(f"{len(report.rows)} submissions in {report.seconds:.0f} s; {flagged} with a status other than ok "
          f"(see the instructor guide in README.md)")
    print(f"wrote {out / 'grades.csv'}, {out / 'summary.png'}, feedback in {out / 'feedback'}, logs in {out / 'logs'}")
    return 0


def bench(args: argparse.Namespace) -> int:
    from metarl_course.bench import registry, run_benchmark

    if args.name == "list":
        for name, b in registry().items():
            print(f"{name:20s} {b.description}")
        return 0
    out = Path(args.out or f"benchmarks/results/{args.name}-{args.preset}.json")
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else None
    overrides: dict[str, dict] = {}
    for text in args.set or []:
        try:
            section, key, value = parse_override(text, args.preset)
        except ValueError as error:
            raise SystemExit(str(error)) from None
        overrides.setdefault(section, {})[key] = value
    result = run_benchmark(args.name, args.preset, out, seeds, overrides)
    print(f"{args.name} at preset {args.preset}: {len(result['rows'])} rows in {result['wall_seconds']:.1f} s -> {out}")
    return 0


PRESET_HELP = "default: $METARL_PRESET, as in the notebooks, else laptop"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="metarl-course", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("doctor", help="check the installation: versions, MuJoCo rendering, GPU, kernel").set_defaults(fn=doctor)
    p = sub.add_parser("run", help="execute solution notebooks headless; outputs go to build/run/<preset>/")
    p.add_argument("unit", nargs="?", default="all", help="a unit (e.g. 00 or 00_meta_rl_problem) or 'all'")
    p.add_argument("--preset", choices=PRESET_NAMES, help=PRESET_HELP)
    p.set_defaults(fn=run)
    p = sub.add_parser("release", help="regenerate notebooks/ from solutions/ with nbgrader")
    p.add_argument("unit", nargs="?", default="all")
    p.set_defaults(fn=release)
    p = sub.add_parser("grade", help="autograde submissions laid out as <dir>/<student>/<unit>/<unit>.ipynb")
    p.add_argument("unit")
    p.add_argument("--submissions", required=True, help="the folder of student folders (nbgrader's submitted/)")
    p.add_argument("--out", required=True, help="where grades.csv, summary.png, feedback/, autograded/ and logs/ go")
    p.add_argument("--jobs", type=int, default=1, help="submissions graded at once (default 1)")
    p.add_argument("--timeout", type=int, help="seconds per cell (default: c.Execute.timeout in nbgrader_config.py)")
    p.add_argument("--cpu-seconds", type=int, default=900, help="CPU time per kernel process (default 900)")
    p.add_argument("--memory-gib", type=float, default=6.0, help="memory (address space) per kernel process (default 6)")
    p.add_argument("--no-feedback", action="store_true", help="skip the HTML feedback")
    p.add_argument("--no-sandbox", action="store_true",
                   help="run student code without bubblewrap (only where you trust it: it can then read the hidden tests)")
    p.set_defaults(fn=grade)
    p = sub.add_parser("bench", help="reproduce a published result; 'bench list' shows them")
    p.add_argument("name")
    p.add_argument("--preset", choices=PRESET_NAMES, help=PRESET_HELP)
    p.add_argument("--out", help="the JSON file to write (default benchmarks/results/NAME-PRESET.json)")
    p.add_argument("--seeds", help="comma-separated seeds (default: the benchmark's)")
    p.add_argument("--set", action="append", metavar="SECTION.KEY=VALUE",
                   help="change one budget of the preset for this run (repeatable), e.g. "
                        "bench_pearl_point.reward_scale=2.5; the JSON records it under 'overrides'")
    p.set_defaults(fn=bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "preset", "") is None:
        try:
            args.preset = preset_name()  # the notebooks' rule, so `METARL_PRESET=ci metarl-course run` is ci
        except ValueError as error:
            raise SystemExit(str(error)) from None
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
