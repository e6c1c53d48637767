"""Opening data files: regular-file checks, format detection, decoding, CSV/XLSX/Parquet tables.

Part of :mod:`kps_analysis.data`; see its docstring for the canonical frames.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import os
import re
import stat
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .cells import TEXT_DTYPE, _is_empty, _typed
from .errors import DataError, _shown
from .headers import _PERSONAL_KEYS, _close_header, normalise_header
from .schema import MAX_FILE_BYTES


# ============================================================================ file tables
@dataclasses.dataclass
class FileTable:
    """A data file as a table of cells: its header and data rows, before columns are read.

    What :func:`load_table` gives the readers (and the start of a file read in blocks or
    parts gives them: the header and the first rows).
    """

    path: Path
    headers: list  # header text per column position
    data: pd.DataFrame  # columns 0..n-1, one row per data row
    rows: np.ndarray  # spreadsheet row number of each data row
    decimal: str  # the file's decimal mark, breaks the tie for '1,234' / '1.234'
    header_row: int = 1  # spreadsheet row number of the header
    sheets: tuple = ()  # the sheets of a workbook read at its first sheet by default, if more than one

    def sheet_hint(self) -> str:
        """'; the workbook has sheets ...' when the first of several sheets was read by default."""
        if len(self.sheets) < 2:
            return ""
        names = ", ".join(_shown(n, limit=40) for n in self.sheets[:20])
        return (f" (the first sheet was read; the workbook has sheets {names}: name the one with the data "
                "in the clinic parameter data.sheet)")


# Leading bytes of file formats that are not text, to name what a mislabelled file is.
_MAGIC = (
    (b"PK\x03\x04", "an Excel workbook (.xlsx) or another zip archive"),
    (bytes.fromhex("d0cf11e0a1b11ae1"), "an old Excel workbook (.xls) or a password-protected one"),
    (b"PAR1", "a Parquet file"),
    (b"%PDF", "a PDF document"),
)


def file_kind(head: bytes):
    """What a file is by its first bytes ('an Excel workbook ...'), or None."""
    return next((kind for magic, kind in _MAGIC if head.startswith(magic)), None)


def looks_like_text(head: bytes) -> bool:
    if head.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not merely a character cut at the end of the sample
            return False
    return True


def decode_text(raw: bytes, path: Path) -> str:
    """Text of a CSV file: UTF-8 (BOM or not), UTF-16 (BOM or not), else cp1252/latin-1."""
    if raw.startswith(codecs.BOM_UTF8):
        try:
            return raw[len(codecs.BOM_UTF8):].decode("utf-8")
        except UnicodeDecodeError:
            raw = raw[len(codecs.BOM_UTF8):]
    for bom, encoding in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if raw.startswith(bom):
            try:
                return raw[len(bom):].decode(encoding)
            except UnicodeDecodeError as exc:
                raise DataError(f"cannot decode the file as UTF-16: {exc}", path=path) from None
    sample = raw[:4096]
    if sample and sample.count(b"\x00") >= len(sample) // 4:
        encoding = "utf-16-be" if sample[:1] == b"\x00" else "utf-16-le"
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise DataError(f"cannot decode the file as UTF-16: {exc}", path=path) from None
    for encoding in ("utf-8", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def sniff_separator(lines: list[str]) -> tuple[str, int]:
    """The separator (tab, ';', ',' or '|') splitting the lines most consistently, and the widest row.

    Each separator is tried with quoted cells and without (a quote that is never closed
    swallows the lines after it, which would make the right separator look wrong).
    """
    best = None
    for order, sep in enumerate(("\t", ";", ",", "|")):
        for quoting in (csv.QUOTE_MINIMAL, csv.QUOTE_NONE):
            try:
                counts = [len(row) for row in csv.reader(lines, delimiter=sep, quoting=quoting)]
            except csv.Error:
                continue
            if not counts:
                continue
            mode, freq = Counter(counts).most_common(1)[0]
            if mode < 2:
                continue
            key = (freq, -order)
            if best is None or key > best[0]:
                best = (key, sep, max(counts))
    if best is None:
        return ",", 1
    return best[1], best[2]


ARROW_CSV_MIN_BYTES = 16_000_000


def header_row_index(raw: pd.DataFrame, lookup, anchors) -> int | None:
    """Position of the header row among the first 30 rows of a table of cells.

    The first row with two known headers (keys of ``lookup``), one of them in the role of
    an ``anchors`` column; else the row with the most known headers (at least two); else
    the first row with a value; None when none of the first 30 rows holds a value.

    Parameters
    ----------
    raw : pandas.DataFrame
        The file's cells, one row per line (columns 0..n-1).
    lookup : dict
        Normalised header -> column role (``WEEKLY_LOOKUP`` or ``EXTRACT_LOOKUP``).
    anchors : tuple of str
        Roles of which the header row holds one (the period, the referral date).

    Returns
    -------
    int or None
        The row's position in ``raw`` (0-based).
    """
    first_nonempty = None
    most_known = (1, None)  # the row with the most known headers, if no row has an anchor
    for i in range(min(30, raw.shape[0])):
        cells = list(raw.iloc[i])
        if first_nonempty is None and any(is_present(c) for c in cells):
            first_nonempty = i
        roles = header_roles(cells, lookup)
        known = sum(r is not None for r in roles)
        if known >= 2 and any(r in anchors for r in roles):
            return i
        if known > most_known[0]:
            most_known = (known, i)
    return most_known[1] if most_known[1] is not None else first_nonempty


def csv_head(path: Path):
    """The start of a CSV file Arrow can stream: ``(separator, width, head, encoding)``.

    ``head`` holds the first 30 lines as text cells (the header is among them), ``width``
    the number of columns, ``encoding`` ``"utf8"`` or ``"cp1252"`` (Swedish Excel's "CSV
    (semicolon)").  None for a file Arrow cannot stream: UTF-16, a ``sep=`` line, a file of
    another kind (the general reader then reads it and says what is wrong).
    """
    with open(path, "rb") as f:
        head = f.read(262_144)
    if not head or file_kind(head[:8]) is not None:
        return None
    body = head[len(codecs.BOM_UTF8):] if head.startswith(codecs.BOM_UTF8) else head
    if b"\x00" in body or head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    encoding = "utf8"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(body) - 3:  # Swedish Excel's "CSV (semicolon)": Windows-1252
            if head.startswith(codecs.BOM_UTF8):
                return None
            text, encoding = body.decode("cp1252", errors="replace"), "cp1252"
        else:
            text = body[:exc.start].decode("utf-8")
    if re.match(r"[ \t]*sep=", text[:20], flags=re.IGNORECASE):
        return None
    lines = text.splitlines()[:-1] if len(head) == 262_144 else text.splitlines()
    sample = [line for line in lines[:300] if line.strip()][:200]
    if not sample:
        return None
    sep, width = sniff_separator(sample)
    cells = list(csv.reader(lines[:30], delimiter=sep))
    raw = pd.DataFrame([r + [""] * (width - len(r)) for r in cells], dtype=object) if cells else pd.DataFrame()
    return sep, width, raw, encoding


def release_memory() -> None:
    """Give the memory freed by a part (a block) of a file back to the system.

    Arrow's pool keeps freed blocks, and glibc's malloc keeps the freed heap of numpy's
    arrays of a part's length (its mmap threshold grows with the arrays freed), so without
    this the resident size grows part after part although nothing is held.
    """
    try:
        pa.default_memory_pool().release_unused()
    except AttributeError:  # pyarrow before 13
        pass
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _libc():
    """glibc, for ``malloc_trim``; None on another C library."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim  # noqa: B018 -- glibc only: the attribute probe raises elsewhere
        return libc
    except (OSError, AttributeError):
        return None


_LIBC = _libc()


class CsvStreamError(Exception):
    """Arrow's streaming CSV reader cannot read the file (blank lines, rows of unequal width,
    an open quote): the caller reads it whole with the general reader, which says what is wrong."""


def iter_csv_blocks(path: Path, *, sep: str, width: int, encoding: str, skip_rows: int, block_rows: int,
                    columns=None):
    """A CSV file's data rows in blocks of text cells, read by Arrow's streaming reader.

    Memory is bounded by the block, not by the file.

    Parameters
    ----------
    path : pathlib.Path
        The file (as :func:`csv_head` found it: ``sep``, ``width``, ``encoding``).
    skip_rows : int
        Lines before the first data row (the header and any preamble above it).
    block_rows : int
        Rows of a block (the last may hold fewer). [rows]
    columns : list of int, optional
        Positions of the columns to read (default: all).

    Yields
    ------
    (pandas.DataFrame, numpy.ndarray)
        Cells as text (:data:`~kps_analysis.data.cells.TEXT_DTYPE`), columns named by their
        positions; the spreadsheet row number of each row (header = its line number).

    Raises
    ------
    CsvStreamError
        Arrow gave up (raised when reached: blocks before it have been yielded).
    """
    names = [str(i) for i in range(width)]
    positions = list(range(width)) if columns is None else list(columns)

    def frame(table, row):
        out = table.to_pandas(
            types_mapper=lambda t: TEXT_DTYPE if t in (pa.string(), pa.large_string()) else None)
        out.columns = positions
        return out, np.arange(row, row + len(out))

    try:
        reader = pacsv.open_csv(
            path,
            # Arrow reads some 30 blocks ahead: blocks of 1 MB hold 30 MB (8 MB: 250 MB)
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=skip_rows, block_size=1 << 20,
                                           encoding=encoding),
            parse_options=pacsv.ParseOptions(delimiter=sep, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names}, include_columns=[names[p] for p in positions],
                strings_can_be_null=False, quoted_strings_can_be_null=False))
        row, pending, size = skip_rows + 1, [], 0
        for batch in reader:
            pending.append(batch)
            size += batch.num_rows
            while size >= block_rows:
                table = pa.Table.from_batches(pending)
                yield frame(table.slice(0, block_rows), row)
                row += block_rows
                rest = table.slice(block_rows)
                pending, size = rest.to_batches(), rest.num_rows
        if size:
            yield frame(pa.Table.from_batches(pending, schema=reader.schema), row)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, UnicodeDecodeError) as exc:
        raise CsvStreamError(str(exc)) from None


def _read_csv_arrow(path: Path):
    """A large UTF-8 CSV file read by Arrow's CSV reader into Arrow-backed text columns
    (in parallel, about the file's size in memory); None when the file is anything
    else (another encoding, an Excel "sep=" line, a blank line, rows of unequal width,
    a quotation mark never closed): the general reader then reads it and says what is
    wrong."""
    with open(path, "rb") as f:
        head = f.read(262_144)
    if file_kind(head[:8]) is not None:
        return None
    body = head[len(codecs.BOM_UTF8):] if head.startswith(codecs.BOM_UTF8) else head
    if b"\x00" in body or head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(body) - 3:
            return None
        text = body[:exc.start].decode("utf-8")
    if re.match(r"[ \t]*sep=", text[:20], flags=re.IGNORECASE):
        return None
    lines = text.splitlines()[:-1] if len(head) == 262_144 else text.splitlines()  # the last may be cut
    sample = [line for line in lines[:300] if line.strip()][:200]
    if not sample:
        return None
    sep, width = sniff_separator(sample)
    names = [str(i) for i in range(width)]
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=sep, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, UnicodeDecodeError):
        return None
    raw = table.to_pandas(types_mapper=lambda t: TEXT_DTYPE if t == pa.string() else None)
    raw.columns = range(width)
    return raw, np.arange(1, len(raw) + 1), ("." if sep == "," else ",")


def _read_csv_table(path: Path) -> tuple[pd.DataFrame, np.ndarray, str]:
    """Cells of a CSV file as text, one row per line (blank lines kept, so that row
    numbers are the spreadsheet's), the line numbers, and the file's decimal mark.

    A large UTF-8 file is read by Arrow (:func:`_read_csv_arrow`) when it can be."""
    if os.stat(path).st_size >= ARROW_CSV_MIN_BYTES:
        fast = _read_csv_arrow(path)
        if fast is not None:
            return fast
    raw_bytes = path.read_bytes()
    kind = file_kind(raw_bytes[:8])
    if kind is not None:
        raise DataError(f"this is {kind}, not a text (CSV) file; give the file the ending of what it is "
                        "(.xlsx, .parquet) or export it again as CSV", path=path)
    text = decode_text(raw_bytes, path)
    match = re.match(r"[ \t]*sep=(.)[ \t]*\r?\n", text[:20], flags=re.IGNORECASE)
    if match:  # Excel's "sep=;" hint line (Excel hides it, so it does not count as a row)
        text = text[match.end():]
    sample = [line for line in text[:200_000].splitlines()[:300] if line.strip()][:200]
    if match:
        sep = match.group(1)
        width = max([len(r) for r in csv.reader(sample, delimiter=sep)] or [1])
    else:
        sep, width = sniff_separator(sample)
    try:
        raw = pd.read_csv(io.StringIO(text), sep=sep, header=None, names=range(width), dtype=str,
                          keep_default_na=False, na_filter=False, skip_blank_lines=False,
                          engine="c")
    except (pd.errors.ParserError, ValueError) as exc:
        if "EOF inside string" in str(exc):  # a quote opens a cell and is never closed
            lines = text.splitlines()
            odd = next((i for i, line in enumerate(lines) if line.count('"') % 2), None)
            if odd is not None:
                before = lines[odd][:_last_odd_quote(lines[odd])]
                cell = max(1, len(next(csv.reader([before], delimiter=sep, quoting=csv.QUOTE_NONE), [])))
                raise DataError(f'cell {cell} of the row opens a quotation mark (") that is never closed',
                                path=path, row=odd + 1) from None
        raise DataError(f"cannot read as CSV with separator {sep!r}: {exc}", path=path) from None
    return raw.fillna(""), np.arange(1, len(raw) + 1), ("." if sep == "," else ",")


def _last_odd_quote(line: str) -> int:
    """Position of the quote in ``line`` that is left open (the last unpaired one)."""
    positions = [i for i, c in enumerate(line) if c == '"']
    return positions[-1] if positions else 0


def _read_xlsx_table(path: Path, sheet) -> tuple[pd.DataFrame, np.ndarray, str, tuple]:
    import openpyxl

    with path.open("rb") as f:
        head = f.read(4096)
    if not head:
        raise DataError("the file is empty", path=path)
    if not head.startswith(b"PK\x03\x04"):
        kind = file_kind(head)
        if kind is None and looks_like_text(head):
            kind = "a text file (CSV?)"
        what = f"this is {kind}, not" if kind else "this is not"
        raise DataError(f"{what} an Excel workbook (.xlsx); rename it to what it is, or open it in Excel "
                        "and save it as .xlsx", path=path)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise DataError(f"cannot open as an Excel workbook: {exc}", path=path) from None
    try:
        names = tuple(book.sheetnames)
        if sheet is None:
            ws = book.worksheets[0]
        elif isinstance(sheet, int) and not isinstance(sheet, bool):
            if not 0 <= sheet < len(names):
                raise DataError(f"no sheet number {sheet} (counting from 0); the workbook has {len(names)} "
                                f"sheet(s): {', '.join(_shown(n, limit=40) for n in names[:20])}", path=path)
            ws = book.worksheets[sheet]
        else:
            if str(sheet) not in names:
                raise DataError(f"no sheet {_shown(sheet, limit=40)}; the workbook has sheet(s) "
                                f"{', '.join(_shown(n, limit=40) for n in names[:20])}", path=path)
            ws = book[str(sheet)]
        ws.reset_dimensions()  # some writers store wrong dimensions
        rows = [tuple(r) for r in ws.iter_rows(min_row=1, values_only=True)]
    finally:
        book.close()
    width = max([len(r) for r in rows] or [0])
    raw = pd.DataFrame([r + (None,) * (width - len(r)) for r in rows], columns=range(width), dtype=object)
    return raw, np.arange(1, len(raw) + 1), ",", (names if sheet is None else ())


def header_roles(cells, lookup) -> list:
    return [lookup.get(normalise_header(c)) if is_present(c) else None for c in cells]


def is_present(value) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and value != value:
        return False
    return str(value).strip() != ""


def few_valued_text_columns(path: Path) -> list[str]:
    """Text columns of a large Parquet file whose first rows repeat a few values.

    Reading them dictionary-encoded (pandas categoricals) saves decoding millions of
    strings; the cells are the same either way.
    """
    try:
        parquet = pq.ParquetFile(path)
        if parquet.metadata.num_rows < DICTIONARY_MIN_ROWS:
            return []
        names = [field.name for field in parquet.schema_arrow
                 if pa.types.is_string(field.type) or pa.types.is_large_string(field.type)]
        if not names or len(set(names)) != len(names):
            return []
        batch = next(parquet.iter_batches(batch_size=_DICTIONARY_SAMPLE, columns=names))
        return [name for name in names
                if pc.count_distinct(batch.column(name), mode="all").as_py() <= 0.05 * batch.num_rows]
    except Exception:  # the actual read reports what is wrong with the file
        return []


DICTIONARY_MIN_ROWS = 200_000
_DICTIONARY_SAMPLE = 20_000


def check_regular_file(path: Path, max_bytes=None) -> int:
    """The size of ``path`` [bytes]; DataError if it is missing, not a regular file (a
    folder, a named pipe, a socket, a device: never opened, so nothing blocks or reads
    without end) or larger than ``max_bytes`` (default :data:`MAX_FILE_BYTES`)."""
    limit = MAX_FILE_BYTES if max_bytes is None else int(max_bytes)
    try:
        info = os.stat(path)  # follows links: the file that would be opened
    except FileNotFoundError:
        raise DataError("file not found", path=path) from None
    except OSError as exc:
        raise DataError(f"cannot read the file: {exc.strerror or type(exc).__name__}", path=path) from None
    if stat.S_ISDIR(info.st_mode):
        raise DataError("is a folder, not a file", path=path)
    if not stat.S_ISREG(info.st_mode):
        raise DataError("is not a regular file (a named pipe, socket or device?); it was not opened", path=path)
    if info.st_size > limit:
        raise DataError(f"the file holds {info.st_size / 1e6:,.0f} MB, more than the limit of {limit / 1e6:,.0f} MB "
                        "(parameter max_file_megabytes); split the file or raise the limit", path=path)
    return info.st_size


def check_parquet_file(path: Path) -> None:
    """Check that ``path`` is a whole Parquet file before Arrow opens it.

    Parquet files begin and end with the magic bytes ``PAR1``; a file without them at the
    start is another kind of file under a ``.parquet`` name, one without them at the end
    was cut short (Arrow's own errors say neither).

    Parameters
    ----------
    path : pathlib.Path
        The file (already checked by :func:`check_regular_file`).

    Raises
    ------
    DataError
        The file is empty, is not Parquet (naming what it is: a workbook, a PDF, text), or
        ends before its footer.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "weekly.parquet"
    >>> _ = f.write_bytes(b"PK\\x03\\x04 a zip")
    >>> check_parquet_file(f)
    Traceback (most recent call last):
    ...
    kps_analysis.data.DataError: ...weekly.parquet: this is an Excel workbook (.xlsx) or another zip archive, not a ...
    """
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(4096)
        f.seek(max(size - 4, 0))
        tail = f.read(4)
    if not head:
        raise DataError("the file is empty", path=path)
    if not head.startswith(b"PAR1"):
        kind = file_kind(head) or ("a text file (CSV?)" if looks_like_text(head) else None)
        what = f"this is {kind}, not" if kind else "this is not"
        raise DataError(f"{what} a Parquet file; rename it to what it is", path=path)
    if tail != b"PAR1":
        raise DataError("the Parquet file is incomplete (it ends before its footer: cut short while "
                        "copying or writing?); copy or export it again", path=path)


def load_table(path: Path, *, sheet, lookup, anchors, dictionary: bool = False, max_bytes=None) -> FileTable:
    """Read a CSV/XLSX/Parquet file into a table of cells; find the header row.

    With ``dictionary``, text columns of a large Parquet file that hold few distinct
    values may come as categoricals (same cells).
    """
    check_regular_file(path, max_bytes)
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        check_parquet_file(path)
        few_valued = few_valued_text_columns(path) if dictionary else []
        frame = None
        if few_valued:
            try:
                frame = pd.read_parquet(path, read_dictionary=few_valued)
            except Exception:  # read again plainly: that read names the problem
                frame = None
        if frame is None:
            try:
                frame = pd.read_parquet(path)
            except Exception as exc:  # pyarrow raises ArrowInvalid, OSError and others
                raise DataError(f"cannot read as Parquet: {exc}", path=path) from None
        headers = [str(c) for c in frame.columns]
        data = frame.set_axis(range(frame.shape[1]), axis=1).reset_index(drop=True)
        return FileTable(path, headers, data, np.arange(2, len(data) + 2), ",")
    sheets = ()
    if suffix in (".csv", ".txt", ".tsv", ".tab"):
        raw, rownums, decimal = _read_csv_table(path)
    elif suffix in (".xlsx", ".xlsm"):
        raw, rownums, decimal, sheets = _read_xlsx_table(path, sheet)
    elif suffix == ".xls":
        raise DataError("old Excel .xls files cannot be read; save the sheet as .xlsx or CSV", path=path)
    else:
        raise DataError(f"unknown file type {suffix!r}; expected .csv, .xlsx or .parquet", path=path)
    hint = FileTable(path, [], raw, np.zeros(0), ",", sheets=sheets).sheet_hint()
    if raw.shape[0] == 0:
        raise DataError("the file is empty" + hint, path=path)
    header_at = header_row_index(raw, lookup, anchors)
    if header_at is None:
        if _empty_rows(raw).all():
            raise DataError("the file is empty (no cell holds a value)" + hint, path=path)
        header_at = 0
    headers = ["" if not is_present(c) else str(c).strip() for c in raw.iloc[header_at]]
    data = raw.iloc[header_at + 1:].reset_index(drop=True)
    return FileTable(path, headers, data, rownums[header_at + 1:], decimal, int(rownums[header_at]), sheets)


def _shown_headers(headers, *, at_most: int = 20) -> str:
    """The header names of a table for a message (each at most 40 characters)."""
    named = [h for h in headers if h]
    text = ", ".join(_shown(h, limit=40) for h in named[:at_most]) or "none"
    return text + (f" and {len(named) - at_most} more" if len(named) > at_most else "")


def _refuse_unknown_table(table: FileTable, roles, personal, unknown_headers, lookup, spelling, examples) -> None:
    """DataError, quoting nothing of the file, when no header is known or close to a known one.

    Such a file is not a table of this kit (a system file behind a link, a letter): its
    first line is content, not header names, so it is not shown.
    """
    if roles or personal or any(_close_header(h, lookup, spelling) for h in unknown_headers):
        return
    raise DataError(f"not a recognised table: no cell in the first rows is a known column header (expected "
                    f"e.g. {examples}); the file's content is not shown" + table.sheet_hint(), path=table.path)


def _map_columns(table: FileTable, lookup) -> tuple[dict, list, list]:
    """Column role -> position; unknown positions; personal-id positions."""
    roles: dict[str, int] = {}
    unknown, personal = [], []
    for pos, header in enumerate(table.headers):
        if not header:
            continue
        key = normalise_header(header)
        if key in _PERSONAL_KEYS:
            personal.append(pos)
            continue
        role = lookup.get(key)
        if role is None:
            unknown.append(pos)
            continue
        if role in roles:
            raise DataError(f"columns {table.headers[roles[role]]!r} and {header!r} both mean "
                            f"{role!r}; keep one", path=table.path, column=header, row=table.header_row)
        roles[role] = pos
    return roles, unknown, personal




def _empty_rows(data: pd.DataFrame) -> np.ndarray:
    n = len(data)
    empty = np.ones(n, dtype=bool)
    # Cheap columns first; each later column is looked at only in the rows still empty.
    order = sorted(data.columns, key=lambda pos: not _typed(data[pos].dtype))
    for pos in order:
        idx = np.flatnonzero(empty)
        if idx.size == 0:
            break
        values = data[pos] if idx.size == n else data[pos].iloc[idx]
        empty[idx] = _is_empty(values)
    return empty
