"""The report's sections: what each needs, whether a clinic has it, and one call to show it.

A clinic report (``notebooks/clinic_report.ipynb``) is a list of sections; each section
declares the measures it needs (columns of the clinic's weekly or monthly frame), whether
it needs the patient-level waiting-list extract, the planning model, and the optional
parameter groups (:func:`kps_analysis.parameters.capabilities`: ``resources``,
``care_agreement`` = ``annual_volume``, ``prices``, ``scenarios``, ``region_pool``).
:func:`available` checks a clinic against every section; ``kps validate`` prints the
same table per clinic, and :func:`show` replaces a section the clinic cannot have by one
plain sentence saying which data would enable it, so the rest of the report still comes.

Every number shown comes from the clinic's planning model
(:class:`kps_analysis.planning.PlanningModel`, its headline via
:func:`kps_analysis.planning.headline`) or from the data as read; this module formats
and displays, it computes no quantity of its own. A section that fails shows a short
message; the exception and its trace go to the log (stderr), never into the report.

This is a presentation module (it displays with IPython); analysis modules know nothing
of it.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from . import report, report_plan
from .report import escape_text, format_count, format_signed, label, period_kind, period_name, period_word
from .report.formatting import MONTH_LABEL, as_period, data_ends
from .report.labels import TEXTS, in_months

__all__ = ["Section", "SECTIONS", "MODEL_MEASURES", "MODEL_QUEUES", "available", "sentence", "ClinicContext", "load",
           "show", "write_tables", "RegionContext", "load_region", "show_region", "figure_html",
           "first_screen_html", "in_periods", "KEYS", "REGION_KEYS", "render"]

log = logging.getLogger("kps_analysis.sections")


# ============================================================================ the registry
@dataclass(frozen=True)
class Section:
    """One report section and what it needs.

    Attributes
    ----------
    key : str
        Identifier (``report.section(key)`` gives its heading and explanation).
    measures : tuple of tuple of str
        Alternatives of measure columns: the section can be shown when the frame has
        every column of at least one alternative (with at least one value). Empty: none.
    groups : tuple of str
        Optional parameter groups it needs, all of them (:data:`kps_analysis.parameters.CAPABILITIES`).
    waiting_list : bool
        Needs the patient-level waiting-list extract.
    model : bool
        Needs the planning model (which needs :data:`MODEL_MEASURES`).
    """

    key: str
    measures: tuple = ()
    groups: tuple = ()
    waiting_list: bool = False
    model: bool = False


#: The planning model plans a stage from its inflow and its own production per period;
#: a clinic needs at least one stage (``kps_analysis.planning.STAGE_MEASURES``).
MODEL_MEASURES = (("referrals_in", "new_visits"), ("treatment_decisions", "operations_elective"))
#: ... and who waits in that stage's queue: its queue column, or the clinic's waiting-list extract
#: (``kps_analysis.planning.known_queues``; a stage whose queue is unknown is not planned).
MODEL_QUEUES = ("queue_new_visit", "queue_treatment")

_FLOWS = (("referrals_in",), ("new_visits",), ("operations_elective",), ("queue_new_visit",), ("queue_treatment",))
_RATIO = (("queue_new_visit", "new_visits"), ("queue_treatment", "operations_elective"))

#: The clinic report's sections, in report order.
SECTIONS = (
    Section("summary", model=True),
    Section("key_figures", model=True),
    Section("changes", measures=tuple((m,) for m in ("referrals_in", "new_visits", "treatment_decisions",
                                                     "operations_elective", "queue_new_visit", "queue_treatment"))),
    Section("situation", measures=_FLOWS),
    Section("ratio", measures=_RATIO),
    Section("seasonal", measures=(("referrals_in",), ("new_visits",), ("operations_elective",))),
    Section("forecast", measures=(("referrals_in",),), model=True),
    Section("balance", measures=MODEL_MEASURES, model=True),
    Section("waits", waiting_list=True),
    Section("breaches", model=True),
    Section("capacity", model=True),
    Section("capacity_resources", groups=("resources",), model=True),
    Section("purchase", model=True),
    Section("purchase_cost", groups=("prices",), model=True),
    Section("moves", groups=("region_pool",), model=True),
    Section("agreement", groups=("care_agreement",), model=True),
    Section("monte_carlo", model=True),
    Section("plan", model=True),
    Section("follow_up", model=True),
    Section("scenarios", groups=("scenarios",), model=True),
    Section("quality"),
    Section("provenance"),
)
_BY_KEY = {s.key: s for s in SECTIONS}


def _has(weekly: pd.DataFrame, column: str) -> bool:
    return column in weekly.columns and bool(pd.to_numeric(weekly[column], errors="coerce").notna().any())


def _measure_list(alternatives, language: str) -> str:
    """``remisser in och nybesök, eller behandlingsbeslut och operationer`` (labels, lower case)."""
    joiner, orer = label("list.and", language), label("list.or", language)
    words = [joiner.join(label(m, language).lower() for m in alt) for alt in alternatives]
    return orer.join(words)


def _capabilities(params) -> dict:
    """The clinic's optional parameter groups (:func:`kps_analysis.parameters.capabilities`)."""
    from .parameters import capabilities

    return capabilities(params)


def sentence(section: Section, missing: dict, language: str = "sv", *, period: str = "week") -> str:
    """The plain sentence shown in place of a section: which data would enable it.

    ``missing`` has ``measures`` (alternatives not met), ``waiting_list`` (bool),
    ``model`` (alternatives of the model's measures not met) and ``groups`` (list).

    Examples
    --------
    >>> s = Section("x", measures=(("referrals_in",),))
    >>> sentence(s, {"measures": (("referrals_in",),)})
    'Avsnittet kräver veckodata med remisser in, och det saknas för kliniken.'
    >>> sentence(s, {"groups": ["prices"]}, "en")
    "This section needs prices of purchased care and own production (`prices`) in the clinic's parameter file."
    """
    from .parameters import needs_sentence

    lang = "en" if language == "en" else "sv"
    data_word = label("section.weekly_data" if period == "week" else "section.monthly_data", lang)
    parts = []
    alternatives = list(missing.get("measures") or ()) + list(missing.get("model") or ())
    if alternatives:
        what = _measure_list(alternatives, lang)
        key = "section.needs_model" if missing.get("model") else "section.needs_data"
        parts.append(label(key, lang, data_word=data_word, what=what))
    if missing.get("waiting_list"):
        parts.append(label("section.needs_waiting_list", lang))
    if missing.get("groups"):
        parts.append(needs_sentence(list(missing["groups"]), language=lang))
    return " ".join(parts)


def available(weekly: pd.DataFrame, params, waiting_list: pd.DataFrame | None = None) -> pd.DataFrame:
    """Which report sections a clinic's data and parameters support, and why not.

    The one check behind the report and ``kps validate``: a section is available when
    the clinic's frame has one of its measure alternatives (a column with at least one
    value), the waiting-list extract when it needs one, the planning model's measures
    (:data:`MODEL_MEASURES` with the stage's queue, :data:`MODEL_QUEUES`, or the extract; one
    stage is enough) when it rests on the model, and every
    optional parameter group it needs (:func:`kps_analysis.parameters.capabilities`).

    Parameters
    ----------
    weekly : DataFrame
        The clinic's canonical frame (weekly or monthly periods) [counts per period].
    params : Parameters or Mapping
        The clinic's loaded parameters.
    waiting_list : DataFrame, optional
        The clinic's patient-level extract, if it delivers one.

    Returns
    -------
    DataFrame
        One row per section of :data:`SECTIONS`, in report order: ``section``,
        ``available`` (bool), ``missing`` (what is missing, as text: measure columns,
        ``waiting_list``, parameter groups; "" when available), ``sentence_sv`` and
        ``sentence_en`` (what the report shows in its place; "" when available).

    Examples
    --------
    >>> w = pd.DataFrame({"clinic": "q", "period": pd.period_range("2026-01-05", periods=2, freq="W-SUN"),
    ...                   "queue_new_visit": [10.0, 12.0], "waiting_over_90_new_visit": [1.0, 2.0]})
    >>> t = available(w, {"name": "Q", "data": {"weekly": "q.csv"}}).set_index("section")
    >>> bool(t.loc["situation", "available"]), bool(t.loc["plan", "available"]), t.loc["quality", "missing"]
    (True, False, '')
    """
    caps = _capabilities(params)
    has_list = waiting_list is not None and len(waiting_list) > 0
    has_model = any(all(_has(weekly, m) for m in alt) and (has_list or _has(weekly, queue))
                    for alt, queue in zip(MODEL_MEASURES, MODEL_QUEUES))
    kind = period_kind(weekly["period"]) if "period" in weekly.columns and len(weekly) else "week"
    rows = []
    for s in SECTIONS:
        missing = {}
        if s.measures and not any(all(_has(weekly, m) for m in alt) for alt in s.measures):
            missing["measures"] = s.measures
        if s.model and not has_model:
            missing["model"] = tuple(alt + (queue,) for alt, queue in zip(MODEL_MEASURES, MODEL_QUEUES))
            missing.pop("measures", None)  # the model's measures say it all
        if s.waiting_list and not has_list:
            missing["waiting_list"] = True
        groups = [g for g in s.groups if not caps.get(g, False)]
        if groups:
            missing["groups"] = groups
        words = []
        for alt in list(missing.get("measures") or ()) + list(missing.get("model") or ()):
            words.append("+".join(alt))
        if missing.get("waiting_list"):
            words.append("waiting_list")
        words += [f"parameters:{g}" for g in groups]
        rows.append({"section": s.key, "available": not missing, "missing": " | ".join(dict.fromkeys(words)),
                     "sentence_sv": sentence(s, missing, "sv", period=kind) if missing else "",
                     "sentence_en": sentence(s, missing, "en", period=kind) if missing else ""})
    return pd.DataFrame(rows)


# ============================================================================ periods in texts
def with_horizons(text: str, fixed: int, horizon: int) -> str:
    """The catalogue's "12 weeks" (the fixed weeks) and "52 weeks" (the plan's horizon) as the
    clinic's own numbers of periods, in one pass (a monthly clinic's 52 -> 12 is never read
    again as the fixed 12).

    Examples
    --------
    >>> with_horizons("de kommande 52 veckorna; de 12 veckorna är fasta", 3, 12)
    'de kommande 12 veckorna; de 3 veckorna är fasta'
    """
    import re

    numbers = {"12": str(fixed), "52": str(horizon)}
    return re.sub(r"\b(12|52) (veckorna|veckor|weeks)\b", lambda m: f"{numbers[m.group(1)]} {m.group(2)}", text)


def in_periods(text: str, kind: str, language: str = "sv") -> str:
    """A report text with its period words for ``kind`` (``"week"`` unchanged, ``"month"``).

    The report's explanations are written for weekly data; for a monthly clinic every
    week word becomes the month word (whole words only, the pairs of
    :data:`kps_analysis.report.labels.WEEK_TO_MONTH`), so no monthly report speaks of weeks.

    Examples
    --------
    >>> in_periods("Kön per vecka; de kommande veckorna.", "month")
    'Kön per månad; de kommande månaderna.'
    >>> in_periods("per week, weekly", "month", "en")
    'per month, monthly'
    """
    return in_months(text, language) if kind == "month" else text


# ============================================================================ the clinic's context
class ClinicContext:
    """Everything a clinic report shows, loaded once: parameters, data, the planning model.

    Built by :func:`load`; what only some sections need (the changes since last period,
    the köproduktionskvot history, the forecast backtest, data-quality findings) is
    computed on first use and kept.
    """

    def __init__(self, *, params, weekly, waiting_list, model, output_dir="", run_id="interactive",
                 sections: pd.DataFrame | None = None, analytics: dict | None = None):
        self.params = params
        self.clinic_id = params.clinic_id
        self.language = params.language if params.language in ("sv", "en") else "sv"
        self.weekly = weekly
        self.waiting_list = waiting_list
        self.model = model
        self.output_dir = output_dir
        self.run_id = run_id
        self.limit = int(params.suppression_limit)
        self.kind = period_kind(weekly["period"]) if len(weekly) else "week"
        self.sections = sections if sections is not None else available(weekly, params, waiting_list)
        self.stored = dict(analytics or {})  # the run's analytics of this clinic, stored beside its model

    def analysis(self, name: str) -> pd.DataFrame:
        """One of the report's analyses (:data:`kps_analysis.analytics.ANALYSES`) of this clinic:
        as ``kps run`` stored it beside the model, else computed here by the same function."""
        from . import analytics

        if name in self.stored:
            frame = self.stored[name]
            if "period" in frame.columns and len(frame) and not isinstance(frame["period"].dtype, pd.PeriodDtype):
                from .planning import as_periods

                frame = frame.assign(period=as_periods(frame["period"], self.weekly["period"].dtype.freq.freqstr))
            return frame
        return analytics.compute_one(name, self.weekly, self.params, self.model)

    # ---------------------------------------------------------------- model figures
    @cached_property
    def headline(self) -> pd.DataFrame | None:
        from .planning import headline

        if self.model is None:
            return None
        return headline(self.weekly, self.model, window_weeks=self.params.ratio_window_weeks)

    @cached_property
    def snapshot(self):
        from .data import waiting_snapshot

        if self.waiting_list is None or not len(self.waiting_list):
            return None
        return waiting_snapshot(self.waiting_list, self.weekly["period"].iloc[-1].end_time.normalize())

    @cached_property
    def shown(self):
        """The suppression rule's view of the snapshot, shared by every table and figure."""
        if self.model is None:
            return report.Shown()
        return report_plan.snapshot_shown(self.model, self.headline, waiting=self.snapshot, weekly=self.weekly,
                                          limit=self.limit)

    @cached_property
    def fixed(self) -> int:
        """The fixed horizon of the plan [periods]."""
        s = self.model.settings if self.model is not None else None
        if s is not None and len(s):
            for col in ("fixed_periods", "fixed_weeks"):
                if col in s.columns:
                    return int(s[col].iloc[0])
        return int(self.params.fixed_horizon_weeks)

    @cached_property
    def guarantee_days(self) -> float:
        return float(self.params.guarantee_days)

    @cached_property
    def period_days(self) -> float:
        """Mean length of the data's period [days] (7 for weeks, ~30.4 for months)."""
        return 7.0 if self.kind == "week" else 365.25 / 12

    # ---------------------------------------------------------------- data views
    @cached_property
    def changes(self) -> pd.DataFrame:
        return self.analysis("changes")

    @cached_property
    def ratios(self) -> pd.DataFrame:
        return self.analysis("ratios")

    @cached_property
    def stages(self) -> set | None:
        """The stages the clinic's plan has (``new_visit``, ``treatment``); None without a model.
        The texts name only their queues and the rates only theirs (hud has no treatment stage)."""
        return set(self.model.plan["stage"]) if self.model is not None and len(self.model.plan) else None

    @cached_property
    def loads(self) -> pd.DataFrame:
        from .balance import stage_loads

        plan = self.model.plan
        return stage_loads(plan[plan["period_ahead"] <= self.fixed])

    @cached_property
    def accuracy(self) -> pd.DataFrame:
        """The forecast's backtest (heavy: four origins; stored beside the model by ``kps run``)."""
        if self.model is None or not _has(self.weekly, "referrals_in"):
            return pd.DataFrame(columns=["method", "horizon", "wape", "n"])
        return self.analysis("accuracy")

    @cached_property
    def findings(self) -> pd.DataFrame:
        return self.analysis("findings")

    def ok(self, key: str) -> bool:
        """True when the clinic has what section ``key`` needs (and its planning model, if it rests on it)."""
        if key in _BY_KEY and _BY_KEY[key].model and self.model is None:
            return False
        row = self.sections[self.sections["section"] == key]
        return bool(row["available"].iloc[0]) if len(row) else True

    def why_not(self, key: str) -> str:
        """The sentence shown in place of section ``key``."""
        row = self.sections[self.sections["section"] == key]
        text = row[f"sentence_{self.language}"].iloc[0] if len(row) else ""
        if not text and self.model is None:
            text = label("section.no_model", self.language)
        return text

    def text(self, key: str) -> str:
        """The section's heading and explanation in the report language, period and horizon.

        The explanations are written for 12 fixed weeks of a 52-week plan; they are given
        the clinic's own horizon (the plan's periods) and period word, and name the queues
        of the stages the clinic's plan has.
        """
        from .parameters import calendar_region

        try:
            to_dict = getattr(type(self.params), "to_dict", None)
            region = calendar_region(self.params.to_dict() if callable(to_dict) else dict(self.params))
        except (ValueError, TypeError, KeyError, AttributeError):
            region = {}
        return self.in_horizons(report.section(key, self.language, kind=self.kind, stages=self.stages, **region))

    def in_horizons(self, text: str) -> str:
        """A report text with the clinic's fixed weeks and horizon for the catalogue's 12 and 52
        weeks, in its periods (weeks or months, :func:`in_periods`)."""
        if self.model is not None and len(self.model.plan):
            text = with_horizons(text, self.fixed, int(self.model.plan["period_ahead"].max()))
        return in_periods(text, self.kind, self.language)


def load(clinic_id: str, parameters_dir="../parameters", data_dir="", output_dir="", run_id="interactive",
         previous_tables="", model_dir="") -> ClinicContext:
    """Load one clinic for its report: parameters, data, and its planning model.

    The same call for ``kps run`` (papermill passes the identifiers and paths, the
    stored model in ``model_dir``) and for a user in JupyterLab (``model_dir`` empty: the
    model is computed here with :func:`kps_analysis.region.clinic_model`, which plans the
    clinic with every clinic of ``parameters_dir`` through the batch's own planning call,
    so it shows the numbers of the clinic's region report). The model is computed only when the
    clinic has its measures (:data:`MODEL_MEASURES`); otherwise the model's sections say
    what would enable them.

    Parameters
    ----------
    clinic_id : str
        File stem in ``<parameters_dir>/clinics``.
    parameters_dir, data_dir : path
        Parameter folder; data folder (empty: the synthetic demo data).
    output_dir : path
        Where :func:`write_tables` writes the result tables (empty: nowhere).
    run_id : str
        The run's id, for the provenance.
    previous_tables : path
        The previous run's ``<clinic>/tables`` folder (its fixed plan is kept).
    model_dir : path
        The run's stored model of this clinic (:func:`kps_analysis.store.write_model`).

    Returns
    -------
    ClinicContext
    """
    from . import data, demo, parameters, plots, region, store

    params = parameters.load_parameters(clinic_id, parameters_dir)
    source = Path(data_dir) if data_dir else demo.ensure_demo_data(
        Path(parameters_dir).resolve().parent / "outputs" / "demo-data")
    clinic = data.load_clinic(params, source)
    plots.use_style()
    sections = available(clinic.weekly, params, clinic.waiting_list)
    model, stored = None, {}
    if bool(sections.set_index("section").loc["plan", "available"]) or model_dir:
        if model_dir:
            model = store.read_model(model_dir)
            stored = store.read_analytics(model_dir)
        else:   # planned with its region, as kps run plans it (the same numbers as its report)
            model, stored = region.clinic_model(params, parameters_dir, source, previous_tables)
    ctx = ClinicContext(params=params, weekly=clinic.weekly, waiting_list=clinic.waiting_list, model=model,
                        output_dir=output_dir, run_id=run_id, sections=sections, analytics=stored)
    ctx.parameters_dir = parameters_dir
    # the previous run planned in the other kind of period: its fixed plan is not kept (the plan says so)
    ctx.previous_dropped = region.previous_dropped(previous_tables, clinic.weekly)
    return ctx


# ============================================================================ display helpers
#: The outputs recorded by :func:`render` instead of being displayed (None: display them).
_RECORDED: list | None = None


def _output(mime: str, text: str, kind: str, metadata: dict | None) -> dict:
    """One display output as a notebook stores it (the MIME bundle IPython's ``display`` publishes)."""
    return {"data": {mime: text, "text/plain": f"<IPython.core.display.{kind} object>"}, "metadata": metadata or {}}


def _display_html(html: str, **metadata) -> None:
    if _RECORDED is not None:
        _RECORDED.append(_output("text/html", html, "HTML", metadata))
        return
    from IPython.display import HTML, display

    display(HTML(html), metadata=metadata or None)


def _markdown(text: str) -> None:
    if _RECORDED is not None:
        _RECORDED.append(_output("text/markdown", text, "Markdown", None))
        return
    from IPython.display import Markdown, display

    display(Markdown(text))


def _table(table: pd.DataFrame, caption: str, *, index: bool = True, periods: bool = False) -> None:
    if table is None or not len(table.columns):
        return
    _display_html(report.html_table(table, caption, index=index, periods=periods))


def figure_html(fig, alt: str) -> str:
    """A figure as an inline SVG with its alt text (:func:`kps_analysis.plots.figure_html`)."""
    from .plots import figure_html as html

    return html(fig, alt)


def _figure(fig, alt: str) -> None:
    from . import plots

    if _RECORDED is not None:
        _display_html(plots.figure_html(fig, alt))
        return
    plots.show(fig, alt=alt)


def _heading_only(text: str) -> str:
    """The heading line of a section's markdown."""
    return text.split("\n", 1)[0]


# ============================================================================ first screen
_STATUS_COLOUR = {"red": "red", "yellow": "yellow", "green": "green"}

#: The first screen's terms, in order: ``glossary.<name>`` (the term) and ``glossary.<name>_text`` (its
#: explanation) in :data:`kps_analysis.report.labels.TEXTS`.
_GLOSSARY = ("guarantee", "ratio", "purchased_care", "lead_time", "capacity_gap", "fixed_plan", "escalation")


def _num(value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return float("nan")
    return v


def _card(title: str, value: str, unit: str, note: str, status: str, status_text: str) -> str:
    return (f'<div class="kps-card kps-status-{status}" role="group" aria-label="{escape_text(title)}">'
            f'<div class="kps-card-title">{escape_text(title)}</div>'
            f'<div class="kps-card-value">{escape_text(value)} <span class="kps-card-unit">{escape_text(unit)}</span>'
            f'</div><div class="kps-card-note">{escape_text(note)}</div>'
            f'<div class="kps-card-status">{escape_text(status_text)}</div></div>')


def _change_note(changes: pd.DataFrame, measure: str, *, language: str, kind: str, decimals: int = 0,
                 limit: int = 5) -> str:
    """``▲ +12 sedan förra veckan`` from the week's changes (the same table as week_changes.csv)."""
    if changes is None or not len(changes) or measure not in set(changes["measure"]):
        return ""
    r = changes[changes["measure"] == measure].iloc[0]
    change = _num(r["change"])
    if not np.isfinite(change):
        return ""
    if decimals and np.isfinite(_num(r["last_week"])):   # the change of the values as shown (as the table)
        change = round(_num(r["this_week"]), decimals) - round(_num(r["last_week"]), decimals)
    small = measure != "queue_production_ratio_weeks" and limit > 0 and any(
        0 < abs(_num(v)) < limit for v in (r["this_week"], r["last_week"]))
    if small:
        return ""
    arrow = "▲" if round(change, decimals) > 0 else "▼" if round(change, decimals) < 0 else "●"
    since = label("section.since_last", language, period=period_word(kind, language, definite=language == "sv"))
    return f"{arrow} {format_signed(change, language=language, decimals=decimals)} {since}"


@dataclass
class _Facts:
    """What every part of the first screen reads: the headline row, its texts and the clinic's settings."""

    lang: str
    kind: str
    sv: bool
    r: object  # the headline's row
    texts: dict
    days: str
    target: float
    lead: int
    F: int
    pw: Callable
    lw: Callable
    change: float
    over: str
    status: str
    words: dict
    level: str


def _first_screen_facts(ctx: ClinicContext) -> _Facts:
    """The headline's figures and texts under the suppression rule, the guarantee, target and horizon."""
    lang, kind = ctx.language, ctx.kind
    sv = lang == "sv"
    h = ctx.headline
    r = h.iloc[0]
    texts = {k: v[1] for k, v in report_plan.key_figure_texts(h, limit=ctx.limit, language=lang,
                                                              shown=ctx.shown).items()}
    days = format_count(ctx.guarantee_days, language=lang)
    settings = ctx.model.settings.iloc[0]
    target = 1 - float(settings.get("target_share", 0.95))
    lead = int(settings.get("lead_time_weeks", 4))
    F = ctx.fixed
    pw = lambda n: period_word(kind, lang, plural=n != 1)  # noqa: E731
    # the purchase lead time is a parameter in weeks (purchase_lead_time_weeks), in weeks whatever the data
    lw = lambda n: period_word("week", lang, plural=n != 1)  # noqa: E731
    change = report_plan.queue_change(r)   # over the last week, or month for monthly data
    over = ctx.shown.text("over", r.get("waiting_over_90"), language=lang) if "over" in ctx.shown else (
        texts.get("waiting_over_90") or format_count(_num(r.get("waiting_over_90")), language=lang))
    status = str(r.get("escalation") or "green")
    words = report.STATUS_WORDS["sv" if sv else "en"]
    level = words.get(str(r.get("escalation_level")), "–")
    return _Facts(lang=lang, kind=kind, sv=sv, r=r, texts=texts, days=days, target=target, lead=lead, F=F, pw=pw,
                  lw=lw, change=change, over=over, status=status, words=words, level=level)


def _state_sentence(ctx: ClinicContext, f: _Facts) -> str:
    """The state in one sentence: the queue's trend, who waited too long, what to buy by when."""
    lang, r, texts, days, F, pw = f.lang, f.r, f.texts, f.days, f.F, f.pw
    change, over = f.change, f.over
    if np.isfinite(change) and change > 0:
        trend = label("section.queue_growing", lang)
    elif np.isfinite(change) and change < 0:
        trend = label("section.queue_shrinking", lang)
    else:
        trend = label("section.queue_unchanged", lang)
    clauses = []
    if np.isfinite(_num(r.get("waiting_over_90"))):
        clauses.append(label("section.state_waited_over", lang, over=over, days=days))
    nv, op = _num(r.get("purchase_new_visits_12w")), _num(r.get("purchase_operations_12w"))
    buys = []
    if np.isfinite(nv) and nv > 0:
        buys.append(f"{texts.get('purchase_new_visits_12w', format_count(nv))} "
                    f"{label('section.unit_first_visits', lang)}")
    if np.isfinite(op) and op > 0:
        buys.append(f"{texts.get('purchase_operations_12w', format_count(op))} "
                    f"{label('section.unit_operations', lang)}")
    order_by = period_name(r.get("first_order_by"), lang)
    if buys:
        joined = label("list.and", lang).join(buys)
        late = bool(r.get("first_order_late", False))
        when = label("section.order_late", lang) if late else label("section.order_by", lang, date=order_by)
        clauses.append(label("section.state_buy", lang, joined=joined, when=when))
    if not buys and np.isfinite(_num(r.get("breaches_after_purchase_peak_12w"))) and \
            _num(r.get("breaches_after_purchase_peak_12w")) > 0:
        # nothing to buy, yet patients pass the limit before a purchase could start: not "capacity holds"
        clauses.append(label("section.state_late_only", lang, n=texts.get(
            "breaches_after_purchase_peak_12w", format_count(_num(r.get("breaches_after_purchase_peak_12w")),
                                                             language=lang)), days=days))
    elif not buys:
        clauses.append(label("section.state_own_capacity", lang, n=F, periods=pw(F)))
    state = f"{trend}: " + "; ".join(clauses) + "."
    return state


def _key_cards(ctx: ClinicContext, f: _Facts) -> list[str]:
    """The key figures as cards, with units, colour and trend."""
    lang, kind, sv, r, texts, days, target, F, pw = f.lang, f.kind, f.sv, f.r, f.texts, f.days, f.target, f.F, f.pw
    change, over, status, words, level = f.change, f.over, f.status, f.words, f.level
    share = _num(r.get("share_over_90_days"))
    ratio = _num(r.get("queue_production_ratio_weeks"))
    limit_weeks = ctx.guarantee_days / 7.0  # the köproduktionskvot is in weeks (queue_production_ratio_weeks)
    peak = _num(r.get("projected_breaches_peak_12w"))
    # a red card says what red means: patients pass the limit unless something is done
    ok_word, bad_word, act_word = (label("section.within_target", lang), label("section.above_target", lang),
                                   label("section.action_needed", lang))
    patients = label("section.unit_patients", lang)
    queue_total = ctx.shown.text("queue", _num(r.get("queue_new_visit", 0)) + _num(r.get("queue_treatment", 0)),
                                 language=lang) if "queue" in ctx.shown else format_count(
        np.nansum([_num(r.get("queue_new_visit")), _num(r.get("queue_treatment"))]), language=lang)
    cards = [
        _card(label("section.card_waiting", lang), queue_total, patients,
              _change_note(ctx.changes_or_empty, "queue_new_visit", language=lang, kind=kind, limit=ctx.limit)
              and label("section.card_change", lang, change=texts.get('queue_change_1w', '–'),
                        period=period_word(kind, lang, definite=sv)),
              "yellow" if np.isfinite(change) and change > 0 else "green",
              label("section.growing", lang) if np.isfinite(change) and change > 0 else
              label("section.shrinking", lang) if np.isfinite(change) and change < 0 else
              label("section.unchanged", lang)),
        _card(label("section.card_waited_over", lang, days=days),
              texts.get("share_over_90_days", "–"), "",
              label("section.card_target", lang, over=over, target=format_count(100 * target, language=lang)),
              "red" if np.isfinite(share) and share > target + 1e-12 else "green",
              bad_word if np.isfinite(share) and share > target + 1e-12 else ok_word),
        _card(label("section.card_ratio", lang), texts.get("queue_production_ratio_weeks",
              "–"), period_word("week", lang, plural=True),
              _change_note(ctx.changes_or_empty, "queue_production_ratio_weeks", language=lang, kind=kind,
                           decimals=1) or "",
              "red" if np.isfinite(ratio) and ratio > limit_weeks else "green",
              label("section.ratio_above", lang, days=days)
              if np.isfinite(ratio) and ratio > limit_weeks else
              label("section.ratio_below", lang, days=days)),
        _card(label("section.card_projected", lang, days=days, n=F, periods=pw(F)),
              texts.get("projected_breaches_peak_12w", "–"), patients,
              label("section.peak", lang, period=period_name(r.get('projected_breaches_peak_week'), lang))
              if np.isfinite(peak) and peak > 0 else "", "red" if np.isfinite(peak) and peak > 0 else "green",
              act_word if np.isfinite(peak) and peak > 0 else ok_word),
    ]
    for key, cost_key, unit_key in (("purchase_new_visits_12w", "purchase_cost_new_visits_12w",
                                     "section.unit_first_visits"),
                                    ("purchase_operations_12w", "purchase_cost_operations_12w",
                                     "section.unit_operations")):
        if key not in texts:
            continue
        n = _num(r.get(key))
        cost = _num(r.get(cost_key))
        unit = label(unit_key, lang)
        note = label("section.card_cost", lang, cost=format_count(cost, language=lang)) if (
            np.isfinite(cost) and n > 0) else (label("section.card_no_prices", lang) if n > 0 else "")
        cards.append(_card(label("section.card_buy", lang, unit=unit, n=F, periods=pw(F)), texts[key],
                           unit, note, "yellow" if n > 0 else "green",
                           label("section.needed", lang) if n > 0 else label("section.no_purchase", lang)))
    cards.append(_card(label("section.card_escalation", lang), words.get(status, status).capitalize(), "",
                       label("section.escalated_to" if status != "green" else "section.handled_by", lang,
                             level=level), _STATUS_COLOUR.get(status, "green"),
                       words.get(status, status)))
    return cards


def _decisions(ctx: ClinicContext, f: _Facts) -> list[str]:
    """This period's decisions: what to order by when, extra own sessions, the escalation."""
    from .planning import purchase_by_month

    lang, r, texts, days, target, lead, F, pw, lw = (f.lang, f.r, f.texts, f.days, f.target, f.lead, f.F,
                                                      f.pw, f.lw)
    status, level = f.status, f.level
    decisions = []
    plan = ctx.model.plan
    buy = purchase_by_month(plan[plan["period_ahead"] <= F])  # the fixed plan: the figures above
    stage_words = {"new_visit": "section.unit_first_visits", "treatment": "section.unit_operations"}
    for stage, part in buy.groupby("stage", sort=False):
        n = part["purchase"].sum()
        cost = part["cost_external_sek"].sum(min_count=1)
        internal = part["cost_internal_sek"].sum(min_count=1)
        what = label(stage_words[stage], lang) if stage in stage_words else stage
        n_text = report_plan.value_text("count", n, lang, 0)   # a projection: exact (report.plan.PROJECTED)
        first_need = period_name(part["first_week"].min(), lang)
        by = period_name(part["order_by"].min(), lang)
        cost_text = label("section.order_cost", lang, cost=format_count(cost, language=lang),
                          internal=format_count(internal, language=lang)) if np.isfinite(cost) else ""
        decision = label("section.decision_order", lang, n=n_text, what=what, cost=cost_text, by=by,
                         first=first_need)
        beyond = plan.loc[(plan["period_ahead"] <= F) & (plan["stage"] == stage), "purchase_beyond_fixed"].sum() \
            if "purchase_beyond_fixed" in plan.columns else 0.0
        if beyond > 0:   # a fixed plan of an earlier run bought too little: the rest is bought on top of it
            decision += " " + label("section.order_beyond_fixed", lang,
                                    m=report_plan.value_text("count", beyond, lang, 0))
        decisions.append(decision)
    nothing_bought = not decisions
    check = getattr(ctx.model, "capacity_check", None)
    if len(buy) and check is not None and len(check) and "finding" in check.columns:
        # a purchase planned on resources the data question (the capacity check's finding): say so here
        for c in check[check["finding"].astype(bool) & check["stage"].isin(buy["stage"])].itertuples(index=False):
            decisions.append(label(
                "section.decision_check_capacity", lang, what=label(stage_words.get(c.stage, c.stage), lang),
                resources=format_count(c.resources_per_week, language=lang, decimals=1),
                shown=format_count(c.demonstrated_per_week, language=lang, decimals=1),
                diff=report.format_against(100 * (c.resources_per_week / c.demonstrated_per_week - 1)
                                           if c.demonstrated_per_week > 0 else float("nan"),
                                           100 * c.tolerance, language=lang),
                effect=label("section.purchase_smaller" if c.demonstrated_per_week > c.resources_per_week
                             else "section.purchase_larger", lang)))
    if nothing_bought:
        decisions.insert(0, label("section.decision_no_purchase", lang, n=F, periods=pw(F)))
    late_peak = _num(r.get("breaches_after_purchase_peak_12w"))
    if np.isfinite(late_peak) and late_peak > 0:
        n_text = texts.get("breaches_after_purchase_peak_12w", format_count(late_peak, language=lang))
        decisions.append(label("section.decision_late", lang, n=n_text, days=days, lead=lead,
                               lead_periods=lw(lead)))
    reasons = [t for t in str(r.get("escalation_reason") or "").split(",") if t]
    # the share as the cards show it (report.format_share: 5,04 %, not "5,0 % is above the target 5 %")
    share_text = texts.get("share_over_90_days", "–")
    history = getattr(ctx.model, "history", None)
    basis = "reason.basis_fixed" if history is not None and len(history) else "reason.basis_data"
    fields = {"days": days, "share": share_text, "target": format_count(100 * target, language=lang) + " %",
              "basis": label(basis, lang)}
    why = ", ".join(label(f"reason.{t}", lang, **fields) if f"reason.{t}" in TEXTS else t.format(**fields)
                    for t in reasons)
    if status == "red":
        decisions.append(label("section.decision_escalate", lang, level=level, why=why))
    elif status == "yellow":
        decisions.append(label("section.decision_clinic", lang, why=why))
    else:
        decisions.append(label("section.decision_none", lang))
    return decisions


def _glossary_html(f: _Facts) -> str:
    """The terms the first screen uses, with the clinic's guarantee, lead time and horizon."""
    kind, lang, days, lead, F, pw, lw = f.kind, f.lang, f.days, f.lead, f.F, f.pw, f.lw
    fmt = {"days": days, "period": period_word(kind, lang), "periods": period_word(kind, lang, plural=True),
           "lead": lead, "lead_periods": lw(lead), "fixed": F, "fixed_periods": pw(F),
           "red_run": label(f"escalation.red_run_{kind}", lang)}
    gloss = "".join(f"<dt>{escape_text(label(f'glossary.{t}', lang))}</dt>"
                    f"<dd>{escape_text(label(f'glossary.{t}_text', lang, **fmt))}</dd>" for t in _GLOSSARY)
    return gloss


def first_screen_html(ctx: ClinicContext) -> str:
    """The report's first screen: the state in one sentence, the key figures, this period's decision.

    Every figure is the planning model's (:func:`kps_analysis.planning.headline`, the
    plan's purchase per month :func:`kps_analysis.planning.purchase_by_month`), formatted
    by :func:`kps_analysis.report_plan.key_figure_texts` under the report's suppression
    rule. Purchases are split by kind (first visits, operations), each with its cost.
    """
    f = _first_screen_facts(ctx)
    state, cards, decisions, gloss = _state_sentence(ctx, f), _key_cards(ctx, f), _decisions(ctx, f), _glossary_html(f)
    kind, lang, status = f.kind, f.lang, f.status
    return (f'<section class="kps-first-screen" aria-label="{label("section.situation", lang)}">'
            f'<p class="kps-state kps-status-{_STATUS_COLOUR.get(status, "green")}"><strong>'
            f'{escape_text(state)}</strong></p>'
            f'<div class="kps-cards">{"".join(cards)}</div>'
            f'<div class="kps-decision"><h3 class="kps-plain">'
            f'{label("section.decisions_this", lang, period=period_word(kind, lang))}</h3><ul>'
            + "".join(f"<li>{d}</li>" for d in decisions) +
            f'</ul></div><details class="kps-glossary" open><summary>{label("section.terms", lang)}'
            f'</summary><dl>{gloss}</dl></details>{report.TOC_SLOT}</section>')


def _title_html(ctx: ClinicContext) -> str:
    p = ctx.params
    last = period_name(ctx.weekly["period"].max(), ctx.language) if len(ctx.weekly) else "–"
    region = p.get("region_name") if hasattr(p, "get") else None
    parts = [escape_text(x) for x in (p.hospital, region) if x]
    parts.append(label("section.data_up_to", ctx.language, last=escape_text(last)))
    parts.append(label("section.run", ctx.language, run=escape_text(ctx.run_id)))
    meta = {"kps_language": ctx.language, "kps_header": f"{p.name} · {last} · {ctx.run_id}"}
    return (f'<h1 class="kps-title" data-kps-lang="{escape_text(ctx.language)}">{escape_text(p.name)}</h1>'
            f'<p class="kps-subtitle">{" · ".join(parts)}</p>' + _stale_html(ctx)), meta


def _stale_html(ctx: ClinicContext) -> str:
    """A warning under the title when the data end long before the run date, with both dates
    (the planning model's freshness: :func:`kps_analysis.planning.freshness`)."""
    from .parameters import freshness_limit_days
    from .planning import freshness

    if not len(ctx.weekly):
        return ""
    try:
        fresh = freshness(ctx.weekly, pd.Timestamp.today(), stale_after_days=freshness_limit_days(
            ctx.params, ctx.weekly["period"].dtype.freq)).iloc[0]
    except (ValueError, TypeError, KeyError, AttributeError):
        return ""
    if not bool(fresh["stale"]):
        return ""
    end, start = fresh["data_end"].date(), fresh["plan_start"].date()
    today = pd.Timestamp.today().date()
    text = label("section.stale", ctx.language, end=end, age=int(fresh['data_age_days']), today=today, start=start)
    return f'<p class="kps-state kps-status-red" role="alert"><strong>{escape_text(text)}</strong></p>'



# ============================================================================ section renderers
def _summary(ctx: ClinicContext) -> None:
    _display_html(first_screen_html(ctx))


def _key_figures(ctx: ClinicContext) -> None:
    _markdown(ctx.text("key_figures"))
    table = report_plan.key_figures_table(ctx.headline, limit=ctx.limit, language=ctx.language, shown=ctx.shown)
    # the köproduktionskvot is in weeks for weekly and monthly data alike: its label keeps them
    table.index = [t if t.lower().startswith(("köproduktionskvot", "queue-to-production", "queue production"))
                   else _horizon_words(t, ctx) for t in table.index]
    _table(table, label("section.key_figures_caption", ctx.language))
    # the rule's only period is the purchase lead time, a parameter in weeks: not turned into months
    _markdown(report_plan.escalation_text(ctx.model.settings, language=ctx.language, kind=ctx.kind))


def _horizon_words(text: str, ctx: ClinicContext) -> str:
    """A label written for 12 weeks, for the clinic's fixed horizon and period (``6 månader``)."""
    F, lang = ctx.fixed, ctx.language
    plural, single = period_word(ctx.kind, lang, plural=True), period_word(ctx.kind, lang)
    for old, new in ((label("section.twelve_weeks", lang), f"{F} {plural}"),
                     (label("section.week_twelve", lang), f"{single} {F}")):
        text = text.replace(old, new)
    return in_periods(text, ctx.kind, ctx.language)


def _changes(ctx: ClinicContext) -> None:
    _markdown(ctx.text("changes"))
    # the cells tables/week_changes.csv hides, hidden here too (suppress_tables, as _weekly_shown)
    plan = ctx.model.plan if ctx.model is not None else None
    tables = {"weekly": ctx.weekly, "week_changes": ctx.changes, **({"production_plan": plan} if plan is not None
                                                                    else {})}
    changes = ctx.changes
    if len(changes):   # the flags of what the CSV hides, beside the values (a small count still reads "<5")
        hidden = report.suppress_tables(tables, ctx.shown, limit=ctx.limit)["week_changes"]
        changes = changes.assign(**{c: hidden[c].to_numpy() for c in hidden.columns if c.endswith("_suppressed")})
    t = report.changes_table(changes, limit=ctx.limit, language=ctx.language, shown=ctx.shown)
    t.columns = [in_periods(c, ctx.kind, ctx.language) for c in t.columns]
    _table(t, in_periods(label("section.changes_caption", ctx.language), ctx.kind, ctx.language))


def _situation(ctx: ClinicContext) -> None:
    from . import plots
    from .report.suppression import suppress_year_over_year
    from .seasonal import year_over_year
    from .summary import situation_measures

    _markdown(ctx.text("situation"))
    frames = ctx.analysis("year_over_year")
    hidden = _weekly_shown(ctx)
    for measure in situation_measures(ctx.weekly):
        yoy = frames[frames["measure"] == measure] if "measure" in frames.columns else \
            year_over_year(ctx.weekly, measure, years=3)
        yoy = suppress_year_over_year(yoy, hidden, measure)  # no week the tables hide
        fig = plots.year_over_year(yoy, measure, language=ctx.language)
        _figure(fig, plots.alt_year_over_year(yoy, measure, language=ctx.language))


def _ratio(ctx: ClinicContext) -> None:
    from . import plots

    # the köproduktionskvot is in weeks of production for weekly and monthly data alike
    # (queue_production_ratio_weeks): its text, line and axis stay in weeks
    _markdown(report.section("ratio", ctx.language, kind=ctx.kind))   # the data's periods: its average and peak
    limit_weeks = ctx.guarantee_days / 7.0
    # the ratio of a queue the tables hide would give it back (ratio x production): not drawn
    ratios = report.suppress_tables({"queue_production_ratio": ctx.ratios}, ctx.shown,
                                    limit=ctx.limit)["queue_production_ratio"]
    fig = plots.ratio_trend(ratios, guarantee_weeks=limit_weeks, language=ctx.language,
                            guarantee_days=ctx.guarantee_days, kind="week")
    _figure(fig, plots.alt_ratio(ratios, limit_weeks, language=ctx.language, kind="week"))


def _weekly_shown(ctx: ClinicContext) -> pd.DataFrame:
    """The clinic's weekly table as ``tables/weekly.csv`` shows it (:func:`kps_analysis.report.suppress_tables`)."""
    plan = ctx.model.plan if ctx.model is not None else None
    tables = {"weekly": ctx.weekly, **({"production_plan": plan} if plan is not None else {})}
    return report.suppress_tables(tables, ctx.shown, limit=ctx.limit)["weekly"]


def short_history(weekly: pd.DataFrame, kind: str) -> int | None:
    """The periods of referral history [periods] when they are fewer than the two years the
    seasonal profile is estimated from (:func:`kps_analysis.seasonal.seasonal_profile`'s
    ``min_years``); None when there are enough. With fewer the profile is (nearly) flat and
    the forecast has no season of the clinic's own, which the report then says instead of
    drawing a flat line "from earlier years".

    >>> w = pd.DataFrame({"period": pd.period_range("2026-01-05", periods=40, freq="W-SUN"), "referrals_in": 5.0})
    >>> short_history(w, "week"), short_history(pd.concat([w] * 3).assign(
    ...     period=pd.period_range("2024-01-01", periods=120, freq="W-SUN")), "week")
    (40, None)
    """
    from .seasonal import PERIODS_PER_YEAR

    col = weekly["referrals_in"] if "referrals_in" in weekly.columns else None
    n = int(weekly.loc[col.notna(), "period"].nunique()) if col is not None else int(weekly["period"].nunique())
    return n if n < 2 * PERIODS_PER_YEAR["M" if kind == "month" else "W"] else None


def _seasonal(ctx: ClinicContext) -> None:
    from . import plots

    short = short_history(ctx.weekly, ctx.kind)
    if short is not None:   # the heading, then why there is no pattern to show
        _markdown(ctx.text("seasonal").splitlines()[0] + "\n" + label(
            "section.seasonal_short", ctx.language, n=short, periods=period_word(ctx.kind, ctx.language, plural=True)))
        return
    _markdown(ctx.text("seasonal"))
    profile = ctx.analysis("seasonal")
    _figure(plots.seasonal_profile(profile, language=ctx.language, kind=ctx.kind),
            plots.alt_seasonal(profile, language=ctx.language, kind=ctx.kind))


def _forecast(ctx: ClinicContext) -> None:
    from . import plots

    _markdown(ctx.text("forecast"))
    fc = ctx.model.forecasts["referrals_in"]
    _figure(plots.fan_chart(ctx.weekly, fc, measure="referrals_in", language=ctx.language),
            plots.alt_fan(fc, "referrals_in", language=ctx.language, kind=ctx.kind))
    from .analytics import accuracy_horizon

    _markdown(in_periods(report.forecast_text(fc, ctx.accuracy, language=ctx.language,
                                              horizon=accuracy_horizon(ctx.weekly)), ctx.kind, ctx.language))
    short = short_history(ctx.weekly, ctx.kind)
    if short is not None:
        _markdown(label("section.forecast_short", ctx.language, n=short,
                        periods=period_word(ctx.kind, ctx.language, plural=True)))


def _balance(ctx: ClinicContext) -> None:
    from . import plots

    _markdown(ctx.text("balance"))
    flow = ctx.analysis("flow")
    _figure(plots.balance_lines(flow, language=ctx.language, kind=ctx.kind),
            plots.alt_balance(flow, language=ctx.language, kind=ctx.kind))
    _table(report.load_table(ctx.loads, language=ctx.language),
           label("section.load_caption", ctx.language, n=ctx.fixed,
                 periods=period_word(ctx.kind, ctx.language, plural=True)))
    t = report.rates_table(ctx.analysis("rates"), language=ctx.language, stages=ctx.stages)
    t.index.name = in_periods(t.index.name, ctx.kind, ctx.language)
    _table(t, label("section.rates_caption", ctx.language))


def _waits(ctx: ClinicContext) -> None:
    from . import plots
    from .waits import wait_distribution, wait_summary

    _markdown(ctx.text("waits"))
    bands = wait_distribution(ctx.snapshot)
    fig = plots.wait_histogram(bands, guarantee_days=ctx.params.guarantee_days, language=ctx.language, limit=ctx.limit,
                               shown=ctx.shown)
    _figure(fig, plots.alt_waits(bands, ctx.guarantee_days, language=ctx.language, shown=ctx.shown))
    _table(report.wait_summary_table(wait_summary(ctx.snapshot, guarantee_days=ctx.params.guarantee_days),
                                     limit=ctx.limit, language=ctx.language, shown=ctx.shown),
           label("section.waits_caption", ctx.language))
    _table(report.wait_table(bands, limit=ctx.limit, language=ctx.language, shown=ctx.shown,
                             guarantee_days=ctx.params.guarantee_days),
           label("section.bands_caption", ctx.language))


def _breaches(ctx: ClinicContext) -> None:
    from . import plots

    # monthly data: what a month's totals cannot show (after the text's week words became month words)
    _markdown(ctx.text("breaches") + (label("section.month_resolution", ctx.language) if ctx.kind == "month" else ""))
    fig = plots.plan_breaches(ctx.model.plan, weeks=ctx.fixed, language=ctx.language)
    _figure(fig, plots.alt_breaches(ctx.model.plan, ctx.fixed, language=ctx.language, kind=ctx.kind))
    order = report_plan.aggregate_order_text(
        ctx.model.settings, patient_level=ctx.waiting_list is not None and len(ctx.waiting_list) > 0,
        language=ctx.language, kind=ctx.kind)
    if order:
        _markdown(order)
    # the lead time is in weeks whatever the clinic's periods (as the first screen and glossary say it)
    _markdown(report_plan.lead_time_text(ctx.model.plan, ctx.model.settings, limit=ctx.limit, language=ctx.language))


def _capacity(ctx: ClinicContext) -> None:
    from . import plots

    _markdown(ctx.text("capacity"))
    _figure(plots.plan_capacity(ctx.model.plan, language=ctx.language, kind=ctx.kind),
            plots.alt_capacity(ctx.model.plan, language=ctx.language, kind=ctx.kind))


def _capacity_resources(ctx: ClinicContext) -> None:
    # its figures are per week for monthly data too: its headers say so (no month words)
    t = report_plan.capacity_check_table(ctx.model.capacity_check, language=ctx.language, kind=ctx.kind)
    _table(t, label("section.capacity_caption", ctx.language), index=False)


def _purchase(ctx: ClinicContext) -> None:
    from .planning import purchase_by_month

    _markdown(ctx.text("purchase"))
    monthly = purchase_by_month(ctx.model.plan)
    if monthly.empty:   # a sentence, not a one-cell table with a row number
        _markdown(label("plan.nothing_to_buy", ctx.language))
        return
    t = report_plan.purchase_table(monthly, limit=ctx.limit, language=ctx.language)
    if not ctx.ok("purchase_cost"):
        t = t[[c for c in t.columns if "kr" not in c and "SEK" not in c]]
    for col in [c for c in t.columns if "vecka" in c.lower() or "week" in c.lower()]:
        t[col] = t[col].map(lambda v: period_name(v, ctx.language))
    t.columns = [in_periods(c, ctx.kind, ctx.language) for c in t.columns]
    _table(t, label("section.purchase_caption", ctx.language))


def _purchase_cost(ctx: ClinicContext) -> None:
    return None  # the costs are columns of the purchase table; shown there when the clinic has prices


def _moves(ctx: ClinicContext) -> None:
    _markdown(report_plan.moves_text(ctx.model, ctx.clinic_id, language=ctx.language, names=_partner_names(ctx)))


def _partner_names(ctx: ClinicContext) -> dict:
    """The names of the clinics this clinic's plan moves patients with (their parameter files)."""
    from .parameters import ParameterError, load_parameters

    moves, folder = ctx.model.moves, getattr(ctx, "parameters_dir", None)
    if moves is None or moves.empty or folder is None:
        return {}
    names = {}
    for cid in sorted(set(moves["clinic_from"].astype(str)) | set(moves["clinic_to"].astype(str))):
        try:
            names[cid] = str(load_parameters(cid, folder).name or cid)
        except (ParameterError, OSError):
            continue
    return names


def _agreement(ctx: ClinicContext) -> None:
    """The plan's own production against the care agreement, per stage: first visits and
    operations are counted apart (a patient may be both, so one sum would count twice)."""
    lang = ctx.language
    plan = ctx.model.plan
    if "agreement" not in plan.columns:
        return
    sums = plan.groupby("stage", sort=False)[["own_production", "agreement"]].sum(min_count=1)
    kinds = {"new_visit": "plan.first_visits", "treatment": "plan.operations"}
    parts = [label("section.agreement_part", lang, own=format_count(r.own_production, language=lang),
                   kind=label(kinds.get(stage, stage), lang), agreed=format_count(r.agreement, language=lang),
                   diff=format_signed(r.own_production - r.agreement, language=lang))
             for stage, r in sums.iterrows() if np.isfinite(_num(r.agreement))]
    if not parts:
        return
    n = int(plan["period_ahead"].max())
    pw = period_word(ctx.kind, ctx.language, plural=True)
    _markdown(label("section.agreement", lang, n=n, periods=pw, parts=label("list.and", lang).join(parts)
                    if len(parts) == 2 else parts[0]))


def _monte_carlo(ctx: ClinicContext) -> None:
    _markdown(ctx.text("monte_carlo"))
    _table(report_plan.uncertainty_purchase_table(ctx.model, limit=ctx.limit, language=ctx.language),
           label("section.monte_carlo_caption", ctx.language), index=False)
    _table(report_plan.uncertainty_table(ctx.model, language=ctx.language),
           label("section.uncertainty_caption", ctx.language))


def _fixed_above_capacity(ctx: ClinicContext) -> dict:
    """The words of :func:`kps_analysis.planning.fixed_above_capacity` for the plan section:
    ``n`` [patients], ``first`` (the first such period, named), ``days``; {} when the kept
    fixed plan fits the capacity (or there is none)."""
    s = ctx.model.settings
    if "fixed_above_capacity" not in s or not (s["fixed_above_capacity"].astype(float).fillna(0.0) > 0).any():
        return {}
    row = s.loc[s["fixed_above_capacity"].astype(float).fillna(0.0).idxmax()]
    return {"n": format_count(float(row["fixed_above_capacity"]), language=ctx.language),
            "first": period_name(str(row["fixed_above_capacity_first"]), ctx.language),
            "days": f"{float(row['guarantee_days']):g}"}


def _plan(ctx: ClinicContext) -> None:
    _markdown(ctx.text("plan"))
    above = _fixed_above_capacity(ctx)
    if above:
        _markdown("*" + label("section.fixed_above_capacity", ctx.language, **above) + "*")
    if getattr(ctx, "previous_dropped", False):
        was = "month" if ctx.kind == "week" else "week"
        _markdown("*" + label("section.previous_dropped", ctx.language,
                              before=period_word(was, ctx.language, plural=True),
                              now=period_word(ctx.kind, ctx.language, plural=True)) + "*")
    t = report_plan.plan_table(ctx.model.plan, weeks=ctx.fixed, limit=ctx.limit, language=ctx.language)
    t.index = [period_name(p, ctx.language) for p in ctx.model.plan.drop_duplicates("period").sort_values(
        "period_ahead")["period"].head(len(t))]
    t.index.name = period_word(ctx.kind, ctx.language).capitalize()
    t.columns = [in_periods(c, ctx.kind, ctx.language) for c in t.columns]
    # one table per stage, so that each fits the width of a printed page
    for stage in dict.fromkeys(c.split(":")[0] for c in t.columns):
        part = t[[c for c in t.columns if c.split(":")[0] == stage]]
        part.columns = [c.split(":", 1)[1].strip() for c in part.columns]
        _table(part, label("section.plan_caption", ctx.language, stage=stage.lower(), n=ctx.fixed,
                           periods=period_word(ctx.kind, ctx.language, plural=True)), periods=True)


def _follow_up(ctx: ClinicContext) -> None:
    _markdown(ctx.text("follow_up"))
    t = report_plan.history_table(ctx.model.history, language=ctx.language)
    t.columns = [in_periods(c, ctx.kind, ctx.language) for c in t.columns]
    if ctx.model.history.empty:
        _markdown(f"*{t.iloc[0, 0]}*")
    else:
        _table(t, label("section.history_caption", ctx.language))
    _table(report.follow_up_table(ctx.model.follow_up, language=ctx.language),
           label("section.follow_up_caption", ctx.language))


def _scenarios(ctx: ClinicContext) -> None:
    _markdown(ctx.text("scenarios"))
    _table(report_plan.scenario_table(ctx.model.scenarios, language=ctx.language),
           ctx.in_horizons(label("section.scenarios_caption", ctx.language)))


def _quality(ctx: ClinicContext) -> None:
    _markdown(ctx.text("quality"))
    if len(ctx.findings):
        _table(report.findings_table(ctx.findings, language=ctx.language),
               label("section.findings_caption", ctx.language))
    else:
        _markdown(report.section("quality_ok", ctx.language))


def _provenance(ctx: ClinicContext) -> None:
    import kps_analysis

    _markdown(ctx.text("provenance"))
    _markdown(report.provenance_markdown(
        clinic_id=ctx.clinic_id, clinic_name=ctx.params.name, parameter_hash=ctx.params.hash,
        package_version=kps_analysis.__version__, data_period=report.data_period(ctx.weekly["period"]),
        run_id=ctx.run_id, language=ctx.language))


_RENDER = {"summary": _summary, "key_figures": _key_figures, "changes": _changes, "situation": _situation,
           "ratio": _ratio, "seasonal": _seasonal, "forecast": _forecast, "balance": _balance, "waits": _waits,
           "breaches": _breaches, "capacity": _capacity, "capacity_resources": _capacity_resources,
           "purchase": _purchase, "purchase_cost": _purchase_cost, "moves": _moves, "agreement": _agreement,
           "monte_carlo": _monte_carlo, "plan": _plan, "follow_up": _follow_up, "scenarios": _scenarios,
           "quality": _quality, "provenance": _provenance}

#: Sections without a heading of their own: they belong to the section before them.
_PARTS = {"capacity_resources", "purchase_cost", "moves", "agreement"}


def _failed(key: str, language: str, exc: BaseException) -> None:
    """A short message in place of a failed section; the exception and trace go to the log."""
    log.error("section %r failed", key, exc_info=exc)
    print(f"kps report: section {key!r} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
    _markdown(label("section.failed", "sv" if language == "sv" else "en", error=type(exc).__name__))


def show(key: str, ctx) -> None:
    """Show one report section (one call per section of a report notebook).

    ``key`` is a section of :data:`SECTIONS` (or ``"title"``) for a
    :class:`ClinicContext`, or a region section for a :class:`RegionContext`
    (:func:`show_region`). A section the clinic lacks data or parameters for shows its
    heading and one sentence saying what would enable it (:func:`available`); a section
    that fails shows a short message and logs the exception (never a trace in the report).
    """
    if isinstance(ctx, RegionContext):
        return show_region(key, ctx)
    try:
        if key == "title":
            html, meta = _title_html(ctx)
            _display_html(html, **meta)
            return
        if key not in _RENDER:
            raise KeyError(f"unknown report section {key!r}; known: {', '.join(_RENDER)}")
        if not ctx.ok(key):
            if key in _PARTS and (ctx.model is None or not ctx.ok("plan") or key == "moves"):
                # its section already says that the model is missing; and a clinic without a common
                # waiting list (region_pool, optional) has no moves to speak of
                return
            text = ctx.why_not(key)
            head = "" if key in _PARTS or key == "summary" else _heading_only(ctx.text(key)) + "\n\n"
            _markdown(f"{head}*{text}*")
            return
        _RENDER[key](ctx)
    except Exception as exc:  # noqa: BLE001 - a section never takes the report down; logged
        _failed(key, ctx.language, exc)


def write_tables(ctx: ClinicContext) -> None:
    """Write the clinic's result tables (:func:`kps_analysis.report_plan.write_clinic_tables`).

    Only when the context has an ``output_dir`` and the clinic has a planning model; the
    forecast backtest is run here if no section needed it (``forecast_accuracy.csv``).
    """
    if not ctx.output_dir or ctx.model is None:
        return
    empty = pd.DataFrame()
    changes = ctx.changes if ctx.ok("changes") else empty
    ratios = ctx.ratios if ctx.ok("ratio") else pd.DataFrame(columns=["clinic", "period", "stage"])
    report_plan.write_clinic_tables(Path(ctx.output_dir), ctx.model, headline=ctx.headline, changes=changes,
                                    weekly=ctx.weekly, findings=ctx.findings, ratios=ratios, loads=ctx.loads,
                                    accuracy=ctx.accuracy, scenarios=ctx.model.scenarios, language=ctx.language,
                                    limit=ctx.limit, shown=ctx.shown)


#: Every key :func:`show` takes for a clinic, in report order (the title first).
KEYS = ("title",) + tuple(s.key for s in SECTIONS)


def render(ctx: ClinicContext, keys=KEYS) -> dict:
    """Render report sections to the outputs a notebook would hold, without displaying them.

    Each section is drawn once, exactly as :func:`show` would display it (figures as
    inline SVG ``<img>``, tables and texts as HTML and markdown), and returned as a list
    of display outputs, ``{"data": {mime: text}, "metadata": {...}}``, per key; a failing
    section gives its short message as :func:`show` does. :mod:`kps_analysis.fragments`
    stores them and displays them again in the report notebook.

    Parameters
    ----------
    ctx : ClinicContext or RegionContext
        The clinic, as :func:`load` gives it (or the region, :func:`load_region`).
    keys : iterable of str
        Section keys (:data:`KEYS`, the default: all of a clinic's; :data:`REGION_KEYS`).

    Returns
    -------
    dict
        Section key -> list of display outputs (JSON-serialisable).
    """
    global _RECORDED
    out = {}
    for key in keys:
        _RECORDED = []
        try:
            show(key, ctx)
            out[key] = _RECORDED
        finally:
            _RECORDED = None
    return out


# the first screen reads the period's changes when the clinic has them
ClinicContext.changes_or_empty = property(lambda self: self.changes if self.ok("changes") else pd.DataFrame())


# ============================================================================ the region overview
class RegionContext:
    """A run's clinic tables for the region overview (aggregates only), with names and dates."""

    def __init__(self, *, folder: Path, summaries: pd.DataFrame, names: dict, language: str, settings: dict,
                 region: str, run_date: str):
        self.folder = folder
        self.summaries = summaries
        self.names = names
        self.language = language
        self.settings = settings
        self.region = region
        self.run_date = run_date

    def table(self, name: str) -> pd.DataFrame:
        return report.read_clinic_tables(self.folder, name)

    def name(self, clinic: str) -> str:
        return self.names.get(clinic, clinic)

    def monthly(self) -> list[str]:
        """The names of the clinics whose data are monthly (``period_unit`` of their summary), in the
        summaries' order: the region's "12 weeks" and "latest week" are their 3 months and latest month."""
        s = self.summaries
        if "period_unit" not in s or "clinic" not in s:
            return []
        return [self.name(c) for c in s.loc[s["period_unit"].astype(str) == "month", "clinic"].astype(str)]

    def only_monthly(self) -> bool:
        """True when every clinic of the run has monthly data (and there is at least one)."""
        return len(self.summaries) > 0 and len(self.monthly()) == len(self.summaries)


def load_region(run_dir="", parameters_dir="../parameters", language="") -> RegionContext:
    """Load a run's clinic tables for the region overview, with clinic names and the region's name.

    Parameters
    ----------
    run_dir : path
        A run folder (empty: the newest under ``<parameters_dir>/../outputs``).
    parameters_dir : path
        Parameter folder (the region's settings and the clinics' names).
    language : str
        ``sv`` or ``en``; empty: as in ``defaults.yaml``.
    """
    import json

    from . import parameters, plots

    settings = parameters.region_settings(parameters_dir)
    language = language or settings["language"]
    folder = Path(run_dir) if run_dir else report.latest_run(Path(parameters_dir).resolve().parent / "outputs")
    summaries = report.read_clinic_tables(folder, "summary")
    names, region = {}, ""
    for clinic in summaries.get("clinic", pd.Series(dtype=str)).astype(str):
        try:
            p = parameters.load_parameters(clinic, parameters_dir)
        except Exception:  # noqa: BLE001 - a clinic file changed since the run: its id stands in
            continue
        names[clinic] = p.name
        region = region or (p.get("region_name") or "")
    run_date = ""
    manifest = folder / "manifest.json"
    if manifest.is_file():
        try:
            started = str(json.loads(manifest.read_text(encoding="utf-8")).get("started", ""))
            # the manifest's times are UTC (+00:00), as the run id and every report's time say
            run_date = started[:16].replace("T", " ") + " UTC" if len(started) >= 16 else ""
        except (ValueError, OSError):
            run_date = ""
    if not run_date:  # the batch runs the overview inside the run's folder before its manifest: the id has it
        run_id = folder.name.strip(".").removesuffix(".partial")
        when = report.run_started(run_id)
        run_date = when.strftime("%Y-%m-%d %H:%M UTC") if when else run_id
    plots.use_style()
    return RegionContext(folder=folder, summaries=summaries, names=names, language=language, settings=settings,
                         region=region, run_date=run_date or folder.name)


_ESCALATION_ORDER = {"red": 0, "yellow": 1, "green": 2}


def _by_need(summaries: pd.DataFrame) -> pd.DataFrame:
    """Clinics ordered by need: escalation (red first), then projected breaches, then purchase."""
    s = summaries.copy()
    s["_esc"] = s["escalation"].map(_ESCALATION_ORDER).fillna(3) if "escalation" in s else 3
    keys = ["_esc"] + [c for c in ("projected_breaches_peak_12w", "purchase_need_12w") if c in s]
    return s.sort_values(keys, ascending=[True] + [False] * (len(keys) - 1), kind="stable").drop(columns="_esc")


def _region_title(ctx: RegionContext) -> None:
    lang = ctx.language
    # every clinic's last period, in the order they end (as index.html): a clinic whose data end
    # early shows, and a month and a week are not compared as text ("2026-W41" after "2026-11")
    ends = data_ends(ctx.summaries.get("period", pd.Series(dtype=str)))
    last = " / ".join(period_name(p, lang) for p in ends) if ends else "–"
    title = label("region_overview", lang) + (f" – {ctx.region}" if ctx.region else "")
    sub = label("section.region_subtitle", lang, last=last, run=ctx.run_date, n=len(ctx.summaries))
    esc = ctx.summaries.get("escalation", pd.Series(dtype=str)).astype(str)
    red = [ctx.name(c) for c in _by_need(ctx.summaries).loc[lambda t: t["escalation"] == "red", "clinic"]] \
        if "escalation" in ctx.summaries else []
    # the count agrees with its colour word (sv "1 röd", "2 röda"): one text per colour and number
    counts = ", ".join(label(f"section.count_{k}" + ("" if (esc == k).sum() == 1 else "_many"), lang,
                             n=int((esc == k).sum())) for k in ("red", "yellow", "green"))
    state = (label("section.region_clinics", lang, counts=counts) +
             (label("section.region_escalated", lang, names=", ".join(red)) if red else ""))
    status = "red" if red else "yellow" if (esc == "yellow").any() else "green"
    stale = _region_stale(ctx)
    _display_html(f'<h1 class="kps-title">{escape_text(title)}</h1><p class="kps-subtitle">{escape_text(sub)}</p>'
                  f'<p class="kps-state kps-status-{status}"><strong>{escape_text(state)}</strong></p>'
                  + (f'<p class="kps-state kps-status-yellow">{escape_text(stale)}</p>' if stale else "")
                  + report.TOC_SLOT,
                  kps_language=ctx.language, kps_header=f"{title} · {last} · {ctx.run_date}")


def _region_stale(ctx: RegionContext) -> str:
    """The clinics whose data are out of date (``stale`` in their summary), with their last day and
    age, as index.html's rows and their reports' first screens say it; "" when none."""
    s = ctx.summaries
    if "stale" not in s or not len(s):
        return ""
    old = s[s["stale"].astype(str).str.lower().isin(["true", "1"])]
    if not len(old):
        return ""
    items = []
    for clinic, end, days in zip(old["clinic"].astype(str), old.get("data_end", pd.Series("", index=old.index)),
                                 old.get("data_age_days", pd.Series(np.nan, index=old.index))):
        days = float(days) if days == days and days is not None else float("nan")
        items.append(label("section.region_stale_item", ctx.language, name=ctx.name(clinic), end=str(end)[:10],
                           days=int(days) if days == days else "?"))
    return label("section.region_stale", ctx.language, items="; ".join(items))


def _region_totals(ctx: RegionContext) -> None:
    from .summary import region_totals

    text = report.section("region_totals", ctx.language)
    _markdown(text + (label("section.region_latest_month", ctx.language) if ctx.monthly() else ""))
    # the patients over 90 days as every clinic's key figure and the ranking show them: each clinic's peak
    totals = region_totals(ctx.summaries).drop(columns=["projected_breaches_12w"], errors="ignore")
    t = report.headline_table(totals.assign(clinic="region"), language=ctx.language)
    _table(t, label("section.region_totals_caption", ctx.language))


def _region_ranking(ctx: RegionContext) -> None:
    from . import plots

    _markdown(report.section("region_ranking", ctx.language))
    if ctx.monthly():   # the "12 weeks" of the tables below, for the monthly clinics (as the index says)
        names = ", ".join(escape_text(n) for n in ctx.monthly())
        _markdown("*" + label("index.monthly", ctx.language, names=names) + "*")
    ordered = _by_need(ctx.summaries)
    # two tables that each fit an A4 page: the need (what to decide), then the state now;
    # purchases by kind, never one count of first visits and operations. The waiting-list
    # pressure (NHS) is left out: above 1 for clinics that keep the guarantee, it misled.
    named = ordered.assign(clinic=ordered["clinic"].map(ctx.name))
    need = ["clinic", "escalation", "projected_breaches_peak_12w", "purchase_new_visits_12w", "purchase_operations_12w",
            "purchase_cost_12w"]
    # the change over each clinic's own period: a monthly clinic's last month, not "–" (as its report says)
    mixed = "period_unit" in ctx.summaries and (ctx.summaries["period_unit"].astype(str) == "month").any()
    now = ["clinic", "queue_production_ratio_weeks", "share_over_90_days", "waiting_over_90",
           "queue_change_1p" if mixed and "queue_change_1p" in ctx.summaries else "queue_change_1w"]
    for cols, caption in ((need, label("section.region_need_caption", ctx.language)),
                          (now, label("section.region_now_caption", ctx.language))):
        t = report.region_table(named[[c for c in cols if c in named.columns]], language=ctx.language,
                                order="given")
        _table(t[[label(c, ctx.language) for c in cols[1:] if label(c, ctx.language) in t.columns]], caption)
    limit_weeks = float(ctx.settings["guarantee_days"]) / 7.0
    data = ordered.assign(clinic=ordered["clinic"].map(ctx.name))
    _figure(plots.region_ratios(data, guarantee_weeks=limit_weeks, language=ctx.language,
                                guarantee_days=float(ctx.settings["guarantee_days"])),
            plots.alt_region_ratios(data, limit_weeks, language=ctx.language))


def _region_purchase(ctx: RegionContext) -> None:
    from .summary import region_purchase_by_month

    lang = ctx.language
    _markdown(report.section("region_purchase", lang))
    need = ctx.table("purchase_need")
    if not len(need):
        _markdown(label("section.region_no_purchase", lang))
        return
    # the fixed plan, as the clinics' key figures count it: 12 weeks, or the months they begin in
    plan = ctx.table("production_plan")
    partial = {}
    if len(plan) and "fixed" in plan.columns:
        fixed = plan[plan["fixed"].astype(str).str.lower().isin(["true", "1"])]
        need = need.merge(fixed[["clinic", "stage", "period_ahead"]].drop_duplicates(), how="inner")
        partial = _partial_months(fixed)
    else:
        need = need[need["period_ahead"] <= 12]
    kinds = {"new_visit": "table.first_visits", "treatment": "table.operations"}
    out = None
    for stage, part in need.groupby("stage", sort=False):  # never one count of visits and operations
        name = label(kinds[stage], lang) if stage in kinds else stage
        m = region_purchase_by_month(part).set_index("month")
        cols = pd.DataFrame({label("section.region_purchase_count", lang, name=name): m["purchase"],
                             label("section.region_purchase_cost", lang, name=name): m["cost_external_sek"],
                             label("section.region_purchase_clinics", lang, name=name): m["clinics"]})
        out = cols if out is None else out.join(cols, how="outer")
    out = out.fillna(0.0)
    # a month over before the region's latest data with nothing bought (a clinic whose data end early
    # plans from then): not "the coming weeks"; a purchase planned there stays, its clinic is named at the top
    ends = [as_period(p) for p in data_ends(ctx.summaries.get("period", pd.Series(dtype=str)))]
    latest = max((p.end_time for p in ends if p is not None), default=None)   # the region's data end
    if latest is not None:   # a month ending within a week of it holds no week of the region's plans
        months = [as_period(str(i)) if re.fullmatch(MONTH_LABEL, str(i)) else None for i in out.index]
        past = [m is not None and m.end_time < latest + pd.Timedelta(days=7) for m in months]
        out = out[~(np.array(past, dtype=bool) & (out.abs().sum(axis=1) == 0).to_numpy())]
    out = out.map(lambda v: format_count(v, language=lang))
    out.index = [period_name(str(i), ctx.language) + (label("section.region_month_until", lang, week=partial[str(i)])
                                                       if str(i) in partial else "") for i in out.index]
    out.index.name = label("month", ctx.language)
    _table(out, label("section.region_purchase_caption", lang))


def _partial_months(fixed: pd.DataFrame) -> dict:
    """The month the weekly clinics' fixed plans end inside: month -> the last week counted
    ("v. 7"), so the region's table does not read as the whole month the clinics' reports show.
    Only the latest end counts (a clinic whose data end early ends its plan early too; the
    others still cover that month whole)."""
    last = None
    for period, month in fixed.sort_values("period_ahead").groupby("clinic")[["period", "month"]].last().itertuples(
            index=False):
        text = str(period)
        if re.fullmatch(r"\d{4}-W\d{2}", text):
            week = as_period(text)
            last = max(last, (week, str(month))) if last is not None else (week, str(month))
    if last is None or last[0].end_time.normalize() >= pd.Period(last[1], freq="M").end_time.normalize():
        return {}
    return {last[1]: period_name(last[0], year=False)}


def _region_moves(ctx: RegionContext) -> None:
    from .outlook import move_summary

    _markdown(report.section("region_moves", ctx.language))
    moves = ctx.table("moves").drop(columns="clinic", errors="ignore").drop_duplicates()
    total = ctx.summaries["purchase_cost_12w"].sum()
    saving = moves.loc[moves["period_ahead"] <= 12, "saving_sek"].sum() if len(moves) else 0.0
    later = moves.loc[moves["period_ahead"] > 12, "saving_sek"].sum() if len(moves) else 0.0
    text = report.region_cost_text(total, total + saving, language=ctx.language)
    if later > 0:   # moves beyond the fixed weeks: their saving too, or "0 kr less" beside 12 moves misleads
        key = "region.cost_later" if round(saving) != 0 else "region.cost_later_only"
        text += " " + label(key, ctx.language, saving=format_count(later, language=ctx.language))
    _markdown(text)
    summary = move_summary(moves.assign(week_ahead=moves["period_ahead"])) if len(moves) else \
        pd.DataFrame(columns=["clinic_from", "clinic_to", "stage", "patients", "first_week"])
    if len(summary):
        first = moves.drop_duplicates("period_ahead").set_index("period_ahead")["period"]
        summary = summary.assign(clinic_from=summary["clinic_from"].map(ctx.name),
                                 clinic_to=summary["clinic_to"].map(ctx.name),
                                 first_week=summary["first_week"].map(first).map(
                                     lambda p: period_name(p, ctx.language)))
    if summary.empty:   # a sentence, not a one-cell table with a row number
        _markdown(label("region.no_moves_needed", ctx.language))
        return
    _table(report.moves_table(summary, language=ctx.language), label("section.moves_caption", ctx.language))


def _region_gap(ctx: RegionContext) -> None:
    from . import plots

    text = report.section("region_gap", ctx.language)
    if ctx.only_monthly():    # every row a month: the heading and text in months
        text = in_periods(text, "month", ctx.language)
    elif ctx.monthly():
        text += label("section.region_gap_months", ctx.language)
    _markdown(text)
    gaps = ctx.table("capacity_gap")
    gaps = gaps.assign(clinic=gaps["clinic"].map(ctx.name)) if len(gaps) else gaps
    order = [ctx.name(c) for c in _by_need(ctx.summaries)["clinic"]]
    # weekly and monthly clinics apart: a month is never drawn under a calendar week (12 weeks; the
    # months the fixed weeks begin in)
    monthly = gaps["period"].astype(str).str.fullmatch(MONTH_LABEL) if len(gaps) else pd.Series(dtype=bool)
    for part, periods in ((gaps[~monthly], 12), (gaps[monthly], 3)):
        if len(part) or not len(gaps):
            _figure(plots.gap_heatmap(part, language=ctx.language, order=order, weeks=periods),
                    plots.alt_gap(part, language=ctx.language, periods=periods))


_REGION = {"title": _region_title, "totals": _region_totals, "ranking": _region_ranking,
           "purchase": _region_purchase, "moves": _region_moves, "gap": _region_gap}
#: Every key :func:`show` takes for the region overview.
REGION_KEYS = tuple(_REGION)


def show_region(key: str, ctx: RegionContext) -> None:
    """Show one section of the region overview (``title``, ``totals``, ``ranking``, ``purchase``,
    ``moves``, ``gap``); a failing section shows a short message and logs the exception."""
    try:
        _REGION[key](ctx)
    except Exception as exc:  # noqa: BLE001 - a section never takes the overview down; logged
        _failed(key, ctx.language, exc)
