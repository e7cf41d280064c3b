"""Monthly exchange rates to the base currency (a bounded random walk) and conversion between currencies."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

from orchestration.sample.money import fmt_qty, month_of, month_range, period

BASE_CURRENCY = "USD"
FX_MONTHS = (date(2025, 1, 1), date(2027, 6, 1))

FxRates = dict[tuple[str, date], Decimal]  # (currency, month) -> units of the base currency


def draw_fx_rates(rng: random.Random) -> FxRates:
    rates: FxRates = {}
    walk = {"GBP": (1.27, 1.25, 1.32), "EUR": (1.08, 1.05, 1.12)}
    for month in month_range(*FX_MONTHS):
        rates[(BASE_CURRENCY, month)] = Decimal(1)
        for currency, (level, lo, hi) in walk.items():
            level = min(hi, max(lo, level + rng.uniform(-0.011, 0.011)))
            walk[currency] = (level, lo, hi)
            rates[(currency, month)] = Decimal(str(round(level, 4)))
    return rates


def to_currency(fx: FxRates, amount: Decimal, source: str, target: str, day: date) -> Decimal:
    month = month_of(day)
    return amount * fx[(source, month)] / fx[(target, month)]


def fx_rate_rows(fx: FxRates) -> list[dict[str, str]]:
    return [
        {"currency": currency, "period": period(month), "rate_to_base": fmt_qty(rate)}
        for (currency, month), rate in sorted(fx.items())
    ]
