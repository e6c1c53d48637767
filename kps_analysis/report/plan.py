"""Tables and sentences of the planning model for the clinic report (sv default, en).

Every function here formats numbers of one :class:`kps_analysis.planning.PlanningModel`;
none computes a quantity of its own, so the report's sections cannot disagree. Counts
below the suppression limit are shown as ``<limit`` (:mod:`kps_analysis.report.suppression`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..planning import ESCALATION_RULE
from .formatting import format_count, format_signed, period_labels, period_name
from .labels import label, status_word
from .markup import escape_text
from .suppression import headline_shown, share_text

#: The headline figures a manager reads first, in order, with their labels (sv, en) and kind.
KEY_FIGURES = (
    ("queue_new_visit", "Väntar på nybesök (patienter)", "Waiting for a first visit (patients)", "count"),
    ("queue_treatment", "Väntar på behandling (patienter)", "Waiting for treatment (patients)", "count"),
    ("queue_change_1w", "Förändring av köerna sedan förra veckan", "Change of the queues since last week", "signed"),
    ("share_over_90_days", "Andel som väntat över 90 dagar (egna val undantagna)",
     "Share waited over 90 days (chosen waits left out)", "share"),
    ("waiting_chosen", "Väntar längre av eget val (ingår inte ovan)", "Waiting longer by choice (not above)", "count"),
    ("queue_production_ratio_weeks", "Köproduktionskvot, sämsta steget (veckor)",
     "Queue-to-production ratio, worse stage (weeks)", "ratio"),
    ("projected_breaches_peak_12w", "Över 90 dagar inom 12 veckor om inget köps, högsta (patienter)",
     "Over 90 days within 12 weeks if nothing is bought, peak (patients)", "count"),
    ("projected_breaches_12w", "… i vecka 12 (patienter)", "… in week 12 (patients)", "count"),
    ("breaches_after_purchase_peak_12w", "Över 90 dagar innan köpt vård hinner börja (ledtiden), högsta (patienter)",
     "Over 90 days before purchased care can start (lead time), peak (patients)", "count"),
    ("purchase_new_visits_12w", "Köp nybesök 12 veckor (patienter)", "Buy first visits, 12 weeks (patients)", "count"),
    ("purchase_cost_new_visits_12w", "… kostnad (kr)", "… cost (SEK)", "count"),
    ("purchase_operations_12w", "Köp operationer 12 veckor (patienter)", "Buy operations, 12 weeks (patients)",
     "count"),
    ("purchase_cost_operations_12w", "… kostnad (kr)", "… cost (SEK)", "count"),
    ("first_order_by", "Första köpet ska beställas senast", "First purchase to be ordered by", "week"),
    ("capacity_gap_12w", "Kapacitetsglapp 12 veckor: behov för vårdgarantin − egen kapacitet (patienter)",
     "Capacity gap, 12 weeks: need to keep the guarantee − own capacity (patients)", "signed"),
    ("p_no_breach_12w", "Chans att ingen passerar 90 dagar med planerat köp (från ledtidens slut till vecka 12)",
     "Chance nobody passes 90 days with the planned purchase (from the end of the lead time to week 12)", "share"),
    ("escalation", "Eskalering", "Escalation", "status"),
    ("escalation_level", "Eskaleras till", "Escalated to", "status"),
)


def _week_label(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
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
        return format_count(100 * float(val), language=language, decimals=1) + " %"
    if kind == "ratio":
        return format_count(float(val), language=language, decimals=1)
    if kind == "signed":
        return format_signed(float(val), language=language)
    v = float(val)
    if limit and 0 < v < limit:
        return f"<{limit}"
    return format_count(v, language=language)


#: Key figures that are counts of the waiting list now, and their snapshot cell.
_KEY_CELLS = {"queue_new_visit": "queue:new_visit", "queue_treatment": "queue:treatment", "waiting_chosen": "chosen"}


def key_figures_table(headline: pd.DataFrame, *, limit: int = 5, language: str = "sv", shown=None) -> pd.DataFrame:
    """The key figures of one clinic (:data:`KEY_FIGURES`), label and formatted value with unit.

    Counts of 1 to ``limit - 1`` patients are shown as ``<limit``, and the waiting-list
    counts follow the whole suppression rule (:func:`kps_analysis.report.protect_counts`):
    ``shown`` is the clinic's :func:`kps_analysis.report.protect_snapshot` (per stage, so
    a queue whose chosen waits are few is shown as a range); without it only the totals
    are protected (:func:`headline_shown`). A share over 90 days whose count is protected,
    a change of a widened queue and the köproduktionskvot of a widened queue are shown as
    ranges. Figures a clinic does not have (no treatment stage) are left out.

    Examples
    --------
    >>> h = pd.DataFrame({"clinic": ["a"], "queue_new_visit": [120.0], "share_over_90_days": [0.05],
    ...                   "purchase_operations_12w": [3.0], "escalation": ["yellow"]})
    >>> key_figures_table(h).iloc[:, 0].tolist()
    ['120', '5,0 %', '<5', 'gul']
    """
    rows = list(key_figure_texts(headline, limit=limit, language=language, shown=shown).values())
    head = ("Mått", "Värde") if language == "sv" else ("Measure", "Value")
    return pd.DataFrame(rows, columns=list(head)).set_index(head[0])


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
    for key, sv, en, kind in KEY_FIGURES:
        if key not in row.index:
            continue
        val = row[key]
        if kind != "week" and kind != "status" and (val is None or (isinstance(val, float) and np.isnan(val))):
            continue
        text = _value(kind, val, language, limit)
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
        out[key] = (sv if language == "sv" else en, text)
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
    över 90 dagar (28,7 %). Beställ senast vecka 2026-W50: 186 operationer de kommande 12 veckorna för
    att hålla vårdgarantin.
    """
    r = headline.iloc[0]
    sv = language == "sv"
    status = r.get("escalation")
    parts = []
    if isinstance(status, str):
        word = status_word(status, language).capitalize()
        lvl = status_word(r.get("escalation_level"), language)
        parts.append(f"**{word} – {'eskaleras till' if sv else 'escalated to'} {lvl}.**" if status != "green"
                     else f"**{word}.**")
    change = r.get("queue_change_1w")
    if change is not None and np.isfinite(change) and change != 0:
        signed = format_signed(change, language=language)
        parts.append((f"Kön växer ({signed} sedan förra veckan)." if change > 0 else
                      f"Kön minskar ({signed} sedan förra veckan).") if sv else
                     (f"The queue grows ({signed} since last week)." if change > 0 else
                      f"The queue shrinks ({signed} since last week)."))
    over = r.get("waiting_over_90")
    if over is not None and np.isfinite(over):
        if shown is not None and "over" in shown:  # the suppression rule of every other table
            count = shown.text("over", over, language=language)
            share = share_text(shown, "over", r.get("waiting_counted"), over, language=language)
        else:
            count = _value("count", over, language, limit)
            share = _value("share", r.get("share_over_90_days"), language, limit)
        parts.append(f"{count} patienter har väntat över 90 dagar ({share})." if sv else
                     f"{count} patients have waited over 90 days ({share}).")
    nv = float(r.get("purchase_new_visits_12w") or 0) if pd.notna(r.get("purchase_new_visits_12w")) else 0.0
    op = float(r.get("purchase_operations_12w") or 0) if pd.notna(r.get("purchase_operations_12w")) else 0.0
    if nv + op > 0:
        what = []
        if nv:
            what.append(f"{_value('count', nv, language, limit)} {'nybesök' if sv else 'first visits'}")
        if op:
            what.append(f"{_value('count', op, language, limit)} {'operationer' if sv else 'operations'}")
        by = _week_label(r.get("first_order_by"))
        joined = (" och " if sv else " and ").join(what)
        parts.append(f"Beställ senast vecka {by}: {joined} de kommande 12 veckorna för att hålla vårdgarantin."
                     if sv else f"Order by week {by}: {joined} over the coming 12 weeks to keep the guarantee.")
    else:
        parts.append("Den egna kapaciteten räcker för att hålla vårdgarantin de kommande 12 veckorna; inget köp "
                     "behövs." if sv else
                     "Own capacity keeps the guarantee over the coming 12 weeks; nothing needs to be bought.")
    return " ".join(parts)


def escalation_text(settings: pd.DataFrame, *, language: str = "sv") -> str:
    """The escalation rule with the clinic's own limits (markdown)."""
    s = settings.iloc[0]
    return ESCALATION_RULE["en" if language == "en" else "sv"].format(
        days=int(s["guarantee_days"]), miss=1 - float(s["target_share"]), red=float(s.get("red_pct", 10)),
        yellow=float(s.get("yellow_pct", 5)), lead=int(s["lead_time_weeks"]))


def capacity_check_table(check: pd.DataFrame, *, language: str = "sv") -> pd.DataFrame:
    """Capacity from resources beside demonstrated production, per stage, and the basis planned on."""
    sv = language == "sv"
    stages = {"new_visit": "Nybesök" if sv else "First visits", "treatment": "Operationer" if sv else "Operations"}
    rows = []
    for r in check.itertuples(index=False):
        dev = r.deviation
        rows.append({
            ("Steg" if sv else "Stage"): stages.get(r.stage, r.stage),
            ("Enligt resurser (per normal vecka)" if sv else "From resources (per normal week)"):
                format_count(r.resources_per_week, language=language, decimals=1),
            ("Visad produktion, senaste 8 normala veckor" if sv else "Demonstrated, last 8 normal weeks"):
                format_count(r.demonstrated_per_week, language=language, decimals=1),
            ("Samma veckor i fjol" if sv else "Same weeks last year"):
                format_count(r.demonstrated_last_year_per_week, language=language, decimals=1),
            ("Skillnad" if sv else "Difference"):
                "–" if not np.isfinite(dev) else format_signed(100 * dev, language=language, decimals=0) + " %",
            ("Planeras på" if sv else "Planned on"):
                ("resurserna" if sv else "resources") if r.basis == "resources" else
                ("visad produktion" if sv else "demonstrated production"),
            ("Datakvalitet" if sv else "Data quality"):
                (("avviker mer än " if sv else "differs by more than ") + f"{100 * r.tolerance:g} %")
                if r.finding else "ok",
        })
    return pd.DataFrame(rows)


def plan_table(plan: pd.DataFrame, *, weeks: int = 12, limit: int = 5, language: str = "sv") -> pd.DataFrame:
    """The first ``weeks`` of the production plan, both stages side by side, whole patients."""
    sv = language == "sv"
    part = plan[plan["period_ahead"] <= weeks]
    cols = {"inflow": "Inflöde" if sv else "Inflow", "capacity": "Kapacitet" if sv else "Capacity",
            "own_production": "Egen produktion" if sv else "Own production",
            "purchase": "Köp" if sv else "Purchase", "queue_end": "Kö vid veckans slut" if sv else "Queue at week end",
            "breaches_after_purchase": "Över 90 d" if sv else "Over 90 d"}
    stages = {"new_visit": "Nybesök" if sv else "First visit", "treatment": "Behandling" if sv else "Treatment"}
    out = pd.DataFrame({label("week", language): period_labels(part.drop_duplicates("period")["period"]).to_numpy()})
    for stage in [s for s in ("new_visit", "treatment") if s in set(part["stage"])]:
        sub = part[part["stage"] == stage].sort_values("period_ahead")
        for col, name in cols.items():
            values = np.round(sub[col].to_numpy(float))
            out[f"{stages[stage]}: {name}"] = [_value("count", v, language, limit if col in (
                "purchase", "breaches_after_purchase") else 0) if v != 0 else "0" for v in values]
    return out.set_index(label("week", language))


def purchase_table(monthly: pd.DataFrame, *, limit: int = 5, language: str = "sv") -> pd.DataFrame:
    """The plan's purchase per month: first visits and operations apart, their costs and order-by week."""
    sv = language == "sv"
    if monthly.empty:
        return pd.DataFrame({("Köp" if sv else "Purchase"): ["Inget köp behövs." if sv else "Nothing to buy."]})
    stages = {"new_visit": "Nybesök" if sv else "First visits", "treatment": "Operationer" if sv else "Operations"}
    rows = []
    for r in monthly.sort_values(["month", "stage"]).itertuples(index=False):
        rows.append({label("month", language): str(r.month), ("Slag" if sv else "Kind"): stages.get(r.stage, r.stage),
                     ("Patienter" if sv else "Patients"): _value("count", r.purchase, language, limit),
                     ("Kostnad köpt (kr)" if sv else "Cost bought (SEK)"): format_count(r.cost_external_sek,
                                                                                        language=language),
                     ("Samma volym i egen regi (kr)" if sv else "Same volume in-house (SEK)"):
                         format_count(r.cost_internal_sek, language=language),
                     ("Beställ senast vecka" if sv else "Order by week"): _week_label(r.order_by)})
    return pd.DataFrame(rows).set_index(label("month", language))


def lead_time_text(plan: pd.DataFrame, settings: pd.DataFrame, *, limit: int = 5, language: str = "sv") -> str:
    """Breaches inside the purchase lead time, and what could still prevent them (markdown)."""
    sv = language == "sv"
    lead = int(settings["lead_time_weeks"].iloc[0])
    inside = plan[plan["within_lead_time"]]
    peak = inside.groupby("period_ahead")["breaches_after_purchase"].sum()
    if lead == 0 or peak.empty or peak.max() <= 0:
        return ("Inga patienter passerar 90 dagar innan ett köp hinner ordnas." if sv else
                "No patient passes 90 days before a purchase can be arranged.")
    spare = inside.groupby("period_ahead")["unused_capacity"].sum().sum()
    n = _value("count", peak.max(), language, limit)
    spare_text = _value("count", spare, language, limit)
    if sv:
        return (f"Köp tar {lead} veckor att ordna, så upp till **{n} patienter** passerar 90 dagar under de "
                f"närmaste {lead} veckorna innan köpt vård kan ta emot dem. Det som fortfarande kan hindra det: "
                f"extra mottagningstider eller operationspass i egen regi, eller flytt till ett annat sjukhus i "
                f"regionen med ledig kapacitet (klinikens egen outnyttjade kapacitet under ledtiden: {spare_text}).")
    return (f"A purchase takes {lead} weeks to arrange, so up to **{n} patients** pass 90 days in the next {lead} "
            f"weeks before purchased care can take them. What can still prevent it: extra clinic slots or theatre "
            f"sessions in-house, or a move to another hospital of the region with spare capacity (the clinic's own "
            f"unused capacity in the lead time: {spare_text}).")


def uncertainty_table(model, *, language: str = "sv") -> pd.DataFrame:
    """Monte Carlo: the chance that nobody breaches per month, and the purchase at 50/80/95 %."""
    sv = language == "sv"
    stages = {"new_visit": "Nybesök" if sv else "First visits", "treatment": "Operationer" if sv else "Operations"}
    by_month = model.uncertainty_by_month
    wide = by_month.pivot_table(index="month", columns="stage", values="p_no_breach", aggfunc="first")
    out = pd.DataFrame(index=wide.index.astype(str))
    for stage in wide.columns:
        out[f"{stages.get(stage, stage)}: {'chans att ingen passerar 90 d' if sv else 'chance nobody passes 90 d'}"] = [
            format_count(100 * v, language=language) + " %" for v in wide[stage]]
    out.index.name = label("month", language)
    return out


def uncertainty_purchase_table(model, *, limit: int = 5, language: str = "sv") -> pd.DataFrame:
    """The purchase over the fixed weeks: the plan's and at 50/80/95 % of simulated futures."""
    sv = language == "sv"
    stages = {"new_visit": "Nybesök" if sv else "First visits", "treatment": "Operationer" if sv else "Operations"}
    rows = []
    for r in model.uncertainty.itertuples(index=False):
        rows.append({("Slag" if sv else "Kind"): stages.get(r.stage, r.stage),
                     ("Planerat köp" if sv else "Planned purchase"): _value("count", r.purchase_plan, language, limit),
                     "50 %": _value("count", r.purchase_p50, language, limit),
                     "80 %": _value("count", r.purchase_p80, language, limit),
                     "95 %": _value("count", r.purchase_p95, language, limit),
                     ("Chans att ingen passerar 90 d" if sv else "Chance nobody passes 90 d"):
                         format_count(100 * r.p_no_breach_fixed, language=language) + " %"})
    return pd.DataFrame(rows)


def history_table(history: pd.DataFrame, *, language: str = "sv") -> pd.DataFrame:
    """Plan against outcome at the latest week of each stage: the fixed plan, the agreement, last year."""
    sv = language == "sv"
    if history.empty:
        return pd.DataFrame({("Plan mot utfall" if sv else "Plan against outcome"): [
            "Ingen tidigare fastställd plan finns ännu (första körningen)." if sv else
            "No earlier fixed plan yet (the first run)."]})
    stages = {"new_visit": "Nybesök" if sv else "First visits", "treatment": "Operationer" if sv else "Operations"}
    last = history[history.groupby("stage")["period"].transform("max") == history["period"]]
    rows = []
    for r in last.itertuples(index=False):
        pct = lambda v: "–" if not np.isfinite(v) else format_signed(v, language=language, decimals=1) + " %"  # noqa
        rows.append({("Steg" if sv else "Stage"): stages.get(r.stage, r.stage),
                     ("Senaste veckan: plan / utfall" if sv else "Latest week: plan / actual"):
                         f"{format_count(r.planned_own, language=language)} / "
                         f"{format_count(r.actual_own, language=language)}",
                     ("Hittills i år: fastställd plan" if sv else "Year to date: fixed plan"):
                         format_count(r.cum_planned_own, language=language),
                     ("Utfall" if sv else "Actual"): format_count(r.cum_actual_own, language=language),
                     ("Mot plan" if sv else "Against plan"): pct(r.cum_deviation_pct),
                     ("Mot vårdöverenskommelsen" if sv else "Against the care agreement"): pct(r.vs_agreement_pct),
                     ("Mot i fjol" if sv else "Against last year"): pct(r.vs_last_year_pct)})
    return pd.DataFrame(rows).set_index("Steg" if sv else "Stage")


def scenario_table(table: pd.DataFrame, *, language: str = "sv") -> pd.DataFrame:
    """The scenarios beside the plan (:func:`kps_analysis.planning.scenarios`), over the plan's horizon."""
    sv = language == "sv"
    rows = []
    for r in table.itertuples(index=False):
        rows.append({
            "Scenario": ("Planen (nuläge)" if sv else "The plan (baseline)") if r.scenario == "baseline"
            else (r.description or r.scenario),
            ("Köp (patienter)" if sv else "Purchase (patients)"): format_count(r.purchase, language=language),
            ("Kostnad köpt (kr)" if sv else "Cost bought (SEK)"): format_count(r.cost_external_sek, language=language),
            ("Ändring av köpet" if sv else "Change of purchase"): format_signed(r.purchase_change, language=language),
            ("Över 90 dagar om inget köps, högsta" if sv else "Over 90 days if nothing is bought, peak"):
                format_count(r.breaches_if_nothing_bought_peak, language=language),
        })
    return pd.DataFrame(rows).set_index("Scenario")


def moves_text(model, clinic: str, *, language: str = "sv") -> str:
    """The region's moves in and out of this clinic's plan, in one sentence (markdown)."""
    sv = language == "sv"
    moves = model.moves
    if moves is None or moves.empty:
        return ("Inga patienter flyttas till eller från andra sjukhus i planen." if sv else
                "No patients are moved to or from other hospitals in the plan.")
    out = moves[moves["clinic_from"] == clinic]
    into = moves[moves["clinic_to"] == clinic]
    parts = []
    for frame, other, verb_sv, verb_en in ((out, "clinic_to", "flyttas till", "moved to"),
                                           (into, "clinic_from", "tas emot från", "taken over from")):
        if frame.empty:
            continue
        for name, g in frame.groupby(other):
            first = _week_label(str(g["period"].min()))
            n = format_count(g["patients"].sum(), language=language)
            parts.append(f"{n} {'patienter' if sv else 'patients'} {verb_sv if sv else verb_en} {escape_text(name)} "
                         f"({'från vecka' if sv else 'from week'} {first})")
    if not parts:
        return ("Inga patienter flyttas till eller från andra sjukhus i planen." if sv else
                "No patients are moved to or from other hospitals in the plan.")
    lead = "Gemensam väntelista: " if sv else "Common waiting list: "
    tail = (" i stället för att köpas; de ingår i planen och köpet nedan är det som återstår." if sv else
            " instead of being bought; they are in the plan and the purchase below is what remains.")
    return lead + "; ".join(parts) + tail
