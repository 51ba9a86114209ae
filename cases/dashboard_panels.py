"""Figures other apps add to the office's dashboard (cases/dashboard.py).

``cases`` never imports the apps built on it (tests/test_layering.py), yet the dashboard is where a supervisor looks
first, and some of their news belongs there (the open early warnings of the case analysis, for one). An app registers
a provider in its ``AppConfig.ready()``; the dashboard page asks every provider, in the order they were registered,
for its panel over the unit shown (None: all of the actor's units). A provider decides who sees what of its own
records, and returns None when it has nothing for this reader.
"""

from collections.abc import Callable
from dataclasses import dataclass

from accounts.authority import Actor
from accounts.models import OrgUnit


@dataclass(frozen=True)
class Panel:
    """One figure: a heading, the count, the page that lists what it counts, and the sentence a screen reader reads
    for the link."""

    key: str
    title: str
    count: int
    url: str
    label: str


PanelProvider = Callable[[Actor, OrgUnit | None], Panel | None]

_PROVIDERS: dict[str, PanelProvider] = {}


def register_panel(key: str, provider: PanelProvider) -> None:
    """Add (or, under the same key, replace: ``ready()`` may run more than once) a panel of the dashboard."""
    _PROVIDERS[key] = provider


def registered_panels() -> tuple[str, ...]:
    return tuple(_PROVIDERS)


def panels(actor: Actor, unit: OrgUnit | None) -> tuple[Panel, ...]:
    """Every registered provider's panel for ``actor`` over ``unit``'s subtree (None: all of the actor's units)."""
    return tuple(panel for provider in _PROVIDERS.values() if (panel := provider(actor, unit)) is not None)
