"""Department heads (SPEC §8): each department's own files after every publish, and the weekly e-mail of its report."""

from datetime import date

from dagster import (
    AssetExecutionContext,
    AssetKey,
    Config,
    DefaultScheduleStatus,
    JobDefinition,
    MaterializeResult,
    MetadataValue,
    OpDefinition,
    OpExecutionContext,
    RetryPolicy,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    asset,
    job,
    op,
    schedule,
)

from orchestration.defs.publish import PUBLISHED
from orchestration.defs.resources import StudioSettings
from orchestration.lib.config import DepartmentDelivery
from orchestration.lib.department_email import send_department_reports, week_of
from orchestration.lib.departments import publish_departments

DEPARTMENT_EMAIL_JOB = "department_email"
SEND_OP = "send_department_reports"


@asset(
    key=AssetKey(["published", "department_files"]),
    group_name="publish",
    deps=[PUBLISHED],
    description=(
        "Each department's own studio.duckdb, Parquet exports and report under departments/<CODE>/, holding that "
        "department's rows only; written when studio.toml has [departments] publish = true."
    ),
    kinds={"duckdb", "parquet"},
)
def department_files(context: AssetExecutionContext, settings: StudioSettings) -> MaterializeResult:
    if not settings.studio_config.departments.publish:
        return MaterializeResult(metadata={"enabled": False})
    written, refused = publish_departments(settings.layout)
    for reason in refused:
        context.log.warning(f"department files not written for {reason}")
    return MaterializeResult(
        metadata={
            "enabled": True,
            "departments": MetadataValue.json(
                {f.department_code: {"tables": f.tables, "rows": f.rows} for f in written}
            ),
            "refused": MetadataValue.json(refused),
            "path": MetadataValue.path(str(settings.layout.departments)),
        }
    )


class DepartmentEmailConfig(Config):
    """The week (its Monday, YYYY-MM-DD) the run sends; the schedule sets it, so a retried run keeps its week."""

    week: str = ""


def send_reports_op(delivery: DepartmentDelivery) -> OpDefinition:
    """The op that sends; a run that could not send every report fails, and Dagster runs it again after
    `[departments] email_retry_minutes`, up to `email_retries` times: the ledger makes it send only what did not go."""

    @op(
        name=SEND_OP,
        description="E-mail each department owner the week's report (HTML body, CSV attached); nothing twice.",
        retry_policy=RetryPolicy(max_retries=delivery.email_retries, delay=delivery.email_retry_minutes * 60)
        if delivery.email_retries
        else None,
    )
    def _send(context: OpExecutionContext, settings: StudioSettings, config: DepartmentEmailConfig) -> None:
        smtp = settings.studio_config.smtp
        if smtp is None:
            context.log.info("no [smtp] section in studio.toml: no department e-mail sent")
            return
        week = week_of(date.fromisoformat(config.week)) if config.week else week_of(date.today())
        summary = send_department_reports(settings.layout, smtp, week)
        context.log.info(summary.line())
        if summary.failed:
            raise RuntimeError(f"{len(summary.failed)} department report(s) not sent yet: {', '.join(summary.failed)}")

    return _send


def department_email_job(delivery: DepartmentDelivery) -> JobDefinition:
    send = send_reports_op(delivery)

    @job(name=DEPARTMENT_EMAIL_JOB, description="The weekly department reports by e-mail (SPEC §8).")
    def _department_email() -> None:
        send()

    return _department_email


def department_email_schedule(
    delivery: DepartmentDelivery, email_job: JobDefinition, enabled: bool
) -> ScheduleDefinition:
    """Weekly at `[departments] email_schedule` in `email_timezone`; running by default when [smtp] is set."""

    @schedule(
        name="weekly_department_reports",
        cron_schedule=delivery.email_schedule,
        execution_timezone=delivery.email_timezone,
        job=email_job,
        default_status=DefaultScheduleStatus.RUNNING if enabled else DefaultScheduleStatus.STOPPED,
        description="Each department owner's report, e-mailed once a week.",
    )
    def _weekly(context: ScheduleEvaluationContext) -> RunRequest:
        week = week_of(context.scheduled_execution_time.date())
        return RunRequest(
            run_key=f"department-reports-{week.isoformat()}",  # one run per week, however often the tick is seen
            run_config={"ops": {SEND_OP: {"config": {"week": week.isoformat()}}}},
        )

    return _weekly
