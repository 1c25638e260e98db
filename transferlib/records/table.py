"""The results table, ``results/<study>/results.csv``: one row per finished cell (COLUMNS):
the cell's values that ``parameters`` declares columns (``parameters.columns``), then its
results, its params_hash and code version.

The driver writes it (``append_row``, ``keep_only``), under a lock and by whole-file
replacement; the summary reads it (``read``). Pure pandas: importing this module never imports
TensorFlow.
"""

import csv
import fcntl
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .. import parameters
from ..atomic import write_atomic
from ..nets.units import CAFFENET_UNITS
from .vocabulary import KINDS

_DECLARED = parameters.columns()
_RESULTS = ("top1", "top5", "best10_top1", "validations", "train_seconds", "wall_seconds")
COLUMNS = (*(p.name for p in _DECLARED), *_RESULTS, "params_hash", "code_version", "history")
# code_version: the transferlib version the cell ran under (``version.code_version``), "" for
# unknown. Tables written before a column lack it: their rows, and its empty values, read as
# _ADDED (a declared column's ``absent``; read fills in the CaffeNet's unit names).
_ADDED = {**{p.name: str(p.column.absent) for p in _DECLARED if p.column.absent is not None}, "code_version": ""}
_INTS = (*(p.name for p in _DECLARED if p.value_type is int), "validations")
_FLOATS = (*(p.name for p in _DECLARED if p.value_type is float), *(c for c in _RESULTS if c != "validations"))
_FLAGS = tuple(p.name for p in _DECLARED if p.value_type is bool)
_RENAMED = {"epochs": "validations"}  # old column names, read as the new ones
_BOOLS = {"True": True, "true": True, "1": True, "False": False, "false": False, "0": False}


def read(path):
    """The results table at `path` (a results.csv or the study directory holding one), typed:
    the declared columns as their parameters' defaults (n int, fine_tuned bool...), validations
    int, the metrics float, history a list of floats. A table written before a column was renamed
    (``epochs``) reads as today's; one written before a column was added, with its ``absent``
    value."""
    path = Path(path)
    if path.is_dir():
        path = path / "results.csv"
    if not path.is_file():
        raise FileNotFoundError(f"no results table at {path}: run the study's cells first "
                                "(or pass the study directory that holds results.csv)")
    df = pd.read_csv(path, dtype=str, keep_default_na=False).rename(columns=_RENAMED)
    unshifted = "shift" not in df.columns
    for column, value in _ADDED.items():
        df[column] = df[column].replace("", value) if column in df.columns else value
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path} lacks the columns {missing}; expected {list(COLUMNS)}")
    df = df[list(COLUMNS)]
    if unshifted and df.cell.str.contains("@", regex=False).any():
        raise ValueError(f"{path} holds surgical cells (ids ending in @<shift>) but was written before "
                         "results.csv had the columns shift and tuned_unit: run the study again to rewrite it "
                         "(its done cells are kept, not trained again)")
    duplicated = sorted(set(df.cell[df.cell.duplicated()]))
    if duplicated:
        raise ValueError(f"{path}: cells {duplicated} appear more than once")
    for col, allowed in (("kind", KINDS), ("target", ("A", "B", "AB"))):  # AB: all classes
        bad = df.cell[~df[col].isin(allowed)].tolist()
        if bad:
            raise ValueError(f"{path}: cells {bad} have a {col} outside {allowed}")
    for column in _FLAGS:
        flags = df[column].map(_BOOLS)
        if flags.isna().any():
            raise ValueError(f"{path}: cells {df.cell[flags.isna()].tolist()} have a {column} that is not "
                             "True or False")
        df[column] = flags.astype(bool)
    unnamed = (df.unit == "") & (df.n.astype(int) > 0)
    df.loc[unnamed, "unit"] = [CAFFENET_UNITS[n - 1] if n <= 8 else str(n) for n in df.n[unnamed].astype(int)]
    try:
        for col in _INTS:
            df[col] = df[col].astype(int)
        for col in _FLOATS:
            df[col] = df[col].astype(float)
        df["history"] = df.history.map(lambda h: json.loads(h) if h else []).astype(object)
    except ValueError as e:  # json.JSONDecodeError is a ValueError
        raise ValueError(f"{path}: unreadable value ({e}); fix or delete that row") from e
    return df


def row(cell, metrics):
    """The row of a finished cell: its declared columns' values from the mapping ``cell``
    (``parameters.recorded``: a value it lacks, its column's ``absent``), its results from
    ``metrics``, as its notebook saved them (``cell.files.save``; wall_seconds, where the
    runner or papermill measured it, else train_seconds; code_version, "" where the metrics were
    saved before cells recorded it)."""
    values = parameters.recorded(cell)
    return {**{p.name: values[p.name] for p in _DECLARED}, "params_hash": cell["params_hash"],
            "top1": metrics["top1"], "top5": metrics["top5"], "best10_top1": metrics["best10_top1"],
            "validations": metrics["validations"], "train_seconds": metrics["train_seconds"],
            "wall_seconds": metrics.get("wall_seconds", metrics["train_seconds"]),
            "code_version": metrics.get("code_version", ""), "history": metrics["val_top1"]}


def write(rows, out):
    """Write ``rows`` (dicts with the keys COLUMNS) as a results table to the text stream ``out``."""
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(map(_format, rows))


def _format(row):
    """`row` as the strings results.csv holds, after checking its keys (the _ADDED columns
    may be left out)."""
    row = {**_ADDED, **row}
    missing = [c for c in COLUMNS if c not in row]
    unknown = [k for k in row if k not in COLUMNS]
    if missing or unknown:
        raise ValueError(f"result row for cell {row.get('cell')!r}: missing keys {missing}, "
                         f"unknown keys {unknown}; expected {list(COLUMNS)}")
    flags = [c for c in _FLAGS if c not in _ADDED]  # an added flag may be the string _ADDED holds
    for c in flags:
        if not isinstance(row[c], (bool, np.bool_)):
            raise ValueError(f"result row {row['cell']!r}: {c} must be a bool, got {row[c]!r}")
    out = {c: str(row[c]) for c in COLUMNS}
    out.update({c: str(int(row[c])) for c in _INTS})
    out.update({c: repr(float(row[c])) for c in _FLOATS})  # repr: floats round-trip exactly
    out.update({c: str(bool(row[c])) for c in flags})
    if not isinstance(row["history"], str):
        out["history"] = json.dumps([float(v) for v in row["history"]])
    return out


def append_row(path, row):
    """Add one finished cell's row (a dict with the keys COLUMNS) to the results table at
    `path`, or replace the row with the same cell id in its place."""
    new = _format(row)

    def update(rows):
        if any(r["cell"] == new["cell"] for r in rows):
            return [new if r["cell"] == new["cell"] else r for r in rows]
        return rows + [new]
    _rewrite(path, update)


def keep_only(path, hashes):
    """Drop the rows whose (cell, params_hash) is not in the mapping `hashes`: cells no longer
    in the study, or computed with other parameters."""
    _rewrite(path, lambda rows: [r for r in rows if hashes.get(r["cell"]) == r["params_hash"]])


def _rewrite(path, update):
    """Replace the table at `path` with `update(rows)` (rows as dicts of strings).

    Safe against concurrent writers (an exclusive flock on the table's folder, so no lock file
    is left behind) and against being killed: the whole table is written to a temporary file
    that then replaces it at once, so a reader sees the old table or the new one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        rows = []
        if path.exists():
            with open(path, newline="") as f:
                reader = csv.DictReader(f)
                given = [_RENAMED.get(c, c) for c in reader.fieldnames or ()]
                if given != [c for c in COLUMNS if c in given or c not in _ADDED]:
                    raise ValueError(f"{path} has columns {reader.fieldnames}, expected "
                                     f"{list(COLUMNS)}: move it aside to start a new table")
                rows = [{**_ADDED, **{_RENAMED.get(k, k): v for k, v in r.items()}} for r in reader]
        new_rows = update(rows)
        if path.exists() and new_rows == rows:
            return  # unchanged: keep the file and its mtime (the summary is redrawn on change)

        def write(tmp):
            with open(tmp, "w", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=COLUMNS)
                writer.writeheader()
                writer.writerows(new_rows)
        write_atomic(path, write)
    finally:
        os.close(folder)
