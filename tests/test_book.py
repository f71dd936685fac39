"""The book builds with zero warnings, has exactly the pages in _toc.yml, never publishes solutions, and its pages
request nothing from another host. (tests/test_browser.py opens every page in Chromium.)"""

import inspect
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml
from conftest import PROBE

ROOT = Path(__file__).resolve().parents[1]
EXPLORER_BUDGET = 600_000  # bytes of one explorer's static form (frames as data URIs + script)


def toc_docs(toc_path):
    """Every document named in a jb-book _toc.yml, without suffix, in reading order."""
    toc = yaml.safe_load(toc_path.read_text())
    docs = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                docs.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", [{"chapters": toc.get("chapters")}]):
        walk(part.get("chapters"))
    return [str(Path(doc).with_suffix("")) for doc in docs]


DOCS = toc_docs(ROOT / "_toc.yml")
CHAPTERS = [doc for doc in DOCS if doc.startswith("chapters/")]
EXERCISES = [doc for doc in DOCS if doc.startswith("exercises/")]


@pytest.fixture(scope="module")
def html(book_html):
    return book_html


def page(html, doc):
    return (html / f"{doc}.html").read_text()


def test_the_landing_page_is_built(html):
    assert (html / "index.html").is_file()
    assert "Descent" in (html / "intro.html").read_text()


def test_the_site_has_exactly_the_pages_in_the_toc(html):
    built = {str(p.relative_to(html / "_sources")).split(".")[0] for p in (html / "_sources").rglob("*.*")}
    assert built == set(DOCS)


def test_every_chapter_is_followed_by_its_exercise():
    chapters = [doc for doc in DOCS if doc.startswith(("chapters/", "exercises/"))]
    names = [Path(doc).name for doc in chapters]
    assert chapters[0::2] == CHAPTERS and chapters[1::2] == EXERCISES
    assert names[0::2] == names[1::2] == sorted(names[0::2])


def test_no_solution_reaches_the_site(html):
    assert not [p for p in html.rglob("*") if "solutions" in p.relative_to(html).parts]
    leaked = [p for p in html.rglob("*") if p.is_file() and PROBE.encode() in p.read_bytes()]
    assert not leaked, f"solution content published in {leaked}"


def test_no_inline_script_declares_a_constant_twice(html):
    # A repeated `const x = ...` is a SyntaxError in the browser (sphinx-thebe did this under Sphinx 7.4).
    for path in html.rglob("*.html"):
        scripts = re.findall(r"<script>((?:const|let) .*?)</script>", path.read_text(), flags=re.DOTALL)
        repeated = [body for body, count in Counter(scripts).items() if count > 1]
        assert not repeated, f"{path.name} repeats {repeated}"


@pytest.mark.parametrize("doc", DOCS)
def test_pages_load_scripts_styles_and_images_from_the_site_only(html, doc):
    text = page(html, doc)
    remote = re.findall(r"<(?:script|img|iframe|source|video|audio)\b[^>]*\bsrc=\"((?:https?:)?//[^\"]+)\"", text)
    links = [tag for tag in re.findall(r"<link\b[^>]*>", text)
             if re.search(r"\brel=\"(?:stylesheet|preload|modulepreload|icon)\"", tag)]
    remote += [tag for tag in links if re.search(r"\bhref=\"(?:https?:)?//", tag)]
    assert not remote, f"{doc} loads {remote}"
    assert "widget-state+json" not in text and "html-manager" not in text and "require.js" not in text


@pytest.mark.parametrize("doc", DOCS)
def test_mathjax_is_the_vendored_copy_loaded_once(html, doc):
    scripts = re.findall(r"<script\b[^>]*src=\"([^\"]*mathjax[^\"]*)\"", page(html, doc), flags=re.IGNORECASE)
    assert [src.split("?")[0].rsplit("_static/", 1)[-1] for src in scripts] in ([], ["mathjax/startup.js"])
    assert (html / "_static" / "mathjax" / "startup.js").is_file()


@pytest.mark.parametrize("doc", DOCS)
def test_every_image_has_alt_text(html, doc):
    # The pieces of a static explorer's figure leave their alt empty inside a group that describes them once.
    text = re.sub(r"<div role=\"img\" aria-label=\"[^\"]*\S[^\"]*\"[^>]*>(?:<img\b[^>]*alt=\"\"[^>]*>)+</div>", "",
                  page(html, doc))
    images = re.findall(r"<img\b[^>]*>", text)
    missing = [tag[:120] for tag in images if not re.search(r"\balt=\"[^\"]*\S[^\"]*\"", tag)]
    assert not missing, f"{doc}: images without alt text: {missing}"


@pytest.mark.parametrize("doc", CHAPTERS + EXERCISES)
def test_notebook_pages_offer_download_and_launch_buttons(html, doc):
    text = page(html, doc)
    up = "../" * doc.count("/")
    assert f'href="{up}_sources/{doc}.ipynb"' in text
    assert (html / "_sources" / f"{doc}.ipynb").is_file()
    repository = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    slug, branch = repository["url"].removeprefix("https://github.com/"), repository["branch"]
    assert f"https://mybinder.org/v2/gh/{slug}/{branch}?urlpath=lab/tree/{doc}.ipynb" in text
    assert f"https://colab.research.google.com/github/{slug}/blob/{branch}/{doc}.ipynb" in text


@pytest.mark.parametrize("doc", EXERCISES)
def test_exercise_pages_say_download_solve_submit_below_the_title(html, doc):
    text = page(html, doc)
    text = text[text.index("<article"):]  # the theme's header repeats the title and lists the contents
    title, box = text.index("<h1"), text.index("Download, solve, submit")
    assert title < box < text.index("<h2")
    name = Path(doc).name + ".ipynb"
    assert f'download="{name}"' in text and f"make check NOTEBOOK={doc}.ipynb" in text


@pytest.mark.parametrize("doc", CHAPTERS)
def test_each_chapter_shows_its_explorer_statically_within_budget(html, doc):
    explorers = re.findall(r"<figure class=\"descent-explorer\".*?</figure>", page(html, doc), flags=re.DOTALL)
    assert explorers, f"{doc} has no static explorer"
    for explorer in explorers:
        assert len(explorer.encode()) < EXPLORER_BUDGET
        assert '<input type="range"' in explorer and "document.currentScript" in explorer


def test_the_reference_page_documents_every_public_name_of_descent(html):
    import descent

    text = page(html, "reference")
    missing = []
    for name in descent.__all__:
        obj = getattr(descent, name)
        anchor = f"module-{obj.__name__}" if inspect.ismodule(obj) else f"{obj.__module__}.{name}"
        if f'id="{anchor}"' not in text:
            missing.append(anchor)
    assert not missing, f"not on reference.html: {missing}"
    assert text.count('<span class="gp">&gt;&gt;&gt; </span>') > 50, "the docstrings' examples are missing"
    assert "Alias for field number" not in text, "NamedTuple fields listed with Python's generated docstring"


def test_the_site_has_a_favicon_linked_from_every_page_and_at_its_root(html):
    assert (html / "favicon.ico").is_file(), "browsers ask for /favicon.ico: without it every first visit logs a 404"
    for doc in DOCS:
        up = "../" * doc.count("/")
        links = re.findall(r"<link\b[^>]*\brel=\"(?:shortcut )?icon\"[^>]*>", page(html, doc))
        assert links, f"{doc} names no icon"
        href = re.search(r"href=\"([^\"]+)\"", links[0]).group(1)
        assert (html / doc).parent.joinpath(href).resolve().is_file(), f"{doc}: icon {href} is missing"
        assert href.startswith(up + "_static/")


@pytest.mark.parametrize("doc", CHAPTERS)
def test_one_cells_printed_output_is_one_box(html, doc):
    outputs = re.findall(r"<div class=\"cell_output docutils container\">(.*?)\n</div>\n</div>", page(html, doc),
                         flags=re.DOTALL)
    split = [output[:200] for output in outputs if output.count('class="output stream') > 1]
    assert not split, f"{doc}: printed output split into several boxes: {split}"
