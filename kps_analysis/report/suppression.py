"""Small-number suppression: the one rule by which every report, table, figure and workbook
shows counts of patients (:func:`protect_counts`), its application to a clinic's
waiting-list snapshot (:func:`protect_snapshot`, :func:`snapshot_shown`) and to the result
tables written to ``tables/*.csv`` (:func:`suppress_tables`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from .formatting import format_count
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
                   hidden=()) -> Shown:
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
    anchors, keep, hidden = set(anchors), set(keep), set(hidden)
    values = {k: float(v) for k, v in values.items() if v is not None and v == v}
    relations = [(t, [p for p in ps if p in values]) for t, ps in relations if t in values]
    shown = Shown()
    shown.limit = limit
    if limit <= 0:
        shown.update({k: (v, v) for k, v in values.items()})
        return shown
    small = {k for k, v in values.items() if 0 < v < limit}
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
        single = [c for c in others if frees(c)]
        pair = [] if single else [(a, b) for i, a in enumerate(others) for b in others[i + 1:] if frees(a, b)][:1]
        widened.update(single[:1] or (pair[0] if pair else (others or ranked)[:1]))
    # widen no more than needed: give back every widened count that nothing needs
    for c in sorted(widened, key=lambda c: (values[c] == 0, -values[c]), reverse=True):
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
    return format_count(100 * share, language=language, decimals=1) + " %"


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
      widened (queue of last week + the week's flows would give it back).
    - ``week_changes``: the stock measures (this and last week, the change).
    - ``queue_production_ratio``: ``queue`` below the limit, the latest week's by
      ``shown``, and the ratio wherever its queue is blank.

    Model projections (the plan, purchase, breaches, Monte Carlo) are left exact.
    """
    out = {k: v.copy() for k, v in tables.items()}

    def small(s):
        v = pd.to_numeric(s, errors="coerce")
        return (v > 0) & (v < limit)

    def hidden(cell):
        return cell in shown and not shown.exact(cell)

    if limit <= 0:
        return out
    s = out.get("summary")
    if s is not None and len(s):
        for col, cell in (("queue_new_visit", "queue:new_visit"), ("queue_treatment", "queue:treatment"),
                          ("waiting_counted", "counted"), ("waiting_chosen", "chosen"), ("waiting_over_90", "over"),
                          ("share_over_90_days", "over"), ("queue_change_1w", "queue"), ("queue_change_1p", "queue"),
                          ("queue_production_ratio_weeks_new_visit", "queue:new_visit"),
                          ("queue_production_ratio_weeks_treatment", "queue:treatment")):
            if cell in shown:
                _hide(s, col, [hidden(cell)] * len(s))
            elif col in STOCK_COLUMNS:
                _hide(s, col, small(s[col]) if col in s else False)
        _hide(s, "queue_production_ratio_weeks", [hidden("queue:new_visit") or hidden("queue:treatment")] * len(s))
    w = out.get("weekly")
    if w is not None and len(w):
        last = w["period"] == w.groupby("clinic")["period"].transform("max")
        for col in STOCK_COLUMNS:
            if col in w:
                _hide(w, col, small(w[col]))
        for stage, removal in (("new_visit", "removals_new_visit_other"), ("treatment", "removals_treatment_other")):
            for col, cell in ((f"queue_{stage}", f"queue:{stage}"), (f"waiting_over_90_{stage}", f"over:{stage}")):
                if col in w and cell in shown:
                    _hide(w, col, last & hidden(cell))
            _hide(w, removal, last & hidden(f"queue:{stage}"))
    c = out.get("week_changes")
    if c is not None and len(c):
        cells = {"queue_new_visit": "queue:new_visit", "queue_treatment": "queue:treatment", "waiting_over_90": "over"}
        stock = c["measure"].isin(list(cells))
        # this_period/last_period and their old names this_week/last_week hold the same counts
        now = c["this_period"] if "this_period" in c else c["this_week"]
        then = c["last_period"] if "last_period" in c else c["last_week"]
        this = stock & (small(now) | c["measure"].map(lambda m: hidden(cells.get(m, ""))))
        before = stock & small(then)
        ratio = (c["measure"] == "queue_production_ratio_weeks") & (hidden("queue:new_visit")
                                                                    or hidden("queue:treatment"))
        for col in ("this_period", "this_week"):
            _hide(c, col, this | ratio)
        for col in ("last_period", "last_week"):
            _hide(c, col, before)
        _hide(c, "change", this | before | ratio)
    r = out.get("queue_production_ratio")
    if r is not None and len(r) and "queue" in r:
        last = r["period"] == r.groupby(["clinic", "stage"])["period"].transform("max")
        gone = small(r["queue"]) | (last & r["stage"].map(lambda st: hidden(f"queue:{st}")))
        _hide(r, "queue", gone)
        _hide(r, "queue_production_ratio_weeks", gone)
    return out
