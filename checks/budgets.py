"""Budget line items, from the declarations file or from the CSV / XLSX files IT staff
already keep. Errors name the file, the row and the column.

Columns are found by their header, in Vietnamese or English: *Nội dung* (name),
*Kinh phí (triệu đồng)* (amount in million VND), *An toàn thông tin* (security: x, có,
yes, 1 … or empty, không, no, 0). Amounts may be numbers or text in Vietnamese form
(1.234,5) — a comma is the decimal mark; dots between groups of three are thousands.
A row whose name starts with "Tổng" (a total line) is not an item.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yte_compliance.core.yamlconf import ConfigError


@dataclass(frozen=True)
class Item:
    name: str
    amount_million_vnd: float
    security: bool


@dataclass(frozen=True)
class BudgetSummary:
    total: float
    security: float
    items: tuple[Item, ...]

    @property
    def ratio(self) -> float | None:
        return self.security / self.total if self.total > 0 else None


def summarize(items: tuple[Item, ...]) -> BudgetSummary:
    return BudgetSummary(sum(i.amount_million_vnd for i in items),
                         sum(i.amount_million_vnd for i in items if i.security), items)


def _fold(text: str) -> str:
    """Lower case without diacritics: 'Kinh phí' and 'kinh phi' match the same header."""
    text = unicodedata.normalize("NFD", str(text).strip().lower()).replace("đ", "d")
    return "".join(c for c in text if unicodedata.category(c) != "Mn")


HEADERS = {
    "name": ("noi dung", "ten", "hang muc", "name", "item"),
    "amount": ("kinh phi", "so tien", "amount", "amount million vnd"),
    "security": ("an toan thong tin", "attt", "security"),
}
_YES = {"x", "co", "yes", "true", "1", "✓", "v"}
_NO = {"", "khong", "no", "false", "0"}


def parse_amount(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("a number of million VND")
    if isinstance(value, (int, float)):
        amount = float(value)
    else:
        text = str(value).strip().replace(" ", "").replace("\u00a0", "")
        if not text:
            raise ValueError("empty")
        whole, _, frac = text.partition(",")
        groups = whole.split(".")
        if len(groups) > 1 and all(len(g) == 3 for g in groups[1:]):
            whole = "".join(groups)  # 1.234.567: thousands dots
        if not re.fullmatch(r"-?\d+(\.\d+)?", whole) or (frac and not frac.isdigit()):
            raise ValueError(f"not an amount: {value!r} (use 1.234,5 or 1234.5)")
        amount = float(f"{whole}.{frac}" if frac else whole)
    if amount < 0:
        raise ValueError("an amount cannot be negative")
    return amount


def parse_security(value: Any) -> bool:
    folded = _fold("" if value is None else value)
    if folded in _YES:
        return True
    if folded in _NO:
        return False
    raise ValueError(f"mark security items with x (or có / yes); got {value!r}")


def read_rows(path: Path) -> list[list[Any]]:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook  # only when a spreadsheet is read

        book = load_workbook(path, read_only=True, data_only=True)
        try:
            return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
        finally:
            book.close()
    text = path.read_text(encoding="utf-8-sig")
    dialect = csv.Sniffer().sniff(text[:2048], delimiters=",;\t")
    return [list(r) for r in csv.reader(text.splitlines(), dialect)]


def parse_items(rows: list[list[Any]], file: str | Path) -> tuple[Item, ...]:
    columns: dict[str, int] = {}
    header_row = None
    for n, row in enumerate(rows, 1):
        found: dict[str, int] = {}
        for i, value in enumerate(row):
            folded = _fold(value or "")
            for key, names in HEADERS.items():
                if any(folded.startswith(h) for h in names):
                    found.setdefault(key, i)
        if {"name", "amount"} <= found.keys():
            columns, header_row = found, n
            break
    if header_row is None:
        raise ConfigError(file, None, "", "no header row with the columns Nội dung and "
                                          "Kinh phí (name, amount)")
    header_names = {k: str(rows[header_row - 1][i]) for k, i in columns.items()}
    items = []
    def cell(row: list[Any], key: str) -> Any:
        i = columns.get(key)
        return row[i] if i is not None and i < len(row) else None

    for n, row in enumerate(rows[header_row:], header_row + 1):
        name, amount = cell(row, "name"), cell(row, "amount")
        if (name is None or str(name).strip() == "") and amount in (None, ""):
            continue
        name = str(name or "").strip()
        if _fold(name).startswith("tong"):
            continue  # a total line, not an item
        if not name:
            raise ConfigError(file, n, header_names["name"], "an item needs a name")
        try:
            value = parse_amount(amount)
        except ValueError as e:
            raise ConfigError(file, n, header_names["amount"], str(e)) from None
        try:
            security = parse_security(cell(row, "security")) if "security" in columns else False
        except ValueError as e:
            raise ConfigError(file, n, header_names["security"], str(e)) from None
        items.append(Item(name, value, security))
    return tuple(items)


def load_items(path: str | Path) -> tuple[Item, ...]:
    path = Path(path)
    try:
        rows = read_rows(path)
    except OSError as e:
        raise ConfigError(path, None, "", f"cannot read: {e.strerror}") from None
    except (csv.Error, ValueError, KeyError) as e:
        raise ConfigError(path, None, "", f"not a CSV or XLSX table: {e}") from None
    return parse_items(rows, path)
