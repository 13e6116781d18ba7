"""nbgrader configuration of the kit: instructors run nbgrader's usual commands here.

`solutions/` is nbgrader's source folder and `notebooks/` its release folder, so
`nbgrader generate_assignment 00_meta_rl_problem` (or `metarl-course release`) writes the
student version of `solutions/00_meta_rl_problem/` into `notebooks/00_meta_rl_problem/`.
"""

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "metarl-course"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"

# Grading runs at the `ci` preset (nbgrader sets NBGRADER_EXECUTION, which forces it),
# so every cell finishes in seconds; this limit only stops a runaway student cell.
c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
