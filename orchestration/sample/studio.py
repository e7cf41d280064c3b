"""Assembles the sample studio: every landing file's rows, drawn from one seeded random generator."""

from __future__ import annotations

import random

from orchestration.sample.actuals import Actuals
from orchestration.sample.commentary import commentary_rows
from orchestration.sample.fx import draw_fx_rates, fx_rate_rows
from orchestration.sample.hot_costs import estimate_to_complete_rows
from orchestration.sample.plan import budget_rows, budget_transfer_rows, build_versions, change_order_rows
from orchestration.sample.production import (
    build_tasks,
    milestone_rows,
    task_dependency_rows,
    task_event_rows,
    task_rows,
)
from orchestration.sample.records import (
    gl_rows,
    invoice_rows,
    purchase_order_rows,
    rental_rows,
    timesheet_rows,
)
from orchestration.sample.reference import account_rows, department_rows, people_rows, project_rows


def tables(seed: int) -> dict[str, tuple[str, list[dict[str, str]]]]:
    """Landing file name -> (source, rows), in the order they are written.

    Everything random draws from one `random.Random(seed)` in a fixed order (exchange rates, tasks,
    actuals, milestones), so a seed always yields the same files.
    """
    rng = random.Random(seed)
    fx = draw_fx_rates(rng)
    versions = build_versions()
    tasks = build_tasks(rng)
    actuals = Actuals(rng, fx, versions, tasks)
    actuals.build()
    return {
        "departments.csv": ("departments", department_rows()),
        "projects.csv": ("projects", project_rows()),
        "accounts.csv": ("accounts", account_rows()),
        "fx_rates.csv": ("fx_rates", fx_rate_rows(fx)),
        "people.csv": ("people", people_rows()),
        "budgets_original.csv": ("budgets", budget_rows(versions, reforecast=False)),
        "budgets_reforecast_2026q2.csv": ("budgets", budget_rows(versions, reforecast=True)),
        "change_orders.csv": ("change_orders", change_order_rows()),
        "budget_transfers.csv": ("budget_transfers", budget_transfer_rows()),
        "gl_actuals_2025.parquet": ("gl_actuals", gl_rows(actuals.gl, 2025)),
        "gl_actuals_2026.csv": ("gl_actuals", gl_rows(actuals.gl, 2026)),
        "timesheets.csv": ("timesheets", timesheet_rows(actuals.entries)),
        "equipment_rentals.csv": ("equipment_rentals", rental_rows(actuals.rentals)),
        "invoices.csv": ("invoices", invoice_rows(actuals.invoices)),
        "purchase_orders.csv": ("purchase_orders", purchase_order_rows(actuals.purchase_orders)),
        "estimates_to_complete.csv": ("estimates_to_complete", estimate_to_complete_rows()),
        "variance_commentary.csv": ("variance_commentary", commentary_rows()),
        "tasks.csv": ("tasks", task_rows(tasks)),
        "task_events.csv": ("task_events", task_event_rows(tasks)),
        "task_dependencies.csv": ("task_dependencies", task_dependency_rows(tasks)),
        "milestones.csv": ("milestones", milestone_rows(rng)),
    }
