"""The sample's fixed dates and the date, money and quantity helpers every part of it uses."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

AS_OF = date(2026, 10, 15)
LEDGER_START = date(2025, 1, 1)
CENT = Decimal("0.01")
ZERO = Decimal(0)
CUTOFF = datetime.combine(AS_OF, time(18, 0))  # nothing in the sample happens after this


def parse_date(text: str) -> date:
    return date.fromisoformat(text)


def money(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(CENT, ROUND_HALF_UP)


def fmt_money(value: Decimal | None) -> str:
    return "" if value is None else str(money(value))


def fmt_qty(value: Decimal | int | None) -> str:
    return "" if value is None else format(Decimal(value).normalize(), "f")


def fmt_ts(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def period(month: date) -> str:
    return month.strftime("%Y-%m")


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def month_end(month: date) -> date:
    return next_month(month) - timedelta(days=1)


def month_range(first: date, last: date) -> list[date]:
    months, month = [], month_of(first)
    while month <= last:
        months.append(month)
        month = next_month(month)
    return months


def span_days(lo: date, hi: date) -> int:
    """Calendar days from lo to hi, both included (0 when hi < lo)."""
    return max(0, (hi - lo).days + 1)


def split_money(total: Decimal, weights: list[int] | list[Decimal]) -> list[Decimal]:
    """Split total by weights into cents; the last part takes the rounding."""
    whole = sum(weights)
    parts = [money(total * Decimal(w) / Decimal(whole)) for w in weights[:-1]]
    return [*parts, money(total) - sum(parts, ZERO)]


def split_int(total: int, weights: list[int]) -> list[int]:
    """Split an integer by weights (largest remainder)."""
    whole = sum(weights)
    exact = [Decimal(total) * w / whole for w in weights]
    parts = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in by_remainder[: total - sum(parts)]:
        parts[i] += 1
    return parts


def labour_cost(
    regular: Decimal, overtime: Decimal, multiplier: Decimal | None, rate: Decimal, fringe: Decimal | None
) -> Decimal:
    """SPEC §4: (regular + overtime x multiplier) x rate x (1 + fringe/100); defaults 1.5 and 0."""
    multiplier = Decimal("1.5") if multiplier is None else multiplier
    fringe = ZERO if fringe is None else fringe
    return (regular + overtime * multiplier) * rate * (1 + fringe / 100)
