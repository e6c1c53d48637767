"""The standard figures of the reports (seaborn/matplotlib).

One colour for inflow, one for production, one for the queue, the guarantee limit
always drawn the same way; line styles differ as well as colours, so the figures stay
readable when printed in grey. Functions take tidy frames produced by the analysis
modules and return a matplotlib ``Figure``; they compute nothing themselves.
"""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import ScalarFormatter

from .report import label
from .report.formatting import MONTH_LABEL
from .report.labels import MONTH_NAMES, TEXTS, month_name
from .waits import renamed_keyword

__all__ = ["COLOURS", "LINESTYLES", "use_style", "year_over_year", "wait_histogram", "weekly_lines"]

#: Colour per role, colour-blind safe (Okabe-Ito) and distinct in grey.
COLOURS = {
    "inflow": "#0072B2",      # blue
    "production": "#E69F00",  # orange
    "queue": "#000000",       # black (inflow blue is 0.34 grey, production orange 0.64)
    "purchase": "#CC79A7",    # purple
    "capacity": "#009E73",    # green
    "need": "#D55E00",        # vermillion
    "limit": "#C00000",       # the guarantee limit
}
LINESTYLES = {"inflow": "-", "production": "--", "queue": "-", "capacity": "-.", "need": ":"}

#: Which role a canonical measure plays.
ROLE = {
    "referrals_in": "inflow", "treatment_decisions": "inflow",
    "new_visits": "production", "operations_elective": "production", "return_visits": "production",
    "queue_new_visit": "queue", "queue_treatment": "queue",
    "waiting_over_90_new_visit": "queue", "waiting_over_90_treatment": "queue",
    "purchased_new_visits": "purchase", "purchased_operations": "purchase",
}

#: The Swedish month names (the catalogue's :data:`kps_analysis.report.labels.MONTH_NAMES`).
SV_MONTHS = list(MONTH_NAMES["sv"])


def _per_period(text: str, kind: str, language: str = "sv") -> str:
    """``"Remisser in per vecka"`` / ``"... per månad"``: a y-axis label with its time base."""
    from .report import period_word

    return f"{text} per {period_word('month' if kind == 'month' else 'week', language)}"


def _week_of_year_axis(ax, language: str = "sv") -> None:
    """An ISO week-of-year axis (1-53) labelled with calendar weeks and their months."""
    ticks = [1, 9, 14, 22, 27, 32, 40, 48]
    # the month of each tick week in a typical year, so the reader knows when it is
    months = [pd.Timestamp.fromisocalendar(2026, w, 4).month for w in ticks]  # the week's Thursday
    word = label("format.wk", language)
    ax.set_xticks(ticks, [f"{word} {w}\n{month_name(m, language)}" for w, m in zip(ticks, months)])
    ax.set_xlabel(label("plot.calendar_week_iso", language))


def _title(ax, text: str) -> None:
    """The axes' title, at the top of the axes (where matplotlib puts it when no tick label or
    axis label is above them, as in every figure of this module).

    Left to itself, matplotlib looks at drawing time for tick labels above the axes to move
    the title over them: it computes the y axis' tick labels' extents once more for each
    titled axes (in the report's figures about a tenth of their drawing). Placed here, the
    title is where that search would leave it: the same SVG, byte for byte (compared on the
    demo's reports).
    """
    ax.set_title(text, y=1.0)


def _axes(ax, language: str = "sv"):
    """The figure and axes to draw on: a new figure unless ``ax`` is given (a new one is
    laid out by :func:`_layout`, a given one by ``tight_layout``). The figure keeps the
    report's language for its tick labels (:func:`_local_numbers`)."""
    if ax is None:
        fig, ax = plt.subplots()
        fig._kps_layout = True
    fig = ax.figure
    fig._kps_language = language
    return fig, ax


class _SwedishNumbers(ScalarFormatter):
    """Matplotlib's tick labels of a number axis the Swedish way: ``0,5``, ``1 000``, ``−2,5``.

    The ticks' decimals are matplotlib's (the same for every tick of the axis); only the
    decimal sign, the thousands separator (a non-breaking space) and the minus sign are
    the report's (:func:`kps_analysis.report.format_count`).
    """

    def __call__(self, x, pos=None):
        from .report import format_count

        text = super().__call__(x, pos)
        if not text or self.get_offset():   # scaled or offset ticks: the decimal sign only
            return text.replace(".", ",")
        decimals = len(text.rsplit(".", 1)[1]) if "." in text else 0
        return format_count(float(x), decimals=decimals)   # its minus sign, never "−0"


def _local_numbers(fig) -> None:
    """The tick labels of the figure's number axes in its report's language (Swedish: decimal
    comma and spaced thousands, as every number of the report's text and tables); date,
    category and labelled axes keep theirs. A figure not made here is left as it is."""
    if getattr(fig, "_kps_language", None) != "sv":
        return
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if type(axis.get_major_formatter()) is ScalarFormatter:
                axis.set_major_formatter(_SwedishNumbers())


#: The margins of a figure this module makes [inches]: room for the y tick labels (five
#: digits) and the y-axis label at the left, for two lines of x tick labels
#: (calendar week and month) and the x-axis label at the bottom, for the last x tick label
#: at the right, between stage panels for the right panel's tick labels; one row of a
#: legend and an axes title. A figure whose texts may be wider (:func:`_may_reach_over`) is
#: saved through ``savefig(bbox_inches="tight")``, so a wider label never gets cut.
LAYOUT_INCHES = {"left": 0.95, "right": 0.3, "bottom": 0.8, "top": 0.1, "gap": 0.8,
                 "legend_row": 0.25, "title": 0.35}


def _layout(fig, *, legend_rows: int = 0, title: bool = False, rect=None) -> None:
    """Lay out a figure of this module with the fixed margins of :data:`LAYOUT_INCHES`.

    ``legend_rows`` rows of a legend above the axes [rows], ``title``: the axes carry a
    title. Unlike ``tight_layout`` this measures no text, so the figure is laid out once,
    when it is drawn (``tight_layout`` measured every tick label of every axes, twice with
    a ``rect``, before the draw measured them again). A figure not made here (``ax`` given
    by the caller) gets ``tight_layout`` within ``rect`` (figure fractions; default all).
    """
    if not getattr(fig, "_kps_layout", False):
        fig.tight_layout(rect=rect)
        return
    m = LAYOUT_INCHES
    width, height = fig.get_size_inches()
    top = m["top"] + legend_rows * m["legend_row"] + (m["title"] if title else 0.0)
    panels = max(1, len(fig.axes))
    inner = width - m["left"] - m["right"]
    panel = (inner - (panels - 1) * m["gap"]) / panels
    fig.subplots_adjust(left=m["left"] / width, right=1 - m["right"] / width, bottom=m["bottom"] / height,
                        top=1 - top / height, wspace=m["gap"] / panel if panels > 1 else None)


def month_label(date, language: str = "sv") -> str:
    """A month on a date axis as a reader says it: ``"jan 2025"`` (Swedish) or ``"Jan 2025"``.

    Examples
    --------
    >>> month_label(pd.Timestamp("2025-05-12")), month_label(pd.Timestamp("2025-05-12"), "en")
    ('maj 2025', 'May 2025')
    """
    date = pd.Timestamp(date)
    name = month_name(date.month, language)
    return f"{name} {date.year}"


def _date_axis(ax, language: str = "sv") -> None:
    """Month ticks on a date x-axis labelled in the report's language (at most ~8 ticks)."""
    import matplotlib.dates as mdates
    from matplotlib.ticker import FuncFormatter

    lo, hi = ax.get_xlim()
    months = max(1, (hi - lo) / 30.4)
    step = next(k for k in (1, 2, 3, 4, 6, 12, 24) if months / k <= 8)
    ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=range(1, 13, step) if step < 12 else [1]))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: month_label(mdates.num2date(v), language)))


def use_style() -> None:
    """Set the common seaborn style for report figures (white grid, readable fonts)."""
    sns.set_theme(style="whitegrid", context="notebook", font_scale=0.95)
    plt.rcParams.update({"figure.dpi": 96, "savefig.dpi": 96, "figure.figsize": (10, 3.6)})


def year_over_year(yoy: pd.DataFrame, measure: str, *, language: str = "sv", ax=None):
    """Draw one line per ISO year over ISO week 1-53 (from :func:`seasonal.year_over_year`).

    The latest year is drawn thick in the measure's role colour, earlier years thinner,
    lighter and dashed/dotted, so the years can be told apart in grey print. The y axis of a
    flow reads "per vecka" / "per månad" [patients per period], of a queue "(patienter)" [patients
    at the period's end].
    """
    role = ROLE.get(measure, "queue")
    fig, ax = _axes(ax, language)
    years = sorted(yoy["year"].unique())
    x = "week" if "week" in yoy.columns and yoy["week"].notna().any() else "month"
    # earlier years: dark and mid grey, dashed and dotted with markers, so that each year is
    # told apart on a grey print by its line as well as its shade
    earlier = [("#333333", ":", "s"), ("#777777", "--", "o")]
    for i, year in enumerate(years):
        part = yoy[yoy["year"] == year]
        latest = year == years[-1]
        colour, style, marker = (COLOURS[role], "-", None) if latest else earlier[(len(years) - 1 - i) % 2 - 1]
        ax.plot(part[x], part["value"], color=colour, linewidth=2.6 if latest else 1.4, linestyle=style,
                marker=marker, markersize=3, markevery=4 if x == "week" else 1, label=str(year))
    if x == "week":
        ax.set_xlim(1, 53)
        _week_of_year_axis(ax, language)
        ax.axvspan(27, 32, color="#999999", alpha=0.12, linewidth=0)
    else:
        ax.set_xlim(1, 12)
        ax.set_xticks(range(1, 13), [month_name(m, language) for m in range(1, 13)])
        ax.set_xlabel(label("month", language))
    # a queue is a count at the period's end (patients), a flow a count per period
    ax.set_ylabel(f"{label(measure, language)} ({label('section.unit_patients', language)})" if role == "queue"
                  else _per_period(label(measure, language), x, language))
    _title(ax, label(measure, language))
    ax.set_ylim(bottom=0)
    _legend_above(fig, ax, ncol=len(years), title=label("year", language))
    return fig


def weekly_lines(frame: pd.DataFrame, measures: list[str], *, language: str = "sv", ax=None,
                 title: str | None = None):
    """Draw several weekly measures of one clinic over time (x = week start date)."""
    fig, ax = _axes(ax, language)
    x = frame["period"].dt.start_time
    for m in measures:
        role = ROLE.get(m, "queue")
        ax.plot(x, frame[m], color=COLOURS[role], linestyle=LINESTYLES.get(role, "-"), label=label(m, language))
    _date_axis(ax, language)
    ax.legend(frameon=False, loc="best")
    if title:
        _title(ax, title)
    fig.tight_layout()
    return fig


@renamed_keyword("limit_days", "guarantee_days")
def wait_histogram(bands: pd.DataFrame, *, guarantee_days: int = 90, language: str = "sv", ax=None,
                   limit: int = 5, shown=None):
    """Bars of patients per waiting-time band (one colour per stage), the limit marked.

    ``bands`` is :func:`kps_analysis.waits.wait_distribution` output: ``band`` (label),
    ``band_start_days`` [days], ``patients`` and optionally ``stage``. The guarantee
    limit is the red dashed line drawn before the first band that starts beyond it, and
    the bars beyond it are hatched.

    Small counts follow the report's suppression rule (:func:`kps_analysis.report.protect_counts`,
    the clinic's ``shown`` snapshot, or the bands' own when not given): a band of 1 to
    ``limit - 1`` patients is drawn at the height ``limit``, cross-hatched and pale,
    whatever its count, and a band widened by complementary suppression is drawn up to the
    top of its range with the range cross-hatched; the legend says so. ``limit=0`` draws
    exact bars.
    """
    from .report import protect_snapshot

    fig, ax = _axes(ax, language)
    data = bands.copy()
    if "stage" not in data.columns:
        data["stage"] = "new_visit"
        single = True
    else:
        single = False
    if shown is None:
        shown = protect_snapshot(data.assign(wait_days=data["band_start_days"], patient_chosen_wait=False),
                                 guarantee_days=guarantee_days, limit=limit)
    order = list(dict.fromkeys(data["band"]))
    stages = list(dict.fromkeys(data["stage"]))
    width = 0.8 / len(stages)
    starts = data.drop_duplicates("band").set_index("band")["band_start_days"].reindex(order).to_numpy()
    over = np.flatnonzero(starts > guarantee_days)
    small_label = label("plot.small_counts", language, limit=limit)
    range_label = label("plot.protected_range", language)
    used = set()
    for i, stage in enumerate(stages):
        part = data[data["stage"] == stage].set_index("band").reindex(order)
        colour = COLOURS["queue"] if single else [COLOURS["inflow"], COLOURS["production"]][i % 2]
        x = np.arange(len(order)) + (i - (len(stages) - 1) / 2) * width
        name = stage_label(stage, language)
        for j, _band in enumerate(order):
            value = float(part["patients"].iloc[j]) if pd.notna(part["patients"].iloc[j]) else 0.0
            cell = f"band:{stage}:{int(starts[j])}"
            lo, hi = shown.get(cell, (value, value))
            past = len(over) and j >= over[0]
            if cell in shown.suppressed:
                ax.bar(x[j], limit, width, color=colour, alpha=0.35, hatch="xx", edgecolor=colour, linewidth=0,
                       label=None if "small" in used else small_label)
                used.add("small")
                continue
            ax.bar(x[j], lo, width, color=colour, label=None if (name in used or single) else name,
                   hatch="///" if past and lo > 0 else None, edgecolor=COLOURS["limit"] if past else None)
            used.add(name)
            if hi > lo:
                ax.bar(x[j], hi - lo, width, bottom=lo, color=colour, alpha=0.35, hatch="xx", edgecolor=colour,
                       linewidth=0, label=None if "range" in used else range_label)
                used.add("range")
    ax.set_xticks(np.arange(len(order)), order)
    if len(over):
        draw_limit(ax, over[0] - 0.5, language=language, guarantee_days=guarantee_days, axis="x")
    ax.set_ylabel(label("plot.patients", language))
    ax.set_xlabel(label("plot.waiting_days", language))
    handles = ax.get_legend_handles_labels()[0]
    if handles:  # above the bars, never over them
        ax.legend(frameon=False, title=None, loc="lower left", bbox_to_anchor=(0, 1.01), ncol=3, fontsize=8)
    _layout(fig, legend_rows=-(-len(handles) // 3))
    return fig


def stage_label(stage: str, language: str = "sv") -> str:
    """A stage as the figures name it (``plot.stage_<stage>`` of the catalogue); another stage as it is.

    Examples
    --------
    >>> stage_label("new_visit"), stage_label("treatment", "en"), stage_label("other")
    ('Väntar på nybesök', 'Waiting for treatment', 'other')
    """
    key = f"plot.stage_{stage}"
    return label(key, language) if key in TEXTS else stage


def draw_limit(ax, position: float, *, language: str = "sv", guarantee_days: int = 90, axis: str = "y") -> None:
    """Draw the care-guarantee limit the same way in every figure: a red dashed line."""
    text = label("plot.guarantee_limit", language, days=guarantee_days)
    if axis == "x":
        ax.axvline(position, color=COLOURS["limit"], linestyle="--", linewidth=1.5)
        ax.text(position, ax.get_ylim()[1] * 0.95, " " + text, color=COLOURS["limit"], va="top", fontsize=9)
    else:
        ax.axhline(position, color=COLOURS["limit"], linestyle="--", linewidth=1.5)
        ax.text(ax.get_xlim()[0], position, text, color=COLOURS["limit"], va="bottom", fontsize=9)


def _stage_lines(ax, frame: pd.DataFrame, value: str, *, years: int, language: str) -> pd.DataFrame:
    """One line per stage over the latest ``years`` (first stage solid, second dashed);
    returns the rows drawn."""
    recent = frame[frame["period"] > frame["period"].max() - 52 * years]
    for i, (stage, part) in enumerate(recent.groupby("stage", sort=False)):
        ax.plot(part["period"].dt.start_time, part[value],
                color=[COLOURS["inflow"], COLOURS["production"]][i % 2], linestyle=["-", "--"][i % 2],
                linewidth=[2.0, 1.6][i % 2], label=stage_label(stage, language))
    return recent


def ratio_trend(ratios: pd.DataFrame, *, guarantee_weeks: float | None = None, language: str = "sv",
                years: int = 3, ax=None, guarantee_days: float = 90, kind: str = "week"):
    """Köproduktionskvot over time per stage, with the guarantee limit in periods of production.

    ``ratios`` has ``period``, ``stage`` and ``queue_production_ratio_weeks`` (one clinic,
    in the data's periods). ``guarantee_weeks`` [periods] is drawn as the red dashed line:
    the queue that equals ``guarantee_days`` of production (90 days = 12.9 weeks). Above
    it even a patient served strictly in turn waits longer than the guarantee (Little's
    law); below it patients may still breach (priorities, uneven flows): whether care
    must be bought is the planning model's answer, not this line's. A single period that
    towers over the rest (a summer week with almost no production) is cut at the top
    and annotated, so that it does not flatten the chart.
    """
    from .report import period_word

    fig, ax = _axes(ax, language)
    if ratios.empty:
        ax.text(0.5, 0.5, label("plot.no_data", language), ha="center", transform=ax.transAxes)
        return fig
    recent = _stage_lines(ax, ratios, "queue_production_ratio_weeks", years=years, language=language)
    if guarantee_weeks is not None:
        ax.axhline(guarantee_weeks, color=COLOURS["limit"], linestyle="--", linewidth=1.5)
        days = f"{guarantee_days:g}"
        text = label("plot.ratio_limit", language, days=days)
        ax.text(0.01, guarantee_weeks, text, color=COLOURS["limit"], va="bottom", ha="left", fontsize=8,
                transform=ax.get_yaxis_transform(),
                bbox={"boxstyle": "square,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85})
    values = recent["queue_production_ratio_weeks"].to_numpy(float)
    ax.set_ylim(bottom=0)
    _clip_outliers(ax, values, recent["period"].dt.start_time.to_numpy(), language=language,
                   floor=1.15 * (guarantee_weeks or 0))
    _date_axis(ax, language)
    words = period_word(kind, language, plural=True)
    ax.set_ylabel(label("plot.ratio_axis", language, periods=words.capitalize()))
    _legend_above(fig, ax)
    return fig


def seasonal_profile(profile: pd.DataFrame, *, language: str = "sv", ax=None, kind: str = "week"):
    """Seasonal factors per ISO week (or month), one line per measure; 1 = an average period."""
    fig, ax = _axes(ax, language)
    # two measures may share a role (new visits and operations are both production):
    # each line gets its own line style and marker so they differ in grey print too
    for i, (measure, part) in enumerate(profile.groupby("measure", sort=False)):
        role = ROLE.get(measure, "queue")
        ax.plot(part["season"], part["factor"], color=COLOURS[role], linestyle=["-", "--", ":", "-."][i % 4],
                marker="osv^"[i % 4], markersize=3, label=label(measure, language))
    ax.axhline(1.0, color="#777777", linewidth=0.8)
    if kind == "month" or (len(profile) and profile["season"].max() <= 12):
        ax.set_xticks(range(1, 13), [month_name(m, language) for m in range(1, 13)])
        ax.set_xlabel(label("month", language))
        ax.set_xlim(1, 12)
    else:
        ax.axvspan(27, 32, color="#999999", alpha=0.12, linewidth=0)
        ax.set_xlim(1, max(52, int(profile["season"].max())) if len(profile) else 53)
        _week_of_year_axis(ax, language)
    ax.set_ylabel(label("plot.seasonal_factor", language))
    _legend_above(fig, ax)
    return fig


def _active_stages(flow: pd.DataFrame) -> pd.DataFrame:
    """The rows of the stages a clinic has: a stage whose inflow, outflow and queue are all 0 or
    missing (a dermatology clinic reporting zeros for operations) is left out."""
    cols = [c for c in ("inflow", "outflow", "queue") if c in flow.columns]
    if flow.empty or not cols or "stage" not in flow.columns:
        return flow
    used = flow[cols].fillna(0.0).abs().sum(axis=1).groupby(flow["stage"]).transform("sum") > 0
    return flow[used.to_numpy()]


def balance_lines(balance: pd.DataFrame, *, language: str = "sv", years: int = 2, ax=None, kind: str = "week"):
    """Net inflow (in − out) per stage, trailing mean, over the latest years; above 0 the queue grows.
    A stage the clinic does not have (all its flows and queue 0) is not drawn."""
    fig, ax = _axes(ax, language)
    _stage_lines(ax, _active_stages(balance), "net_rolling", years=years, language=language)
    ax.axhline(0.0, color="#333333", linewidth=1)
    _date_axis(ax, language)
    ax.set_ylabel(_per_period(label("plot.net_inflow", language), kind, language))
    _legend_above(fig, ax)
    return fig


def show(fig, alt: str | None = None) -> None:
    """Display a figure at this point of a notebook's output and close it.

    Without this, Jupyter's inline backend draws open figures after everything else
    the cell displays, so a section's figure would come after its tables. With ``alt``
    (what the figure shows, in words) the figure is an inline SVG ``<img>`` carrying that
    alt text (:func:`figure_html`), for screen readers and for the rendered report.
    """
    from IPython.display import HTML, display

    if alt is None:
        display(fig)
        plt.close(fig)
        return
    display(HTML(figure_html(fig, alt)))


def figure_html(fig, alt: str) -> str:
    """A figure as an inline SVG ``<img>`` with its alt text; the figure is closed.

    The SVG (:func:`svg_bytes`) is embedded (base64), so the page needs nothing from
    elsewhere; drawn as vectors, the figure is sharp at any zoom and on paper.

    Examples
    --------
    >>> fig, ax = plt.subplots()
    >>> figure_html(fig, "Tom figur <test>").count('alt="Tom figur &#60;test&#62;"')
    1
    """
    import base64

    from .report import escape_text

    data = base64.b64encode(svg_bytes(fig)).decode("ascii")
    return (f'<figure class="kps-figure"><img src="data:image/svg+xml;base64,{data}" alt="{escape_text(alt)}">'
            f"</figure>")


#: How the report's SVG figures are written: texts as SVG text (the reader's sans-serif font
#: draws them, small and searchable; the font list is the style's, Arial first) rather than
#: glyph outlines (twice the size, 40 % slower); element ids from a fixed salt, so the same
#: figure gives the same bytes in every run.
SVG_RC = {"svg.fonttype": "none", "svg.hashsalt": "kps-analysis"}


def _may_reach_over(fig) -> bool:
    """Whether a drawn figure laid out by :func:`_layout` may have texts beyond its canvas.

    Its fixed margins hold texts of known extent (week labels, stage names, years, tick
    labels of up to five digits: :data:`LAYOUT_INCHES`); only a y tick label longer than
    that can reach over its left edge.
    """
    for ax in fig.axes:
        for tick in ax.get_yticklabels():
            if len(re.sub(r"[ \u00a0\u2009]", "", tick.get_text()).replace("\u2212", "-")) > 5:
                return True
    return False


def svg_bytes(fig) -> bytes:
    """The figure as SVG bytes, drawn once; the figure is closed.

    A figure of this module is laid out with fixed margins (:func:`_layout`), so it is
    drawn once, at its own size; one whose texts may reach beyond its canvas
    (:func:`_may_reach_over`: a second layout pass), or one not laid out here
    (``tight_layout``, or an ``ax`` the caller gave), is saved with ``bbox_inches="tight"``,
    so no label is ever cut. Against an inline PNG (the report's earlier figures:
    drawn on an Agg canvas, cropped and compressed) this takes about 60 % of the time and
    a third of the bytes, and prints sharp.

    Examples
    --------
    >>> fig, ax = plt.subplots(figsize=(4, 3))
    >>> _ = ax.plot([0, 1], [0, 1])
    >>> svg_bytes(fig).lstrip().startswith(b"<?xml")
    True
    """
    import io

    plt.close(fig)
    _local_numbers(fig)
    with plt.rc_context(SVG_RC):
        buf = io.BytesIO()
        fixed = getattr(fig, "_kps_layout", False)
        if fixed:
            fig.savefig(buf, format="svg", bbox_inches=None, metadata={"Date": None})
        if not fixed or _may_reach_over(fig):   # its tick labels are known once it is drawn
            buf = io.BytesIO()
            fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    return buf.getvalue()


def region_ratios(summaries: pd.DataFrame, *, guarantee_weeks: float | None = None, language: str = "sv", ax=None,
                  guarantee_days: float = 90):
    """Köproduktionskvot per clinic (horizontal bars, in the order given, first on top).

    ``guarantee_weeks`` [weeks] is drawn as the red dashed line of ``guarantee_days`` of
    production: a clinic beyond it keeps nobody within the guarantee even served in turn.
    Bars of clinics that must buy care (``purchase_need_12w`` > 0) are dark and hatched,
    the others light, so the planning model's answer is read off the chart in grey too.
    """
    data = summaries.iloc[::-1]
    if ax is None:
        fig, ax = plt.subplots(figsize=(10, 0.4 * len(data) + 1.6))
    else:
        fig = ax.figure
    fig._kps_language = language
    buys = (data["purchase_need_12w"] > 0).to_numpy() if "purchase_need_12w" in data else np.zeros(len(data), bool)
    ax.barh(data["clinic"].astype(str), data["queue_production_ratio_weeks"],
            color=np.where(buys, "#444444", "#BBBBBB"), hatch=None, edgecolor="#222222", linewidth=0.5)
    for bar, b in zip(ax.patches, buys):
        if b:
            bar.set_hatch("//")
    if guarantee_weeks is not None:
        ax.axvline(guarantee_weeks, color=COLOURS["limit"], linestyle="--", linewidth=1.5)
        # named just above the frame, clear of its top line and of the first bar
        ax.annotate(label("plot.days_of_production", language, days=f"{guarantee_days:g}"),
                    xy=(guarantee_weeks, 1.0), xycoords=("data", "axes fraction"), xytext=(3, 3),
                    textcoords="offset points", color=COLOURS["limit"], fontsize=8, va="bottom", ha="left")
    from matplotlib.patches import Patch

    handles = [Patch(facecolor="#444444", hatch="//", edgecolor="#222222",
                     label=label("plot.buys_care", language)),
               Patch(facecolor="#BBBBBB", edgecolor="#222222", label=label("plot.no_purchase", language))]
    ax.set_xlabel(label("queue_production_ratio_weeks", language))
    ax.set_xlim(0, max(float(np.nanmax(data["queue_production_ratio_weeks"])) if len(data) else 1,
                       guarantee_weeks or 0) * 1.15)
    fig.legend(handles=handles, loc="upper center", ncol=2, frameon=False, fontsize=8, bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout(rect=(0, 0, 1, 0.9))
    return fig


def fan_chart(history: pd.DataFrame, forecast: pd.DataFrame, *, measure: str, language: str = "sv",
              years: int = 2, ax=None):
    """Fan chart: the latest ``years`` of history and the forecast with its intervals.

    ``forecast`` is :func:`kps_analysis.forecast.forecast_demand` output for one clinic;
    the widest interval is drawn lightest. The history is summed over groups.
    """
    fig, ax = _axes(ax, language)
    hist = history.groupby("period", as_index=False)[measure].sum(min_count=1)
    hist = hist[hist["period"] > hist["period"].max() - 52 * years]
    ax.plot(hist["period"].dt.start_time, hist[measure], color=COLOURS["inflow"],
            label=label("plot.actual", language))
    x = pd.PeriodIndex(forecast["period"]).start_time
    levels = sorted(int(c[3:]) for c in forecast.columns if c.startswith("lo_"))
    for i, level in enumerate(reversed(levels)):
        ax.fill_between(x, forecast[f"lo_{level}"], forecast[f"hi_{level}"], color=COLOURS["inflow"],
                        alpha=0.15 + 0.15 * i, linewidth=0, label=f"{level} %")
    ax.plot(x, forecast["mean"], color=COLOURS["inflow"], linestyle="--",
            label=label("plot.forecast", language))
    ax.set_ylabel(label(measure, language))
    ax.set_ylim(bottom=0)
    _date_axis(ax, language)
    _legend_above(fig, ax)
    return fig


def gap_heatmap(gaps: pd.DataFrame, *, language: str = "sv", ax=None, order=None, weeks: int = 12):
    """Heat-map of the capacity gap per period, clinics × calendar periods (both stages summed).

    ``gaps`` is the clinics' ``capacity_gap.csv`` tables concatenated (``clinic``,
    ``period_ahead``, ``period`` as its label, ``gap`` [patients/period]); the first
    ``weeks`` periods, clinics in ``order`` (default: as they come). Red: need above own
    capacity; blue: spare capacity. Diverging and centred on 0; every cell is annotated
    with its whole number (never "-0", a real minus sign), so it reads in grey too.
    """
    from .report import format_count, period_name

    part = gaps[gaps["period_ahead"] <= weeks]
    table = part.pivot_table(index="clinic", columns="period_ahead", values="gap", aggfunc="sum")
    if order is not None:
        table = table.reindex([c for c in order if c in table.index])
    labels = part.drop_duplicates("period_ahead").set_index("period_ahead")["period"].reindex(table.columns) \
        if "period" in part else pd.Series(table.columns, index=table.columns)
    if ax is None:
        fig, ax = plt.subplots(figsize=(10, 0.45 * len(table) + 1.8))
    else:
        fig = ax.figure
    fig._kps_language = language
    values = np.round(table.to_numpy(float))
    values[values == 0] = 0.0  # no negative zero
    # the colour scale follows the usual weeks: a single huge week (a holiday week with no
    # capacity) saturates instead of washing out every other cell; its number is written in it
    finite = np.abs(values[np.isfinite(values)])
    limit = max(float(np.nanpercentile(finite, 95)), 1.0) if finite.size else 1.0
    annot = np.vectorize(lambda v: "" if not np.isfinite(v) else
                         ("−" if v < 0 else "") + format_count(abs(v), language=language))(values)
    sns.heatmap(pd.DataFrame(values, index=table.index, columns=table.columns), cmap="RdBu_r", center=0,
                vmin=-max(limit, 1), vmax=max(limit, 1), annot=annot, fmt="", annot_kws={"fontsize": 7},
                cbar_kws={"label": label("plot.gap_axis", language)}, ax=ax)
    months = labels.astype(str).str.fullmatch(MONTH_LABEL).all() if len(labels) else False
    ax.set_xticklabels([period_name(p, language, year=bool(months)) for p in labels], rotation=0, fontsize=8)
    ax.set_xlabel(label("month", language) if months else label("plot.calendar_week", language))
    ax.set_ylabel("")
    fig.tight_layout()
    return fig


def _iso_week_ticks(ax, periods, language: str = "sv") -> None:
    """Label a period_ahead axis with calendar periods: ISO weeks (v. 49) or months (jan)."""
    from .report import period_name

    periods = list(periods)
    step = max(1, -(-len(periods) // 6))  # at most 6-7 labels: a panel is half a page wide
    ticks = np.arange(1, len(periods) + 1)[::step]
    ax.set_xticks(ticks)
    ax.set_xticklabels([period_name(p, language, year=False) for p in periods[::step]], fontsize=8)


def _stage_panels(plan: pd.DataFrame, language: str = "sv"):
    """One panel per stage of a plan: the figure, its axes and (axes, stage, the stage's weeks)."""
    stages = list(dict.fromkeys(plan["stage"]))
    fig, axes = plt.subplots(1, len(stages), figsize=(10, 3.4), squeeze=False)
    fig._kps_layout = True
    fig._kps_language = language
    panels = [(ax, stage, plan[plan["stage"] == stage].sort_values("period_ahead"))
              for ax, stage in zip(axes[0], stages)]
    return fig, axes, panels


def plan_breaches(plan: pd.DataFrame, *, weeks: int = 12, language: str = "sv"):
    """Patients past the guarantee per week, if nothing is bought and after the planned purchase.

    ``plan`` is the planning model's plan (:func:`kps_analysis.planning.project_plan`)
    for one clinic; one panel per stage, the first ``weeks`` weeks, the purchase lead
    time shaded. Bars: if nothing is bought (light) and after the planned purchase (dark).
    """
    from matplotlib.ticker import MaxNLocator

    fig, axes, panels = _stage_panels(plan[plan["period_ahead"] <= weeks], language)
    for ax, stage, sub in panels:
        x = sub["period_ahead"].to_numpy()
        ax.bar(x - 0.2, sub["breaches_if_nothing_bought"], width=0.4, color="#BBBBBB", edgecolor="#555555",
               hatch="//", label=label("plot.if_nothing_bought", language))
        ax.bar(x + 0.2, sub["breaches_after_purchase"], width=0.4, color=COLOURS["queue"],
               label=label("plot.with_purchase", language))
        # whole patients on the axis; a stage where nobody breaches gets 0-1, not matplotlib's 0-0.05
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        top = max(1.0, ax.get_ylim()[1])
        lead = int(sub["within_lead_time"].sum())
        # room above the bars for the lead time's name (it sat on the first bars)
        ax.set_ylim(0, top * 1.15 if lead else top)
        if lead:
            ax.axvspan(0.5, lead + 0.5, color="#DDDDDD", alpha=0.5, linewidth=0)
            ax.text(0.6, top * 1.13, label("plot.lead_time", language), fontsize=8, va="top")
        _iso_week_ticks(ax, sub["period"], language)
        _title(ax, stage_label(stage, language))
        ax.set_ylim(bottom=0)
    axes[0][0].set_ylabel(label("plot.patients_over_90", language))
    _legend_above(fig, axes[0][-1])
    return fig


def _legend_above(fig, ax, ncol: int = 4, title: str | None = None) -> None:
    """One legend above the panels, so that it never covers the data; the figure laid out."""
    handles, labels = ax.get_legend_handles_labels()
    if ax.get_legend() is not None:
        ax.get_legend().remove()
    if handles:
        fig.legend(handles, labels, loc="upper center", ncol=ncol, frameon=False, fontsize=8,
                   bbox_to_anchor=(0.5, 1.0), title=title, title_fontsize=8)
    rows = -(-len(handles) // max(1, ncol)) + (title is not None) if handles else 0
    _layout(fig, legend_rows=rows, title=any(a.get_title() for a in fig.axes),
            rect=(0, 0, 1, 0.88 if title is None else 0.85))


def _clip_outliers(ax, values: np.ndarray, x: np.ndarray, *, language: str, floor: float = 0.0) -> None:
    """Cut the y-axis at 1.5 × the 90th percentile (at least ``floor``) when a few values tower
    over the rest, and annotate the highest with its value, so that it does not flatten the chart."""
    from .report import format_count

    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    if values.size == 0 or not finite.any():
        return
    top = max(1.5 * float(np.nanpercentile(values[finite], 90)), floor)
    peak = float(np.nanmax(values[finite]))
    if top > 0 and peak > 1.5 * top:
        ax.set_ylim(0, top)
        i = int(np.nanargmax(np.where(finite, values, -np.inf)))
        text = label("plot.peak", language, value=format_count(peak, language=language,
                                                                decimals=0 if peak >= 10 else 1))
        ax.annotate(text + " ↑", xy=(x[i], top), xytext=(0, -12), textcoords="offset points", ha="center",
                    fontsize=8, color="#333333",
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "#999999", "lw": 0.5})


def plan_capacity(plan: pd.DataFrame, *, language: str = "sv", kind: str = "week"):
    """Own capacity, the production needed to keep the guarantee, and the queue, per week of the plan.

    Need = own production + purchase (:func:`kps_analysis.planning.project_plan`); where
    it lies above the capacity line is the gap, bought externally. One panel per stage.
    """
    fig, axes, panels = _stage_panels(plan, language)
    for ax, stage, sub in panels:
        x = sub["period_ahead"].to_numpy()
        need = (sub["own_production"] + sub["purchase"]).to_numpy()
        ax.plot(x, sub["capacity"], color=COLOURS["capacity"] if "capacity" in COLOURS else "#555555",
                linestyle=LINESTYLES["capacity"], linewidth=2, label=label("plot.own_capacity", language))
        ax.plot(x, need, color=COLOURS["need"] if "need" in COLOURS else "#CC79A7", linestyle=LINESTYLES["need"],
                linewidth=2, label=label("plot.need", language))
        ax.plot(x, sub["inflow"], color=COLOURS["inflow"], linestyle=LINESTYLES["inflow"], linewidth=1,
                label=label("plot.inflow_forecast", language))
        ax.fill_between(x, sub["capacity"], need, where=need > sub["capacity"], color="#999999", alpha=0.4,
                        linewidth=0, label=label("plot.gap_bought", language))
        _iso_week_ticks(ax, sub["period"], language)
        _title(ax, stage_label(stage, language))
        ax.set_ylim(bottom=0)
        _clip_outliers(ax, need, x, language=language)
    axes[0][0].set_ylabel(_per_period(label("plot.patients", language), kind, language))
    _legend_above(fig, axes[0][-1])
    return fig


# ============================================================================ alt texts
# What each figure shows, in words, for its <img alt>: the chart's kind, what is on its
# axes and the numbers a reader takes from it (from the same frame the figure draws).

def _n(value, language: str, decimals: int = 0) -> str:
    from .report import format_count

    return format_count(float(value), language=language, decimals=decimals)


def _last_by_stage(frame: pd.DataFrame, value: str, language: str, decimals: int = 1) -> str:
    last = frame.sort_values("period").groupby("stage", sort=False).tail(1)
    return ", ".join(f"{stage_label(r.stage, language).lower()} "
                     f"{_n(getattr(r, value), language, decimals)}"
                     for r in last.itertuples(index=False) if np.isfinite(getattr(r, value)))


def alt_year_over_year(yoy: pd.DataFrame, measure: str, *, language: str = "sv") -> str:
    """Alt text of :func:`year_over_year`: the measure, the years, this year's latest value and last year's."""
    from .report import period_word

    years = sorted(yoy["year"].unique())
    if not years:
        return label(measure, language)
    x = "week" if "week" in yoy.columns and yoy["week"].notna().any() else "month"
    this = yoy[yoy["year"] == years[-1]].dropna(subset=["value"])
    latest = this.iloc[-1] if len(this) else None
    before = yoy[(yoy["year"] == years[-2]) & (yoy[x] == latest[x])] if latest is not None and len(years) > 1 else []
    word = period_word(x, language)
    text = label("plot.alt_year_over_year", language, measure=label(measure, language).lower(), word=word,
                 years=", ".join(map(str, years)))
    if latest is not None:
        when = (f"{word} {int(latest[x])}" if x == "week" else month_name(int(latest[x]), language))
        text += label("plot.alt_latest", language, when=when, year=years[-1], value=_n(latest["value"], language))
        if len(before):
            text += label("plot.alt_same_period", language, word=word, year=years[-2],
                          value=_n(before["value"].iloc[0], language))
        text += "."
    return text


def alt_ratio(ratios: pd.DataFrame, limit_periods: float, *, language: str = "sv", kind: str = "week") -> str:
    """Alt text of :func:`ratio_trend`: the latest köproduktionskvot per stage against the limit line."""
    from .report import period_word

    words = period_word(kind, language, plural=True)
    last = _last_by_stage(ratios, "queue_production_ratio_weeks", language) if len(ratios) else "–"
    return label("plot.alt_ratio", language, periods=words, last=last, limit=_n(limit_periods, language, 1))


def alt_seasonal(profile: pd.DataFrame, *, language: str = "sv", kind: str = "week") -> str:
    """Alt text of :func:`seasonal_profile`: each measure's lowest period and its factor."""
    from .report import period_word

    parts = []
    for measure, part in profile.groupby("measure", sort=False):
        low = part.loc[part["factor"].idxmin()]
        when = (f"{period_word(kind, language)} {int(low['season'])}" if kind != "month" else
                month_name(int(low["season"]), language))
        parts.append(f"{label(measure, language).lower()} {_n(low['factor'], language, 2)} ({when})")
    lows = "; ".join(parts)
    return label("plot.alt_seasonal", language, period=period_word(kind, language), lows=lows)


def alt_fan(forecast: pd.DataFrame, measure: str, *, language: str = "sv", kind: str = "week") -> str:
    """Alt text of :func:`fan_chart`: the forecast's horizon, mean and widest interval."""
    from .report import period_word

    n = len(forecast)
    levels = sorted(int(c[3:]) for c in forecast.columns if c.startswith("lo_"))
    mean = forecast["mean"].mean() if n else float("nan")
    band = ""
    if levels and n:
        w = levels[-1]
        band = label("plot.alt_fan_band", language, level=w, lo=_n(forecast[f"lo_{w}"].mean(), language),
                     hi=_n(forecast[f"hi_{w}"].mean(), language))
    return label("plot.alt_fan", language, measure=label(measure, language).lower(), n=n,
                 periods=period_word(kind, language, plural=True), mean=_n(mean, language),
                 period=period_word(kind, language), band=band)


def alt_balance(flow: pd.DataFrame, *, language: str = "sv", kind: str = "week") -> str:
    """Alt text of :func:`balance_lines`: the latest net inflow per stage."""
    from .report import period_word

    flow = _active_stages(flow)
    last = _last_by_stage(flow.dropna(subset=["net_rolling"]), "net_rolling", language) if len(flow) else "–"
    return label("plot.alt_balance", language, period=period_word(kind, language), last=last)


def alt_waits(bands: pd.DataFrame, guarantee_days: float, *, language: str = "sv", shown=None) -> str:
    """Alt text of :func:`wait_histogram`: patients per stage within and beyond the guarantee."""
    parts = []
    for stage, part in bands.groupby("stage", sort=False) if "stage" in bands else [("new_visit", bands)]:
        over = part.loc[part["band_start_days"] > guarantee_days, "patients"].sum()
        total = part["patients"].sum()
        cell = f"over:{stage}"
        over_text = shown.text(cell, over, language=language) if shown is not None and cell in shown else None
        if over_text is None:
            over_text = _n(over, language) if over == 0 or over >= 5 else ("<5")
        total_text = shown.text(f"counted:{stage}", total, language=language) if shown is not None and \
            f"counted:{stage}" in shown else _n(total, language)
        parts.append(label("plot.alt_waits_stage", language, stage=stage_label(stage, language).lower(),
                           total=total_text, over=over_text, days=f"{guarantee_days:g}"))
    return label("plot.alt_waits", language, parts="; ".join(parts))


def alt_breaches(plan: pd.DataFrame, weeks: int, *, language: str = "sv", kind: str = "week") -> str:
    """Alt text of :func:`plan_breaches`: the peak over the guarantee with and without the purchase."""
    from .report import period_word

    part = plan[plan["period_ahead"] <= weeks]
    by = part.groupby("period_ahead")[["breaches_if_nothing_bought", "breaches_after_purchase"]].sum()
    none, after = (by.max() if len(by) else pd.Series({"breaches_if_nothing_bought": 0, "breaches_after_purchase": 0}))
    return label("plot.alt_breaches", language, period=period_word(kind, language), n=weeks,
                 periods=period_word(kind, language, plural=True), none=_n(none, language),
                 after=_n(after, language))


def alt_capacity(plan: pd.DataFrame, *, language: str = "sv", kind: str = "week") -> str:
    """Alt text of :func:`plan_capacity`: mean capacity and need per stage over the plan."""
    from .report import period_word

    parts = []
    for stage, sub in plan.groupby("stage", sort=False):
        need = (sub["own_production"] + sub["purchase"]).mean()
        parts.append(label("plot.alt_capacity_stage", language, stage=stage_label(stage, language).lower(),
                           capacity=_n(sub["capacity"].mean(), language), need=_n(need, language)))
    return label("plot.alt_capacity", language, n=plan["period_ahead"].nunique(),
                 periods=period_word(kind, language, plural=True), period=period_word(kind, language),
                 parts="; ".join(parts))


def alt_region_ratios(data: pd.DataFrame, limit_weeks: float, *, language: str = "sv") -> str:
    """Alt text of :func:`region_ratios`: each clinic's köproduktionskvot, in the chart's order."""
    items = ", ".join(f"{r.clinic} {_n(r.queue_production_ratio_weeks, language, 1)}"
                      for r in data.itertuples(index=False))
    return label("plot.alt_region_ratios", language, items=items, limit=_n(limit_weeks, language, 1))


def alt_gap(gaps: pd.DataFrame, *, language: str = "sv", periods: int = 12) -> str:
    """Alt text of :func:`gap_heatmap`: the clinics with a gap and their total over the ``periods`` shown."""
    if gaps is None or not len(gaps):
        return label("plot.alt_gap_empty", language)
    total = gaps[gaps["period_ahead"] <= periods].groupby("clinic")["gap"].sum().round()
    short = ", ".join(f"{c} {_n(v, language)}" for c, v in total[total > 0].sort_values(ascending=False).items())
    return label("plot.alt_gap", language) + (label("plot.alt_gap_total", language, gaps=short) if short else
                                              label("plot.alt_gap_none", language))
