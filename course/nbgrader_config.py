"""nbgrader's settings for labkit's exercises (nbgrader 0.9).

Run nbgrader's commands in this folder, the course directory: the source
notebooks are in source/exercises/ (the one copy, with the solutions and the
hidden tests); nbgrader writes release/, submitted/, autograded/, feedback/
and gradebook.db beside them.
"""

c = get_config()  # noqa: F821 (nbgrader defines it)

c.CourseDirectory.course_id = "labkit"

# The marked cell keeps the starter, then redefines it in the solution
# region; the student release keeps the starter alone, with no stub after it.
c.ClearSolutions.code_stub = {"python": ""}

# Autograding runs each notebook top to bottom. A check is bounded (under a
# minute whatever the server does), so a cell that takes longer is stuck:
# stop it and go on rather than hang the whole run.
c.Execute.timeout = 120
