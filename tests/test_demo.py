"""Tests for kps_analysis.demo: the deterministic synthetic region."""

import json

import numpy as np
import pandas as pd
import pytest

from kps_analysis import calendar as cal
from kps_analysis import demo

END = "2026-11-22"  # Sunday of 2026-W47
IDS = ["ort_nord", "ort_syd", "ogon", "kir", "onh", "gyn", "uro", "hud"]
PATIENT_LEVEL = ["ort_nord", "ogon", "gyn", "uro"]
MEASURES = (
    "referrals_in", "referrals_forwarded", "removals_new_visit_other", "new_visits", "return_visits",
    "emergency_visits", "treatment_decisions", "removals_treatment_other", "operations_elective",
    "operations_acute", "bed_days", "queue_new_visit", "queue_treatment", "queue_return_unbooked",
    "waiting_over_90_new_visit", "waiting_over_90_treatment", "purchased_new_visits",
    "purchased_operations", "planned_new_visits", "planned_operations", "no_shows", "available_slots",
)
DERIVABLE = (
    "referrals_in", "referrals_forwarded", "removals_new_visit_other", "new_visits", "purchased_new_visits",
    "treatment_decisions", "operations_elective", "purchased_operations", "removals_treatment_other",
    "queue_new_visit", "queue_treatment", "waiting_over_90_new_visit", "waiting_over_90_treatment",
)


@pytest.fixture(scope="module")
def data(demo_region):
    return demo_region  # demo.generate(end=END), once per session (tests/conftest.py)


@pytest.fixture(scope="module")
def weekly(data):
    w = data.weekly.copy()
    w["iso_week"] = w["period"].dt.start_time.dt.isocalendar()["week"].to_numpy()
    w["iso_year"] = w["period"].dt.start_time.dt.isocalendar()["year"].to_numpy()
    w["production"] = w["new_visits"] + w["operations_elective"]
    return w


def series(weekly, clinic, measure):
    return weekly.loc[weekly["clinic"] == clinic, measure].to_numpy()


# ----------------------------------------------------------------------------- shape, determinism
def test_deterministic(data):
    again = demo.generate(end=END)
    pd.testing.assert_frame_equal(data.weekly, again.weekly)
    pd.testing.assert_frame_equal(data.waiting_list, again.waiting_list)
    pd.testing.assert_frame_equal(data.clinics, again.clinics)


def test_history_does_not_change_when_end_moves():
    short = demo.generate(end="2019-06-30")
    longer = demo.generate(end="2019-09-29")
    head = longer.weekly[longer.weekly["period"] <= pd.Period("2019-06-30", "W-SUN")].reset_index(drop=True)
    # flows and queues of the common weeks are identical
    pd.testing.assert_frame_equal(short.weekly, head)
    other_seed = demo.generate(end="2019-06-30", seed=7)
    assert not other_seed.weekly["referrals_in"].equals(short.weekly["referrals_in"])


def test_end_before_start():
    with pytest.raises(ValueError, match="end"):
        demo.generate(end="2018-12-31")


def test_clinics_and_weeks(data):
    assert data.clinics["clinic"].tolist() == IDS
    assert set(data.clinics.loc[data.clinics["level"] == "patient", "clinic"]) == set(PATIENT_LEVEL)
    assert list(demo.CLINICS) == IDS
    assert demo.CLINICS["kir"]["data"] == {"weekly": "kir_weekly.xlsx"}
    assert demo.CLINICS["uro"]["data"] == {"waiting_list": "uro_waiting_list.parquet",
                                           "weekly": "uro_activity.csv"}
    expected = cal.iso_week_periods("2019-01-07", END)
    assert cal.iso_week_label(expected[[0, -1]]).tolist() == ["2019-W02", "2026-W47"]
    assert list(data.weekly.columns) == ["clinic", "period", *MEASURES]
    for clinic, frame in data.weekly.groupby("clinic", sort=False):
        assert pd.PeriodIndex(frame["period"]).equals(expected), clinic
    assert (data.weekly[list(MEASURES)].dtypes == np.float64).all()
    assert data.weekly["period"].dtype == pd.PeriodDtype("W-SUN")


def test_counts_are_non_negative_whole_numbers(data):
    values = data.weekly[list(MEASURES)]
    assert np.isfinite(values.to_numpy()).all()
    assert (values >= 0).all().all()
    whole = values.drop(columns="bed_days")
    assert (whole == whole.round()).all().all()


# ----------------------------------------------------------------------------- identities
def test_conservation_identities_week_by_week(data):
    for clinic, w in data.weekly.groupby("clinic"):
        d_new = w["queue_new_visit"].diff().iloc[1:]
        flow_new = (w["referrals_in"] - w["referrals_forwarded"] - w["removals_new_visit_other"]
                    - w["new_visits"] - w["purchased_new_visits"]).iloc[1:]
        np.testing.assert_array_equal(d_new.to_numpy(), flow_new.to_numpy(), err_msg=clinic)
        d_trt = w["queue_treatment"].diff().iloc[1:]
        flow_trt = (w["treatment_decisions"] - w["operations_elective"] - w["purchased_operations"]
                    - w["removals_treatment_other"]).iloc[1:]
        np.testing.assert_array_equal(d_trt.to_numpy(), flow_trt.to_numpy(), err_msg=clinic)
        assert (w["waiting_over_90_new_visit"] <= w["queue_new_visit"]).all()
        assert (w["waiting_over_90_treatment"] <= w["queue_treatment"]).all()


def test_activity_measures_consistent(weekly):
    assert (weekly["available_slots"] <= weekly["planned_new_visits"] + 10).all()
    for clinic, ratio in [("ort_nord", 1.6), ("hud", 2.0), ("ogon", 1.2)]:
        w = weekly[weekly["clinic"] == clinic]
        assert w["return_visits"].sum() / w["new_visits"].sum() == pytest.approx(ratio, rel=0.05)
    assert (weekly.groupby("clinic")["no_shows"].sum() > 0).all()


# ----------------------------------------------------------------------------- extract
def test_extract_schema(data):
    wl = data.waiting_list
    assert list(wl.columns) == ["patient_id", "clinic", "priority", "referral_date", "first_visit_date",
                                "decision_date", "treatment_date", "removal_date", "removal_reason",
                                "external", "patient_chosen_wait"]
    for col in ["referral_date", "first_visit_date", "decision_date", "treatment_date", "removal_date"]:
        assert wl[col].dtype == np.dtype("datetime64[ns]"), col
    assert wl["external"].dtype == bool and wl["patient_chosen_wait"].dtype == bool
    assert set(wl["clinic"]) == set(PATIENT_LEVEL)
    assert wl["patient_id"].str.fullmatch(r"P\d{7}").all()
    assert wl["patient_id"].is_unique
    assert set(wl["priority"]) == {"1", "2", "3"}
    assert set(wl["removal_reason"].dropna()) == {"forwarded", "declined", "other"}
    assert (wl["removal_reason"].isna() == wl["removal_date"].isna()).all()
    assert wl["referral_date"].notna().all()
    assert (wl["referral_date"] == wl["referral_date"].dt.normalize()).all()
    # every referral from 104 weeks before the start week to the end week
    assert wl["referral_date"].min() >= pd.Timestamp("2017-01-09")
    assert wl["referral_date"].min() < pd.Timestamp("2017-01-16")
    assert wl["referral_date"].max() <= pd.Timestamp(END)


def test_extract_event_order(data):
    wl = data.waiting_list
    ref, vis, dec, trt, rem = (wl[c] for c in ["referral_date", "first_visit_date", "decision_date",
                                                "treatment_date", "removal_date"])
    assert (vis.isna() | (vis >= ref)).all()
    # decided at the first visit
    assert ((dec == vis) | dec.isna()).all()
    assert (trt.isna() | (dec.notna() & (trt >= dec))).all()
    assert (rem.isna() | (rem >= ref)).all()
    # removed before a first visit, or after a decision without treatment
    assert (rem.isna() | vis.isna() | (dec.notna() & trt.isna() & (rem >= dec))).all()
    # the next step was bought: a first visit without decision, or a treatment
    ext = wl["external"]
    assert (~ext | (vis.notna() & dec.isna()) | trt.notna()).all()
    assert (~ext | rem.isna()).all()
    # forwarded within days, in the week of the referral
    fwd = wl["removal_reason"] == "forwarded"
    assert ((rem - ref)[fwd].dt.days.between(0, 6)).all()
    assert (rem[fwd].dt.to_period("W-SUN") == ref[fwd].dt.to_period("W-SUN")).all()
    assert vis[fwd].isna().all()


def test_events_on_working_days(data):
    wl = data.waiting_list
    off = set(cal.swedish_holidays(range(2018, 2027))["date"])
    for col in ["referral_date", "first_visit_date", "treatment_date"]:
        days = wl[col].dropna()
        assert (days.dt.day_of_week < 5).all(), col
        assert not days.isin(off).any(), col


def test_extract_shares(data):
    wl = data.waiting_list
    assert 0.005 < wl["patient_chosen_wait"].mean() < 0.05
    assert (wl.loc[wl["patient_chosen_wait"], "priority"] == "3").all()
    shares = wl["priority"].value_counts(normalize=True)
    assert shares["1"] == pytest.approx(0.15, abs=0.02) and shares["3"] == pytest.approx(0.5, abs=0.02)
    forwarded = (wl["removal_reason"] == "forwarded").groupby(wl["clinic"]).mean()
    assert forwarded["ort_nord"] == pytest.approx(0.08, abs=0.01)
    assert forwarded["ogon"] == pytest.approx(0.03, abs=0.01)
    bought = wl.groupby("clinic")["external"].sum()
    assert bought["ogon"] > 0 and bought["ort_nord"] > 0
    assert bought["gyn"] == 0 and bought["uro"] == 0


def _derive_literally(wl, periods):
    """The derivation rules of COMMON.md, written out mask by mask for the given weeks."""
    ref, vis, dec, trt, rem = (wl[c] for c in ["referral_date", "first_visit_date", "decision_date",
                                                "treatment_date", "removal_date"])
    ext, chosen = wl["external"], wl["patient_chosen_wait"]
    fwd = wl["removal_reason"] == "forwarded"
    rows = []
    for period in periods:
        start, end = period.start_time.normalize(), period.end_time.normalize()

        def within(s, start=start, end=end):
            return (s >= start) & (s <= end)

        q_new = (ref <= end) & (vis.isna() | (vis > end)) & (rem.isna() | (rem > end))
        q_trt = (dec <= end) & (trt.isna() | (trt > end)) & (rem.isna() | (rem > end))
        rows.append({
            "period": period,
            "referrals_in": within(ref).sum(),
            "referrals_forwarded": (fwd & within(rem) & vis.isna()).sum(),
            "removals_new_visit_other": (~fwd & within(rem) & vis.isna()).sum(),
            "new_visits": (within(vis) & ~(ext & dec.isna())).sum(),
            "purchased_new_visits": (within(vis) & ext & dec.isna()).sum(),
            "treatment_decisions": within(dec).sum(),
            "operations_elective": (within(trt) & ~ext & dec.notna()).sum(),
            "purchased_operations": (within(trt) & ext & dec.notna()).sum(),
            "removals_treatment_other": (within(rem) & dec.notna() & trt.isna()).sum(),
            "queue_new_visit": q_new.sum(),
            "queue_treatment": q_trt.sum(),
            "waiting_over_90_new_visit": (q_new & ((end - ref).dt.days > 90) & ~chosen).sum(),
            "waiting_over_90_treatment": (q_trt & ((end - dec).dt.days > 90) & ~chosen).sum(),
        })
    return pd.DataFrame(rows).set_index("period").astype(np.float64)


@pytest.mark.parametrize("clinic", PATIENT_LEVEL)
def test_extract_gives_the_simulated_books_literal_rules(data, clinic):
    wl = data.waiting_list[data.waiting_list["clinic"] == clinic]
    books = data.weekly[data.weekly["clinic"] == clinic].set_index("period")
    periods = books.index[::13].append(books.index[-2:])  # every 13th week, and the last ones
    derived = _derive_literally(wl, periods)
    pd.testing.assert_frame_equal(derived, books.loc[periods, list(DERIVABLE)], check_names=False,
                                  check_freq=False)


@pytest.mark.parametrize("clinic", PATIENT_LEVEL)
def test_extract_gives_the_simulated_books_data_module(data, clinic):
    kdata = pytest.importorskip("kps_analysis.data")
    if not hasattr(kdata, "weekly_from_waiting_list"):
        pytest.skip("kps_analysis.data.weekly_from_waiting_list not written yet")
    wl = data.waiting_list[data.waiting_list["clinic"] == clinic].reset_index(drop=True)
    derived = kdata.weekly_from_waiting_list(wl, start="2019-01-07", end=END)
    books = data.weekly[data.weekly["clinic"] == clinic].reset_index(drop=True)
    assert derived["period"].tolist() == books["period"].tolist()
    pd.testing.assert_frame_equal(derived[list(DERIVABLE)].astype(np.float64), books[list(DERIVABLE)])


# ----------------------------------------------------------------------------- profiles
def test_ogon_is_the_highest_volume_clinic(weekly):
    means = weekly.groupby("clinic")[["referrals_in", "new_visits", "operations_elective"]].mean()
    assert means["referrals_in"].idxmax() == "ogon"
    assert means["new_visits"].idxmax() == "ogon"
    assert means["operations_elective"].idxmax() == "ogon"
    assert 140 <= means.loc["ogon", "referrals_in"] <= 175


def test_hud_has_visits_only(weekly):
    hud = weekly[weekly["clinic"] == "hud"]
    for m in ["treatment_decisions", "operations_elective", "purchased_operations", "queue_treatment",
              "waiting_over_90_treatment", "operations_acute", "planned_operations", "bed_days",
              "removals_treatment_other"]:
        assert (hud[m] == 0).all(), m
    assert hud["new_visits"].mean() > 50 and hud["return_visits"].mean() > hud["new_visits"].mean()


def test_uro_backlog_grows_over_the_last_two_years(weekly):
    for m, factor in [("queue_treatment", 1.3), ("waiting_over_90_treatment", 2.0)]:
        s = series(weekly, "uro", m)
        last, two_years_ago = s[-13:].mean(), s[-117:-104].mean()  # same season
        assert last > factor * two_years_ago, (m, last, two_years_ago)
        # and more in the last year than in the one before
        assert s[-52:].mean() > s[-104:-52].mean() > 0.95 * s[-156:-104].mean(), m
    over_90 = series(weekly, "uro", "waiting_over_90_new_visit") + series(weekly, "uro",
                                                                             "waiting_over_90_treatment")
    assert over_90[-52:].mean() > 1.2 * over_90[-104:-52].mean()


def test_gyn_in_balance(weekly):
    for m in ["queue_new_visit", "queue_treatment"]:
        s = series(weekly, "gyn", m)
        assert s[-52:].mean() == pytest.approx(s[-104:-52].mean(), rel=0.15), m
    gyn = weekly[weekly["clinic"] == "gyn"]
    inflow = gyn["referrals_in"] - gyn["referrals_forwarded"] - gyn["removals_new_visit_other"]
    assert gyn["new_visits"].sum() == pytest.approx(inflow.sum(), rel=0.02)


def test_ort_syd_has_spare_capacity(weekly):
    slots = weekly.groupby("clinic")["available_slots"].mean()
    assert slots.idxmax() == "ort_syd" and slots["ort_syd"] > 3 * slots.drop("ort_syd").max()
    ort_syd = weekly[weekly["clinic"] == "ort_syd"]
    share_over_90 = ort_syd["waiting_over_90_new_visit"].sum() / ort_syd["queue_new_visit"].sum()
    assert share_over_90 < 0.01


def test_ort_nord_queue_peaks_after_summer(weekly):
    w = weekly[weekly["clinic"] == "ort_nord"]
    after_summer = w[w["iso_week"].between(31, 36)]["queue_new_visit"].mean()
    spring = w[w["iso_week"].between(10, 20)]["queue_new_visit"].mean()
    assert after_summer > 1.15 * spring
    over_90 = w.groupby("iso_week")["waiting_over_90_new_visit"].mean()
    assert over_90.idxmax() in range(30, 40)


def test_external_purchase_only_where_waits_build_up(weekly):
    bought = weekly.groupby("clinic")[["purchased_new_visits", "purchased_operations"]].sum().sum(axis=1)
    assert set(bought[bought > 0].index) == {"ogon", "ort_nord"}


def test_pandemic_spring_2020(weekly):
    spring = weekly["iso_week"].between(12, 22)
    by_year = weekly[spring].groupby(["clinic", "iso_year"])[["production", "referrals_in"]].sum()
    for clinic in IDS:  # 30-50 % down, give or take the noise of a clinic
        ratio = by_year.loc[(clinic, 2020)] / by_year.loc[(clinic, 2019)]
        assert 0.45 <= ratio["production"] <= 0.8, clinic
        assert 0.4 <= ratio["referrals_in"] <= 0.8, clinic
    region = by_year.groupby(level="iso_year").sum()
    assert 0.5 <= (region.loc[2020] / region.loc[2019]).max() <= 0.7


def test_summer_and_seasonal_dips(weekly):
    summer = cal.is_summer_week(pd.PeriodIndex(weekly["period"]))
    ordinary = ~summer & ~weekly["iso_week"].isin([1, 8, 9, 51, 52, 53])
    for clinic in IDS:
        mine = (weekly["clinic"] == clinic).to_numpy()
        prod = weekly["production"].to_numpy()
        refs = weekly["referrals_in"].to_numpy()
        prod_ratio = prod[mine & summer].mean() / prod[mine & ordinary].mean()
        ref_ratio = refs[mine & summer].mean() / refs[mine & ordinary].mean()
        assert prod_ratio < 0.75, clinic
        assert prod_ratio < ref_ratio < 0.95, clinic  # referrals dip less
        christmas = weekly["iso_week"].to_numpy() == 52
        assert prod[mine & christmas].mean() < 0.8 * prod[mine & ordinary].mean(), clinic
    # capacity follows working days: Easter week (Good Friday) plans less than the week before
    planned = weekly.set_index(["clinic", "period"])["planned_new_visits"]
    good_friday = cal.easter_sunday(range(2021, 2027)) - pd.Timedelta(days=2)
    easter = good_friday.to_period("W-SUN")
    assert (planned.loc["kir"].loc[easter].to_numpy() < planned.loc["kir"].loc[easter - 1].to_numpy()).all()


# ----------------------------------------------------------------------------- files
EXPECTED_FILES = ["ort_nord_waiting_list.parquet", "ort_nord_activity.csv", "ort_syd_weekly.csv",
                  "ogon_waiting_list.parquet", "ogon_activity.csv", "kir_weekly.xlsx", "onh_weekly.csv",
                  "gyn_waiting_list.parquet", "gyn_activity.csv", "uro_waiting_list.parquet",
                  "uro_activity.csv", "hud_weekly.csv", "README.txt"]


@pytest.fixture(scope="module")
def written(data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    paths = demo.write(folder, data=data)
    return folder, paths


def test_write_files(written, data):
    folder, paths = written
    assert [p.name for p in paths] == EXPECTED_FILES
    assert sorted(p.name for p in folder.iterdir()) == sorted(EXPECTED_FILES)
    assert "SYNTETISKA" in (folder / "README.txt").read_text(encoding="utf-8")
    assert "SYNTHETIC" in (folder / "README.txt").read_text(encoding="utf-8")
    extract = pd.read_parquet(folder / "uro_waiting_list.parquet")
    expected = data.waiting_list[data.waiting_list["clinic"] == "uro"].reset_index(drop=True)
    pd.testing.assert_frame_equal(extract, expected, check_dtype=False)
    assert extract["referral_date"].dtype == np.dtype("datetime64[ns]")


def test_weekly_csv_is_a_swedish_excel_export(written, data):
    folder, _ = written
    raw = (folder / "ort_syd_weekly.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    lines = text.split("\r\n")
    header = lines[0].split(";")
    assert header[:4] == ["Klinik", "Vecka", "Remisser in", "Vidarebefordrade remisser"]
    assert "Väntat över 90 dagar behandling" in header and "Lediga tider" in header
    assert len(header) == 2 + len(MEASURES)
    first = dict(zip(header, lines[1].split(";")))
    assert first["Klinik"] == "ort_syd" and first["Vecka"] == "2019-W02"
    assert "," in first["Vårddagar"] and "." not in first["Vårddagar"]
    back = pd.read_csv(folder / "ort_syd_weekly.csv", sep=";", decimal=",", encoding="utf-8-sig")
    mine = data.weekly[data.weekly["clinic"] == "ort_syd"].reset_index(drop=True)
    np.testing.assert_array_equal(back["Väntande nybesök"].to_numpy(float), mine["queue_new_visit"].to_numpy())
    np.testing.assert_allclose(back["Vårddagar"].to_numpy(float), mine["bed_days"].to_numpy())
    assert back["Vecka"].tolist() == list(cal.iso_week_label(mine["period"]))
    activity = pd.read_csv(folder / "gyn_activity.csv", sep=";", decimal=",", encoding="utf-8-sig")
    assert list(activity.columns) == ["Klinik", "Vecka", "Återbesök", "Akuta besök", "Akuta operationer",
                                      "Vårddagar", "Ej bokade återbesök", "Planerade nybesök",
                                      "Planerade operationer", "Uteblivna besök", "Lediga tider"]
    xlsx = pd.read_excel(folder / "kir_weekly.xlsx")
    assert xlsx.shape == (len(mine), 2 + len(MEASURES)) and xlsx["Vecka"].iloc[-1] == "2026-W47"


def test_files_read_back_through_the_data_module(written, data):
    kdata = pytest.importorskip("kps_analysis.data")
    folder, _ = written
    for name, clinic in [("ort_syd_weekly.csv", "ort_syd"), ("kir_weekly.xlsx", "kir"), ("gyn_activity.csv", "gyn")]:
        back = kdata.read_weekly(folder / name).reset_index(drop=True)
        mine = data.weekly[data.weekly["clinic"] == clinic].reset_index(drop=True)
        assert back["period"].tolist() == mine["period"].tolist(), name
        for m in [c for c in MEASURES if c in back.columns]:
            np.testing.assert_allclose(back[m].to_numpy(float), mine[m].to_numpy(), err_msg=f"{name} {m}")
    extract = kdata.read_waiting_list(folder / "gyn_waiting_list.parquet")
    assert len(extract) == (data.waiting_list["clinic"] == "gyn").sum()


# ----------------------------------------------------------------------------- ensure_demo_data
def test_ensure_demo_data(tmp_path):
    out = tmp_path / "demo-data"
    assert demo.ensure_demo_data(out, end="2019-03-31") == out
    assert sorted(p.name for p in out.iterdir()) == sorted(EXPECTED_FILES + [demo.STAMP_FILE])
    stamp = json.loads((out / demo.STAMP_FILE).read_text(encoding="utf-8"))
    assert stamp["generator_version"].startswith(demo.DEMO_VERSION + "-") and stamp["end_week"] == "2019-W13"
    before = (out / "gyn_activity.csv").stat().st_mtime_ns
    demo.ensure_demo_data(out, end="2019-03-27")  # same ISO week: current, untouched
    assert (out / "gyn_activity.csv").stat().st_mtime_ns == before
    # a new week makes it stale
    demo.ensure_demo_data(out, end="2019-04-07")
    assert json.loads((out / demo.STAMP_FILE).read_text(encoding="utf-8"))["end_week"] == "2019-W14"
    assert pd.read_csv(out / "hud_weekly.csv", sep=";", encoding="utf-8-sig")["Vecka"].iloc[-1] == "2019-W14"
    # another generator version, or a missing file, makes it stale too
    (out / demo.STAMP_FILE).write_text(json.dumps({**stamp, "generator_version": "0"}), encoding="utf-8")
    demo.ensure_demo_data(out, end="2019-03-31")
    assert json.loads((out / demo.STAMP_FILE).read_text(encoding="utf-8"))["generator_version"] == demo._fingerprint()
    (out / "kir_weekly.xlsx").unlink()
    demo.ensure_demo_data(out, end="2019-03-31")
    assert (out / "kir_weekly.xlsx").is_file()
    # no temporary or old folders left behind
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")) == ["demo-data"]


def test_ensure_demo_data_refuses_a_foreign_folder(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "budget.xlsx").write_text("not demo data")
    with pytest.raises(ValueError, match="out_dir"):
        demo.ensure_demo_data(out, end="2019-03-31")
    assert (out / "budget.xlsx").read_text() == "not demo data"
