"""The notebook pipeline: release student notebooks, run solutions, autograde submissions.

Instructors edit only ``solutions/<unit>/<unit>.ipynb`` (nbgrader's source format). From
it, nbgrader generates the student version in ``notebooks/`` (``release``), and grades
submissions against it (``grade``). Each nbgrader step runs in a throw-away course folder
with its own gradebook, so the repository never holds nbgrader state and every result
is reproducible from the committed files alone.
"""

from __future__ import annotations

import contextlib
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

REPO_ROOT = Path(__file__).resolve().parent.parent


def solutions_dir(root: Path = REPO_ROOT) -> Path:
    return root / "solutions"


def list_units(root: Path = REPO_ROOT) -> list[str]:
    """The units: one folder ``solutions/<unit>/`` holding ``<unit>.ipynb``."""
    return sorted(p.name for p in solutions_dir(root).iterdir() if (p / f"{p.name}.ipynb").is_file())


def resolve_units(selection: str, root: Path = REPO_ROOT) -> list[str]:
    """``all``, a full unit name, or its number prefix (``00``) -> unit names."""
    units = list_units(root)
    if selection == "all":
        return units
    matches = [u for u in units if u == selection or u.split("_", 1)[0] == selection]
    if not matches:
        raise SystemExit(f"no unit {selection!r}; the units are: {', '.join(units)}")
    return matches


# -- nbgrader in a throw-away course folder -----------------------------------------
def _nbgrader_course(tmp: Path, root: Path) -> Path:
    """A course folder whose config loads the repository's and points into ``tmp``."""
    course = tmp / "course"
    course.mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"load_subconfig({str(root / 'nbgrader_config.py')!r})\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        "c.CourseDirectory.source_directory = 'source'\n"
        "c.CourseDirectory.release_directory = 'release'\n"
        f"c.CourseDirectory.db_url = 'sqlite:///{course / 'gradebook.db'}'\n"
    )
    return course


def _nbgrader(course: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "nbgrader", *args]
    env = dict(os.environ if env is None else env)
    # nbgrader runs `alembic` (and kernels) from PATH: put this interpreter's folder first.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    result = subprocess.run(command, cwd=course, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"`nbgrader {' '.join(args)}` failed:\n{result.stdout}\n{result.stderr}")
    return result


def _generate(course: Path, unit: str, root: Path) -> Path:
    shutil.copytree(solutions_dir(root) / unit, course / "source" / unit,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    _nbgrader(course, "generate_assignment", unit, "--force")
    return course / "release" / unit


def normalize_notebook(path: Path) -> None:
    """Strip outputs and execution counts and write in nbformat's canonical layout."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nbformat.write(nb, path)


def release(units: list[str] | None = None, root: Path = REPO_ROOT, out_dir: Path | None = None) -> list[Path]:
    """Regenerate the student notebooks of ``units`` into ``out_dir`` (default ``notebooks/``)."""
    out_dir = root / "notebooks" if out_dir is None else Path(out_dir)
    written = []
    for unit in units or list_units(root):
        with tempfile.TemporaryDirectory() as tmp:
            generated = _generate(_nbgrader_course(Path(tmp), root), unit, root)
            target = out_dir / unit
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(generated, target)
        for notebook in sorted(target.glob("*.ipynb")):
            normalize_notebook(notebook)
            written.append(notebook)
    return written


# -- executing notebooks headless ------------------------------------------------------
INLINE_PLOTS = "module://matplotlib_inline.backend_inline"


@contextlib.contextmanager
def kernel_environment(**variables: str):
    """Set environment variables for the kernels started inside the block, then restore them."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dataclass
class RunResult:
    unit: str
    seconds: float
    executed: Path
    html: Path
    error: str | None = None


def run_notebook(notebook: Path, preset: str, out_dir: Path, timeout: int = 1800) -> RunResult:
    """Execute ``notebook`` top to bottom at ``preset``; write the executed copy and HTML."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from nbconvert import HTMLExporter

    nb = nbformat.read(notebook, as_version=4)
    out_dir.mkdir(parents=True, exist_ok=True)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(notebook.parent)}})
    start, error = time.perf_counter(), None
    try:
        with kernel_environment(METARL_PRESET=preset, MPLBACKEND=INLINE_PLOTS, METARL_HEADLESS="1"):
            client.execute()
    except CellExecutionError as exc:
        error = str(exc)
    seconds = time.perf_counter() - start
    executed = out_dir / notebook.name
    nbformat.write(nb, executed)
    html = executed.with_suffix(".html")
    html.write_text(HTMLExporter().from_notebook_node(nb)[0], encoding="utf-8")
    return RunResult(notebook.parent.name, seconds, executed, html, error)


def run_units(units: list[str], preset: str, root: Path = REPO_ROOT, build: Path | None = None) -> list[RunResult]:
    build = root / "build" / "run" / preset if build is None else build
    return [run_notebook(solutions_dir(root) / u / f"{u}.ipynb", preset, build / u) for u in units]


# -- autograding ----------------------------------------------------------------------
@dataclass
class GradeReport:
    unit: str
    cells: list[str]
    max_points: dict[str, float]
    rows: list[dict] = field(default_factory=list)  # one per student: cell scores, total, status

    def by_student(self) -> dict[str, dict]:
        return {row["student"]: row for row in self.rows}


def grade(unit: str, submissions: Path, out: Path, root: Path = REPO_ROOT) -> GradeReport:
    """Autograde ``submissions/<student>/<unit>/<unit>.ipynb`` with nbgrader; write ``out/grades.csv``.

    The instructor's test cells (hidden tests included) are restored from the solutions,
    every submission is executed at the ``ci`` preset, and each graded cell's points are
    read from the gradebook.
    """
    from nbgrader.api import Gradebook

    submissions, out = Path(submissions), Path(out)
    students = sorted(p.name for p in submissions.iterdir() if (p / unit / f"{unit}.ipynb").is_file())
    if not students:
        raise SystemExit(f"no submissions found as {submissions}/<student>/{unit}/{unit}.ipynb")
    with tempfile.TemporaryDirectory() as tmp:
        course = _nbgrader_course(Path(tmp), root)
        _generate(course, unit, root)
        for student in students:
            shutil.copytree(submissions / student / unit, course / "submitted" / student / unit)
        env = {**os.environ, "METARL_PRESET": "ci", "MPLBACKEND": INLINE_PLOTS}
        log = _nbgrader(course, "autograde", unit, "--create", "--force", env=env)
        report = _read_gradebook(Gradebook(f"sqlite:///{course / 'gradebook.db'}"), unit, students)
        out.mkdir(parents=True, exist_ok=True)
        (out / "autograde.log").write_text(log.stdout + log.stderr)
        autograded = course / "autograded"
        if autograded.exists():
            shutil.copytree(autograded, out / "autograded", dirs_exist_ok=True)
    _write_csv(report, out / "grades.csv")
    return report


def _read_gradebook(gradebook, unit: str, students: list[str]) -> GradeReport:
    try:
        assignment = gradebook.find_assignment(unit)
        grade_cells = [cell for notebook in assignment.notebooks for cell in notebook.grade_cells if cell.max_score > 0]
        report = GradeReport(unit, [c.name for c in grade_cells], {c.name: c.max_score for c in grade_cells})
        for student in students:
            row: dict = {"student": student}
            try:
                submission = gradebook.find_submission(unit, student)
            except Exception:  # nbgrader could not autograde it at all
                row.update({name: 0.0 for name in report.cells}, total=0.0, status="not autograded")
                report.rows.append(row)
                continue
            for notebook in submission.notebooks:
                for g in notebook.grades:
                    if g.name in report.max_points:
                        row[g.name] = float(g.score)
            row["total"] = sum(row.get(name, 0.0) for name in report.cells)
            row["status"] = "ok"
            report.rows.append(row)
        return report
    finally:
        gradebook.close()


def _write_csv(report: GradeReport, path: Path) -> None:
    fields = ["student", *report.cells, "total", "status"]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerow({"student": "(max)", **report.max_points, "total": sum(report.max_points.values()), "status": ""})
        for row in report.rows:
            writer.writerow({key: row.get(key, 0.0) for key in fields})
