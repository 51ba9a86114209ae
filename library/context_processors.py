"""Navigation facts for the library: whether the top bar links to the typical cases and to their editors' page, and
whether the page offers the offline reader. Pure (the actor is read already)."""

from typing import Any

from django.http import HttpRequest

from library import policy


def navigation(request: HttpRequest) -> dict[str, Any]:
    actor = getattr(request, "actor", None)
    if actor is None:
        return {}
    reads = policy.has_library(actor)
    match = getattr(request, "resolver_match", None)
    # The library's pages offer the offline reader (library/offline.py): its manifest and its worker.
    return {"nav_library": reads, "offline_reader": reads and match is not None and match.app_name == "library"}
