"""The region's tables and sentences for the region overview: the clinics ranked, the
region's purchase per month, the cost of planning together and the suggested moves.
"""

from __future__ import annotations

import pandas as pd

from .formatting import format_count, format_share, format_signed
from .labels import label, status_word


def region_table(summaries: pd.DataFrame, *, language: str = "sv", order: str = "pressure") -> pd.DataFrame:
    """The region's clinics formatted for a report; the queue's change since last week
    is shown with its sign.

    ``order="pressure"`` ranks them by waiting-list pressure (köproduktionskvot when it
    is missing), highest first; ``order="given"`` keeps the rows as given (the region
    overview orders them by need: escalation, then projected breaches).
    """
    cols = [c for c in ("clinic", "waiting_list_pressure", "queue_production_ratio_weeks", "share_over_90_days",
                        "queue_new_visit", "queue_treatment", "queue_change_1w", "queue_change_1p", "waiting_over_90",
                        "projected_breaches_peak_12w",
                        "purchase_need_12w", "purchase_new_visits_12w", "purchase_operations_12w",
                        "purchase_cost_12w", "escalation")
            if c in summaries.columns]
    key = "waiting_list_pressure" if "waiting_list_pressure" in cols else "queue_production_ratio_weeks"
    table = summaries[cols] if order == "given" else summaries[cols].sort_values(key, ascending=False)
    table = table.reset_index(drop=True)
    out = pd.DataFrame(index=table.index)
    for col in cols:
        if col == "clinic":
            out[label(col, language)] = table[col]
        elif col == "escalation":
            out[label(col, language)] = table[col].map(lambda v: status_word(v, language))
        elif col.startswith("share"):
            out[label(col, language)] = table[col].map(lambda v: format_share(v, language=language))
        elif col.startswith("queue_production_ratio") or "pressure" in col:
            out[label(col, language)] = table[col].map(lambda v: format_count(v, language=language, decimals=1))
        elif col in ("queue_change_1w", "queue_change_1p"):
            out[label(col, language)] = table[col].map(lambda v: format_signed(v, language=language))
        else:
            out[label(col, language)] = table[col].map(lambda v: format_count(v, language=language))
    return out.set_index(label("clinic", language))


def region_purchase_table(monthly: pd.DataFrame, *, language: str = "sv") -> pd.DataFrame:
    """The region's purchase per month (:func:`kps_analysis.summary.region_purchase_by_month`)."""
    names = {"guarantee": label("region.guarantee", language), "target": label("region.target", language)}
    rows = monthly.assign(policy=monthly["policy"].map(names).fillna(monthly["policy"]))
    return pd.DataFrame({
        label("month", language): rows["month"].astype(str),
        ("Policy"): rows["policy"],
        label("table.purchase_need", language): rows["purchase"].map(lambda v: format_count(v, language=language)),
        label("region.cost_purchased_sek", language):
            rows["cost_external_sek"].map(lambda v: format_count(v, language=language)),
        label("region.cost_in_house_sek", language):
            rows["cost_internal_sek"].map(lambda v: format_count(v, language=language)),
        label("region.clinics_buying", language): rows["clinics"],
    }).set_index(label("month", language))


def region_cost_text(optimised_sek: float, separate_sek: float, *, language: str = "sv") -> str:
    """One sentence comparing the regional plan's cost with the clinics' separate purchases.

    Examples
    --------
    >>> print(region_cost_text(900.0, 1000.0))  # doctest: +NORMALIZE_WHITESPACE
    Gemensam planering kostar 900 kr de kommande 12 veckorna mot 1\xa0000 kr om varje klinik köper för sig
    (100 kr mindre).
    """
    saving = separate_sek - optimised_sek
    a, b, c = (format_count(v, language=language) for v in (optimised_sek, separate_sek, saving))
    lang = "en" if language == "en" else "sv"
    if round(saving) == 0:   # not "X kr against X kr (0 kr less)"
        return label("region.cost_same", lang, together=a)
    return label("region.cost_together", lang, together=a, separate=b, saving=c)


def moves_table(moves: pd.DataFrame, *, language: str = "sv") -> pd.DataFrame:
    """Suggested moves between hospitals (:func:`kps_analysis.outlook.move_summary`)."""
    if moves.empty:
        return pd.DataFrame({label('region.suggestion', language): [label("region.no_moves_needed", language)]})
    stages = {"new_visit": label("region.first_visit", language), "treatment": label("region.treatment", language)}
    return pd.DataFrame({
        label("region.from", language): moves["clinic_from"],
        label("region.to", language): moves["clinic_to"],
        label("table.stage", language): moves["stage"].map(stages).fillna(moves["stage"]),
        label("table.patients", language): moves["patients"].map(lambda v: format_count(v, language=language)),
        label("region.first_week", language): moves["first_week"],
    }).set_index(label("region.from", language))
