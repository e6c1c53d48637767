"""Tests of kps_analysis.parameters: loading, merging, validation, freezing, glossary."""

from __future__ import annotations

import datetime as dt
import json
import pickle
import re
import shutil
from pathlib import Path

import pytest
import yaml

from kps_analysis.parameters import (
    SCHEMA,
    ParameterError,
    Parameters,
    ParameterSection,
    deep_merge,
    glossary_markdown,
    list_clinics,
    load_parameters,
    parse_date,
    validate_all,
)

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "parameters"

DEMO_FILES = {
    "ort_nord": {"waiting_list": "ort_nord_waiting_list.parquet",
                 "weekly": "ort_nord_activity.csv"},
    "ort_syd": {"weekly": "ort_syd_weekly.csv"},
    "ogon": {"waiting_list": "ogon_waiting_list.parquet", "weekly": "ogon_activity.csv"},
    "kir": {"weekly": "kir_weekly.xlsx"},
    "onh": {"weekly": "onh_weekly.csv"},
    "gyn": {"waiting_list": "gyn_waiting_list.parquet", "weekly": "gyn_activity.csv"},
    "uro": {"waiting_list": "uro_waiting_list.parquet", "weekly": "uro_activity.csv"},
    "hud": {"weekly": "hud_weekly.csv"},
}

MINIMAL_CLINIC = """\
name: Testkliniken
hospital: Testsjukhuset
division: Division Test
specialty: Urologi
data:
  weekly: test_weekly.csv
resources:
  new_visit_slots_per_week: 40
  return_visit_slots_per_week: 60
  theatre_sessions_per_week: 5
  operations_per_session: 3
  no_show_rate: 0.05
annual_volume:
  new_visits: 1800
  operations: 700
prices:
  purchase_new_visit_sek: 2000
  purchase_operation_sek: 40000
  internal_new_visit_sek: 1800
  internal_operation_sek: 35000
closures:
  - {start: 2027-07-05, end: 2027-08-15, capacity_share: 0.5, label: Sommar}
scenarios:
  inflow_plus_10: {inflow_change_pct: 10}
"""


@pytest.fixture
def pdir(tmp_path) -> Path:
    """A parameter folder with the real defaults and no clinics."""
    folder = tmp_path / "parameters"
    (folder / "clinics").mkdir(parents=True)
    shutil.copy(PARAMS / "defaults.yaml", folder / "defaults.yaml")
    return folder


def write_clinic(pdir: Path, text: str = MINIMAL_CLINIC, clinic_id: str = "test") -> Path:
    path = pdir / "clinics" / f"{clinic_id}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def edit_yaml(path: Path, change) -> None:
    """Load a YAML file, let ``change(data)`` modify it, write it back."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")


def load_error(clinic_id: str, pdir: Path) -> ParameterError:
    with pytest.raises(ParameterError) as info:
        load_parameters(clinic_id, pdir)
    return info.value


# ---- the demo region -------------------------------------------------------------


def test_list_clinics_finds_the_eight_demo_clinics():
    assert list_clinics(PARAMS) == sorted(DEMO_FILES)


@pytest.mark.parametrize("clinic_id", sorted(DEMO_FILES))
def test_every_demo_clinic_loads(clinic_id):
    p = load_parameters(clinic_id, PARAMS)
    assert isinstance(p, Parameters)
    assert p.clinic_id == clinic_id
    assert p.data.to_dict() == DEMO_FILES[clinic_id]
    assert p.source_files == (PARAMS / "defaults.yaml", PARAMS / "clinics" / f"{clinic_id}.yaml")
    assert p.guarantee_days == 90
    assert p.target_share_within_guarantee == 0.95
    assert {"inflow_plus_10", "longer_summer_closure"} <= set(p.scenarios)
    assert p.scenarios.inflow_plus_10.inflow_change_pct == 10.0
    assert p.scenarios.longer_summer_closure.summer_closure_extra_weeks == 1
    # summer closures of this and next year, ISO weeks 27-32, at 40-50 % capacity
    summers = [c for c in p.closures if c.label.startswith("Sommar")]
    assert [(c.start.isocalendar()[1], c.end.isocalendar()[1]) for c in summers] == [(27, 32)] * 2
    assert [c.start.year for c in summers] == [2026, 2027]
    assert all(0.4 <= c.capacity_share <= 0.5 for c in summers)


def test_demo_clinic_profiles():
    p = {c: load_parameters(c, PARAMS) for c in DEMO_FILES}
    assert 140 <= p["ogon"].resources.new_visit_slots_per_week <= 240  # high volume (206 since a96fa17)
    assert p["hud"].resources.theatre_sessions_per_week == 0.0
    assert p["hud"].annual_volume.operations == 0.0
    assert p["hud"].prices.purchase_operation_sek is None
    assert p["ort_nord"].region_pool == p["ort_syd"].region_pool == "ortopedi"
    assert all(p[c].region_pool is None for c in DEMO_FILES if not c.startswith("ort"))
    # the care agreement is within the clinic's capacity: at most about 46 effective weeks
    # a year after summer reductions and holidays, slots times (1 - no-show rate); since
    # a96fa17 the demo resources are what the clinics produce, for most more than the
    # agreement asks (down to about 34 weeks' worth)
    for clinic in p.values():
        r = clinic.resources
        weekly_new = r.new_visit_slots_per_week * (1 - r.no_show_rate)
        assert 30 <= clinic.annual_volume.new_visits / weekly_new <= 50
        if r.theatre_sessions_per_week:
            weekly_ops = r.theatre_sessions_per_week * r.operations_per_session
            assert 30 <= clinic.annual_volume.operations / weekly_ops <= 50


def test_validate_all_on_demo_parameters():
    assert validate_all(PARAMS) == dict.fromkeys(sorted(DEMO_FILES))


def test_validate_all_reports_a_broken_clinic(pdir):
    write_clinic(pdir)
    write_clinic(pdir, MINIMAL_CLINIC.replace("name: Testkliniken\n", ""), "broken")
    (pdir / "clinics" / "old.yml").write_text(MINIMAL_CLINIC, encoding="utf-8")
    result = validate_all(pdir)
    assert result["test"] is None
    assert "broken.yaml" in result["broken"] and "'name'" in result["broken"]
    assert "old.yml" in result["old"] and ".yaml" in result["old"]


# ---- merging -------------------------------------------------------------------------


def test_deep_merge_merges_mappings_and_replaces_lists():
    base = {"a": 1, "s": {"x": 1, "y": 2}, "l": [1, 2]}
    over = {"s": {"y": 3}, "l": [9], "b": 2}
    assert deep_merge(base, over) == {"a": 1, "s": {"x": 1, "y": 3}, "l": [9], "b": 2}
    assert base == {"a": 1, "s": {"x": 1, "y": 2}, "l": [1, 2]}  # unchanged


def test_clinic_value_overrides_default(pdir):
    write_clinic(pdir, MINIMAL_CLINIC + "guarantee_days: 60\n"
                 "escalation: {red_deviation_pct: 15}\nforecast: {levels: [90]}\n")
    p = load_parameters("test", pdir)
    assert p.guarantee_days == 60
    assert p.escalation.red_deviation_pct == 15.0
    assert p.escalation.yellow_deviation_pct == 5.0  # kept from defaults.yaml
    assert p.forecast.levels == (90,)  # the list is replaced, not appended to
    assert p.forecast.method == "auto"
    assert load_parameters("ogon", PARAMS).guarantee_days == 90


def test_optional_keys_get_their_defaults(pdir):
    write_clinic(pdir)
    p = load_parameters("test", pdir)
    assert p.groups == ()
    assert p.region_pool is None
    assert p.resources.minutes_per_operation is None
    assert "waiting_list" not in p.data  # left out, so data.to_dict() names files only
    s = p.scenarios.inflow_plus_10
    assert (s.inflow_change_pct, s.extra_theatre_sessions_per_week,
            s.summer_closure_extra_weeks, s.moved_patients_per_week) == (10.0, 0.0, 0, 0.0)
    assert s.description is None


def test_overrides_are_validated_like_a_file(pdir):
    write_clinic(pdir)
    p = load_parameters("test", pdir, overrides={"language": "en",
                                                 "resources": {"no_show_rate": 0.1}})
    assert p.language == "en"
    assert p.resources.no_show_rate == 0.1
    assert p.resources.new_visit_slots_per_week == 40.0
    with pytest.raises(ParameterError, match=r"^overrides: key 'language' must be one of"):
        load_parameters("test", pdir, overrides={"language": "de"})


# ---- the frozen result ---------------------------------------------------------------


def test_parameters_are_frozen(pdir):
    write_clinic(pdir)
    p = load_parameters("test", pdir)
    with pytest.raises(AttributeError, match="read-only"):
        p.guarantee_days = 30
    with pytest.raises(AttributeError, match="read-only"):
        p.resources.no_show_rate = 0.0
    with pytest.raises(TypeError):
        p["guarantee_days"] = 30
    with pytest.raises(TypeError):
        p.closures[0]["capacity_share"] = 1.0
    with pytest.raises(AttributeError):
        del p.name
    assert isinstance(p.resources, ParameterSection)
    assert isinstance(p.closures, tuple) and isinstance(p.forecast.levels, tuple)
    assert p.guarantee_days == 90


def test_attribute_and_item_access_agree(pdir):
    write_clinic(pdir)
    p = load_parameters("test", pdir)
    assert p.resources.theatre_sessions_per_week == p["resources"]["theatre_sessions_per_week"] == 5.0
    assert dict(**p.resources)["operations_per_session"] == 3.0  # unpackable at a boundary
    with pytest.raises(AttributeError, match=r"did you mean 'resources.theatre_sessions_per_week'"):
        _ = p.resources.theatre_sesions_per_week
    with pytest.raises(KeyError):
        p["nonexistent"]


def test_to_dict_is_json_with_iso_dates(pdir):
    write_clinic(pdir)
    p = load_parameters("test", pdir)
    d = p.to_dict()
    assert d["closures"][0]["start"] == "2027-07-05"
    assert d["forecast"]["levels"] == [80, 95]
    assert set(d) == {k for k in SCHEMA if "." not in k and "[" not in k}
    assert json.loads(json.dumps(d)) == d


def test_pickle_round_trip(pdir):
    write_clinic(pdir)
    p = load_parameters("test", pdir)
    q = pickle.loads(pickle.dumps(p))
    assert q == p and q.hash == p.hash and q.clinic_id == "test"
    assert q.source_files == p.source_files


# ---- hash ------------------------------------------------------------------------------


def test_hash_is_stable_and_changes_with_a_value(pdir):
    write_clinic(pdir)
    h = load_parameters("test", pdir).hash
    assert re.fullmatch(r"[0-9a-f]{12}", h)
    assert load_parameters("test", pdir).hash == h
    # the same values written differently: 40 as 40.0, a quoted date
    text = (MINIMAL_CLINIC.replace("new_visit_slots_per_week: 40", "new_visit_slots_per_week: 40.0")
            .replace("start: 2027-07-05", "start: '2027-07-05'"))
    write_clinic(pdir, text)
    assert load_parameters("test", pdir).hash == h
    write_clinic(pdir, MINIMAL_CLINIC.replace("no_show_rate: 0.05", "no_show_rate: 0.06"))
    assert load_parameters("test", pdir).hash != h


def test_hash_ignores_key_order(pdir):
    data = yaml.safe_load(MINIMAL_CLINIC)
    write_clinic(pdir)
    h = load_parameters("test", pdir).hash
    reversed_data = {k: data[k] for k in reversed(list(data))}
    reversed_data["resources"] = {k: data["resources"][k] for k in reversed(list(data["resources"]))}
    write_clinic(pdir, yaml.safe_dump(reversed_data, sort_keys=False, allow_unicode=True))
    assert load_parameters("test", pdir).hash == h


def test_hash_is_sha256_of_canonical_json(pdir):
    import hashlib

    write_clinic(pdir)
    p = load_parameters("test", pdir)
    canonical = json.dumps(p.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert p.hash == hashlib.sha256(canonical.encode()).hexdigest()[:12]


# ---- dates -----------------------------------------------------------------------------


def test_parse_date_accepts_dates_and_iso_text():
    assert parse_date("2025-07-07") == dt.date(2025, 7, 7)
    assert parse_date(dt.date(2025, 7, 7)) == dt.date(2025, 7, 7)
    assert parse_date(dt.datetime(2025, 7, 7)) == dt.date(2025, 7, 7)
    for bad in ("2025-02-30", "7/7/2025", "20250707", 20250707, dt.datetime(2025, 7, 7, 12)):
        with pytest.raises(ValueError, match="date"):
            parse_date(bad)


def test_string_and_yaml_dates_give_the_same_date(pdir):
    write_clinic(pdir, MINIMAL_CLINIC.replace("start: 2027-07-05", "start: '2027-07-05'")
                 .replace("end: 2027-08-15", 'end: "2027-08-15"'))
    quoted = load_parameters("test", pdir)
    write_clinic(pdir)
    plain = load_parameters("test", pdir)
    assert quoted.closures[0].start == plain.closures[0].start == dt.date(2027, 7, 5)
    assert quoted.closures[0].end == plain.closures[0].end == dt.date(2027, 8, 15)
    assert type(quoted.closures[0].start) is dt.date
    # papermill-style overrides hand dates over as text
    p = load_parameters("test", pdir, overrides={"closures": [
        {"start": "2027-12-20", "end": "2028-01-06", "capacity_share": 0.6}]})
    assert p.closures[0].start == dt.date(2027, 12, 20) and p.closures[0].label is None


def test_invalid_date_names_file_and_key(pdir):
    path = write_clinic(pdir, MINIMAL_CLINIC.replace("end: 2027-08-15", "end: '2027-02-30'"))
    err = load_error("test", pdir)
    assert str(err).startswith(f"{path}: key 'closures[0].end'")
    assert err.key == "closures[0].end"


# ---- validation errors name the file and the key --------------------------------------


def test_unknown_key_with_suggestion(pdir):
    path = write_clinic(pdir, MINIMAL_CLINIC.replace("theatre_sessions_per_week",
                                                     "theatre_sesions_per_week"), "uro")
    err = load_error("uro", pdir)
    assert str(err) == (f"{path}: key 'resources.theatre_sesions_per_week' is unknown "
                        f"(did you mean 'resources.theatre_sessions_per_week'?)")
    assert err.path == str(path) and err.key == "resources.theatre_sesions_per_week"


def test_unknown_key_in_a_scenario_and_a_misplaced_key(pdir):
    path = write_clinic(pdir, MINIMAL_CLINIC.replace(
        "inflow_plus_10: {inflow_change_pct: 10}", "inflow_plus_10: {inflow_chnage_pct: 10}")
        + "no_show_rate: 0.05\n")
    err = load_error("test", pdir)
    text = str(err)
    assert (f"{path}: key 'scenarios.inflow_plus_10.inflow_chnage_pct' is unknown "
            f"(did you mean 'scenarios.inflow_plus_10.inflow_change_pct'?)") in text
    assert f"{path}: key 'no_show_rate' is unknown (did you mean 'resources.no_show_rate'?" in text
    assert len(err.problems) == 2


def test_unknown_key_in_defaults_names_defaults(pdir):
    write_clinic(pdir)
    with (pdir / "defaults.yaml").open("a", encoding="utf-8") as f:
        f.write("suppresion_limit: 3\n")
    err = load_error("test", pdir)
    assert str(err) == (f"{pdir / 'defaults.yaml'}: key 'suppresion_limit' is unknown "
                        f"(did you mean 'suppression_limit'?)")


@pytest.mark.parametrize("old, new, key, words", [
    ("theatre_sessions_per_week: 5", "theatre_sessions_per_week: five",
     "resources.theatre_sessions_per_week", "must be a number [sessions/week], got str 'five'"),
    ("no_show_rate: 0.05", "no_show_rate: '0,05'",
     "resources.no_show_rate", "use a decimal point"),
    ("name: Testkliniken", "name: [Test]", "name", "must be text"),
    ("weekly: test_weekly.csv", "weekly: 12", "data.weekly", "must be a file name"),
    ("scenarios:\n", "scenarios:\n  later: {summer_closure_extra_weeks: 1.5}\n",
     "scenarios.later.summer_closure_extra_weeks", "must be a whole number"),
    ("closures:\n  - {", "closures:\n  - 5\n  - {", "closures[0]", "must be a mapping"),
    ("resources:\n", "resources: 40\nx:\n", "resources", "must be a mapping"),
])
def test_wrong_type(pdir, old, new, key, words):
    assert old in MINIMAL_CLINIC
    path = write_clinic(pdir, MINIMAL_CLINIC.replace(old, new, 1))
    err = load_error("test", pdir)
    assert err.path == str(path) and err.key == key
    assert str(err).startswith(f"{path}: key {key!r}")
    assert words in str(err)


def test_wrong_type_in_defaults_names_defaults(pdir):
    write_clinic(pdir)
    edit_yaml(pdir / "defaults.yaml", lambda d: d.update(guarantee_days="90 dagar"))
    err = load_error("test", pdir)
    assert str(err) == (f"{pdir / 'defaults.yaml'}: key 'guarantee_days' must be a whole "
                        f"number [days], got str '90 dagar'")


@pytest.mark.parametrize("old, new, key, words", [
    ("no_show_rate: 0.05", "no_show_rate: 1.5", "resources.no_show_rate",
     "must be between 0 and 0.9 [share 0-1], got 1.5"),
    ("capacity_share: 0.5", "capacity_share: 1.2", "closures[0].capacity_share",
     "between 0 and 1"),
    ("new_visit_slots_per_week: 40", "new_visit_slots_per_week: -40",
     "resources.new_visit_slots_per_week", "between 0 and"),
    ("inflow_change_pct: 10", "inflow_change_pct: -150",
     "scenarios.inflow_plus_10.inflow_change_pct", "between -100 and"),
    ("name: Testkliniken", "name: Testkliniken\nlanguage: se", "language",
     "must be one of 'sv', 'en', got 'se'"),
    ("name: Testkliniken", "name: Testkliniken\nregion_pool: Orto Pedi", "region_pool",
     "lower-case identifier"),
    ("name: Testkliniken", "name: Testkliniken\nforecast: {levels: [80, 100]}",
     "forecast.levels[1]", "between 1 and 99"),
])
def test_out_of_range(pdir, old, new, key, words):
    path = write_clinic(pdir, MINIMAL_CLINIC.replace(old, new, 1))
    err = load_error("test", pdir)
    assert err.key == key
    assert str(err).startswith(f"{path}: key {key!r}")
    assert words in str(err)


def test_missing_required_key_names_clinic_file(pdir):
    path = write_clinic(pdir, MINIMAL_CLINIC.replace("  no_show_rate: 0.05\n", ""))
    err = load_error("test", pdir)
    assert str(err) == f"{path}: required key 'resources.no_show_rate' is missing [share 0-1]"
    path = write_clinic(pdir, MINIMAL_CLINIC.replace("name: Testkliniken\n", ""))
    assert str(load_error("test", pdir)) == f"{path}: required key 'name' is missing"
    path = write_clinic(pdir, MINIMAL_CLINIC.replace(", capacity_share: 0.5", ""))
    assert str(load_error("test", pdir)) == (
        f"{path}: required key 'closures[0].capacity_share' is missing [share 0-1]")


def test_missing_required_region_key_names_defaults(pdir):
    write_clinic(pdir)
    edit_yaml(pdir / "defaults.yaml", lambda d: d.pop("guarantee_days"))
    err = load_error("test", pdir)
    assert str(err) == f"{pdir / 'defaults.yaml'}: required key 'guarantee_days' is missing [days]"
    # a clinic can supply it instead
    write_clinic(pdir, MINIMAL_CLINIC + "guarantee_days: 90\n")
    assert load_parameters("test", pdir).guarantee_days == 90


def test_null_for_a_required_key(pdir):
    path = write_clinic(pdir, MINIMAL_CLINIC + "timeout_minutes: ~\n")
    assert str(load_error("test", pdir)) == f"{path}: required key 'timeout_minutes' is null [minutes]"


def test_clinic_key_in_defaults_is_an_error(pdir):
    write_clinic(pdir)
    with (pdir / "defaults.yaml").open("a", encoding="utf-8") as f:
        f.write("hospital: Centralsjukhuset\n")
    err = load_error("test", pdir)
    assert err.path == str(pdir / "defaults.yaml") and err.key == "hospital"
    assert "belongs in a clinic file" in str(err)


def test_duplicate_yaml_key_is_an_error(pdir):
    path = write_clinic(pdir, MINIMAL_CLINIC + "name: Annan klinik\n")
    err = load_error("test", pdir)
    assert str(err).startswith(f"{path}: not valid YAML: line ")
    assert "'name' is given twice" in str(err)


def test_invalid_yaml_and_non_mapping_files(pdir):
    path = write_clinic(pdir, "name: [unclosed\n")
    assert str(load_error("test", pdir)).startswith(f"{path}: not valid YAML: line ")
    path = write_clinic(pdir, "- just\n- a list\n")
    assert str(load_error("test", pdir)) == f"{path}: the file must hold a mapping of keys, got list"


@pytest.mark.parametrize("value, words", [
    ("/data/test.csv", "absolute path"),
    ("../secret/test.csv", "no '..'"),
    ("test.docx", "CSV, XLSX or Parquet"),
])
def test_data_paths_stay_in_the_data_folder(pdir, value, words):
    write_clinic(pdir, MINIMAL_CLINIC.replace("test_weekly.csv", value))
    err = load_error("test", pdir)
    assert err.key == "data.weekly" and words in str(err)


@pytest.mark.parametrize("old, new, key, words", [
    ("name: Testkliniken", "name: Testkliniken\nescalation: {red_deviation_pct: 5}",
     "escalation.red_deviation_pct", "greater than 'escalation.yellow_deviation_pct'"),
    ("name: Testkliniken", "name: Testkliniken\nplanning_horizon_weeks: 8",
     "planning_horizon_weeks", "at least 'fixed_horizon_weeks' (12)"),
    ("  weekly: test_weekly.csv\n", "  weekly: ~\n", "data", "at least one file"),
    ("  operations_per_session: 3\n", "", "resources.operations_per_session",
     "required when 'resources.theatre_sessions_per_week' is above 0"),
    ("  purchase_operation_sek: 40000\n", "", "prices.purchase_operation_sek",
     "required for a clinic that operates"),
    ("end: 2027-08-15", "end: 2027-06-15", "closures[0].end", "is before its start"),
    ("label: Sommar}", "label: Sommar}\n  - {start: 2027-08-01, end: 2027-08-31, capacity_share: 0.8}",
     "closures[1].start", "overlap"),
    ("inflow_change_pct: 10", "moved_patients_per_week: 5",
     "scenarios.inflow_plus_10.moved_patients_per_week", "needs 'region_pool'"),
    ("inflow_change_pct: 10", "extra_theatre_sessions_per_week: -6",
     "scenarios.inflow_plus_10.extra_theatre_sessions_per_week", "removes more than the 5"),
])
def test_rules_between_keys(pdir, old, new, key, words):
    assert old in MINIMAL_CLINIC
    path = write_clinic(pdir, MINIMAL_CLINIC.replace(old, new, 1))
    err = load_error("test", pdir)
    assert err.key == key
    assert str(err).startswith(f"{path}: ")
    assert words in str(err)


def test_moved_patients_with_a_region_pool_is_fine(pdir):
    write_clinic(pdir, MINIMAL_CLINIC.replace("inflow_change_pct: 10", "moved_patients_per_week: -5")
                 + "region_pool: urologi\n")
    assert load_parameters("test", pdir).scenarios.inflow_plus_10.moved_patients_per_week == -5.0


def test_red_not_above_yellow_in_defaults_names_defaults(pdir):
    write_clinic(pdir)
    edit_yaml(pdir / "defaults.yaml", lambda d: d["escalation"].update(red_deviation_pct=5))
    err = load_error("test", pdir)
    assert err.path == str(pdir / "defaults.yaml")
    assert err.key == "escalation.red_deviation_pct"


def test_every_problem_is_reported_at_once(pdir):
    path = write_clinic(pdir, MINIMAL_CLINIC.replace("no_show_rate: 0.05", "no_show_rate: 2")
                        .replace("name: Testkliniken", "name: Testkliniken\nnmae: x"))
    err = load_error("test", pdir)
    assert {p[1] for p in err.problems} == {"resources.no_show_rate", "nmae"}
    assert all(p[0] == str(path) for p in err.problems)
    assert len(str(err).splitlines()) == 2


# ---- clinic ids and files --------------------------------------------------------------


def test_missing_clinic_file_names_the_path(pdir):
    write_clinic(pdir, clinic_id="uro")
    err = load_error("uor", pdir)
    assert err.path == str(pdir / "clinics" / "uor.yaml")
    assert str(err).startswith(f"{pdir / 'clinics' / 'uor.yaml'}: no parameter file for clinic 'uor'")
    assert "did you mean 'uro'?" in str(err)


@pytest.mark.parametrize("clinic_id", [
    "../defaults", "..", "../../etc/passwd", "a/b", "a\\b", "/etc/passwd", "uro.yaml",
    "Uro", "", " uro", "_uro", "-uro", "uro\n", None, 5,
])
def test_clinic_id_must_be_a_plain_identifier(pdir, clinic_id):
    write_clinic(pdir, clinic_id="uro")
    err = load_error(clinic_id, pdir)
    assert "is not a plain identifier" in str(err)
    assert err.path == str(pdir / "clinics")


def test_missing_folder_and_defaults(tmp_path, pdir):
    with pytest.raises(ParameterError, match="folder of clinic parameter files not found"):
        list_clinics(tmp_path / "nowhere")
    write_clinic(pdir)
    (pdir / "defaults.yaml").unlink()
    err = load_error("test", pdir)
    assert str(err) == f"{pdir / 'defaults.yaml'}: file not found"


def test_default_parameters_dir_is_relative(monkeypatch):
    monkeypatch.chdir(ROOT)
    p = load_parameters("uro")
    assert p.source_files[1] == Path("parameters/clinics/uro.yaml")


# ---- the glossary ----------------------------------------------------------------------


def test_readme_is_the_generated_glossary():
    committed = (PARAMS / "README.md").read_text(encoding="utf-8")
    assert committed == glossary_markdown(), (
        "parameters/README.md is out of date; regenerate it with: .venv/bin/python -c "
        "\"from kps_analysis.parameters import glossary_markdown as g; print(g(), end='')\" "
        "> parameters/README.md")


def test_glossary_lists_every_key_with_its_unit():
    rows = {}
    for line in (PARAMS / "README.md").read_text(encoding="utf-8").splitlines():
        m = re.match(r"\| `([^`]+)` \| ([^|]+) \| ([^|]+) \|", line)
        if m:
            rows[m.group(1)] = (m.group(2).strip(), m.group(3).strip())
    assert set(rows) == set(SCHEMA)
    for key, spec in SCHEMA.items():
        assert rows[key] == (spec.type, spec.unit), key
        assert spec.description and spec.unit


def test_schema_keys_carry_units_in_their_names():
    # a number whose unit has a time base says so in its name
    for key, spec in SCHEMA.items():
        if "/week" in spec.unit:
            assert key.endswith("_per_week"), key
        if spec.unit == "weeks":
            assert key.endswith("_weeks"), key
        if spec.unit == "%":
            assert key.endswith("_pct") or key == "forecast.levels", key
        if spec.unit.startswith("SEK"):
            assert key.endswith("_sek"), key


def test_glossary_examples_are_valid_clinic_files(pdir):
    minimal, full = re.findall(r"```yaml\n(.*?)```", glossary_markdown(), re.S)
    write_clinic(pdir, full, "uro")
    p = load_parameters("uro", pdir)
    assert p.closures[0].start == dt.date(2027, 7, 5)
    write_clinic(pdir, minimal, "hud")
    q = load_parameters("hud", pdir)
    assert q.resources is None and q.closures == ()
    assert set(yaml.safe_load(minimal)) == {"name", "data"}


def test_every_key_of_the_demo_files_is_documented():
    def keys(tree, prefix=""):
        for k, v in tree.items():
            dotted = f"{prefix}.{k}" if prefix else k
            yield dotted
            if isinstance(v, dict):
                yield from keys(v, dotted)

    generic = set()
    for path in [PARAMS / "defaults.yaml", *sorted((PARAMS / "clinics").glob("*.yaml"))]:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for k in keys(data):
            k = re.sub(r"^scenarios\.[^.]+", "scenarios.<name>", k)
            if k != "scenarios.<name>":
                generic.add(k)
        for c in data.get("closures", []):
            generic.update(f"closures[].{f}" for f in c)
    assert generic <= set(SCHEMA)


def test_region_settings_follow_defaults_and_name_the_bad_key(pdir):
    from kps_analysis.parameters import region_settings

    text = (pdir / "defaults.yaml").read_text(encoding="utf-8")
    (pdir / "defaults.yaml").write_text(text.replace("guarantee_days: 90", "guarantee_days: 60"), encoding="utf-8")
    settings = region_settings(pdir)
    assert settings["guarantee_days"] == 60 and settings["language"] == "sv"
    (pdir / "defaults.yaml").write_text(text.replace("guarantee_days: 90", "guarantee_days: soon"),
                                        encoding="utf-8")
    with pytest.raises(ParameterError, match="guarantee_days") as err:
        region_settings(pdir)
    assert "defaults.yaml" in str(err.value)


# ---------------------------------------------------------------- bounded reading (issue 12)
BILLION_LAUGHS = """\
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
"""


def test_an_alias_bomb_under_a_real_key_is_refused_quickly_naming_the_file(pdir):
    import time

    # nine levels of nine: 9**8 = 43 million strings under 'groups' once expanded
    path = write_clinic(pdir, MINIMAL_CLINIC + "x_lol:\n" + "".join(f"  {line}\n" for line in
                                                                    BILLION_LAUGHS.splitlines())
                        + "groups: *h\n")
    start = time.perf_counter()
    err = load_error("test", pdir)
    assert time.perf_counter() - start < 2
    assert str(err).startswith(f"{path}: refused: the aliases (*name) expand to more than 100,000 values")
    # every loader (region settings and validate_all too) refuses it the same way
    shutil.copy(path, pdir / "defaults.yaml")
    from kps_analysis.parameters import region_settings

    with pytest.raises(ParameterError, match=r"defaults\.yaml: refused: the aliases"):
        region_settings(pdir)


def test_a_self_referring_alias_is_refused(pdir):
    path = write_clinic(pdir, MINIMAL_CLINIC + "groups: &g [a, *g]\n")
    assert str(load_error("test", pdir)) == (f"{path}: refused: an alias (*name) refers to the value that "
                                             "contains it, so it never ends")


def test_a_few_aliases_are_fine(pdir):
    write_clinic(pdir, MINIMAL_CLINIC.replace("closures:\n", "x_prices: &p 2000\nclosures:\n")
                 .replace("x_prices: &p 2000\n", "").replace("purchase_new_visit_sek: 2000",
                                                             "purchase_new_visit_sek: &p 2000")
                 .replace("internal_new_visit_sek: 1800", "internal_new_visit_sek: *p"))
    p = load_parameters("test", pdir)
    assert p.prices.internal_new_visit_sek == 2000.0


def test_a_parameter_file_that_is_a_pipe_or_too_large_is_refused_unopened(pdir):
    import os

    path = pdir / "clinics" / "test.yaml"
    os.mkfifo(path)  # opening it would block until someone writes
    assert str(load_error("test", pdir)) == (f"{path}: is not a regular file (a pipe or a device?); a "
                                             "parameter file must be a YAML text file")
    path.unlink()
    write_clinic(pdir, MINIMAL_CLINIC + "# " + "x" * 1_000_000 + "\n")
    assert str(load_error("test", pdir)) == (f"{path}: the file holds 1,000,603 bytes, more than the "
                                             "1,000,000 a parameter file may have")


OUTSIDE = ("refused: the file is a link to a file outside the parameter folder; put the file itself in "
           "the folder")
CHANGED = ("refused: the file changed while it was being read (replaced by another file or a link); "
           "try again")


def test_a_clinic_file_linking_out_of_the_folder_is_refused_naming_it_not_its_content(pdir, tmp_path):
    """Issue 12: a clinic YAML in clinics/ that links to a system file or to any file outside
    the parameter folder (even a valid parameter file) is refused; the message names the
    link, neither its target nor anything of its content."""
    import os

    secret = tmp_path / "elsewhere" / "secret.yaml"
    secret.parent.mkdir()
    secret.write_text(MINIMAL_CLINIC + "# token s3cr3t-t0ken\n", encoding="utf-8")
    link = pdir / "clinics" / "test.yaml"
    link.symlink_to(secret)
    err = load_error("test", pdir)
    assert str(err) == f"{link}: {OUTSIDE}"
    assert err.path == str(link) and err.key is None
    assert "s3cr3t" not in str(err) and "elsewhere" not in str(err)
    assert validate_all(pdir) == {"test": f"{link}: {OUTSIDE}"}
    for target in ("/etc/passwd", "/dev/zero", f"/proc/{os.getpid()}/environ"):
        link.unlink()
        link.symlink_to(target)
        err = load_error("test", pdir)
        assert str(err) == f"{link}: {OUTSIDE}", target
        assert "root:" not in str(err) and target not in str(err)
    # a relative link that climbs out is the same
    link.unlink()
    link.symlink_to(Path("..") / ".." / "elsewhere" / "secret.yaml")
    assert str(load_error("test", pdir)) == f"{link}: {OUTSIDE}"


def test_defaults_and_the_clinics_folder_linking_out_are_refused(pdir, tmp_path):
    from kps_analysis.parameters import region_settings

    write_clinic(pdir)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "defaults.yaml").write_bytes((pdir / "defaults.yaml").read_bytes())
    (pdir / "defaults.yaml").unlink()
    (pdir / "defaults.yaml").symlink_to(outside / "defaults.yaml")
    assert str(load_error("test", pdir)) == f"{pdir / 'defaults.yaml'}: {OUTSIDE}"
    with pytest.raises(ParameterError) as info:
        region_settings(pdir)
    assert str(info.value) == f"{pdir / 'defaults.yaml'}: {OUTSIDE}"
    (pdir / "defaults.yaml").unlink()
    (pdir / "defaults.yaml").write_bytes((outside / "defaults.yaml").read_bytes())
    # the clinics folder itself a link out of the parameter folder
    shutil.move(pdir / "clinics", outside / "clinics")
    (pdir / "clinics").symlink_to(outside / "clinics", target_is_directory=True)
    assert list_clinics(pdir) == ["test"]  # listed, so that it is reported, not skipped
    assert str(load_error("test", pdir)) == f"{pdir / 'clinics' / 'test.yaml'}: {OUTSIDE}"


def test_links_inside_the_parameter_folder_are_followed(pdir, tmp_path):
    shared = pdir / "shared"
    shared.mkdir()
    (shared / "test.yaml").write_text(MINIMAL_CLINIC, encoding="utf-8")
    (pdir / "clinics" / "test.yaml").symlink_to(Path("..") / "shared" / "test.yaml")
    assert load_parameters("test", pdir).name == load_parameters_from_text(tmp_path).name
    # the parameter folder may itself be reached through a link
    alias = tmp_path / "alias"
    alias.symlink_to(pdir, target_is_directory=True)
    assert load_parameters("test", alias).clinic_id == "test"


def load_parameters_from_text(tmp_path, text=MINIMAL_CLINIC):
    folder = tmp_path / "plain"
    (folder / "clinics").mkdir(parents=True)
    shutil.copy(PARAMS / "defaults.yaml", folder / "defaults.yaml")
    write_clinic(folder, text)
    return load_parameters("test", folder)


def test_dangling_looping_and_special_files_are_refused_without_blocking(pdir):
    import os

    link = pdir / "clinics" / "test.yaml"
    link.symlink_to(pdir / "missing.yaml")
    assert str(load_error("test", pdir)) == f"{link}: file not found"
    link.unlink()
    link.symlink_to("test.yaml")  # itself
    assert str(load_error("test", pdir)) == (f"{link}: is a link that leads to itself; a parameter file must "
                                             "be a YAML text file")
    link.unlink()
    os.mkfifo(pdir / "pipe")  # a pipe inside the folder, reached through a link
    link.symlink_to(pdir / "pipe")
    assert str(load_error("test", pdir)) == (f"{link}: is not a regular file (a pipe or a device?); a "
                                             "parameter file must be a YAML text file")
    link.unlink()
    link.mkdir()
    assert str(load_error("test", pdir)) == (f"{link}: is a folder; a parameter file must be a YAML text file")


def _swap_on_open(monkeypatch, target: Path, swap):
    """Run ``swap()`` the moment ``target`` is opened: the race between check and open."""
    import os

    from kps_analysis.parameters import yaml_files

    real_open = os.open

    def racing_open(path, flags, *args, **kw):
        if Path(path) == target.resolve():
            swap()
        return real_open(path, flags, *args, **kw)

    monkeypatch.setattr(yaml_files.os, "open", racing_open)


def test_a_file_swapped_between_check_and_open_is_refused(pdir, tmp_path, monkeypatch):
    """The window between the check and the opening is closed: the file opened must be the
    file checked (same inode, no link followed, not grown past the limit)."""
    import os

    path = write_clinic(pdir)
    secret = tmp_path / "secret.yaml"
    secret.write_text(MINIMAL_CLINIC + "# s3cr3t\n", encoding="utf-8")

    def to_link():
        path.unlink()
        path.symlink_to(secret)

    _swap_on_open(monkeypatch, path, to_link)
    err = load_error("test", pdir)
    assert str(err) == f"{path}: {CHANGED}" and "s3cr3t" not in str(err)
    monkeypatch.undo()

    path.unlink()
    write_clinic(pdir)

    def to_other_file():
        other = pdir / "clinics" / "other.tmp"
        other.write_text(MINIMAL_CLINIC, encoding="utf-8")
        os.replace(other, path)

    _swap_on_open(monkeypatch, path, to_other_file)
    assert str(load_error("test", pdir)) == f"{path}: {CHANGED}"
    monkeypatch.undo()

    def to_pipe():
        path.unlink()
        os.mkfifo(path)

    _swap_on_open(monkeypatch, path, to_pipe)
    assert str(load_error("test", pdir)) == f"{path}: {CHANGED}"  # and nothing blocked
    monkeypatch.undo()

    path.unlink()
    write_clinic(pdir)

    def grow():
        with open(path, "a", encoding="utf-8") as f:
            f.write("# " + "x" * 1_000_000 + "\n")

    _swap_on_open(monkeypatch, path, grow)
    assert str(load_error("test", pdir)) == (f"{path}: the file holds more than the 1,000,000 bytes a parameter "
                                             "file may have")


def test_input_limits_have_defaults_and_are_checked(pdir):
    write_clinic(pdir)
    p = load_parameters("test", pdir)
    assert p.plausible_from == dt.date(1990, 1, 1)
    assert p.max_count_per_period == 1_000_000.0 and p.max_file_megabytes == 2_000.0
    assert "sheet" not in p.data
    p = load_parameters("test", pdir, overrides={"plausible_from": "2000-01-01", "data": {"sheet": "Data"}})
    assert p.plausible_from == dt.date(2000, 1, 1) and p.data.sheet == "Data"
    with pytest.raises(ParameterError) as info:
        load_parameters("test", pdir, overrides={"plausible_from": "2999-01-01"})
    err = info.value
    assert "key 'plausible_from' must lie before today" in str(err)
    write_clinic(pdir, MINIMAL_CLINIC.replace("  weekly: test_weekly.csv\n",
                                              "  weekly: test_weekly.xlsx\n  sheet: 2024\n"))
    err = load_error("test", pdir)
    assert err.key == "data.sheet" and "must be text" in str(err)


# ---------------------------------------------------------------- optional groups (issue 13)
NAME_AND_DATA = """\
name: Hudkliniken
data:
  weekly: hud_weekly.csv
"""


def test_a_clinic_with_only_a_name_and_data_validates(pdir):
    from kps_analysis.parameters import capabilities

    write_clinic(pdir, NAME_AND_DATA, "hud")
    p = load_parameters("hud", pdir)
    # the groups it lacks stay absent (None / empty), nothing is filled in from elsewhere
    assert p.resources is None and p.annual_volume is None and p.prices is None
    assert p.closures == () and p.scenarios.to_dict() == {} and p.region_pool is None
    assert p.hospital is None and p.division is None and p.specialty is None
    assert capabilities(p) == {"resources": False, "care_agreement": False, "prices": False,
                               "closures": False, "scenarios": False, "region_pool": False}
    assert p.to_dict()["resources"] is None


def test_capabilities_of_a_full_clinic_and_of_the_demo(pdir):
    from kps_analysis.parameters import capabilities

    write_clinic(pdir)
    assert capabilities(load_parameters("test", pdir)) == {
        "resources": True, "care_agreement": True, "prices": True, "closures": True, "scenarios": True,
        "region_pool": False}
    pools = {c: capabilities(load_parameters(c, PARAMS))["region_pool"] for c in DEMO_FILES}
    assert pools == {c: load_parameters(c, PARAMS).region_pool is not None for c in DEMO_FILES}
    with pytest.raises(ValueError, match="params"):
        capabilities(["resources"])


def test_a_group_given_empty_or_partial_is_still_checked(pdir):
    # a group the file gives must be complete: only leaving it out makes it optional
    path = write_clinic(pdir, NAME_AND_DATA + "resources:\n  new_visit_slots_per_week: 40\n", "hud")
    err = load_error("hud", pdir)
    assert {p[1] for p in err.problems} == {"resources.return_visit_slots_per_week",
                                            "resources.theatre_sessions_per_week", "resources.no_show_rate"}
    assert all(p[0] == str(path) for p in err.problems)
    write_clinic(pdir, NAME_AND_DATA + "resources: {}\n", "hud")
    assert "required key 'resources.new_visit_slots_per_week' is missing" in str(load_error("hud", pdir))
    write_clinic(pdir, NAME_AND_DATA + "resources: ~\nprices: ~\n", "hud")  # null: not given
    assert load_parameters("hud", pdir).resources is None


@pytest.mark.parametrize("scenario, key, group", [
    ("extra_new_visit_slots_per_week: 5", "extra_new_visit_slots_per_week", "resources"),
    ("extra_theatre_sessions_per_week: 1", "extra_theatre_sessions_per_week", "resources"),
    ("summer_closure_extra_weeks: 1", "summer_closure_extra_weeks", "closures"),
    ("purchase_price_change_pct: 10", "purchase_price_change_pct", "prices"),
])
def test_a_scenario_that_changes_a_group_the_clinic_lacks_is_an_error(pdir, scenario, key, group):
    path = write_clinic(pdir, NAME_AND_DATA + f"scenarios:\n  more: {{{scenario}}}\n", "hud")
    err = load_error("hud", pdir)
    assert err.key == f"scenarios.more.{key}" and err.path == str(path)
    assert f"needs {group!r}" in str(err)
    write_clinic(pdir, NAME_AND_DATA + "scenarios:\n  more: {inflow_change_pct: 10}\n", "hud")
    assert load_parameters("hud", pdir).scenarios.more.inflow_change_pct == 10.0


def test_needs_sentence():
    from kps_analysis.parameters import CAPABILITIES, needs_sentence

    assert needs_sentence("resources", language="en") == (
        "This section needs the clinic's resources (visit slots and theatre sessions per normal week, "
        "`resources`) in the clinic's parameter file.")
    assert needs_sentence(["prices", "care_agreement"]) == (
        "Avsnittet kräver priser för köpt vård och egen produktion (`prices`) och vårdöverenskommelsens "
        "årsvolymer (`annual_volume`) i klinikens parameterfil.")
    for key, text in CAPABILITIES.values():  # every group names its key in both languages
        assert key in SCHEMA and f"`{key}`" in text["sv"] and f"`{key}`" in text["en"]
    with pytest.raises(ValueError, match="groups"):
        needs_sentence("staff")
    with pytest.raises(ValueError, match="language"):
        needs_sentence("prices", language="de")


# ---------------------------------------------------------------- calendar and freshness (issue 13)
def test_country_defaults_to_sweden_and_is_normalised(pdir):
    write_clinic(pdir)
    p = load_parameters("test", pdir)
    assert (p.country, p.subdivision) == ("SE", None)
    for country, subdivision in [("gb", "England"), ("GB-ENG", None), ("GB", "eng")]:
        extra = f"country: {country}\n" + ("" if subdivision is None else f"subdivision: {subdivision}\n")
        write_clinic(pdir, MINIMAL_CLINIC + extra)
        p = load_parameters("test", pdir)
        assert (p.country, p.subdivision) == ("GB", "ENG"), (country, subdivision)


def test_calendar_region_unpacks_for_the_calendar(pdir):
    from kps_analysis import calendar
    from kps_analysis.parameters import calendar_region

    write_clinic(pdir, MINIMAL_CLINIC + "country: GB-SCT\n")
    p = load_parameters("test", pdir)
    assert calendar_region(p) == {"country": "GB", "subdivision": "SCT"}
    # 2 January 2024 is a holiday in Scotland only
    week = calendar.period_from_iso([2024], [1])
    assert calendar.working_days(week, **calendar_region(p)).item() == 3
    assert calendar.working_days(week, **calendar_region(load_parameters("gyn", PARAMS))).item() == 4


def test_unknown_country_names_the_file_and_key(pdir):
    path = write_clinic(pdir, MINIMAL_CLINIC + "country: XX\n")
    err = load_error("test", pdir)
    assert (err.path, err.key) == (str(path), "country")
    assert str(err) == (f"{path}: key 'country': country 'XX' is not an ISO 3166 country code the holidays "
                        "package knows (e.g. 'SE', 'GB', 'NO')")
    # set in the defaults: the defaults file is named
    write_clinic(pdir)
    edit_yaml(pdir / "defaults.yaml", lambda d: d.update(country="Sverige"))
    err = load_error("test", pdir)
    assert (err.path, err.key) == (str(pdir / "defaults.yaml"), "country")
    from kps_analysis.parameters import region_settings

    with pytest.raises(ParameterError, match=r"defaults\.yaml: key 'country'"):
        region_settings(pdir)


def test_unknown_subdivision_lists_the_known_ones(pdir):
    path = write_clinic(pdir, MINIMAL_CLINIC + "country: GB\nsubdivision: LDN\n")
    err = load_error("test", pdir)
    assert (err.path, err.key) == (str(path), "subdivision")
    assert "'LDN' is not a subdivision of GB (known: ENG, NIR, SCT, WLS)" in str(err)
    write_clinic(pdir, MINIMAL_CLINIC + "subdivision: AB\n")  # Sweden has none
    assert "country 'SE' has no subdivisions" in str(load_error("test", pdir))


def test_unquoted_no_is_read_as_false_and_the_message_says_so(pdir):
    write_clinic(pdir, MINIMAL_CLINIC + "country: NO\n")
    err = load_error("test", pdir)
    assert err.key == "country"
    assert "got bool False" in str(err) and "in quotes, e.g. 'NO'" in str(err)
    write_clinic(pdir, MINIMAL_CLINIC + "country: 'NO'\n")
    assert load_parameters("test", pdir).country == "NO"


def test_region_settings_carry_the_calendar(pdir):
    from kps_analysis.parameters import region_settings

    edit_yaml(pdir / "defaults.yaml", lambda d: d.update(country="GB", subdivision="Scotland"))
    settings = region_settings(pdir)
    assert (settings["country"], settings["subdivision"]) == ("GB", "SCT")


def test_freshness_limits(pdir):
    from kps_analysis.parameters import freshness_limit_days

    write_clinic(pdir)
    p = load_parameters("test", pdir)
    assert (p.stale_after_days, p.stale_after_days_monthly) == (14, 45)
    assert freshness_limit_days(p, "W-SUN") == 14 and freshness_limit_days(p, "M") == 45
    import pandas as pd

    assert freshness_limit_days(p, pd.Period("2024-01", "M")) == 45
    assert freshness_limit_days(p, pd.PeriodIndex([pd.Period("2024-01-07", "W-SUN")]).dtype) == 14
    with pytest.raises(ValueError, match="freq"):
        freshness_limit_days(p, "D")
    write_clinic(pdir, MINIMAL_CLINIC + "stale_after_days: 0\n")
    err = load_error("test", pdir)
    assert err.key == "stale_after_days" and "between 1 and 3650" in str(err)


def test_the_package_keeps_every_name_of_the_old_module():
    """parameters.py became the package kps_analysis.parameters (issue 17): every public name,
    and the pickle rebuilders of Parameters stored before, are still importable from it."""
    import kps_analysis.parameters as parameters

    names = ("ABSENT CAPABILITIES CLINIC_ID_PATTERN MAX_YAML_BYTES MAX_YAML_VALUES ParameterError "
             "ParameterSection Parameters REGION_SETTINGS SCHEMA Spec calendar_region capabilities deep_merge "
             "freshness_limit_days glossary_markdown list_clinics load_parameters needs_sentence parse_date "
             "region_settings validate_all _rebuild_parameters _rebuild_section").split()
    assert [n for n in names if not hasattr(parameters, n)] == []
    assert set(parameters.__all__) <= set(names)
