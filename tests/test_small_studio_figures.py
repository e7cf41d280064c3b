"""Every figure of the hand-made small studio, worked out by hand (SPEC §6).

The fixture (tests/fixtures/small_studio), as of 2025-03-15, base USD, fiscal year from January:
  P1 (D1, USD) runs 2025-01-01..2025-03-31: 90 days = Jan 31 + Feb 28 + Mar 31.
  P2 (D2, GBP) runs all of 2025. GBP → USD: Jan 1.25, Feb 1.30, Mar 1.20.
  Budgets: V1 approved 2025-01-05 (original), V2 approved 2025-02-15 (current, P1 only).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import cents, rows


def test_unphased_budget_is_prorated_by_days_with_cents_in_the_last_month(small_db: Path) -> None:
    phased = rows(
        small_db,
        "SELECT budget_version, period::VARCHAR AS period, amount_base, is_original, is_current "
        "FROM marts.fct_budget_lines WHERE project_code = 'P1' AND account_code = '5100' ORDER BY 1, 2",
    )
    # V1 9000 over 90 days: 9000*31/90 = 3100, 9000*28/90 = 2800, remainder 3100
    # V2 12000: 12000*31/90 = 4133.33, 12000*28/90 = 3733.33, remainder 12000 - 7866.66 = 4133.34
    assert [(r["budget_version"], r["period"], cents(r["amount_base"])) for r in phased] == [
        ("V1", "2025-01-01", Decimal("3100.00")),
        ("V1", "2025-02-01", Decimal("2800.00")),
        ("V1", "2025-03-01", Decimal("3100.00")),
        ("V2", "2025-01-01", Decimal("4133.33")),
        ("V2", "2025-02-01", Decimal("3733.33")),
        ("V2", "2025-03-01", Decimal("4133.34")),
    ]
    assert {(r["budget_version"], r["is_original"], r["is_current"]) for r in phased} == {
        ("V1", True, False),
        ("V2", False, True),
    }


def test_expense_line_over_budget_by_percentage_only(line_item) -> None:
    row = line_item("2025-01-01", "P1", "5200")  # budget 2000, GL G2 2600
    assert cents(row["budget"]) == Decimal("2000.00")
    assert cents(row["actual"]) == Decimal("2600.00")
    assert cents(row["variance"]) == Decimal("600.00")  # 2600 - 2000
    assert row["variance_pct"] == pytest.approx(30.0)  # 600 / 2000 * 100
    assert row["direction"] == "U"
    assert cents(row["favorable_variance"]) == Decimal("-600.00")  # budget - actual for expense
    assert row["utilization_pct"] == pytest.approx(130.0)
    assert row["is_material"] is True  # 30% > 10% although 600 < 5,000
    assert row["needs_attention"] is True


def test_expense_line_under_budget_with_original_and_current(line_item) -> None:
    row = line_item("2025-01-01", "P1", "5100")  # current V2 4133.33, original V1 3100, GL 3500
    assert cents(row["original_budget"]) == Decimal("3100.00")
    assert cents(row["budget"]) == Decimal("4133.33")
    assert cents(row["posted_actual"]) == Decimal("3500.00")
    assert cents(row["accrued_actual"]) == Decimal("0.00")
    assert cents(row["variance"]) == Decimal("-633.33")
    assert row["variance_pct"] == pytest.approx(-633.33 / 4133.33 * 100)  # -15.32
    assert row["direction"] == "F"
    assert cents(row["favorable_variance"]) == Decimal("633.33")
    assert row["utilization_pct"] == pytest.approx(3500 / 4133.33 * 100)
    assert row["is_material"] is True and row["needs_attention"] is False  # material but favourable


def test_revenue_line_short_of_budget_is_unfavourable(line_item) -> None:
    row = line_item("2025-02-01", "P1", "4000")  # revenue budget 20000, GL G4 18000
    assert cents(row["variance"]) == Decimal("-2000.00")
    assert row["variance_pct"] == pytest.approx(-10.0)
    assert row["direction"] == "U"  # less revenue than planned
    assert cents(row["favorable_variance"]) == Decimal("-2000.00")  # actual - budget for revenue
    assert row["is_material"] is False  # exactly 10% is not more than 10%; 2,000 <= 5,000


def test_material_by_amount_only_in_a_second_currency(line_item) -> None:
    row = line_item("2025-02-01", "P2", "5200")  # GBP 60000 budget, 64000 actual, Feb rate 1.30
    assert cents(row["budget"]) == Decimal("78000.00")  # 60000 * 1.30
    assert cents(row["actual"]) == Decimal("83200.00")  # 64000 * 1.30
    assert row["variance_pct"] == pytest.approx(5200 / 78000 * 100)  # 6.67% < 10%
    assert row["is_material"] is True  # but 5,200 > 5,000
    assert row["needs_attention"] is True


def test_unbudgeted_spend_and_unspent_budget_both_show(line_item) -> None:
    unbudgeted = line_item("2025-02-01", "P1", "5900")  # G3 700, no budget line
    assert (unbudgeted["has_budget"], unbudgeted["has_actuals"]) == (False, True)
    assert cents(unbudgeted["budget"]) == Decimal("0.00")
    assert unbudgeted["variance_pct"] is None and unbudgeted["utilization_pct"] is None
    assert unbudgeted["direction"] == "U" and unbudgeted["is_material"] is False  # 700 <= 5,000
    unspent = line_item("2025-03-01", "P1", "5100")  # V2 March 4133.34, no GL
    assert (unspent["has_budget"], unspent["has_actuals"]) == (True, False)
    assert cents(unspent["favorable_variance"]) == Decimal("4133.34")


def test_currency_conversion_at_each_periods_rate_and_as_of_cut(small_db: Path) -> None:
    found = rows(
        small_db,
        "SELECT source_id, amount_base FROM marts.fct_actual_costs WHERE project_code = 'P2' ORDER BY source_id",
    )
    # G5 800 * 1.25 = 1000.00, G6 100 * 1.20 = 120.00, G8 64000 * 1.30 = 83200.00; G7 is after as-of
    assert [(r["source_id"], cents(r["amount_base"])) for r in found] == [
        ("G5", Decimal("1000.00")),
        ("G6", Decimal("120.00")),
        ("G8", Decimal("83200.00")),
    ]


def test_fiscal_ytd_with_january_start(line_item) -> None:
    row = line_item("2025-03-01", "P1", "5100")
    assert cents(row["ytd_budget"]) == Decimal("12000.00")  # 4133.33 + 3733.33 + 4133.34
    assert cents(row["ytd_actual"]) == Decimal("3500.00")
    assert cents(row["ytd_variance"]) == Decimal("-8500.00")
    assert row["ytd_variance_pct"] == pytest.approx(-8500 / 12000 * 100)


def test_project_to_date_is_cost_with_revenue_beside_it(small_db: Path) -> None:
    p1 = rows(small_db, "SELECT * FROM marts.mart_project_variance WHERE project_code = 'P1'")[0]
    # cost: budget 12000 (crew) + 2000 (camera) = 14000; actual 3500 + 2600 + 700 = 6800
    assert cents(p1["budget"]) == Decimal("14000.00")
    assert cents(p1["actual"]) == Decimal("6800.00")
    assert cents(p1["variance"]) == Decimal("-7200.00")
    assert p1["direction"] == "F" and p1["is_material"] is True and p1["needs_attention"] is False
    assert cents(p1["revenue_budget"]) == Decimal("20000.00")
    assert cents(p1["revenue_actual"]) == Decimal("18000.00")
    assert cents(p1["original_budget"]) == Decimal("11000.00")  # V1: 9000 + 2000
    # 2025-01-01..2025-03-15 is 74 of 90 days
    assert p1["schedule_elapsed_pct"] == pytest.approx(74 / 90 * 100)


def test_department_and_studio_roll_ups(small_db: Path) -> None:
    d2 = rows(
        small_db,
        "SELECT * FROM marts.mart_department_variance WHERE department_code = 'D2' AND period = '2025-03-01'",
    )[0]
    # D2 YTD: budget 1250 (Jan) + 78000 (Feb) = 79250; actual 1000 + 83200 + 120 = 84320
    assert cents(d2["ytd_budget"]) == Decimal("79250.00")
    assert cents(d2["ytd_actual"]) == Decimal("84320.00")
    assert d2["ytd_variance_pct"] == pytest.approx(5070 / 79250 * 100)  # 6.40% > 5% department threshold
    assert d2["ytd_is_material"] is True and d2["ytd_needs_attention"] is True
    assert cents(d2["budget"]) == Decimal("0.00") and cents(d2["actual"]) == Decimal("120.00")  # March alone
    studio = {
        r["period"]: r
        for r in rows(small_db, "SELECT period::VARCHAR AS period, * EXCLUDE (period) FROM marts.mart_studio_variance")
    }
    assert sorted(studio) == ["2025-01-01", "2025-02-01", "2025-03-01"]
    # January: budget 4133.33 + 2000 + 1250 = 7383.33; actual 3500 + 2600 + 1000 = 7100
    jan = studio["2025-01-01"]
    assert (cents(jan["budget"]), cents(jan["actual"])) == (Decimal("7383.33"), Decimal("7100.00"))
    assert jan["is_material"] is True  # 283.33 / 7383.33 = 3.8% > studio 1%
    mar = studio["2025-03-01"]
    # YTD March: budget 7383.33 + 81733.33 + 4133.34 = 93250; actual 7100 + 83900 + 120 = 91120
    assert (cents(mar["ytd_budget"]), cents(mar["ytd_actual"])) == (Decimal("93250.00"), Decimal("91120.00"))
    assert cents(mar["ytd_revenue_actual"]) == Decimal("18000.00")


def test_category_roll_up_takes_the_categorys_direction(small_db: Path) -> None:
    revenue = rows(
        small_db,
        "SELECT * FROM marts.mart_category_variance WHERE category = 'revenue' AND period = '2025-02-01'",
    )[0]
    assert revenue["direction"] == "U"  # 18000 < 20000 revenue
    crew = rows(
        small_db,
        "SELECT * FROM marts.mart_project_category_variance WHERE project_code = 'P1' AND category = 'crew'",
    )[0]
    assert cents(crew["budget"]) == Decimal("12000.00") and crew["direction"] == "F"


def test_report_compares_like_with_like_in_the_as_of_month(small_db: Path) -> None:
    """The report's budget to date: January and February in full, March (the as-of month, 15 of its 31 days
    elapsed) prorated, each line item month to the cent; subtotals and the total add the rows up."""
    report = {
        (r["row_type"], r["department_code"], r["account_code"]): r
        for r in rows(small_db, "SELECT * FROM marts.rpt_studio_budget_vs_actual")
    }
    crew = report[("account", "D1", "5100")]
    # 4133.33 (Jan) + 3733.33 (Feb) + 4133.34 × 15 / 31 = 2000.003… → 2000.00 (Mar) = 9866.66; actual 3500 (Jan)
    assert cents(crew["budget"]) == Decimal("9866.66") and cents(crew["actual"]) == Decimal("3500.00")
    assert (crew["as_of_month_days_elapsed"], crew["as_of_month_days"]) == (15, 31)
    assert crew["utilization_pct"] == pytest.approx(3500 / 9866.66 * 100)
    # D1: 9866.66 + 2000.00 (5200, January) + 0 (5900) = 11866.66
    assert cents(report[("department", "D1", None)]["budget"]) == Decimal("11866.66")
    # D2 has no March budget: 1250.00 + 78000.00 = 79250.00, as in the marts' YTD
    assert cents(report[("department", "D2", None)]["budget"]) == Decimal("79250.00")
    # studio: 11866.66 + 79250.00 = 91116.66 against 6800.00 + 84320.00 = 91120.00: 3.34 over, U
    studio = report[("studio", None, None)]
    assert (cents(studio["budget"]), cents(studio["actual"])) == (Decimal("91116.66"), Decimal("91120.00"))
    assert cents(studio["variance"]) == Decimal("3.34") and studio["direction"] == "U"
    assert studio["is_material"] is False  # 3.34 / 91116.66 = 0.004% ≤ 1%, 3.34 ≤ 100,000


@pytest.mark.slow
def test_a_run_as_of_a_month_before_a_currencys_first_rate_converts_the_contract_at_that_rate(tmp_path: Path) -> None:
    """As of 2024-12-15 the pound has no rate yet (fx_rates.csv starts in January 2025): P2's contract converts at
    its first rate rather than failing the build (it did: a null contract value, nothing published, exit 1)."""
    import csv

    from tests.conftest import SMALL_STUDIO, refresh

    with (SMALL_STUDIO / "fx_rates.csv").open(encoding="utf-8", newline="") as handle:
        first = min((r for r in csv.DictReader(handle) if r["currency"] == "GBP"), key=lambda r: r["period"])
    assert first["period"] > "2024-12"
    with (SMALL_STUDIO / "projects.csv").open(encoding="utf-8", newline="") as handle:
        contracts = {r["project_code"]: Decimal(r["contract_value"]) for r in csv.DictReader(handle)}
    result = refresh(SMALL_STUDIO, tmp_path / "warehouse", "2024-12-15")
    assert result.success and result.rejected == [], result.failures
    found = rows(
        tmp_path / "warehouse" / "studio.duckdb",
        "SELECT project_code, contract_value FROM marts.mart_project_variance ORDER BY 1",
    )
    assert {r["project_code"]: r["contract_value"] for r in found} == {
        "P1": contracts["P1"],  # dollars, the base currency
        "P2": cents(contracts["P2"] * Decimal(first["rate_to_base"])),  # 50,000 × 1.25
    }
