"""Sections other apps add to the yearly report.

``cases`` never imports the apps built on it (tests/test_layering.py), yet the yearly report carries some of their
figures (the oversight campaigns of the year). An app registers a provider in its ``AppConfig.ready()``; the yearly
report calls every provider, in the order they were registered, inside its own snapshot and time zone
(``yearly_report``), and keeps what they return in ``YearlyReport.sections``. A provider returns figures only (a
frozen dataclass of codes and numbers, so the report stays comparable and serialisable); the section's ``grids()``
turns them into tables in the active language when a page or a file is rendered, as ``layout.report_tables`` does.
Every format shows those grids after the report's own tables (``grid.py``).

The scope is the report's: the unit's subtree. Who may see a yearly report at all is the case policy's
(``policy.can_report_on``); a provider must count nothing outside the subtree.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from accounts.models import OrgUnit

if TYPE_CHECKING:
    from cases.reports.grid import Grid


class ReportSection(Protocol):
    def grids(self) -> tuple["Grid", ...]: ...


SectionProvider = Callable[[OrgUnit, int], ReportSection]

_PROVIDERS: dict[str, SectionProvider] = {}


def register_section(key: str, provider: SectionProvider) -> None:
    """Add (or, under the same key, replace: ``ready()`` may run more than once) a section of the yearly report."""
    _PROVIDERS[key] = provider


def registered_sections() -> tuple[str, ...]:
    return tuple(_PROVIDERS)


def extra_sections(*, unit: OrgUnit, year: int) -> tuple[ReportSection, ...]:
    """Every registered section's figures for ``unit``'s subtree in ``year``."""
    return tuple(provider(unit, year) for provider in _PROVIDERS.values())
