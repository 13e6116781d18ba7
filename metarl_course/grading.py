"""Grading a class: every submission rebuilt from the release, autograded alone and sandboxed, then reported.

``metarl-course grade UNIT --submissions DIR --out DIR [--jobs N]`` calls ``grade_class``.
For each student folder ``DIR/<student>/<unit>/<unit>.ipynb``:

1. **Rebuild** the submission on the release (``rebuild_submission``): the instructor's
   cells (setup, locked and test cells) come from the release in the release's order; only
   the answer cells' sources and the student's own extra cells come from the submission.
   Deleted, edited or moved instructor cells are restored and noted in the report, so no
   checksum confusion and no missing test cell can change a grade.
2. **Autograde** it with nbgrader in a course folder of its own (own gradebook: no two
   graders ever share an sqlite file, so ``--jobs N`` is safe), with the hidden tests restored
   by nbgrader from the source. Execution goes through ``grading_execute.SafeExecute``: the
   kernel runs in the sandbox of ``metarl_course.sandbox`` with a per-cell timeout taken from
   ``nbgrader_config.py`` (``c.Execute.timeout``), and cells that never ran are marked failed.
3. **Check** the gradebook against the executed notebook: a graded cell that did not run
   (or raised) is never counted as passed.
4. **Report**: ``grades.csv`` (points per graded cell, total, status), per-student HTML
   feedback, the autograded notebooks, each student's grading log, and ``summary.png``
   (the score distribution per exercise).

Re-running writes the same files again (each student's folders are replaced, never added to).
"""

from __future__ import annotations

import copy
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from metarl_course import sandbox
from metarl_course.pipeline import INLINE_PLOTS, REPO_ROOT, GradeReport, generate_release

OK = "ok"


@dataclass(frozen=True)
class GradingOptions:
    """How a class is graded. ``cell_timeout`` None: ``c.Execute.timeout`` of ``nbgrader_config.py``."""

    jobs: int = 1
    cell_timeout: int | None = None
    use_sandbox: bool = True
    limits: sandbox.Limits = sandbox.Limits()
    feedback: bool = True


# -- 1. rebuilding a submission on the release ----------------------------------------
def _nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _grade_id(cell) -> str | None:
    return _nbgrader(cell).get("grade_id")


def _is_answer(cell) -> bool:
    return bool(_nbgrader(cell).get("solution"))


def _without_hidden_tests(source: str) -> str:
    """A test cell as students see it (the instructor's own notebook still holds the hidden tests)."""
    kept, hidden = [], False
    for line in source.splitlines():
        marker = line.strip()
        if marker == "### BEGIN HIDDEN TESTS":
            hidden = True
        elif marker == "### END HIDDEN TESTS":
            hidden = False
        elif not hidden:
            kept.append(line)
    return "\n".join(kept).strip()


def rebuild_submission(release, submitted) -> tuple[nbformat.NotebookNode, list[str]]:
    """The notebook to grade and what was tampered with.

    Every cell of the release that nbgrader knows (it has a ``grade_id``) is taken from the
    release, in the release's order; an answer cell keeps the student's source. The
    release's plain cells (explanations, training and plotting cells, which nbgrader does
    not lock) are the student's to edit: an unchanged one stays at its release position,
    and every other cell of the student's (edited plain cells, scratch work) follows the
    cell it followed in the submission. Returns (notebook, notes).
    """
    release_keys = [_grade_id(c) or ("plain", i) for i, c in enumerate(release.cells)]
    graded_ids = {k for k in release_keys if isinstance(k, str)}
    plain_by_source: dict[str, list] = {}
    for key, cell in zip(release_keys, release.cells):
        if not isinstance(key, str):
            plain_by_source.setdefault(cell.source, []).append(key)
    found: dict = {}
    after: dict = {}
    anchor, notes = None, []
    for cell in submitted.cells:
        gid = _grade_id(cell)
        key = gid if gid in graded_ids and gid not in found else None
        if key is None and gid is None and plain_by_source.get(cell.get("source", "")):
            key = plain_by_source[cell.get("source", "")].pop(0)
        if key is not None:
            found[key], anchor = cell, key
            continue
        extra = copy.deepcopy(cell)
        extra.get("metadata", {}).pop("nbgrader", None)
        if gid in graded_ids:
            notes.append(f"duplicated cell {gid} (the copy is graded as a plain cell)")
        after.setdefault(anchor, []).append(extra)
    order = [key for key in found if isinstance(key, str)]
    if order != [key for key in release_keys if key in found and isinstance(key, str)]:
        notes.append("cells moved (the release's order was restored)")

    rebuilt = copy.deepcopy(release)
    rebuilt.cells = list(after.get(None, []))
    for key, cell in zip(release_keys, release.cells):
        new = copy.deepcopy(cell)
        if not isinstance(key, str):  # a plain cell: kept only if the student kept it unchanged
            if key not in found:
                continue
        elif key not in found:
            notes.append(f"answer cell {key} was deleted (graded as unanswered)" if _is_answer(cell)
                         else f"deleted cell {key} (restored)")
        elif _is_answer(cell):
            new.source = found[key].get("source", "")
        elif _without_hidden_tests(found[key].get("source", "")) != _without_hidden_tests(cell.source):
            notes.append(f"edited locked cell {key} (restored)")
        if new.cell_type == "code":
            new.outputs, new.execution_count = [], None
        rebuilt.cells.append(new)
        rebuilt.cells.extend(after.get(key, []))
    return rebuilt, notes


# -- 2. one submission in a course folder of its own ----------------------------------
@dataclass
class Graded:
    student: str
    scores: dict[str, float]
    notes: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return "; ".join(self.notes) if self.notes else OK


def _course_config(course: Path, root: Path, options: GradingOptions) -> str:
    lines = [
        "c = get_config()",
        f"load_subconfig({str(root / 'nbgrader_config.py')!r})",
        f"c.CourseDirectory.root = {str(course)!r}",
        "c.CourseDirectory.source_directory = 'source'",
        "c.CourseDirectory.release_directory = 'release'",
        f"c.CourseDirectory.db_url = 'sqlite:///{course / 'gradebook.db'}'",
        "from nbconvert.preprocessors import ClearMetadataPreprocessor",
        "from nbgrader.preprocessors import IgnorePattern, LimitOutput, SaveAutoGrades, AssignLatePenalties, CheckCellMetadata",
        "from metarl_course.grading_execute import SafeExecute",
        "c.Autograde.autograde_preprocessors = [SafeExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,",
        "                                       SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]",
        f"c.SandboxedKernelManager.use_sandbox = {options.use_sandbox!r}",
        f"c.SandboxedKernelManager.cpu_seconds = {options.limits.cpu_seconds}",
        f"c.SandboxedKernelManager.memory_bytes = {options.limits.memory_bytes}",
    ]
    if options.cell_timeout is not None:
        lines.append(f"c.Execute.timeout = {int(options.cell_timeout)}")
    return "\n".join(lines) + "\n"


def configured_cell_timeout(root: Path = REPO_ROOT) -> int:
    """``c.Execute.timeout`` of the kit's ``nbgrader_config.py`` (nbgrader's default 30 s if unset)."""
    from traitlets.config import Config

    config = Config()
    namespace = {"get_config": lambda: config, "c": config}
    exec((root / "nbgrader_config.py").read_text(), namespace)
    return int(config.Execute.get("timeout", 30))


def _grading_environment(course: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(METARL_PRESET="ci", MPLBACKEND=INLINE_PLOTS, METARL_HEADLESS="1", PYTHONHASHSEED="0",
               OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", JUPYTER_RUNTIME_DIR=str(course / "runtime"),
               METARL_GRADING_EVENTS=str(course / "events.jsonl"))
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def _run_worker(course: Path, unit: str, student: str, feedback: bool, env: dict[str, str], timeout: float,
                log) -> bool:
    """``grading_worker`` (autograde, then feedback) for one student; False if it failed or ran out of time."""
    command = [sys.executable, "-m", "metarl_course.grading_worker", str(course), unit, student]
    command += [] if feedback else ["--no-feedback"]
    start = time.perf_counter()
    try:
        result = subprocess.run(command, cwd=course, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as error:
        log.write(f"{error.stdout or ''}{error.stderr or ''}\nstopped after {timeout:.0f} s\n")
        return False
    log.write(result.stdout + result.stderr + f"\n(nbgrader took {time.perf_counter() - start:.1f} s)\n")
    return result.returncode == 0


def _read_events(course: Path) -> list[dict]:
    path = course / "events.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def _event_notes(events: list[dict]) -> list[str]:
    notes = []
    for event in events:
        cell = event.get("cell") or f"#{event.get('index')}"
        if event["event"] == "timeout":
            notes.append(f"timeout in cell {cell} ({event['seconds']} s)")
        elif event["event"] == "killed":
            notes.append(f"the kernel ignored the interrupt in cell {cell} and was killed; later cells not run")
        elif event["event"] == "kernel_died":
            notes.append(f"kernel died in cell {cell}: {event['reason']}; later cells not run")
    return notes


def _gradebook_scores(course: Path, unit: str, student: str, cells: list[str]) -> dict[str, float] | None:
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        try:
            submission = gradebook.find_submission(unit, student)
        except MissingEntry:
            return None
        scores = {g.name: float(g.score) for nb in submission.notebooks for g in nb.grades if g.name in cells}
    return {name: scores.get(name, 0.0) for name in cells}


def _error_notes(notebook_path: Path, limits: sandbox.Limits) -> list[str]:
    """Errors that mean a limit was hit rather than a wrong answer (a MemoryError at the memory limit)."""
    if not notebook_path.exists():
        return []
    notes = []
    for index, cell in enumerate(nbformat.read(notebook_path, as_version=4).cells):
        if any(o.get("output_type") == "error" and o.get("ename") == "MemoryError" for o in cell.get("outputs", [])):
            notes.append(f"MemoryError in cell {_grade_id(cell) or f'#{index}'} "
                         f"(memory limit {limits.memory_bytes / 2**30:g} GiB)")
    return notes


def _did_not_pass(notebook_path: Path, cells: list[str]) -> set[str]:
    """Graded cells that never ran or raised, read from the executed notebook itself."""
    if not notebook_path.exists():
        return set(cells)
    executed = {_grade_id(c): c for c in nbformat.read(notebook_path, as_version=4).cells if _grade_id(c)}
    failed = set()
    for name in cells:
        cell = executed.get(name)
        if cell is None or cell.get("execution_count") is None or any(
                o.get("output_type") == "error" for o in cell.get("outputs", [])):
            failed.add(name)
    return failed


def grade_submission(student: str, folder: Path, unit: str, master: Path, work: Path, out: Path,
                     cells: list[str], options: GradingOptions, root: Path) -> Graded:
    """Autograde one student's ``folder`` (holding ``<unit>.ipynb``) in a course copied from ``master``."""
    zeros = {name: 0.0 for name in cells}
    course = work / "course"
    for part in ("source", "release"):
        shutil.copytree(master / part, course / part)
    shutil.copy(master / "gradebook.db", course / "gradebook.db")
    (course / "runtime").mkdir()
    (course / "nbgrader_config.py").write_text(_course_config(course, root, options))
    try:
        submitted = nbformat.read(folder / f"{unit}.ipynb", as_version=4)
    except Exception as error:  # noqa: BLE001 - any unreadable file is the student's, not the grader's, problem
        return Graded(student, zeros, [f"unreadable notebook ({type(error).__name__}: {str(error)[:200]})"])
    release = nbformat.read(master / "release" / unit / f"{unit}.ipynb", as_version=4)
    rebuilt, notes = rebuild_submission(release, submitted)
    target = course / "submitted" / student / unit
    shutil.copytree(folder, target, ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"))
    nbformat.write(rebuilt, target / f"{unit}.ipynb")

    env = _grading_environment(course)
    timeout = options.cell_timeout or configured_cell_timeout(root)
    backstop = 120 + 2 * timeout * sum(c.cell_type == "code" for c in rebuilt.cells)
    log_path = out / "logs" / f"{student}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as log:
        graded = _run_worker(course, unit, student, options.feedback, env, backstop, log)
    notes += _event_notes(_read_events(course))
    scores = _gradebook_scores(course, unit, student, cells) if graded else None
    if scores is None:
        return Graded(student, zeros, notes + [f"autograding failed (see logs/{student}.log)"])
    executed = course / "autograded" / student / unit / f"{unit}.ipynb"
    notes = _error_notes(executed, options.limits) + notes
    unearned = {name for name in _did_not_pass(executed, cells) if scores[name] > 0}
    for name in sorted(unearned):
        scores[name] = 0.0
        notes.append(f"cell {name} did not run to completion: counted 0")
    for kind in ("autograded", "feedback"):
        source, dest = course / kind / student / unit, out / kind / student / unit
        if dest.exists():
            shutil.rmtree(dest)
        if source.exists():
            shutil.copytree(source, dest)
    return Graded(student, scores, notes)


# -- the class -------------------------------------------------------------------------
def find_submissions(submissions: Path, unit: str) -> dict[str, Path]:
    """student -> their ``<unit>`` folder, for every ``submissions/<student>/<unit>/``."""
    return {p.name: p / unit for p in sorted(Path(submissions).iterdir()) if (p / unit).is_dir()}


def grade_class(unit: str, submissions: Path, out: Path, root: Path = REPO_ROOT,
                options: GradingOptions = GradingOptions()) -> GradeReport:
    """Grade every ``submissions/<student>/<unit>/<unit>.ipynb``; write grades, feedback and a summary to ``out``."""
    submissions, out = Path(submissions), Path(out)
    folders = find_submissions(submissions, unit)
    if not folders:
        raise SystemExit(f"no submissions found as {submissions}/<student>/{unit}/{unit}.ipynb")
    if options.use_sandbox:
        sandbox.check_sandbox()
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mcg-", dir="/tmp" if os.path.isdir("/tmp") else None) as tmp:
        master, cells, max_points = generate_release(Path(tmp) / "master", unit, root)

        def one(item: tuple[int, tuple[str, Path]]) -> Graded:
            index, (student, folder) = item
            work = Path(tmp) / f"s{index:04d}"
            work.mkdir()
            try:
                if not (folder / f"{unit}.ipynb").is_file():
                    return Graded(student, {c: 0.0 for c in cells}, [f"no {unit}.ipynb in the submission"])
                return grade_submission(student, folder, unit, master, work, out, cells, options, root)
            except Exception as error:  # noqa: BLE001 - one broken submission must not stop the class
                return Graded(student, {c: 0.0 for c in cells}, [f"grading failed: {type(error).__name__}: {error}"])
            finally:
                shutil.rmtree(work, ignore_errors=True)

        with ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:
            results = list(pool.map(one, enumerate(folders.items())))
    report = GradeReport(unit, cells, max_points)
    for result in results:
        report.rows.append({"student": result.student, **result.scores,
                            "total": sum(result.scores.values()), "status": result.status})
    write_csv(report, out / "grades.csv")
    plot_summary(report, out / "summary.png")
    report.seconds = time.perf_counter() - start
    return report


def write_csv(report: GradeReport, path: Path) -> None:
    fields = ["student", *report.cells, "total", "status"]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerow({"student": "(max)", **report.max_points, "total": sum(report.max_points.values()), "status": ""})
        for row in report.rows:
            writer.writerow({key: row.get(key, 0.0) for key in fields})


def plot_summary(report: GradeReport, path: Path) -> None:
    """Per exercise: the share of students with full, partial and no points; and the totals' histogram."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    names = report.cells
    n = max(1, len(report.rows))
    full = [sum(r[c] >= report.max_points[c] for r in report.rows) / n for c in names]
    none = [sum(r[c] <= 0 for r in report.rows) / n for c in names]
    partial = [1 - f - z for f, z in zip(full, none)]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 0.35 * len(names) + 2.5), width_ratios=[2, 1])
    y = range(len(names))
    left.barh(y, full, color="tab:green", label="full points")
    left.barh(y, partial, left=full, color="tab:orange", label="partial")
    left.barh(y, none, left=[f + p for f, p in zip(full, partial)], color="tab:red", label="no points")
    left.set(yticks=list(y), yticklabels=[f"{c} ({report.max_points[c]:g})" for c in names], xlim=(0, 1),
             xlabel=f"share of the {len(report.rows)} students", title=f"{report.unit}: points per exercise")
    left.invert_yaxis()
    left.legend(loc="lower right", fontsize=8)
    right.hist([r["total"] for r in report.rows], bins=20, range=(0, sum(report.max_points.values()) or 1),
               color="tab:blue")
    right.set(xlabel="total points", ylabel="students", title="totals")
    right.yaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
