"""A clinic's figures as report tables (formatted text, sv or en): headline, waits,
changes, data quality, loads, rates, purchase, plan, follow-up, scenarios, Monte Carlo.

Counts of patients waiting now follow the suppression rule
(:mod:`kps_analysis.report.suppression`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .formatting import format_count, format_share, format_signed, period_labels
from .labels import STAGE_NAMES, TEXTS, label, stage_names, status_word
from .suppression import Shown, protect_snapshot, share_text, wait_summary_shown


def headline_table(headline: pd.DataFrame, *, language: str = "sv") -> pd.DataFrame:
    """The one-clinic headline figures as a two-column table (label, formatted value).

    Shares are shown in per cent, the queue-to-production ratio with one decimal,
    counts and SEK as whole numbers; a figure not computed is shown as "–".
    """
    row = headline.iloc[0]
    values = []
    for key, val in row.items():
        if key in ("clinic", "period"):
            continue
        if key in ("escalation", "escalation_level"):
            text = status_word(val, language)
        elif isinstance(val, str) or val is None:
            text = val or "–"
        elif key.startswith("share"):
            text = format_share(float(val), language=language)
        elif "ratio" in key.split("_") or "pressure" in key:   # not "operations"
            text = format_count(float(val), language=language, decimals=1)
        elif key == "queue_change_1w":
            text = format_signed(val, language=language)
        else:
            text = format_count(float(val), language=language)
        values.append((label(key, language), text))
    head = (label("table.measure", language), label("table.value", language))
    return pd.DataFrame(values, columns=list(head)).set_index(head[0])


def wait_table(bands: pd.DataFrame, *, limit: int = 5, language: str = "sv", shown: Shown | None = None,
               guarantee_days: float = 90) -> pd.DataFrame:
    """Waiting-time bands for a shared report under the suppression rule (:func:`protect_counts`).

    ``shown`` is the clinic's :func:`protect_snapshot` (so the bands agree with every other
    table); without it the bands are protected against their stage's total and its
    parts within and beyond ``guarantee_days``.
    """
    cols = [c for c in ("stage", "band", "patients") if c in bands.columns]
    if shown is None:
        shown = protect_snapshot(bands.assign(wait_days=bands["band_start_days"], patient_chosen_wait=False),
                                 guarantee_days=guarantee_days, limit=limit)
    table = bands[cols].copy()
    stage = bands["stage"].astype(str) if "stage" in bands.columns else pd.Series("new_visit", index=bands.index)
    cells = "band:" + stage + ":" + bands["band_start_days"].astype(int).astype(str)
    table["patients"] = [shown.text(c, v, language=language) for c, v in zip(cells, bands["patients"])]
    if "stage" in cols:
        table["stage"] = stage_names(table["stage"], language)
    names = {"stage": label("table.stage", language),
             "band": label("table.waiting_time_days", language),
             "patients": label("table.patients", language)}
    return table.rename(columns=names).set_index(names["stage"] if "stage" in cols else names["band"])


#: Change measures that are counts of the waiting list now, and their snapshot cell.
_CHANGE_CELLS = {"queue_new_visit": "queue:new_visit", "queue_treatment": "queue:treatment", "waiting_over_90": "over"}


def changes_table(changes: pd.DataFrame, *, limit: int = 5, language: str = "sv",
                  shown: Shown | None = None) -> pd.DataFrame:
    """What changed since last week (:func:`kps_analysis.summary.week_changes`) for a report.

    One row per measure: last week, this week, the change (with its sign) and the usual
    level (mean of the four weeks before); a change beyond two standard deviations of
    the usual week-on-week changes is marked. Counts below ``limit`` are suppressed
    ("<5"), and so is a change between two such counts, since it would reveal them. With
    the clinic's ``shown`` snapshot (:func:`protect_snapshot`), a queue widened by the
    suppression rule is shown as its range, with the change as a range, and the
    köproduktionskvot of that week is not shown (times production it is the queue). A
    ``changes`` frame through :func:`kps_analysis.report.suppress_tables` (the
    ``<column>_suppressed`` flags of ``tables/week_changes.csv``) has the cells it hides
    shown as "dolt" (a total whose part the weekly table hides would give the part back).

    Examples
    --------
    >>> c = pd.DataFrame({"measure": ["queue_new_visit"], "this_week": [130.0], "last_week": [101.0],
    ...                   "change": [29.0], "usual": [100.5], "unusual": [True], "direction": ["up"]})
    >>> changes_table(c, language="en").iloc[0].tolist()
    ['101', '130', '+29', '100', 'unusually large increase']
    """
    head = [label(key, language) for key in ("table.measure", "changes.last_week", "changes.this_week",
                                             "changes.change", "changes.usual", "changes.note")]
    unusual = {"up": label("changes.unusual_up", language), "down": label("changes.unusual_down", language)}
    rows = []
    for r in changes.itertuples(index=False):
        ratio = r.measure == "queue_production_ratio_weeks"
        dec = 1 if ratio else 0

        def fmt(v, ratio=ratio, dec=dec):
            if v is not None and v == v and not ratio and limit > 0 and 0 < abs(v) < limit:
                return label("suppressed", language).format(limit=limit)
            return format_count(v, language=language, decimals=dec)

        hidden = not ratio and limit > 0 and any(0 < abs(v) < limit for v in (r.this_week, r.last_week)
                                                 if v == v and v is not None)
        note = ""
        if bool(r.unusual):
            note = unusual.get(r.direction, "")
        # the change of the values as shown (7,2 -> 6,9 is -0,3, not the unrounded -0,35 shown as -0,4)
        shown_change = round(r.this_week, dec) - round(r.last_week, dec) if ratio and np.isfinite(
            [r.this_week, r.last_week]).all() else r.change
        this_week, change = fmt(r.this_week), (label("suppressed", language).format(limit=limit) if hidden
                                               else format_signed(shown_change, language=language, decimals=dec))
        cell = _CHANGE_CELLS.get(r.measure)
        queues_exact = shown is None or all(shown.exact(c) for c in ("queue:new_visit", "queue:treatment"))
        if shown is not None and cell in shown and not shown.exact(cell):
            # this week's count is protected: the change would give it back from last week's
            this_week = shown.text(cell, language=language)
            lo, hi = shown[cell]
            change = "–" if hidden or r.last_week != r.last_week else (
                f"{format_signed(lo - r.last_week, language=language)} – "
                f"{format_signed(hi - r.last_week, language=language)}")
            note = ""
        elif ratio and not queues_exact:
            this_week, change, note = "–", "–", ""  # the ratio times production gives the queue back
        last_week, usual = fmt(r.last_week), fmt(r.usual)
        # a cell the result tables hide (suppress_tables: a total whose part is hidden, a week the
        # weekly table blanks) is hidden here too, or the two together would give the count back
        flags = r._asdict()
        gone = label("table.hidden", language)

        def hid(*cols, flags=flags):
            return any(pd.notna(flags.get(f"{c}_suppressed")) and bool(flags.get(f"{c}_suppressed")) for c in cols)

        widened = shown is not None and cell in shown and not shown.exact(cell)
        if hid("last_period", "last_week") and last_week != label("suppressed", language).format(limit=limit):
            last_week = gone
        if hid("this_period", "this_week") and not widened and this_week != label(
                "suppressed", language).format(limit=limit):
            this_week = gone
        if hid("change") and not widened and change != label("suppressed", language).format(limit=limit):
            change, note = gone, ""
        if hid("usual"):
            usual = gone
        rows.append([label(r.measure, language), last_week, this_week, change, usual, note])
    return pd.DataFrame(rows, columns=head).set_index(head[0])


#: The validation's messages (:func:`kps_analysis.data.validate`, the readers' warnings) in
#: Swedish: an English pattern and its Swedish text, ``{unit}``/``{units}`` the period word.
_FINDING_SV = [
    (r"(?P<unit>week|month) (?P<a>\S+) missing", "{unit} {a} saknas"),
    (r"(?P<n>\d+) (?P<unit>week|month)s missing \((?P<a>.+?)\.\.(?P<b>.+?)\)", "{n} {units} saknas ({a}–{b})"),
    (r"queue changed by (?P<c>\S+) but inflow - outflow = (?P<f>\S+) \(difference (?P<d>\S+)\)",
     "kön ändrades med {c} men inflöde − utflöde = {f} (skillnad {d})"),
    (r"(?P<n>\d+) (?P<unit>week|month)s of zeros \((?P<a>.+?)\.\.(?P<b>.+?)\) where the median is (?P<x>\S+): "
     r"possible registration gap",
     "{n} {units} med nollor ({a}–{b}) där medianen är {x}: möjligt glapp i registreringen"),
    (r"duplicate row for this (?P<unit>week|month)", "dubbel rad för samma {unit}"),
    (r"negative count (?P<v>\S+)", "negativt antal {v}"),
    (r"(?P<v>\S+) is not a whole number", "{v} är inte ett heltal"),
    (r"(?P<v>\S+) is more than the plausible maximum of (?P<m>\S+) per (?P<unit>week|month) "
     r"\(parameter max_count_per_period\)",
     "{v} är mer än det rimliga högsta värdet {m} per {unit} (parametern max_count_per_period)"),
    (r"the column has no value in any row \(every cell is blank\): fill it in or delete the column",
     "kolumnen har inget värde på någon rad (alla celler är tomma): fyll i den eller ta bort den"),
    (r"(?P<unit>week|month) ends before (?P<d>\S+) \(the earliest plausible date, parameter plausible_from\)",
     "{the_unit} slutar före {d} (det tidigaste rimliga datumet, parametern plausible_from)"),
    (r"(?P<unit>week|month) lies after (?P<d>\S+) but has outcome values",
     "{the_unit} ligger efter {d} men har utfall"),
    (r"(?P<w>.+) read as not reported \(rows? (?P<r>.+)\)", "{w} lästes som ej rapporterat (rad {r})"),
    (r"column (?P<c>'.*') is not a known measure and was left out \(header row (?P<h>\d+); rename it to a "
     r"canonical name to use it\)(?P<hint>; did you mean (?P<s>.+)\?)?",
     "kolumnen {c} är inget känt mått och lämnades utanför (rubrikrad {h}; byt namn till ett kanoniskt namn för "
     "att använda den){hint_sv}"),
]
_UNITS_SV = {"week": ("vecka", "veckor", "veckan"), "month": ("månad", "månader", "månaden")}


def _sv_number(text: str) -> str:
    """A number as the validation wrote it (``-2``, ``+3.5``) with a real minus and a decimal comma."""
    import re

    return re.sub(r"(?<![\w.])([+-]?)(\d+)\.(\d+)(?![\w.])", r"\1\2,\3", text).replace("-", "\u2212") \
        if re.fullmatch(r"[+-]?\d+(\.\d+)?(e[+-]?\d+)?", text) else text


def finding_message(message: str, language: str = "sv") -> str:
    """A data-quality finding's message in the report language.

    The validation (:func:`kps_analysis.data.validate`) and the readers write their messages
    in English, for the command line and the logs; a Swedish report shows them in Swedish,
    with the periods, counts and column names as they were. A "group <name>: " prefix
    becomes "grupp <name>: ". A message of no known kind is shown as it is.

    Examples
    --------
    >>> finding_message("3 weeks missing (2024-W05..2024-W07)")
    '3 veckor saknas (2024-W05–2024-W07)'
    >>> finding_message("group A: queue changed by -4 but inflow - outflow = +2 (difference -6)")
    'grupp A: kön ändrades med −4 men inflöde − utflöde = +2 (skillnad −6)'
    """
    import re

    text = "" if message is None or message != message else str(message)
    if language != "sv":
        return text
    prefix = ""
    group = re.match(r"group (?P<g>.+?): (?=.)", text)
    if group:
        prefix, text = f"grupp {group['g']}: ", text[group.end():]
    for pattern, swedish in _FINDING_SV:
        found = re.fullmatch(pattern, text)
        if not found:
            continue
        parts = {k: (v or "") for k, v in found.groupdict().items()}
        one, many, the = _UNITS_SV.get(parts.get("unit", ""), ("", "", ""))
        fields = {k: _sv_number(v) for k, v in parts.items() if k not in ("unit", "hint", "s")}
        hint = f"; menade du {parts['s']}?".replace("' for '", "' i stället för '") if parts.get("s") else ""
        return prefix + swedish.format(**fields, unit=one, units=many, the_unit=the, hint_sv=hint)
    return prefix + text


def findings_table(findings: pd.DataFrame, *, language: str = "sv", max_rows: int = 30) -> pd.DataFrame:
    """Data-quality findings for the report: errors first, at most ``max_rows`` rows, with the
    headers, the severity, the column (a measure's name) and the message
    (:func:`finding_message`) in the report language."""
    order = findings.assign(_e=(findings["severity"] != "error")).sort_values(["_e"], kind="stable")
    table = order.drop(columns="_e").head(max_rows).copy()
    for col in table.columns:
        if isinstance(table[col].dtype, pd.PeriodDtype):
            table[col] = period_labels(table[col])
    table["severity"] = table["severity"].map(
        lambda v: label(f"severity.{v}", language) if f"severity.{v}" in TEXTS else str(v))
    if "message" in table.columns:
        table["message"] = table["message"].map(lambda m: finding_message(m, language))
    if "column" in table.columns:
        def column_name(c) -> str:
            if c is None or c != c:
                return ""
            keys = [k for k in (f"finding.column.{c}", f"column.{c}") if k in TEXTS]
            return label(keys[0] if keys else str(c), language)

        table["column"] = table["column"].map(column_name)
    table = table.drop(columns=[c for c in ("clinic",) if c in table.columns])   # the report is one clinic's
    table.columns = ["Period" if c == "period" else label(f"column.{c}", language) if f"column.{c}" in TEXTS else c
                     for c in table.columns]
    return table.set_index(label("column.severity", language))


def wait_summary_table(summary: pd.DataFrame, *, limit: int = 5, language: str = "sv",
                       shown: Shown | None = None) -> pd.DataFrame:
    """Waiting-time summary per stage for a report (from :func:`waits.wait_summary`).

    Shows the patients who count against the guarantee and those who chose to wait
    longer (together they are the queue in the summary), the median and 90th
    percentile wait [days] and the share over the guarantee limit [%], one row per
    stage. Counts follow the suppression rule (:func:`protect_counts`; ``shown`` is the
    clinic's :func:`protect_snapshot`, so the table agrees with the headline): the
    counted queue is exact (the plan starts from it), a small number of chosen waits is
    "<5", and a share whose count is protected is shown as a range.

    Examples
    --------
    >>> s = pd.DataFrame({"stage": ["new_visit"], "waiting": [427], "excluded_chosen": [34],
    ...                   "p50_days": [45.0], "p90_days": [94.0], "share_over_limit": [0.112]})
    >>> wait_summary_table(s, language="en").iloc[0].tolist()
    ['427', '34', '45', '94', '11.2 %']
    """
    if shown is None:
        shown = wait_summary_shown(summary, limit=limit)
    rows = []
    for r in summary.itertuples(index=False):
        stage = str(getattr(r, "stage", "new_visit"))
        over = getattr(r, "over_limit", None)
        rows.append({
            label("table.stage", language): STAGE_NAMES["sv" if language == "sv" else "en"].get(stage, stage),
            label("table.waiting_counted", language):
                shown.text(f"counted:{stage}", r.waiting, language=language),
            label("table.chose_to_wait_longer", language):
                shown.text(f"chosen:{stage}", getattr(r, "excluded_chosen", 0), language=language),
            label("table.median_days", language): format_count(r.p50_days, language=language),
            label("table.p90_days", language): format_count(r.p90_days, language=language),
            label("table.share_over_limit", language):
                share_text(shown, f"over:{stage}", r.waiting, r.share_over_limit if over is None else over,
                           ratio=over is None, language=language),
        })
    return pd.DataFrame(rows).set_index(label("table.stage", language))


def load_table(loads: pd.DataFrame, *, language: str = "sv") -> pd.DataFrame:
    """Stage loads (:func:`kps_analysis.balance.stage_loads`) for a report."""
    return pd.DataFrame({
        label("table.stage", language): stage_names(loads["stage"], language),
        label("table.inflow", language): loads["inflow"].map(lambda v: format_count(v, language=language)),
        label("table.own_capacity", language):
            loads["capacity"].map(lambda v: format_count(v, language=language)),
        label("table.load", language): loads["load"].map(lambda v: format_count(v, language=language, decimals=2)),
        label("table.bottleneck", language): loads["bottleneck"].map({True: label("table.yes", language), False: ""}),
    }).set_index(label("table.stage", language))


def rates_table(rates: pd.DataFrame, *, language: str = "sv", stages=None) -> pd.DataFrame:
    """Conversion rates of the flow chain (:func:`kps_analysis.balance.conversion_rates`).

    ``stages``: the stages the clinic has (those of its plan); a rate that belongs to a stage
    it does not have (:data:`kps_analysis.balance.RATE_STAGES`: a dermatology clinic's
    "decisions per first visit", 0,00 because it has no treatment stage) is left out. None:
    every rate with a value.

    >>> r = pd.DataFrame({"forwarded_share": [0.1], "decisions_per_new_visit": [0.0]})
    >>> list(rates_table(r, stages={"new_visit"}).index)
    ['Andel remisser vidarebefordrade']
    """
    from ..balance import RATE_STAGES

    names = {
        "forwarded_share": label("rates.forwarded_share", language),
        "decisions_per_new_visit": label("rates.decisions_per_new_visit", language),
        "return_visits_per_new_visit": label("rates.return_visits_per_new_visit", language),
        "bed_days_per_operation": label("rates.bed_days_per_operation", language),
        "no_show_rate": label("rates.no_show_rate", language),
    }
    row = rates.iloc[0]
    values = [(text, format_count(row[key], language=language, decimals=2))
              for key, text in names.items() if key in rates.columns and pd.notna(row[key])
              and (stages is None or RATE_STAGES.get(key, "new_visit") in stages)]
    head = (label("rates.latest_52_weeks", language), "")
    return pd.DataFrame(values, columns=[head[0], label("table.value", language)]).set_index(head[0])


def purchase_table(monthly: pd.DataFrame, *, language: str = "sv") -> pd.DataFrame:
    """Purchase per month, the guarantee and target policies side by side, with costs.

    ``monthly`` is :func:`kps_analysis.purchase.purchase_by_month` output for one clinic.
    """
    names = {"guarantee": label("table.guarantee", language), "target": label("table.target", language)}
    stages = {"new_visit": label("table.first_visits", language), "treatment": label("table.operations", language)}
    t = monthly.groupby(["month", "policy", "stage"], as_index=False)[
        ["purchase", "cost_external_sek", "cost_internal_sek"]].sum()
    wide = t.pivot_table(index="month", columns=["policy", "stage"], values=["purchase", "cost_external_sek"],
                         aggfunc="sum", fill_value=0.0)
    out = pd.DataFrame(index=wide.index.astype(str))
    for policy in ("guarantee", "target"):
        for stage in ("new_visit", "treatment"):
            if ("purchase", policy, stage) in wide.columns:
                out[f"{names[policy]}: {stages[stage]}"] = [format_count(v, language=language)
                                                            for v in wide[("purchase", policy, stage)]]
        bought = wide["cost_external_sek"]
        cost = bought[policy].sum(axis=1) if policy in bought.columns.get_level_values(0) else None
        if cost is not None:
            out[f"{names[policy]}: {label('table.cost_sek_lower', language)}"] = [
                format_count(v, language=language) for v in cost]
    out.index.name = label("month", language)
    return out


def plan_table(plan: pd.DataFrame, *, weeks: int = 12, language: str = "sv") -> pd.DataFrame:
    """The first ``weeks`` of the production plan for the report (ISO week labels)."""
    cols = {"period": label("week", language), "status": "Status",
            "planned_new_visits": label("planned_new_visits", language),
            "capacity_new_visits": label("table.capacity_first_visits", language),
            "planned_operations": label("planned_operations", language),
            "capacity_operations": label("table.capacity_operations", language),
            "purchase_operations": label("table.purchase_operations", language)}
    part = plan[plan["week_ahead"] <= weeks][[c for c in cols if c in plan.columns]].copy()
    part["period"] = period_labels(part["period"])
    part["status"] = part["status"].map({"fixed": label("table.fixed", language),
                                         "planned": label("table.planned", language)})
    for c in part.columns[2:]:
        part[c] = part[c].map(lambda v: format_count(v, language=language))
    return part.rename(columns=cols).set_index(label("week", language))


def follow_up_table(follow_up: pd.DataFrame, *, language: str = "sv") -> pd.DataFrame:
    """Year-to-date plan against outcome at the latest week, one row per measure: the deviation's
    colour by the limits, and the level that handles it as the clinic's escalation counts it
    (:func:`kps_analysis.planning.follow_up_levels`)."""
    if follow_up.empty:
        return pd.DataFrame()
    last = follow_up[follow_up["period"] == follow_up["period"].max()]
    # a measure the clinic neither plans nor produces (operations at a visits-only clinic) is left out
    last = last[~((pd.to_numeric(last["cum_plan"], errors="coerce").fillna(0) == 0)
                  & (pd.to_numeric(last["cum_actual"], errors="coerce").fillna(0) == 0))]
    if last.empty:
        return pd.DataFrame()
    rows = []
    for r in last.itertuples(index=False):
        rows.append({
            label("table.measure", language): label(r.measure, language),
            label("table.plan_year_to_date", language): format_count(r.cum_plan, language=language),
            label("table.actual_year_to_date", language): format_count(r.cum_actual, language=language),
            label("table.deviation", language): format_signed(r.cum_deviation_pct, language=language, decimals=1),
            label("table.against_last_year", language):
                format_signed(r.cum_vs_last_year_pct, language=language, decimals=1),
            label("table.deviation_colour", language): status_word(r.status, language),
            label("table.handled_by", language): status_word(r.level, language),
        })
    return pd.DataFrame(rows).set_index(label("table.measure", language))


def scenario_report_table(scenarios: pd.DataFrame, *, language: str = "sv") -> pd.DataFrame:
    """Scenarios side by side for one clinic: purchase need, cost and breaches against the baseline."""
    out = pd.DataFrame({
        ("Scenario"): scenarios["description"].where(scenarios["description"].astype(str) != "",
                                                     label("table.baseline", language)),
        label("table.purchase_need", language):
            scenarios["purchase_need"].map(lambda v: format_count(v, language=language)),
        label("table.cost_sek", language):
            scenarios["purchase_cost_sek"].map(lambda v: format_count(v, language=language)),
        label("table.over_90_days_without_purchase", language):
            scenarios["breaches"].map(lambda v: format_count(v, language=language)),
        label("table.change_in_purchase", language):
            scenarios["purchase_need_change"].map(lambda v: format_count(v, language=language)),
    })
    return out.set_index("Scenario")


def monte_carlo_table(summary_frame: pd.DataFrame, *, language: str = "sv") -> pd.DataFrame:
    """Monte Carlo summary per stage (:func:`kps_analysis.scenario.monte_carlo`) for a report."""
    out = pd.DataFrame({
        label("table.stage", language): stage_names(summary_frame["stage"], language),
        label("table.p_no_breach", language):
            summary_frame["p_no_breach"].map(lambda v: format_count(100 * v, language=language) + " %"),
    })
    for q in (50, 80, 95):
        col = f"purchase_p{q}"
        if col in summary_frame.columns:
            out[label("table.purchase_for_certainty", language, q=q)] = \
                summary_frame[col].map(lambda v: format_count(v, language=language))
    return out.set_index(label("table.stage", language))
