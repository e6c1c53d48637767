"""The bad-input corpus (tests/data/bad/): every file the kit may be handed, and what it says.

Each case names a file (or a clinic id), the reader it goes to and what must come out:
the exact error class (DataError for data files, ParameterError for parameter files) with
a message that names the file, the column or key, and the row (1-based, header = row 1,
as a spreadsheet shows it) or week; or, for files that are usable but odd, the finding
that ``validate`` reports.  A second test sends every case through the command line
(``kps validate``) and asserts that it ends in an exit status and a message, never in a
traceback.
"""

from __future__ import annotations

import dataclasses
import shutil
import traceback
from pathlib import Path

import pytest

from kps_analysis import cli
from kps_analysis.data import DataError, load_clinic_data, raise_for_errors, read_waiting_list, read_weekly, validate
from kps_analysis.parameters import ParameterError, load_parameters

ROOT = Path(__file__).resolve().parents[1]
BAD = Path(__file__).parent / "data" / "bad"
DEFAULTS = ROOT / "parameters" / "defaults.yaml"

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # readers warn as well as report

# A valid clinic file, used beside a bad defaults file and to point at a bad extract.
CLINIC = """\
name: Testkliniken
hospital: Testsjukhuset
division: Division Test
specialty: Urologi
data:
  {key}: {file}
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
"""


@dataclasses.dataclass(frozen=True)
class Case:
    """One bad input and what must come of it.

    file : corpus file name (reader ``clinic_id``: the clinic id itself).
    reader : ``weekly`` (read_weekly), ``waiting_list`` (read_waiting_list), ``clinic`` (a
        clinic parameter file, then its data), ``defaults`` (a defaults.yaml),
        ``clinic_id`` (load_parameters with that id).
    expected : DataError or ParameterError (raised), or ``"warning"``/``"error"`` (the
        reader returns and validate reports a finding of that severity).
    words : substrings the message must contain: column or key, row or week, what is wrong.
    names : the file the message must name (default: ``file``).
    column, period : of the finding (finding cases only).
    absent : substrings the message must not contain beside the file's name (patient ids, cell
        contents: a date, an id, a name, free text, a line of a file that is not a table).
    """

    file: str
    reader: str
    expected: object
    words: tuple = ()
    names: str | None = None
    column: str | None = None
    period: str | None = None
    absent: tuple = ()

    @property
    def id(self) -> str:
        return f"{self.reader}:{self.file}"


def W(file, *words, **kw):  # a weekly file that raises DataError
    return Case(file, "weekly", DataError, words, **kw)


def F(file, severity, column, period, *words):  # a weekly file that validate reports on
    return Case(file, "weekly", severity, words, column=column, period=period)


def X(file, *words, **kw):  # a waiting-list extract that raises DataError
    return Case(file, "waiting_list", DataError, words, **kw)


def P(file, *words, expected=ParameterError, **kw):  # a clinic parameter file
    return Case(file, "clinic", expected, words, **kw)


CASES = [
    # ---- headers: misspelt, merged, over two rows
    W("weekly_header_misspelt_remiser_in.csv", "no measure column", "'Remiser in'", "row 1",
      "did you mean 'Remisser in'?"),
    F("weekly_header_misspelt_nybeok.csv", "warning", "Nybeök", None, "not a known measure", "header row 1",
      "did you mean 'Nybesök'?"),
    W("weekly_header_misspelt_vecka.csv", "no week or month column", "'Veckka'", "row 1",
      "did you mean 'Vecka'?"),
    W("weekly_header_title_row_and_misspelt_vecka.csv", "no week or month column", "'Vekca'", "row 3",
      "did you mean 'Vecka'?"),
    W("weekly_header_two_columns_same_meaning.csv", "column 'New visits', row 1",
      "'Nybesök' and 'New visits' both mean 'new_visits'"),
    W("weekly_monthly_and_weekly_columns.csv", "column 'Månad', row 1", "both 'Vecka' and 'Månad'"),
    W("weekly_header_title_row_above.csv", "column 'Nybesök', row 4", "'12 st' is not a number"),
    W("weekly_header_two_rows_excel_groups.csv", "column 'Nybesök', row 5", "'12,5' is not a whole number"),
    W("weekly_header_split_over_two_rows.csv", "column 'Vecka', row 2", "second header row",
      "'in' under 'Remisser'", "'nybesök' under 'Väntande'"),
    W("weekly_header_units_row_below.csv", "column 'Vecka', row 2", "second header row",
      "'antal' under 'Nybesök'"),
    F("weekly_header_mojibake_utf8_read_as_cp1252.csv", "warning", "NybesÃ¶k", None, "header row 1",
      "did you mean 'Nybesök'?", "garbled"),
    # ---- separators
    W("weekly_separator_tab.txt", "column 'Väntande nybesök', row 3", "negative count -4"),
    W("weekly_separator_pipe.csv", "column 'Återbesök', row 4", "negative count -5"),
    W("weekly_separator_comma_decimal_commas_quoted.csv", "column 'New visits', row 3",
      "'7,5' is not a whole number"),
    W("weekly_separator_semicolon_in_comma_file.csv", "column 'Vecka', row 3",
      "'Urologi;2024-W02;42;38'", "another separator"),
    W("weekly_unclosed_quote.csv", "row 3", "cell 4", "never closed"),
    # ---- encodings (the Swedish column names in the messages show the file was decoded right)
    W("weekly_encoding_cp1252.csv", "column 'Återbesök', row 3", "'12 st' is not a number"),
    W("weekly_encoding_latin1_sep_hint.csv", "column 'Väntande nybesök', row 5", "'ca 300' is not a number"),
    W("weekly_encoding_utf16le_bom_excel_unicode.txt", "column 'Nybesök', row 2", "negative count -1"),
    W("weekly_encoding_utf8_no_bom.csv", "column 'Återbesök', row 4", "'3,5' is not a whole number"),
    # ---- cells
    F("weekly_text_saknas_in_count.csv", "warning", "Nybesök", "2024-W02", "'saknas' read as not reported",
      "row 3"),
    W("weekly_text_12_st_in_count.csv", "column 'Remisser in', row 4", "'12 st' is not a number"),
    W("weekly_decimal_comma_in_nybesok.csv", "column 'Nybesök', row 3", "'12,5' is not a whole number"),
    W("weekly_negative_count.csv", "column 'Återbesök', row 5", "negative count -7"),
    W("weekly_count_1e12.csv", "column 'Nybesök', row 4",
      "1e+12 is more than the plausible maximum of 1e+06 per period (parameter max_count_per_period)"),
    F("weekly_all_blank_measure_column.csv", "error", "new_visits", None, "no value in any row"),
    W("weekly_empty_week_cell.csv", "column 'Vecka', row 3", "no week or month given"),
    W("weekly_week_label_unreadable.csv", "column 'Vecka', row 4", "cannot read 'vecka fem' as a week"),
    W("weekly_month_in_week_column.csv", "column 'Vecka', row 2", "'jan 2024' is a month"),
    W("weekly_week_00.csv", "column 'Vecka', row 2", "there is no week 0"),
    # ---- weeks
    W("weekly_duplicated_week.csv", "column 'Vecka', rows 3, 4, week 2024-W02", "duplicate rows"),
    F("weekly_missing_weeks_gap.csv", "warning", "period", "2024-W03", "2 weeks missing (2024-W03..2024-W04)"),
    W("weekly_week53_in_2021.csv", "column 'Vecka', row 4", "week 53 does not exist in 2021"),
    W("weekly_period_ambiguous_2024_5.csv", "column 'Period', row 2", "'2024-1' could be a week or a month",
      "name the column 'Vecka' or 'Månad'"),
    W("weekly_week_in_1900.csv", "column 'Vecka', row 2", "week 1900-W01 ends before 1990-01-01",
      "parameter plausible_from"),
    F("weekly_dates_in_future_2099.csv", "error", "period", "2099-W04", "has outcome values"),
    # ---- whole files
    W("weekly_empty_0_bytes.csv", "the file is empty"),
    W("weekly_only_header.csv", "no data rows below the header (row 1)"),
    W("weekly_only_separators.csv", "the file is empty"),
    W("weekly_xlsx_not_a_zip_renamed_csv.xlsx", "text file (CSV?)", "not an Excel workbook"),
    W("weekly_xlsx_saved_as_csv.csv", "Excel workbook (.xlsx)", "not a text (CSV) file"),
    W("weekly_xlsx_empty_workbook.xlsx", "the file is empty"),
    W("weekly_xlsx_data_on_second_sheet.xlsx", "not a recognised table", "the workbook has sheets 'Info', 'Data'",
      "data.sheet", absent=("Uppgifterna", "Veckorapport")),
    W("weekly_not_a_table_system_file.csv", "not a recognised table", "the file's content is not shown",
      absent=("root", "daemon", "/bin")),
    W("weekly_xlsx_text_in_count.xlsx", "column 'Nybesök', row 4", "'12 st' is not a number"),
    W("weekly_xlsx_merged_title_rows.xlsx", "column 'Återbesök', row 5", "negative count -2"),
    W("weekly_xlsx_formula_error.xlsx", "column 'Nybesök', row 5", "'#DIV/0!' is not a number"),
    W("weekly_old_excel_format.xls", "old Excel .xls"),
    W("weekly_unknown_extension.ods", "unknown file type '.ods'"),
    W("weekly_parquet_negative_count.parquet", "column 'Nybesök', row 4", "negative count -3"),
    W("weekly_parquet_truncated.parquet", "Parquet file is incomplete"),
    # ---- patient-level extracts (messages name rows, never patients)
    X("waiting_list_removal_before_referral.csv", "column 'Avförd datum', row 4", "removal before the referral"),
    X("waiting_list_visit_before_referral.csv", "column 'Besöksdatum', row 3", "first visit before the referral"),
    X("waiting_list_treatment_without_decision.csv", "column 'Beslutsdatum', row 3",  # the empty cell
      "treatment without a decision", "column 'Operationsdatum' has a date"),
    X("waiting_list_priority_unknown_A.csv", "column 'Prioritet', row 5", "unknown priority code 'A'"),
    X("waiting_list_priority_unknown_9.csv", "column 'Prioritet', row 6", "unknown priority code '9'"),
    X("waiting_list_duplicated_patient_rows.csv", "column 'Löpnummer', rows 3, 6", "same patient id",
      absent=("P0000002",)),
    X("waiting_list_date_in_future.csv", "column 'Besöksdatum', row 6", "a date more than 7 days after",
      absent=("2099",)),
    X("waiting_list_date_unreadable.csv", "column 'Remissdatum', row 3: not a date (expected e.g. 2024-01-31)",
      absent=("igår",)),
    X("waiting_list_date_year_0001_overflow.csv", "column 'Remissdatum', row 4: a date before 1990-01-01",
      absent=("0001", "1754")),
    X("waiting_list_parquet_timestamp_year_0001.parquet", "column 'Remissdatum', row 4: a date before 1990-01-01",
      absent=("0001", "1754")),
    X("waiting_list_date_year_1900.csv", "column 'Remissdatum', row 3: a date before 1990-01-01 (the earliest "
      "plausible date, parameter plausible_from)", absent=("1900",)),
    X("waiting_list_date_cell_holds_name_and_personnummer.csv", "column 'Remissdatum', row 7: not a date",
      absent=("tolvan", "19121212", "1212")),
    X("waiting_list_not_a_table_environment.csv", "not a recognised table", "the file's content is not shown",
      absent=("SECRET", "hunter2", "HOME", "PATH")),
    X("waiting_list_date_impossible_feb_30.csv", "column 'Remissdatum', row 5: not a valid calendar date",
      absent=("2024-02-30",)),
    X("waiting_list_missing_referral_date.csv", "column 'Remissdatum', row 4", "no referral date"),
    X("waiting_list_no_referral_date_column.csv", "no referral date column", "'Remisdatum'", "row 1",
      "did you mean 'Remissdatum'?"),
    X("waiting_list_only_header.csv", "no data rows below the header (row 1)"),
    X("waiting_list_empty_0_bytes.csv", "the file is empty"),
    X("waiting_list_truncated.parquet", "Parquet file is incomplete"),
    # ---- clinic parameter files
    P("clinic_unknown_key_misspelt.yaml", "key 'resources.theatre_sesions_per_week' is unknown",
      "did you mean 'resources.theatre_sessions_per_week'?"),
    P("clinic_unknown_key_swedish.yaml", "key 'namn' is unknown", "did you mean 'name'?"),
    P("clinic_wrong_type_text_for_number.yaml", "key 'resources.new_visit_slots_per_week'", "must be a number",
      "'fyrtio'"),
    P("clinic_wrong_type_decimal_comma.yaml", "key 'resources.no_show_rate'", "'0,05'", "decimal point"),
    P("clinic_wrong_type_list_for_mapping.yaml", "key 'resources' must be a mapping"),
    P("clinic_out_of_range_no_show_rate.yaml", "key 'resources.no_show_rate' must be between 0 and 0.9",
      "got 1.5"),
    P("clinic_out_of_range_negative_slots.yaml", "key 'resources.return_visit_slots_per_week' must be between",
      "got -60"),
    P("clinic_invalid_yaml_syntax.yaml", "not valid YAML: line 15"),
    P("clinic_invalid_yaml_tab_indent.yaml", "not valid YAML: line 8", "'\\t'"),
    P("clinic_yaml_is_a_list.yaml", "the file must hold a mapping of keys, got list"),
    P("clinic_duplicate_key.yaml", "line 5", "key 'specialty' is given twice"),
    P("clinic_invalid_date.yaml", "key 'closures[0].end'", "'2027-02-30' is not a valid calendar date"),
    P("clinic_not_utf8_latin1.yaml", "not UTF-8", "line 1"),
    P("clinic_yaml_alias_bomb.yaml", "refused: the aliases (*name) expand to more than 100,000 values"),
    P("clinic_missing_required_key.yaml", "required key 'resources.no_show_rate' is missing"),
    P("clinic_empty_0_bytes.yaml", "required key 'name' is missing"),
    P("clinic_data_path_dotdot.yaml", "key 'data.weekly'", "no '..'", "'../../secret/test_weekly.csv'"),
    P("clinic_data_path_absolute.yaml", "key 'data.weekly'", "absolute path"),
    P("clinic_missing_data_file.yaml", "file not found", "data.weekly", expected=DataError,
      names="finns_inte.csv"),
    P("clinic_data_file_broken.yaml", "column 'Återbesök', row 5", "negative count -7", expected=DataError,
      names="weekly_negative_count.csv"),
    P("Clinic.Bad.Id.yaml", "clinic id 'Clinic.Bad.Id' is not a plain identifier", "rename the file"),
    # ---- region defaults (the loader reads them as defaults.yaml)
    Case("defaults_unknown_key.yaml", "defaults", ParameterError,
         ("key 'suppresion_limit' is unknown", "did you mean 'suppression_limit'?"), names="defaults.yaml"),
    Case("defaults_wrong_type.yaml", "defaults", ParameterError,
         ("key 'guarantee_days' must be a whole number", "'90 dagar'"), names="defaults.yaml"),
    Case("defaults_red_below_yellow.yaml", "defaults", ParameterError,
         ("key 'escalation.red_deviation_pct'", "greater than"), names="defaults.yaml"),
    # ---- clinic ids that would point outside parameters/clinics, and one with no file
    *(Case(clinic_id, "clinic_id", ParameterError, (f"clinic id {clinic_id!r} is not a plain identifier",),
           names="clinics")
      for clinic_id in ("../x", "a/b", "..", "../defaults", "/etc/passwd")),
    Case("uor", "clinic_id", ParameterError, ("no parameter file for clinic 'uor'", "did you mean 'uro'?"),
         names="uor.yaml"),
]


def _parameters_dir(tmp_path: Path, case: Case) -> Path:
    """A parameter folder for ``case``: the real defaults and one clinic (the case's own file
    for ``clinic`` cases, a valid clinic otherwise)."""
    folder = tmp_path / "parameters"
    (folder / "clinics").mkdir(parents=True)
    shutil.copy(DEFAULTS, folder / "defaults.yaml")
    if case.reader == "clinic":
        shutil.copy(BAD / case.file, folder / "clinics" / case.file)
    elif case.reader == "defaults":
        shutil.copy(BAD / case.file, folder / "defaults.yaml")
        (folder / "clinics" / "uro.yaml").write_text(CLINIC.format(key="weekly", file="uro.csv"), encoding="utf-8")
    elif case.reader == "waiting_list":
        (folder / "clinics" / "wl.yaml").write_text(CLINIC.format(key="waiting_list", file=case.file),
                                                    encoding="utf-8")
    else:
        (folder / "clinics" / "uro.yaml").write_text(CLINIC.format(key="weekly", file="uro.csv"), encoding="utf-8")
    return folder


def _read(case: Case, tmp_path: Path):
    """Run the case's reader; returns the weekly frame for weekly files."""
    if case.reader == "weekly":
        return read_weekly(BAD / case.file)
    if case.reader == "waiting_list":
        return read_waiting_list(BAD / case.file)
    folder = _parameters_dir(tmp_path, case)
    clinic_id = {"clinic": Path(case.file).stem, "defaults": "uro", "clinic_id": case.file}[case.reader]
    params = load_parameters(clinic_id, folder)
    return load_clinic_data(params.data, BAD, clinic=clinic_id).weekly


def _check_message(case: Case, message: str) -> None:
    assert (case.names or case.file) in message, f"the message does not name the file: {message}"
    for word in case.words:
        assert word in message, f"{word!r} not in: {message}"
    rest = message.replace(case.names or case.file, "")  # the file's own name may hold the word
    for word in case.absent:
        assert word not in rest, f"{word!r} must not appear in: {message}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input_gives_a_precise_error_or_finding(case, tmp_path):
    if isinstance(case.expected, type):
        with pytest.raises(Exception) as info:
            _read(case, tmp_path)
        assert type(info.value) is case.expected, "".join(traceback.format_exception(info.value))
        _check_message(case, str(info.value))
        return
    frame = _read(case, tmp_path)
    findings = validate(frame, source=case.file)
    hit = findings[(findings["severity"] == case.expected) & (findings["column"] == case.column)]
    if case.period is not None:
        hit = hit[hit["period"] == case.period]
    assert len(hit) == 1, findings.to_string()
    _check_message(case, f"{case.file}: {hit['message'].iloc[0]}")
    assert (findings["severity"] == "error").any() == (case.expected == "error")
    if case.expected == "error":  # errors found by validate raise like reader errors when asked to
        with pytest.raises(DataError) as info:
            raise_for_errors(findings, case.file)
        assert case.file in str(info.value) and (case.period or "") in str(info.value)


def _cli_args(case: Case, tmp_path: Path) -> list[str]:
    if case.reader == "weekly":
        return ["validate", str(BAD / case.file)]
    folder = _parameters_dir(tmp_path, case)
    if case.reader == "clinic_id":
        return ["run", "--clinic", case.file, "--parameters", str(folder), "--data", str(BAD),
                "--out", str(tmp_path / "out")]
    return ["validate", "--data", str(BAD), "--parameters", str(folder)]


def test_no_case_ends_in_a_traceback_on_the_command_line(tmp_path, capsys):
    failures = []
    for n, case in enumerate(CASES):
        where = tmp_path / str(n)
        where.mkdir()
        try:
            code = cli.main(_cli_args(case, where))
        except BaseException as exc:  # noqa: BLE001 - the point: nothing may escape
            failures.append(f"{case.id}: {type(exc).__name__} escaped:\n{traceback.format_exc()}")
            continue
        out, err = capsys.readouterr()
        if case.reader == "clinic_id":  # `kps run --clinic ID`: a usage error, nothing runs
            expected_code, shown = 2, err
        elif isinstance(case.expected, type):
            expected_code, shown = 1, err
        else:  # findings are listed on standard output; errors among them fail the check
            expected_code, shown = (1 if case.expected == "error" else 0), out
        if code != expected_code:
            failures.append(f"{case.id}: exit status {code}, expected {expected_code}\n{out}{err}")
        elif case.reader != "clinic_id" and not all(w in shown for w in case.words):
            failures.append(f"{case.id}: the message lacks {case.words}:\n{shown}")
        elif "Traceback" in out + err:
            failures.append(f"{case.id}: a traceback was printed:\n{out}{err}")
    assert not failures, "\n\n".join(failures)
    assert not list((tmp_path).glob("*/out/*")), "a rejected clinic id must not start a run"


def test_the_corpus_is_large_and_every_file_has_a_case():
    files = sorted(p.name for p in BAD.iterdir() if p.is_file())
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"holds {len(files)} broken files ({len(CASES)} cases" in " ".join(readme.split())  # the README's figure
    used = {c.file for c in CASES if c.reader != "clinic_id"}
    assert sorted(set(files) - used) == [], "corpus files without a case"
    assert sorted(used - set(files)) == [], "cases without a corpus file"
    assert len(CASES) == len({c.id for c in CASES})


@pytest.mark.parametrize("target", ["secret", "pipe", "subfolder"])
def test_validate_never_reads_outside_the_data_folder_nor_blocks(tmp_path, capsys, target):
    """`kps validate --data DIR`: a data file reached through a clinic's parameters that is a
    link out of DIR (or a named pipe) ends in exit status 1 and one line that names the
    file, quoting nothing of what lies behind it; nothing blocks."""
    import os
    import signal

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "uro.csv").write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    data = tmp_path / "data"
    data.mkdir()
    name = {"secret": "uro.csv", "pipe": "uro.csv", "subfolder": "sub/uro.csv"}[target]
    if target == "secret":
        (data / "uro.csv").symlink_to(outside / "uro.csv")
    elif target == "pipe":
        os.mkfifo(data / "uro.csv")
    else:
        (data / "sub").symlink_to(outside, target_is_directory=True)
    folder = tmp_path / "parameters"
    (folder / "clinics").mkdir(parents=True)
    shutil.copy(DEFAULTS, folder / "defaults.yaml")
    (folder / "clinics" / "uro.yaml").write_text(CLINIC.format(key="weekly", file=name), encoding="utf-8")
    previous = signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(TimeoutError("blocked")))
    signal.alarm(10)
    try:
        code = cli.main(["validate", "--data", str(data), "--parameters", str(folder)])
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    out, err = capsys.readouterr()
    assert code == 1
    reason = ("is not a regular file (a named pipe, socket or device?); it was not opened" if target == "pipe"
              else "data.weekly leads outside the data folder (through a symbolic link); copy the file into the "
                   "data folder")
    assert err == f"error: uro: {data / name}: {reason}\n"
    assert "root:x" not in out + err
