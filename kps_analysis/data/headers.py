"""Column headers: the accepted spellings of each column and how headers are matched.

Part of :mod:`kps_analysis.data`; see its docstring for the canonical frames.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping

# ============================================================================ headers
_ID_HEADERS: dict[str, tuple[str, ...]] = {
    "clinic": ("Klinik", "Klinik-id", "Verksamhet", "Verksamhetsområde", "Clinic", "Clinic id",
               "Department", "Specialty clinic"),
    "group": ("Grupp", "Team", "Vårdteam", "Diagnosgrupp", "Diagnos", "Åtgärdsgrupp",
              "Operationsgrupp", "Undergrupp", "Sektion", "Enhet", "Mottagning", "Group",
              "Team name", "Diagnosis group", "Procedure group", "Subgroup", "Section", "Unit"),
    "period:week": ("Vecka", "Veckonummer", "Veckonr", "Vecka nr", "År-vecka", "ISO-vecka",
                    "Veckostart", "Vecka start", "Vecka slut", "Week", "Week number", "Week no",
                    "ISO week", "Year-week", "Week start", "Week starting", "Week beginning",
                    "Week ending", "Week end"),
    "period:month": ("Månad", "Månadsnummer", "År-månad", "Month", "Month number", "Year-month"),
    "period": ("Period", "Tidsperiod", "Datum", "Date"),
    "year": ("År", "Year", "ISO-år", "ISO year"),
}

_MEASURE_HEADERS: dict[str, tuple[str, ...]] = {
    "referrals_in": ("Remisser in", "Inkomna remisser", "Remisser", "Remissinflöde", "Nya remisser",
                     "Antal remisser", "Remisser inkomna", "Ankomna remisser", "Referrals in",
                     "Referrals", "Referrals received", "New referrals", "Referral inflow"),
    "referrals_forwarded": ("Vidarebefordrade remisser", "Vidarebefordrade", "Remisser vidarebefordrade",
                            "Vidareremitterade", "Referrals forwarded", "Forwarded referrals",
                            "Forwarded"),
    "removals_new_visit_other": ("Avförda ur nybesökskö", "Avförda nybesökskö", "Avförda nybesök",
                                 "Avförda före nybesök", "Övriga avförda nybesök",
                                 "Removals new visit", "Removals before first visit",
                                 "Removed before first visit"),
    "new_visits": ("Nybesök", "Nya besök", "Förstabesök", "Första besök", "Nybesök egen regi",
                   "New visits", "First visits", "First appointments", "New appointments"),
    "return_visits": ("Återbesök", "Return visits", "Follow-up visits", "Follow ups"),
    "emergency_visits": ("Akuta besök", "Akutbesök", "Emergency visits", "Acute visits",
                         "Urgent visits"),
    "treatment_decisions": ("Behandlingsbeslut", "Beslut om behandling", "Beslutade behandlingar",
                            "Operationsbeslut", "Treatment decisions", "Decisions to treat",
                            "Decision to treat"),
    "removals_treatment_other": ("Avförda ur behandlingskö", "Avförda behandlingskö",
                                 "Avförda behandling", "Övriga avförda behandling",
                                 "Removals treatment", "Removals from treatment queue"),
    "operations_elective": ("Elektiva operationer", "Operationer", "Elektiva ingrepp",
                            "Operationer elektiva", "Operationer egen regi", "Elective operations",
                            "Operations", "Elective surgery", "Elective procedures"),
    "operations_acute": ("Akuta operationer", "Akutoperationer", "Akuta ingrepp", "Operationer akuta",
                         "Acute operations", "Emergency operations", "Emergency surgery"),
    "bed_days": ("Vårddagar", "Vårddygn", "Beläggningsdagar", "Bed days", "Inpatient days"),
    "queue_new_visit": ("Väntande nybesök", "Väntande", "Kö nybesök", "Nybesökskö",
                        "Väntande på nybesök", "Väntelista nybesök", "Kö", "Queue new visit",
                        "Waiting new visit", "Waiting first visit", "New visit queue", "Queue"),
    "queue_treatment": ("Väntande behandling", "Kö behandling", "Behandlingskö", "Väntande operation",
                        "Väntande operationer", "Operationskö", "Kö operation",
                        "Väntande på behandling", "Queue treatment", "Waiting treatment",
                        "Treatment queue", "Waiting for treatment", "Waiting operation"),
    "queue_return_unbooked": ("Ej bokade återbesök", "Obokade återbesök", "Återbesök ej bokade",
                              "Väntande återbesök", "Återbesökskö", "Planeringslista återbesök",
                              "Unbooked return visits", "Return visits unbooked"),
    "waiting_over_90_new_visit": ("Väntat över 90 dagar nybesök", "Väntat >90 dagar nybesök",
                                  "Väntat mer än 90 dagar nybesök", "Över 90 dagar nybesök",
                                  "Nybesök över 90 dagar", "Väntande nybesök över 90 dagar",
                                  "Waiting over 90 days new visit", "Over 90 days new visit",
                                  "New visit over 90 days"),
    "waiting_over_90_treatment": ("Väntat över 90 dagar behandling", "Väntat >90 dagar behandling",
                                  "Väntat mer än 90 dagar behandling", "Över 90 dagar behandling",
                                  "Behandling över 90 dagar", "Väntande behandling över 90 dagar",
                                  "Väntat över 90 dagar operation", "Waiting over 90 days treatment",
                                  "Over 90 days treatment", "Treatment over 90 days"),
    "purchased_new_visits": ("Köpt vård nybesök", "Köpt vård", "Köpta nybesök", "Externa nybesök",
                             "Nybesök köpt vård", "Purchased new visits", "External new visits",
                             "Outsourced new visits"),
    "purchased_operations": ("Köpt vård operationer", "Köpta operationer", "Externa operationer",
                             "Operationer köpt vård", "Köpt vård behandling", "Purchased operations",
                             "External operations", "Outsourced operations"),
    "planned_new_visits": ("Planerade nybesök", "Plan nybesök", "Nybesök plan", "Planned new visits",
                           "Plan new visits"),
    "planned_operations": ("Planerade operationer", "Plan operationer", "Operationer plan",
                           "Planned operations", "Plan operations"),
    "no_shows": ("Uteblivna besök", "Uteblivna", "Uteblivit", "Uteblivna patienter", "No shows",
                 "No-show", "Did not attend", "DNA"),
    "available_slots": ("Lediga tider", "Obokade tider", "Lediga", "Outnyttjade tider",
                        "Available slots", "Free slots", "Unbooked slots", "Unused slots"),
}

HEADER_ALIASES: dict[str, tuple[str, ...]] = {**_ID_HEADERS, **_MEASURE_HEADERS}
"""Column role -> accepted headers of weekly/monthly files (the canonical name is always
accepted too).  Roles: ``clinic``, ``group``, ``period:week``, ``period:month``,
``period`` (weekly or monthly, decided from the labels), ``year`` (with week or month
numbers in the period column) and every name in :data:`MEASURES`."""

EXTRACT_ALIASES: dict[str, tuple[str, ...]] = {
    "patient_id": ("Patient-id", "Patientid", "Patient", "Pat-id", "Löpnummer", "Löpnr", "Id",
                   "Pseudonym", "Pseudonymiserat id", "Patient ID", "Record id"),
    "clinic": _ID_HEADERS["clinic"],
    "group": _ID_HEADERS["group"],
    "priority": ("Prioritet", "Prio", "Medicinsk prioritet", "Prioritetsgrupp", "Prioritetsgrad",
                 "Priority", "Clinical priority"),
    "referral_date": ("Remissdatum", "Remissankomstdatum", "Remiss ankomstdatum", "Ankomstdatum",
                      "Remiss inkom", "Inkomstdatum", "Remiss ankommen", "Ankomstdatum remiss",
                      "Registreringsdatum", "Vårdbegäran datum", "Referral date", "Referral received",
                      "Date referred", "Referral received date"),
    "first_visit_date": ("Besöksdatum", "Nybesöksdatum", "Nybesök datum", "Datum nybesök",
                         "Första besök", "Förstabesöksdatum", "Första besöksdatum", "Besök datum",
                         "Datum första besök", "First visit date", "Visit date", "First visit",
                         "First appointment"),
    "decision_date": ("Beslutsdatum", "Beslut om operation", "Beslut om behandling", "Behandlingsbeslut",
                      "Behandlingsbeslutsdatum", "Datum behandlingsbeslut", "Beslut datum",
                      "Datum beslut", "Operationsbeslut", "Operationsbeslutsdatum", "Beslut om op",
                      "Op-beslut", "Decision date", "Decision to treat date", "Decision to treat",
                      "Treatment decision date"),
    "treatment_date": ("Behandlingsdatum", "Operationsdatum", "Op-datum", "Opdatum", "Åtgärdsdatum",
                       "Datum behandling", "Datum operation", "Opererad", "Opererad datum",
                       "Treatment date", "Operation date", "Surgery date"),
    "removal_date": ("Avförd datum", "Avförandedatum", "Avförd", "Datum avförd", "Borttagen datum",
                     "Avregistrerad", "Avregistreringsdatum", "Removal date", "Removed date",
                     "Date removed"),
    "removal_reason": ("Avförandeorsak", "Avförd orsak", "Avförd anledning", "Orsak avförd",
                       "Orsak avförande", "Orsak", "Avförandekod", "Avregistreringsorsak",
                       "Removal reason", "Reason removed", "Reason"),
    "external": ("Extern", "Externt", "Köpt vård", "Köpt", "Extern vårdgivare", "External",
                 "Purchased", "Outsourced"),
    "patient_chosen_wait": ("Patientvald väntan", "Patientvald väntetid", "Patientvald", "PVV",
                            "Patient chosen wait", "Patient choice"),
}
"""Column -> accepted headers of waiting-list extracts (canonical names accepted too).

A column headed ``Personnummer`` (or another of :data:`PERSONAL_ID_HEADERS`) is accepted
too: it is never carried into a result; without a patient id column its numbers become
pseudonyms (``P0000001``...) for the duplicate check only."""

_PERSONAL_ID_HEADERS = ("Personnummer", "Personnr", "Pnr", "Person nr", "Samordningsnummer",
                        "Reservnummer", "Personal identity number", "Person number", "SSN")
PERSONAL_ID_HEADERS = _PERSONAL_ID_HEADERS
"""Headers of personal identity number columns: read only as pseudonyms, never carried."""

PERIOD_ROLES = ("period:week", "period:month", "period")


def normalise_header(name) -> str:
    """Normalise a column header for matching: case, spaces, punctuation, å/ä/ö.

    Letters are case-folded and stripped of diacritics (å, ä -> a; ö -> o), and every
    character that is not a letter or digit is dropped.

    Parameters
    ----------
    name : object
        A header cell. [text]

    Returns
    -------
    str
        The normalised key.

    Examples
    --------
    >>> normalise_header(" Väntat >90 dagar, NYBESÖK ")
    'vantat90dagarnybesok'
    >>> normalise_header("queue_new_visit") == normalise_header("Queue new-visit")
    True
    """
    text = unicodedata.normalize("NFKD", str(name)).casefold()
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("ø", "o").replace("æ", "ae").replace("ß", "ss")
    return re.sub(r"[^0-9a-z]+", "", text)


def _build_lookup(*tables: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for table in tables:
        for role, aliases in table.items():
            names = aliases if ":" in role else (role, *aliases)
            for alias in names:
                key = normalise_header(alias)
                if lookup.setdefault(key, role) != role:
                    raise RuntimeError(f"header alias {alias!r} means both {lookup[key]} and {role}")
    return lookup


WEEKLY_LOOKUP = _build_lookup(HEADER_ALIASES)
EXTRACT_LOOKUP = _build_lookup(EXTRACT_ALIASES)
_PERSONAL_KEYS = frozenset(normalise_header(h) for h in _PERSONAL_ID_HEADERS)


def _build_spelling(*tables: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    """Normalised header -> the header as written in the alias table (for suggestions)."""
    spelling: dict[str, str] = {}
    for table in tables:
        for role, aliases in table.items():
            for alias in (aliases if ":" in role else (*aliases, role)):
                spelling.setdefault(normalise_header(alias), alias)
    return spelling


_WEEKLY_SPELLING = _build_spelling(HEADER_ALIASES)
_EXTRACT_SPELLING = _build_spelling(EXTRACT_ALIASES)
_MOJIBAKE = re.compile("\u00c3[\u0080-\u00bf\u2026\u201e\u2013\u0161\u0152\u2020\u02c6]|\u00e2\u20ac")


_GARBLED_NOTE = (" (headers such as 'NybesÃ¶k' are garbled: the file was saved twice in different "
                 "encodings; export it again as 'CSV UTF-8')")


def _close_header(header, lookup, spelling, *, roles=None, taken=()):
    """The accepted header closest to a misspelt one ('Nybeök' -> 'Nybesök'), or None.

    ``roles`` limits the candidates to some column roles; ``taken`` leaves out roles the
    file already has.
    """
    key = normalise_header(header)
    if len(key) < 4:
        return None
    keys = [k for k in spelling if lookup.get(k) not in taken and (roles is None or lookup.get(k) in roles)]
    match = difflib.get_close_matches(key, keys, n=1, cutoff=0.8)
    return spelling[match[0]] if match else None


def _header_hints(headers, lookup, spelling, **kw) -> str:
    """'; did you mean 'Vecka' for 'Veckka'?' for the misspelt ones among ``headers``."""
    pairs = [(h, _close_header(h, lookup, spelling, **kw)) for h in headers]
    if len(pairs) == 1:
        shown = [repr(s) for _, s in pairs if s is not None]
    else:
        shown = [f"{s!r} for {h!r}" for h, s in pairs if s is not None]
    text = f"; did you mean {', '.join(shown)}?" if shown else ""
    if any(_MOJIBAKE.search(str(h)) for h in headers):
        text += _GARBLED_NOTE
    return text
