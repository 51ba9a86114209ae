"""Guidance tips for the tests: written by the world's city supervisor for the city, approved by the province
administrator (tests/factories.py ``build_world``)."""

from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from accounts.models import OrgUnit
from library import tasks
from library.guidance import services
from library.guidance.models import Tip, TipPush
from tests.factories import World

TEXTS = {
    "title_zh": "交通查控：不要站在车辆正前方",
    "body_zh": "拦车检查时站在车辆侧前方，驾驶人拒不熄火时立即避让。",
    "title_en": "Traffic checks: never stand in front of the vehicle",
    "body_en": "Stand to the front side; if the driver will not switch off, step away at once.",
}


def today() -> date:
    return timezone.localdate()


def tip_input(**overrides: Any) -> services.TipInput:
    values: dict[str, Any] = {
        "texts": TEXTS,
        "scenarios": ["traffic"],
        "kinds": ["vehicle_ramming"],
        "priority": "high",
        "valid_from": today(),
        "valid_until": today() + timedelta(days=30),
    }
    values.update(overrides)
    return services.TipInput(**values)


def draft_tip(world: World, unit: OrgUnit | None = None, **overrides: Any) -> Tip:
    return services.create_tip(by=world.supervisor, unit=unit or world.city, data=tip_input(**overrides))


def submitted_tip(world: World, **overrides: Any) -> Tip:
    tip = draft_tip(world, **overrides)
    return services.submit_tip(tip=tip, by=world.supervisor, expected_version=tip.version)


def published_tip(world: World, scope: OrgUnit | None = None, **overrides: Any) -> Tip:
    tip = submitted_tip(world, **overrides)
    return services.publish_tip(tip=tip, by=world.admin, scope_unit=scope or world.city, expected_version=tip.version)


def run_pushes() -> int:
    """Run the push task of every push not finished (as the worker does once a publication commits): how many were
    told."""
    return sum(tasks.push_tip(push.pk) for push in TipPush.objects.filter(finished_at__isnull=True).order_by("pk"))
