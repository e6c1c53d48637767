"""The report figures: Swedish labels, and lines and bars that stay apart in grey print."""

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402

from kps_analysis import plots  # noqa: E402

SV_MONTH = re.compile(r"^(jan|feb|mar|apr|maj|jun|jul|aug|sep|okt|nov|dec) \d{4}$")


def _grey(colour) -> float:
    """Luminance as a grey printer renders it (ITU-R BT.601 weights) [0-1]."""
    r, g, b = to_rgb(colour)
    return 0.299 * r + 0.587 * g + 0.114 * b


def _look(line) -> tuple:
    """What tells a line apart on grey paper: grey level (in steps of 0.1), dash pattern, marker."""
    return (round(_grey(line.get_color()), 1), line.get_linestyle(), line.get_marker())


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_role_colours_differ_in_grey():
    """Inflow, production and the queue are three clearly different greys (≥ 0.15 apart)."""
    greys = sorted(_grey(plots.COLOURS[r]) for r in ("inflow", "production", "queue"))
    assert min(np.diff(greys)) >= 0.15, greys


def test_fan_chart_has_swedish_month_labels_and_the_intervals():
    weeks = pd.period_range("2024-01-01", periods=120, freq="W-SUN")
    hist = pd.DataFrame({"clinic": "a", "period": weeks, "referrals_in": 50.0})
    future = pd.period_range(weeks[-1] + 1, periods=52, freq="W-SUN")
    fc = pd.DataFrame({"clinic": "a", "period": future, "mean": 50.0, "lo_80": 45.0, "hi_80": 55.0,
                       "lo_95": 40.0, "hi_95": 60.0, "model": "combo"})
    fig = plots.fan_chart(hist, fc, measure="referrals_in")
    fig.canvas.draw()
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels() if t.get_text()]
    assert labels and all(SV_MONTH.match(t) for t in labels), labels
    assert 2 <= len(labels) <= 9
    # two bands (80 % darker than 95 %) and two lines (actual solid, forecast dashed)
    bands = fig.axes[0].collections
    assert len(bands) == 2 and bands[1].get_alpha() > bands[0].get_alpha()
    styles = sorted(line.get_linestyle() for line in fig.axes[0].get_lines())
    assert styles == ["-", "--"]


def test_english_month_labels():
    assert plots.month_label(pd.Timestamp("2026-10-05"), "en") == "Oct 2026"
    assert plots.month_label(pd.Timestamp("2026-10-05")) == "okt 2026"


def test_seasonal_profile_lines_differ_in_grey():
    """New visits and operations share the production colour; style and marker keep them apart."""
    rows = [pd.DataFrame({"clinic": "a", "measure": m, "season": np.arange(1, 54), "factor": 1.0 + 0.01 * i})
            for i, m in enumerate(["referrals_in", "new_visits", "operations_elective"])]
    fig = plots.seasonal_profile(pd.concat(rows, ignore_index=True))
    looks = [_look(line) for line in fig.axes[0].get_lines()
             if line.get_label() and not line.get_label().startswith("_")]
    assert len(looks) == 3 and len(set(looks)) == 3, looks


def test_wait_histogram_hatches_the_bars_past_the_limit():
    bands = pd.DataFrame({"stage": ["new_visit"] * 4, "band": ["0-30", "31-60", "61-90", "91-180"],
                          "band_start_days": [0, 31, 61, 91], "patients": [10, 8, 6, 4]})
    fig = plots.wait_histogram(bands, limit_days=90, limit=0)  # no suppression: exact bars
    bars = [b for b in fig.axes[0].patches if b.get_height() > 0]
    hatched = [b.get_height() for b in bars if b.get_hatch()]
    assert hatched == [4]
    # the limit line is drawn dashed between the 61-90 and 91-180 bars
    limit = [line for line in fig.axes[0].get_lines() if line.get_linestyle() == "--"]
    assert len(limit) == 1 and limit[0].get_xdata()[0] == pytest.approx(2.5)


def test_year_over_year_years_differ_in_grey():
    yoy = pd.concat([pd.DataFrame({"year": y, "week": np.arange(1, 53), "value": 10.0 + y - 2024})
                     for y in (2024, 2025, 2026)], ignore_index=True)
    fig = plots.year_over_year(yoy, "referrals_in")
    looks = [(line.get_linestyle(), line.get_linewidth()) for line in fig.axes[0].get_lines()]
    assert len(set(looks)) == 3, looks


def test_year_over_year_axis_says_per_week_of_a_flow_and_patients_of_a_queue():
    yoy = pd.DataFrame({"year": 2026, "week": np.arange(1, 53), "value": 300.0})
    assert plots.year_over_year(yoy, "referrals_in").axes[0].get_ylabel() == "Remisser in per vecka"
    queue = plots.year_over_year(yoy, "queue_new_visit").axes[0].get_ylabel()
    assert queue.endswith("(patienter)") and "per vecka" not in queue, queue
    months = pd.DataFrame({"year": 2026, "month": np.arange(1, 13), "value": 30.0})
    assert plots.year_over_year(months, "new_visits").axes[0].get_ylabel().endswith("per månad")
    plt.close("all")


def test_stage_figures_draw_the_latest_years_per_stage():
    p = pd.period_range("2020-01-06", periods=300, freq="W-SUN")
    frame = pd.concat([pd.DataFrame({"period": p, "stage": s, "queue_production_ratio_weeks": 5.0 + i,
                                     "net_rolling": float(i)}) for i, s in enumerate(["new_visit", "treatment"])])
    fig = plots.ratio_trend(frame, guarantee_weeks=4.3, years=2)
    lines = [ln for ln in fig.axes[0].get_lines() if ln.get_linestyle() in ("-", "--") and len(ln.get_xdata()) > 2]
    assert [len(ln.get_xdata()) for ln in lines] == [104, 104]
    assert [ln.get_label() for ln in lines] == ["Väntar på nybesök", "Väntar på behandling"]
    fig2 = plots.balance_lines(frame, years=1)
    assert [len(ln.get_xdata()) for ln in fig2.axes[0].get_lines() if len(ln.get_xdata()) > 2] == [52, 52]


def test_wait_histogram_never_draws_a_small_count_exactly():
    # 3 patients over 90 days: drawn at the "<5" height, cross-hatched; and since the
    # stage total minus the bands within 90 days would give the 3 back, the largest band
    # within 90 days is drawn as a range (its exact height is never a bar top)
    bands = pd.DataFrame({"stage": ["new_visit"] * 4, "band": ["0-30", "31-60", "61-90", "91-180"],
                          "band_start_days": [0, 31, 61, 91], "patients": [10, 8, 6, 3]})
    fig = plots.wait_histogram(bands, limit_days=90, limit=5)
    ax = fig.axes[0]
    tops = sorted({round(b.get_y() + b.get_height(), 6) for b in ax.patches if b.get_height() > 0})
    assert 3 not in tops and 10 not in tops
    small = [b for b in ax.patches if b.get_hatch() == "xx" and b.get_y() == 0]
    assert [b.get_height() for b in small] == [5]
    assert any("färre än 5" in t.get_text() for t in ax.get_legend().get_texts())


def test_gap_heatmap_never_writes_minus_zero_and_labels_calendar_weeks():
    periods = pd.period_range("2026-11-30", periods=3, freq="W-SUN")
    gaps = pd.DataFrame({"clinic": ["Ögon"] * 3 + ["Uro"] * 3, "period_ahead": [1, 2, 3] * 2,
                         "period": [str(p) for p in periods] * 2,
                         "gap": [-0.3, 2.0, 400.0, 0.4, -7.6, 1.0]})
    fig = plots.gap_heatmap(gaps, order=["Uro", "Ögon"])
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert sorted(texts) == sorted(["0", "2", "400", "0", "−8", "1"])
    assert not any(t in ("-0", "−0") for t in texts)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["v. 49", "v. 50", "v. 51"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Uro", "Ögon"]
    # the colour scale follows the usual weeks: one outlier saturates instead of washing out the rest
    assert ax.collections[0].norm.vmax < 400


def test_ratio_trend_cuts_a_towering_week_and_writes_its_value():
    p = pd.period_range("2024-01-01", periods=150, freq="W-SUN")
    values = np.full(150, 8.0)
    values[100] = 60.0
    frame = pd.DataFrame({"period": p, "stage": "new_visit", "queue_production_ratio_weeks": values})
    fig = plots.ratio_trend(frame, guarantee_weeks=90 / 7)
    ax = fig.axes[0]
    assert ax.get_ylim()[1] < 60
    assert any("60" in t.get_text() for t in ax.texts)
    assert any("90 dagars produktion" in t.get_text() for t in ax.texts)
    assert ax.get_legend() is None and fig.legends  # the legend above the plot, not over the data


def test_every_figure_has_an_alt_text_with_its_numbers():
    yoy = pd.concat([pd.DataFrame({"year": y, "week": np.arange(1, 53), "value": 10.0 + y - 2024})
                     for y in (2024, 2025, 2026)], ignore_index=True)
    alt = plots.alt_year_over_year(yoy, "referrals_in")
    assert alt.startswith("Linjediagram: remisser in per vecka") and "12" in alt and "2025: 11" in alt
    html = plots.figure_html(plots.year_over_year(yoy, "referrals_in"), alt)
    assert html.startswith('<figure class="kps-figure"><img src="data:image/svg+xml;base64,') and "alt=\"Linje" in html


def _report_figures():
    """The report's figure kinds as the clinic report draws them (this module's own layout)."""
    yoy = pd.concat([pd.DataFrame({"year": y, "week": np.arange(1, 53), "value": 1000.0 + 40 * y - 80_000})
                     for y in (2024, 2025, 2026)], ignore_index=True)
    p = pd.period_range("2023-01-02", periods=200, freq="W-SUN")
    frame = pd.concat([pd.DataFrame({"period": p, "stage": s, "queue_production_ratio_weeks": 5.0 + i,
                                     "net_rolling": 1234.5 * (i - 0.5)})
                       for i, s in enumerate(["new_visit", "treatment"])])
    plan = pd.concat([pd.DataFrame({"stage": s, "period_ahead": np.arange(1, 53),
                                    "period": pd.period_range("2026-11-30", periods=52, freq="W-SUN"),
                                    "capacity": 12_000.0, "own_production": 12_000.0, "purchase": 50.0 * i,
                                    "inflow": 12_500.0, "breaches_if_nothing_bought": 20_000.0,
                                    "breaches_after_purchase": 19_000.0, "within_lead_time": np.arange(52) < 4})
                      for i, s in enumerate(["new_visit", "treatment"])], ignore_index=True)
    return {"year_over_year": plots.year_over_year(yoy, "referrals_in"),
            "ratio_trend": plots.ratio_trend(frame, guarantee_weeks=12.9),
            "balance_lines": plots.balance_lines(frame),
            "plan_breaches": plots.plan_breaches(plan),
            "plan_capacity": plots.plan_capacity(plan)}


def test_report_figures_are_laid_out_once_and_nothing_overlaps_or_leaves_the_figure(monkeypatch):
    """The module's figures are laid out with fixed margins, measuring no text (no
    ``tight_layout``); drawn, every text lies inside the figure, the legend above the axes'
    titles and tick labels, and a stage panel's tick labels clear of the other panel."""
    from matplotlib.figure import Figure

    def refuse(*args, **kwargs):
        raise AssertionError("tight_layout called on a figure of the module")

    monkeypatch.setattr(Figure, "tight_layout", refuse)
    with plt.rc_context():
        plots.use_style()                           # the report's style: its sizes and fonts
        for name, fig in _report_figures().items():
            fig.canvas.draw()
            renderer = fig.canvas.get_renderer()
            width, height = fig.get_size_inches()
            drawn = fig.get_tightbbox(renderer)     # everything drawn [inches]
            assert drawn.x0 >= 0 and drawn.y0 >= 0 and drawn.x1 <= width and drawn.y1 <= height, (name, drawn)
            axes_boxes = [ax.get_tightbbox(renderer) for ax in fig.axes]   # with titles and tick labels
            for legend in fig.legends + [ax.get_legend() for ax in fig.axes if ax.get_legend()]:
                box = legend.get_window_extent(renderer)
                assert legend in fig.legends or box.y0 >= fig.axes[0].get_window_extent().y1, name
                if legend in fig.legends:
                    for ax_box in axes_boxes:
                        assert box.y0 >= ax_box.y1 - 1, (name, box, ax_box)   # above the axes and their titles
            for left, right in zip(axes_boxes, axes_boxes[1:]):
                assert left.x1 <= right.x0, (name, left, right)   # panels side by side, not over each other


def test_titles_are_placed_where_matplotlibs_own_search_would_place_them(monkeypatch):
    """plots._title sets the title at the top of the axes instead of letting matplotlib search
    for tick labels above them at every draw: every titled figure of the report gives the same
    SVG bytes as with matplotlib's own placement."""
    titled = {"year_over_year", "plan_breaches", "plan_capacity"}
    with plt.rc_context():
        plots.use_style()
        ours = {name: plots.svg_bytes(fig) for name, fig in _report_figures().items() if name in titled}
        monkeypatch.setattr(plots, "_title", lambda ax, text: ax.set_title(text))
        figures = {name: fig for name, fig in _report_figures().items() if name in titled}
        assert all(ax._autotitlepos for fig in figures.values() for ax in fig.axes if ax.get_title())
        theirs = {name: plots.svg_bytes(fig) for name, fig in figures.items()}
    assert ours.keys() == titled
    for name in titled:
        assert ours[name] == theirs[name], name


def test_svg_figures_are_drawn_at_their_size_as_text_the_same_every_time_and_never_cut():
    import re

    def figure():
        return plots.year_over_year(pd.DataFrame({"year": 2026, "week": np.arange(1, 53), "value": 10.0}),
                                    "referrals_in")

    def size(svg):
        m = re.search(rb'<svg [^>]*width="([\d.]+)pt" height="([\d.]+)pt"', svg)
        return float(m.group(1)), float(m.group(2))

    fig = figure()
    inches = fig.get_size_inches()
    svg = plots.svg_bytes(fig)
    assert size(svg) == pytest.approx(tuple(inches * 72))          # laid out once, at its own size
    assert b">Remisser in</text>" in svg and b"<image" not in svg    # texts as text, no pixels
    assert plots.svg_bytes(figure()) == svg                          # the same bytes in every run
    assert not plt.get_fignums()                                     # closed
    # a y tick label wider than the margins' five digits: saved with the tight box, not cut
    fig = plots.year_over_year(pd.DataFrame({"year": 2026, "week": np.arange(1, 53), "value": 250_000.0}),
                               "referrals_in")
    assert size(plots.svg_bytes(fig))[0] != pytest.approx(inches[0] * 72)
    # a figure not laid out here (its text running over the right edge) is saved with the tight box
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1], [0, 1])
    fig.text(0.8, 0.5, "a label running over the right edge")
    assert size(plots.svg_bytes(fig))[0] > 4 * 72


def test_plan_breaches_counts_whole_patients_even_when_nobody_breaches():
    """Patients past the guarantee are whole: no 0.01 ticks on a stage where nobody breaches."""
    plan = pd.DataFrame({"stage": "new_visit", "period_ahead": np.arange(1, 13),
                         "period": pd.period_range("2026-11-30", periods=12, freq="W-SUN"),
                         "breaches_if_nothing_bought": 0.0, "breaches_after_purchase": 0.0,
                         "within_lead_time": np.arange(12) < 4})
    fig = plots.plan_breaches(plan)
    fig.canvas.draw()
    ax = fig.axes[0]
    ticks = [t for t in ax.get_yticks() if ax.get_ylim()[0] <= t <= ax.get_ylim()[1]]
    # 0 to 1 patient, and the lead time's name above it (the plan has a lead time)
    assert ax.get_ylim()[0] == 0.0 and 1.0 <= ax.get_ylim()[1] <= 1.15, ax.get_ylim()
    assert ticks and all(float(t).is_integer() for t in ticks), ticks


def test_a_monthly_clinics_gap_is_drawn_in_months_not_under_weeks():
    """The region's heat-map drew a monthly clinic's months under calendar weeks ("v. 53, v. 1"):
    months now get their own map, labelled by month."""
    import matplotlib.pyplot as plt

    gaps = pd.DataFrame({"clinic": "ÖNH", "period_ahead": [1, 2, 3], "period": ["2026-12", "2027-01", "2027-02"],
                         "gap": [-8.0, -16.0, 5.0]})
    fig = plots.gap_heatmap(gaps, weeks=3)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["dec 2026", "jan 2027", "feb 2027"]
    assert ax.get_xlabel() == "Månad"
    plt.close(fig)


def _ticks(ax, axis="y"):
    return [t.get_text() for t in (ax.get_yticklabels() if axis == "y" else ax.get_xticklabels()) if t.get_text()]


def test_number_axes_read_the_swedish_way_and_english_stays_english():
    profile = pd.DataFrame({"measure": "referrals_in", "season": np.arange(1, 53),
                            "factor": 1.0 + 0.5 * np.sin(np.arange(52) / 8)})
    sv = plots.seasonal_profile(profile)
    plots.svg_bytes(sv)
    assert any("," in t for t in _ticks(sv.axes[0])) and not any("." in t for t in _ticks(sv.axes[0]))
    en = plots.seasonal_profile(profile, language="en")
    plots.svg_bytes(en)
    assert any("." in t for t in _ticks(en.axes[0])) and not any("," in t for t in _ticks(en.axes[0]))
    # thousands spaced (a non-breaking space, as in the tables), a real minus sign
    yoy = pd.DataFrame({"year": 2026, "week": np.arange(1, 53), "value": np.linspace(-2000.0, 14000.0, 52)})
    big = plots.year_over_year(yoy, "queue_new_visit")
    plots.svg_bytes(big)
    labels = _ticks(big.axes[0])
    assert "10\u00a0000" in labels, labels
    fig, ax = plots._axes(None, "sv")
    ax.plot([0, 1], [-2.5, 2.5])
    plots.svg_bytes(fig)
    assert "\u22122" in _ticks(ax) and "0" in _ticks(ax), _ticks(ax)
    # calendar-week labels and the heat map's numbers stay as they were drawn
    assert _ticks(big.axes[0], "x")[0].startswith("v. 1")
    plt.close("all")


def test_a_stage_the_clinic_does_not_have_is_not_drawn_in_the_balance():
    weeks = pd.period_range("2025-01-06", periods=60, freq="W-SUN")
    flow = pd.concat([pd.DataFrame({"period": weeks, "stage": "new_visit", "inflow": 50.0, "outflow": 48.0,
                                    "queue": 300.0, "net_rolling": 2.0}),
                      pd.DataFrame({"period": weeks, "stage": "treatment", "inflow": 0.0, "outflow": 0.0,
                                    "queue": 0.0, "net_rolling": 0.0})], ignore_index=True)
    fig = plots.balance_lines(flow)
    assert len([line for line in fig.axes[0].get_lines() if not line.get_label().startswith("_")]) == 1
    alt = plots.alt_balance(flow)
    assert "behandling" not in alt.lower(), alt
    plt.close("all")
