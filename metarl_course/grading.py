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

import atexit
import copy
import csv
import dataclasses
import hashlib
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import nbformat

from metarl_course import grading_worker, sandbox
from metarl_course.pipeline import (INLINE_PLOTS, REPO_ROOT, GradeReport, course_config, generate_release,
                                    with_interpreter_on_path)

OK = "ok"
# Inside a submission's own grading course nbgrader knows the student by this id, not by the folder's name:
# nbgrader reads ids as glob patterns ("Doe, Jane [42]" matches nothing) and a name that is not valid UTF-8
# cannot travel to the grading worker; the folder's name is used again for everything written to ``out``.
COURSE_STUDENT = "student"
# What a submission folder may not bring into the kernel's working directory, where it would be imported
# before the installed package: the kit itself and the modules Python imports at start-up.
_NEVER_IMPORTED_FROM_A_SUBMISSION = {"metarl_course", "sitecustomize", "usercustomize"}


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
    extras_start = 0   # where the student's own cells after the previous kept cell begin
    for key, cell in zip(release_keys, release.cells):
        graded = isinstance(key, str)
        if not graded and key not in found:  # a plain cell the student changed or deleted: theirs is in `after`
            continue
        new = copy.deepcopy(cell)
        if new.cell_type == "code":
            new.outputs, new.execution_count = [], None
        if graded and key not in found and _is_answer(cell):
            # the release's empty answer goes back *before* the student's cells in its place, so that an
            # answer re-typed in a new cell there is the definition the tests see
            notes.append(f"answer cell {key} was deleted (its empty version was restored before your cells)")
            rebuilt.cells.insert(extras_start, new)
        else:
            if graded and key not in found:
                notes.append(f"deleted cell {key} (restored)")
            elif graded and _is_answer(cell):
                new.source = found[key].get("source", "")
            elif graded and _without_hidden_tests(found[key].get("source", "")) != _without_hidden_tests(cell.source):
                notes.append(f"edited locked cell {key} (restored)")
            rebuilt.cells.append(new)
        extras_start = len(rebuilt.cells)
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
    """The grading course's config: the repository's, with SafeExecute and the sandbox's settings."""
    lines = [
        "from nbconvert.preprocessors import ClearMetadataPreprocessor",
        "from nbgrader.preprocessors import IgnorePattern, LimitOutput, SaveAutoGrades, AssignLatePenalties, CheckCellMetadata",
        "from metarl_course.grading_execute import LimitOutputBytes, SafeExecute",
        "c.Autograde.autograde_preprocessors = [SafeExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,",
        "                                       LimitOutputBytes, SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]",
        f"c.SandboxedKernelManager.use_sandbox = {options.use_sandbox!r}",
        f"c.SandboxedKernelManager.cpu_seconds = {options.limits.cpu_seconds}",
        f"c.SandboxedKernelManager.memory_bytes = {options.limits.memory_bytes}",
        f"c.Execute.timeout = {int(options.cell_timeout)}",
    ]
    return course_config(course, root) + "\n".join(lines) + "\n"


def configured_cell_timeout(root: Path = REPO_ROOT) -> int:
    """``c.Execute.timeout`` of the kit's ``nbgrader_config.py`` (nbgrader's default 30 s if unset)."""
    from traitlets.config import Config

    config = Config()
    namespace = {"get_config": lambda: config, "c": config}
    exec((root / "nbgrader_config.py").read_text(), namespace)
    return int(config.Execute.get("timeout", 30))


def _worker_environment() -> dict[str, str]:
    """What every grading worker (and through it every kernel) starts with."""
    return with_interpreter_on_path({**os.environ, "METARL_PRESET": "ci", "MPLBACKEND": INLINE_PLOTS,
                                     "METARL_HEADLESS": "1", "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1",
                                     "MKL_NUM_THREADS": "1"})


def _course_environment(course: Path) -> dict[str, str]:
    """Per submission: its own kernel runtime folder (the sandbox binds it) and events file."""
    return {"JUPYTER_RUNTIME_DIR": str(course / "runtime"), "METARL_GRADING_EVENTS": str(course / "events.jsonl")}


class Worker:
    """One ``grading_worker`` process, reused for submission after submission (see its docstring)."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None

    def _start(self) -> subprocess.Popen:
        if self.process is None or self.process.poll() is not None:
            self.process = subprocess.Popen([sys.executable, "-m", "metarl_course.grading_worker"],
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                            env=_worker_environment(), cwd="/")
        return self.process

    def grade(self, course: Path, unit: str, student: str, feedback: bool, log: Path,
              timeout: float) -> tuple[bool, str]:
        """(autograding succeeded, what else the worker printed meanwhile). A worker that does not
        answer within ``timeout`` seconds is killed, and the submission counts as failed."""
        process = self._start()
        token = uuid.uuid4().hex
        request = {"course": str(course), "unit": unit, "student": student, "feedback": feedback,
                   "env": _course_environment(course), "log": str(log), "token": token}
        done = f"{grading_worker.DONE} {token} ".encode()
        try:
            process.stdin.write((json.dumps(request) + "\n").encode())
            process.stdin.flush()
        except OSError:
            self.close()
            return False, "the grading worker had died"
        deadline, output = time.monotonic() + timeout, b""
        while (remaining := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([process.stdout], [], [], remaining)
            chunk = os.read(process.stdout.fileno(), 1 << 16) if ready else b""
            if ready and not chunk:
                self.close()
                return False, output.decode(errors="replace") + "\nthe grading worker died"
            output += chunk
            if done in output:
                before, _, after = output.partition(done)
                return after[:1] == b"1", before.decode(errors="replace")
        self.close()
        return False, output.decode(errors="replace") + f"\nno answer after {timeout:.0f} s: the worker was stopped"

    def close(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            self.process = None


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


def _error_notes(executed, limits: sandbox.Limits) -> list[str]:
    """Errors that mean a limit was hit rather than a wrong answer (a MemoryError at the memory limit)."""
    notes = []
    for index, cell in enumerate(executed.cells if executed is not None else []):
        if any(o.get("output_type") == "error" and o.get("ename") == "MemoryError" for o in cell.get("outputs", [])):
            notes.append(f"MemoryError in cell {_grade_id(cell) or f'#{index}'} "
                         f"(memory limit {limits.memory_bytes / 2**30:g} GiB)")
    return notes


def _did_not_pass(executed, cells: list[str]) -> set[str]:
    """Graded cells that never ran or raised, read from the executed notebook itself (None: none ran)."""
    if executed is None:
        return set(cells)
    by_id = {_grade_id(c): c for c in executed.cells if _grade_id(c)}
    failed = set()
    for name in cells:
        cell = by_id.get(name)
        if cell is None or cell.get("execution_count") is None or any(
                o.get("output_type") == "error" for o in cell.get("outputs", [])):
            failed.add(name)
    return failed


def grade_submission(student: str, folder: Path, unit: str, master: Path, work: Path, out: Path,
                     cells: list[str], options: GradingOptions, root: Path, worker: Worker) -> Graded:
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
    target = course / "submitted" / COURSE_STUDENT / unit
    left_out: list[str] = []
    shutil.copytree(folder, target, ignore=_not_copied(folder, unit, left_out))
    notes += left_out
    nbformat.write(rebuilt, target / f"{unit}.ipynb")

    backstop = 120 + 2 * options.cell_timeout * sum(c.cell_type == "code" for c in rebuilt.cells)
    worker_log = course / "worker.log"
    start = time.perf_counter()
    graded, printed = worker.grade(course, unit, COURSE_STUDENT, options.feedback, worker_log, backstop)
    log_path = out / "logs" / f"{student}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w", errors="surrogateescape") as log:
        log.write(worker_log.read_text(errors="replace") if worker_log.exists() else "")
        log.write(f"{printed}\n(graded in {time.perf_counter() - start:.1f} s)\n")
    notes += _event_notes(_read_events(course))
    scores = _gradebook_scores(course, unit, COURSE_STUDENT, cells) if graded else None
    if scores is None:
        return Graded(student, zeros, notes + [f"autograding failed (see logs/{student}.log)"])
    executed_path = course / "autograded" / COURSE_STUDENT / unit / f"{unit}.ipynb"
    executed = nbformat.read(executed_path, as_version=4) if executed_path.exists() else None
    notes = _error_notes(executed, options.limits) + notes
    unearned = {name for name in _did_not_pass(executed, cells) if scores[name] > 0}
    for name in sorted(unearned):
        scores[name] = 0.0
        notes.append(f"cell {name} did not run to completion: counted 0")
    for kind in ("autograded", "feedback"):
        source = course / kind / COURSE_STUDENT / unit
        if source.exists():
            shutil.copytree(source, out / kind / student / unit)
    return Graded(student, scores, notes)


def _not_copied(folder: Path, unit: str, notes: list[str]) -> Callable[[str, list[str]], set[str]]:
    """``copytree``'s ignore for the submission ``folder``: what stays out of the grading course, each with a note.

    The notebook is rebuilt, not copied. Links are not followed (they could point anywhere on the grader's
    disk). A module or package that would be imported in place of the kit, or at the kernel's start, is left
    out. Other notebooks are not graded, and the status says so (work done in a copy is otherwise lost silently).
    """
    def ignore(directory: str, names: list[str]) -> set[str]:
        top = Path(directory) == Path(folder)
        skipped = {name for name in names if name == ".ipynb_checkpoints" or (top and name == f"{unit}.ipynb")}
        for name in sorted(set(names) - skipped):
            path = os.path.join(directory, name)
            module = name[:-3] if name.endswith(".py") else name
            if os.path.islink(path):
                skipped.add(name)
                notes.append(f"link {name} not copied")
            elif name.endswith(".ipynb"):
                skipped.add(name)
                notes.append(f"other notebook {name} not graded")
            elif top and module in _NEVER_IMPORTED_FROM_A_SUBMISSION:
                skipped.add(name)
                notes.append(f"{name} not copied (it would replace the kit's code)")
        return skipped

    return ignore


# -- the class -------------------------------------------------------------------------
_MASTERS: dict[str, tuple[Path, list[str], dict[str, float]]] = {}


def master_course(unit: str, root: Path) -> tuple[Path, list[str], dict[str, float]]:
    """nbgrader's generated ``unit`` (source, release, gradebook), its graded cells and points.

    Generating takes nbgrader several seconds (its database is created by migrations), so it
    is done once per process for each content of the solutions folder and the configuration.
    """
    digest = hashlib.sha256(f"{Path(root).resolve()}|{unit}".encode())
    for path in sorted([Path(root) / "nbgrader_config.py", *(Path(root) / "solutions" / unit).rglob("*")]):
        if path.is_file() and "__pycache__" not in path.parts and ".ipynb_checkpoints" not in path.parts:
            digest.update(str(path).encode() + path.read_bytes())
    key = digest.hexdigest()
    if key not in _MASTERS or not _MASTERS[key][0].exists():
        folder = Path(tempfile.mkdtemp(prefix="mcg-master-"))
        atexit.register(shutil.rmtree, folder, True)
        _MASTERS[key] = generate_release(folder, unit, root)
    return _MASTERS[key]


def find_submissions(submissions: Path, unit: str) -> dict[str, Path]:
    """student -> their ``<unit>`` folder, for every ``submissions/<student>/<unit>/``."""
    return {p.name: p / unit for p in sorted(Path(submissions).iterdir()) if (p / unit).is_dir()}


def _grade_folder(student: str, folder: Path, work: Path, unit: str, master: Path, cells: list[str], out: Path,
                  options: GradingOptions, root: Path, worker: Worker) -> Graded:
    """One student's row, whatever happens: a failure of the grader itself is reported, not raised.
    What an earlier run wrote for this student and unit is removed first, so nothing stale survives."""
    work.mkdir()
    for old in (out / "autograded" / student / unit, out / "feedback" / student / unit):
        shutil.rmtree(old, ignore_errors=True)
    (out / "logs" / f"{student}.log").unlink(missing_ok=True)
    try:
        if not (folder / f"{unit}.ipynb").is_file():
            return Graded(student, {c: 0.0 for c in cells}, [f"no {unit}.ipynb in the submission"])
        return grade_submission(student, folder, unit, master, work, out, cells, options, root, worker)
    except Exception as error:  # noqa: BLE001 - one broken submission must not stop the class
        return Graded(student, {c: 0.0 for c in cells}, [f"grading failed: {type(error).__name__}: {error}"])
    finally:
        shutil.rmtree(work, ignore_errors=True)


def grade_class(unit: str, submissions: Path, out: Path, root: Path = REPO_ROOT,
                options: GradingOptions = GradingOptions(),
                progress: Callable[[Graded, int, int], None] | None = None) -> GradeReport:
    """Grade every ``submissions/<student>/<unit>/<unit>.ipynb``; write grades, feedback and a summary to ``out``.

    ``progress(graded, done, total)`` is called as each submission finishes.
    """
    submissions, out = Path(submissions).resolve(), Path(out).resolve()  # the grading workers run elsewhere
    if not submissions.is_dir():
        raise SystemExit(f"no folder {submissions}: --submissions is the folder that holds one folder per student, "
                         f"<student>/{unit}/{unit}.ipynb")
    folders = find_submissions(submissions, unit)
    if not folders:
        raise SystemExit(f"no submissions found as {submissions}/<student>/{unit}/{unit}.ipynb")
    if options.use_sandbox:
        sandbox.check_sandbox()
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    if options.cell_timeout is None:  # resolved once for the class
        options = dataclasses.replace(options, cell_timeout=configured_cell_timeout(root))
    master, cells, max_points = master_course(unit, root)
    workers, local = [], threading.local()

    def one(index: int, student: str, folder: Path, tmp: Path) -> Graded:
        if not hasattr(local, "worker"):  # one long-lived worker per thread
            local.worker = Worker()
            workers.append(local.worker)
        return _grade_folder(student, folder, tmp / f"s{index:04d}", unit, master, cells, out, options, root,
                             local.worker)

    with tempfile.TemporaryDirectory(prefix="mcg-", dir="/tmp" if os.path.isdir("/tmp") else None) as tmp:
        try:
            with ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:
                futures = [pool.submit(one, i, student, folder, Path(tmp))
                           for i, (student, folder) in enumerate(folders.items())]
                for done, future in enumerate(as_completed(futures), 1):
                    if progress is not None:
                        progress(future.result(), done, len(futures))
                results = [future.result() for future in futures]
        finally:
            for worker in workers:
                worker.close()
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
    with open(path, "w", newline="", errors="surrogateescape") as f:   # a folder name's bytes, as on disk
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
