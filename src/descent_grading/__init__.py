"""descent_grading: the course's nbgrader pipeline, built so that an instructor can trust the grades.

``make grade SUBMISSIONS=folder-or-zip`` (``python -m descent_grading grade``) collects the submissions, grades each
notebook (two at a time), records the grades in nbgrader's gradebook and writes ``grades.csv`` and
``feedback/<student>/<assignment>/<notebook>.html``. ``make check NOTEBOOK=path`` runs a notebook's visible tests
for a student, with the same engine and no sandbox. nbgrader does what it does well (``generate_assignment``, the
gradebook, the zip file name pattern, its scoring rule: a test cell scores its points unless it errors); this
package replaces its ``autograde`` and ``generate_feedback``.

How a notebook is graded (one module per step): ``collect`` finds the submissions (``lms`` reads the names an LMS's
export gives them); ``plan`` lines their cells up with the instructor's (from the gradebook); ``run`` executes them:
the student's cells in ``student.py``, a process in a ``sandbox``, and the instructor's cells (visible and hidden
tests) in the ``harness``, inside the grader, which talks to the student's process over pipes (``process``,
``wire``); ``report`` and ``feedback`` write the results.

Threat model: the student controls everything in their own process, so nothing there is a defence.
- **Tests cannot be read or fooled from the student's process.** Tests run in another process; the student's code
  sees only the arguments a test passes. Only plain data comes back (numbers, numeric arrays, strings, and tuples,
  lists and dicts of them: ``wire.decode`` builds fresh built-in objects), so an answer cannot return an object
  whose ``__eq__``, ``__array__`` or ``__float__`` runs code in the grader. Patching NumPy, builtins or ``descent``
  in the student's process changes only the student's own results.
- **The reference is withheld.** While an assignment is graded, the ``descent`` functions it asks students to write
  (its solution notebook's metadata ``descent.withheld``) raise in the student's process (``withhold``); the summary
  names the students whose answers used them.
- **The student's process sees almost nothing** (bubblewrap, ``sandbox``): read-only Python, its venv and the
  assignment's ``descent``; an empty private home and /tmp; no network, own pid/ipc/uts namespaces, a cleared
  environment; 4 GiB, 256 tasks, 64 MiB files and a CPU limit; as root it runs as an unused uid per slot. Not the
  course tree, the solutions, the gradebook or any other submission. Without root it runs in a user namespace;
  where neither works, grading refuses unless ``--unsandboxed``.
- **Broken submissions are graded, never fatal**: invalid or oversized files, moved, edited or deleted instructor
  cells (restored from the gradebook, with a notice), infinite loops (interrupt at the time limit, then kill), a
  process that exits, crashes or forks, and megabytes of output all end in zero or partial marks with a reason;
  a notebook keeps the points earned before its process died.

Not defended: a test that hands the student's code the reference of the function it tests (the student's code
could keep and return it: tests pass data, gradients and spies only); the wall time a student's process spends
(bounded by the time limits, not free); late penalties (``duedate`` is recorded as nbgrader does, no penalty);
anything a student does in the notebook they hand in other than through code (the grader runs the instructor's
cells from the gradebook, never the submitted outputs).
"""
