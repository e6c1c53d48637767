"""Tables and sentences of the planning model for the clinic report (sv default, en).

Every function here formats numbers of one :class:`kps_analysis.planning.PlanningModel`;
none computes a quantity of its own, so the report's sections cannot disagree. Counts of
observed patients below the suppression limit are shown as ``<limit``
(:mod:`kps_analysis.report.suppression`); the model's projections (:data:`PROJECTED`: plan,
purchase, breaches ahead, the Monte Carlo) are shown exactly, as in ``plan.xlsx`` and the tables.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..planning import ESCALATION_RULE
from .formatting import (
    MONTH_LABEL,
    format_against,
    format_count,
    format_share,
    format_signed,
    period_labels,
    period_name,
)
from .labels import TEXTS, label, status_word
from .markup import escape_text
from .suppression import headline_shown, share_text

#: The headline figures a manager reads first, in order, and their kind of value; their labels are
#: the catalogue's ``key_figure.<key>`` (:data:`kps_analysis.report.labels.TEXTS`).
_KEY_FIGURE_KINDS = (
    ("queue_new_visit", "count"),
    ("queue_treatment", "count"),
    ("queue_change_1w", "signed"),
    ("share_over_90_days", "share"),
    ("waiting_chosen", "count"),
    ("queue_production_ratio_weeks", "ratio"),
    ("projected_breaches_peak_12w", "count"),
    ("projected_breaches_12w", "count"),
    ("breaches_after_purchase_peak_12w", "count"),
    ("purchase_new_visits_12w", "count"),
    ("purchase_cost_new_visits_12w", "count"),
    ("purchase_operations_12w", "count"),
    ("purchase_cost_operations_12w", "count"),
    ("first_order_by", "week"),
    ("capacity_gap_12w", "signed"),
    ("p_no_breach_12w", "share"),
    ("escalation", "status"),
    ("escalation_level", "status"),
)
#: ``(key, label sv, label en, kind)`` of every key figure, in order.
KEY_FIGURES = tuple((key, TEXTS[f"key_figure.{key}"]["sv"], TEXTS[f"key_figure.{key}"]["en"], kind)
                    for key, kind in _KEY_FIGURE_KINDS)


def _week_label(value) -> str:
    """An order-by period's label: a week's ISO label (``2026-W49``), a month's ``2026-12`` (a
    monthly plan's order-by period is a month; read as a week it was the week of its first
    day, and the report showed "v. 49 2026" where its first screen says "dec 2026")."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    if getattr(value, "freqstr", "").startswith("M") or re.fullmatch(MONTH_LABEL, str(value)):
        return str(value)
    try:
        return period_labels(pd.Series([pd.Period(str(value).split("/")[0], freq="W-SUN")])).iloc[0]
    except (ValueError, TypeError):
        return str(value)


def value_text(kind: str, val, language: str = "sv", limit: int = 5) -> str:
    """A key figure's value as report text by its kind: ``count`` (whole patients, 1 to
    ``limit - 1`` shown as ``<limit``), ``share`` [%], ``ratio`` (one decimal), ``signed``,
    ``week`` (a period's name) or ``status``; NaN gives "–".

    Examples
    --------
    >>> value_text("count", 3.0), value_text("count", 1234.0), value_text("share", 0.287)
    ('<5', '1\xa0234', '28,7 %')
    """
    return _value(kind, val, language, limit)


def _value(kind: str, val, language: str, limit: int) -> str:
    if val is None or (isinstance(val, float) and np.isnan(val)):
        return "–"
    if kind == "status":
        return status_word(val, language)
    if kind == "week":
        return period_name(val, language)
    if kind == "share":
        return format_share(float(val), language=language)
    if kind == "ratio":
        return format_count(float(val), language=language, decimals=1)
    if kind == "signed":
        return format_signed(float(val), language=language)
    v = float(val)
    if limit and 0 < v < limit:
        return label("suppressed", language).format(limit=limit)
    return format_count(v, language=language)


#: Key figures that are counts of the waiting list now, and their snapshot cell.
_KEY_CELLS = {"queue_new_visit": "queue:new_visit", "queue_treatment": "queue:treatment", "waiting_chosen": "chosen"}


def key_figures_table(headline: pd.DataFrame, *, limit: int = 5, language: str = "sv", shown=None) -> pd.DataFrame:
    """The key figures of one clinic (:data:`KEY_FIGURES`), label and formatted value with unit.

    Counts of 1 to ``limit - 1`` observed patients are shown as ``<limit`` (the model's
    projections, :data:`PROJECTED`, exactly), and the waiting-list counts follow the whole
    suppression rule (:func:`kps_analysis.report.protect_counts`):
    ``shown`` is the clinic's :func:`kps_analysis.report.protect_snapshot` (per stage, so
    a queue whose chosen waits are few is shown as a range); without it only the totals
    are protected (:func:`headline_shown`). A share over 90 days whose count is protected,
    a change of a widened queue and the köproduktionskvot of a widened queue are shown as
    ranges. Figures a clinic does not have (no treatment stage) are left out.

    Examples
    --------
    >>> h = pd.DataFrame({"clinic": ["a"], "queue_new_visit": [120.0], "waiting_chosen": [3.0],
    ...                   "share_over_90_days": [0.05], "purchase_operations_12w": [3.0], "escalation": ["yellow"]})
    >>> key_figures_table(h).iloc[:, 0].tolist()
    ['120', '5,0 %', '<5', '3', 'gul']
    """
    rows = list(key_figure_texts(headline, limit=limit, language=language, shown=shown).values())
    head = (label("table.measure", language), label("table.value", language))
    return pd.DataFrame(rows, columns=list(head)).set_index(head[0])


def queue_change(row) -> float:
    """The change of the queues over the clinic's last period [patients]: ``queue_change_1w`` for
    weekly data, ``queue_change_1p`` (the last month) for monthly data, whose one-week change
    is unknown (``summary.csv`` keeps both as they are). The report's key figure, first screen
    and verdict read it here, and its words say week or month with the clinic's periods."""
    for key in ("queue_change_1w", "queue_change_1p"):
        value = row.get(key) if hasattr(row, "get") else None
        if value is not None and isinstance(value, (int, float, np.floating, np.integer)) and np.isfinite(value):
            return float(value)
    return float("nan")


#: The key figures that are the model's projections, not counts of observed patients: shown exactly,
#: as in ``plan.xlsx`` and the tables (outputs/README.md, "Not suppressed": an order of 3 operations
#: cannot read "<5", and its cost beside it would give it back anyway).
PROJECTED = frozenset({"projected_breaches_peak_12w", "projected_breaches_12w", "breaches_after_purchase_peak_12w",
                       "purchase_new_visits_12w", "purchase_cost_new_visits_12w", "purchase_operations_12w",
                       "purchase_cost_operations_12w", "capacity_gap_12w", "purchase_need_12w",
                       "purchase_cost_12w"})


def key_figure_texts(headline: pd.DataFrame, *, limit: int = 5, language: str = "sv", shown=None) -> dict:
    """Every key figure of one clinic as report text, ``key -> (label, text)`` (:data:`KEY_FIGURES`).

    The one formatting path of the key figures, for :func:`key_figures_table` and the
    report's first screen (:mod:`kps_analysis.sections`): the suppression rule and its
    ranges as described in :func:`key_figures_table`. Figures the clinic lacks are left out.
    """
    row = headline.iloc[0]
    if shown is None:
        shown = headline_shown(headline, limit=limit)
    out = {}
    for key, _, _, kind in KEY_FIGURES:
        if key not in row.index:
            continue
        val = queue_change(row) if key == "queue_change_1w" else row[key]
        if kind != "week" and kind != "status" and (val is None or (isinstance(val, float) and np.isnan(val))):
            continue
        text = _value(kind, val, language, 0 if key in PROJECTED else limit)
        if key in _KEY_CELLS and _KEY_CELLS[key] in shown:
            text = shown.text(_KEY_CELLS[key], language=language)
        elif key == "share_over_90_days" and "over" in shown:
            text = share_text(shown, "over", row.get("waiting_counted"), val, ratio=True, language=language)
        elif key == "queue_change_1w" and "queue" in shown and not shown.exact("queue"):
            lo, hi = shown["queue"]
            before = row.get("queue_new_visit", 0) + row.get("queue_treatment", 0) - val  # last week's, published
            text = f"{format_signed(lo - before, language=language)} – {format_signed(hi - before, language=language)}"
        elif key == "queue_production_ratio_weeks":
            stages = [s for s in ("new_visit", "treatment") if f"queue:{s}" in shown and not shown.exact(f"queue:{s}")]
            if stages:
                # ratio = queue / production: a widened queue gives a range of ratios
                los, his = [], []
                for s in ("new_visit", "treatment"):
                    r_s, q = row.get(f"queue_production_ratio_weeks_{s}"), row.get(f"queue_{s}")
                    if r_s is None or not np.isfinite(r_s) or not q:
                        continue
                    per_week = q / r_s
                    lo, hi = shown.get(f"queue:{s}", (q, q))
                    los.append(lo / per_week)
                    his.append(hi / per_week)
                lo_text, hi_text = (format_count(max(v), language=language, decimals=1) for v in (los, his))
                text = "–" if not los else lo_text if lo_text == hi_text else f"{lo_text}–{hi_text}"
        out[key] = (label(f"key_figure.{key}", language), text)
    return out


def verdict(headline: pd.DataFrame, *, limit: int = 5, language: str = "sv", shown=None) -> str:
    """The clinic's state and this week's decision in one or two sentences (markdown).

    Examples
    --------
    >>> h = pd.DataFrame({"clinic": ["a"], "waiting_over_90": [212.0], "share_over_90_days": [0.287],
    ...                   "purchase_new_visits_12w": [0.0], "purchase_operations_12w": [186.0],
    ...                   "first_order_by": ["2026-12-07/2026-12-13"], "escalation": ["red"],
    ...                   "escalation_level": ["division"], "queue_change_1w": [12.0]})
    >>> print(verdict(h))  # doctest: +NORMALIZE_WHITESPACE
    **Röd – eskaleras till divisionen.** Kön växer (+12 sedan förra veckan). 212 patienter har väntat
    över 90 dagar (28,7 %). Köp 186 operationer de kommande 12 veckorna för att hålla vårdgarantin; den
    första beställningen senast v. 50 2026, de senare enligt tabellen över köpt vård.
    """
    r = headline.iloc[0]
    status = r.get("escalation")
    parts = []
    if isinstance(status, str):
        word = status_word(status, language).capitalize()
        lvl = status_word(r.get("escalation_level"), language)
        parts.append(f"**{word} – {label('plan.escalated_to', language)} {lvl}.**" if status != "green"
                     else f"**{word}.**")
    change = queue_change(r)
    if np.isfinite(change) and change != 0:
        signed = format_signed(change, language=language)
        parts.append(label("plan.queue_grows" if change > 0 else "plan.queue_shrinks", language, signed=signed))
    over = r.get("waiting_over_90")
    if over is not None and np.isfinite(over):
        if shown is not None and "over" in shown:  # the suppression rule of every other table
            count = shown.text("over", over, language=language)
            share = share_text(shown, "over", r.get("waiting_counted"), over, language=language)
        else:
            count = _value("count", over, language, limit)
            share = _value("share", r.get("share_over_90_days"), language, limit)
        parts.append(label("plan.waited_over_90", language, count=count, share=share))
    nv = float(r.get("purchase_new_visits_12w") or 0) if pd.notna(r.get("purchase_new_visits_12w")) else 0.0
    op = float(r.get("purchase_operations_12w") or 0) if pd.notna(r.get("purchase_operations_12w")) else 0.0
    if nv + op > 0:
        what = []
        if nv:
            what.append(f"{_value('count', nv, language, 0)} {label('plan.first_visits', language)}")
        if op:
            what.append(f"{_value('count', op, language, 0)} {label('plan.operations', language)}")
        by = period_name(r.get("first_order_by"), language)
        joined = label("plan.and", language).join(what)
        parts.append(label("plan.order_by", language, by=by, joined=joined))
    else:
        parts.append(label("plan.nothing_to_buy_12w", language))
    return " ".join(parts)


def escalation_text(settings: pd.DataFrame, *, language: str = "sv", kind: str = "week") -> str:
    """The escalation rule with the clinic's own limits (markdown); ``kind`` ("week" or "month"):
    the clinic's periods, in which a red shortfall's run to the region is said (four weeks, by
    days one month: :func:`kps_analysis.plan.plan_vs_outcome`)."""
    s = settings.iloc[0]
    return ESCALATION_RULE["en" if language == "en" else "sv"].format(
        days=int(s["guarantee_days"]), miss=1 - float(s["target_share"]), red=float(s.get("red_pct", 10)),
        yellow=float(s.get("yellow_pct", 5)), lead=int(s["lead_time_weeks"]),
        red_run=label(f"escalation.red_run_{'month' if kind == 'month' else 'week'}", language))


def capacity_check_table(check: pd.DataFrame, *, language: str = "sv", kind: str = "week") -> pd.DataFrame:
    """Capacity from resources beside demonstrated production, per stage, and the basis planned on.

    Every figure is per week [patients/week], for monthly data too (``kind="month"``: the
    demonstrated production of the latest normal months, per week, and the same months last
    year), so the headers say week whatever the clinic's periods.
    """
    stages = {"new_visit": label("table.first_visits", language), "treatment": label("table.operations", language)}
    recent, last_year = (("plan.demonstrated_last_8_normal_weeks", "plan.same_weeks_last_year") if kind != "month"
                         else ("plan.demonstrated_normal_months_per_week", "plan.same_months_last_year_per_week"))
    rows = []
    for r in check.itertuples(index=False):
        dev = r.deviation
        rows.append({
            label("table.stage", language): stages.get(r.stage, r.stage),
            label("plan.from_resources_per_normal_week", language):
                format_count(r.resources_per_week, language=language, decimals=1),
            label(recent, language):
                format_count(r.demonstrated_per_week, language=language, decimals=1),
            label(last_year, language):
                format_count(r.demonstrated_last_year_per_week, language=language, decimals=1),
            # one decimal where a whole per cent would hide that the difference passes the tolerance (−15,4 %)
            label("plan.difference", language):
                "–" if not np.isfinite(dev) else format_against(100 * dev, 100 * r.tolerance, language=language) + " %",
            label("plan.planned_on", language):
                label("plan.resources", language) if r.basis == "resources" else
                label("plan.demonstrated_production", language),
            label("plan.data_quality", language):
                (label("plan.differs_by_more_than", language) + f"{100 * r.tolerance:g} %")
                if r.finding else "ok",
        })
    return pd.DataFrame(rows)


def plan_table(plan: pd.DataFrame, *, weeks: int = 12, limit: int = 5, language: str = "sv") -> pd.DataFrame:
    """The first ``weeks`` of the production plan, both stages side by side, whole patients."""
    part = plan[plan["period_ahead"] <= weeks]
    cols = {"inflow": label("table.inflow", language), "capacity": label("sheet.capacity", language),
            "own_production": label("plan.own_production", language),
            "purchase": label("plan.purchase", language), "queue_end": label("plan.queue_at_week_end", language),
            "breaches_after_purchase": label("plan.over_90_d", language)}
    stages = {"new_visit": label("plan.first_visit", language), "treatment": label("plan.treatment", language)}
    out = pd.DataFrame({label('week', language): period_labels(part.drop_duplicates("period")["period"]).to_numpy()})
    for stage in [s for s in ("new_visit", "treatment") if s in set(part["stage"])]:
        sub = part[part["stage"] == stage].sort_values("period_ahead")
        stage_cols = dict(cols)
        for col in ("moved_in", "moved_out"):   # the region's moves, so the queue adds up row by row
            if col in sub.columns and sub[col].fillna(0).abs().sum() > 0:
                stage_cols[col] = label(f"column.{col}", language)
        for col, name in stage_cols.items():
            values = np.round(sub[col].to_numpy(float))
            # projections, shown exactly as in plan.xlsx (PROJECTED); ``limit`` is kept for the callers
            out[f"{stages[stage]}: {name}"] = [_value("count", v, language, 0) if v != 0 else "0" for v in values]
    return out.set_index(label("week", language))


def purchase_table(monthly: pd.DataFrame, *, limit: int = 5, language: str = "sv") -> pd.DataFrame:
    """The plan's purchase per month: first visits and operations apart, their costs and order-by week."""
    if monthly.empty:
        return pd.DataFrame({label('plan.purchase', language): [label("plan.nothing_to_buy", language)]})
    stages = {"new_visit": label("table.first_visits", language), "treatment": label("table.operations", language)}
    rows = []
    # the month the fixed weeks end inside is two rows (planning.purchase_by_month): the fixed weeks'
    # "(t.o.m. v. 7)", as the region overview says it, and the rest "(fr.o.m. v. 8)"
    split = set()
    if "boundary" in monthly.columns:
        split = {period_name(str(m), language) for m in monthly.loc[monthly["boundary"].astype(bool), "month"]}
    monthly = monthly.assign(later=~monthly["fixed"].astype(bool)) if "fixed" in monthly.columns else \
        monthly.assign(later=False)
    for r in monthly.sort_values(["month", "later", "stage"], kind="stable").itertuples(index=False):
        month = period_name(str(r.month), language)   # "feb 2027", as the region overview names it
        if month in split:
            month += (label("plan.month_until", language, week=period_name(r.until_week, language, year=False))
                      if not r.later else
                      label("plan.month_from", language, week=period_name(r.first_week, language, year=False)))
        rows.append({label('month', language): month, label("plan.kind", language): stages.get(r.stage, r.stage),
                     label("table.patients", language): _value("count", r.purchase, language, 0),
                     label("plan.cost_bought_sek", language): format_count(r.cost_external_sek,
                                                                                        language=language),
                     label("plan.same_volume_in_house_sek", language):
                         format_count(r.cost_internal_sek, language=language),
                     label("plan.order_by_week", language): _week_label(r.order_by)})
    return pd.DataFrame(rows).set_index(label("month", language))


def lead_time_text(plan: pd.DataFrame, settings: pd.DataFrame, *, limit: int = 5, language: str = "sv") -> str:
    """Breaches inside the purchase lead time, and what could still prevent them (markdown)."""
    lead = int(settings["lead_time_weeks"].iloc[0])
    inside = plan[plan["within_lead_time"]]
    peak = inside.groupby("period_ahead")["breaches_after_purchase"].sum()
    if lead == 0 or peak.empty or peak.max() <= 0:
        return label("plan.lead_time_none", language)
    spare = inside.groupby("period_ahead")["unused_capacity"].sum().sum()
    n = _value("count", peak.max(), language, 0)          # projections: exact (PROJECTED)
    spare_text = _value("count", spare, language, 0)
    return label("plan.lead_time", language, lead=lead, n=n, spare_text=spare_text)


def aggregate_order_text(settings: pd.DataFrame, *, patient_level: bool, language: str = "sv",
                         kind: str = "week") -> str:
    """Why a clinic that reports weekly totals buys the patients its data report past the limit
    (markdown; empty for any other clinic).

    Its waiting list is rebuilt from the totals (:func:`kps_analysis.waits.waiting_from_aggregates`),
    and those the data count as already past the guarantee wait, as far as the data tell, for a
    reason of their own: the plan serves them after the others
    (:func:`kps_analysis.waits.aggregate_classes`), so they stay until they are bought or the queue
    within the limit is served, while the report's general text says patients are taken by
    priority and waiting time. ``settings`` is the clinic's ``model.settings``
    (``waiting_over_90_reported`` [patients] at its latest period, ``guarantee_days`` [days]);
    ``patient_level``: the clinic has a patient-level waiting list (then the text is empty);
    ``kind``: ``"week"`` or ``"month"``, the clinic's periods (weekly or monthly totals).

    Examples
    --------
    >>> s = pd.DataFrame({"guarantee_days": [90.0], "waiting_over_90_reported": [3.0]})
    >>> aggregate_order_text(s, patient_level=False).startswith("**Veckosummor")
    True
    >>> aggregate_order_text(s, patient_level=False, kind="month").startswith("**Månadssummor")
    True
    >>> aggregate_order_text(s, patient_level=True), aggregate_order_text(s.assign(waiting_over_90_reported=0.0),
    ...                                                                  patient_level=False)
    ('', '')
    """
    if patient_level or settings is None or not len(settings) or "waiting_over_90_reported" not in settings:
        return ""
    if not (settings["waiting_over_90_reported"].astype(float).fillna(0.0) > 0).any():
        return ""
    days = float(settings["guarantee_days"].iloc[0]) if "guarantee_days" in settings else 90.0
    totals = label(f"plan.totals_{'month' if kind == 'month' else 'week'}", language)
    return label("plan.aggregate_order", language, days=f"{days:g}", totals=totals)


def uncertainty_table(model, *, language: str = "sv") -> pd.DataFrame:
    """Monte Carlo: the chance that nobody breaches per month, and the purchase at 50/80/95 %."""
    stages = {"new_visit": label("table.first_visits", language), "treatment": label("table.operations", language)}
    by_month = model.uncertainty_by_month
    wide = by_month.pivot_table(index="month", columns="stage", values="p_no_breach", aggfunc="first")
    # months by name (jan 2027), as the purchase table and the first screen name them
    out = pd.DataFrame(index=[period_name(str(m), language) for m in wide.index])
    for stage in wide.columns:
        out[f"{stages.get(stage, stage)}: {label('plan.chance_nobody_passes_90_d_lower', language)}"] = [
            format_share(v, language=language) for v in wide[stage]]   # as the key figures show a chance
    out.index.name = label("month", language)
    return out


def uncertainty_purchase_table(model, *, limit: int = 5, language: str = "sv") -> pd.DataFrame:
    """The purchase over the fixed weeks: the plan's and at 50/80/95 % of simulated futures."""
    stages = {"new_visit": label("table.first_visits", language), "treatment": label("table.operations", language)}
    rows = []
    for r in model.uncertainty.itertuples(index=False):
        rows.append({label('plan.kind', language): stages.get(r.stage, r.stage),
                     label("plan.planned_purchase", language): _value("count", r.purchase_plan, language, 0),
                     "50 %": _value("count", r.purchase_p50, language, 0),
                     "80 %": _value("count", r.purchase_p80, language, 0),
                     "95 %": _value("count", r.purchase_p95, language, 0),
                     label("plan.chance_nobody_passes_90_d", language):
                         format_share(r.p_no_breach_fixed, language=language)})
    return pd.DataFrame(rows)


def history_table(history: pd.DataFrame, *, language: str = "sv") -> pd.DataFrame:
    """Plan against outcome at the latest week of each stage: the fixed plan, the agreement, last year."""
    if history.empty:
        return pd.DataFrame({label('sheet.plan_against_outcome', language): [
            label("plan.no_history", language)]})
    stages = {"new_visit": label("table.first_visits", language), "treatment": label("table.operations", language)}
    last = history[history.groupby("stage")["period"].transform("max") == history["period"]]
    rows = []
    for r in last.itertuples(index=False):
        pct = lambda v: "–" if not np.isfinite(v) else format_signed(v, language=language, decimals=1) + " %"  # noqa
        rows.append({label('table.stage', language): stages.get(r.stage, r.stage),
                     label("plan.latest_week_plan_actual", language):
                         f"{format_count(r.planned_own, language=language)} / "
                         f"{format_count(r.actual_own, language=language)}",
                     label("plan.year_to_date_fixed_plan", language):
                         format_count(r.cum_planned_own, language=language),
                     label("plan.actual", language): format_count(r.cum_actual_own, language=language),
                     label("plan.against_plan", language): pct(r.cum_deviation_pct),
                     label("plan.against_the_care_agreement", language): pct(r.vs_agreement_pct),
                     label("plan.against_last_year", language): pct(r.vs_last_year_pct)})
    return pd.DataFrame(rows).set_index(label("table.stage", language))


def scenario_table(table: pd.DataFrame, *, language: str = "sv") -> pd.DataFrame:
    """The scenarios beside the plan (:func:`kps_analysis.planning.scenarios`), over the plan's horizon."""
    rows = []
    for r in table.itertuples(index=False):
        rows.append({
            "Scenario": label("plan.the_plan_baseline", language) if r.scenario == "baseline"
            else (r.description or r.scenario),
            label("plan.purchase_patients", language): format_count(r.purchase, language=language),
            label("plan.cost_bought_sek", language): format_count(r.cost_external_sek, language=language),
            label("plan.change_of_purchase", language): format_signed(r.purchase_change, language=language),
            label("plan.over_90_days_if_nothing_is_bought_peak", language):
                format_count(r.breaches_if_nothing_bought_peak, language=language),
        })
    return pd.DataFrame(rows).set_index("Scenario")


def moves_text(model, clinic: str, *, language: str = "sv", names: dict | None = None) -> str:
    """The region's moves in and out of this clinic's plan, in one sentence (markdown); the other
    clinics by their ``names`` (id -> name; the id where none is given), weeks as readers name them."""
    names = names or {}
    moves = model.moves
    if moves is None or moves.empty:
        return label("plan.no_moves", language)
    out = moves[moves["clinic_from"] == clinic]
    into = moves[moves["clinic_to"] == clinic]
    parts = []
    for frame, other, verb in ((out, "clinic_to", "plan.moved_to"), (into, "clinic_from", "plan.taken_over_from")):
        if frame.empty:
            continue
        for cid, g in frame.groupby(other):
            first = period_name(str(g["period"].min()), language)
            n = format_count(g["patients"].sum(), language=language)
            parts.append(f"{n} {label('plan.patients', language)} {label(verb, language)} "
                         f"{escape_text(names.get(str(cid), str(cid)))} ({label('plan.from_week', language)} {first})")
    if not parts:
        return label("plan.no_moves", language)
    lead = label("plan.common_waiting_list", language)
    tail = label("plan.moves_tail", language)
    return lead + "; ".join(parts) + tail
