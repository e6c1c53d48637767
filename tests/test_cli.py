"""The `kps` command: validate, demo, list (run is covered by test_batch.py)."""

import pytest

from kps_analysis import cli

SWEDISH = (
    "\ufeffKlinik;Vecka;Remisser in;Nybesök;Återbesök;Väntande nybesök;Vårddagar\n"
    "Urologi;2024-W01;40;35;80;300;12,5\n"
    "Urologi;2024-W02;42;38;82;304;13,0\n"
    "Urologi;2024-W03;41;40;79;305;11,5\n"
)


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_validate_reads_a_swedish_excel_export(tmp_path, capsys):
    path = _write(tmp_path, "uro.csv", SWEDISH)
    assert cli.main(["validate", path]) == 0
    out = capsys.readouterr().out
    assert "uro.csv: 3 rows, 0 errors" in out


@pytest.mark.parametrize("broken, column, where", [
    (SWEDISH.replace("Vecka", "Veckodag"), "Vecka", None),                        # no week column
    (SWEDISH.replace("2024-W02;42", "2024-W02;-42"), "Remisser in", "3"),          # negative count, row 3
    (SWEDISH.replace("2024-W03", "2024-W02"), None, "2024-W02"),                   # duplicated week
])
def test_validate_names_file_column_and_row(tmp_path, capsys, broken, column, where):
    path = _write(tmp_path, "broken.csv", broken)
    assert cli.main(["validate", path]) == 1
    err = capsys.readouterr().err
    assert "broken.csv" in err
    if column:
        assert column.lower() in err.lower()
    if where:
        assert where in err


def test_validate_all_demo_clinics(tmp_path, capsys, monkeypatch, demo_dir_current):
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    data = demo_dir_current  # the demo of the latest complete week (tests/conftest.py)
    code = cli.main(["validate", "--data", str(data), "--parameters", str(root / "parameters")])
    out = capsys.readouterr().out
    assert code == 0, out
    for clinic in ("ort_nord", "ort_syd", "ogon", "kir", "onh", "gyn", "uro", "hud"):
        assert f"{clinic}:" in out


def test_demo_and_list(tmp_path, capsys):
    assert cli.main(["demo", "--out", str(tmp_path / "d")]) == 0
    assert (tmp_path / "d" / "uro_waiting_list.parquet").exists()
    assert cli.main(["list", "--parameters", str(tmp_path / "nothing")]) == 2


@pytest.mark.parametrize("argv, message", [
    (["--workers", "0"], "kps run: --workers must be at least 1\n"),
    (["--worker-timeout", "0"], "kps run: --worker-timeout must be a positive number of seconds\n"),
    (["--worker-timeout", "nan"], "kps run: --worker-timeout must be a positive number of seconds\n"),
])
def test_run_refuses_bad_numbers_in_one_line(tmp_path, capsys, argv, message):
    assert cli.main(["run", "--out", str(tmp_path / "out"), *argv]) == 2
    assert capsys.readouterr().err == message
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["run", "validate", "list"])
def test_a_folder_that_is_no_project_is_refused_in_one_line(tmp_path, capsys, command):
    assert cli.main([command, "--project", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == f"kps {command}: {tmp_path.resolve()}: not a project folder (no parameters/defaults.yaml)\n"
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_run_help_names_the_project_option(capsys):
    with pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    assert "--project DIR" in capsys.readouterr().out


def test_validate_warns_of_data_that_end_long_before_today(tmp_path, capsys, demo_dir_current):
    """kir's file ending six weeks early passed `kps validate` with "0 warnings", while the run's
    report warned that its data were out of date: validate now says it too."""
    import shutil
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    data = tmp_path / "data"
    shutil.copytree(demo_dir_current, data)
    hud = data / "hud_weekly.csv"
    text = hud.read_text(encoding="utf-8-sig").splitlines()
    hud.write_text("\n".join(text[:-6]) + "\n", encoding="utf-8")
    params = tmp_path / "p"
    shutil.copytree(root / "parameters", params)
    for other in (params / "clinics").glob("*.yaml"):
        if other.stem != "hud":
            other.unlink()
    code = cli.main(["validate", "--data", str(data), "--parameters", str(params)])
    out = capsys.readouterr()
    text = out.out + out.err
    assert "days before today" in text and "1 warning" in text, text
    assert code == 0   # a warning, not an error: the run still reports the clinic
