"""The parameter schema: one :class:`Spec` per dotted key (:data:`SCHEMA`), and the tree of
keys the validator walks (:data:`TREE`).

The schema is data: validation (:mod:`kps_analysis.parameters.validation`) and the
glossary in ``parameters/README.md`` (:mod:`kps_analysis.parameters.glossary`) both come
from it, so the documentation cannot drift from what the loader accepts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

#: A clinic id (and a scenario name, a region pool) is a plain identifier: no path
#: separators, no dots, so it can never point outside ``parameters/clinics``.
CLINIC_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


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
                 "another `country` its own (England and Wales about 30-35, Scotland, Norway and "
                 "Denmark 27-32, Finland 27-31: `kps_analysis.calendar.default_summer_weeks`).",
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
                          "Random seed, so a rerun gives the same numbers. Each clinic and stage draws "
                          "from its own streams (the seed and its names), so a clinic's simulation is the "
                          "same alone, in its region or over any number of workers.",
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
        "instead of keeping the previous run's fixed weeks (those that have passed are still "
        "followed up against the outcome). Set it for one run, then back to false. Without "
        "it, a fixed plan whose own production is above the capacity now by more than "
        "`capacity_tolerance_pct` is planned with the capacity there is, and the report says so.",
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


TYPE_WORDS = {
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
class Node:
    spec: Spec
    children: dict[str, Node] = dataclasses.field(default_factory=dict)
    key: str = ""  # generic dotted key, e.g. "closures[].start"


def segments(key: str) -> list[str]:
    out: list[str] = []
    for part in key.split("."):
        if part.endswith("[]"):
            out += [part[:-2], "[]"]
        else:
            out.append(part)
    return out


def _build_tree(schema: Mapping[str, Spec]) -> Node:
    root = Node(Spec("section", "-", "all parameters"), key="")
    for key, spec in schema.items():
        if spec.type not in TYPE_WORDS:
            raise TypeError(f"SCHEMA[{key!r}]: unknown type {spec.type!r}")
        node = root
        segs = segments(key)
        for i, seg in enumerate(segs):
            last = i == len(segs) - 1
            if seg not in node.children:
                if not last and seg not in ("[]", "<name>"):
                    raise TypeError(f"SCHEMA[{key!r}]: declare its parent section first")
                item = Spec("section", "-", "one entry", required=True, scope=spec.scope)
                generic = key if last else ""
                node.children[seg] = Node(spec if last else item, key=generic)
            node = node.children[seg]
    # consistency: containers hold the right kind of children
    def check(node: Node) -> None:
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


TREE = _build_tree(SCHEMA)


def join_key(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def number_text(x) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)
