"""What other apps offer on the case page (cases/views/workspace.py): a button or a link of theirs about this case.

``cases`` never imports the apps built on it (tests/test_layering.py), yet some of their steps start from a case: the
typical-case library's "propose as a typical case" on a closed case, for one. An app registers a provider in its
``AppConfig.ready()``; the case page asks every provider, in the order they were registered, for what it offers this
reader on this case. A provider decides who may do what with its own records (and returns None when it has nothing
for this reader): the case page only shows what it is given.
"""

from collections.abc import Callable
from dataclasses import dataclass

from accounts.authority import Actor
from cases.models import Case


@dataclass(frozen=True)
class CaseLink:
    """A link (``post`` False) or a one-button form posted with the page's CSRF token (``post`` True), with the
    sentence shown beside it."""

    key: str
    label: str
    url: str
    post: bool = False
    note: str = ""


LinkProvider = Callable[[Actor, Case], CaseLink | None]

_PROVIDERS: dict[str, LinkProvider] = {}


def register_link(key: str, provider: LinkProvider) -> None:
    """Add (or, under the same key, replace: ``ready()`` may run more than once) a provider of the case page."""
    _PROVIDERS[key] = provider


def registered_links() -> tuple[str, ...]:
    return tuple(_PROVIDERS)


def links(actor: Actor, case: Case) -> tuple[CaseLink, ...]:
    """What every registered provider offers ``actor`` on ``case``."""
    return tuple(link for provider in _PROVIDERS.values() if (link := provider(actor, case)) is not None)
