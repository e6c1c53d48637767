"""The standard figures of the reports (seaborn/matplotlib).

One colour for inflow, one for production, one for the queue, the guarantee limit
always drawn the same way; line styles differ as well as colours, so the figures stay
readable when printed in grey. Functions take tidy frames produced by the analysis
modules and return a matplotlib ``Figure``; they compute nothing themselves.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from .report import label

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

SV_MONTHS = ["jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec"]


def _axes(ax):
    """The figure and axes to draw on: a new figure unless ``ax`` is given."""
    if ax is None:
        return plt.subplots()
    return ax.figure, ax


def month_label(date, language: str = "sv") -> str:
    """A month on a date axis as a reader says it: ``"jan 2025"`` (Swedish) or ``"Jan 2025"``.

    Examples
    --------
    >>> month_label(pd.Timestamp("2025-05-12")), month_label(pd.Timestamp("2025-05-12"), "en")
    ('maj 2025', 'May 2025')
    """
    date = pd.Timestamp(date)
    name = SV_MONTHS[date.month - 1] if language == "sv" else date.strftime("%b")
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
    lighter and dashed/dotted, so the years can be told apart in grey print.
    """
    role = ROLE.get(measure, "queue")
    fig, ax = _axes(ax)
    years = sorted(yoy["year"].unique())
    styles = [":", "--", "-"]
    for i, year in enumerate(years):
        part = yoy[yoy["year"] == year]
        latest = year == years[-1]
        ax.plot(part["week"], part["value"], color=COLOURS[role], alpha=1.0 if latest else 0.45,
                linewidth=2.4 if latest else 1.3, linestyle=styles[(i - len(years)) % 3] if not latest else "-",
                label=str(year))
    ax.set_xlim(1, 53)
    ax.set_xticks([1, 9, 14, 27, 32, 40, 52])
    ax.set_xlabel(label("week", language))
    ax.set_ylabel(label(measure, language))
    ax.set_title(label(measure, language))
    ax.axvspan(27, 32, color="#999999", alpha=0.12, linewidth=0)
    ax.legend(title=label("year", language), ncol=len(years), loc="best", frameon=False)
    fig.tight_layout()
    return fig


def weekly_lines(frame: pd.DataFrame, measures: list[str], *, language: str = "sv", ax=None,
                 title: str | None = None):
    """Draw several weekly measures of one clinic over time (x = week start date)."""
    fig, ax = _axes(ax)
    x = frame["period"].dt.start_time
    for m in measures:
        role = ROLE.get(m, "queue")
        ax.plot(x, frame[m], color=COLOURS[role], linestyle=LINESTYLES.get(role, "-"), label=label(m, language))
    _date_axis(ax, language)
    ax.legend(frameon=False, loc="best")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def wait_histogram(bands: pd.DataFrame, *, limit_days: int = 90, language: str = "sv", ax=None,
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

    fig, ax = _axes(ax)
    data = bands.copy()
    if "stage" not in data.columns:
        data["stage"] = "new_visit"
        single = True
    else:
        single = False
    if shown is None:
        shown = protect_snapshot(data.assign(wait_days=data["band_start_days"], patient_chosen_wait=False),
                                 guarantee_days=limit_days, limit=limit)
    order = list(dict.fromkeys(data["band"]))
    stages = list(dict.fromkeys(data["stage"]))
    width = 0.8 / len(stages)
    starts = data.drop_duplicates("band").set_index("band")["band_start_days"].reindex(order).to_numpy()
    over = np.flatnonzero(starts > limit_days)
    small_label = (f"färre än {limit} patienter (höjden visar inte antalet)" if language == "sv" else
                   f"fewer than {limit} patients (the height does not show the count)")
    range_label = ("inom det markerade intervallet (skydd av små antal)" if language == "sv" else
                   "within the marked range (protecting small counts)")
    used = set()
    for i, stage in enumerate(stages):
        part = data[data["stage"] == stage].set_index("band").reindex(order)
        colour = COLOURS["queue"] if single else [COLOURS["inflow"], COLOURS["production"]][i % 2]
        x = np.arange(len(order)) + (i - (len(stages) - 1) / 2) * width
        name = STAGE_LABELS[language].get(stage, stage)
        for j, band in enumerate(order):
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
        draw_limit(ax, over[0] - 0.5, language=language, limit_days=limit_days, axis="x")
    ax.set_ylabel("Patienter" if language == "sv" else "Patients")
    ax.set_xlabel("Väntetid (dagar)" if language == "sv" else "Waiting time (days)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(frameon=False, title=None)
    fig.tight_layout()
    return fig


STAGE_LABELS = {
    "sv": {"new_visit": "Väntar på nybesök", "treatment": "Väntar på behandling"},
    "en": {"new_visit": "Waiting for first visit", "treatment": "Waiting for treatment"},
}


def draw_limit(ax, position: float, *, language: str = "sv", limit_days: int = 90, axis: str = "y") -> None:
    """Draw the care-guarantee limit the same way in every figure: a red dashed line."""
    text = f"vårdgaranti {limit_days} dagar" if language == "sv" else f"care guarantee {limit_days} days"
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
                label=STAGE_LABELS[language].get(stage, stage))
    return recent


def ratio_trend(ratios: pd.DataFrame, *, guarantee_weeks: float | None = None, language: str = "sv",
                years: int = 3, ax=None):
    """Köproduktionskvot over time per stage, with the level that matches the guarantee.

    ``ratios`` has ``period``, ``stage`` and ``queue_production_ratio_weeks`` (one clinic).
    ``guarantee_weeks`` is drawn as the red dashed guarantee line.
    """
    fig, ax = _axes(ax)
    if ratios.empty:
        ax.text(0.5, 0.5, "Inga data" if language == "sv" else "No data", ha="center", transform=ax.transAxes)
        return fig
    recent = _stage_lines(ax, ratios, "queue_production_ratio_weeks", years=years, language=language)
    if guarantee_weeks is not None:
        ax.axhline(guarantee_weeks, color=COLOURS["limit"], linestyle="--", linewidth=1.5)
        text = "nivå som håller vårdgarantin" if language == "sv" else "level that keeps the guarantee"
        ax.text(recent["period"].min().start_time, guarantee_weeks, " " + text, color=COLOURS["limit"],
                va="bottom", fontsize=9)
    _date_axis(ax, language)
    ax.set_ylabel("Veckors produktion i kö" if language == "sv" else "Weeks of production waiting")
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False, loc="upper left")
    fig.tight_layout()
    return fig


def seasonal_profile(profile: pd.DataFrame, *, language: str = "sv", ax=None):
    """Seasonal factors per ISO week (or month), one line per measure; 1 = an average week."""
    fig, ax = _axes(ax)
    # two measures may share a role (new visits and operations are both production):
    # each line gets its own line style and marker so they differ in grey print too
    for i, (measure, part) in enumerate(profile.groupby("measure", sort=False)):
        role = ROLE.get(measure, "queue")
        ax.plot(part["season"], part["factor"], color=COLOURS[role], linestyle=["-", "--", ":", "-."][i % 4],
                marker="osv^"[i % 4], markersize=3, label=label(measure, language))
    ax.axhline(1.0, color="#777777", linewidth=0.8)
    ax.axvspan(27, 32, color="#999999", alpha=0.12, linewidth=0)
    ax.set_xlabel(label("week", language))
    ax.set_ylabel("Säsongsfaktor" if language == "sv" else "Seasonal factor")
    ax.set_xlim(1, profile["season"].max())
    ax.legend(frameon=False, loc="lower left")
    fig.tight_layout()
    return fig


def balance_lines(balance: pd.DataFrame, *, language: str = "sv", years: int = 2, ax=None):
    """Net inflow (in − out) per stage, trailing mean, over the latest years; above 0 the queue grows."""
    fig, ax = _axes(ax)
    _stage_lines(ax, balance, "net_rolling", years=years, language=language)
    ax.axhline(0.0, color="#333333", linewidth=1)
    _date_axis(ax, language)
    ax.set_ylabel("Inflöde − utflöde per vecka" if language == "sv" else "Inflow − outflow per week")
    ax.legend(frameon=False, loc="upper left")
    fig.tight_layout()
    return fig


def breach_projection(breaches: pd.DataFrame, *, language: str = "sv", ax=None):
    """Projected patients past the guarantee limit per week ahead and stage (bars)."""
    fig, ax = _axes(ax)
    data = breaches.assign(stage=breaches["stage"].map(STAGE_LABELS[language]).fillna(breaches["stage"]),
                           week_ahead=breaches["week_ahead"].astype(int))
    sns.barplot(data=data, x="week_ahead", y="over_limit", hue="stage",
                palette=[COLOURS["inflow"], COLOURS["production"]][: data["stage"].nunique()], ax=ax)
    ax.set_xlabel("Veckor framåt" if language == "sv" else "Weeks ahead")
    ax.set_ylabel("Patienter över gränsen" if language == "sv" else "Patients over the limit")
    if ax.get_legend() is not None:
        ax.legend(frameon=False, title=None)
    fig.tight_layout()
    return fig


def show(fig) -> None:
    """Display a figure at this point of a notebook's output and close it.

    Without this, Jupyter's inline backend draws open figures after everything else
    the cell displays, so a section's figure would come after its tables.
    """
    from IPython.display import display

    display(fig)
    plt.close(fig)


def region_ratios(summaries: pd.DataFrame, *, guarantee_weeks: float | None = None, language: str = "sv", ax=None):
    """Köproduktionskvot per clinic (horizontal bars, worst on top), the guarantee level marked."""
    data = summaries.sort_values("queue_production_ratio_weeks", ascending=True)
    if ax is None:
        fig, ax = plt.subplots(figsize=(10, 0.4 * len(data) + 1.2))
    else:
        fig = ax.figure
    ax.barh(data["clinic"], data["queue_production_ratio_weeks"], color=COLOURS["queue"], alpha=0.6)
    if guarantee_weeks is not None:
        ax.axvline(guarantee_weeks, color=COLOURS["limit"], linestyle="--", linewidth=1.5)
    ax.set_xlabel(label("queue_production_ratio_weeks", language))
    fig.tight_layout()
    return fig


def fan_chart(history: pd.DataFrame, forecast: pd.DataFrame, *, measure: str, language: str = "sv",
              years: int = 2, ax=None):
    """Fan chart: the latest ``years`` of history and the forecast with its intervals.

    ``forecast`` is :func:`kps_analysis.forecast.forecast_demand` output for one clinic;
    the widest interval is drawn lightest. The history is summed over groups.
    """
    fig, ax = _axes(ax)
    hist = history.groupby("period", as_index=False)[measure].sum(min_count=1)
    hist = hist[hist["period"] > hist["period"].max() - 52 * years]
    ax.plot(hist["period"].dt.start_time, hist[measure], color=COLOURS["inflow"],
            label="Utfall" if language == "sv" else "Actual")
    x = pd.PeriodIndex(forecast["period"]).start_time
    levels = sorted(int(c[3:]) for c in forecast.columns if c.startswith("lo_"))
    for i, level in enumerate(reversed(levels)):
        ax.fill_between(x, forecast[f"lo_{level}"], forecast[f"hi_{level}"], color=COLOURS["inflow"],
                        alpha=0.15 + 0.15 * i, linewidth=0, label=f"{level} %")
    ax.plot(x, forecast["mean"], color=COLOURS["inflow"], linestyle="--",
            label="Prognos" if language == "sv" else "Forecast")
    ax.set_ylabel(label(measure, language))
    ax.set_ylim(bottom=0)
    _date_axis(ax, language)
    ax.legend(frameon=False, loc="upper left", ncol=4)
    fig.tight_layout()
    return fig


def capacity_vs_need(gap: pd.DataFrame, *, language: str = "sv"):
    """Need and own capacity per week, one panel per stage; the need band shaded.

    ``gap`` is :func:`kps_analysis.capacity.capacity_gap` output for one clinic. Closures
    show as dips of the capacity line; weeks where the need is above it are the gap.
    """
    stages = list(dict.fromkeys(gap["stage"]))
    fig, axes = plt.subplots(1, len(stages), figsize=(10, 3.4), squeeze=False)
    for ax, stage in zip(axes[0], stages):
        part = gap[gap["stage"] == stage]
        x = part["week_ahead"]
        if {"need_lo", "need_hi"} <= set(part.columns):
            ax.fill_between(x, part["need_lo"], part["need_hi"], color=COLOURS["need"], alpha=0.15, linewidth=0)
        ax.plot(x, part["need"], color=COLOURS["need"], linestyle=LINESTYLES["need"], linewidth=2,
                label="Behov" if language == "sv" else "Need")
        ax.plot(x, part["capacity"], color=COLOURS["capacity"], linestyle=LINESTYLES["capacity"], linewidth=2,
                label="Egen kapacitet" if language == "sv" else "Own capacity")
        ax.set_title(STAGE_LABELS[language].get(stage, stage))
        ax.set_xlabel("Veckor framåt" if language == "sv" else "Weeks ahead")
        ax.set_ylim(bottom=0)
        ax.legend(frameon=False, loc="lower left")
    axes[0][0].set_ylabel("Per vecka" if language == "sv" else "Per week")
    fig.tight_layout()
    return fig


def gap_heatmap(gaps: pd.DataFrame, *, language: str = "sv", ax=None):
    """Heat-map of the weekly capacity gap, clinics × weeks ahead (both stages summed).

    ``gaps`` is the clinics' ``capacity_gap.csv`` tables concatenated. Red: need above
    own capacity; blue: spare capacity. Diverging and centred on 0, readable in grey
    by the annotated sign.
    """
    table = gaps.pivot_table(index="clinic", columns="period_ahead", values="gap", aggfunc="sum")
    if ax is None:
        fig, ax = plt.subplots(figsize=(10, 0.45 * len(table) + 1.5))
    else:
        fig = ax.figure
    limit = float(np.nanmax(np.abs(table.to_numpy()))) if table.size else 1.0
    sns.heatmap(table, cmap="RdBu_r", center=0, vmin=-limit, vmax=limit, annot=True, fmt=".0f",
                annot_kws={"fontsize": 7}, cbar_kws={"label": "Behov − kapacitet" if language == "sv"
                                                      else "Need − capacity"}, ax=ax)
    ax.set_xlabel("Veckor framåt" if language == "sv" else "Weeks ahead")
    ax.set_ylabel("")
    fig.tight_layout()
    return fig


def _iso_week_ticks(ax, periods) -> None:
    """Label a week_ahead axis with ISO week numbers (v. 49, v. 50, ...)."""
    periods = pd.PeriodIndex(list(periods), freq="W-SUN")
    step = max(1, len(periods) // 12)
    ticks = np.arange(1, len(periods) + 1)[::step]
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"v. {p.week}" for p in periods[::step]], fontsize=8)


def _stage_panels(plan: pd.DataFrame):
    """One panel per stage of a plan: the figure, its axes and (axes, stage, the stage's weeks)."""
    stages = list(dict.fromkeys(plan["stage"]))
    fig, axes = plt.subplots(1, len(stages), figsize=(10, 3.4), squeeze=False)
    panels = [(ax, stage, plan[plan["stage"] == stage].sort_values("period_ahead"))
              for ax, stage in zip(axes[0], stages)]
    return fig, axes, panels


def plan_breaches(plan: pd.DataFrame, *, weeks: int = 12, language: str = "sv"):
    """Patients past the guarantee per week, if nothing is bought and after the planned purchase.

    ``plan`` is the planning model's plan (:func:`kps_analysis.planning.project_plan`)
    for one clinic; one panel per stage, the first ``weeks`` weeks, the purchase lead
    time shaded. Bars: if nothing is bought (light) and after the planned purchase (dark).
    """
    fig, axes, panels = _stage_panels(plan[plan["period_ahead"] <= weeks])
    sv = language == "sv"
    for ax, stage, sub in panels:
        x = sub["period_ahead"].to_numpy()
        ax.bar(x - 0.2, sub["breaches_if_nothing_bought"], width=0.4, color="#BBBBBB", edgecolor="#555555",
               hatch="//", label="Om inget köps" if sv else "If nothing is bought")
        ax.bar(x + 0.2, sub["breaches_after_purchase"], width=0.4, color=COLOURS["queue"],
               label="Med planerat köp" if sv else "With the planned purchase")
        lead = int(sub["within_lead_time"].sum())
        if lead:
            ax.axvspan(0.5, lead + 0.5, color="#DDDDDD", alpha=0.5, linewidth=0)
            ax.text(0.6, ax.get_ylim()[1] * 0.92, "ledtid för köp" if sv else "purchase lead time", fontsize=8)
        _iso_week_ticks(ax, sub["period"])
        ax.set_title(STAGE_LABELS[language].get(stage, stage))
        ax.set_ylim(bottom=0)
    axes[0][0].set_ylabel("Patienter över 90 dagar" if sv else "Patients over 90 days")
    _legend_above(fig, axes[0][-1])
    return fig


def _legend_above(fig, ax, ncol: int = 4) -> None:
    """One legend above the panels, so that it never covers the data."""
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=ncol, frameon=False, fontsize=8,
               bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout(rect=(0, 0, 1, 0.9))


def _clip_outliers(ax, values: np.ndarray, x: np.ndarray, *, language: str) -> None:
    """Clip the y-axis at 1.5 x the 90th percentile when one week towers over the rest; annotate it."""
    values = np.asarray(values, dtype=float)
    if values.size == 0 or not np.isfinite(values).any():
        return
    top = 1.5 * float(np.nanpercentile(values, 90))
    peak = float(np.nanmax(values))
    if top > 0 and peak > 1.5 * top:
        ax.set_ylim(0, top)
        i = int(np.nanargmax(values))
        ax.annotate(f"{peak:.0f} ↑", xy=(x[i], top), xytext=(x[i] + 0.8, top * 0.92), fontsize=8)


def plan_capacity(plan: pd.DataFrame, *, language: str = "sv"):
    """Own capacity, the production needed to keep the guarantee, and the queue, per week of the plan.

    Need = own production + purchase (:func:`kps_analysis.planning.project_plan`); where
    it lies above the capacity line is the gap, bought externally. One panel per stage.
    """
    fig, axes, panels = _stage_panels(plan)
    sv = language == "sv"
    for ax, stage, sub in panels:
        x = sub["period_ahead"].to_numpy()
        need = (sub["own_production"] + sub["purchase"]).to_numpy()
        ax.plot(x, sub["capacity"], color=COLOURS["capacity"] if "capacity" in COLOURS else "#555555",
                linestyle=LINESTYLES["capacity"], linewidth=2, label="Egen kapacitet" if sv else "Own capacity")
        ax.plot(x, need, color=COLOURS["need"] if "need" in COLOURS else "#CC79A7", linestyle=LINESTYLES["need"],
                linewidth=2, label="Behov för vårdgarantin" if sv else "Need to keep the guarantee")
        ax.plot(x, sub["inflow"], color=COLOURS["inflow"], linestyle=LINESTYLES["inflow"], linewidth=1,
                label="Inflöde (prognos)" if sv else "Inflow (forecast)")
        ax.fill_between(x, sub["capacity"], need, where=need > sub["capacity"], color="#999999", alpha=0.4,
                        linewidth=0, label="Glapp (köps)" if sv else "Gap (bought)")
        _iso_week_ticks(ax, sub["period"])
        ax.set_title(STAGE_LABELS[language].get(stage, stage))
        ax.set_ylim(bottom=0)
        _clip_outliers(ax, need, x, language=language)
    axes[0][0].set_ylabel("Patienter per vecka" if sv else "Patients per week")
    _legend_above(fig, axes[0][-1])
    return fig
