"""Reading cells: text normalisation, hashing, missing and total markers, numbers.

Part of :mod:`kps_analysis.data`; see its docstring for the canonical frames.
"""

from __future__ import annotations

import datetime as _dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .errors import _raise_first, _shown

# ============================================================================ cell parsing
_NA_TEXT = frozenset({"", "-", "–", "—", "..", "na", "n/a", "nan", "null", "none", "#n/a", "saknas"})
_NA_WORDS = _NA_TEXT - {"", "-", "–", "—", ".."}  # read as missing, with a finding
_TOTAL_TEXT = frozenset({"total", "totalt", "summa", "sum", "totalsumma", "grand total", "samtliga"})


def _one_text(value) -> str:
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if value != value:
            return ""
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, (_dt.datetime, _dt.date, np.datetime64)):
        stamp = pd.Timestamp(value)
        return "" if stamp is pd.NaT else stamp.strftime("%Y-%m-%d")
    return str(value)


def _mask(values) -> np.ndarray:
    """A boolean numpy array from a bool/boolean Series or array (NA -> False)."""
    if isinstance(values, (pd.Series, pd.Index)):
        return values.to_numpy(dtype=bool, na_value=False)
    return np.asarray(values, dtype=bool)


TEXT_DTYPE = pd.StringDtype("pyarrow")  # vectorised string operations (pyarrow compute)
_SPACES = "[ \t\r\n\f\v\u00a0\u202f\u2009]"  # literal characters: pyarrow's RE2 runs it
_ODD_SPACE = "[\t\r\n\f\v\u00a0\u202f\u2009]|  "


def _texts(values: pd.Series, *, lower: bool = False, squeeze: bool = True) -> pd.Series:
    """Cells as stripped text (string dtype, '' when empty); dates as YYYY-MM-DD.

    Whole numbers lose their '.0'; with ``squeeze``, runs of white space (no-break
    spaces too) become one space.
    """
    dtype = values.dtype
    if isinstance(dtype, pd.PeriodDtype):
        out = values.astype(str).where(values.notna(), "")
    elif pd.api.types.is_datetime64_any_dtype(dtype):
        out = values.dt.strftime("%Y-%m-%d").where(values.notna(), "")
    elif pd.api.types.is_bool_dtype(dtype):
        out = values.map({True: "true", False: "false"}).where(values.notna(), "")
    elif pd.api.types.is_numeric_dtype(dtype):
        v = values.to_numpy(dtype=float, na_value=np.nan)
        whole = np.isfinite(v) & (v == np.round(v))
        text = np.where(whole, np.where(whole, v, 0).astype(np.int64).astype(str), v.astype(str))
        out = pd.Series(np.where(np.isnan(v), "", text), index=values.index)
    elif isinstance(dtype, pd.StringDtype):
        out = values
    else:
        obj = values.to_numpy(dtype=object)
        if pd.api.types.infer_dtype(obj, skipna=True) in ("string", "empty"):
            out = pd.Series(obj, index=values.index)
        else:
            out = pd.Series(obj, index=values.index).map(_one_text)
    out = out.astype(TEXT_DTYPE).fillna("")
    if squeeze:
        odd = _mask(out.str.contains(_ODD_SPACE, regex=True))
        if odd.any():
            out = out.where(~odd, out.str.replace(_SPACES + "+", " ", regex=True))
    out = out.str.strip()
    return out.str.lower() if lower else out


_STR_DTYPE = pd.Series([""], dtype=object).astype(str).dtype  # what .astype(str) gives


def _distinct_texts(values: pd.Series, *, lower: bool = False, squeeze: bool = True):
    """``_texts`` worked out once per distinct cell: ``(codes, texts)``.

    ``texts`` is an object array whose last entry is ``""`` (for missing cells, code -1)
    and ``_texts(values, ...)`` equals ``texts[codes]`` cell by cell.  Object columns
    holding anything but strings are not grouped (``True == 1`` but they read
    differently): each cell is its own entry then.
    """
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy()
        uniques = pd.Series(values.cat.categories.to_numpy(dtype=object), dtype=object)
    elif pd.api.types.is_object_dtype(dtype) and pd.api.types.infer_dtype(values.to_numpy(dtype=object), skipna=True) \
            not in ("string", "empty"):
        codes = np.arange(len(values))
        uniques = values.reset_index(drop=True)
    else:
        codes, found = pd.factorize(values)
        uniques = pd.Series(found)
    texts = _texts(uniques, lower=lower, squeeze=squeeze).to_numpy(dtype=object)
    return codes.astype(np.intp), np.append(texts, "").astype(object)


def _column_texts(values: pd.Series, *, lower: bool = False, squeeze: bool = True) -> pd.Series:
    """``_texts``, by distinct value for a categorical column."""
    if not isinstance(values.dtype, pd.CategoricalDtype):
        return _texts(values, lower=lower, squeeze=squeeze)
    codes, texts = _distinct_texts(values, lower=lower, squeeze=squeeze)
    return _take_texts(codes, texts, dtype=TEXT_DTYPE)


def _take_texts(codes: np.ndarray, table, *, dtype=_STR_DTYPE) -> pd.Series:
    """``table[codes]`` (None -> missing) as a string Series, taken in Arrow."""
    table = pd.array(np.asarray(table, dtype=object), dtype=dtype)
    codes = np.asarray(codes, dtype=np.intp)
    codes = np.where(codes < 0, codes + len(table), codes)
    return pd.Series(table.take(codes))


MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: well spread 64-bit values (uint64 wraps around)."""
    x = x ^ (x >> np.uint64(30))
    x = x * MIX1
    x = x ^ (x >> np.uint64(27))
    x = x * _MIX2
    return x ^ (x >> np.uint64(31))


def hash_texts(texts: pd.Series) -> np.ndarray:
    """A 64-bit hash of each string (equal strings, equal hashes; missing -> as '')."""
    arrow = pa.array(texts.astype(TEXT_DTYPE).array)
    if isinstance(arrow, pa.ChunkedArray):
        arrow = arrow.combine_chunks()
    arrow = pc.fill_null(arrow, "").cast(pa.large_string())
    n = len(arrow)
    buffers = arrow.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int64, count=n + 1, offset=arrow.offset * 8)
    data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else np.zeros(0, np.uint8)
    padded = np.zeros(len(data) + 8, dtype=np.uint8)
    padded[:len(data)] = data
    words = np.ndarray(shape=(len(data) + 1,), dtype="<u8", buffer=padded, strides=(1,))  # unaligned
    starts = offsets[:-1]
    lengths = offsets[1:] - starts
    h = lengths.view(np.uint64) * MIX1
    shortest, longest = (int(lengths.min()), int(lengths.max())) if n else (0, 0)
    last = len(words) - 1
    for k in range(0, longest, 8):
        word = words[np.minimum(starts + k, last) if k + 8 > shortest else starts + k]
        if k + 8 > shortest:  # mask the bytes beyond each string's end
            rest = np.clip(lengths - k, 0, 8).astype(np.uint64)
            word &= np.where(rest == 8, np.uint64(2**64 - 1),
                             np.left_shift(np.uint64(1), np.uint64(8) * np.minimum(rest, np.uint64(7))) - np.uint64(1))
        h = (h ^ word) * _MIX2  # a bijection of the word, given h: distinct tails stay distinct
    return mix64(h)


def _duplicate_rows(clinic_codes: np.ndarray, days: np.ndarray, pid: pd.Series) -> np.ndarray:
    """Rows whose (clinic, referral date, patient id) occurs more than once (keep=False).

    A hash of the three finds the candidates in one sort; the candidates (none, as a
    rule) are compared exactly.
    """
    n = len(pid)
    h = hash_texts(pid)
    h ^= np.asarray(days, dtype=np.int64).view(np.uint64) * MIX1
    h = (h ^ np.asarray(clinic_codes, dtype=np.int64).view(np.uint64)) * _MIX2
    ordered = np.sort(h)
    repeated = ordered[1:][ordered[1:] == ordered[:-1]]
    dup = np.zeros(n, dtype=bool)
    if repeated.size == 0:
        return dup
    idx = np.flatnonzero(np.isin(h, repeated))
    key = pd.DataFrame({"c": clinic_codes[idx], "d": days[idx], "p": pid.iloc[idx].to_numpy(dtype=object)})
    dup[idx] = key.duplicated(keep=False).to_numpy()
    return dup


def _is_empty(values: pd.Series) -> np.ndarray:
    if _typed(values.dtype):
        return _mask(values.isna())
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes, texts = _distinct_texts(values)
        return (texts == "")[codes]
    return _mask(_texts(values) == "")


#: Columns of this many rows or more try the fast paths first: plain whole numbers cast in Arrow
#: (:func:`_plain_numbers`), period labels read once per distinct label. Every column does since
#: issue 15: a demo clinic's 412-week CSV read in 99 ms against 175 ms by the general path (the
#: general path's two dozen pandas string operations per column cost the same for 400 rows as for
#: 40,000); a column that is not plain falls back to the general path, which reads it as before.
#: ``tests/test_data.py`` reads every test file both ways and compares the frames and messages.
PLAIN_MIN_ROWS = 0


def _plain_numbers(values: pd.Series):
    """Counts as float64 (NaN where empty) when every cell is empty or a plain whole
    number ('123', '-4'), worked out in Arrow; None otherwise (then the general reading
    with decimal commas, thousands separators and messages applies)."""
    try:
        if isinstance(values.dtype, pd.StringDtype):
            arr = pa.array(values.astype(TEXT_DTYPE).array)
        else:
            arr = pa.array(values.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        return None
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = pc.utf8_trim_whitespace(pc.fill_null(arr, ""))
    empty = pc.equal(arr, "")
    if not pc.all(pc.or_(pc.match_substring_regex(arr, r"^-?[0-9]{1,15}$"), empty)).as_py():
        return None
    whole = pc.cast(pc.if_else(empty, pa.scalar(None, pa.string()), arr), pa.int64())
    return np.asarray(whole.to_numpy(zero_copy_only=False), dtype=np.float64)


def _parse_numbers(values: pd.Series, *, decimal: str, path, column, rows, integer: bool) -> np.ndarray:
    """Counts as float64 (NaN where empty); DataError for text, negatives, decimals."""
    n = len(values)
    if pd.api.types.is_bool_dtype(values.dtype):
        _raise_first(np.ones(n, bool), lambda i: "true/false is not a count", path=path, column=column,
                     rows=rows)
    plain = None if pd.api.types.is_numeric_dtype(values.dtype) or n < PLAIN_MIN_ROWS else _plain_numbers(values)
    if pd.api.types.is_numeric_dtype(values.dtype):
        numbers = values.to_numpy(dtype=float, na_value=np.nan)
        text = None
    elif plain is not None:
        numbers, text = plain, None
    else:
        obj = values.to_numpy(dtype=object)
        if pd.api.types.infer_dtype(obj, skipna=True) in ("string", "empty"):
            is_num = np.zeros(n, dtype=bool)
        else:
            is_num = np.fromiter((isinstance(v, (int, float, np.integer, np.floating))
                                  and not isinstance(v, (bool, np.bool_)) for v in obj), dtype=bool, count=n)
        numbers = np.full(n, np.nan)
        if is_num.any():
            numbers[is_num] = obj[is_num].astype(float)
        text = _texts(values).where(~is_num, "")
        clean = text.str.replace(r"[ ']", "", regex=True).str.replace("\u2212", "-", regex=False)
        empty = clean.str.lower().isin(_NA_TEXT)
        has_c = clean.str.contains(",", regex=False)
        has_p = clean.str.contains(".", regex=False)
        comma_last = clean.str.rfind(",") > clean.str.rfind(".")
        both = has_c & has_p
        thousands_c = clean.str.fullmatch(r"-?\d{1,3}(?:,\d{3})+") & (decimal == ".")
        thousands_p = clean.str.fullmatch(r"-?\d{1,3}(?:\.\d{3})+") & (decimal == ",")
        out = clean.copy()
        sel = both & comma_last
        out = out.where(~sel, clean.str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
        sel = both & ~comma_last
        out = out.where(~sel, clean.str.replace(",", "", regex=False))
        sel = has_c & ~has_p
        out = out.where(~(sel & thousands_c), clean.str.replace(",", "", regex=False))
        out = out.where(~(sel & ~thousands_c), clean.str.replace(",", ".", regex=False))
        sel = has_p & ~has_c & thousands_p
        out = out.where(~sel, clean.str.replace(".", "", regex=False))
        parsed = pd.to_numeric(out.where(~empty & ~pd.Series(is_num, index=out.index), None), errors="coerce")
        parsed = parsed.to_numpy(dtype=float, na_value=np.nan)
        unread = ~_mask(empty) & ~is_num & (np.isnan(parsed) | ~np.isfinite(parsed))
        _raise_first(unread, lambda i: f"{_shown(text.iloc[i])} is not a number", path=path, column=column, rows=rows)
        numbers = np.where(is_num, numbers, parsed)

    def shown(i):
        return _shown(text.iloc[i]) if text is not None and text.iloc[i] else f"{numbers[i]:g}"

    _raise_first(np.isinf(numbers), lambda i: "infinite value", path=path, column=column, rows=rows)
    _raise_first(numbers < 0, lambda i: f"negative count {numbers[i]:g}", path=path, column=column, rows=rows)
    if integer:
        frac = np.abs(numbers - np.round(numbers)) > 1e-9 * np.maximum(1.0, np.abs(numbers))
        _raise_first(frac, lambda i: f"{shown(i)} is not a whole number (counts are whole numbers)",
                     path=path, column=column, rows=rows)
    return numbers.astype(np.float64)


def _typed(dtype) -> bool:
    """Cells of this dtype are empty exactly when missing (no text to strip)."""
    return (pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype)
            or pd.api.types.is_bool_dtype(dtype) or isinstance(dtype, pd.PeriodDtype))
