"""Section headings and the plain-language explanations a clinic manager reads (sv, en).

:data:`SECTIONS` holds each section's Markdown (heading and explanation) in both
languages; :func:`section` returns one, with the clinic calendar's holiday seasons filled in.
"""

from __future__ import annotations

from .labels import label

#: Section headings and the plain-language explanations a clinic manager reads.
SECTIONS: dict[str, dict[str, str]] = {
    "key_figures": {
        "sv": "## Nyckeltal och eskalering\nAlla nyckeltal ur planeringsmodellen, med enhet. Kapacitetsglappet "
              "mäts mot det som behövs för att hålla vårdgarantin, inte mot en målkö.",
        "en": "## Key figures and escalation\nEvery key figure of the planning model, with its unit. The capacity "
              "gap is measured against what keeping the care guarantee needs, not against a target queue.",
    },
    "summary": {
        "sv": "## Sammanfattning\nDe viktigaste talen för kliniken den senaste veckan.",
        "en": "## Summary\nThe clinic's headline figures for the latest week.",
    },
    "changes": {
        "sv": "### Vad har ändrats sedan förra veckan\nDen senaste veckan jämförd med veckan före och med "
              "snittet för de fyra veckorna dessförinnan. En förändring markeras som ovanligt stor när den är "
              "mer än dubbelt så stor som den vanliga veckoförändringen (två standardavvikelser det senaste året).",
        "en": "### What changed since last week\nThe latest week against the week before and against the mean "
              "of the four weeks before it. A change is marked unusually large when it is more than twice the "
              "usual week-on-week change (two standard deviations over the past year).",
    },
    "situation": {
        "sv": "## Läget vecka för vecka\nInflöde (remisser), produktion och kö per vecka i år, "
              "med samma veckor de två föregående åren bredvid. Det skuggade fältet är sommarveckorna 27–32.",
        "en": "## The situation week by week\nInflow (referrals), production and queue per week this year, "
              "with the same weeks of the two previous years beside them. The shaded band is summer weeks 27-32.",
    },
    "waits": {
        "sv": "## Väntetider\nHur länge de som väntar just nu har väntat, i dagar. Randiga staplar till "
              "höger om den streckade linjen har passerat vårdgarantins gräns. Patienter som själva valt att vänta "
              "längre räknas inte mot garantin.",
        "en": "## Waiting times\nHow long the patients waiting now have waited, in days. Hatched bars right of "
              "the dashed line are past the care-guarantee limit. Patients who chose to wait longer do not count "
              "against the guarantee.",
    },
    "waits_missing": {
        "sv": "*Kliniken levererar bara veckosummor, inte en väntelista per patient, så fördelningen kan inte visas.*",
        "en": "*The clinic delivers weekly totals only, not a patient-level list, so the distribution cannot be "
              "shown.*",
    },
    "ratio": {
        "sv": "## Köproduktionskvot\nKön delad med produktionen per vecka: hur många veckors produktion som "
              "väntar, alltså ungefär hur länge en ny patient får vänta (Littles lag). Produktionen är ett "
              "glidande medel över de senaste {recent}, köpt vård inräknad. Den röda streckade linjen är 90 dagars "
              "produktion: ligger kurvan över linjen väntar även den som tas i turordning längre än vårdgarantin. "
              "Under linjen kan patienter ändå passera gränsen (prioriteringar, ojämna flöden); om vård behöver "
              "köpas avgör planeringsmodellen (avsnitten nedan). En enstaka topp ({peak}) skärs av och skrivs ut, "
              "så att den inte plattar till resten.",
        "en": "## Queue-to-production ratio\nThe queue divided by weekly production: how many weeks of "
              "production are waiting, roughly how long a new patient will wait (Little's law). Production is "
              "a trailing average over the latest {recent}, purchased care included. The red dashed line is 90 "
              "days of production: above "
              "it even a patient served in turn waits longer than the care guarantee. Below it patients may still "
              "pass the limit (priorities, uneven flows); whether care must be bought is the planning model's "
              "answer (the sections below). A single peak ({peak}) is cut and "
              "its value written out, so that it does not flatten the rest.",
    },
    "seasonal": {
        "sv": "## Säsongsmönster\nHur en vanlig vecka ser ut under året, räknat ur tidigare år (avvikande år "
              "som pandemiåret 2020 är uteslutna). 1 är en genomsnittlig vecka; 0,5 betyder halva den vanliga "
              "volymen. Produktionen sjunker mer än remisserna under {seasons}, och då "
              "växer kön.",
        "en": "## Seasonal pattern\nWhat a normal week looks like over the year, from earlier years (outlier "
              "years such as the pandemic year 2020 left out). 1 is an average week; 0.5 means half the usual "
              "volume. Production drops more than referrals over {seasons}, and then the queue grows.",
    },
    "balance": {
        "sv": "## Balans mellan in- och utflöde\nSkillnaden mellan vad som kommer in och vad som går ut per vecka, "
              "för {queues} (glidande medel). Över noll växer kön. Tabellen visar "
              "belastningen de kommande 12 veckorna i planeringsmodellen (prognosens inflöde delat med den kapacitet "
              "planen bygger på): steget med högst belastning över 1 är flaskhalsen, där en inre kö byggs upp.",
        "en": "## Balance of inflow and outflow\nThe difference between what comes in and what goes out per week, for "
              "{queues} (moving average). Above zero the queue grows. The table shows "
              "the load of the coming 12 weeks in the planning model (the forecast inflow divided by the capacity the "
              "plan rests on): the stage with the highest load above 1 is the bottleneck, where an internal queue "
              "builds up.",
    },
    "breaches": {
        "sv": "### Hur många passerar 90 dagar de kommande veckorna?\nPlaneringsmodellen: prognosens inflöde, den "
              "egna kapaciteten nedan och patienterna i tur och ordning efter medicinsk prioritet och väntetid. "
              "Randiga staplar: antal som vid veckans slut har väntat över 90 dagar om ingen vård köps. Svarta "
              "staplar: med det planerade köpet. Köpt vård kan tas emot först efter ledtiden (skuggat), så de som "
              "passerar gränsen dessförinnan kan bara hjälpas med egna extra insatser eller flytt.",
        "en": "### How many will pass 90 days in the coming weeks?\nThe planning model: the forecast inflow, the own "
              "capacity below and patients taken by medical priority, then waiting time. Hatched bars: patients who "
              "have waited over 90 days at the end of each week if no care is bought. Black bars: with the planned "
              "purchase. Purchased care can start only after the lead time (shaded), so those who pass the limit "
              "before then can only be helped by extra own sessions or a move.",
    },
    "quality": {
        "sv": "## Datakvalitet\nKontroller av indata: saknade veckor, dubbletter, negativa tal och köer som inte "
              "går ihop med in- och utflödet. Fel bör rättas i källsystemet.",
        "en": "## Data quality\nChecks of the input: missing weeks, duplicates, negative counts and queues that do not "
              "reconcile with inflow and outflow. Errors should be corrected at the source.",
    },
    "quality_ok": {"sv": "*Inga anmärkningar.*", "en": "*No findings.*"},
    "provenance": {"sv": "## Om rapporten", "en": "## About this report"},
    "region_title": {"sv": "# Regionöversikt", "en": "# Region overview"},
    "region_totals": {
        "sv": "## Regionen totalt\nSumma över klinikerna senaste veckan: väntande, väntat över 90 dagar och "
              "det högsta antalet över 90 dagar inom 12 veckor om inget köps (klinikernas högsta, summerade; "
              "de kan falla i olika veckor). Andelen över 90 dagar räknas på dem som väntar mot vårdgarantin, "
              "utan dem som väntar längre av eget val (som klinikernas andelar).",
        "en": "## The region in total\nSums over the clinics for the latest week: waiting, waited over 90 days, "
              "and the peak over 90 days within 12 weeks if nothing is bought (the clinics' peaks summed; they "
              "may fall in different weeks). The share over 90 days is of those waiting against the guarantee, "
              "chosen waits left out (as the clinics' shares).",
    },
    "region_ranking": {
        "sv": "## Klinikerna efter behov\nRöd eskalering först, sedan gul och grön; inom varje färg flest beräknade "
              "patienter över 90 dagar om inget köps. Köpen är planeringsmodellens svar för varje klinik, nybesök "
              "och operationer var för sig. Diagrammet visar köproduktionskvoten i samma ordning; den röda linjen är "
              "90 dagars produktion: en "
              "klinik till höger om den håller inte vårdgarantin ens om patienterna tas i turordning. Mörka randiga "
              "staplar: kliniker som behöver köpa vård enligt planen.",
        "en": "## Clinics by need\nRed escalation first, then yellow and green; within each colour the most "
              "patients projected over 90 days if nothing is bought. The purchases are the planning model's answer "
              "for each clinic, first visits and operations apart. The chart shows the queue-to-production ratio in "
              "the same order; the red line "
              "is 90 days of production: a clinic beyond it misses the guarantee even serving patients in turn. "
              "Dark hatched bars: clinics that must buy care in the plan.",
    },
    "region_purchase": {
        "sv": "## Köpt vård i regionen per månad\nSumman av klinikernas köp och kostnad de kommande 12 veckorna (den "
              "fastställda planen), nybesök och operationer var för sig.",
        "en": "## Purchased care in the region per month\nThe clinics' purchases and their cost over the coming 12 "
              "weeks (the fixed plan), first visits and operations apart.",
    },
    "region_gap": {
        "sv": "## Kapacitetsglapp per klinik och vecka\nBehov minus egen kapacitet (båda stegen) de kommande veckorna: "
              "rött = behovet är större än kapaciteten, blått = ledig kapacitet som kan ta emot patienter från andra "
              "sjukhus (gemensamma väntelistor).",
        "en": "## Capacity gap per clinic and week\nNeed minus own capacity (both stages) over the coming weeks: red = "
              "need above capacity, blue = spare capacity that could take patients from other hospitals (common "
              "waiting lists).",
    },
    "forecast": {
        "sv": "## Prognos för inflödet\nRemisser per vecka de kommande 52 veckorna. Den streckade linjen är "
              "den mest sannolika nivån; de skuggade fälten visar osäkerheten: utfallet bör hamna i det mörkare "
              "fältet ungefär 4 veckor av 5 och i det ljusare 19 veckor av 20. Prognosen tar hänsyn till "
              "säsong, trend och helgdagar (en vecka med två röda dagar får färre remisser).",
        "en": "## Forecast of the inflow\nReferrals per week for the coming 52 weeks. The dashed line is the most "
              "likely level; the shaded bands show the uncertainty: the outcome should fall in the darker band "
              "about 4 weeks in 5 and in the lighter one 19 weeks in 20. The forecast accounts for season, "
              "trend and public holidays (a week with two public holidays gets fewer referrals).",
    },
    "capacity": {
        "sv": "## Kapacitet mot behov\nTabellen: kapaciteten enligt resursparametrarna (mottagningstider, "
              "operationssalar, personal) bredvid det kliniken faktiskt har producerat under normala veckor, och "
              "vilken av dem planen bygger på. En skillnad över toleransen är en datakvalitetsfråga: stäm av "
              "parametrarna. Figuren: egen kapacitet per vecka (helgdagar och planerade neddragningar syns som "
              "dippar) mot det som behöver produceras för att ingen ska vänta över 90 dagar (egen produktion plus "
              "köp). Kapacitetsglappet är behovet minus kapaciteten, i patienter; det skuggade fältet köps.",
        "en": "## Capacity against need\nThe table: capacity from the resources parameters (slots, theatre sessions, "
              "staff) beside what the clinic has actually produced in normal weeks, and which of them the plan rests "
              "on. A difference beyond the tolerance is a data-quality finding: check the parameters. The figure: own "
              "capacity per week (holidays and planned closures show as dips) against what must be produced so that "
              "nobody waits over 90 days (own production plus purchase). The capacity gap is need minus capacity, in "
              "patients; the shaded area is bought.",
    },
    "purchase": {
        "sv": "## Köpt vård\nDet minsta antal hela patienter per månad som måste köpas av andra vårdgivare för att "
              "ingen ska vänta över 90 dagar, i samma turordning som den egna produktionen (de som annars skulle "
              "passera gränsen köps). Nybesök och operationer var för sig, med kostnaden jämfört med samma volym i "
              "egen regi och veckan då köpet senast måste beställas (ledtiden).",
        "en": "## Purchased care\nThe least number of whole patients per month that must be bought from other "
              "providers so that nobody waits over 90 days, in the same order as own production (those who would "
              "otherwise pass the limit are bought). First visits and operations apart, with the cost against the "
              "same volume in-house and the week by which the purchase must be ordered (the lead time).",
    },
    "plan": {
        "sv": "## Rullande produktionsplan\nPer vecka och steg: inflöde enligt prognosen, egen kapacitet, planerad "
              "egen produktion (högst kapaciteten; en fastställd vecka kan ligga något över, inom klinikens "
              "tolerans), köp, kön vid veckans slut och hur många som då har väntat över 90 dagar. De första 12 "
              "veckorna är fastställda: nästa körning behåller dem om de inte revideras eller resurserna har "
              "minskat mer än toleransen (då planeras de med den kapacitet som finns). "
              "Hela planen (52 veckor, med vårdöverenskommelsens volym bredvid) finns i `plan.xlsx` och "
              "`tables/production_plan.csv`.",
        "en": "## Rolling production plan\nPer week and stage: forecast inflow, own capacity, planned own production "
              "(at most the capacity; a fixed week may lie a little above it, within the clinic's tolerance), "
              "purchase, the queue at the week's end and how many have then waited over 90 days. The first 12 "
              "weeks are fixed: the next run keeps them unless they are revised or the resources have fallen by "
              "more than the tolerance (then they are planned with the capacity there is). The whole plan "
              "(52 weeks, with the care agreement's volume beside it) is in `plan.xlsx` and "
              "`tables/production_plan.csv`.",
    },
    "follow_up": {
        "sv": "## Plan mot utfall\nDen egna produktionen hittills i år mot den planerade produktionen i indata "
              "(planerade nybesök och operationer, inte den rullande produktionsplanen ovan) och mot samma period "
              "i fjol. "
              "Avvikelsen får sin färg av gränserna (gul, röd). Egen produktion under planen eskaleras en nivå "
              "upp när vårdgarantin är i fara (gul: kliniken, röd: divisionen; röd {red_run}: regionen), "
              "som i eskaleringsregeln ovan; annars hanterar enheten avvikelsen själv (nivå: enheten).",
        "en": "## Plan against outcome\nOwn production so far this year against the production planned in "
              "the data (planned first visits and operations, not the rolling production plan above) and the same "
              "period last year. The deviation takes its colour from the limits (yellow, red). Own production below "
              "plan goes one level up when the guarantee is at risk (yellow: clinic, red: division; red {red_run}: "
              "region), as in the escalation rule above; otherwise the unit handles the "
              "deviation itself (level: unit).",
    },
    "scenarios": {
        "sv": "## Scenarier\nVad händer under det kommande året om förutsättningarna ändras? Varje scenario räknas i "
              "samma planeringsmodell som planen (samma kö, turordning, vårdgaranti och ledtid); det enda som skiljer "
              "är det som scenariot ändrar. Första raden är planen.",
        "en": "## Scenarios\nWhat happens over the coming year if conditions change? Each scenario runs through the "
              "same planning model as the plan (the same queue, order, guarantee and lead time); only what the "
              "scenario changes differs. The first row is the plan.",
    },
    "region_moves": {
        "sv": "## Flytta patienter eller köpa vård?\nKliniker som erbjuder samma vård (t.ex. de två ortopedklinikerna) "
              "kan dela väntelista. Den billigaste planen för regionen som håller vårdgarantin: egen produktion upp "
              "till kapaciteten, patienter flyttade till sjukhus med ledig kapacitet, och köpt vård för resten.",
        "en": "## Move patients or buy care?\nClinics offering the same care (e.g. the two orthopaedic clinics) can "
              "share a waiting list. The region's cheapest plan that keeps the guarantee: own production up to "
              "capacity, patients moved to hospitals with spare capacity, and purchased care for the rest.",
    },
    "monte_carlo": {
        "sv": "### Hur säkert är köpbehovet?\nPlanen räknas om i många tänkbara framtider: inflödet varierar inom "
              "prognosens osäkerhet och den egna produktionen som den historiskt har varierat mot plan (sjukfrånvaro, "
              "strykningar). Första tabellen: planerat köp de kommande 12 veckorna, köp som räcker i 50, 80 och 95 % "
              "av framtiderna, och chansen att ingen passerar 90 dagar med det planerade köpet under veckorna efter "
              "ledtiden. Andra tabellen: samma chans per månad (första månaden ligger inom ledtiden).",
        "en": "### How certain is the purchase need?\nThe plan is recomputed over many possible futures: inflow "
              "varies within the forecast's uncertainty and own production as it has varied against plan (sick leave, "
              "cancellations). First table: the planned purchase over the coming 12 weeks, the purchase that suffices "
              "in 50, 80 and 95 % of futures, and the chance that nobody passes 90 days with the planned purchase in "
              "the weeks after the lead time. Second table: the same chance per month (the first month lies within "
              "the lead time).",
    },
}


def section(key: str, language: str = "sv", *, country: str = "SE", subdivision: str | None = None,
            kind: str = "week", stages=None) -> str:
    """Markdown of a report section's heading and explanation.

    ``stages``: the stages the clinic has (its plan's); the balance names only the
    queues of those (a dermatology clinic has no treatment queue). None: both.

    Texts that name the year's holiday seasons name those of the clinic's calendar
    (``country``, ``subdivision``: :func:`kps_analysis.calendar.season_phrase`); the time a
    red shortfall lasts before the region takes it is said for the clinic's periods
    (``kind`` "week" or "month": four weeks, by days one month).

    Examples
    --------
    >>> section("summary").splitlines()[0]
    '## Sammanfattning'
    >>> "kön till nybesök, det enda steget" in section("balance", stages={"new_visit"})
    True
    """
    language = language if language in ("sv", "en") else "sv"
    text = SECTIONS[key][language]
    if "{seasons}" in text:   # the calendar's own seasons
        from ..calendar import season_phrase

        phrase = season_phrase(country=country, subdivision=subdivision, language=language)
        text = text.replace("{seasons}", phrase or label("section.holidays", language))
    if "{queues}" in text:
        one = stages is not None and "treatment" not in set(stages)
        text = text.replace("{queues}", label(f"section.queues_{'first_visit' if one else 'both'}", language))
    if "{peak}" in text:   # the köproduktionskvot stays in weeks; its data's periods are the clinic's
        period = "month" if kind == "month" else "week"
        text = text.replace("{recent}", label(f"section.ratio_recent_{period}", language)).replace(
            "{peak}", label(f"section.ratio_peak_{period}", language))
    return text.replace("{red_run}", label(f"escalation.red_run_{'month' if kind == 'month' else 'week'}", language))
