"""Navigation facts for the library: whether the top bar links to the typical cases and to their editors' page. Pure
(the actor is read already)."""

from typing import Any

from django.http import HttpRequest

from library import policy


def navigation(request: HttpRequest) -> dict[str, Any]:
    actor = getattr(request, "actor", None)
    if actor is None:
        return {}
    return {"nav_library": policy.has_library(actor)}
