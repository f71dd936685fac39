"""nbgrader configuration for Descent: instructors edit solutions/, students get exercises/.

Run nbgrader from this folder (`make assignments` does). See https://nbgrader.readthedocs.io/.
"""

import os

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

# The course root is this file's folder, wherever nbgrader is started from.
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "solutions"  # solutions/NN_name/NN_name.ipynb, with hidden tests
c.CourseDirectory.release_directory = "exercises"  # generated student versions: never edit by hand
# The gradebook's course: never empty, or PostgreSQL (which, unlike SQLite, enforces the gradebook's foreign keys)
# refuses every assignment nbgrader records.
c.CourseDirectory.course_id = "descent"

# Seconds each cell may run while validating or grading; a student's infinite loop fails, not hangs.
# `make grade` interrupts a cell at this limit, kills a kernel that ignores the interrupt, and gives a whole
# notebook 5 times this limit.
c.ExecutePreprocessor.timeout = 60

# The gradebook is SQLite at {root}/gradebook.db by default (`make grade` keeps it readable by you only). For a
# large class, or several graders at once, point it at PostgreSQL (driver: psycopg 3, in requirements.txt; keep the
# password in ~/.pgpass; a local server's Unix socket: "postgresql+psycopg://grader@/descent?host=/var/run/postgresql"):
# c.CourseDirectory.db_url = "postgresql+psycopg://grader@db.example.org/descent"

# `make grade SUBMISSIONS=export.zip` recognises Canvas's, Moodle's and Blackboard's exports by themselves. Files
# named otherwise are read as `nbgrader zip_collect` reads them, with this pattern: by default
# <student_id>_<ISO 8601 timestamp>_<notebook>.ipynb, e.g. ada_2026-11-21T09:30:00Z_01_loss_functions.ipynb
# (basic ISO, 20261121T093000Z, works too; a timestamp without a zone is taken as UTC). The newest file per
# student and notebook is graded.
c.FileNameCollectorPlugin.named_regexp = (
    r"^(?:.*/)?(?P<student_id>[A-Za-z0-9][A-Za-z0-9._@+-]*?)_"
    r"(?P<timestamp>\d{4}-?\d{2}-?\d{2}T\d{2}:?\d{2}:?\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)_"
    r"(?P<file_id>[^/]+\.ipynb)$"
)

# `make grade` writes its own feedback (test names, points and messages only). If you run nbgrader's
# `generate_feedback` yourself, at least remove the hidden tests' source from it (their failing line can still
# show in a traceback):
c.GenerateFeedback.preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor, ClearHiddenTests]
