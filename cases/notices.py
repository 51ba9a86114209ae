"""Notices other apps send through the notification list: about a unit rather than a case.

``cases`` never imports the apps built on it (tests/test_layering.py), yet their news belongs in the same notification
list as the cases' (an early warning of the case analysis, for one). Such a notification has no case: it names the
unit it is about (``Notification.unit``), links to the page that tells the rest (``Notification.link``), and is read,
like every notification, in its reader's language when it is shown: its message is ``messages.NOTICE`` and its
parameters name a *topic*. An app registers the topic's wording in its ``AppConfig.ready()``; this module renders a
notice with it. A topic nobody registered renders as "" and the stored English text is shown instead
(``Notification.text``).

Written by ``cases.services.notify_unit_office`` (to a unit's office: ``NotificationKind.NOTICES``) and
``cases.services.notify_members`` (to chosen people: a topic registered with one of ``MEMBER_NOTICE_KINDS``, read by
its recipient while they still hold a role on the unit's line, above it or below it); in-app only: a unit's news is
read in the application, where the page it links to checks who may see it.
"""

from collections.abc import Callable
from typing import Any

from cases.choices import MEMBER_NOTICE_KINDS, NotificationKind

TopicRenderer = Callable[[dict[str, Any]], str]

_TOPICS: dict[str, TopicRenderer] = {}
_KINDS: dict[str, str] = {}


def register_topic(topic: str, render: TopicRenderer, kind: str = NotificationKind.NOTICES) -> None:
    """Add (or, under the same name, replace: ``ready()`` may run more than once) the wording of a notice topic:
    ``render(params)`` returns the sentence in the active language. ``kind``: ``NOTICES`` for a unit's office, or one
    of ``MEMBER_NOTICE_KINDS`` for notices to chosen people."""
    if kind != NotificationKind.NOTICES and kind not in MEMBER_NOTICE_KINDS:
        raise ValueError(f"A notice is about a unit ({NotificationKind.NOTICES}) or to members: not {kind!r}.")
    _TOPICS[topic] = render
    _KINDS[topic] = kind


def registered_topics() -> tuple[str, ...]:
    return tuple(_TOPICS)


def kind_of(params: dict[str, Any]) -> str:
    """The notification kind of a notice: its topic's, ``NOTICES`` for a topic nobody registered."""
    return _KINDS.get(str(params.get("topic", "")), NotificationKind.NOTICES)


def render(params: dict[str, Any]) -> str:
    """The notice in the active language; "" when its topic is not registered."""
    renderer = _TOPICS.get(str(params.get("topic", "")))
    return renderer(params) if renderer is not None else ""
