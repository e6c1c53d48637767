"""The translation catalogue: every word of a report in Swedish (default) and English.

One function, :func:`label`, gives every text of the clinic report, the region overview,
the result tables and the workbooks: ``label(key, language, **fields)``. The catalogue is

- :data:`LABELS`: the labels of measures and headline figures, keyed by their column
  name (``"new_visits"`` -> "Nybesök"), and a few headings; an unknown key is returned
  unchanged, so a new measure never breaks a report;
- :data:`TEXTS`: every other text, keyed ``<area>.<name>`` (``"table.stage"`` -> "Steg",
  ``"plan.queue_grows"`` -> "Kön växer ({signed} sedan förra veckan)."), placeholders
  filled from ``fields``;
- word tables for values: :data:`STATUS_WORDS` (:func:`status_word`), :data:`STAGE_NAMES`
  (:func:`stage_names`), :data:`PERIOD_WORDS` (:func:`period_word`), :data:`WEEK_TO_MONTH`
  (:func:`kps_analysis.sections.in_periods`); the long section texts
  are :data:`kps_analysis.report.section_texts.SECTIONS` (:func:`~kps_analysis.report.section`).

Every entry has both languages with the same placeholders (``tests/test_report.py`` checks
it, and that no module of the package, subpackages included, chooses between two inline texts,
keeps a ``{"sv": ..., "en": ...}`` table of texts or an ``if language == "en":`` returning one).

In any module (``sections.py``, ``plots.py``, ``calendar.py`` as much as this package): write
no ``"…" if sv else "…"``, no ``{"sv": "…", "en": "…"}`` and no ``if language == "en": return "…"``;
add the text here, under a key of its area (``section.<name>`` for
the report's sections, ``plot.<name>`` for figure titles, axes, legends and alt texts,
``list.<name>`` for words that join lists), with both languages and ``{placeholders}`` for
numbers, and call ``label("plot.patients", language)`` or
``label("section.card_waited_over", language, days=days)`` (``from kps_analysis.report import
label``). Numbers are formatted before they are filled in
(:func:`kps_analysis.report.format_count`), so a text never formats a number itself.

The modules the report package itself reads (``calendar``, ``parameters``, ``planning``,
``plan``) import the catalogue inside their functions, and their public tables of texts
(``calendar.SEASON_NAMES``, ``parameters.CAPABILITIES``, ``planning.ESCALATION_RULE``,
``plan.PLAN_SHEET``) are views of it read when first used.
"""

from __future__ import annotations

import re
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
    "table.hidden": {"sv": "dolt", "en": "hidden"},
    "queue_production_ratio_weeks": {"sv": "Köproduktionskvot (veckor)", "en": "Queue-to-production ratio (weeks)"},
    "share_over_90_days": {"sv": "Andel väntat över 90 dagar", "en": "Share waited over 90 days"},
    # the count in week 12, beside the peak over the 12 weeks that the report's cards and the index show
    "projected_breaches_12w": {"sv": "Över 90 dagar i vecka 12 om inget köps",
                               "en": "Over 90 days in week 12 if nothing is bought"},
    "projected_breaches_peak_12w": {"sv": "Över 90 dagar inom 12 veckor om inget köps, högsta",
                                    "en": "Over 90 days within 12 weeks if nothing is bought, peak"},
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
    "queue_change_1p": {"sv": "Förändring av kön sedan förra perioden (vecka, eller månad för månadsdata)",
                        "en": "Change in the queue since the last period (week, or month for monthly data)"},
    "escalation_level": {"sv": "Eskaleras till", "en": "Escalated to"},
    "error": {"sv": "Fel", "en": "Error"},
    "provenance": {"sv": "Om rapporten", "en": "About this report"},
    "contents": {"sv": "Innehåll", "en": "Contents"},
}


#: Every other text of a report, a result table, a workbook and their sentences, keyed
#: ``<area>.<name>`` (a dot, so no key is a column name), in Swedish and English; placeholders
#: ``{name}`` are filled by :func:`label`'s keyword arguments.
TEXTS: dict[str, dict[str, str]] = {
    # clinic tables (report.tables)
    "table.actual_year_to_date": {"sv": "Utfall hittills i år", "en": "Actual, year to date"},
    "table.against_last_year": {"sv": "Mot i fjol %", "en": "Against last year %"},
    "table.baseline": {"sv": "Nuläge", "en": "Baseline"},
    "table.bottleneck": {"sv": "Flaskhals", "en": "Bottleneck"},
    "table.capacity_first_visits": {"sv": "Kapacitet nybesök", "en": "Capacity, first visits"},
    "table.capacity_operations": {"sv": "Kapacitet operationer", "en": "Capacity, operations"},
    "table.change_in_purchase": {"sv": "Ändring köpbehov", "en": "Change in purchase"},
    "table.chose_to_wait_longer": {"sv": "Har valt att vänta längre", "en": "Chose to wait longer"},
    "table.cost_sek": {"sv": "Kostnad (kr)", "en": "Cost (SEK)"},
    "table.cost_sek_lower": {"sv": "kostnad (kr)", "en": "cost (SEK)"},
    "table.deviation": {"sv": "Avvikelse %", "en": "Deviation %"},
    "table.first_visits": {"sv": "Nybesök", "en": "First visits"},
    "table.fixed": {"sv": "fastställd", "en": "fixed"},
    "table.guarantee": {"sv": "Vårdgaranti", "en": "Guarantee"},
    "table.inflow": {"sv": "Inflöde", "en": "Inflow"},
    "table.level": {"sv": "Nivå", "en": "Level"},
    "table.deviation_colour": {"sv": "Avvikelsens färg", "en": "Deviation colour"},
    "table.handled_by": {"sv": "Hanteras av", "en": "Handled by"},
    "table.load": {"sv": "Belastning", "en": "Load"},
    "table.measure": {"sv": "Mått", "en": "Measure"},
    "table.median_days": {"sv": "Median (dagar)", "en": "Median (days)"},
    "table.operations": {"sv": "Operationer", "en": "Operations"},
    "table.over_90_days_without_purchase": {"sv": "Över 90 dagar utan köp", "en": "Over 90 days without purchase"},
    "table.own_capacity": {"sv": "Egen kapacitet", "en": "Own capacity"},
    "table.p90_days": {"sv": "90:e percentil (dagar)", "en": "90th percentile (days)"},
    "table.p_no_breach": {"sv": "Sannolikhet att ingen passerar 90 dagar", "en": "Probability nobody passes 90 days"},
    "table.patients": {"sv": "Patienter", "en": "Patients"},
    "table.plan_year_to_date": {"sv": "Plan hittills i år", "en": "Plan, year to date"},
    "table.planned": {"sv": "preliminär", "en": "planned"},
    "table.purchase_for_certainty": {"sv": "Köp för {q} % säkerhet", "en": "Purchase for {q} % certainty"},
    "table.purchase_need": {"sv": "Köpbehov", "en": "Purchase need"},
    "table.purchase_operations": {"sv": "Köp operationer", "en": "Purchase, operations"},
    "table.share_over_limit": {"sv": "Andel över gränsen", "en": "Share over limit"},
    "table.stage": {"sv": "Steg", "en": "Stage"},
    "table.target": {"sv": "Målnivå", "en": "Target"},
    "table.value": {"sv": "Värde", "en": "Value"},
    "table.waiting_counted": {"sv": "Väntande som räknas mot garantin", "en": "Waiting, counted against the guarantee"},
    "table.waiting_time_days": {"sv": "Väntetid (dagar)", "en": "Waiting time (days)"},
    "table.yes": {"sv": "ja", "en": "yes"},
    # what changed since last week (report.tables.changes_table)
    "changes.change": {"sv": "Förändring", "en": "Change"},
    "changes.last_week": {"sv": "Förra veckan", "en": "Last week"},
    "changes.note": {"sv": "Anmärkning", "en": "Note"},
    "changes.this_week": {"sv": "Denna vecka", "en": "This week"},
    "changes.unusual_down": {"sv": "ovanligt stor minskning", "en": "unusually large decrease"},
    "changes.unusual_up": {"sv": "ovanligt stor ökning", "en": "unusually large increase"},
    "changes.usual": {"sv": "Snitt fyra veckor före", "en": "Mean of the four weeks before"},
    # conversion rates (report.tables.rates_table)
    "rates.bed_days_per_operation": {"sv": "Vårddagar per operation (medelvårdtid)", "en": "Bed days per operation"},
    "rates.decisions_per_new_visit": {
        "sv": "Behandlingsbeslut per nybesök",
        "en": "Decisions to treat per first visit",
    },
    "rates.forwarded_share": {"sv": "Andel remisser vidarebefordrade", "en": "Share of referrals forwarded"},
    "rates.latest_52_weeks": {"sv": "Senaste året", "en": "Latest year"},
    "rates.no_show_rate": {"sv": "Andel uteblivna besök", "en": "No-show rate"},
    "rates.return_visits_per_new_visit": {"sv": "Återbesök per nybesök", "en": "Return visits per first visit"},
    # the key figures (report.plan.KEY_FIGURES)
    "key_figure.queue_new_visit": {"sv": "Väntar på nybesök (patienter)", "en": "Waiting for a first visit (patients)"},
    "key_figure.queue_treatment": {"sv": "Väntar på behandling (patienter)", "en": "Waiting for treatment (patients)"},
    "key_figure.queue_change_1w": {
        "sv": "Förändring av köerna sedan förra veckan",
        "en": "Change of the queues since last week",
    },
    "key_figure.share_over_90_days": {
        "sv": "Andel som väntat över 90 dagar (egna val undantagna)",
        "en": "Share waited over 90 days (chosen waits left out)",
    },
    "key_figure.waiting_chosen": {
        "sv": "Väntar längre av eget val (ingår i köerna, inte i andelen)",
        "en": "Waiting longer by choice (in the queues, not in the share)",
    },
    "key_figure.queue_production_ratio_weeks": {
        "sv": "Köproduktionskvot, sämsta steget (veckor)",
        "en": "Queue-to-production ratio, worse stage (weeks)",
    },
    "key_figure.projected_breaches_peak_12w": {
        "sv": "Över 90 dagar inom 12 veckor om inget köps, högsta (patienter)",
        "en": "Over 90 days within 12 weeks if nothing is bought, peak (patients)",
    },
    "key_figure.projected_breaches_12w": {"sv": "… i vecka 12 (patienter)", "en": "… in week 12 (patients)"},
    "key_figure.breaches_after_purchase_peak_12w": {
        "sv": "Över 90 dagar innan köpt vård hinner börja (ledtiden), högsta (patienter)",
        "en": "Over 90 days before purchased care can start (lead time), peak (patients)",
    },
    "key_figure.purchase_new_visits_12w": {
        "sv": "Köp nybesök 12 veckor (patienter)",
        "en": "Buy first visits, 12 weeks (patients)",
    },
    "key_figure.purchase_cost_new_visits_12w": {"sv": "… kostnad (kr)", "en": "… cost (SEK)"},
    "key_figure.purchase_operations_12w": {
        "sv": "Köp operationer 12 veckor (patienter)",
        "en": "Buy operations, 12 weeks (patients)",
    },
    "key_figure.purchase_cost_operations_12w": {"sv": "… kostnad (kr)", "en": "… cost (SEK)"},
    "key_figure.first_order_by": {"sv": "Första köpet ska beställas senast", "en": "First purchase to be ordered by"},
    "key_figure.capacity_gap_12w": {
        "sv": "Kapacitetsglapp 12 veckor: behov för vårdgarantin − egen kapacitet (patienter)",
        "en": "Capacity gap, 12 weeks: need to keep the guarantee − own capacity (patients)",
    },
    "key_figure.p_no_breach_12w": {
        "sv": "Chans att ingen passerar 90 dagar med planerat köp (från ledtidens slut till vecka 12)",
        "en": "Chance nobody passes 90 days with the planned purchase (from the end of the lead time to week 12)",
    },
    "key_figure.escalation": {"sv": "Eskalering", "en": "Escalation"},
    "key_figure.escalation_level": {"sv": "Eskaleras till", "en": "Escalated to"},
    # the planning model's tables and sentences (report.plan)
    "plan.actual": {"sv": "Utfall", "en": "Actual"},
    "plan.against_last_year": {"sv": "Mot i fjol", "en": "Against last year"},
    "plan.against_plan": {"sv": "Mot plan", "en": "Against plan"},
    "plan.against_the_care_agreement": {"sv": "Mot vårdöverenskommelsen", "en": "Against the care agreement"},
    "plan.and": {"sv": " och ", "en": " and "},
    "plan.chance_nobody_passes_90_d": {"sv": "Chans att ingen passerar 90 d", "en": "Chance nobody passes 90 d"},
    "plan.chance_nobody_passes_90_d_lower": {"sv": "chans att ingen passerar 90 d", "en": "chance nobody passes 90 d"},
    "plan.change_of_purchase": {"sv": "Ändring av köpet", "en": "Change of purchase"},
    "plan.common_waiting_list": {"sv": "Gemensam väntelista: ", "en": "Common waiting list: "},
    "plan.cost_bought_sek": {"sv": "Kostnad köpt (kr)", "en": "Cost bought (SEK)"},
    "plan.data_quality": {"sv": "Datakvalitet", "en": "Data quality"},
    "plan.demonstrated_last_8_normal_weeks": {
        "sv": "Visad produktion, senaste 8 normala veckor",
        "en": "Demonstrated, last 8 normal weeks",
    },
    "plan.demonstrated_production": {"sv": "visad produktion", "en": "demonstrated production"},
    "plan.difference": {"sv": "Skillnad", "en": "Difference"},
    "plan.differs_by_more_than": {"sv": "avviker mer än ", "en": "differs by more than "},
    "plan.escalated_to": {"sv": "eskaleras till", "en": "escalated to"},
    "plan.first_visit": {"sv": "Nybesök", "en": "First visit"},
    "plan.first_visits": {"sv": "nybesök", "en": "first visits"},
    "plan.from_resources_per_normal_week": {
        "sv": "Enligt resurser (per normal vecka)",
        "en": "From resources (per normal week)",
    },
    "plan.from_week": {"sv": "från", "en": "from"},
    "plan.kind": {"sv": "Slag", "en": "Kind"},
    "plan.latest_week_plan_actual": {"sv": "Senaste veckan: plan / utfall", "en": "Latest week: plan / actual"},
    "plan.lead_time": {
        "sv": "Köp tar {lead} veckor att ordna, så upp till **{n} patienter** passerar 90 dagar under de närmaste "
              "{lead} veckorna innan köpt vård kan ta emot dem. Det som fortfarande kan hindra det: extra "
              "mottagningstider eller operationspass i egen regi, eller flytt till ett annat sjukhus i regionen med "
              "ledig kapacitet (klinikens egen outnyttjade kapacitet under ledtiden: {spare_text}).",
        "en": "A purchase takes {lead} weeks to arrange, so up to **{n} patients** pass 90 days in the next {lead} "
              "weeks before purchased care can take them. What can still prevent it: extra clinic slots or theatre "
              "sessions in-house, or a move to another hospital of the region with spare capacity (the clinic's own "
              "unused capacity in the lead time: {spare_text}).",
    },
    "plan.totals_week": {"sv": "Veckosummor", "en": "Weekly totals"},
    "plan.totals_month": {"sv": "Månadssummor", "en": "Monthly totals"},
    "plan.aggregate_order": {
        "sv": "**{totals}:** kliniken lämnar inte väntetiden per patient. De som enligt data redan har väntat "
              "över {days} dagar antas vänta av skäl som inte syns i data (som patienter med lägre medicinsk "
              "prioritet): planen tar dem efter dem som väntat kortare, så de ligger kvar tills de köps eller kön "
              "inom gränsen är avklarad, även när den egna kapaciteten räcker till fler.",
        "en": "**{totals}:** the clinic does not report each patient's wait. Those the data report as already "
              "past {days} days are taken to wait for reasons the data do not show (as patients of a lower medical "
              "priority): the plan serves them after those who have waited less, so they remain until they are "
              "bought or the queue within the limit is cleared, even where the clinic's own capacity could take "
              "more.",
    },
    "plan.lead_time_none": {
        "sv": "Inga patienter passerar 90 dagar innan ett köp hinner ordnas.",
        "en": "No patient passes 90 days before a purchase can be arranged.",
    },
    "plan.moved_to": {"sv": "flyttas till", "en": "moved to"},
    "plan.moves_tail": {
        "sv": " i stället för att köpas; de ingår i planen, och planens köp är det som återstår.",
        "en": " instead of being bought; they are in the plan, and the plan's purchase is what remains.",
    },
    "plan.no_history": {
        "sv": ("Ingen period av en tidigare körnings fastställda plan har passerat ännu; uppföljningen mot den "
               "börjar när den första har gått. Tabellen nedan följer de planerade volymerna i data."),
        "en": ("No period of an earlier run's fixed plan has passed yet; the follow-up against it starts once "
               "the first is over. The table below follows the planned volumes in the data."),
    },
    "plan.no_moves": {
        "sv": "Inga patienter flyttas till eller från andra sjukhus i planen.",
        "en": "No patients are moved to or from other hospitals in the plan.",
    },
    "plan.nothing_to_buy": {"sv": "Inget köp behövs.", "en": "Nothing to buy."},
    "plan.nothing_to_buy_12w": {
        "sv": "Den egna kapaciteten räcker för att hålla vårdgarantin de kommande 12 veckorna; inget köp behövs.",
        "en": "Own capacity keeps the guarantee over the coming 12 weeks; nothing needs to be bought.",
    },
    "plan.operations": {"sv": "operationer", "en": "operations"},
    "plan.order_by": {
        "sv": ("Köp {joined} de kommande 12 veckorna för att hålla vårdgarantin; den första beställningen "
               "senast {by}, de senare enligt tabellen över köpt vård."),
        "en": ("Buy {joined} over the coming 12 weeks to keep the guarantee; the first order by {by}, the "
               "later ones as the table of purchased care says."),
    },
    "plan.order_by_week": {"sv": "Beställ senast vecka", "en": "Order by week"},
    "plan.over_90_d": {"sv": "Över 90 d", "en": "Over 90 d"},
    "plan.over_90_days_if_nothing_is_bought_peak": {
        "sv": "Över 90 dagar om inget köps, högsta",
        "en": "Over 90 days if nothing is bought, peak",
    },
    "plan.own_production": {"sv": "Egen produktion", "en": "Own production"},
    "plan.patients": {"sv": "patienter", "en": "patients"},
    "plan.planned_on": {"sv": "Planeras på", "en": "Planned on"},
    "plan.planned_purchase": {"sv": "Planerat köp", "en": "Planned purchase"},
    "plan.purchase": {"sv": "Köp", "en": "Purchase"},
    "plan.purchase_patients": {"sv": "Köp (patienter)", "en": "Purchase (patients)"},
    "plan.queue_at_week_end": {"sv": "Kö vid veckans slut (utan egna val)",
                               "en": "Queue at week end (chosen waits out)"},
    "plan.queue_grows": {
        "sv": "Kön växer ({signed} sedan förra veckan).",
        "en": "The queue grows ({signed} since last week).",
    },
    "plan.queue_shrinks": {
        "sv": "Kön minskar ({signed} sedan förra veckan).",
        "en": "The queue shrinks ({signed} since last week).",
    },
    "plan.resources": {"sv": "resurserna", "en": "resources"},
    "plan.same_volume_in_house_sek": {"sv": "Samma volym i egen regi (kr)", "en": "Same volume in-house (SEK)"},
    "plan.same_weeks_last_year": {"sv": "Samma veckor i fjol", "en": "Same weeks last year"},
    "plan.demonstrated_normal_months_per_week": {"sv": "Visad produktion per vecka, senaste normala månader",
                                                 "en": "Demonstrated per week, latest normal months"},
    "plan.same_months_last_year_per_week": {"sv": "Samma månader i fjol, per vecka",
                                            "en": "Same months last year, per week"},
    "plan.taken_over_from": {"sv": "tas emot från", "en": "taken over from"},
    "plan.the_plan_baseline": {"sv": "Planen (nuläge)", "en": "The plan (baseline)"},
    "plan.treatment": {"sv": "Operationer", "en": "Operations"},
    "plan.waited_over_90": {
        "sv": "{count} patienter har väntat över 90 dagar ({share}).",
        "en": "{count} patients have waited over 90 days ({share}).",
    },
    "plan.year_to_date_fixed_plan": {"sv": "Hittills i år: fastställd plan", "en": "Year to date: fixed plan"},
    # the region overview (report.region)
    "region.clinics_buying": {"sv": "Kliniker som köper", "en": "Clinics buying"},
    "region.cost_in_house_sek": {"sv": "Kostnad i egen regi (kr)", "en": "Cost in-house (SEK)"},
    "region.cost_purchased_sek": {"sv": "Kostnad köpt vård (kr)", "en": "Cost purchased (SEK)"},
    "region.first_visit": {"sv": "nybesök", "en": "first visit"},
    "region.first_week": {"sv": "Första veckan", "en": "First week"},
    "region.from": {"sv": "Från", "en": "From"},
    "region.guarantee": {"sv": "vårdgaranti", "en": "guarantee"},
    "region.no_moves_needed": {"sv": "Inga flyttar behövs.", "en": "No moves needed."},
    "region.suggestion": {"sv": "Förslag", "en": "Suggestion"},
    "region.target": {"sv": "målnivå", "en": "target"},
    "region.to": {"sv": "Till", "en": "To"},
    "region.treatment": {"sv": "operationer", "en": "operations"},
    "region.cost_same": {
        "sv": ("Köpt vård kostar regionen {together} kr de kommande 12 veckorna; gemensam planering ändrar inte "
               "den kostnaden."),
        "en": "Purchased care costs the region SEK {together} over the coming 12 weeks; planning together does "
              "not change that."},
    "region.cost_later": {
        "sv": "Flyttarna längre fram i planen, efter de 12 fastställda veckorna, sparar ytterligare {saving} kr.",
        "en": "The moves later in the plan, after the 12 fixed weeks, save another SEK {saving}."},
    # after "planning together does not change that cost": a saving of their own, not "another"
    "region.cost_later_only": {
        "sv": "Flyttarna längre fram i planen, efter de 12 fastställda veckorna, sparar {saving} kr.",
        "en": "The moves later in the plan, after the 12 fixed weeks, save SEK {saving}."},
    "region.cost_together": {
        "sv": ("Gemensam planering kostar {together} kr de kommande 12 veckorna mot {separate} kr om varje klinik "
               "köper för sig ({saving} kr mindre)."),
        "en": ("Planning together costs SEK {together} over the coming 12 weeks against SEK {separate} if every "
               "clinic buys on its own (SEK {saving} less).")},
    # sentences (report.sentences)
    "sentence.data_up_to_week": {"sv": "data till och med vecka", "en": "data up to week"},
    "sentence.forecast_accuracy": {
        "sv": "Modell: {name}. Provad på de senaste två åren var prognosen {horizon} veckor framåt i genomsnitt "
              "{wape} % fel (att jämföra med {naive} % för samma vecka i fjol); utfallet låg inom det ljusare fältet "
              "{cover} % av veckorna.",
        "en": "Model: {name}. Tested on the past two years, the forecast {horizon} weeks ahead was on average "
              "{wape} % off (against {naive} % for the same week last year); the outcome fell within the lighter band "
              "{cover} % of the weeks.",
    },
    "sentence.model": {"sv": "Modell: {name}.", "en": "Model: {name}."},
    # forecast methods in words (report.sentences.forecast_text)
    "model.auto": {"sv": "automatiskt val", "en": "automatic choice"},
    "model.chosen_automatically": {
        "sv": " (valt automatiskt genom test på historiken)",
        "en": " (chosen automatically by a backtest on the history)",
    },
    "model.combo": {"sv": "medelvärdet av säsongsprofil och ETS", "en": "the mean of seasonal profile and ETS"},
    "model.combo_with_naive": {
        "sv": "medelvärdet av samma vecka i fjol, säsongsprofil och ETS",
        "en": "the mean of the same week last year, seasonal profile and ETS",
    },
    "model.ets": {"sv": "exponentiell utjämning med säsong (ETS)", "en": "exponential smoothing with season (ETS)"},
    "model.mean": {"sv": "medelvärdet senaste året", "en": "the mean of the latest year"},
    "model.profile": {"sv": "säsongsprofil × nivå och trend", "en": "seasonal profile × level and trend"},
    "model.seasonal_naive": {"sv": "samma vecka i fjol", "en": "the same week last year"},
    # the provenance footer (report.sentences.provenance_markdown)
    "provenance.data_period": {"sv": "Dataperiod", "en": "Data period"},
    "provenance.note": {
        "sv": "Syntetiska demodata eller regionens data enligt parameterfilen; inga patientuppgifter visas.",
        "en": "Synthetic demo data or the region's data as set in the parameter file; no patient details are shown.",
    },
    "provenance.parameters": {"sv": "Parametrar", "en": "Parameters"},
    "provenance.run": {"sv": "Körning", "en": "Run"},
    # section texts (report.section_texts)
    "section.holidays": {"sv": "helger och semestrar", "en": "holidays"},
    "section.queues_both": {"sv": "kön till nybesök och kön till behandling",
                            "en": "the first-visit and the treatment queue"},
    "section.queues_first_visit": {"sv": "kön till nybesök, det enda steget i klinikens flöde",
                                   "en": "the first-visit queue, the only stage of the clinic's flow"},
    # workbook sheet names (report.outputs, workbook)
    "sheet.capacity": {"sv": "Kapacitet", "en": "Capacity"},
    "sheet.follow_up": {"sv": "Uppföljning", "en": "Follow-up"},
    "sheet.plan_against_outcome": {"sv": "Plan mot utfall", "en": "Plan against outcome"},
    "sheet.purchase_by_month": {"sv": "Köp per månad", "en": "Purchase by month"},
    "sheet.production_plan": {"sv": "Produktionsplan", "en": "Production plan"},  # plan.PLAN_SHEET
    # workbook columns and notes (workbook)
    "workbook.months_ahead": {"sv": "Månader framåt", "en": "Months ahead"},
    "workbook.order_by_month": {"sv": "Beställ senast (månad)", "en": "Order by (month)"},
    "workbook.order_by_week": {"sv": "Beställ senast, vecka", "en": "Order by, week"},
    "workbook.order_by_week_starts": {"sv": "Beställ senast (veckan börjar)", "en": "Order by (week starts)"},
    "workbook.resources_against_demonstrated": {"sv": "Resurser mot visad produktion",
                                                "en": "Resources against demonstrated"},
    "workbook.week_starts": {"sv": "Veckan börjar", "en": "Week starts"},
    "workbook.week_starts_lower": {"sv": "veckan börjar", "en": "week starts"},
    "workbook.weeks_ahead": {"sv": "Veckor framåt", "en": "Weeks ahead"},
    "workbook.accumulated_care_agreement": {
        "sv": "Ackumulerad vårdöverenskommelse",
        "en": "Accumulated care agreement",
    },
    "workbook.accumulated_cost_bought_sek": {
        "sv": "Ackumulerad kostnad köpt (kr)",
        "en": "Accumulated cost bought (SEK)",
    },
    "workbook.accumulated_own_production": {"sv": "Ackumulerad egen produktion", "en": "Accumulated own production"},
    "workbook.accumulated_plan_agreement": {
        "sv": "Ackumulerad plan − vårdöverenskommelse",
        "en": "Accumulated plan − agreement",
    },
    "workbook.accumulated_purchase": {"sv": "Ackumulerat köp", "en": "Accumulated purchase"},
    "workbook.deviation_actual_plan": {"sv": "Avvikelse (utfall − plan)", "en": "Deviation (actual − plan)"},
    "workbook.extra_cost_of_buying_sek": {"sv": "Merkostnad för köp (kr)", "en": "Extra cost of buying (SEK)"},
    "workbook.no_follow_up": {"sv": "Ingen plan att följa upp i data.", "en": "No plan to follow up in the data."},
    "workbook.no_history": {
        "sv": "Ingen period av en tidigare körnings fastställda plan har passerat ännu.",
        "en": "No period of an earlier run's fixed plan has passed yet.",
    },
    # number and period formatting (report.formatting)
    "format.wk": {"sv": "v.", "en": "wk"},
    # workbook column headers (workbook.HEADERS)
    # the planning model's production plan and the rolling plan (kps_analysis.plan), the follow-up
    "column.stage": {"sv": "Steg", "en": "Stage"},
    "column.month": {"sv": "Månad", "en": "Month"},
    "column.fixed": {"sv": "Fastställd", "en": "Fixed"},
    "column.inflow": {"sv": "Inflöde (prognos)", "en": "Inflow (forecast)"},
    "column.capacity": {"sv": "Egen kapacitet", "en": "Own capacity"},
    "column.own_production": {"sv": "Planerad egen produktion", "en": "Planned own production"},
    "column.purchase": {"sv": "Köp", "en": "Purchase"},
    "column.purchase_beyond_fixed": {"sv": "Köp utöver den fastställda planen", "en": "Bought beyond the fixed plan"},
    "column.order_by_week": {"sv": "Beställ senast (veckor framåt)", "en": "Order by (weeks ahead)"},
    "column.within_lead_time": {"sv": "Inom ledtiden", "en": "Within the lead time"},
    "column.moved_in": {"sv": "Flyttade hit", "en": "Moved in"},
    "column.moved_out": {"sv": "Flyttade härifrån", "en": "Moved out"},
    "column.queue_start": {"sv": "Kö vid veckans början (utan egna val)",
                           "en": "Queue at week start (chosen waits out)"},
    "column.queue_end": {"sv": "Kö vid veckans slut (utan egna val)", "en": "Queue at week end (chosen waits out)"},
    "column.breaches_if_nothing_bought": {
        "sv": "Över 90 dagar om inget köps",
        "en": "Over 90 days if nothing is bought",
    },
    "column.breaches_before_purchase": {
        "sv": "Över 90 dagar före veckans köp",
        "en": "Over 90 days before the week's purchase",
    },
    "column.breaches_after_purchase": {"sv": "Över 90 dagar efter köp", "en": "Over 90 days after purchase"},
    "column.share_within_guarantee": {"sv": "Andel inom vårdgarantin", "en": "Share within the guarantee"},
    "column.gap": {"sv": "Kapacitetsglapp", "en": "Capacity gap"},
    "column.unused_capacity": {"sv": "Outnyttjad kapacitet", "en": "Unused capacity"},
    "column.agreement": {"sv": "Vårdöverenskommelse", "en": "Care agreement"},
    "column.cost_external_sek": {"sv": "Kostnad köpt (kr)", "en": "Cost bought (SEK)"},
    "column.cost_internal_sek": {"sv": "Samma volym i egen regi (kr)", "en": "Same volume in-house (SEK)"},
    "column.clinic": {"sv": "Klinik", "en": "Clinic"},
    "column.period": {"sv": "Vecka", "en": "Week"},
    "column.week_ahead": {"sv": "Veckor framåt", "en": "Weeks ahead"},
    "column.origin": {"sv": "Ursprung", "en": "Origin"},
    "column.working_days": {"sv": "Arbetsdagar", "en": "Working days"},
    "column.expected_referrals_in": {"sv": "Förväntade remisser in", "en": "Expected referrals in"},
    "column.planned_new_visits": {"sv": "Planerade nybesök", "en": "Planned new visits"},
    "column.planned_operations": {"sv": "Planerade operationer", "en": "Planned operations"},
    "column.capacity_new_visits": {"sv": "Kapacitet nybesök", "en": "Capacity, new visits"},
    "column.capacity_return_visits": {"sv": "Kapacitet återbesök", "en": "Capacity, return visits"},
    "column.capacity_operations": {"sv": "Kapacitet operationer", "en": "Capacity, operations"},
    "column.margin_new_visits": {
        "sv": "Marginal nybesök (kapacitet − plan)",
        "en": "Margin, new visits (capacity − plan)",
    },
    "column.margin_operations": {
        "sv": "Marginal operationer (kapacitet − plan)",
        "en": "Margin, operations (capacity − plan)",
    },
    "column.purchase_new_visits": {"sv": "Köpt vård nybesök (planerat)", "en": "Purchased new visits (planned)"},
    "column.purchase_operations": {"sv": "Köpt vård operationer (planerat)", "en": "Purchased operations (planned)"},
    "column.purchase_cost_sek": {"sv": "Kostnad köpt vård (kr)", "en": "Purchase cost (SEK)"},
    "column.cum_planned_new_visits": {"sv": "Ackumulerat planerade nybesök", "en": "Accumulated planned new visits"},
    "column.cum_planned_operations": {
        "sv": "Ackumulerat planerade operationer",
        "en": "Accumulated planned operations",
    },
    "column.cum_capacity_new_visits": {"sv": "Ackumulerad kapacitet nybesök", "en": "Accumulated capacity, new visits"},
    "column.cum_capacity_operations": {
        "sv": "Ackumulerad kapacitet operationer",
        "en": "Accumulated capacity, operations",
    },
    "column.cum_purchase_new_visits": {"sv": "Ackumulerat köpt vård nybesök", "en": "Accumulated purchased new visits"},
    "column.cum_purchase_operations": {
        "sv": "Ackumulerat köpt vård operationer",
        "en": "Accumulated purchased operations",
    },
    "column.year": {"sv": "År", "en": "Year"},
    "column.week": {"sv": "Veckonummer", "en": "Week number"},
    "column.measure": {"sv": "Mått", "en": "Measure"},
    "column.plan": {"sv": "Plan", "en": "Plan"},
    "column.actual": {"sv": "Utfall", "en": "Actual"},
    "column.deviation": {"sv": "Avvikelse", "en": "Deviation"},
    "column.deviation_pct": {"sv": "Avvikelse (%)", "en": "Deviation (%)"},
    "column.last_year": {"sv": "Utfall föregående år", "en": "Actual last year"},
    "column.vs_last_year": {"sv": "Förändring mot föregående år", "en": "Change on last year"},
    "column.vs_last_year_pct": {"sv": "Förändring mot föregående år (%)", "en": "Change on last year (%)"},
    "column.cum_plan": {"sv": "Ackumulerad plan", "en": "Accumulated plan"},
    "column.cum_actual": {"sv": "Ackumulerat utfall", "en": "Accumulated actual"},
    "column.cum_deviation": {"sv": "Ackumulerad avvikelse", "en": "Accumulated deviation"},
    "column.cum_deviation_pct": {"sv": "Ackumulerad avvikelse (%)", "en": "Accumulated deviation (%)"},
    "column.cum_last_year": {"sv": "Ackumulerat föregående år", "en": "Accumulated last year"},
    "column.cum_vs_last_year_pct": {"sv": "Ackumulerat mot föregående år (%)", "en": "Accumulated on last year (%)"},
    "column.level": {"sv": "Eskaleras till", "en": "Escalated to"},
    # the planning model, period-generic names
    "column.period_ahead": {"sv": "Perioder framåt", "en": "Periods ahead"},
    "column.period_days": {"sv": "Dagar i perioden", "en": "Days in the period"},
    "column.order_by_period": {"sv": "Beställ senast (perioder framåt)", "en": "Order by (periods ahead)"},
    "column.need": {"sv": "Behov (egen produktion + köp)", "en": "Need (own production + purchase)"},
    "column.policy": {"sv": "Princip", "en": "Policy"},
    "column.basis": {"sv": "Kapacitet enligt", "en": "Capacity basis"},
    "column.lo_80": {"sv": "Lägre 80 %", "en": "Lower 80 %"},
    "column.hi_80": {"sv": "Övre 80 %", "en": "Upper 80 %"},
    "column.lo_95": {"sv": "Lägre 95 %", "en": "Lower 95 %"},
    "column.hi_95": {"sv": "Övre 95 %", "en": "Upper 95 %"},
    "column.mean": {"sv": "Prognos (medel)", "en": "Forecast (mean)"},
    "column.model": {"sv": "Prognosmodell", "en": "Forecast model"},
    # capacity check
    "column.demonstrated_per_week": {"sv": "Visad produktion per vecka", "en": "Demonstrated production per week"},
    "column.demonstrated_last_year_per_week": {
        "sv": "Visad produktion per vecka i fjol",
        "en": "Demonstrated per week last year",
    },
    "column.resources_per_week": {
        "sv": "Kapacitet enligt resurser per vecka",
        "en": "Capacity from resources per week",
    },
    "column.finding": {"sv": "Skiljer mer än toleransen", "en": "Differs beyond the tolerance"},
    "column.tolerance": {"sv": "Tolerans", "en": "Tolerance"},
    # plan history
    "column.planned_own": {"sv": "Fastställd egen produktion", "en": "Fixed own production"},
    "column.planned_purchase": {"sv": "Fastställt köp", "en": "Fixed purchase"},
    "column.actual_own": {"sv": "Utfall egen produktion", "en": "Actual own production"},
    "column.actual_purchased": {"sv": "Utfall köpt", "en": "Actual purchased"},
    "column.cum_planned_own": {"sv": "Ackumulerad fastställd plan", "en": "Accumulated fixed plan"},
    "column.cum_actual_own": {"sv": "Ackumulerat utfall", "en": "Accumulated actual"},
    "column.cum_agreement": {"sv": "Ackumulerad vårdöverenskommelse", "en": "Accumulated care agreement"},
    "column.vs_agreement_pct": {
        "sv": "Ackumulerat mot vårdöverenskommelsen (%)",
        "en": "Accumulated against the agreement (%)",
    },
    # purchase per month
    "column.order_by": {"sv": "Beställ senast", "en": "Order by"},
    "column.first_week": {"sv": "Första veckan", "en": "First week"},
    "column.until_week": {"sv": "Till och med veckan", "en": "Up to the week"},
    "column.boundary": {"sv": "Fastställda veckor slutar i månaden", "en": "Fixed weeks end in the month"},
    # Monte Carlo, scenarios, moves
    "column.purchase_plan": {"sv": "Planerat köp", "en": "Planned purchase"},
    "column.purchase_p50": {"sv": "Köp vid 50 %", "en": "Purchase at 50 %"},
    "column.purchase_p80": {"sv": "Köp vid 80 %", "en": "Purchase at 80 %"},
    "column.purchase_p95": {"sv": "Köp vid 95 %", "en": "Purchase at 95 %"},
    "column.p_no_breach_fixed": {"sv": "Chans att ingen passerar 90 dagar", "en": "Chance nobody passes 90 days"},
    "column.scenario": {"sv": "Scenario", "en": "Scenario"},
    "column.description": {"sv": "Beskrivning", "en": "Description"},
    "column.breaches_if_nothing_bought_peak": {
        "sv": "Över 90 dagar om inget köps, högsta",
        "en": "Over 90 days if nothing is bought, peak",
    },
    "column.purchase_change": {"sv": "Ändring av köpet", "en": "Change of purchase"},
    "column.clinic_from": {"sv": "Från klinik", "en": "From clinic"},
    "column.clinic_to": {"sv": "Till klinik", "en": "To clinic"},
    "column.patients": {"sv": "Patienter", "en": "Patients"},
    "column.saving_sek": {"sv": "Besparing (kr)", "en": "Saving (SEK)"},
    # stage loads, ratios, week changes, forecast accuracy, data quality
    "column.load": {"sv": "Belastning (inflöde / kapacitet)", "en": "Load (inflow / capacity)"},
    "column.queue_change": {"sv": "Köförändring", "en": "Change of the queue"},
    "column.inflow_minus_capacity": {"sv": "Inflöde − egen kapacitet", "en": "Inflow − own capacity"},
    "column.bottleneck": {"sv": "Flaskhals", "en": "Bottleneck"},
    "column.queue": {"sv": "Kö", "en": "Queue"},
    "column.production_per_week": {"sv": "Produktion per vecka", "en": "Production per week"},
    "column.this_week": {"sv": "Denna vecka", "en": "This week"},
    "column.last_week": {"sv": "Förra veckan", "en": "Last week"},
    "column.this_period": {"sv": "Senaste perioden", "en": "Latest period"},
    "column.last_period": {"sv": "Perioden före", "en": "Period before"},
    "column.queue_change_1p": {
        "sv": "Förändring av kön sedan perioden före",
        "en": "Change in the queue since the period before",
    },
    "column.change": {"sv": "Förändring", "en": "Change"},
    "column.usual": {"sv": "Vanligt värde", "en": "Usual value"},
    "column.unusual": {"sv": "Ovanlig förändring", "en": "Unusual change"},
    "column.direction": {"sv": "Riktning", "en": "Direction"},
    "column.method": {"sv": "Metod", "en": "Method"},
    "column.horizon": {"sv": "Veckor framåt", "en": "Weeks ahead"},
    "column.mase": {"sv": "MASE", "en": "MASE"},
    "column.smape": {"sv": "sMAPE", "en": "sMAPE"},
    "column.wape": {"sv": "WAPE", "en": "WAPE"},
    "column.bias": {"sv": "Systematiskt fel", "en": "Bias"},
    "column.coverage_80": {"sv": "Träffar inom 80 %-intervallet", "en": "Coverage of the 80 % interval"},
    "column.coverage_95": {"sv": "Träffar inom 95 %-intervallet", "en": "Coverage of the 95 % interval"},
    "column.n": {"sv": "Antal", "en": "Count"},
    "column.severity": {"sv": "Allvar", "en": "Severity"},
    "finding.stage_not_planned": {
        "sv": ("steget {stage} planeras inte: indata saknar {columns}; kliniken har {shown} i veckan i det steget, "
               "som därför inte syns i planen, köpet eller jämförelsen med vårdöverenskommelsen"),
        "en": ("the stage {stage} is not planned: the data lack {columns}; the clinic has {shown} a week in that "
               "stage, which is therefore missing from the plan, the purchase and the care agreement")},
    "finding.stale": {
        "sv": ("data slutar {end}, {days} dagar före körningen; planen börjar {start}: nyare data skulle "
               "flytta den till i dag"),
        "en": "the data end {end}, {days} days before the run date; the plan starts {start}: newer data would "
              "move it to today"},
    "finding.capacity": {
        "sv": ("{stage}: kapaciteten enligt resurserna, {resources} en normal vecka, mot visad produktion "
               "{shown} i veckan under normala veckor ({diff} %, mer än toleransen {tolerance} %): kontrollera "
               "resurserna eller produktionsdata"),
        "en": ("{stage}: capacity from the resources {resources} a normal week against {shown} a week "
               "demonstrated in normal weeks ({diff} %, more than the tolerance of {tolerance} %): check the "
               "resources or the production data")},
    "finding.column.period": {"sv": "Period", "en": "Period"},
    "column.resources": {"sv": "Resurser", "en": "Resources"},
    "severity.error": {"sv": "fel", "en": "error"},
    "severity.warning": {"sv": "varning", "en": "warning"},
    "severity.info": {"sv": "upplysning", "en": "note"},
    "column.column": {"sv": "Kolumn", "en": "Column"},
    "column.message": {"sv": "Meddelande", "en": "Message"},
    # summary (headline) columns not in report.LABELS
    "column.waiting_counted": {
        "sv": "Väntande räknade mot vårdgarantin",
        "en": "Waiting counted against the guarantee",
    },
    "column.waiting_chosen": {"sv": "Väntar längre av eget val", "en": "Waiting longer by choice"},
    "column.first_order_by": {"sv": "Första köpet beställs senast", "en": "First purchase ordered by"},
    "column.first_order_late": {"sv": "Första köpet redan sent", "en": "First purchase already late"},
    "column.escalation_reason": {"sv": "Skäl till eskalering", "en": "Reason for escalation"},
    "column.production_deviation_pct": {"sv": "Produktion mot plan (%)", "en": "Production against plan (%)"},
    "column.capacity_finding": {
        "sv": "Kapaciteten skiljer mer än toleransen",
        "en": "Capacity differs beyond the tolerance",
    },
    "column.first_order_by_date": {
        "sv": "Första köpet beställs senast (datum)",
        "en": "First purchase ordered by (date)",
    },
    "column.period_unit": {"sv": "Period", "en": "Period"},
    "column.data_end": {"sv": "Data till och med", "en": "Data up to"},
    "column.plan_start": {"sv": "Planen börjar", "en": "The plan starts"},
    "column.data_age_days": {"sv": "Datas ålder (dagar)", "en": "Age of the data (days)"},
    "column.stale": {"sv": "Data inaktuella", "en": "Data out of date"},
    # follow-up
    "column.status": {"sv": "Status", "en": "Status"},
    "column.red_weeks": {"sv": "Röda veckor i följd", "en": "Consecutive red weeks"},
    "column.level_if_at_risk": {"sv": "Nivå om vårdgarantin vore i fara", "en": "Level were the guarantee at risk"},
    "column.counts_in_escalation": {"sv": "Räknas i klinikens eskalering", "en": "Counted in the clinic's escalation"},
    # result tables' sheet titles (workbook.TABLE_TITLES)
    "sheet_title.summary": {"sv": "Sammanfattning", "en": "Summary"},
    "sheet_title.week_changes": {"sv": "Veckans förändringar", "en": "Changes this week"},
    "sheet_title.weekly": {"sv": "Veckodata", "en": "Weekly data"},
    "sheet_title.data_quality": {"sv": "Datakvalitet", "en": "Data quality"},
    "sheet_title.queue_production_ratio": {"sv": "Köproduktionskvot", "en": "Queue-to-production ratio"},
    "sheet_title.stage_loads": {"sv": "Belastning per steg", "en": "Load per stage"},
    "sheet_title.forecast_referrals": {"sv": "Prognos remisser", "en": "Referral forecast"},
    "sheet_title.forecast_accuracy": {"sv": "Prognosträffsäkerhet", "en": "Forecast accuracy"},
    "sheet_title.production_plan": {"sv": "Produktionsplan", "en": "Production plan"},
    "sheet_title.plan_history": {"sv": "Plan mot utfall", "en": "Plan against outcome"},
    "sheet_title.purchase_need": {"sv": "Köpbehov", "en": "Purchase need"},
    "sheet_title.capacity_gap": {"sv": "Kapacitetsglapp", "en": "Capacity gap"},
    "sheet_title.capacity_check": {"sv": "Kapacitet", "en": "Capacity"},
    "sheet_title.projected_breaches": {"sv": "Över 90 dagar", "en": "Over 90 days"},
    "sheet_title.monte_carlo": {"sv": "Osäkerhet", "en": "Uncertainty"},
    "sheet_title.plan_vs_outcome": {"sv": "Uppföljning", "en": "Follow-up"},
    "sheet_title.scenarios": {"sv": "Scenarier", "en": "Scenarios"},
    "sheet_title.flows": {"sv": "Inflöde och kapacitet", "en": "Inflow and capacity"},
    "sheet_title.moves": {"sv": "Flyttar", "en": "Moves"},
    # headline stems with a horizon suffix (workbook.header)
    "stem.projected_breaches": {
        "sv": "Över 90 dagar om inget köps, vid horisonten",
        "en": "Over 90 days if nothing is bought, at the horizon",
    },
    "stem.projected_breaches_peak": {
        "sv": "Över 90 dagar om inget köps, högsta",
        "en": "Over 90 days if nothing is bought, peak",
    },
    "stem.projected_breaches_peak_week": {
        "sv": "Över 90 dagar om inget köps, högsta i veckan",
        "en": "Peak week of over 90 days",
    },
    "stem.breaches_after_purchase_peak": {
        "sv": "Över 90 dagar innan köp hinner börja, högsta",
        "en": "Over 90 days before purchase can start, peak",
    },
    "stem.breaches_after_purchase_peak_week": {
        "sv": "Över 90 dagar innan köp hinner börja, veckan",
        "en": "Week of that peak",
    },
    "stem.capacity_gap": {"sv": "Kapacitetsglapp", "en": "Capacity gap"},
    "stem.purchase_need": {"sv": "Köpbehov", "en": "Purchase need"},
    "stem.purchase_cost": {"sv": "Kostnad köpt vård (kr)", "en": "Purchase cost (SEK)"},
    "stem.purchase_cost_internal": {"sv": "Samma volym i egen regi (kr)", "en": "Same volume in-house (SEK)"},
    "stem.purchase_new_visits": {"sv": "Köp nybesök", "en": "Buy first visits"},
    "stem.purchase_cost_new_visits": {"sv": "Kostnad köpta nybesök (kr)", "en": "Cost of bought first visits (SEK)"},
    "stem.purchase_operations": {"sv": "Köp operationer", "en": "Buy operations"},
    "stem.purchase_cost_operations": {"sv": "Kostnad köpta operationer (kr)", "en": "Cost of bought operations (SEK)"},
    "stem.capacity_new_visits": {"sv": "Kapacitet nybesök", "en": "Capacity, first visits"},
    "stem.capacity_operations": {"sv": "Kapacitet operationer", "en": "Capacity, operations"},
    "stem.moved_out": {"sv": "Flyttade härifrån", "en": "Moved out"},
    "stem.moved_in": {"sv": "Flyttade hit", "en": "Moved in"},
    "stem.p_no_breach": {"sv": "Chans att ingen passerar 90 dagar", "en": "Chance nobody passes 90 days"},
    "stem.purchase_p50": {"sv": "Köp vid 50 %", "en": "Purchase at 50 %"},
    "stem.purchase_p80": {"sv": "Köp vid 80 %", "en": "Purchase at 80 %"},
    "stem.purchase_p95": {"sv": "Köp vid 95 %", "en": "Purchase at 95 %"},
    "stem.agreement": {"sv": "Vårdöverenskommelse", "en": "Care agreement"},
    "stem.own_production": {"sv": "Planerad egen produktion", "en": "Planned own production"},
    # the horizon suffixes (workbook.header)
    "suffix._12w": {"sv": ", 12 veckor", "en": ", 12 weeks"},
    "suffix._fixed": {"sv": ", fastställda perioden", "en": ", fixed horizon"},
    # category values in words, value.<column>.<code> (workbook.VALUES)
    "value.stage.new_visit": {"sv": "Nybesök", "en": "First visit"},
    "value.stage.treatment": {"sv": "Operationer", "en": "Operations"},
    "value.origin.model": {"sv": "Planeringsmodellen", "en": "Planning model"},
    "value.origin.agreement": {"sv": "Vårdöverenskommelse", "en": "Care agreement"},
    "value.origin.previous": {"sv": "Föregående plan", "en": "Previous plan"},
    "value.origin.revision": {"sv": "Revidering", "en": "Revision"},
    "value.status.fixed": {"sv": "Fastställd", "en": "Fixed"},
    "value.status.planned": {"sv": "Preliminär", "en": "Planned"},
    "value.status.green": {"sv": "Grön", "en": "Green"},
    "value.status.yellow": {"sv": "Gul", "en": "Yellow"},
    "value.status.red": {"sv": "Röd", "en": "Red"},
    "value.escalation.green": {"sv": "Grön", "en": "Green"},
    "value.escalation.yellow": {"sv": "Gul", "en": "Yellow"},
    "value.escalation.red": {"sv": "Röd", "en": "Red"},
    "value.level.unit": {"sv": "Enheten", "en": "Unit"},
    "value.level.clinic": {"sv": "Kliniken", "en": "Clinic"},
    "value.level.division": {"sv": "Divisionen", "en": "Division"},
    "value.level.region": {"sv": "Regionen", "en": "Region"},
    "value.policy.guarantee": {"sv": "Vårdgarantin", "en": "The guarantee"},
    "value.policy.need_guarantee": {"sv": "Vårdgarantin", "en": "The guarantee"},
    "value.basis.resources": {"sv": "Resurser", "en": "Resources"},
    "value.basis.demonstrated": {"sv": "Visad produktion", "en": "Demonstrated production"},
    "value.direction.up": {"sv": "Upp", "en": "Up"},
    "value.direction.down": {"sv": "Ned", "en": "Down"},
    "value.direction.flat": {"sv": "Oförändrad", "en": "Unchanged"},
    "value.direction.same": {"sv": "Oförändrad", "en": "Unchanged"},
    "value.severity.error": {"sv": "Fel", "en": "Error"},
    "value.severity.warning": {"sv": "Varning", "en": "Warning"},
    "value.severity.info": {"sv": "Information", "en": "Information"},
    "value.scenario.baseline": {"sv": "Planen (nuläge)", "en": "The plan (baseline)"},
    "value.period_unit.week": {"sv": "Vecka", "en": "Week"},
    "value.horizon.all": {"sv": "Alla", "en": "All"},
    "value.period_unit.month": {"sv": "Månad", "en": "Month"},
    "value.escalation_reason.target_missed": {"sv": "målet nås inte", "en": "target missed"},
    "value.escalation_reason.purchase_needed": {"sv": "köp behövs", "en": "purchase needed"},
    "value.escalation_reason.breach_within_lead_time": {
        "sv": "passerar 90 dagar inom ledtiden",
        "en": "breaches within the lead time",
    },
    "value.escalation_reason.production_below_plan": {"sv": "produktionen under plan", "en": "production below plan"},
    # workbook cells
    "workbook.hidden": {"sv": "dolt", "en": "hidden"},
    "workbook.yes": {"sv": "Ja", "en": "Yes"},
    "workbook.no": {"sv": "Nej", "en": "No"},
    # the follow-up sheet's column words (workbook.follow_up_sheet)
    "follow_up.plan": {"sv": "plan", "en": "plan"},
    "follow_up.actual": {"sv": "utfall", "en": "actual"},
    "follow_up.dev": {"sv": "avvikelse", "en": "deviation"},
    "follow_up.cplan": {"sv": "ack. plan", "en": "acc. plan"},
    "follow_up.cact": {"sv": "ack. utfall", "en": "acc. actual"},
    "follow_up.cdev": {"sv": "ack. avvikelse", "en": "acc. deviation"},
    "follow_up.cpct": {"sv": "ack. avvikelse %", "en": "acc. deviation %"},
    "follow_up.ly": {"sv": "i fjol", "en": "last year"},
    "follow_up.cly": {"sv": "ack. i fjol", "en": "acc. last year"},
    "follow_up.status": {"sv": "status", "en": "status"},
    # lists in sentences
    "list.and": {"sv": " och ", "en": " and "},
    "list.or": {"sv": ", eller ", "en": ", or "},
    # why a section is not shown (sections.sentence, ClinicContext.why_not, sections._failed)
    "section.weekly_data": {"sv": "veckodata", "en": "weekly data"},
    "section.monthly_data": {"sv": "månadsdata", "en": "monthly data"},
    "section.needs_model": {
        "sv": ("Avsnittet bygger på planeringsmodellen, som kräver {data_word} med {what}, och det saknas för "
               "kliniken."),
        "en": "This section rests on the planning model, which needs {data_word} with {what}; the clinic has none."},
    "section.needs_data": {"sv": "Avsnittet kräver {data_word} med {what}, och det saknas för kliniken.",
                         "en": "This section needs {data_word} with {what}; the clinic has none."},
    "section.needs_parameters": {"sv": "Avsnittet kräver {groups} i klinikens parameterfil.",
                                 "en": "This section needs {groups} in the clinic's parameter file."},
    "section.seasonal_short": {
        "sv": ("Säsongsmönstret räknas ur minst två års data; kliniken har {n} {periods}. Mönstret visas när "
               "historiken räcker."),
        "en": ("The seasonal pattern is estimated from at least two years of data; the clinic has {n} {periods}. "
               "It is shown once the history is long enough.")},
    "section.forecast_short": {
        "sv": ("**Kort historik:** {n} {periods}, mindre än två år. Prognosen har därför ingen egen säsong "
               "(helger och sommar syns inte i den), och jämförelsen med samma period i fjol bygger på för få år."),
        "en": ("**Short history:** {n} {periods}, less than two years. The forecast therefore has no season of its "
               "own (holidays and summer do not show in it), and the comparison with the same period last year "
               "rests on too few years.")},
    "section.needs_waiting_list": {
        "sv": ("Avsnittet kräver ett väntelisteuttag per patient (remissdatum, beslutsdatum, besöks- och "
               "operationsdatum); kliniken levererar bara summor per period."),
        "en": ("This section needs a patient-level waiting-list extract (referral, decision, visit and operation "
               "dates); the clinic delivers totals per period only.")},
    "section.no_model": {"sv": "Planeringsmodellen finns inte för kliniken i den här körningen; se körningens logg.",
                       "en": "The clinic has no planning model in this run; see the run's log."},
    "section.failed": {"sv": "*Avsnittet kunde inte visas ({error}); felet finns i körningens logg.*",
                     "en": "*This section could not be shown ({error}); the error is in the run's log.*"},
    # the first screen (sections.first_screen_html): state, key-figure cards, decisions
    "section.since_last": {"sv": "sedan förra {period}", "en": "since last {period}"},
    "section.queue_growing": {"sv": "Kön växer", "en": "The queue is growing"},
    "section.queue_shrinking": {"sv": "Kön minskar", "en": "The queue is shrinking"},
    "section.queue_unchanged": {"sv": "Kön är oförändrad", "en": "The queue is unchanged"},
    "section.state_waited_over": {"sv": "{over} patienter har väntat över {days} dagar",
                                "en": "{over} patients have waited over {days} days"},
    "section.unit_first_visits": {"sv": "nybesök", "en": "first visits"},
    "section.unit_operations": {"sv": "operationer", "en": "operations"},
    "section.unit_patients": {"sv": "patienter", "en": "patients"},
    "section.order_late": {"sv": "redan nu (beställningen är sen)", "en": "now (the order is late)"},
    "section.order_by": {"sv": "med första beställningen senast {date}", "en": "with the first order by {date}"},
    "section.state_buy": {"sv": "köp {joined} {when} för att hålla vårdgarantin",
                        "en": "buy {joined} {when} to keep the care guarantee"},
    "section.state_own_capacity": {"sv": "den egna kapaciteten håller vårdgarantin de kommande {n} {periods}",
                                 "en": "own capacity keeps the care guarantee over the coming {n} {periods}"},
    "section.state_late_only": {
        "sv": "inget köp behövs, men upp till {n} patienter är över {days} dagar innan köpt vård hinner börja",
        "en": "nothing needs buying, but up to {n} patients are over {days} days before purchased care could start"},
    "section.within_target": {"sv": "inom målet", "en": "within target"},
    "section.above_target": {"sv": "över målet", "en": "above target"},
    "section.decision_check_capacity": {
        "sv": ("Kontrollera kapaciteten före beställning: köpet av {what} bygger på resurserna, {resources} i veckan, "
               "men visad produktion är {shown} i veckan ({diff} %, se Datakvalitet); stämmer den visade "
               "produktionen blir köpet {effect}."),
        "en": ("Check the capacity before ordering: the purchase of {what} rests on the resources, {resources} a "
               "week, but demonstrated production is {shown} a week ({diff} %, see Data quality); if the "
               "demonstrated production holds, the purchase is {effect}.")},
    "section.purchase_smaller": {"sv": "mindre", "en": "smaller"},
    "section.purchase_larger": {"sv": "större", "en": "larger"},
    "section.action_needed": {"sv": "åtgärd krävs", "en": "action needed"},
    "section.card_waiting": {"sv": "Väntande", "en": "Waiting"},
    "section.card_change": {"sv": "Ändring: {change} sedan förra {period}",
                          "en": "Change: {change} since last {period}"},
    "section.growing": {"sv": "växer", "en": "growing"},
    "section.shrinking": {"sv": "minskar", "en": "shrinking"},
    "section.unchanged": {"sv": "oförändrad", "en": "unchanged"},
    "section.card_waited_over": {"sv": "Väntat över {days} dagar", "en": "Waited over {days} days"},
    "section.card_target": {"sv": "{over} patienter; mål högst {target} %",
                          "en": "{over} patients; target at most {target} %"},
    "section.card_ratio": {"sv": "Köproduktionskvot", "en": "Queue-to-production ratio"},
    "section.ratio_above": {"sv": "över {days} dagars produktion", "en": "above {days} days of production"},
    "section.ratio_below": {"sv": "under {days} dagars produktion", "en": "below {days} days of production"},
    "section.card_projected": {"sv": "Över {days} dagar inom {n} {periods} om inget köps",
                             "en": "Over {days} days within {n} {periods} if nothing is bought"},
    "section.peak": {"sv": "högst, {period}", "en": "peak, {period}"},
    "section.card_cost": {"sv": "kostnad {cost} kr", "en": "cost SEK {cost}"},
    "section.card_no_prices": {"sv": "kostnad: priser saknas", "en": "cost: no prices"},
    "section.card_buy": {"sv": "Köp {unit}, {n} {periods}", "en": "Buy {unit}, {n} {periods}"},
    "section.needed": {"sv": "behövs", "en": "needed"},
    "section.no_purchase": {"sv": "inget köp", "en": "none"},
    "section.card_escalation": {"sv": "Eskalering", "en": "Escalation"},
    "section.escalated_to": {"sv": "eskaleras till {level}", "en": "escalated to the {level}"},
    "section.handled_by": {"sv": "hanteras av {level}", "en": "handled by the {level}"},
    "section.order_cost": {"sv": " ({cost} kr; i egen regi {internal} kr)",
                         "en": " (SEK {cost}; in-house SEK {internal})"},
    "section.decision_order": {
        "sv": ("<strong>Köp {n} {what}</strong>{cost}; den första beställningen senast {by}, de första "
               "behövs {first} (de senare beställningarna i tabellen över köpt vård)."),
        "en": ("<strong>Buy {n} {what}</strong>{cost}; the first order by {by}, the first are needed {first} "
               "(the later orders in the table of purchased care).")},
    "section.order_beyond_fixed": {
        "sv": "Av dem köps {m} utöver den fastställda planen, som köpte för lite för att hålla vårdgarantin.",
        "en": "Of them, {m} are bought on top of the fixed plan, which bought too little to keep the guarantee."},
    "stem.purchase_beyond_fixed": {"sv": "Köp utöver den fastställda planen", "en": "Bought beyond the fixed plan"},
    "section.decision_no_purchase": {"sv": "Inget köp behövs de kommande {n} {periods}.",
                                   "en": "Nothing needs to be bought over the coming {n} {periods}."},
    "section.decision_late": {
        "sv": ("Upp till {n} patienter är över {days} dagar innan köpt vård hinner börja (ledtid {lead} "
               "{lead_periods}): boka extra egna mottagnings- eller operationspass, eller flytta patienter till "
               "ett sjukhus med ledig kapacitet."),
        "en": ("Up to {n} patients are over {days} days before purchased care can start (lead time {lead} "
               "{lead_periods}): book extra own sessions, or move patients to a hospital with spare capacity.")},
    "section.decision_escalate": {"sv": "<strong>Eskalera till {level}</strong>: {why}.",
                                "en": "<strong>Escalate to the {level}</strong>: {why}."},
    "section.decision_clinic": {"sv": "<strong>Hanteras i kliniken</strong> (gul): {why}.",
                              "en": "<strong>Handled in the clinic</strong> (yellow): {why}."},
    "section.decision_none": {"sv": "Ingen eskalering (grön).", "en": "No escalation (green)."},
    "section.situation": {"sv": "Läget", "en": "The situation"},
    "section.decisions_this": {"sv": "Beslut denna {period}", "en": "Decisions this {period}"},
    "section.terms": {"sv": "Ord och begrepp", "en": "Terms"},
    # the first screen's terms, in sections._GLOSSARY's order: glossary.<name>, glossary.<name>_text
    "glossary.guarantee": {"sv": "Vårdgaranti", "en": "Care guarantee"},
    "glossary.guarantee_text": {
        "sv": ("Lagens gräns: nybesök inom {days} dagar från remiss, behandling inom {days} dagar från beslut. "
               "Patienter som själva valt att vänta längre räknas inte."),
        "en": ("The legal limit: a first visit within {days} days of the referral, treatment within {days} days "
               "of the decision. Patients who chose to wait longer do not count.")},
    "glossary.ratio": {"sv": "Köproduktionskvot", "en": "Queue-to-production ratio"},
    "glossary.ratio_text": {
        "sv": ("Kön delad med produktionen per vecka: hur många veckors produktion som väntar, ungefär hur länge "
               "en ny patient väntar (Littles lag)."),
        "en": ("The queue divided by production per week: how many weeks of production are waiting, roughly how "
               "long a new patient waits (Little's law).")},
    "glossary.purchased_care": {"sv": "Köpt vård", "en": "Purchased care"},
    "glossary.purchased_care_text": {
        "sv": ("Nybesök eller operationer som beställs av andra vårdgivare för att ingen ska vänta över {days} "
               "dagar; räknas i hela patienter per slag, med kostnaden för varje slag för sig."),
        "en": ("First visits or operations ordered from other providers so that nobody waits over {days} days; "
               "counted in whole patients per kind, each kind with its own cost.")},
    "glossary.lead_time": {"sv": "Ledtid", "en": "Lead time"},
    "glossary.lead_time_text": {
        "sv": ("Tiden det tar att ordna köpt vård ({lead} {lead_periods}); den som passerar gränsen innan dess "
               "kan bara hjälpas med egna extra pass eller flytt."),
        "en": ("The time it takes to arrange purchased care ({lead} {lead_periods}); patients who pass the limit "
               "before then can only be helped by extra own sessions or a move.")},
    "glossary.capacity_gap": {"sv": "Kapacitetsglapp", "en": "Capacity gap"},
    "glossary.capacity_gap_text": {
        "sv": ("Behovet för att hålla vårdgarantin (egen produktion plus köp) minus den egna kapaciteten, i "
               "patienter över den fastställda planen."),
        "en": ("The need to keep the guarantee (own production plus purchase) minus own capacity, in patients "
               "over the fixed plan.")},
    "glossary.fixed_plan": {"sv": "Fastställd plan", "en": "Fixed plan"},
    "glossary.fixed_plan_text": {
        "sv": ("De första {fixed} {fixed_periods} av den rullande produktionsplanen; nästa körning behåller dem "
               "om de inte revideras."),
        "en": ("The first {fixed} {fixed_periods} of the rolling production plan; the next run keeps them unless "
               "they are revised.")},
    "glossary.escalation": {"sv": "Eskalering", "en": "Escalation"},
    "glossary.escalation_text": {
        "sv": ("Grön: hanteras av enheten. Gul: kliniken hanterar (målet nås inte, köp behövs eller patienter "
               "är över gränsen inom ledtiden). Röd: divisionen (målet nås inte och köp behövs, eller "
               "produktionen ligger långt under planen medan vårdgarantin är i fara; så {red_run}: "
               "regionen)."),
        "en": ("Green: handled by the unit. Yellow: the clinic handles it (target missed, purchase needed or "
               "patients are over the limit within the lead time). Red: the division (target missed and purchase "
               "needed, or production far below plan while the guarantee is at risk; {red_run}: the "
               "region).")},
    # how long a red shortfall lasts before the region takes it (plan.plan_vs_outcome: 4 weeks, by days 1 month)
    "escalation.red_run_week": {"sv": "fyra veckor i rad", "en": "four weeks running"},
    "escalation.red_run_month": {"sv": "en hel månad", "en": "for a whole month"},
    # escalation reasons, by planning's reason codes (sections._decisions)
    "reason.target_missed": {"sv": "andelen som väntat över {days} dagar ({share}) är över målet {target}",
                           "en": "the share waited over {days} days ({share}) is above the target {target}"},
    "reason.purchase_needed": {"sv": "planen kräver köpt vård", "en": "the plan needs purchased care"},
    "reason.breach_within_lead_time": {"sv": "patienter är över gränsen innan köpt vård hinner börja",
                                     "en": "patients are over the limit before purchased care can start"},
    "reason.production_below_plan": {"sv": "produktionen hittills i år ligger under {basis} (se Plan mot utfall)",
                                   "en": "production so far this year is below {basis} (see Plan against outcome)"},
    # what production is measured against (planning._production_deviation)
    "reason.basis_data": {"sv": "den planerade produktionen i indata", "en": "the production planned in the data"},
    "reason.basis_fixed": {"sv": "de fastställda planerna från tidigare körningar",
                           "en": "the fixed plans of earlier runs"},
    # the report's title and stale-data warning (sections._title_html, sections._stale_html)
    "section.data_up_to": {"sv": "data till och med {last}", "en": "data up to {last}"},
    "section.run": {"sv": "körning {run}", "en": "run {run}"},
    "section.stale": {
        "sv": ("Inaktuella data: de slutar {end}, {age} dagar före körningen ({today}). Allt här gäller läget då; "
               "planen börjar {start}. Leverera nyare data för en plan från i dag."),
        "en": ("Stale data: they end {end}, {age} days before the run ({today}). Everything here is as it was "
               "then; the plan starts {start}. Deliver newer data for a plan from today.")},
    # section captions and sentences (sections.<section>)
    "section.key_figures_caption": {"sv": "Nyckeltal från planeringsmodellen",
                                  "en": "Key figures from the planning model"},
    "section.twelve_weeks": {"sv": "12 veckor", "en": "12 weeks"},
    "section.week_twelve": {"sv": "vecka 12", "en": "week 12"},
    "section.changes_caption": {"sv": "Förändring sedan förra veckan", "en": "Change since last week"},
    "section.load_caption": {"sv": "Belastning per steg, {n} {periods} framåt",
                           "en": "Load per stage, {n} {periods} ahead"},
    "section.rates_caption": {"sv": "Omvandlingstal i flödet", "en": "Conversion rates of the flow"},
    "section.waits_caption": {"sv": "Väntetider per steg", "en": "Waiting times per stage"},
    "section.bands_caption": {"sv": "Väntande per väntetidsintervall", "en": "Waiting per waiting-time band"},
    "section.capacity_caption": {"sv": "Kapacitet enligt resurser och visad produktion",
                               "en": "Capacity from resources and demonstrated production"},
    "section.purchase_caption": {"sv": "Köpt vård per månad och slag", "en": "Purchased care per month and kind"},
    "section.agreement": {
        "sv": "**Vårdöverenskommelsen**: planerad egen produktion de kommande {n} {periods}: {parts}.",
        "en": "**The care agreement**: planned own production over the coming {n} {periods}: {parts}."},
    "section.agreement_part": {"sv": "{own} {kind} mot avtalade {agreed} ({diff})",
                               "en": "{own} {kind} against {agreed} agreed ({diff})"},
    "section.monte_carlo_caption": {"sv": "Köp i simulerade framtider", "en": "Purchase in simulated futures"},
    "section.uncertainty_caption": {"sv": "Chans att ingen passerar gränsen, per månad",
                                  "en": "Chance nobody passes the limit, per month"},
    "section.month_resolution": {
        "sv": (" Med månadsdata följs kön månad för månad: en topp inom en månad, som sommarens veckor med minst "
               "kapacitet, jämnas ut över månaden och syns inte, så köpbehovet kan bli mindre än veckodata "
               "skulle visa."),
        "en": (" With monthly data the queue is followed month by month: a peak within a month, such as the "
               "summer weeks of least capacity, is evened out over the month and not seen, so the purchase need "
               "can come out smaller than weekly data would show.")},
    "section.fixed_above_capacity": {
        "sv": ("Kapaciteten är nu mindre än den fastställda planen räknade med: från {first} planerade den "
               "{n} patienter mer egen produktion än resurserna nu ger. Planen räknar med den kapacitet som "
               "finns, och de patienter det skulle lämna över {days} dagar köps utöver den fastställda planen. "
               "Sätt revise_fixed_plan för en körning för att fastställa en ny plan."),
        "en": ("The capacity is now smaller than the fixed plan counted on: from {first} it planned {n} patients "
               "more own production than the resources now give. The plan counts on the capacity there is, and "
               "the patients that would leave past {days} days are bought on top of the fixed plan. Set "
               "revise_fixed_plan for one run to fix a new plan.")},
    "section.previous_dropped": {
        "sv": ("Förra körningens plan var i {before}, men data är nu i {now}: dess fastställda plan kan inte "
               "behållas, så planen är gjord från början, som vid en första körning."),
        "en": ("The previous run's plan was in {before}, the data are now in {now}: its fixed plan cannot be "
               "kept, so the plan is made afresh, as in a first run.")},
    "section.plan_caption": {"sv": "Fastställd plan, {stage}, {n} {periods}",
                           "en": "Fixed plan, {stage}, {n} {periods}"},
    "section.history_caption": {"sv": "Fastställd plan mot utfall", "en": "Fixed plan against outcome"},
    "section.follow_up_caption": {"sv": "Planerade volymer mot utfall hittills i år",
                                "en": "Planned volumes against outcome, year to date"},
    "section.scenarios_caption": {
        "sv": ("Scenarier bredvid planen, summerade över hela planen, de kommande 52 veckorna (nyckeltalen "
               "överst gäller de fastställda 12 veckorna)"),
        "en": ("Scenarios beside the plan, summed over the whole plan, the coming 52 weeks (the key figures at "
               "the top are for the fixed 12 weeks)")},
    "section.findings_caption": {"sv": "Anmärkningar på indata", "en": "Findings in the input"},
    # the köproduktionskvot section's words for the data's periods (report.section("ratio", kind=...))
    "section.ratio_recent_week": {"sv": "veckorna", "en": "weeks"},
    "section.ratio_recent_month": {"sv": "månaderna", "en": "months"},
    "section.ratio_peak_week": {"sv": "en sommarvecka nästan utan produktion",
                                "en": "a summer week with almost no production"},
    "section.ratio_peak_month": {"sv": "en sommarmånad med låg produktion", "en": "a summer month of low production"},
    # the region overview's sections (sections._region_*)
    "section.region_stale": {"sv": "Inaktuella data: {items}.", "en": "Data out of date: {items}."},
    "section.region_stale_item": {"sv": "{name} (till och med {end}, {days} dagar före körningen)",
                                  "en": "{name} (up to {end}, {days} days before the run)"},
    "section.region_subtitle": {"sv": "Data till och med {last} · körning {run} · {n} kliniker",
                              "en": "Data up to {last} · run {run} · {n} clinics"},
    "section.count_red": {"sv": "{n} röd", "en": "{n} red"},
    "section.count_red_many": {"sv": "{n} röda", "en": "{n} red"},
    "section.count_yellow": {"sv": "{n} gul", "en": "{n} yellow"},
    "section.count_yellow_many": {"sv": "{n} gula", "en": "{n} yellow"},
    "section.count_green": {"sv": "{n} grön", "en": "{n} green"},
    "section.count_green_many": {"sv": "{n} gröna", "en": "{n} green"},
    "section.region_clinics": {"sv": "Kliniker: {counts}.", "en": "Clinics: {counts}."},
    "section.region_escalated": {"sv": " Eskaleras till divisionen: {names}.",
                               "en": " Escalated to the division: {names}."},
    "section.region_totals_caption": {"sv": "Regionen totalt", "en": "The region in total"},
    "section.region_need_caption": {"sv": "Behov: eskalering och köp de kommande 12 veckorna",
                                  "en": "Need: escalation and purchases over the coming 12 weeks"},
    "section.region_now_caption": {"sv": "Läget nu", "en": "The state now"},
    "section.region_no_purchase": {"sv": "*Ingen klinik behöver köpa vård.*", "en": "*No clinic needs to buy care.*"},
    "section.region_purchase_count": {"sv": "{name}: antal", "en": "{name}: patients"},
    "section.region_purchase_cost": {"sv": "{name}: kostnad (kr)", "en": "{name}: cost (SEK)"},
    "section.region_purchase_clinics": {"sv": "{name}: kliniker", "en": "{name}: clinics"},
    "section.region_purchase_caption": {"sv": "Köpt vård i regionen per månad och slag",
                                      "en": "Purchased care in the region per month and kind"},
    "section.region_month_until": {"sv": " (t.o.m. {week})", "en": " (up to {week})"},
    "section.region_latest_month": {"sv": " För kliniker med månadsdata är det den senaste månaden.",
                                    "en": " For clinics with monthly data it is the latest month."},
    "section.region_gap_months": {"sv": " Kliniker med månadsdata visas i ett eget diagram, per månad.",
                                  "en": " Clinics with monthly data are shown in a chart of their own, per month."},
    "plan.month_until": {"sv": " (t.o.m. {week})", "en": " (up to {week})"},
    "plan.month_from": {"sv": " (fr.o.m. {week})", "en": " (from {week})"},
    "section.moves_caption": {"sv": "Föreslagna flyttar", "en": "Suggested moves"},
    # figures (plots): titles, axes, legends; plot.stage_<stage> names a stage in a figure
    "plot.stage_new_visit": {"sv": "Väntar på nybesök", "en": "Waiting for first visit"},
    "plot.stage_treatment": {"sv": "Väntar på behandling", "en": "Waiting for treatment"},
    "plot.calendar_week_iso": {"sv": "Kalendervecka (ISO)", "en": "Calendar week (ISO)"},
    "plot.calendar_week": {"sv": "Kalendervecka", "en": "Calendar week"},
    "plot.small_counts": {"sv": "färre än {limit} patienter (höjden visar inte antalet)",
                        "en": "fewer than {limit} patients (the height does not show the count)"},
    "plot.protected_range": {"sv": "inom det markerade intervallet (skydd av små antal)",
                           "en": "within the marked range (protecting small counts)"},
    "plot.patients": {"sv": "Patienter", "en": "Patients"},
    "plot.waiting_days": {"sv": "Väntetid (dagar)", "en": "Waiting time (days)"},
    "plot.guarantee_limit": {"sv": "vårdgaranti {days} dagar", "en": "care guarantee {days} days"},
    "plot.no_data": {"sv": "Inga data", "en": "No data"},
    "plot.ratio_limit": {"sv": "{days} dagars produktion i kö (vårdgarantins gräns)",
                       "en": "{days} days of production waiting (the guarantee limit)"},
    "plot.ratio_axis": {"sv": "{periods} produktion i kö", "en": "{periods} of production waiting"},
    "plot.seasonal_factor": {"sv": "Säsongsfaktor (1 = normal)", "en": "Seasonal factor (1 = normal)"},
    "plot.net_inflow": {"sv": "Inflöde − utflöde", "en": "Inflow − outflow"},
    "plot.days_of_production": {"sv": " {days} dagars produktion", "en": " {days} days of production"},
    "plot.buys_care": {"sv": "köper vård enligt planen", "en": "buys care in the plan"},
    "plot.no_purchase": {"sv": "inget köp", "en": "no purchase"},
    "plot.actual": {"sv": "Utfall", "en": "Actual"},
    "plot.forecast": {"sv": "Prognos", "en": "Forecast"},
    "plot.gap_axis": {"sv": "Behov − kapacitet (patienter)", "en": "Need − capacity (patients)"},
    "plot.if_nothing_bought": {"sv": "Om inget köps", "en": "If nothing is bought"},
    "plot.with_purchase": {"sv": "Med planerat köp", "en": "With the planned purchase"},
    "plot.lead_time": {"sv": "ledtid för köp", "en": "purchase lead time"},
    "plot.patients_over_90": {"sv": "Patienter över 90 dagar", "en": "Patients over 90 days"},
    "plot.peak": {"sv": "högst {value}", "en": "peak {value}"},
    "plot.own_capacity": {"sv": "Egen kapacitet", "en": "Own capacity"},
    "plot.need": {"sv": "Behov för vårdgarantin", "en": "Need to keep the guarantee"},
    "plot.inflow_forecast": {"sv": "Inflöde (prognos)", "en": "Inflow (forecast)"},
    "plot.gap_bought": {"sv": "Glapp (köps)", "en": "Gap (bought)"},
    # figures' alt texts (plots.alt_*)
    "plot.alt_year_over_year": {"sv": "Linjediagram: {measure} per {word} under åren {years}, en linje per år.",
                              "en": "Line chart: {measure} per {word} in {years}, one line per year."},
    "plot.alt_latest": {"sv": " Senast ({when} {year}): {value}", "en": " Latest ({when} {year}): {value}"},
    "plot.alt_same_period": {"sv": ", samma {word} {year}: {value}", "en": ", the same {word} in {year}: {value}"},
    "plot.alt_ratio": {
        "sv": ("Linjediagram: köproduktionskvoten ({periods} produktion i kö) per steg de senaste åren. Senaste "
               "värde: {last} {periods}. Röd streckad linje vid {limit} {periods}, vårdgarantins gräns."),
        "en": ("Line chart: the queue-to-production ratio ({periods} of production waiting) per stage over the "
               "latest years. Latest: {last} {periods}. Red dashed line at {limit} {periods}, the guarantee "
               "limit.")},
    "plot.alt_seasonal": {
        "sv": "Linjediagram: säsongsfaktor per {period} under året, 1 är en normal {period}. Lägst: {lows}.",
        "en": "Line chart: seasonal factor per {period} over the year, 1 is a normal {period}. Lowest: {lows}."},
    "plot.alt_fan_band": {"sv": "; {level} %-intervallet spänner i snitt {lo}–{hi}",
                        "en": "; the {level} % interval spans {lo}–{hi} on average"},
    "plot.alt_fan": {
        "sv": ("Diagram: {measure} de senaste åren och prognosen för de kommande {n} {periods}, i snitt {mean} "
               "per {period}{band}."),
        "en": ("Chart: {measure} over the latest years and the forecast for the coming {n} {periods}, on average "
               "{mean} per {period}{band}.")},
    "plot.alt_balance": {
        "sv": ("Linjediagram: inflöde minus utflöde per {period} och steg (glidande medel); över noll växer kön. "
               "Senast: {last}."),
        "en": ("Line chart: inflow minus outflow per {period} and stage (moving average); above zero the queue "
               "grows. Latest: {last}.")},
    "plot.alt_waits_stage": {"sv": "{stage}: {total}, varav {over} över {days} dagar",
                           "en": "{stage}: {total}, of whom {over} over {days} days"},
    "plot.alt_waits": {"sv": "Stapeldiagram: väntande per väntetidsintervall i dagar. {parts}.",
                     "en": "Bar chart: patients waiting per waiting-time band in days. {parts}."},
    "plot.alt_breaches": {
        "sv": ("Stapeldiagram per steg och {period}, de kommande {n} {periods}: patienter som väntat över "
               "gränsen, högst {none} om inget köps och {after} med det planerade köpet."),
        "en": ("Bar chart per stage and {period}, the coming {n} {periods}: patients over the limit, at most "
               "{none} if nothing is bought and {after} with the planned purchase.")},
    "plot.alt_capacity_stage": {"sv": "{stage}: kapacitet {capacity}, behov {need}",
                              "en": "{stage}: capacity {capacity}, need {need}"},
    "plot.alt_capacity": {
        "sv": ("Linjediagram per steg över planens {n} {periods}: egen kapacitet, behov för vårdgarantin och "
               "inflöde; i snitt per {period} {parts}."),
        "en": ("Line chart per stage over the plan's {n} {periods}: own capacity, need to keep the guarantee and "
               "inflow; on average per {period} {parts}.")},
    "plot.alt_region_ratios": {
        "sv": ("Liggande stapeldiagram: köproduktionskvot i veckor per klinik, efter behov: {items}. Röd linje "
               "vid {limit} veckor (vårdgarantins gräns)."),
        "en": ("Horizontal bar chart: queue-to-production ratio in weeks per clinic, by need: {items}. Red line "
               "at {limit} weeks (the guarantee limit).")},
    "plot.alt_gap_empty": {"sv": "Värmekarta utan data.", "en": "Heat map without data."},
    "plot.alt_gap": {
        "sv": ("Värmekarta: kapacitetsglapp (behov minus egen kapacitet, patienter) per klinik och kalendervecka, "
               "de kommande 12 veckorna. "),
        "en": ("Heat map: capacity gap (need minus own capacity, patients) per clinic and calendar week, the "
               "coming 12 weeks. ")},
    "plot.alt_gap_total": {"sv": "Glapp totalt: {gaps}.", "en": "Total gap: {gaps}."},
    "plot.alt_gap_none": {"sv": "Ingen klinik har glapp.", "en": "No clinic has a gap."},
    # the run's index page (batch.write_index; clinic, status, done/failed, the region overview
    # and the run's title are LABELS' "clinic", "status", "ok", "failed", "region_overview", "run_title")
    "index.run": {"sv": "körning", "en": "run"},
    "index.caption": {"sv": "Klinikerna, de som behöver åtgärd först",
                      "en": "The clinics, those that need action first"},
    "index.order": {
        "sv": ("Ordning: misslyckade kliniker, sedan eskalering röd, gul, sedan flest beräknade patienter över "
               "vårdgarantin om inget köps, sedan övriga. Klicka på en klinik för dess rapport."),
        "en": ("Order: failed clinics, then escalation red, yellow, then the most patients projected past the "
               "guarantee if nothing is bought, then the rest. Click a clinic for its report.")},
    "index.stale": {"sv": "Inaktuella data: till och med {end}, {days} dagar före körningen.",
                    "en": "Data out of date: up to {end}, {days} days before the run."},
    "index.sections_failed": {"sv": "{n} avsnitt kunde inte visas (se run.log).",
                              "en": "{n} section(s) could not be shown (see run.log)."},
    "index.monthly": {
        "sv": ("”12 veckor” är den fastställda planen; för kliniker med månadsdata ({names}) är det de 3 "
               "månader som börjar inom de 12 veckorna."),
        "en": ("“12 weeks” is the fixed plan; for clinics with monthly data ({names}) it is the 3 "
               "months that start within those 12 weeks.")},
    "index.lead": {"sv": "Data t.o.m. {period} · körd {date}", "en": "Data up to {period} · run on {date}"},
    "index.counts": {"sv": "{ok} av {total} kliniker klara", "en": "{ok} of {total} clinics done"},
    "index.counts_failed": {"sv": ", {n} misslyckades", "en": ", {n} failed"},
    "index.week": {"sv": "vecka {week}, {year}", "en": "week {week}, {year}"},
    "index.no_data": {"sv": "okänd period", "en": "unknown period"},
    # the index page's month names in full, index.month_<1-12> (batch._period_text: "november 2026")
    "index.month_1": {"sv": "januari", "en": "January"},
    "index.month_2": {"sv": "februari", "en": "February"},
    "index.month_3": {"sv": "mars", "en": "March"},
    "index.month_4": {"sv": "april", "en": "April"},
    "index.month_5": {"sv": "maj", "en": "May"},
    "index.month_6": {"sv": "juni", "en": "June"},
    "index.month_7": {"sv": "juli", "en": "July"},
    "index.month_8": {"sv": "augusti", "en": "August"},
    "index.month_9": {"sv": "september", "en": "September"},
    "index.month_10": {"sv": "oktober", "en": "October"},
    "index.month_11": {"sv": "november", "en": "November"},
    "index.month_12": {"sv": "december", "en": "December"},
    # the index of all runs and the latest run (batch.write_runs_index, batch.update_latest;
    # "done" is LABELS' "ok")
    "runs.title": {"sv": "KPS-körningar", "en": "KPS runs"},
    "runs.caption": {"sv": "Alla avslutade körningar, den senaste först",
                     "en": "Every finished run, the newest first"},
    "runs.latest": {"sv": "Senaste körningen", "en": "The latest run"},
    "runs.finished": {"sv": "Avslutad", "en": "Finished"},
    "runs.clinics": {"sv": "Kliniker", "en": "Clinics"},
    "runs.run": {"sv": "Körning", "en": "Run"},
    "runs.region_none": {"sv": "–", "en": "–"},
    # the page shown instead of a failed report (batch.write_failure_page, batch._notebook_step)
    "failure.title": {"sv": "{name}: rapporten kunde inte tas fram", "en": "{name}: the report could not be produced"},
    "failure.region_title": {"sv": "Regionöversikten kunde inte tas fram",
                             "en": "The region overview could not be produced"},
    "failure.what": {"sv": "Vad misslyckades", "en": "What failed"},
    "failure.step": {"sv": "I vilket steg", "en": "In which step"},
    "failure.message": {"sv": "Meddelande", "en": "Message"},
    "failure.todo": {"sv": "Gör så här", "en": "What to do"},
    "failure.details": {"sv": "Tekniska detaljer", "en": "Technical details"},
    "failure.back": {"sv": "Till körningens översikt (index.html)", "en": "Back to the run's overview (index.html)"},
    "failure.what_clinic": {"sv": "Rapporten för {name}; körningens övriga kliniker påverkas inte.",
                            "en": "The report of {name}; the run's other clinics are not affected."},
    "failure.what_region": {
        "sv": ("Regionöversikten (region/overview.html); klinikernas rapporter påverkas inte, "
               "men körningen räknas som misslyckad."),
        "en": ("The region overview (region/overview.html); the clinics' reports are not affected, "
               "but the run counts as failed.")},
    "failure.details_log": {
        "sv": "Felets fullständiga spår finns i {log} i samma mapp (för den som förvaltar verktyget).",
        "en": "The full trace of the error is in {log} in the same folder (for whoever maintains the kit)."},
    "failure.details_notebook": {"sv": "Den körda anteckningsboken finns i {notebook}.",
                                 "en": "The executed notebook is in {notebook}."},
    "failure.where_section": {"sv": "avsnittet ”{section}” (kodcell {cell} i rapportmallen)",
                              "en": "the section “{section}” (code cell {cell} of the report template)"},
    "failure.where_setup": {"sv": "inläsningen av parametrar och data (kodcell {cell} i rapportmallen)",
                            "en": "reading the parameters and data (code cell {cell} of the report template)"},
    # the step that failed, failure.step_<step>, and what to do, failure.todo_<step> (batch._texts)
    "failure.step_parameters": {"sv": "parametrarna", "en": "the parameters"},
    "failure.step_data": {"sv": "indata", "en": "the input data"},
    "failure.step_analysis": {"sv": "analysen", "en": "the analysis"},
    "failure.step_timeout": {"sv": "tidsgränsen", "en": "the time limit"},
    "failure.step_worker": {"sv": "arbetsprocessen", "en": "the worker process"},
    "failure.step_html": {"sv": "HTML-exporten", "en": "the HTML export"},
    "failure.step_region": {"sv": "regionöversikten", "en": "the region overview"},
    "failure.todo_parameters": {
        "sv": ("Rätta parameterfilen och nyckeln som meddelandet nämner. Kontrollera med "
               "”kps validate” och kör sedan kliniken igen (kps run --clinic {clinic})."),
        "en": ("Correct the parameter file and key the message names. Check with “kps validate”, "
               "then run the clinic again (kps run --clinic {clinic}).")},
    "failure.todo_data": {
        "sv": ("Rätta datafilen på det ställe meddelandet nämner (fil, kolumn, rad eller vecka). "
               "”kps validate” kontrollerar filerna utan att köra något; kör sedan kliniken igen "
               "(kps run --clinic {clinic})."),
        "en": ("Correct the data file where the message says (file, column, row or week). "
               "“kps validate” checks the files without running anything; then run the clinic again "
               "(kps run --clinic {clinic}).")},
    "failure.todo_timeout": {
        "sv": ("Ett steg tog längre tid än klinikens tidsgräns. Höj timeout_minutes i klinikens "
               "parameterfil, eller kör kliniken ensam (kps run --clinic {clinic} --workers 1)."),
        "en": ("A step took longer than the clinic's time limit. Raise timeout_minutes in the clinic's "
               "parameter file, or run the clinic alone (kps run --clinic {clinic} --workers 1).")},
    "failure.todo_worker": {
        "sv": ("Processen som körde kliniken avbröts, troligen av minnesbrist. Kör kliniken igen med "
               "färre parallella kliniker (kps run --clinic {clinic} --workers 1)."),
        "en": ("The process running the clinic was stopped, probably for lack of memory. Run the clinic "
               "again with fewer clinics in parallel (kps run --clinic {clinic} --workers 1).")},
    "failure.todo_analysis": {
        "sv": ("Felet uppstod i beräkningen, inte i en kontroll av era data. Kör kliniken igen "
               "(kps run --clinic {clinic}); kvarstår felet, skicka mappen {clinic} (run.log och "
               "report.ipynb, inga patientuppgifter) till den som förvaltar verktyget."),
        "en": ("The error happened in the calculation, not in a check of your data. Run the clinic again "
               "(kps run --clinic {clinic}); if it persists, send the folder {clinic} (run.log and "
               "report.ipynb, no patient data) to whoever maintains the kit.")},
    "failure.todo_html": {
        "sv": ("Rapporten beräknades men kunde inte sparas som HTML. Kontrollera att det finns "
               "diskutrymme och kör kliniken igen (kps run --clinic {clinic})."),
        "en": ("The report was computed but could not be saved as HTML. Check the free disk space and run "
               "the clinic again (kps run --clinic {clinic}).")},
    "failure.todo_region": {
        "sv": ("Kör om körningen; kvarstår felet, skicka mappen region (run.log och overview.ipynb) "
               "till den som förvaltar verktyget."),
        "en": ("Run again; if it persists, send the folder region (run.log and overview.ipynb) to whoever "
               "maintains the kit.")},
    # the escalation rule as the report states it, with the clinic's own limits (planning.ESCALATION_RULE,
    # report.plan.escalation_text)
    "escalation_rule.text": {
        "sv": ("**Röd** (eskaleras till divisionen): vårdgarantimålet nås inte nu (andelen som väntat över "
               "{days} dagar är över {miss:.0%}) och den egna kapaciteten räcker inte, så vård måste köpas; "
               "eller produktionen hittills i år ligger mer än {red:g} % under planen medan vårdgarantin är i "
               "fara (något av villkoren för gul nedan); röd av det skälet {red_run}: till regionen. "
               "**Gul** (hanteras i kliniken): målet nås inte nu, eller planen kräver köp, eller patienter "
               "passerar gränsen innan ett köp hinner ordnas (ledtid {lead} veckor), eller produktionen ligger "
               "mer än {yellow:g} % under planen medan vårdgarantin är i fara. **Grön**: annars; en klinik som "
               "håller vårdgarantin med ledig kapacitet och producerar under planen hanterar avvikelsen själv "
               "(den visas under Plan mot utfall). **–** (bedöms inte): varken väntetider eller "
               "en plan att bedöma vårdgarantin efter (till exempel bara operationer, utan kö)."),
        "en": ("**Red** (escalated to the division): the guarantee target is missed now (the share waited over "
               "{days} days is above {miss:.0%}) and own capacity is not enough, so care must be bought; or "
               "production so far this year is more than {red:g} % below plan while the guarantee is at risk (one of "
               "the conditions for yellow below); red for that reason {red_run}: to the region. "
               "**Yellow** (handled in the clinic): the target is missed now, or the plan needs a purchase, or "
               "patients pass the limit before a purchase can be arranged (lead time {lead} weeks), or production "
               "is more than {yellow:g} % below the plan while the guarantee is at risk. **Green**: otherwise; a "
               "clinic keeping the guarantee with spare capacity and producing below plan handles the deviation "
               "itself (it shows under Plan against outcome). **–** (not assessed): neither "
               "waiting times nor a plan to judge the guarantee by (operations only, say, without a queue).")},
    # the holiday seasons, season.<key> (calendar.SEASON_NAMES, calendar.seasons)
    "season.sports_holiday": {"sv": "sportlov", "en": "sports holiday"},
    "season.easter": {"sv": "påsk", "en": "Easter"},
    "season.midsummer": {"sv": "midsommar", "en": "Midsummer"},
    "season.summer": {"sv": "sommar", "en": "summer"},
    "season.christmas": {"sv": "jul", "en": "Christmas"},
    # the optional groups of a clinic file, capability.<group> (parameters.CAPABILITIES, needs_sentence)
    "capability.resources": {
        "sv": "klinikens resurser (mottagningstider och operationstider per normal vecka, `resources`)",
        "en": "the clinic's resources (visit slots and theatre sessions per normal week, `resources`)"},
    "capability.care_agreement": {"sv": "vårdöverenskommelsens årsvolymer (`annual_volume`)",
                                  "en": "the care agreement's annual volumes (`annual_volume`)"},
    "capability.prices": {"sv": "priser för köpt vård och egen produktion (`prices`)",
                          "en": "prices of purchased care and own production (`prices`)"},
    "capability.closures": {"sv": "planerade neddragningar (`closures`)", "en": "planned closures (`closures`)"},
    "capability.scenarios": {"sv": "scenarier (`scenarios`)", "en": "scenarios (`scenarios`)"},
    "capability.region_pool": {"sv": "en gemensam väntelista med andra kliniker (`region_pool`)",
                               "en": "a common waiting list with other clinics (`region_pool`)"},
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


def label(key: str, language: str = "sv", **fields) -> str:
    """The text of ``key`` in ``language``: the one function every report text goes through.

    Looked up in :data:`LABELS`, then :data:`TEXTS`; unknown keys are returned unchanged,
    so a new measure never breaks a report.

    Parameters
    ----------
    key : str
        A canonical measure or column name, or a text key ``<area>.<name>``.
    language : {"sv", "en"}
        Report language.
    **fields
        Values of the text's ``{placeholders}``, already formatted as text.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        For a language other than "sv" and "en".

    Examples
    --------
    >>> label("new_visits")
    'Nybesök'
    >>> label("new_visits", "en")
    'New visits'
    >>> label("plan.queue_grows", "en", signed="+12")
    'The queue grows (+12 since last week).'
    >>> label("section.decision_no_purchase", n="12", periods="veckor")   # the definite plural Swedish takes
    'Inget köp behövs de kommande 12 veckorna.'
    """
    if language not in ("sv", "en"):
        raise ValueError(f"language must be 'sv' or 'en', got {language!r}")
    entry = LABELS.get(key) or TEXTS.get(key)
    if entry is None:
        return key
    text = entry.get(language, entry["sv"])
    if not fields:
        return text
    text = text.format(**fields)
    # "de kommande {n} {periods}" in the definite form Swedish takes after "de kommande"/"de första"
    # ("de kommande 12 veckorna", "de första 3 månaderna"); one period keeps its own ("1 vecka")
    return _SV_DEFINITE.sub(r"\1\2na", text) if language == "sv" else text


#: Swedish "de kommande/första <n> veckor|månader": the plural the definite form is made of.
_SV_DEFINITE = re.compile(r"\b([Dd]e (?:kommande|första|senaste) \d+ )(veckor|månader)\b")


def measure_label(columns: Iterable[str], language: str = "sv") -> dict[str, str]:
    """Mapping ``column -> label`` for renaming a table's columns for a report.

    Examples
    --------
    >>> measure_label(["clinic", "new_visits"])
    {'clinic': 'Klinik', 'new_visits': 'Nybesök'}
    """
    return {c: label(c, language) for c in columns}


#: Stage names in reports.
# the treatment stage by what it produces and buys, as the purchase tables, the key figures and the
# region overview name it (the report, plan.xlsx and the tables call one stage one thing)
STAGE_NAMES = {"sv": {"new_visit": "Nybesök", "treatment": "Operationer"},
               "en": {"new_visit": "First visit", "treatment": "Operations"}}


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


#: The week words a monthly clinic's report swaps for month words, per language: (week word,
#: month word) pairs, whole words (:func:`kps_analysis.sections.in_periods`).
WEEK_TO_MONTH = {
    "sv": (("sommarveckorna 27–32", "sommarmånaderna juli och augusti"), ("veckorna", "månaderna"),
           ("veckornas", "månadernas"), ("veckans", "månadens"), ("veckan", "månaden"), ("veckors", "månaders"),
           ("veckor", "månader"), ("vecka", "månad"), ("Veckor", "Månader"), ("Vecka", "Månad"),
           ("veckovis", "månadsvis"), ("veckodata", "månadsdata"), ("veckoförändringen", "månadsförändringen")),
    "en": (("summer weeks 27-32", "summer months July and August"), ("weeks", "months"), ("week", "month"),
           ("Weeks", "Months"), ("Week", "Month"), ("weekly", "monthly"), ("week-on-week", "month-on-month")),
}


#: The words of a sheet's header that name the row's own period, as a monthly clinic's sheet says them
#: (``workbook.sheet_from_frame``); a number of weeks (the fixed 12 weeks of a headline figure) and a
#: unit (the köproduktionskvot in weeks) stay.
ROW_PERIOD_WORDS = {"sv": (("veckans", "månadens"), ("Veckor framåt", "Månader framåt"), ("veckan", "månaden")),
                    "en": (("week's", "month's"), ("Weeks ahead", "Months ahead"), ("the week", "the month"))}


def in_months(text: str, language: str = "sv") -> str:
    """A text written for weekly data with every week word as the month word (whole words, the
    pairs of :data:`WEEK_TO_MONTH`): :func:`kps_analysis.sections.in_periods` for monthly clinics.

    Examples
    --------
    >>> in_months("Kön per vecka; de kommande veckorna.")
    'Kön per månad; de kommande månaderna.'
    """
    import re

    pairs = dict(WEEK_TO_MONTH["en" if language == "en" else "sv"])
    words = "|".join(sorted(map(re.escape, pairs), key=len, reverse=True))
    pattern = re.compile(r"(?<![\w-])(" + words + r")(?![\w-])")
    return pattern.sub(lambda m: pairs[m.group(1)], text)


#: Month names as dates and axes abbreviate them ("maj 2025", "May 2025"), January first.
MONTH_NAMES = {"sv": ("jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec"),
               "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")}


def month_name(month: int, language: str = "sv") -> str:
    """The short name of month 1-12 in the report language (``jan`` … ``dec``, ``Jan`` … ``Dec``).

    Examples
    --------
    >>> month_name(5), month_name(10, "en")
    ('maj', 'Oct')
    """
    return MONTH_NAMES["en" if language == "en" else "sv"][int(month) - 1]
