import numpy as np
import pandas as pd
import pytest

from kps_analysis import report


def test_labels_swedish_default_and_english():
    assert report.label("queue_new_visit") == "Väntande nybesök"
    assert report.label("queue_new_visit", "en") == "Waiting for first visit"
    assert report.label("not_a_key") == "not_a_key"
    with pytest.raises(ValueError, match="language"):
        report.label("clinic", "de")


def test_suppress_small_hides_1_to_4_but_not_zero_and_keeps_input():
    t = pd.DataFrame({"n": [0, 1, 4, 5, 1234]})
    out = report.suppress_small(t, ["n"], limit=5)
    assert out["n"].tolist() == ["0", "<5", "<5", "5", "1\u00a0234"]
    assert t["n"].tolist() == [0, 1, 4, 5, 1234]  # input untouched
    assert report.suppress_small(t, ["n"], limit=0)["n"].tolist() == [0, 1, 4, 5, 1234]


def test_format_count_swedish_and_english():
    assert report.format_count(1234567.891, decimals=2) == "1\u00a0234\u00a0567,89"
    assert report.format_count(1234567.891, language="en", decimals=2) == "1,234,567.89"


def test_atomic_write_keeps_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "tables" / "summary.csv"
    report.write_table(pd.DataFrame({"a": [1]}), path)
    before = path.read_text()
    with pytest.raises(RuntimeError):
        with report.atomic_path(path) as tmp:
            tmp.write_text("half a fi")
            raise RuntimeError("killed")
    assert path.read_text() == before
    assert [p.name for p in path.parent.iterdir()] == ["summary.csv"]  # no temp file left


def test_write_table_writes_iso_week_labels(tmp_path):
    periods = pd.period_range("2020-12-21", periods=3, freq="W-SUN")  # 2020 has week 53
    path = report.write_table(pd.DataFrame({"period": periods, "x": [1, 2, 3]}), tmp_path / "t.csv")
    assert pd.read_csv(path)["period"].tolist() == ["2020-W52", "2020-W53", "2021-W01"]


def test_excel_has_one_sheet_per_table(tmp_path):
    import openpyxl

    path = report.write_excel({"plan": pd.DataFrame({"a": [1, 2]}), "gap": pd.DataFrame({"b": [3]})},
                              tmp_path / "plan.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["plan", "gap"]
    assert wb["plan"]["A3"].value == 2


def test_table_of_contents_lists_h2_and_h3():
    page = '<body><main><h2 id="l">Läget<a class="anchor-link" href="#l">¶</a></h2><h3 id="k">Kö</h3></main></body>'
    out = report.add_table_of_contents(page)
    assert '<a href="#l">Läget</a>' in out and '<a href="#k">Kö</a>' in out
    assert report.add_table_of_contents("<main>no headings</main>") == "<main>no headings</main>"


def test_region_table_ranks_by_pressure_and_signs_the_weekly_change():
    import pandas as pd

    from kps_analysis import report

    s = pd.DataFrame({"clinic": ["a", "b", "c"], "waiting_list_pressure": [0.8, 2.4, 1.1],
                      "queue_production_ratio_weeks": [3.0, 9.0, 4.0], "queue_change_1w": [-7.0, 12.0, 0.0]})
    t = report.region_table(s, language="sv")
    assert list(t.index) == ["b", "c", "a"]
    assert t[report.label("queue_change_1w", "sv")].tolist() == ["+12", "0", "−7"]


def _pinned(shown, values, relations):
    """Suppressed counts that the shown counts give back exactly (linear programming)."""
    from scipy.optimize import linprog

    names = list(values)
    eq = []
    for total, parts in relations:
        row = [0.0] * len(names)
        row[names.index(total)] = -1.0
        for p in parts:
            row[names.index(p)] += 1.0
        eq.append(row)
    bounds = [shown[n] if n in shown else (0, None) for n in names]
    bounds = [(lo, None if hi == float("inf") else hi) for lo, hi in bounds]
    out = []
    for k in shown.suppressed:
        i = names.index(k)
        c = [0.0] * len(names)
        c[i] = 1.0
        lo = linprog(c, A_eq=eq, b_eq=[0.0] * len(eq), bounds=bounds).fun
        hi = -linprog([-x for x in c], A_eq=eq, b_eq=[0.0] * len(eq), bounds=bounds).fun
        if hi - lo < 1 - 1e-9:
            out.append(k)
    return out


def test_protect_counts_widens_the_complement_to_the_range_the_others_allow():
    # the case: 26 waiting, 24 counted against the guarantee: the 2 chosen waits
    # must not be 26 - 24; the counted queue is the plan's start (anchor), so the queue widens
    s = report.protect_counts({"queue": 26, "counted": 24, "chosen": 2}, [("queue", ["counted", "chosen"])],
                              anchors=["counted"])
    assert [s.text(c) for c in ("queue", "counted", "chosen")] == ["25–28", "24", "<5"]
    # the range comes from the shown counts only: 3 chosen waits give the same text
    s3 = report.protect_counts({"queue": 27, "counted": 24, "chosen": 3}, [("queue", ["counted", "chosen"])],
                               anchors=["counted"])
    assert s3.text("queue") == "25–28"
    # two small parts adding up to a shown total can pin each other (4 + 4 = 8): the total widens
    s = report.protect_counts({"h": 8, "a": 4, "b": 4}, [("h", ["a", "b"])])
    assert s.text("a") == s.text("b") == "<5" and s.text("h") == "2–8"
    assert report.protect_counts({"h": 8, "a": 4, "b": 4}, [("h", ["a", "b"])], limit=0).text("a") == "4"


@pytest.mark.parametrize("chosen_new, over_trt, band_new", [(2, 2, 3), (0, 4, 30), (1, 0, 1), (30, 30, 30)])
def test_protect_snapshot_no_suppressed_count_recoverable(chosen_new, over_trt, band_new):
    w = pd.DataFrame({"stage": ["new_visit"] * 5 + ["treatment"] * 4,
                      "wait_days": [5, 40, 100, 200, 10, 3, 50, 120, 20],
                      "patients": [20, 12, band_new, 3, chosen_new, 15, 8, over_trt, 40],
                      "patient_chosen_wait": [False] * 4 + [True] + [False] * 3 + [True]})
    queues = {"new_visit": 35 + band_new + chosen_new, "treatment": 63 + over_trt}
    s = report.protect_snapshot(w, queues=queues)
    assert all(s.exact(k) for k in s if k.startswith("counted"))  # the plan's start stays exact
    assert {k for k, (lo, hi) in s.items() if lo == hi and k not in s.suppressed and 0 < lo < 5} == set()
    # every relation the snapshot has, checked by linear programming over the shown ranges
    relations = [("queue:new_visit", ["counted:new_visit", "chosen:new_visit"]),
                 ("queue:treatment", ["counted:treatment", "chosen:treatment"])]
    for st in ("new_visit", "treatment"):
        relations += [(f"counted:{st}", [f"under:{st}", f"over:{st}"]),
                      (f"under:{st}", [f"band:{st}:0", f"band:{st}:31", f"band:{st}:61"]),
                      (f"over:{st}", [f"band:{st}:91", f"band:{st}:181"])]
    relations += [(k, [f"{k}:new_visit", f"{k}:treatment"]) for k in ("chosen", "over", "counted", "queue")]
    shown = dict(s)
    shown.update({f"under:{st}": (0, float("inf")) for st in ("new_visit", "treatment")
                  if f"under:{st}" not in s.suppressed})
    s2 = report.Shown(shown)
    s2.suppressed = s.suppressed
    assert _pinned(s2, dict(s), relations) == []


def test_tables_show_the_snapshot_the_same_way():
    w = pd.DataFrame({"stage": ["new_visit"] * 3, "wait_days": [5, 100, 10], "patients": [20, 7, 2],
                      "patient_chosen_wait": [False, False, True]})
    s = report.protect_snapshot(w, queues={"new_visit": 29})
    summary = pd.DataFrame({"stage": ["new_visit"], "waiting": [27], "excluded_chosen": [2], "over_limit": [7],
                            "p50_days": [5.0], "p90_days": [100.0], "share_over_limit": [7 / 27]})
    row = report.wait_summary_table(summary, shown=s, language="en").iloc[0].tolist()
    assert row[:2] == ["27", "<5"]
    changes = pd.DataFrame({"measure": ["queue_new_visit"], "this_week": [29.0], "last_week": [25.0],
                            "change": [4.0], "usual": [25.0], "unusual": [False], "direction": ["up"]})
    row = report.changes_table(changes, shown=s, language="en").iloc[0].tolist()
    assert row[1] == "28–31" and row[2] == "+3 – +6"  # neither 29 nor +4: 29 - 27 would give the 2 back
    tables = report.suppress_tables({"summary": pd.DataFrame({"clinic": ["a"], "queue_new_visit": [29.0],
                                                              "waiting_chosen": [2.0], "waiting_counted": [27.0]})},
                                    s)
    out = tables["summary"].iloc[0]
    assert pd.isna(out["queue_new_visit"]) and out["queue_new_visit_suppressed"]
    assert pd.isna(out["waiting_chosen"]) and out["waiting_counted"] == 27


def test_period_labels_of_an_empty_column():
    from kps_analysis.report import period_labels

    empty = pd.Series(pd.PeriodIndex([], freq="W-SUN"))
    assert period_labels(empty).tolist() == []
    weeks = pd.Series(pd.period_range("2026-12-28", periods=2, freq="W-SUN"))
    assert period_labels(weeks).tolist() == ["2026-W53", "2027-W01"]


def test_period_labels_are_pandas_isocalendar_weeks():
    """The labels come from the dates' arrays; pandas' isocalendar is the reference (53-week
    years and weeks across a new year included, any weekly anchor)."""
    from kps_analysis.report import period_labels

    for freq in ("W-SUN", "W-MON", "W-WED"):
        weeks = pd.Series(pd.period_range("1998-12-01", periods=2000, freq=freq), index=range(5, 2005))
        iso = weeks.dt.start_time.dt.isocalendar()
        reference = iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)
        pd.testing.assert_series_equal(period_labels(weeks), reference, check_names=False)


# --- sections: what each report section needs, and what a partial clinic gets (issue 13 item 2) ----------

from kps_analysis import sections  # noqa: E402


def _frame(columns, periods=60, freq="W-SUN", start="2025-01-06"):
    p = pd.period_range(start, periods=periods, freq=freq)
    out = pd.DataFrame({"clinic": "x", "period": p})
    for i, c in enumerate(columns):
        out[c] = 20.0 + i + (pd.RangeIndex(periods) % 7)
    return out


NAME_ONLY = {"name": "Bara namn", "data": {"weekly": "x.csv"}}
FULL = {"name": "Full", "data": {"weekly": "x.csv"}, "resources": {"new_visit_slots_per_week": 40},
        "annual_volume": {"new_visits": 2000}, "prices": {"purchase_new_visit_sek": 2300},
        "scenarios": [{"name": "s"}], "region_pool": "p"}
QUEUE_ONLY = ["queue_new_visit", "queue_treatment", "waiting_over_90_new_visit", "waiting_over_90_treatment"]


def _available(weekly, params, waiting_list=None):
    return sections.available(weekly, params, waiting_list).set_index("section")


def test_sections_queue_only_clinic_gets_the_queue_sections_and_a_sentence_for_the_rest():
    t = _available(_frame(QUEUE_ONLY), NAME_ONLY)
    assert list(t.columns) == ["available", "missing", "sentence_sv", "sentence_en"]
    assert list(t.index) == [s.key for s in sections.SECTIONS]
    have = set(t.index[t["available"]])
    assert have == {"changes", "situation", "quality", "provenance"}
    # the planning model needs inflow and production of one stage: the sentence names them
    assert "remisser in och nybesök" in t.loc["plan", "sentence_sv"]
    assert "planeringsmodellen" in t.loc["plan", "sentence_sv"]
    assert "referrals in and new visits" in t.loc["plan", "sentence_en"]
    assert t.loc["ratio", "missing"] == "queue_new_visit+new_visits | queue_treatment+operations_elective"
    assert "väntelisteuttag" in t.loc["waits", "sentence_sv"]
    assert (t.loc[t["available"], "sentence_sv"] == "").all()


def test_sections_operations_only_clinic_has_no_model_and_no_queue_ratio():
    t = _available(_frame(["operations_elective"]), NAME_ONLY)
    assert set(t.index[t["available"]]) == {"changes", "situation", "seasonal", "quality", "provenance"}
    assert not t.loc["forecast", "available"]  # needs referrals and the model
    assert "treatment_decisions+operations_elective" in t.loc["summary", "missing"]


def test_sections_name_only_parameters_run_on_demonstrated_capacity_and_name_each_missing_group():
    weekly = _frame(["referrals_in", "new_visits", "queue_new_visit", "treatment_decisions", "operations_elective",
                     "queue_treatment"])
    t = _available(weekly, NAME_ONLY)
    for key in ("summary", "plan", "capacity", "purchase", "breaches", "monte_carlo", "ratio", "forecast"):
        assert t.loc[key, "available"], key
    expected = {"capacity_resources": "resources", "purchase_cost": "prices", "agreement": "annual_volume",
                "scenarios": "scenarios", "moves": "region_pool"}
    for key, word in expected.items():
        assert not t.loc[key, "available"]
        assert t.loc[key, "missing"].startswith("parameters:")
        assert f"`{word}`" in t.loc[key, "sentence_sv"] and "parameterfil" in t.loc[key, "sentence_sv"]
    # the same clinic with every group: every section but the extract's
    full = _available(weekly, FULL)
    assert set(full.index[~full["available"]]) == {"waits"}
    assert bool(_available(weekly, FULL, waiting_list=pd.DataFrame({"patient_id": [1]}))["available"].all())


def test_sections_monthly_data_speak_of_months():
    t = _available(_frame(QUEUE_ONLY, periods=24, freq="M", start="2024-01"), NAME_ONLY)
    assert "månadsdata" in t.loc["plan", "sentence_sv"] and "monthly data" in t.loc["plan", "sentence_en"]
    assert sections.in_periods("De kommande 12 veckorna: kön per vecka.", "month") == \
        "De kommande 12 månaderna: kön per månad."
    assert report.period_word("month", plural=True) == "månader"
    assert report.period_name(pd.Period("2027-01", freq="M")) == "jan 2027"
    assert report.period_name("2026-W53", "en") == "wk 53 2026"


def _collect(monkeypatch):
    shown = []
    monkeypatch.setattr(sections, "_display_html", lambda html, **meta: shown.append(("html", html)))
    monkeypatch.setattr(sections, "_markdown", lambda text: shown.append(("md", text)))
    monkeypatch.setattr(sections, "_figure", lambda fig, alt: shown.append(("figure", alt)))
    return shown


class _Params(dict):
    """Loaded parameters as the context reads them (attributes and mapping)."""

    def __getattr__(self, key):
        return self[key]


def _params(**kw):
    p = _Params(name="Kön bara", clinic_id="q", language="sv", suppression_limit=5, ratio_window_weeks=4,
                fixed_horizon_weeks=12, guarantee_days=90, history_exclude_years=(), hospital="Sjukhuset",
                data={"weekly": "q.csv"}, hash="abc", plausible_from=None, max_count_per_period=None)
    p.update(kw)
    return p


def test_show_replaces_a_section_the_clinic_cannot_have_by_its_sentence(monkeypatch):
    weekly = _frame(QUEUE_ONLY)
    ctx = sections.ClinicContext(params=_params(), weekly=weekly, waiting_list=None, model=None)
    shown = _collect(monkeypatch)
    sections.show("plan", ctx)
    assert len(shown) == 1 and shown[0][0] == "md"
    heading, sentence = shown[0][1].split("\n\n")
    assert heading == "## Rullande produktionsplan"
    assert sentence.startswith("*Avsnittet bygger på planeringsmodellen") and sentence.endswith("*")
    shown.clear()
    sections.show("purchase_cost", ctx)  # a part of the purchase section, which already said it
    assert shown == []
    sections.show("forecast", ctx)  # the model's sentence alone, not also the measures it covers
    assert shown[0][1].count("remisser in") == 1
    shown.clear()
    sections.show("situation", ctx)  # the queue-only clinic still gets its queues, with alt texts
    alts = [a for kind, a in shown if kind == "figure"]
    assert len(alts) == 2 and all(a.startswith("Linjediagram: väntande") for a in alts)


def test_a_failing_section_shows_a_short_message_and_logs_the_error(monkeypatch, capsys):
    ctx = sections.ClinicContext(params=_params(), weekly=_frame(QUEUE_ONLY), waiting_list=None, model=None)
    shown = _collect(monkeypatch)

    def boom(ctx):
        raise ZeroDivisionError("secret cell value 19121212-1212")

    monkeypatch.setitem(sections._RENDER, "situation", boom)
    sections.show("situation", ctx)
    assert shown == [("md", "*Avsnittet kunde inte visas (ZeroDivisionError); felet finns i körningens logg.*")]
    err = capsys.readouterr().err
    assert "ZeroDivisionError" in err and "situation" in err


def test_html_table_has_a_caption_and_header_scopes():
    t = pd.DataFrame({"Värde": ["12", "3"], "Enhet": ["patienter", "veckor"]},
                     index=pd.Index(["Kö", "Kvot"], name="Mått"))
    html = report.html_table(t, "Nyckeltal <b>")
    assert html.count("<caption>") == 1 and "Nyckeltal &#60;b&#62;" in html
    assert "<thead>" in html and "<tbody>" in html  # the sections themselves untouched
    head, body = html.split("</thead>")
    assert head.count("<th ") == head.count('scope="col"') >= 3  # Värde, Enhet, the index name
    assert body.count("<th ") == body.count('scope="row"') == 2
    assert "<th>" not in html


def test_table_of_contents_goes_into_the_first_screens_slot():
    page = f'<main><h1>T</h1><p>läget</p>{report.TOC_SLOT}<h2 id="a">Plan</h2></main>'
    out = report.add_table_of_contents(page)
    assert out.index("läget") < out.index('<nav class="kps-toc"') < out.index('<h2 id="a">')
    assert report.TOC_SLOT not in out


def test_region_overview_orders_clinics_by_need_and_names_them():
    s = pd.DataFrame({"clinic": ["a", "b", "c", "d"], "escalation": ["green", "red", "yellow", "red"],
                      "projected_breaches_peak_12w": [0.0, 45.0, 185.0, 412.0],
                      "purchase_need_12w": [0.0, 98.0, 188.0, 414.0],
                      "queue_production_ratio_weeks": [5.4, 8.9, 8.1, 19.7],
                      "purchase_new_visits_12w": [0.0, 48.0, 0.0, 161.0],
                      "purchase_operations_12w": [0.0, 50.0, 188.0, 253.0]})
    ordered = sections._by_need(s)
    assert ordered["clinic"].tolist() == ["d", "b", "c", "a"]
    t = report.region_table(ordered.drop(columns="purchase_need_12w"), order="given")
    assert t.index.tolist() == ["d", "b", "c", "a"]
    assert t["Köp operationer 12 veckor"].tolist() == ["253", "50", "188", "0"]  # whole patients, by kind
    assert "Köpbehov 12 veckor" not in t.columns


def test_first_screen_states_the_clinic_in_one_sentence_and_splits_purchases_by_kind():
    from types import SimpleNamespace

    periods = pd.period_range("2026-11-30", periods=14, freq="W-SUN")
    rows = []
    for stage, buy, price, inhouse in (("new_visit", 10.0, 2300.0, 2000.0), ("treatment", 20.0, 40000.0, 34000.0)):
        for k, p in enumerate(periods, start=1):
            n = buy if k in (5, 6) else 0.0  # bought in weeks 5 and 6; week 13-14 lies beyond the fixed plan
            rows.append({"clinic": "x", "stage": stage, "period_ahead": k, "period": p,
                         "purchase": n if k <= 12 else 99.0,
                         "cost_external_sek": (n if k <= 12 else 99.0) * price, "cost_internal_sek": n * inhouse,
                         "order_by_period": k - 4})
    plan = pd.DataFrame(rows)
    model = SimpleNamespace(plan=plan, settings=pd.DataFrame({"clinic": ["x"], "target_share": [0.95],
                                                              "lead_time_weeks": [4], "fixed_weeks": [12]}))
    headline = pd.DataFrame({
        "clinic": ["x"], "queue_new_visit": [300.0], "queue_treatment": [100.0], "queue_change_1w": [12.0],
        "waiting_over_90": [212.0], "share_over_90_days": [0.287], "queue_production_ratio_weeks": [19.7],
        "projected_breaches_peak_12w": [407.0], "projected_breaches_peak_week": ["2027-02-15/2027-02-21"],
        "breaches_after_purchase_peak_12w": [0.0],
        "purchase_new_visits_12w": [20.0], "purchase_cost_new_visits_12w": [46000.0],
        "purchase_operations_12w": [40.0], "purchase_cost_operations_12w": [1600000.0],
        "first_order_by": [str(periods[0])], "first_order_late": [False], "escalation": ["red"],
        "escalation_level": ["division"], "escalation_reason": ["target_missed,purchase_needed"]})
    ctx = sections.ClinicContext(params=_params(), weekly=_frame(["referrals_in", "new_visits"]), waiting_list=None,
                                 model=model)
    ctx.__dict__.update(headline=headline, shown=report.Shown(), changes=pd.DataFrame())
    import html as html_module

    html = html_module.unescape(sections.first_screen_html(ctx))  # escaped text reads the same
    state = html.split("<strong>", 1)[1].split("</strong>", 1)[0]
    assert state == ("Kön växer: 212 patienter har väntat över 90 dagar; köp 20 nybesök och 40 operationer med "
                     "första beställningen senast v. 49 2026 för att hålla vårdgarantin.")
    # the decision: each kind with its own count and cost, from the fixed plan only (weeks 13-14 left out)
    # the 12 weeks' purchase is bought over them: the first order by its week, the later ones in the table
    assert ("Köp 20 nybesök</strong> (46\u00a0000 kr; i egen regi 40\u00a0000 kr); den första beställningen "
            "senast v. 49 2026") in html
    assert "Köp 40 operationer</strong> (1\u00a0600\u00a0000 kr; i egen regi 1\u00a0360\u00a0000 kr)" in html
    assert "Eskalera till divisionen</strong>: andelen som väntat över 90 dagar (28,7 %) är över målet 5 %" in html
    assert "kps-status-red" in html and "kostnad 46\u00a0000 kr" in html and "kostnad 1\u00a0600\u00a0000 kr" in html
    assert "60 " not in html.replace("1\u00a0600", "")  # never first visits and operations in one count
    assert report.TOC_SLOT in html and html.index("kps-decision") < html.index(report.TOC_SLOT)
    assert "<dt>Köproduktionskvot</dt>" in html and "<dt>Ledtid</dt>" in html
    assert "Kontrollera kapaciteten" not in html
    # a purchase planned on resources the capacity check questions says so in the decision (uro bought
    # 158 first visits on 38,0 a week beside a demonstrated 48,5, flagged only under Datakvalitet)
    check = pd.DataFrame({"clinic": ["x"], "stage": ["new_visit"], "resources_per_week": [38.0],
                          "demonstrated_per_week": [48.5], "tolerance": [0.15], "finding": [True]})
    ctx.__dict__.update(model=SimpleNamespace(plan=plan, settings=model.settings, capacity_check=check))
    flagged = html_module.unescape(sections.first_screen_html(ctx))
    assert ("Kontrollera kapaciteten före beställning: köpet av nybesök bygger på resurserna, 38,0 i veckan, men "
            "visad produktion är 48,5 i veckan (−22 %, se Datakvalitet); stämmer den visade produktionen blir "
            "köpet mindre.") in flagged
    ctx.__dict__.update(model=model)
    # nothing to buy, but patients pass the limit within the lead time: the state says so (it said own
    # capacity keeps the guarantee, above a decision box listing those patients)
    late = headline.assign(purchase_new_visits_12w=0.0, purchase_operations_12w=0.0,
                           breaches_after_purchase_peak_12w=4.0)
    ctx.__dict__.update(headline=late, model=SimpleNamespace(plan=plan.assign(purchase=0.0, cost_external_sek=0.0),
                                                             settings=model.settings))
    state = html_module.unescape(sections.first_screen_html(ctx)).split("<strong>", 1)[1].split("</strong>", 1)[0]
    assert "är över 90 dagar innan köpt vård hinner börja" in state and "håller vårdgarantin" not in state
    # bought on top of a fixed plan of an earlier run that bought too little: the decision says how many
    topped = plan.assign(purchase_beyond_fixed=np.where(plan["stage"] == "new_visit", plan["purchase"], 0.0))
    ctx.__dict__.update(headline=headline, model=SimpleNamespace(plan=topped, settings=model.settings))
    html = html_module.unescape(sections.first_screen_html(ctx)).replace("\xa0", " ")
    assert "Av dem köps 20 utöver den fastställda planen, som köpte för lite för att hålla vårdgarantin." in html
    assert html.count("utöver den fastställda planen") == 1   # the operations were in the fixed plan


def test_the_title_and_the_printed_header_keep_user_text_inert(tmp_path, monkeypatch):
    import nbformat

    from kps_analysis.batch import render_html

    hostile = 'Uro\\"; } body { background: url(https://x.invalid/a) } <script>alert(1)</script>'
    ctx = sections.ClinicContext(params=_params(name=hostile, hospital="<b>H</b>"), weekly=_frame(QUEUE_ONLY),
                                 waiting_list=None, model=None)
    html, meta = sections._title_html(ctx)
    assert "<script>" not in html and "<b>" not in html
    nb = nbformat.v4.new_notebook()
    out = nbformat.v4.new_output("display_data", data={"text/html": html, "text/plain": "t"}, metadata=meta)
    nb.cells = [nbformat.v4.new_code_cell("...", outputs=[out])]
    nbformat.write(nb, tmp_path / "r.ipynb")
    page = render_html(tmp_path / "r.ipynb", tmp_path / "r.html").read_text(encoding="utf-8")
    style = page[page.index("@page"):page.index("@media print")]
    header = style[style.index("@top-center"):style.index("@bottom-right")]
    # the name stays inside the one CSS string: no quote or backslash of its own, no tag
    assert header.count('"') == 2 and "\\" not in header and "<" not in header
    assert 'lang="sv"' in page and "<script>alert" not in page


def test_the_context_shows_the_runs_stored_analytics_instead_of_computing_them(monkeypatch):
    from kps_analysis import analytics

    weekly = _frame(QUEUE_ONLY)
    stored = pd.DataFrame({"clinic": "x", "period": weekly["period"].astype(str).iloc[-3:].to_numpy(),
                           "stage": "new_visit", "queue_production_ratio_weeks": [1.0, 2.0, 3.0]})
    monkeypatch.setattr(analytics, "compute_one", lambda *a, **k: pytest.fail("computed again"))
    ctx = sections.ClinicContext(params=_params(), weekly=weekly, waiting_list=None, model=None,
                                 analytics={"ratios": stored})
    ratios = ctx.ratios
    assert ratios["queue_production_ratio_weeks"].tolist() == [1.0, 2.0, 3.0]
    assert isinstance(ratios["period"].dtype, pd.PeriodDtype)  # as the figures need them
    assert ratios["period"].tolist() == weekly["period"].iloc[-3:].tolist()


# ---------------------------------------------------------------- the translation catalogue (issue 17)
PACKAGE = __import__("pathlib").Path(report.__file__).parent
#: The modules whose every text goes through the catalogue (report.label): every module of the
#: package, its subpackages included.
CATALOGUE_MODULES = sorted(PACKAGE.parent.rglob("*.py"))


def _language_choices(tree):
    """Inline translations: ``A if <language test> else B`` with a text on both sides."""
    import ast

    def text(node):
        return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))

    for node in ast.walk(tree):
        if not isinstance(node, ast.IfExp) or not (text(node.body) and text(node.orelse)):
            continue
        words = {n.id for n in ast.walk(node.test) if isinstance(n, ast.Name)}
        if {"sv", "en", "language", "lang"} & words:
            values = {getattr(n, "value", None) for n in (node.body, node.orelse)}
            if not values <= {"sv", "en"}:   # choosing a language code is fine
                yield node.lineno, ast.unparse(node)[:80]


def test_every_catalogue_text_has_both_languages_and_the_same_placeholders():
    import string

    from kps_analysis.report.labels import TEXTS

    catalogue = {**report.LABELS, **TEXTS, **{f"section:{k}": v for k, v in report.SECTIONS.items()}}
    assert not set(report.LABELS) & set(TEXTS)
    assert all("." in key for key in TEXTS)  # never a column name
    for key, entry in catalogue.items():
        assert set(entry) == {"sv", "en"}, key
        assert all(isinstance(t, str) and t.strip() for t in entry.values()), key
        fields = [{f for _, f, _, _ in string.Formatter().parse(entry[lang]) if f} for lang in ("sv", "en")]
        assert fields[0] == fields[1], key
    for words in (report.STATUS_WORDS, report.STAGE_NAMES):
        assert set(words["sv"]) == set(words["en"])
    assert {k: set(v) for k, v in report.PERIOD_WORDS.items()} == {"week": {"sv", "en"}, "month": {"sv", "en"}}


def test_no_inline_translation_is_left_in_the_package():
    """No module of kps_analysis chooses between two inline texts by language (issue 17 item 2)."""
    import ast

    checked = {p.relative_to(PACKAGE.parent).as_posix() for p in CATALOGUE_MODULES}
    assert {"sections.py", "plots.py", "workbook.py", "report/labels.py", "parameters/capabilities.py"} <= checked
    found = {}
    for path in CATALOGUE_MODULES:
        hits = list(_language_choices(ast.parse(path.read_text(encoding="utf-8"))))
        if hits:
            found[path.relative_to(PACKAGE.parent).as_posix()] = hits
    assert not found, f"texts chosen inline by language; put them in report.labels.TEXTS: {found}"


def test_the_inline_check_finds_an_inline_translation():
    import ast

    tree = ast.parse('x = "Steg" if sv else "Stage"\ny = f"{n} st" if language == "sv" else f"{n} pcs"\n'
                     'z = "sv" if language == "sv" else "en"\n')
    assert [line for line, _ in _language_choices(tree)] == [1, 2]


def test_every_text_key_used_is_in_the_catalogue():
    """``label("area.name", ...)`` with a literal key: the key exists (a typo would show the key)."""
    import ast

    from kps_analysis.report.labels import TEXTS

    missing = []
    for path in CATALOGUE_MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "label" and node.args):
                continue
            arg = node.args[0]
            keys = [arg] if not isinstance(arg, ast.IfExp) else [arg.body, arg.orelse]
            for k in keys:
                if isinstance(k, ast.Constant) and isinstance(k.value, str):
                    if k.value not in TEXTS and k.value not in report.LABELS:
                        missing.append((path.relative_to(PACKAGE.parent).as_posix(), node.lineno, k.value))
    assert not missing


def test_the_text_keys_built_from_names_are_in_the_catalogue():
    """Keys the modules build (``f"glossary.{name}"``, ``f"plot.stage_{stage}"``): the literal-key check misses them."""
    from kps_analysis import batch, calendar, parameters, plots
    from kps_analysis.report.labels import TEXTS
    from kps_analysis.stages import STAGE_NAMES

    built = [f"glossary.{t}{end}" for t in sections._GLOSSARY for end in ("", "_text")]
    built += [f"section.count_{k}{end}" for k in ("red", "yellow", "green") for end in ("", "_many")]
    built += [f"reason.{r}" for r in ("target_missed", "purchase_needed", "breach_within_lead_time",
                                      "production_below_plan")]   # planning's escalation reasons
    built += [f"plot.stage_{s}" for s in STAGE_NAMES]
    built += [f"index.month_{m}" for m in range(1, 13)]   # batch._texts
    built += [f"failure.{kind}_{s}" for kind in ("step", "todo") for s in batch._FAILURE_STEPS + batch._TODO_STEPS]
    built += [f"season.{k}" for k in calendar._SEASON_KEYS] + [f"capability.{g}" for g in parameters.CAPABILITIES]
    assert [k for k in built if k not in TEXTS] == []
    assert plots.stage_label("new_visit", "en") == "Waiting for first visit" and plots.stage_label("x") == "x"


def test_label_fills_placeholders_in_both_languages():
    assert report.label("plan.queue_grows", signed="+3") == "Kön växer (+3 sedan förra veckan)."
    assert report.label("table.purchase_for_certainty", "en", q=80) == "Purchase for 80 % certainty"
    assert report.label("table.stage", "en") == "Stage" and report.label("table.stage") == "Steg"
    assert report.label("suppressed").format(limit=5) == "<5"  # the old way still works
    with pytest.raises(ValueError, match="language"):
        report.label("table.stage", "de")


def test_key_figures_keep_their_shape_with_labels_from_the_catalogue():
    from kps_analysis import report_plan
    from kps_analysis.report.labels import TEXTS

    assert len(report_plan.KEY_FIGURES) == 18
    key, sv, en, kind = report_plan.KEY_FIGURES[0]
    assert (key, sv, en, kind) == ("queue_new_visit", "Väntar på nybesök (patienter)",
                                   "Waiting for a first visit (patients)", "count")
    assert all(TEXTS[f"key_figure.{k}"] == {"sv": s, "en": e} for k, s, e, _ in report_plan.KEY_FIGURES)


def test_the_package_keeps_every_name_of_the_old_modules():
    """report.py and report_plan.py became the package kps_analysis.report (issue 17): every
    public name users, notebooks and other modules import is still where it was."""
    import kps_analysis.report_plan as report_plan
    from kps_analysis.report import outputs, plan, suppression

    old_report = ("LABELS STATUS_WORDS status_word label measure_label format_count format_signed STAGE_NAMES "
                  "stage_names suppress_small Shown protect_counts protect_snapshot STOCK_COLUMNS suppress_tables "
                  "atomic_path write_table write_excel period_labels escape_text provenance_markdown "
                  "add_table_of_contents TOC_SLOT SECTIONS section data_period title_markdown headline_table "
                  "wait_table changes_table findings_table share_text wait_summary_table load_table rates_table "
                  "read_clinic_tables region_table region_purchase_table latest_run forecast_text purchase_table "
                  "plan_table follow_up_table scenario_report_table region_cost_text moves_table monte_carlo_table "
                  "PERIOD_WORDS period_kind period_word period_name html_table").split()
    assert [n for n in old_report if not hasattr(report, n)] == []
    old_plan = ("KEY_FIGURES key_figures_table key_figure_texts value_text verdict escalation_text "
                "capacity_check_table plan_table purchase_table lead_time_text uncertainty_table "
                "uncertainty_purchase_table plan_export_table read_previous history_table write_clinic_tables "
                "TABLE_FILES moves_text scenario_table headline_shown snapshot_shown PLAN_COLUMNS").split()
    homes = (plan, outputs, suppression)
    for name in old_plan:  # the very objects of their new homes
        assert any(getattr(home, name, None) is getattr(report_plan, name) for home in homes), name
    # the report's own plan/purchase tables are not the planning model's
    assert report.plan_table is not report_plan.plan_table and report_plan.plan_table is plan.plan_table


#: ``{"sv": ..., "en": ...}`` literals outside report/labels.py that may stay, by (module, the name they
#: are assigned to), each with its reason. Nothing else: a sv/en word table belongs in the catalogue.
LANGUAGE_TABLES_ALLOWED = {
    ("report/section_texts.py", "SECTIONS"): "the long section texts' own catalogue (report.SECTIONS), "
                                             "checked beside TEXTS by the both-languages test above",
}


def _text(node) -> bool:
    """A text: a string (not a bare language code), an f-string, or a concatenation of them."""
    import ast

    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value not in ("sv", "en")
    return isinstance(node, ast.BinOp) and (_text(node.left) or _text(node.right))


def _language_test(test) -> bool:
    """``language == "en"``, ``lang != "sv"``, ``self.language == "sv"``, or a bare ``sv``/``en`` flag."""
    import ast

    for n in ast.walk(test):
        if isinstance(n, ast.Compare):
            sides = [n.left, *n.comparators]
            names = {getattr(s, "id", None) or getattr(s, "attr", None) for s in sides}
            codes = {s.value for s in sides if isinstance(s, ast.Constant)}
            if names & {"language", "lang"} and codes & {"sv", "en"}:
                return True
        elif isinstance(n, ast.Name) and n.id in ("sv", "en"):
            return True
    return False


def _language_tables(tree):
    """Translations the inline check does not see: (a) dict literals keyed exactly "sv" and "en"
    holding texts (strings, or tuples, lists and dicts of them), as (line, name assigned to, code);
    (b) ``if`` statements testing the language whose branches return or assign a text."""
    import ast

    parent = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}

    def owner(node):
        while node in parent:
            node = parent[node]
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                target = node.targets[0] if isinstance(node, ast.Assign) else node.target
                return getattr(target, "id", None) or ast.unparse(target)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                return node.name
        return "<module>"

    for node in ast.walk(tree):
        if isinstance(node, ast.Dict) and None not in node.keys:
            keys = [k.value if isinstance(k, ast.Constant) else None for k in node.keys]
            if sorted(keys, key=str) == ["en", "sv"] and all(
                    any(_text(n) for n in ast.walk(v)) for v in node.values):
                yield node.lineno, owner(node), ast.unparse(node)[:80]
        elif isinstance(node, ast.If) and _language_test(node.test):
            assigned = [s.value for branch in (node.body, node.orelse) for stmt in branch for s in ast.walk(stmt)
                        if isinstance(s, (ast.Return, ast.Assign, ast.AnnAssign, ast.AugAssign)) and s.value]
            if any(_text(v) for v in assigned):
                yield node.lineno, owner(node), ast.unparse(node.test)[:80]


def test_no_language_table_or_branch_is_left_outside_the_catalogue():
    """Every sv/en word table and every ``if language == ...`` choosing a text lives in report.labels
    (issue 17): none in any other module of the package, subpackages included (allowed: a named few)."""
    import ast

    found, allowed_seen = {}, set()
    for path in CATALOGUE_MODULES:
        module = path.relative_to(PACKAGE.parent).as_posix()
        if module == "report/labels.py":
            continue
        for line, name, code in _language_tables(ast.parse(path.read_text(encoding="utf-8"))):
            if (module, name) in LANGUAGE_TABLES_ALLOWED:
                allowed_seen.add((module, name))
            else:
                found.setdefault(module, []).append((line, name, code))
    assert not found, f"sv/en texts outside the catalogue; put them in report.labels.TEXTS: {found}"
    assert allowed_seen == set(LANGUAGE_TABLES_ALLOWED)  # no stale entry in the allow-list


def test_the_language_table_check_finds_a_planted_table_and_branch():
    import ast

    tree = ast.parse(
        'WORDS = {"sv": "vecka", "en": "week"}\n'                       # a word table
        'STEPS = {"sv": {"data": "indata"}, "en": {"data": "the data"}}\n'   # a nested one
        'RULE = {"sv": ("Röd " "om"), "en": f"Red {x}"}\n'                 # concatenated, f-string
        'CODES = {"sv": 0, "en": 1}\n'                                  # not texts: fine
        'LOCALE = {"sv": "sv", "en": "en"}\n'                            # language codes: fine
        'def f(language, n):\n'
        '    if language == "en":\n'
        '        return f"{n} weeks"\n'                                  # a branch returning a text
        '    if self.language != "sv":\n'
        '        word = "week"\n'                                        # ... assigning one
        '    else:\n'
        '        word = "vecka"\n'
        '    if language not in ("sv", "en"):\n'                         # validating: fine
        '        raise ValueError(language)\n'
        '    if language == "sv":\n'
        '        text = text.replace(",", " ")\n'                        # not a text: fine
        '    if lang == "xx":\n'
        '        lang = "sv"\n'                                          # a language code: fine
        '    return word\n')
    assert [(line, name) for line, name, _ in _language_tables(tree)] == [
        (1, "WORDS"), (2, "STEPS"), (3, "RULE"), (7, "f"), (9, "f")]


def test_the_public_tables_built_from_the_catalogue_keep_their_shape():
    """planning.ESCALATION_RULE, plan.PLAN_SHEET, calendar.SEASON_NAMES, parameters.CAPABILITIES and
    batch's page words: still there, as before, now read from report.labels.TEXTS."""
    import types

    from kps_analysis import batch, calendar, parameters, plan, planning
    from kps_analysis.calendar import SEASON_NAMES
    from kps_analysis.planning import ESCALATION_RULE
    from kps_analysis.report.labels import TEXTS

    assert ESCALATION_RULE == planning.ESCALATION_RULE == TEXTS["escalation_rule.text"]
    assert "{miss:.0%}" in ESCALATION_RULE["sv"] and ESCALATION_RULE["en"].startswith("**Red**")
    assert plan.PLAN_SHEET == {"sv": "Produktionsplan", "en": "Production plan"}
    assert isinstance(SEASON_NAMES, types.MappingProxyType) and SEASON_NAMES is calendar.SEASON_NAMES
    assert list(SEASON_NAMES) == ["sports_holiday", "easter", "midsummer", "summer", "christmas"]
    assert SEASON_NAMES["easter"] == {"sv": "påsk", "en": "Easter"}
    assert isinstance(parameters.CAPABILITIES, types.MappingProxyType)
    for name, (key, text) in parameters.CAPABILITIES.items():
        assert dict(text) == TEXTS[f"capability.{name}"] and set(text) == {"sv", "en"} and f"`{key}`" in text["en"]
    with pytest.raises(AttributeError):
        planning.NOT_A_NAME  # noqa: B018 - the module's __getattr__ gives only its own names
    assert [k for k in batch._TEXTS.values() if k not in TEXTS and k not in report.LABELS] == []
    for lang in ("sv", "en"):
        words = batch._texts(lang)
        assert len(words["months"]) == 12 and set(words["steps"]) == set(words["todo_by_step"])
    assert batch._texts("de") == batch._texts("sv")  # any other language: Swedish, as before
    assert batch._texts("en")["months"][10] == "November" and batch._texts("sv")["run_col"] == "Körning"


def test_a_monthly_clinics_year_over_year_is_suppressed_beside_weekly_clinics():
    """A monthly clinic planned beside weekly ones gets a blank ``week`` column in its stored
    year-over-year frame (the region's frames are one concat); its section failed with
    IntCastingNaNError where a count was hidden. The months are read instead."""
    from kps_analysis.report.suppression import suppress_year_over_year

    months = pd.period_range("2025-01", "2026-06", freq="M")
    weekly = pd.DataFrame({"clinic": "m", "period": months, "referrals_in": 40.0,
                           "referrals_in_suppressed": [p == pd.Period("2026-03", "M") for p in months]})
    yoy = pd.DataFrame({"clinic": "m", "year": [2026, 2026, 2025], "week": [float("nan")] * 3, "month": [2, 3, 3],
                        "measure": "referrals_in", "value": [40.0, 3.0, 40.0]})
    out = suppress_year_over_year(yoy, weekly)
    assert out["value"].isna().tolist() == [False, True, False]


def test_a_monthly_clinics_capacity_check_says_its_figures_are_per_week():
    """The capacity check's figures are per week for monthly data too (resources per normal week,
    production per week); the headers said "per normal månad" and "senaste 8 normala månader"."""
    from kps_analysis import report_plan

    check = pd.DataFrame({"stage": ["new_visit"], "resources_per_week": [62.7], "demonstrated_per_week": [66.1],
                          "demonstrated_last_year_per_week": [60.0], "deviation": [-0.05], "basis": ["resources"],
                          "finding": [False], "tolerance": [0.15]})
    monthly = report_plan.capacity_check_table(check, kind="month").columns.tolist()
    assert monthly[1:4] == ["Enligt resurser (per normal vecka)", "Visad produktion per vecka, senaste normala månader",
                            "Samma månader i fjol, per vecka"]
    assert "Visad produktion, senaste 8 normala veckor" in report_plan.capacity_check_table(check).columns


def test_the_plans_projections_are_shown_exactly_as_in_the_workbook():
    """gyn's report read "<5" operations to buy in December beside 120 000 kr at 30 000 kr each,
    while plan.xlsx said 4: a plan people act on is not suppressed (outputs/README.md, "Not
    suppressed"), only counts of observed patients are."""
    from kps_analysis import report_plan

    monthly = pd.DataFrame({"month": ["2026-12"], "stage": ["treatment"], "purchase": [4.0],
                            "cost_external_sek": [120000.0], "cost_internal_sek": [104000.0],
                            "order_by": ["2026-W49"]})
    row = report_plan.purchase_table(monthly, limit=5).iloc[0]
    assert "4" in row.tolist() and "<5" not in row.tolist()
    h = pd.DataFrame({"clinic": ["a"], "waiting_chosen": [3.0], "projected_breaches_peak_12w": [4.0]})
    assert report_plan.key_figures_table(h).iloc[:, 0].tolist() == ["<5", "4"]


def test_the_regions_last_month_says_where_the_fixed_weeks_end():
    """The region's purchase table sums the 12 fixed weeks, which end in week 7 of February;
    its "feb 2027" row read as the whole month the clinics' reports show (uro 20 first visits
    against 21). It now says up to which week."""
    fixed = pd.DataFrame({"clinic": ["uro", "uro", "hud"], "stage": "new_visit", "period_ahead": [11, 12, 3],
                          "period": ["2027-W06", "2027-W07", "2027-02"], "month": ["2027-02", "2027-02", "2027-02"]})
    assert sections._partial_months(fixed) == {"2027-02": "v. 7"}
    assert sections._partial_months(fixed[fixed["clinic"] == "hud"]) == {}
    # a clinic whose data end early ends its plan in January; the others cover January whole
    early = pd.DataFrame({"clinic": "kir", "stage": "new_visit", "period_ahead": [12], "period": ["2027-W01"],
                          "month": ["2027-01"]})
    assert sections._partial_months(pd.concat([fixed, early])) == {"2027-02": "v. 7"}


def test_moves_name_the_other_clinic_and_its_week_as_readers_do():
    """The moves sentence said "till ort_syd (från vecka 2027-W22)"; every other place names the
    clinic and writes "v. 22 2027"."""
    from types import SimpleNamespace

    from kps_analysis import report_plan

    moves = pd.DataFrame({"clinic_from": ["ort_nord"] * 2, "clinic_to": ["ort_syd"] * 2, "stage": "treatment",
                          "period_ahead": [27, 28], "period": ["2027-W22", "2027-W23"], "patients": [3.0, 2.0],
                          "saving_sek": [43500.0, 29000.0]})
    text = report_plan.moves_text(SimpleNamespace(moves=moves), "ort_nord",
                                  names={"ort_syd": "Ortopedkliniken Syd"})
    assert "Ortopedkliniken Syd (från v. 22 2027)" in text and "ort_syd" not in text and "W22" not in text


def test_a_ratios_change_is_the_change_of_the_values_shown():
    """7,2 -> 6,9 read "−0,4" (the unrounded −0,35); a reader subtracts what is shown."""
    from kps_analysis.report.tables import changes_table

    c = pd.DataFrame({"measure": ["queue_production_ratio_weeks"], "this_week": [6.86], "last_week": [7.21],
                      "change": [-0.35], "usual": [7.0], "unusual": [False], "direction": ["down"]})
    assert changes_table(c).iloc[0].tolist()[:3] == ["7,2", "6,9", "\u22120,3"]


def test_the_region_does_not_say_zero_kronor_less():
    """"16 475 000 kr mot 16 475 000 kr (0 kr mindre)" beside proposed moves: said plainly now."""
    text = report.region_cost_text(16_475_000.0, 16_475_000.0)
    assert "0 kr mindre" not in text and "ändrar inte" in text
    assert "(100 kr mindre)" in report.region_cost_text(900.0, 1000.0)


def test_the_region_shows_a_monthly_clinics_queue_change_over_its_month():
    """The region's "Läget nu" showed "–" for monthly clinics whose reports gave −19 since last month."""
    s = pd.DataFrame({"clinic": ["w", "m"], "queue_change_1w": [-24.0, float("nan")],
                      "queue_change_1p": [-24.0, -19.0]})
    t = report.region_table(s, order="given")
    assert t.iloc[:, -1].tolist() == ["\u221224", "\u221219"]


def test_a_capacity_difference_just_past_the_tolerance_shows_it():
    """uro's operations read "−15 % | avviker mer än 15 %": a whole per cent hid −15,4 %."""
    from kps_analysis import report_plan

    check = pd.DataFrame({"stage": ["treatment"], "resources_per_week": [16.2], "demonstrated_per_week": [19.15],
                          "demonstrated_last_year_per_week": [19.0], "deviation": [16.2 / 19.15 - 1],
                          "basis": ["resources"], "finding": [True], "tolerance": [0.15]})
    assert "\u221215,4 %" in report_plan.capacity_check_table(check).iloc[0].tolist()
    far = check.assign(resources_per_week=12.0, deviation=12.0 / 19.15 - 1)
    assert "\u221237 %" in report_plan.capacity_check_table(far).iloc[0].tolist()


def test_every_finding_of_the_validation_reads_in_swedish_in_a_swedish_report():
    """The validation writes English (for the command line); a Swedish report's data-quality
    table showed "2 weeks missing (...)" and the column "queue_treatment". Every kind of
    finding ``validate`` makes, weekly and monthly, with and without a group, reads Swedish."""
    import numpy as np

    from kps_analysis.data import validate

    def weekly(*labels):
        return pd.PeriodIndex([pd.Timestamp.fromisocalendar(int(y), int(w), 1)
                               for y, w in (lab.split("-W") for lab in labels)], freq="W-SUN")

    gap = pd.DataFrame({"clinic": "A", "period": weekly("2024-W01", "2024-W02", "2024-W02", "2024-W05", "2024-W06"),
                        "treatment_decisions": [5.0, 5, 5, 5, 5], "operations_elective": [4.0, 4, -1, 4, 4],
                        "removals_treatment_other": 0.0, "purchased_operations": 0.0,
                        "queue_treatment": [100.0, 101, 101, 102, 110]})
    p = pd.period_range("2024-03-04", periods=12, freq="W-SUN")
    zeros = pd.DataFrame({"clinic": "A", "period": p, "new_visits": [50.0, 52, 0, 0, 0, 0, 51, 49, 50.5, 50, 50, 50]})
    old = pd.DataFrame({"clinic": "A", "period": weekly("1989-W51", "1989-W52", "1990-W01"),
                        "new_visits": [10.0, 2e12, 12.0], "no_shows": np.nan})
    months = pd.DataFrame({"clinic": "A", "group": "Höft", "period": pd.PeriodIndex(
        ["2023-01", "2023-02", "2023-05", "2023-06", "2023-07", "2023-08", "2023-09"], freq="M"),
        "new_visits": [200.0, 210, 0, 0, 205, 198, 201]})
    findings = pd.concat([validate(gap, today="2024-06-01"), validate(zeros, today="2024-05-01"),
                          validate(old, today="2024-06-01"), validate(months, today="2024-06-01")],
                         ignore_index=True)
    english = ("missing", "changed", "inflow", "zeros", "where the", "duplicate", "negative", "whole",
               "plausible max", "earliest", "column has", "ends before", "lies after", "group ", "week", "month")
    assert len(findings) >= 10
    for message in findings["message"]:
        swedish = report.finding_message(message, "sv")
        assert not any(word in swedish for word in english), (message, swedish)
        assert report.finding_message(message, "en") == message
    table = report.findings_table(findings, language="sv")
    shown = table.to_csv()
    assert "queue_treatment" not in shown and "Väntande behandling" in shown, shown
    assert "2 veckor saknas (2024-W03–2024-W04)" in table.iloc[:, -1].tolist()
    assert "grupp Höft: 2 månader saknas (2023-03–2023-04)" in table.iloc[:, -1].tolist()
    assert any("kön ändrades med +8 men inflöde − utflöde = +1" in m for m in table.iloc[:, -1])


def test_a_capacity_finding_just_past_the_tolerance_shows_the_decimal_its_section_shows():
    """The data-quality finding read "(−15 %, mer än toleransen 15 %)" beside the capacity
    check's −15,4 %: both now come from ``report.format_against``."""
    assert report.format_against(-15.4, 15) == "\u221215,4"
    assert report.format_against(-37.2, 15) == "\u221237"
    assert report.format_against(15.0, 15) == "+15"
    assert report.format_against(-20.0, float("nan")) == "\u221220"


def test_the_run_a_red_shortfall_needs_to_reach_the_region_is_said_in_the_clinics_periods():
    """A monthly clinic goes to the region after one red month (four weeks by days,
    ``plan.plan_vs_outcome``); its report said "fyra månader i rad" (the weekly text with its
    week words turned into months)."""
    from kps_analysis import report_plan, sections
    from kps_analysis.plan import plan_vs_outcome

    settings = pd.DataFrame({"clinic": ["a"], "guarantee_days": [90], "target_share": [0.95],
                             "lead_time_weeks": [4], "red_pct": [10.0], "yellow_pct": [5.0]})
    assert "fyra veckor i rad: till regionen" in report_plan.escalation_text(settings)
    monthly = report_plan.escalation_text(settings, kind="month")
    assert "en hel månad: till regionen" in monthly and "fyra" not in monthly
    assert "for a whole month: to the region" in report_plan.escalation_text(settings, language="en", kind="month")
    text = sections.in_periods(report.section("follow_up", "sv", kind="month"), "month")
    assert "röd en hel månad: regionen" in text and "fyra" not in text
    assert "röd fyra veckor i rad: regionen" in report.section("follow_up", "sv")
    # what the texts say is what the follow-up does: one red month goes on to the region
    months = pd.period_range("2026-01", periods=3, freq="M")
    plan = pd.DataFrame({"clinic": "a", "period": months, "planned_new_visits": 100.0})
    actual = pd.DataFrame({"clinic": "a", "period": months, "new_visits": [100.0, 100.0, 40.0]})
    f = plan_vs_outcome(plan, actual)
    last = f[(f["period"] == months[-1]) & (f["status"] == "red")]
    assert len(last) and (last["level"] == "region").all()


def test_a_share_just_over_a_whole_per_cent_reads_the_same_everywhere():
    """hud's card, key figures, index and region overview read "5,0 %" (labelled over the
    5 % target) while its decision said "5,04 %": one format, report.format_share."""
    from kps_analysis import batch, report_plan
    from kps_analysis.report import region

    assert report.format_share(0.0504) == "5,04 %" and report.format_share(0.287) == "28,7 %"
    assert report.format_share(0.05) == "5,0 %" and report.format_share(0.04996) == "5,0 %"
    head = pd.DataFrame({"clinic": ["hud"], "share_over_90_days": [0.0504], "waiting_over_90": [29.0],
                         "waiting_counted": [575.0], "queue_production_ratio_weeks": [6.7],
                         "waiting_list_pressure": [1.04], "escalation": ["yellow"]})
    assert report_plan.value_text("share", 0.0504) == "5,04 %"
    assert "5,04 %" in report_plan.key_figures_table(head).to_string()
    assert batch._headline_cell("share_over_90_days", 0.0504, "sv")["text"] == "5,04 %"
    assert "5,04 %" in region.region_table(head).to_string()


def test_the_care_agreement_sentence_counts_first_visits_and_operations_apart():
    """"planerad egen produktion … 3 701 patienter mot avtalade 2 723" added first visits and
    operations (a patient can be both)."""
    from types import SimpleNamespace

    from kps_analysis import sections

    plan = pd.DataFrame({"stage": ["new_visit"] * 2 + ["treatment"] * 2, "period_ahead": [1, 2, 1, 2],
                         "own_production": [1400.0, 1409, 446, 446], "agreement": [1040.0, 1040, 321.5, 321.5]})
    ctx = SimpleNamespace(language="sv", kind="week", model=SimpleNamespace(plan=plan))
    sections._RECORDED = []
    try:
        sections._agreement(ctx)
        text = sections._RECORDED[0]["data"]["text/markdown"]
    finally:
        sections._RECORDED = None
    assert "2\u00a0809 nybesök mot avtalade 2\u00a0080 (+729) och 892 operationer mot avtalade 643 (+249)" in text, text
    assert "patienter" not in text


@pytest.mark.parametrize("units, heading, extra", [
    (["month", "month"], "Kapacitetsglapp per klinik och månad", None),
    (["week", "month"], "Kapacitetsglapp per klinik och vecka", "visas i ett eget diagram, per månad"),
    (["week", "week"], "Kapacitetsglapp per klinik och vecka", None)])
def test_the_region_overview_says_which_clinics_count_months(tmp_path, units, heading, extra):
    """A region of monthly clinics read "Kapacitetsglapp per klinik och vecka" over a chart of months
    and "senaste veckan" for their latest month; the index said how months sit beside weeks, the
    overview did not."""
    from kps_analysis import sections

    summaries = pd.DataFrame({"clinic": ["a", "b"], "period_unit": units, "period": ["2026-11", "2026-11"],
                              "waiting_new_visit": [10.0, 20.0], "waiting_over_90": [1.0, 2.0]})
    for clinic, unit in zip(("a", "b"), units):
        periods = (pd.period_range("2026-12", periods=3, freq="M") if unit == "month"
                   else pd.period_range("2026-11-30", periods=12, freq="W-SUN"))
        (tmp_path / clinic / "tables").mkdir(parents=True)
        pd.DataFrame({"clinic": clinic, "stage": "new_visit", "period_ahead": range(1, len(periods) + 1),
                      "period": periods.astype(str), "capacity": 10.0, "need": 12.0, "gap": 2.0}).to_csv(
            tmp_path / clinic / "tables" / "capacity_gap.csv", index=False)
    ctx = sections.RegionContext(folder=tmp_path, summaries=summaries, names={"a": "A <b>", "b": "B"},
                                 language="sv", settings={"guarantee_days": 90}, region="", run_date="")
    assert ctx.monthly() == [n for n, u in zip(["A <b>", "B"], units) if u == "month"]
    sections._RECORDED = []
    try:
        sections._region_gap(ctx)
        sections._region_totals(ctx)
        texts = [o["data"]["text/markdown"] for o in sections._RECORDED if "text/markdown" in o["data"]]
    finally:
        sections._RECORDED = None
    gap, totals = texts[0], texts[1]
    assert gap.startswith("## " + heading), gap
    assert (extra in gap) if extra else "månadsdata" not in gap
    assert ("den senaste månaden" in totals) == ("month" in units), totals


def test_the_region_overview_names_stale_data_and_leaves_out_past_months(tmp_path):
    """A region with one clinic whose data ended 53 days before the run: the overview read "Data till
    och med v. 48 2026" and showed it green and plain (index.html flagged it), and its purchase table,
    "the coming 12 weeks", began with October and November 2026 (rows of zeros from that clinic's plan).
    A region with weekly and monthly clinics: "2026-W41" sorted after "2026-11" as text."""
    import html as htmllib

    from kps_analysis import sections

    summaries = pd.DataFrame({"clinic": ["a", "b", "c"], "period": ["2026-W48", "2026-W41", "2026-11"],
                              "escalation": ["red", "green", "yellow"], "stale": [False, True, False],
                              "data_end": ["2026-11-29", "2026-10-11", "2026-11-30"],
                              "data_age_days": [4.0, 53.0, 3.0]})
    months = {"a": ["2026-12", "2027-01"], "b": ["2026-10", "2026-11", "2026-12"], "c": ["2026-12"]}
    for clinic, ms in months.items():
        (tmp_path / clinic / "tables").mkdir(parents=True)
        pd.DataFrame({"clinic": clinic, "stage": "new_visit", "period_ahead": range(1, len(ms) + 1), "month": ms,
                      "policy": "guarantee", "purchase": [0.0] * (len(ms) - 1) + [3.0],
                      "cost_external_sek": [0.0] * (len(ms) - 1) + [6000.0], "cost_internal_sek": 0.0}).to_csv(
            tmp_path / clinic / "tables" / "purchase_need.csv", index=False)
    ctx = sections.RegionContext(folder=tmp_path, summaries=summaries, names={"b": "Ortopedkliniken <Syd>"},
                                 language="sv", settings={"guarantee_days": 90}, region="", run_date="2026-12-03")
    sections._RECORDED = []
    try:
        sections._region_title(ctx)
        sections._region_purchase(ctx)
        html = [htmllib.unescape(o["data"].get("text/html", "")) for o in sections._RECORDED]
    finally:
        sections._RECORDED = None
    assert "Data till och med v. 41 2026 / v. 48 2026 / nov 2026" in html[0], html[0]
    assert ("Inaktuella data: Ortopedkliniken <Syd> (till och med 2026-10-11, 53 dagar före körningen)."
            in html[0]), html[0]
    table = next(h for h in html if "<table" in h)
    assert "okt 2026" not in table and "nov 2026" not in table and "dec 2026" in table, table
    assert "0.0" not in table and "3.0" not in table, table   # counts as counts
