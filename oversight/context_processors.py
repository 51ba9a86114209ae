"""Navigation facts for oversight campaigns: whether the top bar links to them. Pure (the actor is read already)."""

from typing import Any

from django.http import HttpRequest

from oversight import policy


def navigation(request: HttpRequest) -> dict[str, Any]:
    actor = getattr(request, "actor", None)
    if actor is None:
        return {}
    return {"nav_campaigns": policy.has_campaigns(actor)}
