"""Reading an uploaded CSV the one way every upload page does (bonus files, qualification grants):
UTF-8 (with or without Excel's byte-order mark), a size and a row cap, headers matched loosely to
our field names, blank lines skipped, and a clear message for whatever makes the file unreadable.
What each row means is the caller's business."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping


class CSVRefused(ValueError):
    """The file cannot be read as a whole; the message says why and what to do."""


def header_key(header: str) -> str:
    """A header as the column tables list it: lower case, without spaces, underscores or dashes
    ("Worker ID", "worker_id" and "WorkerId" are one column)."""
    return re.sub(r"[\s_\-]", "", header).lower()


def read_csv_rows(
    data: bytes,
    *,
    columns: Mapping[str, str],
    required: Mapping[str, str],
    max_bytes: int,
    max_rows: int,
    expected: str,
) -> tuple[dict[str, str], list[tuple[int, dict[str, str]]]]:
    """The file's columns (our field -> its header) and its non-blank rows as (line, field ->
    stripped value). `columns` maps `header_key`s to our fields; `required` names the fields that
    must be there (field -> label for the message); `expected` is the header line to suggest.
    Raises CSVRefused."""
    if len(data) > max_bytes:
        raise CSVRefused(f"The file is over {max_bytes // (1024 * 1024)} MB.")
    try:
        text = data.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a byte-order mark
    except UnicodeDecodeError as exc:
        raise CSVRefused(
            f"The file is not UTF-8 text (byte {exc.start + 1} cannot be read). Save it as "
            "“CSV UTF-8” and upload it again."
        ) from None
    if "\x00" in text:
        raise CSVRefused("The file is not a CSV text file (it holds NUL bytes).")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        headers = reader.fieldnames or []
    except csv.Error as exc:
        raise CSVRefused(f"The file is not a readable CSV: {exc}.") from None
    found: dict[str, str] = {}
    for header in headers:
        name = columns.get(header_key(header or ""))
        if name and name not in found:
            found[name] = header
    missing = [label for name, label in required.items() if name not in found]
    if missing:
        listed = ", ".join(f"“{h}”" for h in headers if h) or "none"
        raise CSVRefused(
            f"The file lacks the column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"(found: {listed}). Use {expected}."
        )
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for record in reader:
            if len(rows) >= max_rows:
                raise CSVRefused(f"The file has more than {max_rows:,} rows; split it.")
            values = {name: (record.get(header) or "").strip() for name, header in found.items()}
            if any(values.values()):  # blank lines are not rows
                rows.append((reader.line_num, values))
    except csv.Error as exc:
        raise CSVRefused(
            f"The file is not a readable CSV (line {reader.line_num}): {exc}."
        ) from None
    if not rows:
        raise CSVRefused("The file has no rows.")
    return found, rows
