"""nbgrader configuration for Descent: instructors edit solutions/, students get exercises/.

Run nbgrader from this folder (`make assignments` does). See https://nbgrader.readthedocs.io/.
"""

import os

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

# The course root is this file's folder, wherever nbgrader is started from.
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "solutions"  # solutions/NN_name/NN_name.ipynb, with hidden tests
c.CourseDirectory.release_directory = "exercises"  # generated student versions: never edit by hand

# Seconds each cell may run while validating or autograding; a student's infinite loop fails, not hangs.
c.ExecutePreprocessor.timeout = 60

# The gradebook is SQLite at {root}/gradebook.db by default; for a shared course, point it at PostgreSQL:
# c.CourseDirectory.db_url = "postgresql://user:password@host/descent"
