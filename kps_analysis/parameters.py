"""Parameters: region defaults plus one file per clinic, validated first, then frozen.

``parameters/defaults.yaml`` holds the region-wide values (care-guarantee limit,
planning horizons, report language, escalation limits, ...);
``parameters/clinics/<clinic-id>.yaml`` holds one clinic: a name and its data files,
and optionally resources, closures, care-agreement volumes, prices, scenarios and a
common waiting list (:func:`capabilities` tells which a clinic has; a clinic without
resources is planned on its demonstrated capacity).  The file stem is the clinic id.
:func:`load_parameters` reads both, deep-merges them (the clinic file wins; a list
replaces the default list as a whole), validates the result against :data:`SCHEMA`
and returns a frozen :class:`Parameters` object.  The same loader serves the
interactive notebook and the batch runner, so both see exactly the same values.

The schema is data: one :class:`Spec` per dotted key.  Validation and the glossary in
``parameters/README.md`` (:func:`glossary_markdown`) both come from it, so the
documentation cannot drift from what the loader accepts.

Apart from reading the YAML files, nothing here has side effects.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import hashlib
import json
import math
import os
import re
import stat
import types
from collections.abc import Mapping
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import yaml

from . import calendar as _calendar

__all__ = [
    "ABSENT",
    "CAPABILITIES",
    "CLINIC_ID_PATTERN",
    "ParameterError",
    "ParameterSection",
    "Parameters",
    "REGION_SETTINGS",
    "SCHEMA",
    "region_settings",
    "Spec",
    "calendar_region",
    "capabilities",
    "deep_merge",
    "freshness_limit_days",
    "glossary_markdown",
    "list_clinics",
    "load_parameters",
    "needs_sentence",
    "parse_date",
    "validate_all",
]

#: A clinic id (and a scenario name, a region pool) is a plain identifier: no path
#: separators, no dots, so it can never point outside ``parameters/clinics``.
CLINIC_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

_DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATA_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls", ".parquet", ".pq")


class _Absent:
    """Marker default: an optional key that is left out when not given."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"


#: Default of an optional key that is left out of the merged parameters when no file
#: gives it (``data.weekly``, ``data.waiting_list``: the mapping is handed to
#: :func:`kps_analysis.data.load_clinic_data` as it is).
ABSENT = _Absent()


# --------------------------------------------------------------------------------------
# The schema
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Spec:
    """Declaration of one parameter key.

    Parameters
    ----------
    type : str
        ``"str"``, ``"int"``, ``"float"``, ``"bool"``, ``"date"``, ``"path"``
        (a data file name relative to the data folder), ``"list[str]"``,
        ``"list[int]"``, ``"section"`` (a mapping with the keys declared under it),
        ``"list[section]"`` (a list of such mappings; their keys are declared as
        ``key[].field``) or ``"dict[str, section]"`` (a mapping from a name to such a
        mapping; declared as ``key.<name>.field``).
    unit : str
        Unit shown in the glossary (``"days"``, ``"visits/week"``, ``"share 0-1"``).
    description : str
        Meaning, shown in the glossary.
    required : bool
        The merged parameters must contain the key (not null).
    default : object
        Value of an optional key that no file gives (``None``: present as ``None``;
        :data:`ABSENT`: left out).  Lists default to empty, mappings of named sections
        to none; an optional section that no file gives is ``None``, never filled from
        its keys' defaults (so a clinic without ``resources`` reads as one).
    min, max : float, optional
        Inclusive bounds of a number (of each element of a list of numbers).
    choices : tuple, optional
        The allowed values.
    pattern : str, optional
        Regular expression a text value must match in full.
    scope : {"region", "clinic"}
        ``"region"``: set in ``defaults.yaml``, a clinic file may override it;
        ``"clinic"``: belongs in a clinic file only.
    """

    type: str
    unit: str
    description: str
    required: bool = False
    default: Any = None
    min: float | None = None
    max: float | None = None
    choices: tuple | None = None
    pattern: str | None = None
    scope: str = "region"


def _r(type_, unit, description, **kw) -> Spec:
    return Spec(type_, unit, description, scope="region", **kw)


def _c(type_, unit, description, **kw) -> Spec:
    return Spec(type_, unit, description, scope="clinic", **kw)


_ID = CLINIC_ID_PATTERN.pattern

#: Every parameter key, dotted, in glossary order.  ``key[].field`` is a field of each
#: element of a list; ``key.<name>.field`` a field of each named entry of a mapping.
SCHEMA: dict[str, Spec] = {
    # ---- region defaults (defaults.yaml) -------------------------------------------
    "region_name": _r("str", "text", "Name of the region, shown in report headers.",
                      required=True),
    "language": _r("str", "language code",
                   "Report language: `sv` (Swedish) or `en` (English).",
                   required=True, choices=("sv", "en")),
    "guarantee_days": _r(
        "int", "days",
        "Care-guarantee limit (vårdgaranti): the longest allowed wait from referral to "
        "first visit and from decision to treatment. Waits are counted in days.",
        required=True, min=1, max=365),
    "target_share_within_guarantee": _r(
        "float", "share 0-1",
        "Target share of waiting patients (patient-chosen waits excluded, as in the "
        "national measurement) who have waited at most `guarantee_days`. The law "
        "asks for every patient; 0.95 is the operational target below which a clinic "
        "is flagged.",
        required=True, min=0.0, max=1.0),
    "fixed_horizon_weeks": _r(
        "int", "weeks",
        "Length of the fixed part of the rolling production plan (fastställd plan), "
        "counted from next week.",
        required=True, min=1, max=52),
    "planning_horizon_weeks": _r(
        "int", "weeks",
        "Length of the whole rolling plan (fixed part plus preliminary planning); "
        "at least `fixed_horizon_weeks`.",
        required=True, min=1, max=156),
    "ratio_window_weeks": _r(
        "int", "weeks",
        "Trailing window for the production in the köproduktionskvot: queue at the "
        "end of the week divided by the mean weekly production over the last this "
        "many weeks.",
        required=True, min=1, max=52),
    "suppression_limit": _r(
        "int", "patients",
        "Small-number suppression in shared reports: counts above 0 and below this "
        "limit are shown as `<limit` (e.g. `<5`). 0 turns suppression off.",
        required=True, min=0, max=100),
    "history_exclude_years": _r(
        "list[int]", "calendar years",
        "Years left out of seasonal profiles and forecasts (2020: the pandemic).",
        min=1990, max=2100),
    "timeout_minutes": _r(
        "float", "minutes",
        "Time limit for each step (notebook cell) of one clinic's report in a batch run; "
        "a clinic that hangs fails when it is reached and the others carry on.",
        required=True, min=0.05, max=600),
    "purchase_lead_time_weeks": _r(
        "int", "weeks",
        "Weeks it takes to arrange external purchase (köpt vård); the purchase need is "
        "decided at least this far ahead of the projected breach.",
        required=True, min=0, max=26),
    "transfer_cost_sek": _r(
        "float", "SEK/patient",
        "Cost of moving one patient between two hospitals of a common waiting list "
        "(`region_pool`) where a clinic's `transfer_costs` does not name the pair; a move "
        "is planned only when the contract price saved exceeds it plus the receiver's "
        "internal cost.",
        default=0.0, min=0.0, max=10_000_000.0),
    "serving_order": _r(
        "str", "text",
        "Order in which the planning model serves the waiting list, for own production, "
        "purchase and the Monte Carlo alike: `priority` (medical priority, then longest "
        "wait, as clinics book; the default) or `fifo` (longest wait first).",
        default=ABSENT, choices=("priority", "fifo")),
    "capacity_tolerance_pct": _r(
        "float", "%",
        "Largest difference between the capacity from `resources` (a normal week) and the "
        "production the clinic has demonstrated in its last 8 normal weeks before it is a "
        "data-quality finding in the report.",
        default=15.0, min=0.0, max=100.0),
    "country": _r(
        "str", "ISO 3166 code",
        "Country whose calendar the region follows: its public holidays (and de-facto days "
        "off) from the `holidays` package decide the working days per week or month, and the "
        "report names its holiday seasons (Sweden: sportlov, påsk, midsommar, sommar, jul; "
        "United Kingdom: Easter, summer, Christmas). Two letters, e.g. `SE`, `GB`, `NO`; quote "
        "`'NO'` (unquoted YAML reads it as false). A clinic may override it.",
        default="SE"),
    "subdivision": _r(
        "str", "code",
        "Subdivision of `country` with holidays of its own, as the `holidays` package codes it "
        "(`GB`: `ENG`, `WLS`, `SCT`, `NIR`); a name such as `England` is accepted. Leave out for "
        "the whole country (Sweden has none).",
        default=None),
    "stale_after_days": _r(
        "int", "days",
        "Freshness of weekly data: a finding when the run date lies more than this many days "
        "after the last day (Sunday) of the latest week with data; 14 allows the usual week of "
        "export delay and one more.",
        default=14, min=1, max=3650),
    "stale_after_days_monthly": _r(
        "int", "days",
        "Freshness of monthly data: as `stale_after_days`, counted from the last day of the "
        "latest month with data; 45 allows a month's figures the usual two to six weeks to "
        "arrive (data to the end of January are fresh until 17 March).",
        default=45, min=1, max=3650),
    "summer": _r("section", "-",
                 "The summer period of the seasonal profile, in ISO weeks. Sweden: 27-32; for "
                 "another `country` its own (England and Wales about 30-35, Scotland 27-32: "
                 "`kps_analysis.calendar.default_summer_weeks`).",
                 required=True),
    "summer.first_week": _r("int", "ISO week", "First ISO week of the summer period.",
                            required=True, min=1, max=53),
    "summer.last_week": _r("int", "ISO week",
                           "Last ISO week of the summer period (at least `first_week`).",
                           required=True, min=1, max=53),
    "escalation": _r(
        "section", "-",
        "Plan-versus-outcome limits (nivåvis produktionsstyrning): a deviation beyond a "
        "limit is escalated one level up (unit, clinic, division, region).",
        required=True),
    "escalation.yellow_deviation_pct": _r(
        "float", "%",
        "Deviation of the accumulated outcome from the accumulated plan, "
        "|outcome − plan| / plan · 100, at which the clinic turns yellow.",
        required=True, min=0.0, max=100.0),
    "escalation.red_deviation_pct": _r(
        "float", "%",
        "Deviation at which the clinic turns red and is escalated; greater than "
        "`yellow_deviation_pct`.",
        required=True, min=0.0, max=100.0),
    "forecast": _r("section", "-", "Demand forecasts.", required=True),
    "forecast.method": _r(
        "str", "text",
        "Forecast method passed to `forecast.forecast_demand`; `auto` picks by "
        "backtest.",
        required=True),
    "forecast.levels": _r("list[int]", "%",
                          "Prediction-interval levels, e.g. `[80, 95]`.",
                          required=True, min=1, max=99),
    "forecast.horizon_weeks": _r("int", "weeks", "How far ahead demand is forecast.",
                                 required=True, min=1, max=156),
    "queue_model": _r(
        "section", "-",
        "Queueing-theory settings (as in the NHSRwaitinglist package).",
        required=True),
    "queue_model.target_wait_factor": _r(
        "float", "-",
        "Target mean wait = `guarantee_days` / factor; 4 keeps about 98 % of patients "
        "within the limit when waits are exponential.",
        required=True, min=1.0, max=20.0),
    "queue_model.cv_demand": _r(
        "float", "-", "Coefficient of variation of weekly demand (1: Poisson-like).",
        required=True, min=0.0, max=10.0),
    "queue_model.cv_capacity": _r(
        "float", "-", "Coefficient of variation of weekly capacity.",
        required=True, min=0.0, max=10.0),
    "simulation": _r("section", "-", "Monte Carlo runs of scenarios.", required=True),
    "simulation.runs": _r("int", "runs", "Number of Monte Carlo runs per scenario.",
                          required=True, min=1, max=100_000),
    "simulation.seed": _r("int", "-",
                          "Random seed, so a rerun gives the same numbers.",
                          required=True, min=0, max=2**32 - 1),
    "plausible_from": _r(
        "date", "date",
        "Earliest plausible date in the input data (YYYY-MM-DD). A date in a waiting-list "
        "extract or a week or month of a weekly file before it, or after the run date, is "
        "an error naming the file, the column and the row (a date typed as 0001-01-01 or "
        "1900-01-01 would otherwise be read as a wait of centuries).",
        default=dt.date(1990, 1, 1)),
    "max_count_per_period": _r(
        "float", "count/period",
        "Largest plausible value of a count in a weekly or monthly file (patients, "
        "referrals, visits per week or month, a queue); a larger one is an error naming "
        "the file, the column and the row.",
        default=1_000_000.0, min=1.0, max=1e12),
    "max_file_megabytes": _r(
        "float", "MB",
        "Largest input data file read (1 MB = 1,000,000 bytes); a larger one is refused "
        "with a message before it is opened.",
        default=2_000.0, min=1.0, max=1_000_000.0),
    # ---- clinic files (clinics/<id>.yaml) ------------------------------------------
    "name": _c("str", "text", "Clinic name as shown in reports.", required=True),
    "hospital": _c("str", "text", "Hospital the clinic belongs to, shown beside its name.",
                   default=None),
    "division": _c("str", "text",
                   "Division (förvaltning/division) the clinic reports to; the level "
                   "above the clinic in escalation.",
                   default=None),
    "specialty": _c("str", "text", "Medical specialty.", default=None),
    "region_pool": _c(
        "str", "identifier",
        "Clinics with the same pool offer the same care and can share a common "
        "waiting list (gemensam väntelista), so patients can be moved between them, "
        "e.g. `ortopedi`. Leave out if none.",
        pattern=_ID),
    "revise_fixed_plan": _c(
        "bool", "-",
        "Revise the fixed weeks (fastställd plan) in the next run: the plan is made anew "
        "instead of keeping the previous run's fixed weeks. Set it for one run, then back "
        "to false.",
        default=False),
    "transfer_costs": _c(
        "dict[str, section]", "-",
        "Cost of moving one patient from this clinic to another clinic of its `region_pool`, "
        "by the receiving clinic's id (travel, coordination); pairs not named cost "
        "`transfer_cost_sek`."),
    "transfer_costs.<name>.per_patient_sek": _c(
        "float", "SEK/patient", "Cost of moving one patient to that clinic.",
        required=True, min=0.0, max=10_000_000.0),
    "groups": _c("list[str]", "text",
                 "Groups (teams, diagnosis or procedure groups) reported separately, "
                 "as spelled in the data's `group` column."),
    "data": _c("section", "-",
               "Input files, relative to the data folder (`kps run --data DIR`); at "
               "least one of the two.",
               required=True),
    "data.weekly": _c("path", "file name",
                      "Weekly or monthly aggregates (CSV, XLSX or Parquet).",
                      default=ABSENT),
    "data.waiting_list": _c("path", "file name",
                            "Patient-level waiting-list extract (Parquet, CSV or XLSX).",
                            default=ABSENT),
    "data.sheet": _c("str", "text",
                     "Worksheet to read from the XLSX file(s) named in `data` (its name as "
                     "on the tab; quote a name that is a number: `sheet: '2024'`). Default: "
                     "the first sheet.",
                     default=ABSENT),
    "resources": _c("section", "-",
                    "Normal weekly capacity (a full working week without closures). Optional: "
                    "without it the plan rests on the production the clinic has demonstrated, "
                    "and the capacity check against resources is left out.",
                    default=None),
    "resources.new_visit_slots_per_week": _c(
        "float", "visits/week", "Bookable new-visit (nybesök) slots per normal week.",
        required=True, min=0.0, max=100_000.0),
    "resources.return_visit_slots_per_week": _c(
        "float", "visits/week", "Bookable return-visit (återbesök) slots per normal week.",
        required=True, min=0.0, max=100_000.0),
    "resources.theatre_sessions_per_week": _c(
        "float", "sessions/week",
        "Elective operating-theatre sessions per normal week; 0 for a clinic without "
        "operations.",
        required=True, min=0.0, max=1_000.0),
    "resources.operations_per_session": _c(
        "float", "operations/session",
        "Elective operations per theatre session; required when "
        "`theatre_sessions_per_week` > 0.",
        min=0.0, max=100.0),
    "resources.minutes_per_operation": _c(
        "float", "minutes",
        "Standard time per operation, incision to suture plus changeover.",
        min=1.0, max=1_440.0),
    "resources.minutes_per_new_visit": _c("float", "minutes",
                                          "Standard time per new visit.",
                                          min=1.0, max=480.0),
    "resources.minutes_per_return_visit": _c("float", "minutes",
                                             "Standard time per return visit.",
                                             min=1.0, max=480.0),
    "resources.no_show_rate": _c(
        "float", "share 0-1", "Share of booked visits where the patient does not come "
        "(uteblivna besök); those slots produce nothing.",
        required=True, min=0.0, max=0.9),
    "resources.doctors_fte": _c("float", "FTE", "Doctors in full-time equivalents.",
                                min=0.0, max=10_000.0),
    "closures": _c(
        "list[section]", "-",
        "Planned capacity reductions beyond public holidays (summer, Christmas), "
        "non-overlapping."),
    "closures[].start": _c("date", "date", "First day of the reduction (YYYY-MM-DD).",
                           required=True),
    "closures[].end": _c("date", "date",
                         "Last day of the reduction, inclusive (YYYY-MM-DD).",
                         required=True),
    "closures[].capacity_share": _c(
        "float", "share 0-1",
        "Share of normal capacity kept during the reduction (0: closed).",
        required=True, min=0.0, max=1.0),
    "closures[].label": _c("str", "text", "Label shown in plans and reports."),
    "annual_volume": _c(
        "section", "-",
        "Annual production in the care agreement (vårdöverenskommelse / "
        "prestationsbudget), broken down to weeks by the seasonal profile. Optional: "
        "without it there is no plan against the agreement.",
        default=None),
    "annual_volume.new_visits": _c("float", "visits/year", "New visits per year.",
                                   required=True, min=0.0, max=10_000_000.0),
    "annual_volume.operations": _c("float", "operations/year",
                                   "Elective operations per year (0 if none).",
                                   required=True, min=0.0, max=10_000_000.0),
    "prices": _c("section", "-",
                 "Contract prices for external purchase and internal unit costs. Optional: "
                 "without them purchases and moves are counted in patients, not SEK.",
                 default=None),
    "prices.purchase_new_visit_sek": _c(
        "float", "SEK/visit", "Price of one new visit bought from another provider.",
        required=True, min=0.0, max=10_000_000.0),
    "prices.purchase_operation_sek": _c(
        "float", "SEK/operation",
        "Price of one operation bought from another provider; required when the clinic "
        "operates.",
        min=0.0, max=10_000_000.0),
    "prices.internal_new_visit_sek": _c("float", "SEK/visit",
                                        "Internal unit cost of one new visit.",
                                        required=True, min=0.0, max=10_000_000.0),
    "prices.internal_operation_sek": _c(
        "float", "SEK/operation",
        "Internal unit cost of one operation; required when the clinic operates.",
        min=0.0, max=10_000_000.0),
    "scenarios": _c("dict[str, section]", "-",
                    "What-if scenarios by name (lower-case identifier); every field is "
                    "optional and defaults to no change."),
    "scenarios.<name>.description": _c("str", "text", "What the scenario means."),
    "scenarios.<name>.inflow_change_pct": _c(
        "float", "%", "Change of referral inflow, e.g. 10 for +10 %.",
        default=0.0, min=-100.0, max=1_000.0),
    "scenarios.<name>.extra_new_visit_slots_per_week": _c(
        "float", "visits/week", "New-visit slots added (negative: removed) per week.",
        default=0.0, min=-100_000.0, max=100_000.0),
    "scenarios.<name>.extra_theatre_sessions_per_week": _c(
        "float", "sessions/week", "Theatre sessions added (negative: removed) per week.",
        default=0.0, min=-1_000.0, max=1_000.0),
    "scenarios.<name>.summer_closure_extra_weeks": _c(
        "int", "weeks",
        "Weeks the summer reduction is extended (negative: shortened), at its "
        "capacity share.",
        default=0, min=-10, max=10),
    "scenarios.<name>.moved_patients_per_week": _c(
        "float", "patients/week",
        "Patients moved to other clinics of the same `region_pool` (negative: "
        "received from them); needs `region_pool`.",
        default=0.0, min=-10_000.0, max=10_000.0),
    "scenarios.<name>.purchase_price_change_pct": _c(
        "float", "%", "Change of the external purchase prices.",
        default=0.0, min=-100.0, max=1_000.0),
}

_TYPE_WORDS = {
    "str": "text",
    "path": "a file name (text)",
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "date": "a date YYYY-MM-DD",
    "list[str]": "a list of text",
    "list[int]": "a list of whole numbers",
    "section": "a mapping (indented keys)",
    "list[section]": "a list of mappings",
    "dict[str, section]": "a mapping from names to mappings",
}


@dataclasses.dataclass
class _Node:
    spec: Spec
    children: dict[str, _Node] = dataclasses.field(default_factory=dict)
    key: str = ""  # generic dotted key, e.g. "closures[].start"


def _segments(key: str) -> list[str]:
    out: list[str] = []
    for part in key.split("."):
        if part.endswith("[]"):
            out += [part[:-2], "[]"]
        else:
            out.append(part)
    return out


def _build_tree(schema: Mapping[str, Spec]) -> _Node:
    root = _Node(Spec("section", "-", "all parameters"), key="")
    for key, spec in schema.items():
        if spec.type not in _TYPE_WORDS:
            raise TypeError(f"SCHEMA[{key!r}]: unknown type {spec.type!r}")
        node = root
        segs = _segments(key)
        for i, seg in enumerate(segs):
            last = i == len(segs) - 1
            if seg not in node.children:
                if not last and seg not in ("[]", "<name>"):
                    raise TypeError(f"SCHEMA[{key!r}]: declare its parent section first")
                item = Spec("section", "-", "one entry", required=True, scope=spec.scope)
                generic = key if last else ""
                node.children[seg] = _Node(spec if last else item, key=generic)
            node = node.children[seg]
    # consistency: containers hold the right kind of children
    def check(node: _Node) -> None:
        for seg, child in node.children.items():
            want = {"[]": "list[section]", "<name>": "dict[str, section]"}.get(seg)
            if want and node.spec.type != want:
                raise TypeError(f"SCHEMA: {node.key!r} must have type {want!r}")
            if child.children and child.spec.type not in ("section", "list[section]",
                                                            "dict[str, section]"):
                raise TypeError(f"SCHEMA: {child.key!r} has keys under it but is a "
                                f"{child.spec.type}")
            check(child)

    check(root)
    return root


_TREE = _build_tree(SCHEMA)


# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------


class ParameterError(ValueError):
    """A parameter file that cannot be used; the message names the file and the key.

    Attributes
    ----------
    path : str or None
        The parameter file (as given, e.g. ``parameters/clinics/uro.yaml``).
    key : str or None
        The dotted key (``resources.theatre_sessions_per_week``, ``closures[1].end``).
    problems : tuple of (path, key, message)
        Every problem found; ``str()`` shows one per line.

    Examples
    --------
    >>> err = ParameterError("key 'guarantee_days' must be a whole number, got str 'x'",
    ...                      path="parameters/defaults.yaml", key="guarantee_days")
    >>> print(err)
    parameters/defaults.yaml: key 'guarantee_days' must be a whole number, got str 'x'
    """

    def __init__(self, message: str, *, path=None, key: str | None = None,
                 problems=()) -> None:
        self.path = None if path is None else str(path)
        self.key = key
        self.message = message
        self.problems = tuple(problems) or ((self.path, key, message),)
        super().__init__("\n".join(
            f"{p}: {m}" if p is not None else m for p, _, m in self.problems))

    @classmethod
    def _from_problems(cls, problems) -> ParameterError:
        path, key, message = problems[0]
        return cls(message, path=path, key=key, problems=problems)


class _Problems:
    """Collects (path, key, message) tuples while validating."""

    def __init__(self) -> None:
        self.items: list[tuple[str | None, str | None, str]] = []

    def add(self, path, key, message) -> None:
        self.items.append((None if path is None else str(path), key, message))

    def raise_if_any(self) -> None:
        if self.items:
            raise ParameterError._from_problems(self.items)


# --------------------------------------------------------------------------------------
# Pure helpers
# --------------------------------------------------------------------------------------


def parse_date(value, *, name: str = "date") -> dt.date:
    """Parse a parameter date: a ``datetime.date`` or an ISO text ``YYYY-MM-DD``.

    YAML turns an unquoted ``2025-07-07`` into a date, a quoted one (and anything
    papermill hands over) stays text; both give the same :class:`datetime.date`.

    Parameters
    ----------
    value : datetime.date, datetime.datetime or str
        The date; a datetime must be at midnight [date].
    name : str
        Name used in the error message.

    Returns
    -------
    datetime.date

    Raises
    ------
    ValueError
        If ``value`` is not a valid date in that form (the message names ``name``).

    Examples
    --------
    >>> parse_date("2025-07-07")
    datetime.date(2025, 7, 7)
    >>> import datetime
    >>> parse_date(datetime.date(2025, 7, 7)) == parse_date("2025-07-07")
    True
    """
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0) or value.tzinfo is not None:
            raise ValueError(f"{name} must be a date without a time of day, got {value}")
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _DATE_PATTERN.fullmatch(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{name} {value!r} is not a valid calendar date") from None
    raise ValueError(f"{name} must be a date YYYY-MM-DD, got {type(value).__name__} "
                     f"{value!r}")


def deep_merge(base: Mapping, override: Mapping) -> dict:
    """Merge ``override`` into ``base``: mappings recursively, anything else replaced.

    A list in ``override`` replaces the list in ``base`` as a whole (a clinic's
    closures are its own, not added to the region's).  Neither input is changed.

    Parameters
    ----------
    base, override : Mapping
        Nested mappings (parsed YAML).

    Returns
    -------
    dict

    Examples
    --------
    >>> deep_merge({"a": 1, "s": {"x": 1, "y": 2}, "l": [1, 2]},
    ...            {"s": {"y": 3}, "l": [9]})
    {'a': 1, 's': {'x': 1, 'y': 3}, 'l': [9]}
    """
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _parent_key(key: str) -> str:
    if key.endswith("]"):
        return key[: key.rindex("[")]
    return key.rpartition(".")[0]


def _describe(value) -> str:
    if value is None:
        return "null"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def _unit_note(spec: Spec) -> str:
    return f" [{spec.unit}]" if spec.unit not in ("-", "text") else ""


def _bound_text(spec: Spec) -> str:
    if spec.min is not None and spec.max is not None:
        return f"between {_num(spec.min)} and {_num(spec.max)}"
    if spec.min is not None:
        return f"at least {_num(spec.min)}"
    return f"at most {_num(spec.max)}"


def _num(x) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _suggest(name: str, node: _Node, prefix: str) -> str:
    """A " (did you mean ...?)" hint for an unknown key, or ""."""
    siblings = [k for k in node.children if k not in ("[]", "<name>")]
    match = difflib.get_close_matches(name, siblings, n=1, cutoff=0.6)
    if match:
        return f" (did you mean {_join(prefix, match[0])!r}?)"
    elsewhere = [k for k in SCHEMA if _segments(k)[-1] == name]
    if elsewhere:
        return f" (did you mean {elsewhere[0]!r}? it belongs in another section)"
    leaves = {_segments(k)[-1]: k for k in SCHEMA}
    match = difflib.get_close_matches(name, list(leaves), n=1, cutoff=0.75)
    if match:
        return f" (did you mean {leaves[match[0]]!r}?)"
    return ""


# --------------------------------------------------------------------------------------
# Phase 1: one file (or the overrides) on its own: unknown keys, types, ranges
# --------------------------------------------------------------------------------------

_INVALID = object()


def _check_file(data: Mapping, source, problems: _Problems, *, is_defaults: bool) -> dict:
    out = _check_node(data, _TREE, "", source, problems)
    if out is _INVALID:
        return {}
    if is_defaults:
        for name in list(out):
            if _TREE.children[name].spec.scope == "clinic":
                problems.add(source, name,
                             f"key {name!r} belongs in a clinic file "
                             f"(clinics/<clinic-id>.yaml), not in the region defaults")
                del out[name]
    return out


def _check_node(value, node: _Node, key: str, source, problems: _Problems):
    spec = node.spec
    if value is None:
        return None  # null means "not given"; required keys are checked after merging
    kind = spec.type
    if kind == "section":
        if not isinstance(value, Mapping):
            return _wrong_type(value, spec, key, source, problems)
        out = {}
        for name, item in value.items():
            if not isinstance(name, str):
                problems.add(source, key or None,
                             f"key {name!r}{' in ' + repr(key) if key else ''} must be "
                             f"text (quote it)")
                continue
            child = node.children.get(name)
            if child is None or name in ("[]", "<name>"):
                full = _join(key, name)
                problems.add(source, full,
                             f"key {full!r} is unknown{_suggest(name, node, key)}")
                continue
            checked = _check_node(item, child, _join(key, name), source, problems)
            if checked is not _INVALID:
                out[name] = checked
        return out
    if kind == "list[section]":
        if not isinstance(value, (list, tuple)):
            return _wrong_type(value, spec, key, source, problems)
        out_list = []
        for i, item in enumerate(value):
            item_key = f"{key}[{i}]"
            if item is None:
                problems.add(source, item_key,
                             f"key {item_key!r} must be a mapping, got null")
                continue
            checked = _check_node(item, node.children["[]"], item_key, source, problems)
            if checked is not _INVALID:
                out_list.append(checked)
        return out_list
    if kind == "dict[str, section]":
        if not isinstance(value, Mapping):
            return _wrong_type(value, spec, key, source, problems)
        out = {}
        for name, item in value.items():
            item_key = f"{key}.{name}"
            if not isinstance(name, str) or not CLINIC_ID_PATTERN.fullmatch(name):
                problems.add(source, item_key,
                             f"name {name!r} in {key!r} must be a lower-case identifier "
                             f"(letters a-z, digits, '_' and '-')")
                continue
            checked = _check_node({} if item is None else item, node.children["<name>"],
                                  item_key, source, problems)
            if checked is not _INVALID:
                out[name] = checked
        return out
    if kind.startswith("list["):
        if not isinstance(value, (list, tuple)):
            return _wrong_type(value, spec, key, source, problems)
        item_spec = dataclasses.replace(spec, type=kind[5:-1])
        items = []
        ok = True
        for i, item in enumerate(value):
            checked = _check_leaf(item, item_spec, f"{key}[{i}]", source, problems)
            ok &= checked is not _INVALID
            items.append(checked)
        if not ok:
            return _INVALID
        if len(set(items)) != len(items):
            problems.add(source, key, f"key {key!r} lists a value twice: {list(items)}")
            return _INVALID
        return items
    return _check_leaf(value, spec, key, source, problems)


def _wrong_type(value, spec: Spec, key: str, source, problems: _Problems):
    hint = ""
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+,\d+\s*", value):
        hint = " (use a decimal point, not a comma)"
    elif isinstance(value, bool) and spec.type in ("str", "path"):
        hint = (" (YAML reads an unquoted NO, YES, ON or OFF as false or true: write the text "
                "in quotes, e.g. 'NO')")
    problems.add(source, key, f"key {key!r} must be {_TYPE_WORDS[spec.type]}"
                              f"{_unit_note(spec)}, got {_describe(value)}{hint}")
    return _INVALID


def _check_leaf(value, spec: Spec, key: str, source, problems: _Problems):
    kind = spec.type
    if value is None:
        problems.add(source, key, f"key {key!r} must be {_TYPE_WORDS[kind]}, got null")
        return _INVALID
    if kind in ("str", "path"):
        if not isinstance(value, str):
            return _wrong_type(value, spec, key, source, problems)
        value = value.strip()
        if not value:
            problems.add(source, key, f"key {key!r} must not be empty")
            return _INVALID
        if kind == "path":
            return _check_path(value, key, source, problems)
    elif kind == "int":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return _wrong_type(value, spec, key, source, problems)
        if isinstance(value, float):
            if not value.is_integer():
                return _wrong_type(value, spec, key, source, problems)
            value = int(value)
    elif kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return _wrong_type(value, spec, key, source, problems)
        value = float(value)
        if not math.isfinite(value):
            problems.add(source, key, f"key {key!r} must be a finite number, got {value}")
            return _INVALID
    elif kind == "bool":
        if not isinstance(value, bool):
            return _wrong_type(value, spec, key, source, problems)
    elif kind == "date":
        try:
            value = parse_date(value, name=f"key {key!r}")
        except ValueError as exc:
            problems.add(source, key, str(exc))
            return _INVALID
    if spec.choices is not None and value not in spec.choices:
        allowed = ", ".join(repr(c) for c in spec.choices)
        problems.add(source, key, f"key {key!r} must be one of {allowed}, got {value!r}")
        return _INVALID
    if spec.pattern is not None and not re.fullmatch(spec.pattern, value):
        problems.add(source, key, f"key {key!r} must be a lower-case identifier "
                                  f"(letters a-z, digits, '_' and '-'), got {value!r}")
        return _INVALID
    if kind in ("int", "float") and (
            (spec.min is not None and value < spec.min)
            or (spec.max is not None and value > spec.max)):
        problems.add(source, key, f"key {key!r} must be {_bound_text(spec)}"
                                  f"{_unit_note(spec)}, got {value!r}")
        return _INVALID
    return value


def _check_path(value: str, key: str, source, problems: _Problems):
    if PurePosixPath(value).is_absolute() or PureWindowsPath(value).is_absolute() \
            or PureWindowsPath(value).drive:
        problems.add(source, key, f"key {key!r} must be a path relative to the data "
                                  f"folder, got the absolute path {value!r}")
        return _INVALID
    parts = PurePosixPath(value.replace("\\", "/")).parts
    if ".." in parts:
        problems.add(source, key, f"key {key!r} must stay inside the data folder "
                                  f"(no '..'), got {value!r}")
        return _INVALID
    if PurePosixPath(value).suffix.lower() not in _DATA_SUFFIXES:
        problems.add(source, key, f"key {key!r} must name a CSV, XLSX or Parquet file "
                                  f"({', '.join(_DATA_SUFFIXES)}), got {value!r}")
        return _INVALID
    return value


# --------------------------------------------------------------------------------------
# Phase 2/3: merged parameters: required keys, defaults, relations between keys
# --------------------------------------------------------------------------------------


class _Sources:
    """Which file gave each (concrete, dotted) key, for error messages."""

    def __init__(self, defaults_path, clinic_path) -> None:
        self.defaults_path = defaults_path
        self.clinic_path = clinic_path
        self.by_key: dict[str, Any] = {}

    def record(self, tree, source, prefix: str = "") -> None:
        if isinstance(tree, Mapping):
            for name, value in tree.items():
                key = _join(prefix, name)
                self.by_key[key] = source
                self.record(value, source, key)
        elif isinstance(tree, list):
            for i, value in enumerate(tree):
                self.record(value, source, f"{prefix}[{i}]")

    def of(self, key: str, *, scope: str = "clinic"):
        probe = key
        while probe:
            if probe in self.by_key:
                return self.by_key[probe]
            probe = _parent_key(probe)
        return self.clinic_path if scope == "clinic" else self.defaults_path


def _complete(value, node: _Node, key: str, sources: _Sources, problems: _Problems):
    """Fill defaults of optional keys, report missing required keys; schema order."""
    kind = node.spec.type
    if kind == "section":
        value = value or {}
        out = {}
        for name, child in node.children.items():
            child_key = _join(key, name)
            given = value.get(name)
            if given is not None:
                out[name] = _complete(given, child, child_key, sources, problems)
            elif child.spec.required:
                where = sources.of(child_key, scope=child.spec.scope)
                state = "is null" if name in value else "is missing"
                problems.add(where, child_key,
                             f"required key {child_key!r} {state}{_unit_note(child.spec)}")
            else:
                default = _default(child, child_key, sources, problems)
                if default is not ABSENT:
                    out[name] = default
        return out
    if kind == "list[section]":
        return [_complete(item, node.children["[]"], f"{key}[{i}]", sources, problems)
                for i, item in enumerate(value)]
    if kind == "dict[str, section]":
        return {name: _complete(item, node.children["<name>"], f"{key}.{name}", sources,
                                problems)
                for name, item in value.items()}
    return value


def _default(node: _Node, key: str, sources: _Sources, problems: _Problems):
    kind = node.spec.type
    if kind == "section":
        # an optional group not given stays "not given": filling it from its keys'
        # defaults would hide its absence (a clinic without resources would get some)
        return node.spec.default
    if kind.startswith("list"):
        return []
    if kind.startswith("dict"):
        return {}
    return node.spec.default


def _check_relations(p: dict, sources: _Sources, problems: _Problems) -> None:
    """Rules between keys, on the merged and completed parameters."""

    def add(key, message):
        problems.add(sources.of(key), key, message)

    def get(dotted):
        node = p
        for seg in dotted.split("."):
            if not isinstance(node, Mapping) or seg not in node:
                return None
            node = node[seg]
        return node

    earliest = get("plausible_from")
    if isinstance(earliest, dt.date) and earliest >= dt.date.today():
        add("plausible_from", f"key 'plausible_from' must lie before today, got {earliest.isoformat()}")
    fixed, planning = get("fixed_horizon_weeks"), get("planning_horizon_weeks")
    if fixed is not None and planning is not None and planning < fixed:
        add("planning_horizon_weeks", f"key 'planning_horizon_weeks' ({planning}) must be "
                                      f"at least 'fixed_horizon_weeks' ({fixed})")
    yellow = get("escalation.yellow_deviation_pct")
    red = get("escalation.red_deviation_pct")
    if yellow is not None and red is not None and not red > yellow:
        add("escalation.red_deviation_pct",
            f"key 'escalation.red_deviation_pct' ({_num(red)} %) must be greater than "
            f"'escalation.yellow_deviation_pct' ({_num(yellow)} %)")
    first, last = get("summer.first_week"), get("summer.last_week")
    if first is not None and last is not None and last < first:
        add("summer.last_week", f"key 'summer.last_week' ({last}) must be at least "
                                f"'summer.first_week' ({first})")
    data = get("data")
    if isinstance(data, Mapping) and not (data.get("weekly") or data.get("waiting_list")):
        add("data", "key 'data' must name at least one file: 'data.weekly' or "
                    "'data.waiting_list'")
    sessions = get("resources.theatre_sessions_per_week")
    operates = bool(sessions) or bool(get("annual_volume.operations"))
    if sessions and get("resources.operations_per_session") is None:
        add("resources.operations_per_session",
            "key 'resources.operations_per_session' is required when "
            "'resources.theatre_sessions_per_week' is above 0")
    if operates:
        for k in ("prices.purchase_operation_sek", "prices.internal_operation_sek"):
            if get("prices") is not None and get(k) is None:
                add(k, f"key {k!r} is required for a clinic that operates "
                       f"(theatre sessions or annual operations above 0)")
    closures = get("closures") or []
    for i, c in enumerate(closures):
        if c.get("start") and c.get("end") and c["end"] < c["start"]:
            add(f"closures[{i}].end", f"key 'closures[{i}].end' ({c['end']}) is before "
                                      f"its start ({c['start']})")
    spans = sorted((c["start"], c["end"], i) for i, c in enumerate(closures)
                   if c.get("start") and c.get("end") and c["end"] >= c["start"])
    for (s1, e1, i1), (s2, e2, i2) in zip(spans, spans[1:]):
        if s2 <= e1:
            add(f"closures[{i2}].start",
                f"closures[{i1}] ({s1}..{e1}) and closures[{i2}] ({s2}..{e2}) overlap")
    _check_region(p, add)
    slots = get("resources.new_visit_slots_per_week")
    needs = (("extra_new_visit_slots_per_week", "resources", "the new-visit slots it adds to"),
             ("extra_theatre_sessions_per_week", "resources", "the theatre sessions it adds to"),
             ("summer_closure_extra_weeks", "closures", "a summer closure to extend"),
             ("purchase_price_change_pct", "prices", "the prices it changes"))
    for name, s in (get("scenarios") or {}).items():
        k = f"scenarios.{name}"
        for field, group, what in needs:
            if s.get(field) and not get(group):
                add(f"{k}.{field}", f"key '{k}.{field}' needs {group!r} ({what}), which the clinic "
                                    f"does not give")
        if s.get("moved_patients_per_week") and get("region_pool") is None:
            add(f"{k}.moved_patients_per_week",
                f"key '{k}.moved_patients_per_week' needs 'region_pool' (the clinics "
                f"patients can be moved between)")
        if sessions is not None and sessions + s.get("extra_theatre_sessions_per_week",
                                                     0.0) < 0:
            add(f"{k}.extra_theatre_sessions_per_week",
                f"key '{k}.extra_theatre_sessions_per_week' removes more than the "
                f"{_num(sessions)} theatre sessions per week the clinic has")
        if slots is not None and slots + s.get("extra_new_visit_slots_per_week", 0.0) < 0:
            add(f"{k}.extra_new_visit_slots_per_week",
                f"key '{k}.extra_new_visit_slots_per_week' removes more than the "
                f"{_num(slots)} new-visit slots per week the clinic has")


def _check_region(p: dict, add) -> None:
    """``country`` and ``subdivision`` known to the ``holidays`` package; normalised in place
    (``gb`` -> ``GB``, ``GB-ENG`` -> ``GB`` and ``ENG``, ``England`` -> ``ENG``)."""
    country, subdivision = p.get("country"), p.get("subdivision")
    if country is None:
        return
    try:
        code, _ = _calendar.check_region(str(country).partition("-")[0])
    except ValueError as exc:
        add("country", f"key 'country': {exc}")
        return
    try:
        code, sub = _calendar.check_region(country, subdivision)
    except ValueError as exc:
        key = "subdivision" if subdivision is not None else "country"  # else 'GB-XYZ' in country
        add(key, f"key {key!r}: {exc}")
        return
    p["country"] = code
    if "subdivision" in p or sub is not None:
        p["subdivision"] = sub


# --------------------------------------------------------------------------------------
# The frozen result
# --------------------------------------------------------------------------------------


def _freeze(value, key: str = ""):
    if isinstance(value, ParameterSection):
        return value
    if isinstance(value, Mapping):
        return ParameterSection(value, key=key)
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v, f"{key}[{i}]") for i, v in enumerate(value))
    return value


def _thaw(value):
    if isinstance(value, ParameterSection):
        return {k: _thaw(v) for k, v in value._data.items()}
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


class ParameterSection(Mapping):
    """A read-only mapping with attribute access: ``s.key`` is ``s["key"]``.

    Nested sections are sections too, lists are tuples, dates :class:`datetime.date`.
    Being a mapping, a section can be unpacked at a function boundary:
    ``f(**params.resources)``.
    """

    __slots__ = ("_data", "_key")

    def __init__(self, data: Mapping, *, key: str = "") -> None:
        object.__setattr__(self, "_data",
                           {k: _freeze(v, _join(key, k)) for k, v in data.items()})
        object.__setattr__(self, "_key", key)

    def __getitem__(self, name):
        return self._data[name]

    def __iter__(self):
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._data[name]
        except KeyError:
            full = _join(self._key, name)
            match = difflib.get_close_matches(name, list(self._data), n=1)
            hint = f" (did you mean {_join(self._key, match[0])!r}?)" if match else ""
            raise AttributeError(f"no parameter {full!r}{hint}") from None

    def __setattr__(self, name, value):
        raise AttributeError(f"parameters are read-only: cannot set "
                             f"{_join(self._key, name)!r}")

    def __delattr__(self, name):
        raise AttributeError(f"parameters are read-only: cannot delete "
                             f"{_join(self._key, name)!r}")

    def __dir__(self):
        return sorted(set(super().__dir__()) | {k for k in self._data if k.isidentifier()})

    def __reduce__(self):
        return (_rebuild_section, (self._data, self._key))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._data!r})"

    def to_dict(self) -> dict:
        """Plain, JSON-able copy: nested dicts and lists, dates as ISO text."""
        return _thaw(self)


def _rebuild_section(data, key):
    return ParameterSection(data, key=key)


def _rebuild_parameters(data, clinic_id, source_files):
    return Parameters(data, clinic_id=clinic_id, source_files=source_files)


class Parameters(ParameterSection):
    """The validated, merged, read-only parameters of one clinic.

    Attributes
    ----------
    clinic_id : str
        The clinic id (file stem of the clinic file).
    source_files : tuple of pathlib.Path
        ``defaults.yaml`` and the clinic file, in merge order.
    hash : str
        First 12 hex digits of the SHA-256 of the canonical JSON of :meth:`to_dict`
        (keys sorted): equal parameters give equal hashes, whatever the key order or
        spelling (``2025-07-07`` quoted or not, ``150`` or ``150.0``) in the files.
    """

    __slots__ = ("clinic_id", "source_files", "hash")

    def __init__(self, data: Mapping, *, clinic_id: str, source_files=()) -> None:
        super().__init__(data, key="")
        object.__setattr__(self, "clinic_id", clinic_id)
        object.__setattr__(self, "source_files", tuple(Path(p) for p in source_files))
        canonical = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False,
                               separators=(",", ":"), allow_nan=False)
        object.__setattr__(self, "hash",
                           hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12])

    def __reduce__(self):
        return (_rebuild_parameters, (self._data, self.clinic_id, self.source_files))

    def __repr__(self) -> str:
        return f"Parameters(clinic_id={self.clinic_id!r}, hash={self.hash!r})"


# --------------------------------------------------------------------------------------
# Reading files
# --------------------------------------------------------------------------------------


#: Largest parameter file read [bytes]; a clinic file is a few kilobytes.
MAX_YAML_BYTES = 1_000_000

#: Most values a parameter file may hold once its aliases (``*name``) are expanded; a
#: "billion laughs" file holds few nodes that expand to billions.
MAX_YAML_VALUES = 100_000


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (PyYAML keeps the last)
    and a document whose aliases expand to more than :data:`MAX_YAML_VALUES` values or
    refer to themselves (checked on the composed node graph, before anything is built)."""

    def construct_document(self, node):
        _check_expansion(node)
        return super().construct_document(node)


class _AliasBomb(yaml.YAMLError):
    """A document whose aliases expand beyond the limit or refer to themselves."""


def _check_expansion(root) -> None:
    """Count the values of a composed YAML document as if every alias were written out.

    An alias is the same node object as its anchor, so the document is a graph; the
    expanded size of a node is 1 + the sizes of its children, worked out once per node
    (memoised), in time linear in the number of distinct nodes.  A node reachable from
    itself (``&a [*a]``) would expand without end.
    """
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            children = _yaml_children(node)
            total = 1 + sum(size[id(c)] for c in children)
            if total > MAX_YAML_VALUES:
                raise _AliasBomb(f"the aliases (*name) expand to more than {MAX_YAML_VALUES:,} values; "
                                 "write the values out instead")
            size[key] = total
            continue
        if key in size:
            continue
        if key in on_path:
            raise _AliasBomb("an alias (*name) refers to the value that contains it, so it never ends")
        on_path.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _yaml_children(node) if id(c) not in size)


def _yaml_children(node) -> list:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _construct_unique_mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(
                key_node, yaml.ScalarNode):
            continue
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} is given twice", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                                 _construct_unique_mapping)


def _construct_timestamp_or_text(loader, node):
    """A YAML date, or its text when it is no calendar date (``2027-02-30``).

    PyYAML raises a bare ValueError for such a date; kept as text, it reaches the schema
    check, whose message names the file and the key.
    """
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp_or_text)


def _read_yaml(path: Path) -> dict:
    """A parameter file's mapping; ParameterError naming the file for anything else.

    Only a regular file of at most :data:`MAX_YAML_BYTES` is opened (a named pipe or a
    device would block or never end), and its aliases may not expand beyond
    :data:`MAX_YAML_VALUES` values.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ParameterError("file not found", path=path) from None
    except OSError as exc:
        raise ParameterError(f"cannot read the file: {exc.strerror or exc}", path=path) from None
    if not stat.S_ISREG(info.st_mode):
        what = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file (a pipe or a device?)"
        raise ParameterError(f"is {what}; a parameter file must be a YAML text file", path=path)
    if info.st_size > MAX_YAML_BYTES:
        raise ParameterError(f"the file holds {info.st_size:,} bytes, more than the {MAX_YAML_BYTES:,} a "
                             "parameter file may have", path=path)
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_YAML_BYTES + 1)
        if len(raw) > MAX_YAML_BYTES:
            raise ParameterError(f"the file holds more than the {MAX_YAML_BYTES:,} bytes a parameter "
                                 "file may have", path=path)
        text = raw.decode("utf-8-sig")
    except FileNotFoundError:
        raise ParameterError("file not found", path=path) from None
    except UnicodeDecodeError as exc:
        line = exc.object[:exc.start].count(b"\n") + 1
        raise ParameterError(f"file is not UTF-8 text (line {line}: byte 0x{exc.object[exc.start]:02x}); "
                             "save it as UTF-8", path=path) from None
    except OSError as exc:
        raise ParameterError(f"cannot read the file: {exc.strerror or exc}",
                             path=path) from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - safe loader subclass
    except RecursionError:
        raise ParameterError("not valid YAML: nested too deeply", path=path) from None
    except _AliasBomb as exc:
        raise ParameterError(f"refused: {exc}", path=path) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ParameterError(f"not valid YAML: {where}{problem}", path=path) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParameterError(f"the file must hold a mapping of keys, got "
                             f"{type(data).__name__}", path=path)
    return data


def _clinic_dir(parameters_dir) -> Path:
    return Path(parameters_dir) / "clinics"


def list_clinics(parameters_dir="parameters") -> list[str]:
    """Clinic ids in ``parameters_dir/clinics``: the sorted stems of the ``*.yaml`` files.

    Parameters
    ----------
    parameters_dir : path
        The parameter folder (holds ``defaults.yaml`` and ``clinics/``).

    Returns
    -------
    list of str

    Raises
    ------
    ParameterError
        If ``parameters_dir/clinics`` is not a folder.

    Examples
    --------
    >>> from pathlib import Path
    >>> import kps_analysis
    >>> list_clinics(Path(kps_analysis.__file__).resolve().parents[1] / "parameters")
    ['gyn', 'hud', 'kir', 'ogon', 'onh', 'ort_nord', 'ort_syd', 'uro']
    """
    folder = _clinic_dir(parameters_dir)
    if not folder.is_dir():
        raise ParameterError("folder of clinic parameter files not found", path=folder)
    return sorted(p.stem for p in folder.glob("*.yaml") if not p.is_dir())  # a pipe too: then it is refused


def load_parameters(clinic_id: str, parameters_dir="parameters", *,
                    overrides: Mapping | None = None) -> Parameters:
    """Read, merge and validate one clinic's parameters.

    ``parameters_dir/defaults.yaml`` is merged with
    ``parameters_dir/clinics/<clinic_id>.yaml`` (the clinic wins; mappings merge key by
    key, lists are replaced), then ``overrides`` (if given) on top.  Every file is
    checked for unknown keys, wrong types and out-of-range values; the merged result
    for missing required keys and for rules between keys.  Every problem found is
    reported at once.

    Parameters
    ----------
    clinic_id : str
        The clinic id, a plain identifier (``^[a-z0-9][a-z0-9_-]*$``): the file stem in
        ``parameters_dir/clinics``.
    parameters_dir : path
        The parameter folder.
    overrides : Mapping, optional
        Values on top of the files (same keys as the files; dates may be ISO text),
        e.g. ``{"language": "en"}``; validated like a clinic file.

    Returns
    -------
    Parameters
        Read-only; attribute and item access; ``.to_dict()``, ``.hash``,
        ``.clinic_id``, ``.source_files``.

    Raises
    ------
    ParameterError
        For an invalid clinic id, a missing or unreadable file, and every validation
        problem; the message names the file and the dotted key.

    Examples
    --------
    >>> from pathlib import Path
    >>> import kps_analysis
    >>> folder = Path(kps_analysis.__file__).resolve().parents[1] / "parameters"
    >>> p = load_parameters("ogon", folder)
    >>> p.guarantee_days, p.resources.new_visit_slots_per_week
    (90, 206.0)
    >>> p["closures"][0].start
    datetime.date(2026, 6, 29)
    >>> load_parameters("ogon", folder, overrides={"language": "en"}).language
    'en'
    """
    folder = _clinic_dir(parameters_dir)
    if not isinstance(clinic_id, str) or not CLINIC_ID_PATTERN.fullmatch(clinic_id):
        # a file in the folder whose stem is no valid id (ort.nord.yaml): name that file
        stems = ({p.stem: p for p in folder.glob("*.yaml")}
                 if isinstance(clinic_id, str) and folder.is_dir() else {})
        own = stems.get(clinic_id) if clinic_id not in ("", ".", "..") else None
        hint = "; rename the file" if own is not None else ""
        raise ParameterError(
            f"clinic id {clinic_id!r} is not a plain identifier (lower-case letters, "
            f"digits, '_' and '-', starting with a letter or digit; no path separators "
            f"or '..'){hint}", path=own if own is not None else folder)
    defaults_path = Path(parameters_dir) / "defaults.yaml"
    clinic_path = folder / f"{clinic_id}.yaml"
    if not os.path.lexists(clinic_path):
        known = sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []
        match = difflib.get_close_matches(clinic_id, known, n=1)
        hint = f"; did you mean {match[0]!r}?" if match else ""
        raise ParameterError(
            f"no parameter file for clinic {clinic_id!r} (clinics found: "
            f"{', '.join(known) or 'none'}{hint})", path=clinic_path)

    problems = _Problems()
    raw_defaults = _read_yaml(defaults_path)
    raw_clinic = _read_yaml(clinic_path)
    defaults = _check_file(raw_defaults, defaults_path, problems, is_defaults=True)
    clinic = _check_file(raw_clinic, clinic_path, problems, is_defaults=False)
    extra = {}
    if overrides is not None:
        if not isinstance(overrides, Mapping):
            raise ParameterError(f"overrides must be a mapping, got "
                                 f"{type(overrides).__name__}", path="overrides")
        extra = _check_file(overrides, "overrides", problems, is_defaults=False)
    problems.raise_if_any()

    sources = _Sources(defaults_path, clinic_path)
    sources.record(defaults, defaults_path)
    sources.record(clinic, clinic_path)
    sources.record(extra, "overrides")
    merged = deep_merge(deep_merge(defaults, clinic), extra)
    completed = _complete(merged, _TREE, "", sources, problems)
    problems.raise_if_any()
    _check_relations(completed, sources, problems)
    problems.raise_if_any()
    return Parameters(completed, clinic_id=clinic_id,
                      source_files=(defaults_path, clinic_path))


#: The region-wide settings a region report needs without any clinic's file.
REGION_SETTINGS = ("language", "guarantee_days", "target_share_within_guarantee", "suppression_limit",
                   "country", "subdivision")


def region_settings(parameters_dir="parameters") -> dict:
    """The region-wide settings of ``defaults.yaml``, validated: language, guarantee
    limit [days], target share within it [share 0-1], the small-count limit
    [patients] and the calendar (country and subdivision codes); a key the file leaves
    out takes the schema's default.

    The region overview uses these, so its guarantee line and language follow the
    same file as the clinic reports instead of settings of its own.

    Raises
    ------
    ParameterError
        For a missing or unreadable ``defaults.yaml`` and for every invalid key in it
        (the message names the file and the key).

    Examples
    --------
    >>> from pathlib import Path
    >>> import kps_analysis
    >>> folder = Path(kps_analysis.__file__).resolve().parents[1] / "parameters"
    >>> region_settings(folder)  # doctest: +NORMALIZE_WHITESPACE
    {'language': 'sv', 'guarantee_days': 90, 'target_share_within_guarantee': 0.95, 'suppression_limit': 5,
     'country': 'SE', 'subdivision': None}
    """
    path = Path(parameters_dir) / "defaults.yaml"
    problems = _Problems()
    checked = _check_file(_read_yaml(path), path, problems, is_defaults=True)
    problems.raise_if_any()
    settings = {k: checked.get(k, SCHEMA[k].default) for k in REGION_SETTINGS}
    _check_region(settings, lambda key, message: problems.add(path, key, message))
    problems.raise_if_any()
    return settings


def validate_all(parameters_dir="parameters") -> dict[str, str | None]:
    """Validate every clinic file: clinic id -> error message, or None when valid.

    Files in ``clinics/`` ending in ``.yml`` are reported too (they would be ignored:
    only ``.yaml`` counts).

    Parameters
    ----------
    parameters_dir : path
        The parameter folder.

    Returns
    -------
    dict
        One entry per clinic, sorted by id.

    Raises
    ------
    ParameterError
        If ``parameters_dir/clinics`` is not a folder.

    Examples
    --------
    >>> from pathlib import Path
    >>> import kps_analysis
    >>> result = validate_all(Path(kps_analysis.__file__).resolve().parents[1] / "parameters")
    >>> [clinic for clinic, error in result.items() if error is not None]
    []
    """
    result: dict[str, str | None] = {}
    for clinic_id in list_clinics(parameters_dir):
        try:
            load_parameters(clinic_id, parameters_dir)
            result[clinic_id] = None
        except ParameterError as exc:
            result[clinic_id] = str(exc)
    for path in sorted(_clinic_dir(parameters_dir).glob("*.yml")):
        result.setdefault(path.stem, f"{path}: clinic files must end in '.yaml', "
                                     f"rename it to {path.stem}.yaml")
    return dict(sorted(result.items()))


# --------------------------------------------------------------------------------------
# What a clinic's parameters make possible
# --------------------------------------------------------------------------------------

#: The optional groups of a clinic file, by name: the parameter key that gives each and
#: what it is, in Swedish and English, for a report section to say what it needs.
CAPABILITIES = types.MappingProxyType({
    "resources": ("resources", {
        "sv": "klinikens resurser (mottagningstider och operationstider per normal vecka, `resources`)",
        "en": "the clinic's resources (visit slots and theatre sessions per normal week, `resources`)"}),
    "care_agreement": ("annual_volume", {
        "sv": "vårdöverenskommelsens årsvolymer (`annual_volume`)",
        "en": "the care agreement's annual volumes (`annual_volume`)"}),
    "prices": ("prices", {
        "sv": "priser för köpt vård och egen produktion (`prices`)",
        "en": "prices of purchased care and own production (`prices`)"}),
    "closures": ("closures", {
        "sv": "planerade neddragningar (`closures`)",
        "en": "planned closures (`closures`)"}),
    "scenarios": ("scenarios", {
        "sv": "scenarier (`scenarios`)",
        "en": "scenarios (`scenarios`)"}),
    "region_pool": ("region_pool", {
        "sv": "en gemensam väntelista med andra kliniker (`region_pool`)",
        "en": "a common waiting list with other clinics (`region_pool`)"}),
})


def capabilities(params) -> dict[str, bool]:
    """Which optional groups a clinic's parameters give (:data:`CAPABILITIES`).

    A clinic file needs only a name and its data; everything else is optional.  A
    report section that needs a group the clinic lacks says so
    (:func:`needs_sentence`) instead of the clinic being refused.

    Parameters
    ----------
    params : Parameters or Mapping
        One clinic's loaded parameters.

    Returns
    -------
    dict
        ``resources``, ``care_agreement`` (``annual_volume``), ``prices``, ``closures``,
        ``scenarios``, ``region_pool`` -> True when the clinic gives it (a non-empty
        value), in that order.

    Raises
    ------
    ValueError
        If ``params`` is not a mapping.

    Examples
    --------
    >>> capabilities({"name": "Hud", "data": {"weekly": "hud.csv"}, "closures": []})
    {'resources': False, 'care_agreement': False, 'prices': False, 'closures': False, 'scenarios': False, 'region_pool': False}
    >>> capabilities({"resources": {"new_visit_slots_per_week": 40}, "region_pool": "hud"})["resources"]
    True
    """
    if not isinstance(params, Mapping):
        raise ValueError(f"params must be loaded parameters (a mapping), got {type(params).__name__}")
    return {name: bool(params.get(key)) for name, (key, _) in CAPABILITIES.items()}


def needs_sentence(groups, *, language: str = "sv") -> str:
    """The sentence a report section shows in place of what it cannot compute.

    Parameters
    ----------
    groups : str or sequence of str
        Names of :data:`CAPABILITIES` the section needs (``"resources"``).
    language : {"sv", "en"}, optional
        Report language.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        For an unknown group or language.

    Examples
    --------
    >>> needs_sentence("prices", language="en")
    "This section needs prices of purchased care and own production (`prices`) in the clinic's parameter file."
    >>> needs_sentence(["resources", "care_agreement"])[:48]
    'Avsnittet kräver klinikens resurser (mottagnings'
    """
    if language not in ("sv", "en"):
        raise ValueError(f"language must be 'sv' or 'en', got {language!r}")
    names = [groups] if isinstance(groups, str) else list(groups)
    unknown = [g for g in names if g not in CAPABILITIES]
    if unknown or not names:
        raise ValueError(f"groups must name some of {', '.join(CAPABILITIES)}, got {groups!r}")
    parts = [CAPABILITIES[g][1][language] for g in names]
    joined = parts[0] if len(parts) == 1 else (
        ", ".join(parts[:-1]) + (" och " if language == "sv" else " and ") + parts[-1])
    if language == "sv":
        return f"Avsnittet kräver {joined} i klinikens parameterfil."
    return f"This section needs {joined} in the clinic's parameter file."


def calendar_region(params) -> dict:
    """The calendar keyword arguments of a clinic: ``{"country": ..., "subdivision": ...}``.

    Unpacks the parameters at the boundary for the calendar functions:
    ``kps_analysis.calendar.working_days(periods, **calendar_region(params))``.

    Parameters
    ----------
    params : Parameters or Mapping
        Loaded parameters (a mapping without the keys gives Sweden).

    Returns
    -------
    dict

    Raises
    ------
    ValueError
        If ``params`` is not a mapping, or names an unknown country or subdivision.

    Examples
    --------
    >>> calendar_region({"country": "GB", "subdivision": "ENG"}), calendar_region({})
    ({'country': 'GB', 'subdivision': 'ENG'}, {'country': 'SE', 'subdivision': None})
    """
    if not isinstance(params, Mapping):
        raise ValueError(f"params must be loaded parameters (a mapping), got {type(params).__name__}")
    country = params.get("country") or SCHEMA["country"].default
    code, sub = _calendar.check_region(country, params.get("subdivision"))
    return {"country": code, "subdivision": sub}


def freshness_limit_days(params, freq) -> int:
    """Days after the end of the latest period before a clinic's data count as stale.

    ``stale_after_days`` for weekly data, ``stale_after_days_monthly`` for monthly data;
    compare with :func:`kps_analysis.calendar.data_age_days` (stale when the age is
    greater).

    Parameters
    ----------
    params : Parameters or Mapping
        Loaded parameters (a key they lack takes the schema's default).
    freq : str, pandas offset, Period or PeriodDtype
        The data's period: ``"W-SUN"`` / ``"W"`` (weeks) or ``"M"`` / ``"ME"`` (months).

    Returns
    -------
    int
        [days]

    Raises
    ------
    ValueError
        For a period that is neither weekly nor monthly.

    Examples
    --------
    >>> freshness_limit_days({}, "W-SUN"), freshness_limit_days({"stale_after_days_monthly": 60}, "M")
    (14, 60)
    """
    code = getattr(freq, "freqstr", None) or getattr(getattr(freq, "freq", None), "freqstr", None) or str(freq)
    code = str(code).upper()
    key = ("stale_after_days" if code.startswith("W") else
           "stale_after_days_monthly" if code in ("M", "ME", "MS") else None)
    if key is None:
        raise ValueError(f"freq must be weekly (W-SUN) or monthly (M), got {freq!r}")
    value = params.get(key) if isinstance(params, Mapping) else None
    return int(SCHEMA[key].default if value is None else value)


# --------------------------------------------------------------------------------------
# The glossary (parameters/README.md)
# --------------------------------------------------------------------------------------

_GLOSSARY_HEAD = """\
# Parameters

<!-- Generated by kps_analysis.parameters.glossary_markdown(); do not edit by hand.
     Regenerate with:
     .venv/bin/python -c "from kps_analysis.parameters import glossary_markdown as g; print(g(), end='')" > parameters/README.md
     (tests/test_parameters.py checks that this file equals the generated text). -->

One analysis, many clinics: every clinic is described by a parameter file, and the
same report notebook runs once per clinic.

- `defaults.yaml`: region-wide values (care-guarantee limit, planning horizons, report
  language, escalation limits, ...).
- `clinics/<clinic-id>.yaml`: one clinic. The file stem is the clinic id (lower-case
  letters, digits, `_` and `-`). A clinic file may override any region value.

**Merging.** The clinic file is laid over the defaults: mappings are merged key by
key, a list (e.g. `closures`, `forecast.levels`) replaces the default list as a
whole, `null` means "not given".

**Validation** happens before anything runs (`kps validate`, `kps run`, and the
notebook's setup cell all call `kps_analysis.parameters.load_parameters`). An
unknown key (with a "did you mean" suggestion), a key given twice, a wrong type, a
value out of range, a missing required key or an inconsistency between keys (red
escalation limit not above yellow, overlapping closures, ...) is an error naming the
file and the dotted key, e.g.

    parameters/clinics/uro.yaml: key 'resources.theatre_sesions_per_week' is unknown (did you mean 'resources.theatre_sessions_per_week'?)

**Units** are in the key names where a time base could be mistaken
(`theatre_sessions_per_week`, `minutes_per_operation`) and in the tables below.
Numbers use a decimal point (`0.05`, not `0,05`). Shares are 0-1, percentages 0-100.
**Dates** are written `YYYY-MM-DD`, quoted or not. Data files are named relative to
the data folder (`kps run --data DIR`; the demo data by default).

**Provenance.** The loaded parameters carry a hash (`params.hash`, 12 hex digits of
the SHA-256 of the merged values) that reports and the run manifest show, so a
report can always be traced to the parameters it was made with.

In the key column, `closures[].start` is the `start` of each element of the list
`closures`, and `scenarios.<name>.inflow_change_pct` a field of each named scenario.

**What a clinic needs.** A clinic file needs only a name and its data; it is then
planned on the production it has demonstrated. Resources, a care agreement
(`annual_volume`), prices, closures, scenarios and a common waiting list
(`region_pool`) are optional groups: a report section that needs one the clinic lacks
says so (`kps_analysis.parameters.capabilities`), and the rest of the report is made.
An optional group left out is left out: it is never filled with values from elsewhere.

**Calendar.** `country` (default `SE`) and `subdivision` choose the holidays that
decide the working days of each week or month and the seasons the report names;
elective activity follows working days, acute activity and beds calendar days
(`kps_analysis.calendar.MEASURE_DAY_BASIS`). Set them in `defaults.yaml` for the
region, or in a clinic file for a clinic with another calendar.

A minimal clinic file:

```yaml
name: Hudkliniken
data:
  weekly: hud_weekly.csv
```

A clinic file with every group:

```yaml
name: Urologi
hospital: Centralsjukhuset
division: Kirurgisk division
specialty: Urologi
data:
  waiting_list: uro_waiting_list.parquet
  weekly: uro_activity.csv
resources:
  new_visit_slots_per_week: 48
  return_visit_slots_per_week: 90
  theatre_sessions_per_week: 6
  operations_per_session: 3
  no_show_rate: 0.05
annual_volume:
  new_visits: 2100
  operations: 800
prices:
  purchase_new_visit_sek: 2300
  purchase_operation_sek: 40000
  internal_new_visit_sek: 2000
  internal_operation_sek: 34000
closures:
  - {start: 2027-07-05, end: 2027-08-15, capacity_share: 0.45, label: Sommar v. 27-32}
scenarios:
  inflow_plus_10:
    description: Remissinflödet ökar med 10 %
    inflow_change_pct: 10
```
"""


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _requirement(spec: Spec) -> str:
    if spec.required:
        return "required"
    if spec.type.startswith("list"):
        return "optional (default: empty)"
    if spec.type.startswith("dict"):
        return "optional (default: none)"
    if spec.type == "section":
        return "optional"
    if spec.default is ABSENT or spec.default is None:
        return "optional"
    if isinstance(spec.default, dt.date):
        return f"optional (default: {spec.default.isoformat()})"
    if isinstance(spec.default, str):
        return f"optional (default: `{spec.default}`)"
    return f"optional (default: {_num(spec.default)})"


def _allowed(spec: Spec) -> str:
    if spec.choices is not None:
        return ", ".join(f"`{c}`" for c in spec.choices)
    if spec.min is not None or spec.max is not None:
        lo = "" if spec.min is None else _num(spec.min)
        hi = "" if spec.max is None else _num(spec.max)
        return f"{lo} – {hi}".strip()
    if spec.pattern is not None:
        return "identifier"
    return ""


def glossary_markdown() -> str:
    """The text of ``parameters/README.md``: how the files work and every key.

    Returns
    -------
    str
        Markdown; one table row per :data:`SCHEMA` key with its type, unit,
        requirement, allowed values and meaning.

    Examples
    --------
    >>> text = glossary_markdown()
    >>> "| `guarantee_days` | int | days |" in text
    True
    """
    lines = [_GLOSSARY_HEAD]
    titles = {"region": "## Region defaults (`defaults.yaml`; a clinic may override)",
              "clinic": "## Clinic files (`clinics/<clinic-id>.yaml`)"}
    for scope in ("region", "clinic"):
        lines += ["", titles[scope], "",
                  "| Key | Type | Unit | Required | Allowed | Meaning |",
                  "| --- | --- | --- | --- | --- | --- |"]
        for key, spec in SCHEMA.items():
            if spec.scope != scope:
                continue
            lines.append(f"| `{key}` | {_cell(spec.type)} | {_cell(spec.unit)} | "
                         f"{_requirement(spec)} | {_cell(_allowed(spec))} | "
                         f"{_cell(spec.description)} |")
    return "\n".join(lines) + "\n"
