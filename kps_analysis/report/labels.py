"""The report's words in Swedish (default) and English: labels of measures and headings,
status words, stage names and period words.

Every short text of a report, a table header or a workbook goes through :func:`label`
(or one of the helpers here built on the same tables), so that a text exists once, in both
languages. Long section texts are in :mod:`kps_analysis.report.section_texts`.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

#: Labels used in reports, keyed by identifier, per language ("sv" default, "en").
LABELS: dict[str, dict[str, str]] = {
    # measures (canonical column names)
    "referrals_in": {"sv": "Remisser in", "en": "Referrals in"},
    "referrals_forwarded": {"sv": "Vidarebefordrade remisser", "en": "Referrals forwarded"},
    "removals_new_visit_other": {"sv": "Avförda ur nybesökskö", "en": "Other removals, first-visit queue"},
    "new_visits": {"sv": "Nybesök", "en": "New visits"},
    "return_visits": {"sv": "Återbesök", "en": "Return visits"},
    "emergency_visits": {"sv": "Akuta besök", "en": "Emergency visits"},
    "treatment_decisions": {"sv": "Behandlingsbeslut", "en": "Decisions to treat"},
    "removals_treatment_other": {"sv": "Avförda ur behandlingskö", "en": "Other removals, treatment queue"},
    "operations_elective": {"sv": "Elektiva operationer", "en": "Elective operations"},
    "operations_acute": {"sv": "Akuta operationer", "en": "Acute operations"},
    "bed_days": {"sv": "Vårddagar", "en": "Bed days"},
    "queue_new_visit": {"sv": "Väntande nybesök", "en": "Waiting for first visit"},
    "queue_treatment": {"sv": "Väntande behandling", "en": "Waiting for treatment"},
    "queue_return_unbooked": {"sv": "Ej bokade återbesök", "en": "Unbooked return visits"},
    "waiting_over_90_new_visit": {"sv": "Väntat över 90 dagar, nybesök", "en": "Waited over 90 days, first visit"},
    "waiting_over_90_treatment": {"sv": "Väntat över 90 dagar, behandling", "en": "Waited over 90 days, treatment"},
    "purchased_new_visits": {"sv": "Köpt vård, nybesök", "en": "Purchased first visits"},
    "purchased_operations": {"sv": "Köpt vård, operationer", "en": "Purchased operations"},
    "planned_new_visits": {"sv": "Planerade nybesök", "en": "Planned new visits"},
    "planned_operations": {"sv": "Planerade operationer", "en": "Planned operations"},
    "no_shows": {"sv": "Uteblivna besök", "en": "No-shows"},
    "available_slots": {"sv": "Lediga tider", "en": "Available slots"},
    # words and headings
    "clinic": {"sv": "Klinik", "en": "Clinic"},
    "clinics": {"sv": "Antal kliniker", "en": "Clinics"},
    "clinics_with_hidden_counts": {"sv": "Kliniker vars små tal är dolda (ingår inte i summorna)",
                                   "en": "Clinics whose small counts are hidden (not in the sums)"},
    "week": {"sv": "Vecka", "en": "Week"},
    "month": {"sv": "Månad", "en": "Month"},
    "year": {"sv": "År", "en": "Year"},
    "status": {"sv": "Status", "en": "Status"},
    "ok": {"sv": "klar", "en": "done"},
    "failed": {"sv": "misslyckades", "en": "failed"},
    "report": {"sv": "Rapport", "en": "Report"},
    "region_overview": {"sv": "Regionöversikt", "en": "Region overview"},
    "run_title": {"sv": "KPS-körning", "en": "KPS run"},
    "suppressed": {"sv": "<{limit}", "en": "<{limit}"},
    "queue_production_ratio_weeks": {"sv": "Köproduktionskvot (veckor)", "en": "Queue-to-production ratio (weeks)"},
    "share_over_90_days": {"sv": "Andel väntat över 90 dagar", "en": "Share waited over 90 days"},
    "projected_breaches_12w": {"sv": "Beräknat antal över 90 dagar om 12 veckor",
                               "en": "Projected over 90 days in 12 weeks"},
    "capacity_gap_12w": {"sv": "Kapacitetsglapp 12 veckor", "en": "Capacity gap, 12 weeks"},
    "purchase_need_12w": {"sv": "Köpbehov 12 veckor", "en": "Purchase need, 12 weeks"},
    "purchase_cost_12w": {"sv": "Kostnad köpt vård 12 veckor (kr)", "en": "Purchase cost, 12 weeks (SEK)"},
    "purchase_new_visits_12w": {"sv": "Köp nybesök 12 veckor", "en": "Buy first visits, 12 weeks"},
    "purchase_operations_12w": {"sv": "Köp operationer 12 veckor", "en": "Buy operations, 12 weeks"},
    "escalation": {"sv": "Eskalering", "en": "Escalation"},
    "queue_production_ratio_weeks_new_visit": {"sv": "Köproduktionskvot nybesök (veckor)",
                                               "en": "Queue-to-production ratio, first visit (weeks)"},
    "queue_production_ratio_weeks_treatment": {"sv": "Köproduktionskvot behandling (veckor)",
                                               "en": "Queue-to-production ratio, treatment (weeks)"},
    "waiting_over_90": {"sv": "Väntat över 90 dagar", "en": "Waited over 90 days"},
    "waiting_list_pressure": {"sv": "Väntelistetryck", "en": "Waiting-list pressure"},
    "queue_change_1w": {"sv": "Förändring av kön sedan förra veckan", "en": "Change in the queue since last week"},
    "escalation_level": {"sv": "Eskaleras till", "en": "Escalated to"},
    "error": {"sv": "Fel", "en": "Error"},
    "provenance": {"sv": "Om rapporten", "en": "About this report"},
    "contents": {"sv": "Innehåll", "en": "Contents"},
}


STATUS_WORDS = {
    "sv": {"green": "grön", "yellow": "gul", "red": "röd", "unit": "enheten", "clinic": "kliniken",
           "division": "divisionen", "region": "regionen"},
    "en": {"green": "green", "yellow": "yellow", "red": "red", "unit": "unit", "clinic": "clinic",
           "division": "division", "region": "region"},
}


def status_word(value, language: str = "sv") -> str:
    """Escalation status or level in the report language ("yellow" -> "gul").

    Examples
    --------
    >>> status_word("yellow"), status_word("division"), status_word(None)
    ('gul', 'divisionen', '–')
    """
    if not isinstance(value, str):
        return "–"
    return STATUS_WORDS["en" if language == "en" else "sv"].get(value, value)


def label(key: str, language: str = "sv") -> str:
    """Return the report label of ``key`` in ``language``.

    Unknown keys are returned unchanged, so a new measure never breaks a report.

    Parameters
    ----------
    key : str
        Identifier, e.g. a canonical measure name.
    language : {"sv", "en"}
        Report language.

    Returns
    -------
    str

    Examples
    --------
    >>> label("new_visits")
    'Nybesök'
    >>> label("new_visits", "en")
    'New visits'
    """
    if language not in ("sv", "en"):
        raise ValueError(f"language must be 'sv' or 'en', got {language!r}")
    entry = LABELS.get(key)
    if entry is None:
        return key
    return entry.get(language, entry["sv"])


def measure_label(columns: Iterable[str], language: str = "sv") -> dict[str, str]:
    """Mapping ``column -> label`` for renaming a table's columns for a report.

    Examples
    --------
    >>> measure_label(["clinic", "new_visits"])
    {'clinic': 'Klinik', 'new_visits': 'Nybesök'}
    """
    return {c: label(c, language) for c in columns}


#: Stage names in reports.
STAGE_NAMES = {"sv": {"new_visit": "Nybesök", "treatment": "Behandling"},
               "en": {"new_visit": "First visit", "treatment": "Treatment"}}


def stage_names(stages: pd.Series, language: str = "sv") -> pd.Series:
    """Stage identifiers (``new_visit``, ``treatment``) as report words; others unchanged."""
    return stages.map(STAGE_NAMES["sv" if language == "sv" else "en"]).fillna(stages)


#: The period of a clinic's data in words, per language: (singular, plural, definite, short).
PERIOD_WORDS = {
    "week": {"sv": ("vecka", "veckor", "veckan", "v."), "en": ("week", "weeks", "the week", "wk")},
    "month": {"sv": ("månad", "månader", "månaden", ""), "en": ("month", "months", "the month", "")},
}


def period_word(kind: str, language: str = "sv", *, plural: bool = False, definite: bool = False) -> str:
    """The period word of a report: vecka/veckor/veckan or månad/månader/månaden (sv, en).

    Every text, axis and table label that names a period goes through this, so a
    monthly clinic's report says months everywhere and a weekly one weeks.

    Examples
    --------
    >>> period_word("week"), period_word("month", plural=True), period_word("month", "en", definite=True)
    ('vecka', 'månader', 'the month')
    """
    words = PERIOD_WORDS["month" if kind == "month" else "week"]["en" if language == "en" else "sv"]
    return words[2] if definite else words[1] if plural else words[0]
