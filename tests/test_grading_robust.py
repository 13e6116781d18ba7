"""The grader survives broken, hostile and tampered submissions (``tests/broken_submissions/``).

Every case of the corpus is graded in one class, beside a correct and an untouched
notebook, with ``metarl-course grade``'s own pipeline on the toy unit of ``grading_toy``:
each case must lose exactly the cells its header names, and the status column and the
feedback must say why. The sandbox's promises (no files outside the student's folder, no
network, no process that outlives grading, untouched neighbours) are checked from outside
as well as by the student code's own reports.
"""

from __future__ import annotations

import csv
import hashlib
import html
import re
import socket
import subprocess
import sys
import threading

import nbformat
import pytest

from grading_toy import ANSWERS, POINTS, REPO, UNIT, load_corpus, student_notebook, write_broken, write_course
from metarl_course import grading, pipeline, sandbox

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sandbox (bubblewrap) is Linux-only")

CORPUS = load_corpus()
LIMITS = sandbox.Limits(memory_bytes=2**30, cpu_seconds=120)


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return write_course(tmp_path_factory.mktemp("toy-course"))


@pytest.fixture(scope="module")
def listener():
    """A TCP server on the grader's loopback that counts the connections it receives."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    accepted, stop = [], threading.Event()

    def serve():
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                pass
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join()
    server.close()


def write_class(toy, submissions, cases, port=0):
    for name, filled in (("good", True), ("blank", False)):
        (submissions / name / UNIT).mkdir(parents=True)
        nbformat.write(student_notebook(toy, filled), submissions / name / UNIT / f"{UNIT}.ipynb")
    for case in cases:
        write_broken(case, toy, submissions, {"SUBMISSIONS": str(submissions), "ROOT": str(toy),
                                              "REPO": str(REPO), "PORT": str(port)})


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def outputs_text(out, student) -> str:
    """Everything the executed notebook printed or raised, ANSI colours removed."""
    path = out / "autograded" / student / UNIT / f"{UNIT}.ipynb"
    if not path.exists():
        return ""
    parts = []
    for cell in nbformat.read(path, as_version=4).cells:
        for output in cell.get("outputs", []):
            parts += [output.get("text", ""), output.get("evalue", ""), *output.get("traceback", [])]
    return re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(parts))


@pytest.fixture(scope="module")
def corpus(toy, listener, tmp_path_factory):
    port, _ = listener
    submissions, out = tmp_path_factory.mktemp("submitted"), tmp_path_factory.mktemp("grades")
    write_class(toy, submissions, CORPUS, port)
    good = submissions / "good" / UNIT / f"{UNIT}.ipynb"
    before = digest(good)
    report = pipeline.grade(UNIT, submissions, out, root=toy, jobs=3, limits=LIMITS)
    return report, out, before == digest(good)


@pytest.mark.slow
@pytest.mark.parametrize("case", CORPUS, ids=[c.name for c in CORPUS])
def test_broken_submission_loses_exactly_its_cells_and_says_why(corpus, case):
    report, out, _ = corpus
    row = report.by_student()[case.name]
    lost = {cell for cell in POINTS if row[cell] < POINTS[cell]}
    assert lost == set(case.loses), f"{case.description}: lost {lost}, expected {case.loses} ({row['status']})"
    assert row["total"] == sum(row[cell] for cell in POINTS)
    assert re.search(case.status, row["status"]), f"{case.description}: status {row['status']!r}"
    text = outputs_text(out, case.name)
    if case.feedback:
        assert re.search(case.feedback, text), f"{case.description}: the feedback does not say {case.feedback!r}"
        page = out / "feedback" / case.name / UNIT / f"{UNIT}.html"
        plain = html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))
        assert re.search(case.feedback, plain), f"{case.description}: the HTML feedback does not say {case.feedback!r}"
    if case.never:
        assert not re.search(case.never, text), f"{case.description}: {case.never!r} in the outputs:\n{text}"


@pytest.mark.slow
def test_neighbours_are_untouched(corpus):
    report, out, good_file_unchanged = corpus
    rows = report.by_student()
    assert {c: rows["good"][c] for c in POINTS} == POINTS and rows["good"]["status"] == grading.OK
    assert rows["blank"]["total"] == 0 and rows["blank"]["status"] == grading.OK
    assert good_file_unchanged, "a submission's code changed another student's notebook"
    assert len(report.rows) == len(CORPUS) + 2, "a submission is missing from the report"


@pytest.mark.slow
def test_no_network_and_no_process_outlives_grading(corpus, listener):
    _, accepted = listener
    assert accepted == [], "student code reached a server on the grader's loopback"
    survivors = subprocess.run(["pgrep", "-f", "sleep 4321"], capture_output=True, text=True).stdout.split()
    assert survivors == [], f"processes started by student code outlived grading: {survivors}"


@pytest.mark.slow
def test_report_files(corpus):
    report, out, _ = corpus
    with open(out / "grades.csv") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["student", *POINTS, "total", "status"]
    assert rows[0]["student"] == "(max)" and float(rows[0]["total"]) == sum(POINTS.values())
    assert sorted(r["student"] for r in rows[1:]) == sorted(report.by_student())
    assert (out / "summary.png").stat().st_size > 10_000
    assert (out / "feedback" / "good" / UNIT / f"{UNIT}.html").exists()
    assert (out / "logs" / "kernel_crash.log").exists()


@pytest.mark.slow
def test_cpu_time_limit_stops_a_busy_kernel(toy, tmp_path):
    """With a long cell timeout, the CPU limit is what stops a busy loop; the row says so."""
    busy = next(c for c in CORPUS if c.name == "endless_loop")
    write_class(toy, tmp_path / "submitted", [busy])
    report = pipeline.grade(UNIT, tmp_path / "submitted", tmp_path / "out", root=toy, feedback=False,
                            cell_timeout=120, limits=sandbox.Limits(memory_bytes=2**30, cpu_seconds=4))
    row = report.by_student()["endless_loop"]
    assert row["total"] == 0, row
    assert re.search(r"kernel died in cell square: the kernel used more than 4 s of CPU time", row["status"]), row
    assert report.by_student()["good"]["total"] == sum(POINTS.values())


@pytest.mark.slow
def test_parallel_grading_equals_one_at_a_time_and_reruns_change_nothing(toy, tmp_path):
    names = {"syntax_error", "kernel_crash", "deleted_test_cell", "wrong_type", "moved_cells"}
    write_class(toy, tmp_path / "submitted", [c for c in CORPUS if c.name in names])
    serial = pipeline.grade(UNIT, tmp_path / "submitted", tmp_path / "serial", root=toy, jobs=1, feedback=False)
    parallel = pipeline.grade(UNIT, tmp_path / "submitted", tmp_path / "parallel", root=toy, jobs=7, feedback=False)
    assert (tmp_path / "serial" / "grades.csv").read_text() == (tmp_path / "parallel" / "grades.csv").read_text()
    assert serial.rows == parallel.rows and len(serial.rows) == len(names) + 2
    first = (tmp_path / "parallel" / "grades.csv").read_text()
    pipeline.grade(UNIT, tmp_path / "submitted", tmp_path / "parallel", root=toy, jobs=7, feedback=False)
    assert (tmp_path / "parallel" / "grades.csv").read_text() == first
    graded = sorted(p.name for p in (tmp_path / "parallel" / "autograded").iterdir())
    assert graded == sorted(serial.by_student()), "re-running left extra or missing folders"


@pytest.mark.slow
def test_odd_folder_names_extra_files_retyped_answers_long_outputs_and_regrading(toy, tmp_path):
    """From an instructor's audit: names nbgrader reads as globs or that are not UTF-8, files that must not
    reach the kernel, work in another notebook, an answer re-typed in a new cell, a 10 MB line of output,
    and a regrade after the notebook became unreadable."""
    import os

    submissions, out = tmp_path / "submitted", tmp_path / "out"
    odd = os.fsdecode(b"m\xfcller")                                  # latin-1 bytes, not UTF-8
    names = ["Doe, Jane [42]", odd, "shadow", "linked", "copy", "retyped", "loud"]
    for name in names:
        (submissions / name / UNIT).mkdir(parents=True)
        nbformat.write(student_notebook(toy, name != "shadow"), submissions / name / UNIT / f"{UNIT}.ipynb")
    folder = {name: submissions / name / UNIT for name in names}
    (folder["shadow"] / "metarl_course").mkdir()
    (folder["shadow"] / "metarl_course" / "__init__.py").write_text("")
    (folder["shadow"] / "helper.py").write_text("X = 1\n")                      # an ordinary module is copied
    (tmp_path / "secret.txt").write_text("INSTRUCTOR-ONLY")
    (folder["linked"] / "notes.txt").symlink_to(tmp_path / "secret.txt")
    nbformat.write(student_notebook(toy, False), folder["copy"] / f"{UNIT}-Copy1.ipynb")
    retyped = student_notebook(toy, True)
    index = next(i for i, c in enumerate(retyped.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "mean")
    retyped.cells[index] = nbformat.v4.new_code_cell(ANSWERS["mean"])             # the answer cell deleted, re-typed
    nbformat.write(retyped, folder["retyped"] / f"{UNIT}.ipynb")
    loud = student_notebook(toy, True)
    loud.cells.append(nbformat.v4.new_code_cell("print('x' * 10_000_000)"))
    nbformat.write(loud, folder["loud"] / f"{UNIT}.ipynb")

    report = pipeline.grade(UNIT, submissions, out, root=toy, jobs=2, limits=LIMITS)
    rows = report.by_student()
    full = sum(POINTS.values())
    for name in ("Doe, Jane [42]", odd, "linked", "copy", "retyped", "loud"):
        assert rows[name]["total"] == full, (name, rows[name])
    assert rows["shadow"]["total"] == 0 and "metarl_course not copied" in rows["shadow"]["status"]
    assert not (out / "autograded" / "shadow" / UNIT / "metarl_course").exists()
    assert (out / "autograded" / "shadow" / UNIT / "helper.py").exists()
    assert rows["linked"]["status"] == "link notes.txt not copied"
    assert not (out / "autograded" / "linked" / UNIT / "notes.txt").exists()
    assert rows["copy"]["status"] == f"other notebook {UNIT}-Copy1.ipynb not graded"
    assert rows["retyped"]["status"].startswith("answer cell mean was deleted")
    assert (out / "autograded" / "loud" / UNIT / f"{UNIT}.ipynb").stat().st_size < 1_000_000
    with open(out / "grades.csv", newline="", errors="surrogateescape") as f:
        assert sorted(r["student"] for r in csv.DictReader(f))[1:] == sorted(names)   # (max) sorts first
    # regrade after one notebook became unreadable: its old feedback and executed notebook are gone
    (folder["retyped"] / f"{UNIT}.ipynb").write_text("{ not json")
    again = pipeline.grade(UNIT, submissions, out, root=toy, jobs=2, limits=LIMITS, feedback=False)
    assert again.by_student()["retyped"]["status"].startswith("unreadable notebook")
    assert not (out / "feedback" / "retyped").exists() or not any((out / "feedback" / "retyped").rglob("*.html"))
    assert not (out / "autograded" / "retyped" / UNIT).exists()


def test_rebuild_restores_the_instructors_cells(toy):
    release = student_notebook(toy, filled=False)
    tampered = student_notebook(toy, filled=True)
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in tampered.cells]
    tampered.cells[ids.index("test_square")].source = "pass"
    del tampered.cells[ids.index("test_mean")]
    tampered.cells.insert(0, tampered.cells.pop(ids.index("test_normalise") - 1))
    tampered.cells.append(nbformat.v4.new_code_cell("print('scratch')"))
    rebuilt, notes = grading.rebuild_submission(release, tampered)
    assert [c.metadata.get("nbgrader", {}).get("grade_id") for c in rebuilt.cells if c.metadata.get("nbgrader")] == \
        [c.metadata["nbgrader"]["grade_id"] for c in release.cells if c.metadata.get("nbgrader")]
    sources = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in rebuilt.cells}
    assert sources["test_square"] == next(c.source for c in release.cells if "test_square" in str(c.metadata))
    assert "return x * x" in sources["square"]
    rebuilt_ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in rebuilt.cells]
    assert rebuilt.cells[rebuilt_ids.index("normalise") + 1].source == "print('scratch')"  # after the cell it followed
    assert rebuilt.cells[0].source == release.cells[0].source  # an unchanged plain cell keeps its place
    assert notes == ["cells moved (the release's order was restored)", "edited locked cell test_square (restored)",
                     "deleted cell test_mean (restored)"]


def test_missing_sandbox_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(sandbox, "bwrap", lambda: None)
    with pytest.raises(sandbox.SandboxUnavailable, match="apt-get install bubblewrap"):
        sandbox.check_sandbox()


@pytest.mark.slow
def test_grade_command_reports_progress_and_odd_folders(tmp_path, capsys, monkeypatch):
    """`metarl-course grade` on a real unit: a progress line per submission, a folder without the
    notebook gets its own status, and the summary says how many rows need a look. The folders are
    given relative to the working directory, as in the README's example."""
    from metarl_course import cli

    monkeypatch.chdir(tmp_path)

    unit = "00_meta_rl_problem"
    (tmp_path / "submitted" / "nobook" / unit).mkdir(parents=True)
    (tmp_path / "submitted" / "blank" / unit).mkdir(parents=True)
    (tmp_path / "submitted" / "blank" / unit / f"{unit}.ipynb").write_bytes(
        (REPO / "notebooks" / unit / f"{unit}.ipynb").read_bytes())
    assert cli.main(["grade", "00", "--submissions", "submitted", "--out", "out", "--jobs", "2", "--no-feedback"]) == 0
    printed = capsys.readouterr().out
    assert re.search(r"\[\d/2\] nobook: 0 points, no 00_meta_rl_problem.ipynb in the submission", printed)
    assert re.search(r"\[\d/2\] blank: 0 points, ok", printed)
    assert "2 submissions in" in printed and "1 with a status other than ok" in printed
    with open(tmp_path / "out" / "grades.csv") as f:
        assert [r["student"] for r in csv.DictReader(f)] == ["(max)", "blank", "nobook"]
    with pytest.raises(SystemExit, match="no folder .*submited: --submissions is the folder that holds"):
        cli.main(["grade", "00", "--submissions", "submited", "--out", "out"])          # a typo
