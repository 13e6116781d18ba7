"""The notebook pipeline: release student notebooks, run solutions, autograde submissions.

Instructors edit only ``solutions/<unit>/<unit>.ipynb`` (nbgrader's source format). From
it, nbgrader generates the student version in ``notebooks/`` (``release``), and grades
submissions against it (``grade``). Each nbgrader step runs in a throw-away course folder
with its own gradebook, so the repository never holds nbgrader state and every result
is reproducible from the committed files alone.
"""

from __future__ import annotations

import contextlib
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
def course_config(course: Path, root: Path) -> str:
    """An nbgrader config that loads the repository's and keeps everything inside ``course``."""
    return ("c = get_config()\n"
            f"load_subconfig({str(root / 'nbgrader_config.py')!r})\n"
            f"c.CourseDirectory.root = {str(course)!r}\n"
            "c.CourseDirectory.source_directory = 'source'\n"
            "c.CourseDirectory.release_directory = 'release'\n"
            f"c.CourseDirectory.db_url = 'sqlite:///{course / 'gradebook.db'}'\n")


def _nbgrader_course(tmp: Path, root: Path) -> Path:
    """A course folder whose config loads the repository's and points into ``tmp``."""
    course = tmp / "course"
    course.mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(course_config(course, root))
    return course


def with_interpreter_on_path(env: dict[str, str]) -> dict[str, str]:
    """nbgrader runs `alembic` (and kernels) from PATH: put this interpreter's folder first."""
    return {**env, "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])}


def _nbgrader(course: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = with_interpreter_on_path(dict(os.environ if env is None else env))
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, capture_output=True, text=True,
                            env=env)
    if result.returncode != 0:
        raise RuntimeError(f"`nbgrader {' '.join(args)}` failed:\n{result.stdout}\n{result.stderr}")
    return result


def _generate(course: Path, unit: str, root: Path) -> Path:
    shutil.copytree(solutions_dir(root) / unit, course / "source" / unit,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "MUJOCO_LOG.TXT"))
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
    seconds: float = 0.0

    def by_student(self) -> dict[str, dict]:
        return {row["student"]: row for row in self.rows}


def generate_release(folder: Path, unit: str, root: Path = REPO_ROOT) -> tuple[Path, list[str], dict[str, float]]:
    """A course folder with ``unit`` generated (source, release, gradebook); its graded cells and their points."""
    from nbgrader.api import Gradebook

    course = _nbgrader_course(Path(folder), root)
    _generate(course, unit, root)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        assignment = gradebook.find_assignment(unit)
        cells = [cell for notebook in assignment.notebooks for cell in notebook.grade_cells if cell.max_score > 0]
        return course, [c.name for c in cells], {c.name: float(c.max_score) for c in cells}


def grade(unit: str, submissions: Path, out: Path, root: Path = REPO_ROOT, progress=None, **options) -> GradeReport:
    """Autograde ``submissions/<student>/<unit>/<unit>.ipynb``; see ``metarl_course.grading``."""
    from metarl_course.grading import GradingOptions, grade_class

    return grade_class(unit, submissions, out, root, GradingOptions(**options), progress)
