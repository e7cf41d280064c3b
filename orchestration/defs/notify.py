"""New alerts delivered after a publish (SPEC §7): the sensor looks for open alerts the outbox does not hold."""

from dagster import SensorEvaluationContext, SkipReason, sensor

from orchestration.defs.resources import StudioSettings
from orchestration.lib.notify import deliver_to_outbox


@sensor(name="alert_delivery", minimum_interval_seconds=60, description="Deliver new alerts to the outbox.")
def alert_delivery(context: SensorEvaluationContext, settings: StudioSettings) -> SkipReason:
    delivered = deliver_to_outbox(settings.layout)
    return SkipReason(f"{len(delivered)} new alert(s) delivered" if delivered else "no new alerts")
