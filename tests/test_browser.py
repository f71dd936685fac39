"""Every page of the built book, opened in headless Chromium as a reader would, with no network.

The session's book build (tests/conftest.py) is served from 127.0.0.1; any request to another host is blocked
and counts as a failure. Each page must load without console errors or failed requests, typeset its formulas
with the vendored MathJax and within the text column, give every image alt text and keep its headings in
order; on a chapter, moving each explorer's static slider must change the figure. Full-page screenshots go to
_build/screenshots/ for a human to look at.
"""

import functools
import itertools
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

import pytest
from test_book import DOCS

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run"]

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).is_file(),
    reason="no Chromium at /usr/bin/chromium (apt-get install chromium; .ci/run does this): pages not opened")


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(book_html):
    """The built book served over HTTP on 127.0.0.1 (a free port), as ``(base_url, html_folder)``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(book_html)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/", book_html
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


def pages(html: Path) -> list[str]:
    return sorted(str(path.relative_to(html)) for path in html.rglob("*.html")
                  if not path.relative_to(html).parts[0].startswith("_"))


class Visit:
    """One page opened in a fresh context (``width`` pixels wide): what went wrong while it loaded, and the
    page itself."""

    def __init__(self, browser, base: str, path: str, width: int = 1280):
        self.problems, host = [], urlparse(base).netloc
        self.context = browser.new_context(viewport={"width": width, "height": 900}, service_workers="block")

        def only_this_site(route):
            url = route.request.url
            if urlparse(url).scheme in ("data", "blob") or urlparse(url).netloc == host:
                route.continue_()
            else:
                self.problems.append(f"request to another host blocked: {url}")
                route.abort("blockedbyclient")

        self.context.route("**/*", only_this_site)
        self.page = page = self.context.new_page()
        page.on("console", lambda message: message.type == "error" and self.problems.append(
            f"console error: {message.text} ({message.location.get('url', '')})"))
        page.on("pageerror", lambda error: self.problems.append(f"uncaught exception: {error}"))
        page.on("requestfailed", lambda request: urlparse(request.url).netloc == host and self.problems.append(
            f"request failed: {request.url} ({request.failure})"))
        page.on("response", lambda response: response.status >= 400 and self.problems.append(
            f"HTTP {response.status}: {response.url}"))
        page.goto(base + path, wait_until="networkidle")
        page.evaluate("() => window.MathJax && MathJax.startup && MathJax.startup.promise")


@pytest.fixture
def visit(browser, site):
    opened = []

    def open_page(path, width=1280):
        opened.append(Visit(browser, site[0], path, width))
        return opened[-1]

    yield open_page
    for page in opened:
        page.context.close()


# Headings of the article in document order, and images without a non-empty alt.
HEADINGS = "() => [...document.querySelectorAll('article h1, article h2, article h3, article h4, article h5, " \
           "article h6')].map(h => [Number(h.tagName[1]), h.textContent.trim().slice(0, 60)])"
NO_ALT = "() => [...document.images].filter(i => !(i.getAttribute('alt') || '').trim() && !(i.getAttribute('alt')" \
         " === '' && i.closest('[role=img][aria-label]'))).map(i => i.outerHTML.slice(0, 120))"
# WCAG 2 contrast of the article's text against the first opaque background behind it: at least 4.5:1, or 3:1
# for large text. Code and formulas keep the theme's colours and are left out.
LOW_CONTRAST = """() => {
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const luminance = c => c.slice(0, 3).map(v => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
                          .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const background = el => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || c[3] === 1) return c;
    }
    return [255, 255, 255];
  };
  const low = [];
  for (const el of document.querySelectorAll("article *")) {
    const style = getComputedStyle(el);
    if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()) || !el.getClientRects().length
        || style.visibility === "hidden" || el.closest("mjx-container, .highlight, pre")) continue;
    const [a, b] = [luminance(rgb(style.color)), luminance(background(el))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(style.fontSize), large = size >= 24 || (size >= 18.66 && style.fontWeight >= 700);
    if (ratio < (large ? 3 : 4.5)) low.push(`${ratio.toFixed(2)}: ${el.textContent.trim().slice(0, 50)}`);
  }
  return low;
}"""
# Display formulas wider than the text column (they would be cut off or need a sideways scroll).
WIDE_MATH = r"""() => {
  const article = document.querySelector("article");
  if (!article) return [];
  const right = article.getBoundingClientRect().right;
  return [...article.querySelectorAll("mjx-container[display=true]")]
    .filter(m => m.querySelector("mjx-math").getBoundingClientRect().right > right + 1)
    .map(m => `${Math.round(m.querySelector("mjx-math").getBoundingClientRect().right - right)} px too wide: `
              + m.textContent.replace(/\s+/g, " ").slice(0, 80));
}"""
RAW_MATH = "() => [...document.querySelectorAll('.math')].filter(m => !m.querySelector('mjx-container')" \
           " && !m.closest('mjx-container')).map(m => m.textContent.slice(0, 60))"


def page_ids() -> list[str]:
    """Every page of the site: the pages in _toc.yml and the ones Sphinx adds."""
    return [f"{doc}.html" for doc in DOCS] + ["index.html", "genindex.html", "search.html"]


def test_every_page_of_the_site_is_opened(site):
    assert set(pages(site[1])) == set(page_ids())


@pytest.mark.parametrize("path", page_ids())
def test_page_loads_cleanly_offline_and_is_accessible(visit, path):
    opened = visit(path)
    page = opened.page
    assert not opened.problems, "\n".join(opened.problems)
    assert not page.evaluate(NO_ALT), f"images without alt text: {page.evaluate(NO_ALT)}"
    levels = page.evaluate(HEADINGS)
    if levels:
        assert levels[0][0] == 1, f"the first heading is {levels[0]}"
        jumps = [(a, b) for a, b in itertools.pairwise(levels) if b[0] > a[0] + 1]
        assert not jumps, f"headings skip a level: {jumps}"
    assert not page.evaluate(RAW_MATH), f"formulas left as raw TeX: {page.evaluate(RAW_MATH)}"
    assert not page.evaluate(WIDE_MATH), f"formulas wider than the text column: {page.evaluate(WIDE_MATH)}"
    assert not page.evaluate(LOW_CONTRAST), f"text with too little contrast: {page.evaluate(LOW_CONTRAST)}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / (path.replace("/", "__").removesuffix(".html") + ".png"), full_page=True)


@pytest.mark.parametrize("path", [path for path in page_ids() if path.startswith("chapters/")])
def test_every_static_explorer_slider_changes_the_figure(visit, path):
    opened = visit(path)
    explorers = opened.page.locator("figure.descent-explorer")
    assert explorers.count() >= 1, "no static explorer on the page"
    for i in range(explorers.count()):
        figure = explorers.nth(i)
        images, slider, output = figure.locator("img"), figure.locator("input[type=range]"), figure.locator("output")
        assert slider.get_attribute("max") and int(slider.get_attribute("max")) >= 2
        assert figure.locator("label:has(input[type=range])").count() == 1, "the slider has no label"
        figure.scroll_into_view_if_needed()
        slider.focus()
        seen = set()
        for key in ["Home", "ArrowRight", "End"]:
            slider.press(key)
            seen.add((images.evaluate_all("all => all.map(image => image.src).join()"), output.text_content()))
        assert len({src for src, _ in seen}) == 3, "moving the slider does not change the figure"
        assert len({value for _, value in seen}) == 3, "the value shown does not follow the slider"
        figure.screenshot(path=SCREENSHOTS / f"{Path(path).stem}__explorer{i}_end.png")
    assert not opened.problems, "\n".join(opened.problems)


def test_the_favicon_is_served_at_the_root_and_where_the_pages_link_it(visit, site):
    # Headless Chromium requests no favicon, so the page load above cannot catch its 404: ask for it directly.
    opened = visit("chapters/01_loss_functions.html")
    linked = opened.page.evaluate("() => document.querySelector('link[rel~=icon]').href")
    for url in (site[0] + "favicon.ico", linked):
        response = opened.context.request.get(url)
        assert response.status == 200 and response.headers["content-type"].startswith("image/"), url


# At phone width: how wide the page is, and for each picture its drawn width, its natural width and the width
# of the box it may fill; code blocks whose text is wider than the block ("input" for a code cell, which must
# wrap, else the block's overflow style).
PHONE = """() => {
  const drawn = selector => [...document.querySelectorAll(selector)].map(image => ({
      src: image.currentSrc.slice(-40), width: image.getBoundingClientRect().width, natural: image.naturalWidth,
      room: image.closest("figure, div.cell_output").getBoundingClientRect().width}));
  return {page: document.documentElement.scrollWidth, explorers: drawn("figure.descent-explorer img"),
          figures: drawn("div.cell_output > figure > img, div.cell_output > img"),
          code: [...document.querySelectorAll("article pre")].filter(pre => pre.scrollWidth > pre.clientWidth + 1)
                  .map(pre => [pre.closest("div.cell_input") ? "input" : getComputedStyle(pre).overflowX,
                               pre.textContent.slice(0, 40)])};
}"""


@pytest.mark.parametrize("path", [path for path in page_ids() if path.startswith(("chapters/", "exercises/"))])
def test_pages_stay_readable_at_phone_width(visit, path):
    opened = visit(path, width=390)
    opened.page.wait_for_timeout(200)  # let the explorers' flex boxes settle after the images' sizes are known
    found = opened.page.evaluate(PHONE)
    assert found["page"] <= 390, f"the page is {found['page']} px wide: it scrolls sideways at 390 px"
    # An explorer's pictures stack: each is drawn at least 80 % as large as its natural size and its box allow
    # (a band above or below the panels, such as a suptitle, may keep to 80 %; the panels fill their room).
    small = [image for image in found["explorers"]
             if image["width"] + 1 < 0.8 * min(image["natural"], image["room"])]  # 1 px: the style rounds
    assert not small, f"explorer pictures shrunk below their room: {small}"
    # A plain figure keeps a readable size and scrolls sideways inside its output instead.
    small = [image for image in found["figures"] if image["width"] < min(540, image["natural"]) - 1]
    assert not small, f"figures shrunk to unreadable text: {small}"
    # Long lines of code wrap; printed outputs (tables) scroll sideways inside their block. Nothing is cut off.
    cut = [text for overflow, text in found["code"] if overflow not in ("auto", "scroll")]
    assert not cut, f"code lines cut off or hidden: {cut}"
    assert not opened.problems, "\n".join(opened.problems)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    opened.page.screenshot(path=SCREENSHOTS / (path.replace("/", "__").removesuffix(".html") + "__390px.png"),
                           full_page=True)
