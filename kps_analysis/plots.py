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
    "queue": "#333333",       # near black
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
    if ax is None:
        fig, ax = plt.subplots()
    else:
        fig = ax.figure
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
    if ax is None:
        fig, ax = plt.subplots()
    else:
        fig = ax.figure
    x = frame["period"].dt.start_time
    for m in measures:
        role = ROLE.get(m, "queue")
        ax.plot(x, frame[m], color=COLOURS[role], linestyle=LINESTYLES.get(role, "-"), label=label(m, language))
    ax.legend(frameon=False, loc="best")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def wait_histogram(bands: pd.DataFrame, *, limit_days: int = 90, language: str = "sv", ax=None):
    """Bars of patients per waiting-time band (one colour per stage), the limit marked.

    ``bands`` is :func:`kps_analysis.waits.wait_distribution` output: ``band`` (label),
    ``band_start_days`` [days], ``patients`` and optionally ``stage``. The guarantee
    limit is the red dashed line drawn before the first band that starts beyond it.
    """
    if ax is None:
        fig, ax = plt.subplots()
    else:
        fig = ax.figure
    data = bands.copy()
    if "stage" in data.columns:
        data["stage"] = data["stage"].map(STAGE_LABELS[language]).fillna(data["stage"])
    order = list(dict.fromkeys(data["band"]))
    sns.barplot(data=data, x="band", y="patients", order=order,
                hue="stage" if "stage" in data.columns else None,
                palette=[COLOURS["inflow"], COLOURS["production"]] if "stage" in data.columns else None,
                color=None if "stage" in data.columns else COLOURS["queue"], ax=ax)
    starts = data.drop_duplicates("band").set_index("band")["band_start_days"].reindex(order).to_numpy()
    over = np.flatnonzero(starts > limit_days)
    if len(over):
        draw_limit(ax, over[0] - 0.5, language=language, limit_days=limit_days, axis="x")
    ax.set_ylabel("Patienter" if language == "sv" else "Patients")
    ax.set_xlabel("Väntetid (dagar)" if language == "sv" else "Waiting time (days)")
    if ax.get_legend() is not None:
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
