"""A long-lived process that runs nbgrader's steps for one submission after another.

Importing nbgrader takes seconds, more than grading a small notebook, so ``metarl-course
grade`` keeps one worker per job and sends it one request per submission, a JSON line
on its standard input::

    {"course": ..., "unit": ..., "student": ..., "feedback": true, "env": {...}, "log": ..., "token": ...}

The worker sets the request's environment (each student's course has its own runtime
folder and events file), autogrades, writes the HTML feedback, writes nbgrader's log to
``log``, and answers with the line ``@@graded <token> 1`` (0 if autograding failed). The
kernels it starts write to the same output, so the parent only trusts that exact line.
The parent kills a worker that does not answer in time and starts a fresh one.

``python -m metarl_course.grading_worker COURSE UNIT STUDENT`` grades one submission and
exits, for debugging a single case by hand.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

DONE = "@@graded"


def grade(course: Path, unit: str, student: str, feedback: bool) -> tuple[bool, str]:
    """Autograde (and generate feedback for) ``student`` in ``course``; (success, nbgrader's log)."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    course = course.resolve()
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    api = NbGraderAPI(coursedir=CourseDirectory(config=config, root=str(course)), config=config)
    log = []
    steps = [("autograde", lambda: api.autograde(unit, student, force=True, create=True))]
    if feedback:
        steps.append(("generate_feedback", lambda: api.generate_feedback(unit, student, force=True)))
    for name, step in steps:
        result = step()
        log.append(f"== nbgrader {name}\n{result.get('log', '')}{result.get('error', '') or ''}")
        if not result["success"] and name == "autograde":
            return False, "\n".join(log)
    return True, "\n".join(log)


def serve() -> None:
    import nbgrader.apps  # noqa: F401  (pay the import once, before the first request)

    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        os.environ.update(request["env"])
        os.chdir(request["course"])
        try:
            success, log = grade(Path(request["course"]), request["unit"], request["student"], request["feedback"])
        except Exception as error:  # noqa: BLE001 - report and serve the next request
            success, log = False, f"the grading worker failed: {type(error).__name__}: {error}"
        Path(request["log"]).write_text(log)
        print(f"{DONE} {request['token']} {int(success)}", flush=True)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        serve()
        return 0
    course, unit, student = argv[:3]
    success, log = grade(Path(course), unit, student, feedback="--no-feedback" not in argv)
    print(log)
    return 0 if success else 1


if __name__ == "__main__":
    sys.exit(main())
