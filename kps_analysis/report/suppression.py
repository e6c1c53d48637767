"""Small-number suppression: the one rule by which every report, table, figure and workbook
shows counts of patients (:func:`protect_counts`), its application to a clinic's
waiting-list snapshot (:func:`protect_snapshot`, :func:`snapshot_shown`) and to the result
tables written to ``tables/*.csv`` (:func:`suppress_tables`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from .formatting import format_count, format_share
from .labels import label


def suppress_small(
    table: pd.DataFrame, columns: Iterable[str], *, limit: int = 5, language: str = "sv"
) -> pd.DataFrame:
    """Replace counts below ``limit`` (but above zero) by the text ``"<limit"``.

    Small counts in shared reports can identify patients; this is the usual
    statistical-disclosure rule (Socialstyrelsen suppresses counts below 5). Zeros are
    shown, since a zero reveals nobody. The input is not modified.

    Parameters
    ----------
    table : DataFrame
        Table to be shown.
    columns : iterable of str
        Count columns to suppress [patients].
    limit : int
        Counts ``0 < x < limit`` are suppressed [patients]. ``limit=0`` disables.

    Returns
    -------
    DataFrame
        A copy with the suppressed columns as text.

    Examples
    --------
    >>> t = pd.DataFrame({"clinic": ["a", "b", "c"], "n": [0, 3, 12]})
    >>> suppress_small(t, ["n"])["n"].tolist()
    ['0', '<5', '12']
    """
    out = table.copy()
    if limit <= 0:
        return out
    for col in columns:
        values = pd.to_numeric(out[col], errors="coerce")
        small = (values > 0) & (values < limit)
        text = values.map(lambda v: format_count(v, language=language))
        out[col] = text.where(~small, label("suppressed", language).format(limit=limit))
    return out


#: Standard waiting-time bands of the snapshot (as :func:`kps_analysis.waits.wait_distribution`):
#: lower edges [days] and labels; the bands over the guarantee start after ``guarantee_days``.
_BAND_STARTS = (0, 31, 61, 91, 181)


class Shown(dict):
    """What a report may show of each count of a snapshot: ``cell -> (lo, hi)`` [patients].

    ``lo == hi``: shown exactly; ``(1, limit - 1)`` for a suppressed count (``"<limit"``);
    any other interval: a count widened to the range it could have given everything else
    shown (``"22–25"``). Built by :func:`protect_counts`; ``suppressed`` names the
    counts below the limit, ``limit`` is the limit used.
    """

    limit: int = 5
    suppressed: frozenset = frozenset()

    def exact(self, cell) -> bool:
        """True when ``cell`` is shown as its exact value (absent cells count as exact)."""
        lo, hi = self.get(cell, (0.0, 0.0))
        return cell not in self.suppressed and lo == hi

    def text(self, cell, value=None, *, language: str = "sv") -> str:
        """The cell as report text: ``"123"``, ``"<5"`` or ``"120–123"``; ``value`` if not a cell."""
        if cell not in self:
            return format_count(value, language=language)
        lo, hi = self[cell]
        if cell in self.suppressed:
            return label("suppressed", language).format(limit=self.limit)
        if lo == hi:
            return format_count(lo, language=language)
        return f"{format_count(lo, language=language)}–{format_count(hi, language=language)}"


def _propagate(bounds: dict, relations) -> dict:
    """Narrow interval bounds through ``total = sum(parts)`` relations to a fixed point."""
    b = dict(bounds)
    for _ in range(50):
        changed = False
        for total, parts in relations:
            lo_sum = sum(b[p][0] for p in parts)
            hi_sum = sum(b[p][1] for p in parts)
            t_lo, t_hi = max(b[total][0], lo_sum), min(b[total][1], hi_sum)
            if (t_lo, t_hi) != b[total]:
                b[total], changed = (t_lo, t_hi), True
            for p in parts:
                others_lo, others_hi = lo_sum - b[p][0], hi_sum - b[p][1]
                p_lo, p_hi = max(b[p][0], b[total][0] - others_hi, 0.0), min(b[p][1], b[total][1] - others_lo)
                if (p_lo, p_hi) != b[p]:
                    lo_sum += p_lo - b[p][0]
                    hi_sum += p_hi - b[p][1]
                    b[p], changed = (p_lo, p_hi), True
        if not changed:
            break
    return b


def protect_counts(values: Mapping[str, float], relations, *, limit: int = 5, anchors=(), keep=(),
                   hidden=(), flows=()) -> Shown:
    """The suppression rule of every report, table and workbook: small counts and their complements.

    The rule (one rule, used for every count of patients observed in the data):

    1. **Primary suppression**: a count of 1 to ``limit - 1`` patients is shown as
       ``"<limit"`` (``"<5"``). Zero is shown: it reveals nobody.
    2. **Complementary suppression**: where shown counts add up (``total = part + part
       + ...``: a queue and its counted and chosen parts, a stage total and its waiting-time
       bands, both stages and their sum), a suppressed count must not follow from the
       others. Whenever the shown counts would pin a suppressed count to one value, one more
       count of the same relation is *widened* to the range that the other shown counts
       allow, e.g. a queue of 26 with 2 chosen waits and 24 counted against the guarantee
       is shown as "25–28", the chosen waits as "<5" (the counted queue is the anchor the
       plan starts from, so it stays exact). The count widened is the one that disturbs
       least: never an anchor (a count published exactly elsewhere, such as the plan's
       starting queue), a headline figure in ``keep`` only when no other count is left
       to widen; first a count that frees the suppressed one on its own (else the first
       pair that does), in the order: fewest relations, then largest. A widened range is computed
       from the shown counts only (never from the true value), so it tells nothing that
       the other figures did not already tell.

    Parameters
    ----------
    values : mapping of str to float
        Every count of the snapshot by name [patients].
    relations : iterable of (str, sequence of str)
        ``(total, parts)``: ``values[total] == sum(values[p] for p in parts)``.
    limit : int, default 5
        Counts ``0 < x < limit`` are suppressed [patients]; 0 turns the rule off.
    anchors : iterable of str
        Counts that are published exactly elsewhere and may not be widened.
    keep : iterable of str
        Headline counts widened only when no other count will do.
    hidden : iterable of str
        Counts never shown on their own (implicit subtotals): protected like the others
        when small, otherwise free (they never pin another count).
    flows : iterable of str
        Counts shown whatever their size (a week's referrals, visits, removals: the
        clinic's production, not who waits): never suppressed for being small, only
        widened as a complement.

    Returns
    -------
    Shown
        ``cell -> (lo, hi)`` for every name in ``values``.

    Examples
    --------
    >>> s = protect_counts({"queue": 26, "counted": 24, "chosen": 2}, [("queue", ["counted", "chosen"])],
    ...                    anchors=["counted"])
    >>> [s.text(c) for c in ("queue", "counted", "chosen")]
    ['25–28', '24', '<5']
    """
    relations = [(t, list(p)) for t, p in relations]
    anchors, keep, hidden, flows = set(anchors), set(keep), set(hidden), set(flows)
    values = {k: float(v) for k, v in values.items() if v is not None and v == v}
    relations = [(t, [p for p in ps if p in values]) for t, ps in relations if t in values]
    shown = Shown()
    shown.limit = limit
    if limit <= 0:
        shown.update({k: (v, v) for k, v in values.items()})
        return shown
    small = {k for k, v in values.items() if 0 < v < limit and k not in flows}
    widened: set = set()
    n_rel = {k: sum(k == t or k in ps for t, ps in relations) for k in values}

    def bounds(extra=()):
        out = {}
        for k, v in values.items():
            if k in small:
                out[k] = (1.0, float(limit - 1))
            elif k in widened or k in hidden or k in extra:
                out[k] = (0.0, float("inf"))
            else:
                out[k] = (v, v)
        return _propagate(out, relations)

    for _ in range(len(values) + 1):
        b = bounds()
        pinned = [k for k in sorted(small) if b[k][0] >= b[k][1]]
        if not pinned:
            break
        # the relations linked to the pinned count through counts that are not exact
        loose = small | widened | hidden
        reach, frontier = set(), {pinned[0]}
        while frontier:
            reach |= frontier
            nxt = set()
            for t, ps in relations:
                cells = {t, *ps}
                if cells & frontier:
                    nxt |= {c for c in cells if c in loose} - reach
            frontier = nxt
        candidates = {c for t, ps in relations if {t, *ps} & reach for c in (t, *ps)
                      if c not in loose and c not in anchors}
        if not candidates:
            break
        ranked = sorted(candidates, key=lambda c: (c in keep, n_rel[c], -values[c], c))
        # the first count that frees the pinned one on its own, else the first in rank
        others = [c for c in ranked if c not in keep][:20]

        def frees(*cells, pinned=pinned):
            lo, hi = bounds(cells)[pinned[0]]
            return lo < hi

        # one count that frees it, else the first pair that does, else the first in rank
        single = next(([c] for c in others if frees(c)), [])  # the first in rank only: each try propagates
        pair = [] if single else next(([(a, b)] for i, a in enumerate(others) for b in others[i + 1:]
                                       if frees(a, b)), [])
        widened.update(single or (pair[0] if pair else (others or ranked)[:1]))
    # widen no more than needed: give back every widened count that nothing needs
    for c in sorted(widened, key=lambda c: (values[c] == 0, -values[c], c), reverse=True):  # ties by name
        widened.discard(c)
        b = bounds()
        if any(b[k][0] >= b[k][1] for k in small):
            widened.add(c)
    b = bounds()
    for k, v in values.items():
        shown[k] = (1.0, float(limit - 1)) if k in small else b[k] if k in widened else (v, v)
    shown.suppressed = frozenset(small)
    return shown


def protect_snapshot(waiting: pd.DataFrame | None, *, queues: Mapping[str, float] | None = None,
                     guarantee_days: float = 90, limit: int = 5) -> Shown:
    """The clinic's waiting-list snapshot under the suppression rule (:func:`protect_counts`).

    One call gives what every table, figure and file of a clinic may show of the counts
    of patients waiting now, so they all show the same thing. Cells, per stage ``s``
    (``new_visit``, ``treatment``)::

        queue:s   = counted:s + chosen:s          (the queue of the weekly data, incl. chosen waits)
        counted:s = under:s + over:s              (counted against the guarantee; the plan's start: anchor)
        under:s   = band:s:0 + band:s:31 + band:s:61      (waited at most ``guarantee_days``)
        over:s    = band:s:91 + band:s:181                (waited longer)
        chosen, over, counted, queue = the sums over the stages

    ``over`` (the share over 90 days) is widened only when nothing else will do.

    Parameters
    ----------
    waiting : DataFrame or None
        Who waits now, aggregated (``PlanningModel.waiting``): ``stage``, ``wait_days``
        [days], ``patients`` [patients], ``patient_chosen_wait``; one clinic. Without
        ``patients`` each row is one patient (:func:`kps_analysis.data.waiting_snapshot`).
    queues : mapping of str to float, optional
        The queue per stage in the weekly data (``queue_new_visit``, ``queue_treatment``
        of the headline) [patients].
    guarantee_days : float, default 90
        The guarantee limit [days].
    limit : int, default 5
        The suppression limit [patients].

    Returns
    -------
    Shown
    """
    values, relations = {}, []
    stages = []
    if waiting is not None and len(waiting):
        w = waiting
        days = w["wait_days"].to_numpy(float)
        chosen = (w["patient_chosen_wait"].astype(bool).to_numpy() if "patient_chosen_wait" in w
                  else np.zeros(len(w), bool))
        n = w["patients"].to_numpy(float) if "patients" in w else np.ones(len(w))  # a snapshot: one row each
        stage_of = w["stage"].astype(str).to_numpy() if "stage" in w else np.full(len(w), "new_visit")
        starts = np.array(_BAND_STARTS, float)
        band = np.searchsorted(starts, days, side="right") - 1
        for s in dict.fromkeys(stage_of):
            m = stage_of == s
            stages.append(s)
            counted = m & ~chosen
            values[f"chosen:{s}"] = n[m & chosen].sum()
            values[f"counted:{s}"] = n[counted].sum()
            values[f"over:{s}"] = n[counted & (days > guarantee_days)].sum()
            values[f"under:{s}"] = values[f"counted:{s}"] - values[f"over:{s}"]
            under, over = [], []
            for i, start in enumerate(_BAND_STARTS):
                name = f"band:{s}:{start}"
                values[name] = n[counted & (band == i)].sum()
                (over if start > guarantee_days else under).append(name)
            relations += [(f"counted:{s}", [f"under:{s}", f"over:{s}"]), (f"under:{s}", under),
                          (f"over:{s}", over)]
        for key in ("chosen", "counted", "over"):
            values[key] = sum(values[f"{key}:{s}"] for s in stages)
            relations.append((key, [f"{key}:{s}" for s in stages]))
    for s, q in (queues or {}).items():
        if q is None or q != q:
            continue
        values[f"queue:{s}"] = float(q)
        if f"counted:{s}" in values:
            relations.append((f"queue:{s}", [f"counted:{s}", f"chosen:{s}"]))
    qs = [f"queue:{s}" for s in (queues or {}) if f"queue:{s}" in values]
    if qs:
        values["queue"] = sum(values[q] for q in qs)
        relations.append(("queue", qs))
    anchors = [k for k in values if k.startswith("counted")]
    return protect_counts(values, relations, limit=limit, anchors=anchors, keep=["over"],
                          hidden=[k for k in values if k.startswith("under")])


def wait_summary_shown(summary: pd.DataFrame, *, limit: int) -> Shown:
    """The snapshot's counts as far as a wait summary knows them (counted, chosen, over per stage)."""
    values, relations = {}, []
    stages = [str(s) for s in summary.get("stage", pd.Series(["new_visit"] * len(summary)))]
    for s, r in zip(stages, summary.itertuples(index=False)):
        values[f"counted:{s}"] = r.waiting
        values[f"chosen:{s}"] = getattr(r, "excluded_chosen", 0)
        if hasattr(r, "over_limit"):
            values[f"over:{s}"] = r.over_limit
    for key in ("chosen", "over", "counted"):
        parts = [f"{key}:{s}" for s in stages if f"{key}:{s}" in values]
        if parts:
            values[key] = sum(values[p] for p in parts)
            relations.append((key, parts))
    return protect_counts(values, relations, limit=limit, anchors=[k for k in values if k.startswith("counted")],
                          keep=["over"])


def headline_shown(headline: pd.DataFrame, *, limit: int = 5):
    """The headline's waiting-list counts under the suppression rule, from the headline alone.

    Without the clinic's per-stage snapshot (:func:`kps_analysis.report.protect_snapshot`)
    only the totals can be protected: ``queue_new_visit + queue_treatment =
    waiting_counted + waiting_chosen``, with the counted queue exact (the plan starts from it).
    """
    r = headline.iloc[0]
    values = {"queue:new_visit": r.get("queue_new_visit"), "queue:treatment": r.get("queue_treatment"),
              "counted": r.get("waiting_counted"), "chosen": r.get("waiting_chosen"), "over": r.get("waiting_over_90")}
    values = {k: float(v) for k, v in values.items() if v is not None and pd.notna(v)}
    relations = []
    qs = [k for k in ("queue:new_visit", "queue:treatment") if k in values]
    if qs:
        values["queue"] = sum(values[k] for k in qs)
        relations.append(("queue", qs))
        if "counted" in values and "chosen" in values and len(qs) == 2:
            relations.append(("queue", ["counted", "chosen"]))
    return protect_counts(values, relations, limit=limit, anchors=["counted"], keep=["over"])


def snapshot_shown(model, headline: pd.DataFrame, *, waiting: pd.DataFrame | None = None,
                   weekly: pd.DataFrame | None = None, limit: int = 5):
    """The clinic's waiting-list snapshot under the suppression rule, from its planning model.

    :func:`kps_analysis.report.protect_snapshot` of ``waiting`` (the snapshot of
    :func:`kps_analysis.data.waiting_snapshot`, or ``model.waiting`` when not given) with
    the headline's queues; pass the result as ``shown`` to every table and figure of the
    report and to :func:`write_clinic_tables` so that they all show the same. Without any
    waiting list (a stored model has none) only the headline's totals are protected
    (:func:`headline_shown`).
    """
    if waiting is None or not len(waiting):
        waiting = getattr(model, "waiting", None)
    if waiting is None or not len(waiting):
        return plan_shown(model, headline, weekly=weekly, limit=limit)
    row = headline.iloc[0]
    days = float(model.settings["guarantee_days"].iloc[0]) if len(model.settings) else 90.0
    return protect_snapshot(waiting, queues={s: row.get(f"queue_{s}") for s in ("new_visit", "treatment")},
                            guarantee_days=days, limit=limit)


def plan_shown(model, headline: pd.DataFrame, *, weekly: pd.DataFrame | None = None, limit: int = 5):
    """The snapshot's per-stage counts as the plan and the headline publish them (no waiting list).

    The plan starts from the counted queue of each stage (week 1's ``queue_start``) and the
    headline shows the queue including chosen waits, so the chosen waits per stage are
    their difference: protected here as in :func:`kps_analysis.report.protect_snapshot`
    (no waiting-time bands).
    """
    row = headline.iloc[0]
    plan = getattr(model, "plan", None)
    if plan is None or not len(plan) or "queue_start" not in plan:
        return headline_shown(headline, limit=limit)
    start = plan[plan["period_ahead"] == 1].groupby("stage")["queue_start"].sum()
    # a clinic without chosen waits (weekly aggregates know none): the plan's start is the
    # queue rebuilt from the arrivals, and a difference to the reported queue is no patient group
    no_choice = not (pd.notna(row.get("waiting_chosen")) and float(row.get("waiting_chosen")) > 0)
    values, relations, stages = {}, [], []
    for s in ("new_visit", "treatment"):
        q = row.get(f"queue_{s}")
        if s not in start.index or q is None or pd.isna(q):
            continue
        stages.append(s)
        counted = float(q) if no_choice else float(start[s])
        values.update({f"queue:{s}": float(q), f"counted:{s}": counted,
                       f"chosen:{s}": max(float(q) - counted, 0.0)})
        relations.append((f"queue:{s}", [f"counted:{s}", f"chosen:{s}"]))
    if not stages:
        return headline_shown(headline, limit=limit)
    for key in ("chosen", "counted", "queue"):
        values[key] = sum(values[f"{key}:{s}"] for s in stages)
        relations.append((key, [f"{key}:{s}" for s in stages]))
    if pd.notna(row.get("waiting_over_90")):
        values["over"] = float(row["waiting_over_90"])
        last = weekly.iloc[-1] if weekly is not None and len(weekly) else {}
        over = [s for s in stages if pd.notna(last.get(f"waiting_over_90_{s}", np.nan))]
        if over and len(over) == len(stages):  # the weekly data's last week: over 90 days per stage
            values.update({f"over:{s}": float(last[f"waiting_over_90_{s}"]) for s in over})
            relations.append(("over", [f"over:{s}" for s in over]))
    return protect_counts(values, relations, limit=limit, anchors=[k for k in values if k.startswith("counted")],
                          keep=["over"])


def share_text(shown: Shown, cell: str, denominator, value, *, ratio: bool = False, language: str = "sv") -> str:
    """A share [%] of a protected count: exact, or the range its count's range allows.

    ``value`` is the count of ``cell`` (or the share itself with ``ratio=True``) and
    ``denominator`` the exact count it is divided by; a share whose count is suppressed or
    widened would reveal it, so it is shown as the range of shares of the count's range
    (``"0,5–2,0 %"``).
    """
    if value is None or value != value or denominator is None or denominator != denominator or denominator <= 0:
        return "–"
    if cell in shown and not shown.exact(cell):
        lo, hi = shown[cell]
        return (f"{format_count(100 * lo / denominator, language=language, decimals=1)}–"
                f"{format_count(100 * hi / denominator, language=language, decimals=1)} %")
    share = value if ratio else value / denominator
    return format_share(share, language=language)


def _hide(table: pd.DataFrame, col: str, mask) -> None:
    """Blank ``table[col]`` where ``mask`` and flag it in ``<col>_suppressed`` (in place)."""
    if col not in table.columns:
        return
    mask = pd.Series(mask, index=table.index).fillna(False).astype(bool)
    flag = f"{col}_suppressed"
    table[flag] = (table[flag].astype(bool) if flag in table.columns else False) | mask
    table[col] = table[col].astype(float).where(~mask)


#: Columns of the machine-readable tables that are counts of patients observed in the
#: waiting list (stocks, not flows or model projections): suppressed by the rule.
STOCK_COLUMNS = ("queue_new_visit", "queue_treatment", "queue_return_unbooked", "waiting_over_90_new_visit",
                 "waiting_over_90_treatment", "waiting_over_90", "waiting_counted", "waiting_chosen")


#: The flows of each stage's queue in the weekly data, ``(inflows, outflows)``:
#: ``queue[t] = queue[t-1] + sum(inflows[t]) - sum(outflows[t])``, exact for weekly data derived
#: from a waiting-list extract (:func:`kps_analysis.data.weekly_from_waiting_list`).
QUEUE_FLOWS = {
    "new_visit": (("referrals_in",), ("referrals_forwarded", "removals_new_visit_other", "new_visits",
                                      "purchased_new_visits")),
    "treatment": (("treatment_decisions",), ("operations_elective", "purchased_operations",
                                             "removals_treatment_other")),
}
#: Flows published elsewhere too (plan against outcome, plan history): never blanked.
_PUBLISHED_FLOWS = frozenset({"new_visits", "operations_elective", "purchased_new_visits", "purchased_operations"})
#: The inflows: blanked only when no other flow will do.
_INFLOWS = frozenset({"referrals_in", "treatment_decisions"})
#: The flows blanked at both ends of a run of blank queues: an inflow and an outflow of each stage.
_END_FLOWS = frozenset({"referrals_in", "treatment_decisions", "removals_new_visit_other",
                        "removals_treatment_other"})


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[(first, last)]`` of every run of consecutive True in ``mask`` (positions, inclusive)."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1))


def _protect_stage_chain(q: np.ndarray, hid: np.ndarray, flows: Mapping[str, np.ndarray], ins, outs, *,
                         limit: int, counted: float | None = None) -> dict[str, np.ndarray]:
    """The flows of one stage to blank so that no hidden queue follows from its neighbours.

    ``q`` [patients] is the queue week by week, ``hid`` where it is blank, ``flows`` the
    week's flows [patients/week] by column. Each run of blank weeks is protected by
    :func:`protect_counts` over the weeks from its first to the one after its last: cells
    ``q:k`` and ``<flow>:k``, relations ``s:k = q:(k-1) + inflows = q:k + outflows`` (only
    where the data satisfy them exactly: a reader can use nothing else). The inflow and the
    other removals of the run's first week and of the week after its last are blanked; what is still pinned is
    freed by :func:`protect_counts`, with the shown queues and the flows published elsewhere
    as anchors, the other inflows kept, the other flows (other removals, forwarded
    referrals) widened first. ``counted`` [patients], the counted queue
    at the last week (the plan's start, exact), ties the last week's queue to its chosen
    waits: ``q:last = counted + chosen``.
    """
    n = len(q)
    blank = {m: np.zeros(n, dtype=bool) for m in flows}
    net = sum(flows[m] for m in ins) - sum(flows[m] for m in outs)
    holds = np.zeros(n, dtype=bool)
    holds[1:] = np.isclose(q[:-1] + net[1:], q[1:]) & np.isfinite(q[1:]) & np.isfinite(q[:-1] + net[1:])
    for a, b in _runs(hid):
        weeks = [k for k in range(a, b + 2) if 1 <= k < n and holds[k]]
        if not weeks and not (counted is not None and b == n - 1):
            continue
        values = {f"q:{k}": q[k] for k in range(max(a - 1, 0), min(b + 2, n))}
        relations, subtotals = [], []
        for k in weeks:
            values.update({f"{m}:{k}": flows[m][k] for m in (*ins, *outs)})
            values[f"s:{k}"] = q[k - 1] + sum(flows[m][k] for m in ins)
            subtotals.append(f"s:{k}")
            relations += [(f"s:{k}", [f"q:{k - 1}", *(f"{m}:{k}" for m in ins)]),
                          (f"s:{k}", [f"q:{k}", *(f"{m}:{k}" for m in outs)])]
        anchors = {c for c in values if c.startswith("q:") and not hid[int(c[2:])]}
        if counted is not None and b == n - 1 and counted == counted:
            values.update({"counted": counted, "chosen": q[n - 1] - counted})
            relations.append((f"q:{n - 1}", ["counted", "chosen"]))
            anchors.add("counted")
        cells = [c for c in values if ":" in c and c.split(":")[0] in flows]
        free = set(subtotals) | {c for c in values if c.startswith("q:") and hid[int(c[2:])]
                                 and not 0 < values[c] < limit}
        # the inflow and the other removals of the first blank week and of the week after the last: with
        # them blank the shown neighbours bound the run on neither side (a blank flow of 0 too: the queue
        # could be any lower or higher); protect_counts then frees what is still pinned (by the limit: a
        # run whose values span 1 to limit - 1)
        ends = {f"{m}:{k}" for k in (a, b + 1) if k in weeks for m in (*ins, *outs) if m in _END_FLOWS}
        if _pinned(values, relations, free | ends, limit=limit, flows=set(cells) | set(subtotals)):
            # a run whose values span the limit is rigid: its weeks' inflows and other removals too
            ends |= {f"{m}:{k}" for k in weeks for m in (*ins, *outs) if m in _END_FLOWS}
        shown = protect_counts(values, relations, limit=limit, hidden=free | ends,
                               flows=set(cells) | set(subtotals),
                               anchors=anchors | {c for c in cells if c.split(":")[0] in _PUBLISHED_FLOWS},
                               keep={c for c in cells if c.split(":")[0] in _INFLOWS})
        for c in cells:
            if c in ends or not shown.exact(c):
                m, k = c.split(":")
                blank[m][int(k)] = True
    return blank


def _pinned(values: Mapping[str, float], relations, free, *, limit: int, flows=()) -> bool:
    """True when a count of 1 to ``limit - 1`` (not in ``flows``) follows from the others, ``free`` unknown."""
    small = {k for k, v in values.items() if 0 < v < limit and k not in flows}
    b = {k: (1.0, limit - 1.0) if k in small else (0.0, float("inf")) if k in free else (float(v), float(v))
         for k, v in values.items()}
    b = _propagate(b, relations)
    return any(b[k][0] >= b[k][1] for k in small)


def protect_weekly_flows(weekly: pd.DataFrame, hidden: Mapping[str, pd.Series], *, limit: int = 5,
                         counted: Mapping[str, float] | None = None) -> dict[str, pd.Series]:
    """The weekly flows to blank so that no blank queue can be had back from the flow identity.

    In weekly data derived from a waiting-list extract a stage's queue follows from the
    week before: ``queue[t] = queue[t-1] + inflow[t] - outflow[t]`` (:data:`QUEUE_FLOWS`).
    A queue blanked in week ``t`` (below the limit, or widened) would therefore be given
    back by the queue of week ``t-1`` or ``t+1`` and the week's flows. For every run of
    blank weeks the inflow (referrals in, decisions to treat) and the other removals of the
    first week and of the week after the last are blanked as well (the queue could then be
    any lower or higher than its neighbours allow), and where a blank queue is still pinned one
    more flow chosen by :func:`protect_counts` (other removals and forwarded referrals
    first, then another inflow; never the visits and operations, which plan against
    outcome publishes).

    Parameters
    ----------
    weekly : DataFrame
        ``clinic``, ``period`` and the weekly measures, exact [patients; patients/week].
    hidden : mapping of str to Series of bool
        The queue columns (``queue_new_visit``, ``queue_treatment``) blank in the output,
        aligned with ``weekly``.
    limit : int, default 5
        The suppression limit [patients].
    counted : mapping of str to float, optional
        Per stage, the counted queue at the latest week (the plan's start) [patients]; ties
        the latest week's queue to the chosen waits.

    Returns
    -------
    dict of str to Series of bool
        Per flow column, the rows to blank (aligned with ``weekly``).

    Examples
    --------
    >>> w = pd.DataFrame({"clinic": "a", "period": [1, 2, 3], "referrals_in": [3.0, 1, 2],
    ...                   "referrals_forwarded": 0.0, "removals_new_visit_other": 0.0,
    ...                   "new_visits": [1.0, 6, 0], "purchased_new_visits": 0.0,
    ...                   "queue_new_visit": [8.0, 3, 5]})
    >>> none = protect_weekly_flows(w, {"queue_new_visit": pd.Series([False, False, False])})
    >>> any(m.any() for m in none.values())
    False

    Week 2's queue of 3 blank: week 1's queue and week 2's flows, or week 3's queue and
    flows, would give it back; the referrals and other removals of weeks 2 and 3 are blanked:

    >>> m = protect_weekly_flows(w, {"queue_new_visit": pd.Series([False, True, False])})
    >>> {c: m[c].tolist() for c in m if m[c].any()}
    {'referrals_in': [False, True, True], 'removals_new_visit_other': [False, True, True]}
    """
    out = {m: pd.Series(False, index=weekly.index) for ins, outs in QUEUE_FLOWS.values() for m in (*ins, *outs)
           if m in weekly}
    for stage, (ins, outs) in QUEUE_FLOWS.items():
        col = f"queue_{stage}"
        if col not in weekly or col not in hidden or not all(m in weekly for m in (*ins, *outs)):
            continue
        for _, part in weekly.groupby("clinic", sort=False):
            part = part.sort_values("period")
            hid = hidden[col].reindex(part.index).fillna(False).to_numpy(bool)
            if not hid.any():
                continue
            blank = _protect_stage_chain(part[col].to_numpy(float), hid,
                                         {m: part[m].to_numpy(float) for m in (*ins, *outs)}, ins, outs,
                                         limit=limit, counted=(counted or {}).get(stage))
            for m, mask in blank.items():
                out[m].loc[part.index[mask]] = True
    return out


def suppress_tables(tables: Mapping[str, pd.DataFrame], shown: Shown, *, limit: int = 5) -> dict:
    """The clinic's result tables with the suppression rule applied, for ``tables/*.csv``.

    A suppressed or widened count becomes NaN with ``True`` in a ``<column>_suppressed``
    column beside it (every table that has such a column gets the flag column, so the
    schema does not depend on the data). Applied to:

    - ``summary``: the queues, ``waiting_counted``, ``waiting_chosen``,
      ``waiting_over_90`` by ``shown``; ``share_over_90_days`` when its count is
      protected; ``queue_change_1w`` and the köproduktionskvot of a widened queue.
    - ``weekly``: the stock columns (:data:`STOCK_COLUMNS`) below the limit in every week;
      the latest week by ``shown``, and there the other removals of a stage whose queue is
      widened (queue of last week + the week's flows would give it back); around every
      blank queue the flows that would give it back through the flow identity
      (:func:`protect_weekly_flows`).
    - ``week_changes``: the stock measures (this and last week, the change), and every
      measure's this week, last week, change, direction and usual level (the mean of the
      four weeks before) wherever a week they rest on is blank in ``weekly``.
    - ``queue_production_ratio``: ``queue`` below the limit, the latest week's by
      ``shown``, and the ratio wherever its queue is blank.

    Model projections (the plan, purchase, breaches, Monte Carlo) are left exact.
    """
    out = {k: v.copy() for k, v in tables.items()}
    if limit <= 0:
        return out
    if out.get("summary") is not None and len(out["summary"]):
        _suppress_summary(out["summary"], shown, limit=limit)
    if out.get("weekly") is not None and len(out["weekly"]):
        plan = tables.get("production_plan")
        counted = None
        if plan is not None and len(plan) and {"period_ahead", "stage", "queue_start"} <= set(plan.columns):
            first = plan[plan["period_ahead"] == plan["period_ahead"].min()]
            counted = first.groupby("stage")["queue_start"].sum().to_dict()
        _suppress_weekly(out["weekly"], tables["weekly"], shown, limit=limit, counted=counted)
    if out.get("week_changes") is not None and len(out["week_changes"]):
        _suppress_changes(out["week_changes"], shown, limit=limit, weekly=out.get("weekly"))
    r = out.get("queue_production_ratio")
    if r is not None and len(r) and "queue" in r:
        last = r["period"] == r.groupby(["clinic", "stage"])["period"].transform("max")
        gone = _small(r["queue"], limit) | (last & r["stage"].map(lambda st: _widened(shown, f"queue:{st}")))
        _hide(r, "queue", gone)
        _hide(r, "queue_production_ratio_weeks", gone)
    return out


def _small(values, limit: int) -> pd.Series:
    v = pd.to_numeric(values, errors="coerce")
    return (v > 0) & (v < limit)


def _widened(shown: Shown, cell: str) -> bool:
    """True when ``cell`` of the snapshot is not shown exactly (suppressed or widened)."""
    return cell in shown and not shown.exact(cell)


def _suppress_summary(s: pd.DataFrame, shown: Shown, *, limit: int) -> None:
    """``summary`` under the rule (in place): the snapshot's counts by ``shown``, what gives them back."""
    for col, cell in (("queue_new_visit", "queue:new_visit"), ("queue_treatment", "queue:treatment"),
                      ("waiting_counted", "counted"), ("waiting_chosen", "chosen"), ("waiting_over_90", "over"),
                      ("share_over_90_days", "over"), ("queue_change_1w", "queue"), ("queue_change_1p", "queue"),
                      ("queue_production_ratio_weeks_new_visit", "queue:new_visit"),
                      ("queue_production_ratio_weeks_treatment", "queue:treatment")):
        if cell in shown:
            _hide(s, col, [_widened(shown, cell)] * len(s))
        elif col in STOCK_COLUMNS:
            _hide(s, col, _small(s[col], limit) if col in s else False)
    _hide(s, "queue_production_ratio_weeks",
          [_widened(shown, "queue:new_visit") or _widened(shown, "queue:treatment")] * len(s))


def _suppress_weekly(w: pd.DataFrame, exact: pd.DataFrame, shown: Shown, *, limit: int, counted=None) -> None:
    """``weekly`` under the rule (in place): small stocks, the latest week by ``shown``, the flows around."""
    last = w["period"] == w.groupby("clinic")["period"].transform("max")
    for col in STOCK_COLUMNS:
        if col in w:
            _hide(w, col, _small(w[col], limit))
    for stage, removal in (("new_visit", "removals_new_visit_other"), ("treatment", "removals_treatment_other")):
        for col, cell in ((f"queue_{stage}", f"queue:{stage}"), (f"waiting_over_90_{stage}", f"over:{stage}")):
            if col in w and cell in shown:
                _hide(w, col, last & _widened(shown, cell))
        _hide(w, removal, last & _widened(shown, f"queue:{stage}"))
    hidden = {f"queue_{s}": w[f"queue_{s}_suppressed"] for s in QUEUE_FLOWS if f"queue_{s}_suppressed" in w}
    for col, mask in protect_weekly_flows(exact, hidden, limit=limit, counted=counted).items():
        if col not in _PUBLISHED_FLOWS:  # a flag column for every flow that may be blanked
            _hide(w, col, mask)


#: The weekly columns a measure of ``week_changes`` rests on, where not the measure's own.
_CHANGE_COLUMNS = {"waiting_over_90": ("waiting_over_90_new_visit", "waiting_over_90_treatment"),
                   "queue_production_ratio_weeks": ("queue_new_visit", "queue_treatment")}


def _suppress_changes(c: pd.DataFrame, shown: Shown, *, limit: int, weekly: pd.DataFrame | None = None) -> None:
    """``week_changes`` under the rule (in place): the stock measures by ``shown`` and their size, and
    every cell resting on a week blank in ``weekly`` (this, last, change, direction, usual)."""
    cells = {"queue_new_visit": "queue:new_visit", "queue_treatment": "queue:treatment", "waiting_over_90": "over"}
    stock = c["measure"].isin(list(cells))
    # this_period/last_period and their old names this_week/last_week hold the same counts
    now = c["this_period"] if "this_period" in c else c["this_week"]
    then = c["last_period"] if "last_period" in c else c["last_week"]
    this = stock & (_small(now, limit) | c["measure"].map(lambda m: _widened(shown, cells.get(m, ""))))
    before = stock & _small(then, limit)
    ratio = (c["measure"] == "queue_production_ratio_weeks") & (_widened(shown, "queue:new_visit")
                                                                or _widened(shown, "queue:treatment"))
    usual = pd.Series(False, index=c.index)
    if weekly is not None and len(weekly):
        blank_at = _blank_weeks(weekly)
        for i, row in c.iterrows():
            cols = _CHANGE_COLUMNS.get(row["measure"], (row["measure"],))
            weeks = blank_at.get(row.get("clinic"), {})
            hid = [any(weeks.get(col, [False] * 5)[k] for col in cols) for k in range(5)]  # 0 = this week
            # this week's snapshot counts follow ``shown`` (a total may be exact where its parts are not)
            this[i] = this[i] or (hid[0] and row["measure"] not in cells and not ratio[i])
            before[i], usual[i] = before[i] or hid[1], any(hid[1:5])
    for col in ("this_period", "this_week"):
        _hide(c, col, this | ratio)
    for col in ("last_period", "last_week"):
        _hide(c, col, before)
    _hide(c, "change", this | before | ratio)
    _hide(c, "usual", usual)
    if "direction" in c:  # "same", "up", "down" of a blank change would tell it
        gone = c["change_suppressed"].astype(bool) if "change_suppressed" in c else this | before | ratio
        c["direction_suppressed"] = gone
        c["direction"] = c["direction"].where(~gone)


def _blank_weeks(weekly: pd.DataFrame) -> dict:
    """``{clinic: {column: [blank in the latest week, the week before, ... 4 weeks before]}}`` from the
    ``<column>_suppressed`` flags of ``weekly``."""
    out = {}
    flags = [c for c in weekly.columns if c.endswith("_suppressed")]
    for clinic, part in weekly.groupby("clinic", sort=False):
        part = part.sort_values("period").tail(5).iloc[::-1]
        out[clinic] = {f[:-len("_suppressed")]: list(part[f].astype(bool)) + [False] * (5 - len(part))
                       for f in flags}
    return out


def suppress_year_over_year(yoy: pd.DataFrame, weekly: pd.DataFrame, measure: str | None = None) -> pd.DataFrame:
    """A year-over-year frame with ``value`` blank wherever the weekly table hides the measure.

    The report's figures of the situation week by week draw each measure per week
    (:func:`kps_analysis.seasonal.year_over_year`); a figure, its alt text and the stored
    analyses must not show a count the tables hide, so the weeks blank in ``weekly``
    (the weekly table under :func:`suppress_tables`, with its ``<column>_suppressed``
    flags) are blank here too.

    Parameters
    ----------
    yoy : DataFrame
        ``measure`` (or one measure), ``year``, ``week`` (or ``month``), ``value`` [count].
    weekly : DataFrame
        ``clinic``, ``period`` (Period) and the flag columns of :func:`suppress_tables`.
    measure : str, optional
        The measure of ``yoy`` when it has no ``measure`` column.

    Returns
    -------
    DataFrame
        A copy of ``yoy``.
    """
    out = yoy.copy()
    if not len(out) or "period" not in weekly or "value" not in out:
        return out
    flags = [c for c in weekly.columns if c.endswith("_suppressed") and weekly[c].astype(bool).any()]
    if not flags:
        return out
    # a monthly clinic's frame computed beside weekly ones has a blank week column (the region's concat)
    x = "week" if "week" in out.columns and out["week"].notna().any() else "month"
    periods = pd.PeriodIndex(weekly["period"])
    if x == "week":
        iso = periods.start_time.isocalendar()
        keys = list(zip(iso["year"].astype(int), iso["week"].astype(int)))
    else:
        keys = list(zip(periods.year, periods.month))
    measures = out["measure"] if "measure" in out else pd.Series(measure, index=out.index, dtype=object)
    rows = list(zip(out["year"].astype(int), out[x].astype(int)))
    for flag in flags:
        col = flag[:-len("_suppressed")]
        hidden = {k for k, h in zip(keys, weekly[flag].astype(bool)) if h}
        mask = pd.Series([r in hidden for r in rows], index=out.index) & measures.eq(col)
        out.loc[mask, "value"] = np.nan
    return out
