"""Reading a batch's inputs file: one HIT (one item) per row, a column per template variable.

The rule is the bonus file's: a file with any bad row is refused as a whole, with a report of
every bad line, and nothing is published. The header must name exactly the template's variables
(a missing column would leave a `${placeholder}` in every HIT; an extra one is most likely a
misspelt variable, whose values would silently never reach the workers).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = [
    "MAX_BYTES",
    "MAX_ROWS",
    "MAX_VALUE_CHARS",
    "InputRow",
    "InputsReport",
    "LineProblem",
    "read_inputs",
]

# A study of thousands of items fits well within these; beyond them a file is a mistake or an
# attempt to tie up the worker.
MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 10_000
# A value longer than this could not fit a question of 64 KB alongside anything else.
MAX_VALUE_CHARS = 20_000


@dataclass(frozen=True)
class InputRow:
    line: int  # the file's line: the header is line 1
    values: dict[str, str]


@dataclass(frozen=True)
class LineProblem:
    line: int
    message: str


@dataclass
class InputsReport:
    """`errors` refuse the file as a whole; `problems` are bad lines (any one refuses it)."""

    variables: list[str]
    rows: list[InputRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    problems: list[LineProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.problems and bool(self.rows)


def read_inputs(
    *, data: bytes, variables: list[str], answer_columns: Sequence[str] = ()
) -> InputsReport:
    """Check the file against the template's variables. `answer_columns` are columns the
    template does not show but the batch needs (a review policy's known answers): required,
    and, like every value, never empty. Reads nothing else, writes nothing."""
    report = InputsReport(variables=list(variables))
    if len(data) > MAX_BYTES:
        report.errors.append(f"The file is over {MAX_BYTES // (1024 * 1024)} MB; split it.")
        return report
    try:
        # utf-8-sig: Excel's "CSV UTF-8" starts with a byte-order mark.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        report.errors.append(
            f"The file is not UTF-8 text (byte {exc.start + 1} cannot be read). Save it as "
            "“CSV UTF-8” and upload it again."
        )
        return report
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        report.errors.append(f"The file is not a readable CSV: {exc}.")
        return report
    if not header or not any(h.strip() for h in header):
        report.errors.append("The file is empty: the first line must name the columns.")
        return report
    columns = [h.strip() for h in header]
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        report.errors.append(f"Columns named twice: {', '.join(duplicated)}.")
    missing = [v for v in variables if v not in columns]
    extra = [c for c in columns if c not in variables and c not in answer_columns]
    if missing:
        report.errors.append(
            f"Missing column{'s' if len(missing) > 1 else ''} for the template's variables: "
            f"{', '.join(missing)}."
        )
    missing_answers = [c for c in answer_columns if c not in columns]
    if missing_answers:
        report.errors.append(
            f"Missing the known-answer column{'s' if len(missing_answers) > 1 else ''} "
            f"{', '.join(missing_answers)} (named in the review policies)."
        )
    if extra:
        report.errors.append(
            f"Column{'s' if len(extra) > 1 else ''} the template does not use: {', '.join(extra)} "
            f"(its variables: {', '.join(variables) or 'none'})."
        )
    if report.errors:
        return report
    try:
        for record in reader:
            line = reader.line_num
            if not any(value.strip() for value in record):
                continue  # blank lines are not rows
            if len(report.rows) + len(report.problems) >= MAX_ROWS:
                report.errors.append(f"The file has more than {MAX_ROWS:,} rows; split it.")
                return report
            if len(record) != len(columns):
                report.problems.append(
                    LineProblem(line, f"{len(record)} values for {len(columns)} columns.")
                )
                continue
            values = dict(zip(columns, (value.strip() for value in record), strict=True))
            empty = [name for name, value in values.items() if not value]
            if empty:
                report.problems.append(LineProblem(line, f"Empty value for {', '.join(empty)}."))
                continue
            long = [name for name, value in values.items() if len(value) > MAX_VALUE_CHARS]
            if long:
                report.problems.append(
                    LineProblem(
                        line, f"Value too long for {', '.join(long)} (over {MAX_VALUE_CHARS:,})."
                    )
                )
                continue
            report.rows.append(InputRow(line, values))
    except csv.Error as exc:
        report.errors.append(f"The file is not a readable CSV (line {reader.line_num}): {exc}.")
        return report
    if not report.rows and not report.problems:
        report.errors.append("The file has no rows.")
    return report
