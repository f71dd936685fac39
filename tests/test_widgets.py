"""Explorers: every slider swept headlessly, descent's numbers, pure redraws, clear errors, widgets."""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
import sys
import warnings
from html.parser import HTMLParser

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.colors import to_hex

from descent import losses
from descent.landscapes import LANDSCAPES, ill_conditioned, quadratic, rosenbrock, saddle
from descent.numerics import numerical_grad
from descent.optim import sgd
from descent.plots import OKABE_ITO
from descent.train import minimize
from descent.widgets import (
    Explorer,
    Slider,
    View,
    descent_explorer,
    gradient_descent,
    learning_rate_explorer,
    loss_explorer,
    loss_readout,
    stability,
    window_point,
)


def explorer_factories() -> list:
    """Every ``*_explorer`` function defined in a module of descent.widgets: a new explorer is tested here
    as soon as it exists."""
    import importlib
    import pkgutil

    import descent.widgets

    modules = [importlib.import_module(f"descent.widgets.{info.name}")
               for info in pkgutil.iter_modules(descent.widgets.__path__)]
    return [function for module in modules for name, function in sorted(vars(module).items())
            if name.endswith("_explorer") and getattr(function, "__module__", None) == module.__name__]


FACTORIES = explorer_factories()
assert {loss_explorer, descent_explorer, learning_rate_explorer} <= set(FACTORIES)
each_explorer = pytest.mark.parametrize("factory", FACTORIES, ids=lambda factory: factory.__name__)


def drawn(explorer: Explorer) -> list:
    """Everything the figure shows that an update can change: line data and texts."""
    data = []
    for ax in explorer.fig.axes:
        data += [line.get_xydata().tolist() for line in ax.get_lines()]
        data += [text.get_text() for text in ax.texts] + [ax.get_title()]
    return data + [text.get_text() for text in explorer.fig.texts]


def sweeps(factory, n=5):
    """Every slider at ``n`` values across its range, both ends included, and every option of a dropdown."""
    return [(name, value) for name, slider in factory().sliders.items() for value in slider.sweep(n)]


# --- the pure computations agree with the library -----------------------------------------------------------


@pytest.mark.parametrize("pred, target, delta",
                         [(1.5, 0.0, 1.0), (-3.0, 2.0, 0.1), (0.3, 0.3, 3.0), (3.0, -2.0, 2.0)])
def test_loss_readout_is_descents_value_and_slope(pred, target, delta):
    readout = loss_readout(pred, target, delta)
    p, y, one = np.array([pred]), np.array([target]), np.array([1.0])
    expected = {"MSE": losses.mse(p, y), "MAE": losses.mae(p, y), "Huber": losses.huber(p, y, delta),
                "BCE with logits": losses.binary_cross_entropy_with_logits(p, one),
                "hinge": losses.hinge(p, one)}
    assert set(readout) == set(expected)
    for name, (value, grad) in expected.items():
        assert readout[name] == (value, grad[0])


@pytest.mark.parametrize("pred", [-2.7, -0.4, 0.6, 2.2])
def test_loss_readout_slopes_are_the_derivatives_of_the_values(pred):
    for name, (_, slope) in loss_readout(pred, 0.25, 0.8).items():
        def value(p, name=name):
            return loss_readout(float(p), 0.25, 0.8)[name][0]

        numeric = numerical_grad(value, np.array(pred))
        assert slope == pytest.approx(float(numeric), abs=1e-6), name


def test_gradient_descent_is_minimize_with_sgd_and_does_not_warn_on_divergence():
    expected = minimize(sgd(lr=0.3), ill_conditioned(10.0), [1.0, 1.0], 600, warn=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = gradient_descent(ill_conditioned(10.0), [1.0, 1.0], lr=0.3, steps=600)
    np.testing.assert_array_equal(run.params, expected.params)
    assert run.diverged_at == expected.diverged_at is not None


def test_window_point_maps_the_unit_square_onto_the_plot_window():
    bowl = rosenbrock()
    (x_low, x_high), (y_low, y_high) = bowl.bounds
    assert window_point(bowl, -1, -1).tolist() == [x_low, y_low]
    assert window_point(bowl, 1, 1).tolist() == [x_high, y_high]
    assert window_point(bowl, 0, 0).tolist() == [(x_low + x_high) / 2, (y_low + y_high) / 2]


@pytest.mark.parametrize("landscape",
                         [ill_conditioned(10.0), ill_conditioned(3.0), quadratic([[2.0, 1.0], [1.0, 3.0]])])
@pytest.mark.parametrize("fraction", [0.05, 0.5, 0.9, 0.99, 1.01, 1.2, 2.0])
def test_stability_verdict_matches_what_gradient_descent_does(landscape, fraction):
    lr = fraction * 2 / landscape.lipschitz
    run = gradient_descent(landscape, [1.0, 1.0], lr, steps=2000)
    converged = run.diverged_at is None and run.losses[-1] < 1e-3 * run.losses[0]
    verdict = stability(landscape, lr)
    assert verdict.endswith("converges") == converged
    assert verdict.endswith("diverges") == (not converged)
    assert f"2/λₘₐₓ = {2 / landscape.lipschitz:.3g}" in verdict


def test_stability_on_a_saddle_says_no_lr_helps():
    assert "negative curvature" in stability(saddle(), 0.01)


# --- every slider of every explorer, across its whole range -------------------------------------------------


@each_explorer
def test_every_slider_sweeps_without_error_or_warning_and_draws_finite_data(factory):
    explorer = factory()
    for name, value in sweeps(factory):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            fig = explorer.update(**{name: value})
            fig.canvas.draw()
        assert fig is explorer.fig and explorer.values[name] == value
        for ax in fig.axes:
            for line in ax.get_lines():
                assert np.all(np.isfinite(line.get_xydata())), (name, value, line)


@each_explorer
def test_update_is_a_pure_function_of_the_slider_values(factory):
    explorer = factory()
    first = {name: slider.sweep(3)[1] for name, slider in explorer.sliders.items()}
    other = {name: slider.sweep(3)[-1] for name, slider in explorer.sliders.items()}
    explorer.update(**first)
    before = drawn(explorer)
    explorer.update(**other)
    assert drawn(explorer) != before
    explorer.update(**first)
    assert drawn(explorer) == before
    fresh = factory()
    fresh.update(**first)
    assert drawn(fresh) == before


@each_explorer
def test_missing_values_keep_the_current_setting(factory):
    explorer = factory()
    name, slider = next(iter(explorer.sliders.items()))
    explorer.update(**{name: slider.sweep(3)[-1]})
    values = explorer.values
    explorer.update()
    assert explorer.values == values


@each_explorer
def test_values_outside_a_slider_raise_a_value_error_naming_it(factory):
    explorer = factory()
    for name, slider in explorer.sliders.items():
        bad = ["no such landscape"] if slider.options else [slider.max * 2 + 1, slider.min - 1, float("nan")]
        for value in bad:
            with pytest.raises(ValueError, match=f"^{name}="):
                explorer.update(**{name: value})
    with pytest.raises(ValueError, match="not a slider"):
        explorer.update(colour="red")


def test_integer_sliders_refuse_fractions():
    with pytest.raises(ValueError, match=r"steps=2\.5 is invalid: steps must be an integer"):
        descent_explorer().update(steps=2.5)


@each_explorer
def test_every_explorer_describes_its_figure_and_draws_in_okabe_ito_colours(factory):
    explorer = factory()
    assert len(explorer.alt) > 100
    allowed = set(OKABE_ITO.values()) | {"#ffffff"}
    for ax in explorer.fig.axes:
        for line in ax.get_lines():
            assert to_hex(line.get_color()).upper() in {c.upper() for c in allowed}


# --- what each explorer shows -------------------------------------------------------------------------------


def test_loss_explorer_dots_and_tangents_show_descents_values_and_slopes():
    explorer = loss_explorer()
    explorer.update(pred=-1.25, target=0.5, delta=0.7)
    readout = loss_readout(-1.25, 0.5, 0.7)
    lines = {line.get_label(): line for ax in explorer.fig.axes for line in ax.get_lines()}
    for name, (value, slope) in readout.items():
        curve = lines[name]
        triples = zip(*[iter(curve.axes.get_lines())] * 3, strict=False)  # curve, tangent, dot of each loss
        tangent, dot = next((t, d) for c, t, d in triples if c is curve)
        assert dot.get_xydata().tolist() == [[-1.25, value]]
        (x0, y0), (x1, y1) = tangent.get_xydata()
        assert (y1 - y0) / (x1 - x0) == pytest.approx(slope)
        assert f"{value:.3f}" in "".join(t.get_text() for t in explorer.fig.texts)
    mse_curve = lines["MSE"].get_xydata()
    np.testing.assert_allclose(mse_curve[:, 1], (mse_curve[:, 0] - 0.5) ** 2)


def trajectory_lines(explorer):
    contour_ax, loss_ax = explorer.fig.axes[:2]
    path = next(line for line in contour_ax.get_lines() if line.get_linestyle() == "-")
    return path.get_xydata(), loss_ax.get_lines()[0].get_ydata()


@pytest.mark.parametrize("name", list(LANDSCAPES))
def test_descent_explorer_draws_the_run_of_gradient_descent(name):
    explorer = descent_explorer()
    explorer.update(landscape=name, x0=0.4, y0=-0.6, lr=0.003, steps=40)
    landscape = LANDSCAPES[name]()
    run = gradient_descent(landscape, window_point(landscape, 0.4, -0.6), 0.003, 40)
    path, curve = trajectory_lines(explorer)
    np.testing.assert_array_equal(path, run.params)
    np.testing.assert_array_equal(curve, run.losses)
    assert explorer.fig.axes[0].get_xlim() == landscape.bounds[0]


def test_descent_explorer_reports_divergence_instead_of_warning():
    explorer = descent_explorer()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        explorer.update(landscape="himmelblau", x0=1.0, y0=1.0, lr=1.0, steps=200)
    landscape = LANDSCAPES["himmelblau"]()
    run = gradient_descent(landscape, window_point(landscape, 1, 1), 1.0, 200)
    assert run.diverged_at is not None
    texts = [t.get_text() for t in explorer.fig.axes[0].texts if t.get_visible()]
    assert f"diverged at step {run.diverged_at}" in texts
    explorer.update(lr=1e-4)
    assert not [t for t in explorer.fig.axes[0].texts if t.get_visible() and t.get_text()]


def test_descent_explorer_recontours_only_when_the_landscape_changes():
    explorer = descent_explorer()
    ax = explorer.fig.axes[0]
    contours = list(ax.collections)
    explorer.update(lr=0.01, x0=0.3, steps=20)
    assert list(ax.collections) == contours
    explorer.update(landscape="beale")
    assert not set(map(id, ax.collections)) & set(map(id, contours))
    assert len(ax.collections) == len(contours)  # the old contours were removed, not piled up


def test_learning_rate_explorer_marks_2_over_L_and_states_the_verdict():
    explorer = learning_rate_explorer()
    slider = explorer.sliders["lr"]
    assert slider.log and slider.min < 0.2 < slider.max
    strip = explorer.fig.axes[2]
    assert any(np.allclose(line.get_xdata(), 0.2) for line in strip.get_lines())
    for lr in (0.05, 0.3):
        explorer.update(lr=lr)
        assert explorer.fig.get_suptitle() == stability(ill_conditioned(10.0), lr)
        marker = next(line for line in strip.get_lines() if line.get_marker() == "v")
        assert np.asarray(marker.get_xdata()).tolist() == [lr]
        path, curve = trajectory_lines(explorer)
        valley = ill_conditioned(10.0)
        run = gradient_descent(valley, window_point(valley, -0.75, 0.75), lr, 50)
        np.testing.assert_array_equal(path, run.params)
    assert curve[-1] > curve[0]  # lr = 0.3 > 2/L: the loss grows


def test_learning_rate_explorer_takes_other_quadratics_and_refuses_curved_landscapes():
    explorer = learning_rate_explorer(quadratic([[4.0, 0.0], [0.0, 1.0]]), x0=[1.0, 1.0], steps=10)
    assert explorer.sliders["lr"].min < 0.5 < explorer.sliders["lr"].max
    with pytest.raises(ValueError, match="no constant Hessian"):
        learning_rate_explorer(rosenbrock())


# --- the live-notebook side ---------------------------------------------------------------------------------


def pixels(png: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def full_redraw(explorer: Explorer) -> np.ndarray:
    explorer.fig.canvas.draw()
    return np.asarray(explorer.fig.canvas.buffer_rgba())[..., :3]


@each_explorer
def test_png_shows_exactly_what_a_full_redraw_shows_for_every_slider_value(factory):
    explorer = factory()
    for name, value in sweeps(factory, n=4) + [(name, slider.value) for name, slider in
                                                factory().sliders.items()]:
        png = explorer.png(**{name: value})
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        np.testing.assert_array_equal(pixels(png), full_redraw(explorer), err_msg=f"{name}={value}")


@each_explorer
def test_png_renders_the_background_once_while_the_main_slider_moves(factory, monkeypatch):
    explorer = factory()
    renders = []
    draw = explorer.fig.canvas.draw
    monkeypatch.setattr(explorer.fig.canvas, "draw", lambda: renders.append(1) or draw())
    for value in explorer.sliders[explorer.main].sweep(12):
        explorer.png(**{explorer.main: value})
    assert len(renders) == 1


def test_png_renders_the_background_again_when_it_changes(monkeypatch):
    explorer = descent_explorer()
    explorer.png()
    renders = []
    draw = explorer.fig.canvas.draw
    monkeypatch.setattr(explorer.fig.canvas, "draw", lambda: renders.append(1) or draw())
    explorer.png(landscape="beale")  # new contours
    explorer.png(steps=10)  # new limits of the loss axis
    explorer.png(lr=0.01)  # only the run moves
    assert len(renders) == 2


@each_explorer
def test_widget_builds_ipywidgets_whose_image_follows_the_controls(factory):
    import ipywidgets

    explorer = factory()
    box = explorer.widget()
    assert isinstance(box, ipywidgets.VBox)
    controls, image = box.children
    assert isinstance(image, ipywidgets.Image) and image.format == "png"
    by_name = dict(zip(explorer.sliders, controls.children, strict=True))
    for name, control in by_name.items():
        slider = explorer.sliders[name]
        expected = (ipywidgets.Dropdown if slider.options else ipywidgets.FloatLogSlider if slider.log
                    else ipywidgets.IntSlider if isinstance(slider.step, int) else ipywidgets.FloatSlider)
        assert isinstance(control, expected) and (slider.options or control.continuous_update)
        before = image.value
        control.value = slider.sweep(3)[-1] if control.value != slider.sweep(3)[-1] else slider.sweep(3)[0]
        assert explorer.values[name] == pytest.approx(control.value)
        assert image.value != before
        np.testing.assert_array_equal(pixels(image.value), full_redraw(explorer))


def test_show_displays_the_live_widget_and_the_static_form_in_one_output(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kwargs: shown.append((objs, kwargs)))
    explorer = learning_rate_explorer()
    explorer.show(n=3)
    [(bundle,)] = [objs for objs, kwargs in shown if kwargs == {"raw": True}]  # the other shows the figure
    assert set(bundle) == {"text/plain", "text/html", "application/vnd.jupyter.widget-view+json"}
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"]
    assert bundle["text/html"] == explorer.static_html(n=3)


def test_a_log_slider_accepts_the_rounded_ends_its_widget_sends():
    explorer = learning_rate_explorer()
    low = explorer.sliders["lr"].min
    explorer.update(lr=10 ** (np.log10(low)) * (1 - 1e-15))
    assert explorer.values["lr"] == low


def test_frames_yield_the_figure_for_each_value_and_to_jshtml_animates():
    explorer = loss_explorer()
    seen = [drawn(explorer) for _ in explorer.frames("pred", [-1.0, 0.0, 1.0])]
    assert len(seen) == 3 and seen[0] != seen[2]
    html = explorer.to_jshtml("delta", n=2)
    assert "<script" in html and explorer.values["delta"] == explorer.sliders["delta"].value


def test_slider_sweep_covers_both_ends():
    assert Slider(1, 200, 1, 50).sweep(7)[0] == 1 and Slider(1, 200, 1, 50).sweep(7)[-1] == 200
    assert Slider(None, None, None, "a", options=("a", "b")).sweep() == ["a", "b"]


def test_import_descent_does_not_import_matplotlib_or_ipywidgets():
    code = "import sys, descent; print('matplotlib' in sys.modules, 'ipywidgets' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]


@pytest.mark.parametrize("name", list(LANDSCAPES))
def test_descent_explorer_survives_the_largest_steps_from_every_corner(name):
    explorer = descent_explorer()
    for x0, y0 in [(-1.0, -1.0), (1.0, 1.0)]:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            explorer.update(landscape=name, x0=x0, y0=y0, lr=1.0, steps=200).canvas.draw()
        assert np.all(np.isfinite(explorer.fig.axes[1].get_ylim()))


def test_benchmark_quick_run_prints_a_ratio_for_every_explorer(capsys):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[1] / "benchmarks" / "bench_widgets.py"
    spec = importlib.util.spec_from_file_location("bench_widgets", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bench.main(["--quick"])
    rows = [line for line in capsys.readouterr().out.splitlines() if line.rstrip().endswith("x")]
    assert [row.split()[:2] for row in rows] == [[factory.__name__, slider] for factory, slider in bench.CASES]


# --- the static form, for pages without a kernel ------------------------------------------------------------


class Parsed(HTMLParser):
    """Every start tag with its attributes, the texts, and the scripts' bodies, in document order."""

    def __init__(self, text):
        super().__init__()
        self.tags, self.texts, self.scripts, self.open = [], [], [], []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in {"img", "input"}:  # void elements
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open.pop() == tag, f"</{tag}> closes nothing"

    def handle_data(self, data):
        (self.scripts if self.open and self.open[-1] == "script" else self.texts).append(data)

    def only(self, tag):
        [attrs] = [attrs for name, attrs in self.tags if name == tag]
        return attrs


def frame_bytes(uri):
    assert uri.startswith("data:image/png;base64,")
    return base64.b64decode(uri.split(",", 1)[1])


def script_data(page):
    data = re.search(r"data = (\{.*?\}), view", page.scripts[0], flags=re.DOTALL).group(1)
    return json.loads(data.replace("<\\/", "</"))


def frames_of(page, view: int = 0):
    """One view of a static page: its frames in slider order (each the tuple of its pictures' data URIs, one
    per piece of the figure), their labels, where it opens."""
    data = script_data(page)
    chosen = data["views"][view]
    return {**chosen, "frames": [tuple(data["images"][i] for i in frame) for frame in chosen["frames"]]}


def shown(page):
    """The pictures the static page shows before any script runs (the data URIs of its <img> elements)."""
    return tuple(attrs["src"] for tag, attrs in page.tags if tag == "img")


def alt_of(page):
    """The text a screen reader gets for the figure: the alt of its one image, or the label of the group of
    pieces (whose own alt texts are empty, so the figure is described once)."""
    images = [attrs for tag, attrs in page.tags if tag == "img"]
    if len(images) == 1:
        return images[0]["alt"]
    assert all(image["alt"] == "" for image in images)
    [group] = [attrs for tag, attrs in page.tags if attrs.get("role") == "img"]
    return group["aria-label"]


def pasted(frame, boxes, size):
    """The pieces of one frame pasted back into one picture at their crop boxes."""
    from PIL import Image

    whole = Image.new("RGB", size, "white")
    for uri, box in zip(frame, boxes, strict=True):
        piece = Image.open(io.BytesIO(frame_bytes(uri))).convert("RGB")
        assert piece.size == (box[2] - box[0], box[3] - box[1])
        whole.paste(piece, box[:2])
    return whole


@each_explorer
def test_static_html_is_one_figure_with_image_labelled_slider_output_and_script(factory):
    explorer = factory()
    page = Parsed(explorer.static_html(explorer.main, n=4, dpi=40))
    assert page.tags[0][0] == "figure" and not page.open
    assert not any(tag == "select" for tag, _ in page.tags)  # one view: no menu
    slider = page.only("input")
    assert alt_of(page) == explorer.alt
    assert slider["type"] == "range" and (slider["min"], slider["max"], slider["step"]) == ("0", "3", "1")
    assert [tag for tag, _ in page.tags].index("label") < [tag for tag, _ in page.tags].index("input")
    assert explorer.sliders[explorer.main].description in "".join(page.texts)
    page.only("output"), page.only("figcaption")
    assert "document.currentScript" in page.scripts[0]


@each_explorer
def test_static_frames_sweep_the_main_slider_and_open_on_the_current_figure(factory):
    explorer = factory()
    before, slider = explorer.values, explorer.sliders[explorer.main]
    page = Parsed(explorer.static_html(explorer.main, n=5, dpi=40))
    data = frames_of(page)
    assert len(data["frames"]) == len(data["labels"]) == 5
    assert len(set(data["frames"])) == 5, "two values of the slider drew the same figure"
    start = int(page.only("input")["value"])
    assert shown(page) == data["frames"][start]
    assert data["labels"][start] in page.texts  # the <output> shows the value of the first frame
    assert data["labels"][0] == f"{slider.min:.3g}" and data["labels"][-1] == f"{slider.max:.3g}"
    assert explorer.values == before  # the explorer is left as it was
    explorer.update(**{explorer.main: slider.value})
    assert data["frames"][start] == frames_of(Parsed(explorer.static_html(explorer.main, n=5, dpi=40)))[
        "frames"][start]


def test_static_html_is_deterministic_and_each_frame_is_a_png_of_the_figure():
    explorer = learning_rate_explorer()
    first = explorer.static_html("lr", n=3, dpi=50)
    assert explorer.static_html("lr", n=3, dpi=50) == first
    from PIL import Image

    from descent.widgets.explorer import _crop_boxes, _cut, _picture_of

    frames = frames_of(Parsed(first))["frames"]
    assert len(frames[0]) > 1, "a figure of two panels side by side is cut into pieces a phone can stack"
    assert len(script_data(Parsed(first))["images"]) <= 3 * len(frames[0])
    size = tuple((explorer.fig.get_size_inches() * 50).round().astype(int))
    boxes = _crop_boxes([_cut(explorer.fig, 50)], size)  # one value: its own cut
    [frame] = frames_of(Parsed(explorer.static_html(views=(View("", None, "lr", (explorer.values["lr"],)),),
                                                    dpi=50)))["frames"]
    whole = np.asarray(_picture_of(explorer.fig, 50), dtype=float)
    assert np.abs(np.asarray(pasted(frame, boxes, size), dtype=float) - whole).mean() < 2, \
        "the pieces pasted back are not the figure"
    for frame in frames:
        assert all(Image.open(io.BytesIO(frame_bytes(uri))).format == "PNG" for uri in frame)


def test_static_html_of_a_dropdown_sweeps_every_option_and_escapes_text():
    explorer = descent_explorer()
    explorer.alt = 'a "quoted" <b>alt</b>'
    page = Parsed(explorer.static_html("landscape", dpi=30))
    assert frames_of(page)["labels"] == list(LANDSCAPES)
    assert alt_of(page) == explorer.alt


def test_static_html_refuses_unknown_sliders_and_too_few_frames():
    explorer = loss_explorer()
    with pytest.raises(ValueError, match="name='colour' is not a slider"):
        explorer.static_html("colour")
    with pytest.raises(ValueError, match="n"):
        explorer.static_html(n=1)


@each_explorer
def test_the_static_form_shows_the_explorers_own_views_and_each_works(factory):
    explorer = factory()
    before = explorer.values
    page = Parsed(explorer.static_html(n=3, dpi=20))
    views = explorer.views or (View(""),)
    data = script_data(page)
    assert len(data["views"]) == len(views)
    options = [attrs for tag, attrs in page.tags if tag == "option"]
    assert len(options) == (len(views) if len(views) > 1 else 0)
    assert len(shown(page)) > 1, "the two panels are not cut apart in every view: a phone cannot stack them"
    for i, view in enumerate(views):
        frames = frames_of(page, i)["frames"]
        assert len(set(frames)) == len(frames) >= 2, f"view {view.label!r}: frames repeat"
        if view.label:
            assert view.label in page.texts
    assert explorer.values == before


def test_views_apply_their_settings_share_pictures_and_open_on_the_first():
    explorer = descent_explorer()
    views = (View("quadratic", {"landscape": "quadratic"}, "lr", (0.1, 0.5)),
             View("saddle steps", {"landscape": "saddle", "y0": 0.0}, "steps", (10, 50), start=50),
             View("quadratic again", {"landscape": "quadratic"}, "lr", (0.5, 1.0), start=0.5))
    before = explorer.values
    page = Parsed(explorer.static_html(views=views, dpi=20))
    assert explorer.values == before
    data = script_data(page)
    pieces = len(data["views"][0]["frames"][0])
    assert len({i for view in data["views"] for frame in view["frames"] for i in frame}) == len(data["images"])
    assert len(data["images"]) <= 5 * pieces  # the quadratic at lr = 0.5 appears in two views, stored once
    saddle = frames_of(page, 1)
    assert saddle["labels"] == ["10", "50"] and saddle["start"] == 1 and saddle["slider"] == "steps"
    assert "landscape = saddle" in saddle["note"] and "start y (window fraction) = 0" in saddle["note"]
    assert "steps" not in saddle["note"].split(";", 1)[1]  # the swept slider is not listed among the others
    assert [attrs["value"] for tag, attrs in page.tags if tag == "option"] == ["0", "1", "2"]
    explorer.update(landscape="saddle", y0=0.0, steps=50)
    alone = frames_of(Parsed(explorer.static_html("steps", n=2, dpi=20)))
    assert saddle["frames"][1] == alone["frames"][alone["start"]]
    assert frames_of(page, 0)["frames"][1] == frames_of(page, 2)["frames"][0]  # lr 0.5 in both: the same pieces
    assert shown(page) == frames_of(page, 0)["frames"][0]  # the first view, at its start (lr 0.1)


def test_a_view_starts_on_a_value_it_lacks_by_adding_it_in_order():
    explorer = descent_explorer()
    page = Parsed(explorer.static_html(views=(View("", None, "lr", (0.01, 1.0), start=0.1),), dpi=20))
    assert frames_of(page)["labels"] == ["0.01", "0.1", "1"] and frames_of(page)["start"] == 1


def tiny_explorer(panels: int, legend: bool = False) -> Explorer:
    """A one-slider explorer drawing a line whose slope is the slider, in ``panels`` axes side by side (with a
    figure legend across the middle when ``legend``)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, panels, figsize=(6, 2.5), dpi=60, squeeze=False)
    lines = [ax.plot([0, 1], [0, 1], label=f"line {i}")[0] for i, ax in enumerate(axes[0])]
    if legend:
        fig.legend(loc="center")

    def draw(slope):
        for line in lines:
            line.set_ydata([0, slope])

    return Explorer(fig, {"slope": Slider(0.5, 2.0, 0.5, 1.0)}, draw, main="slope")


@pytest.mark.parametrize(("panels", "legend", "pieces"), [(1, False, 1), (2, False, 2), (2, True, 1)])
def test_two_panels_are_cut_into_columns_only_where_nothing_crosses_the_gap(panels, legend, pieces):
    page = Parsed(tiny_explorer(panels, legend).static_html(n=2, dpi=30))
    assert all(len(frame) == pieces for frame in frames_of(page)["frames"])
    assert len(shown(page)) == pieces
    if pieces == 2:  # the columns wrap: each may shrink to 60 % of its width, then the second goes below
        styles = [attrs["style"] for tag, attrs in page.tags if tag == "img"]
        assert all("flex:" in style and "min-width:0" in style for style in styles)
        [group] = [attrs for tag, attrs in page.tags if attrs.get("role") == "img"]
        assert "flex-wrap:wrap" in group["style"]


def test_bad_views_raise_value_errors_naming_the_problem():
    explorer = loss_explorer()
    idle = Explorer(explorer.fig, {**explorer.sliders, "delta": explorer.sliders["delta"]._replace(
        applies=lambda values: values["pred"] > 0)}, explorer.draw, main="pred")
    with pytest.raises(ValueError, match="views="):
        explorer.static_html(views=[])
    with pytest.raises(ValueError, match="views="):
        explorer.static_html(views=["pred"])
    with pytest.raises(ValueError, match="both sweeps 'pred' and fixes it"):
        explorer.static_html(views=[View("x", {"pred": 1.0}, "pred")])
    with pytest.raises(ValueError, match="name='colour' is not a slider"):
        explorer.static_html(views=[View("x", None, "colour")])
    with pytest.raises(ValueError, match=r"pred=9\.0 is invalid"):
        explorer.static_html(views=[View("x", None, "pred", (0.0, 9.0))])
    with pytest.raises(ValueError, match="sweeps 'delta', which does nothing"):
        idle.static_html(views=[View("x", {"pred": -1.0}, "delta")])


def test_a_slider_that_does_not_apply_is_disabled_live_and_left_out_of_the_static_note():
    explorer = loss_explorer()
    explorer.sliders["delta"] = explorer.sliders["delta"]._replace(applies=lambda values: values["pred"] > 0)
    widget = explorer.widget()
    controls = {control.description: control for control in widget.children[0].children}
    delta, pred = controls[explorer.sliders["delta"].description], controls[explorer.sliders["pred"].description]
    assert not delta.disabled
    pred.value = -1.0
    assert delta.disabled and not pred.disabled
    pred.value = 1.0
    assert not delta.disabled
    note = frames_of(Parsed(explorer.static_html("target", n=2, dpi=20)))["note"]
    assert "Huber δ" in note
    explorer.update(pred=-1.0)
    note = frames_of(Parsed(explorer.static_html("target", n=2, dpi=20)))["note"]
    assert "Huber δ" not in note and "prediction ŷ = -1" in note
