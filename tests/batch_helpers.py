"""Helpers shared by the batch tests (``test_batch.py``, ``test_batch_faults.py``): what a
browser would make live in a page, a stand-in report template, and the batch's progress lines.
(``[tool.pytest.ini_options] pythonpath`` puts this folder on the import path.)"""

import re
from pathlib import Path

from kps_analysis import batch

#: The demo parameter folder.
PARAMS = Path(__file__).resolve().parent.parent / "parameters"


class Page:
    """What a browser would make live in an HTML page: tags, attributes and visible text."""

    def __init__(self, page: str):
        from html.parser import HTMLParser

        self.tags, self.text = [], []
        outer = self

        class Parser(HTMLParser):
            def handle_starttag(self, tag, attrs):
                outer.tags.append((tag, dict(attrs)))

            def handle_data(self, data):
                outer.text.append(data)

        Parser(convert_charrefs=True).feed(page)
        self.visible = " ".join(" ".join(self.text).split())

    def live_markup(self) -> list:
        """Tags and attributes that could run script or load something."""
        bad = []
        for tag, attrs in self.tags:
            if tag in {"script", "iframe", "object", "embed", "svg", "math", "base", "form"}:
                bad.append(tag)
            for key, value in attrs.items():
                value = (value or "").strip().lower()
                if key.startswith("on") or value.startswith(("javascript:", "vbscript:")):
                    bad.append((tag, key, value))
                if key == "src" and not value.startswith("data:image/"):
                    bad.append((tag, key, value))
        return bad



def quick_notebook(path, code="import time\ntime.sleep(3)"):
    """A stand-in report template: the batch's parameters, then ``code`` (fast tests)."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell('clinic_id = "x"\nparameters_dir = ""\ndata_dir = ""\noutput_dir = ""\n'
                                  'run_id = ""', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(code),
    ]
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                   "language_info": {"name": "python"}}
    nbformat.write(nb, path)
    return path



STEP_LINE = re.compile(r"^({}): ".format("|".join(re.escape(s) for s in batch.STEPS)))



def clinic_lines(err: str) -> list[str]:
    """stderr of ``kps run`` without the named steps' progress lines."""
    return [line for line in err.splitlines() if not STEP_LINE.match(line)]


def small_region(folder: Path, clinics, *, runs: int | None = 40) -> Path:
    """A copy of the demo parameter folder holding only ``clinics`` (a smaller region to plan:
    ``kps run --clinic X`` plans every clinic of its parameter folder) and, unless ``runs`` is
    None, that many Monte Carlo runs; for tests whose assertions rest on neither. Returns the
    copy (``folder``)."""
    import shutil

    shutil.copytree(PARAMS, folder)
    for path in (folder / "clinics").glob("*.yaml"):
        if path.stem not in clinics:
            path.unlink()
    if runs is not None:
        defaults = folder / "defaults.yaml"
        text, n = re.subn(r"(?m)^(\s+runs:\s*)\d+", rf"\g<1>{runs}", defaults.read_text(encoding="utf-8"), count=1)
        assert n == 1, "defaults.yaml has no simulation runs to change"
        defaults.write_text(text, encoding="utf-8")
    return folder
