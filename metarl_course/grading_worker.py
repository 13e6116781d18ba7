"""One submission's nbgrader steps in one process: autograde, then the HTML feedback.

``python -m metarl_course.grading_worker COURSE UNIT STUDENT [--no-feedback]``, run by
``metarl_course.grading`` in the student's own course folder. Importing nbgrader takes
seconds; doing both steps in one process halves that cost per student. The exit status
is 0 when autograding succeeded (feedback problems are logged, not fatal).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("course", type=Path)
    parser.add_argument("unit")
    parser.add_argument("student")
    parser.add_argument("--no-feedback", action="store_true")
    args = parser.parse_args(argv)

    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    course = args.course.resolve()
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    api = NbGraderAPI(coursedir=CourseDirectory(config=config, root=str(course)), config=config)
    steps = [("autograde", lambda: api.autograde(args.unit, args.student, force=True, create=True))]
    if not args.no_feedback:
        steps.append(("generate_feedback", lambda: api.generate_feedback(args.unit, args.student, force=True)))
    for name, step in steps:
        result = step()
        print(f"== nbgrader {name}\n{result.get('log', '')}")
        if not result["success"]:
            print(result.get("error", ""), file=sys.stderr)
            if name == "autograde":
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
