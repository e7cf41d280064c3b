"""New alerts delivered after a publish (SPEC §7): the sensor looks for open alerts the outbox does not hold."""

from dagster import SensorEvaluationContext, SkipReason, sensor

from orchestration.defs.resources import StudioSettings
from orchestration.lib.notify import deliver_alerts


@sensor(
    name="alert_delivery",
    minimum_interval_seconds=60,
    description="Deliver new alerts to the outbox, and to the webhook when configured.",
)
def alert_delivery(context: SensorEvaluationContext, settings: StudioSettings) -> SkipReason:
    return SkipReason(deliver_alerts(settings.layout, settings.studio_config.alert_webhook_env))
