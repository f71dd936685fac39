"""descent_grading: the course's nbgrader pipeline, built so that an instructor can trust the grades.

``make grade SUBMISSIONS=folder-or-zip`` (``python -m descent_grading grade``) collects the submissions, grades each
notebook in its own sandboxed kernel (two at a time), records the grades in nbgrader's gradebook and writes
``grades.csv`` and ``feedback/<student>/<assignment>/<notebook>.html``. ``make check NOTEBOOK=path`` lets a student
run the visible tests. nbgrader does the parts it does well (``generate_assignment``, the gradebook, the zip file
name pattern, its scoring rule: a test cell scores its points unless it errors); this package replaces its
``autograde`` and ``generate_feedback`` steps, whose failure modes it exists to avoid.

What is defended
----------------
- **Hidden tests stay hidden.** ``exercises/`` is nbgrader's release (no hidden tests). Feedback pages are written
  from scratch (``feedback.py``): each test's name, points and the first line of its failure message; never test
  code, tracebacks or the outputs of student cells (which could echo the tests back). The kernel has no network
  (``namespaces`` sandbox level), so student code cannot send the tests anywhere while they run.
- **Broken submissions are graded, not fatal.** Invalid JSON, an empty or oversized file, deleted, edited or
  re-typed instructor cells, tampered points or grading metadata (restored from the gradebook, with a notice),
  infinite loops (per-cell timeout from ``nbgrader_config.py``, then an interrupt, then the kernel is killed; the
  whole notebook gets 5x the per-cell limit), a kernel that exits or crashes, megabytes of output (capped at 1 MB
  per notebook) all end in zero or partial marks with a sentence saying what happened. Each notebook runs in its
  own worker-side kernel; nothing one submission does stops the others.
- **Student code cannot change a grade.** It runs as ``descent-sandbox<N>`` (an unprivileged user per worker, so
  parallel kernels cannot reach each other) in an empty home, with resource limits (4 GiB, 256 processes, 64 MiB
  files), and (when the machine allows namespaces) without network and with ``solutions/``, ``.git``, the
  gradebook, every submission and the grader's work folder covered by empty read-only mounts (``sandbox.py``).
  Grades are computed and written by the grader process, never by the kernel.
- **Answers that cheat the tests earn nothing** (``_guard.py``): before each test cell and before every call it
  makes, the guard compares builtins, math, cmath, operator, functools, numbers, numpy's comparison and array
  modules and all of descent (module attributes, Python functions' code, ``sys.modules`` entries) and IPython's
  and ipykernel's execution and error reporting with a copy taken before any student code ran; anything replaced
  is restored, and that test and every later one fail, naming what was replaced. Names the read-only cells bound
  (``np``, ``expect_close``) are rebound before each test. ``descent.feedback`` compares float arrays, so an
  object whose ``__eq__`` is always true earns nothing.

What is not defended
--------------------
- Student code shares a process with the tests it is graded by. A determined student who reads the tests at run
  time (``inspect``/frames) to return the expected values, subverts the guard itself (finding it through ``gc`` or
  builtins), patches modules the guard does not watch (numpy's internals beyond those listed) or from a
  background thread, or patches and un-patches inside a single library call (from an ``__array__`` method, say),
  can still pass. Such answers need names a pure-function exercise never uses: the summary lists them under "To
  review".
- Tests that compare with bare ``==`` on an answer's object (use ``descent.feedback``'s checks).
- In-place mutation of data a read-only cell created (rebinding is defended, mutation is not).
- Without root the kernel runs as you (a warning says so); without namespaces it can read world-readable files,
  including ``solutions/`` unless you ``chmod 700`` it, and it has network access.
- Late penalties: ``duedate`` is recorded as nbgrader does, but no penalty is computed.
"""
