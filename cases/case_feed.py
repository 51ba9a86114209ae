"""The moves of a case, for the apps built on the cases that pass them on to other systems (integrations/: the
webhooks).

``cases`` never imports those apps (tests/test_layering.py). An app registers a listener in its
``AppConfig.ready()``; ``services.common.record_event`` calls every listener with each workflow move (a ``TRANSITION``
event), and each merge and link of duplicates (``MERGED``, ``LINKED``: the listener tells them apart by
``action``), inside the transaction that records the move, so what a listener records commits or rolls back with it. A
listener records work for later and nothing more (a row and an outbox job: cases/outbox.py): it runs in the user's
request, under the case's row lock, and an exception from it refuses the move.
"""

from collections.abc import Callable

from cases.choices import EventKind
from cases.models import CaseEvent

# The timeline events the listeners hear of.
FED_KINDS = frozenset({EventKind.TRANSITION, EventKind.MERGED, EventKind.LINKED})

Listener = Callable[[CaseEvent], None]

_LISTENERS: dict[str, Listener] = {}


def register(name: str, listener: Listener) -> None:
    """Add (or, under the same name, replace: ``ready()`` may run more than once) a listener to the moves."""
    _LISTENERS[name] = listener


def case_moved(event: CaseEvent) -> None:
    for listener in list(_LISTENERS.values()):
        listener(event)
