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
    assert html.startswith('<figure class="kps-figure"><img src="data:image/png;base64,') and "alt=\"Linje" in html
