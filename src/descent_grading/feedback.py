"""The feedback a student receives: a small, self-contained HTML page.

It shows the score, what happened to the submission, and for each test its name, points and message (the first
line of the failure), then the student's own answers. It never contains test code, hidden or visible, nor
tracebacks, nor the outputs of the student's cells (they could echo the tests back).
"""

from __future__ import annotations

from html import escape

from .run import Result

STYLE = """body{font:15px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;
vertical-align:top}.pass{color:#176f2c}.fail{color:#a31515}pre{background:#f6f6f6;padding:.6rem;overflow-x:auto}
.notice{background:#fff6d6;padding:.5rem .8rem;border-left:4px solid #e0b000}"""


def _points(value: float) -> str:
    return f"{value:g}"


def render(result: Result) -> str:
    """The page for one graded notebook, with the student's answers (``result.answers``) as submitted."""
    rows = "".join(
        f"<tr class=\"{'pass' if test.passed else 'fail'}\"><td>{escape(test.name)}</td>"
        f"<td>{_points(test.score)} / {_points(test.points)}</td><td>{escape(test.message)}</td></tr>"
        for test in result.tests)
    notices = "".join(f"<p class=\"notice\">{escape(notice)}</p>" for notice in result.notices)
    code = "".join(f"<h3>{escape(name)}</h3><pre>{escape(source)}</pre>" for name, source in result.answers)
    title = f"{result.assignment}: {result.notebook}"
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escape(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>"
            f"<p>Student <b>{escape(result.student)}</b>: <b>{_points(result.score)} / {_points(result.max_score)}"
            f"</b> points.</p>{notices}<h2>Tests</h2><table><tr><th>test</th><th>points</th><th>result</th></tr>"
            f"{rows}</table><h2>Your answers</h2>{code or '<p>(none found)</p>'}</body></html>\n")
