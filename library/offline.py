"""The installable offline reader of the library (a Web App manifest and a service worker): what it may keep on a
phone, and for whom.

What is kept: only published, anonymised material, and only what the server marks as such. The service worker
(templates/library/sw.js, served at /library/sw.js so that it controls the pages under /library/ and nothing else)
keeps a copy of an answer only when both hold:

- its path matches ``OFFLINE_PATHS``: the readers' list and pages of the typical cases and of the tips in force, and
  the readers' API of both (``/api/v1/library/``, ``/api/v1/guidance/``), never an editors' page, a case, the queue,
  the notifications or any other API (the site's own static files, code and styles with no data, are kept apart under
  ``ASSET_PATHS``);
- the answer carries ``READER_HEADER``, which only the reader views send (``offline_copy``), naming the reader: a page
  that names the source case to a reader who may see it is not marked, and is never kept.

A tip's copy, and a list's, carries ``UNTIL_HEADER`` (``keep_until``): the moment its tip, or the first of its tips,
is past its last day. Offline, the worker no longer answers with a copy past that moment (it deletes it): a tip that
expired is never shown as in force, even without a connection.

It never keeps a request that is not a GET, nor a redirect, nor a refusal; a refusal (403, 404: withdrawn, expired, no
longer for this reader) removes the copy of its address.

For whom: a phone may be shared. The copies are kept in a cache named after the reader (``reader_key``: a keyed digest
of the account and its roles, which says nothing of either); the first marked answer for another reader, or after a
change of roles, deletes every other reader's copies before anything is kept. An answer that sends the browser to the
log-in page (the session ended) deletes them all, and so does the log-in page itself (static/js/library-offline-
clear.js, run on every page shown to someone logged out, so after every log-out), besides the log-out answer's
``Clear-Site-Data: "storage"`` (``clears_offline_copies``), which browsers that support it apply over HTTPS even if no
page follows. Offline, the worker cannot tell who holds the phone: whoever opens it while the last reader's copies are
there reads them, as they could have read the pages on the screen. Copies are a convenience for reading without a
connection: when online the worker always asks the server first.
"""

import json
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from functools import wraps
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponseBase
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.authority import Actor
from library import policy
from library.models import WriteUp

# Every cache the worker makes is named with this prefix, and nothing else of the site's is (the clear script and the
# worker delete by it).
CACHE_PREFIX = "rightsguard-library-"
# The pages and API answers the worker may keep (regular expressions over the path, whole-path matches).
OFFLINE_PATHS: tuple[str, ...] = (
    r"^/library/$",
    r"^/library/[0-9]+/$",
    r"^/library/tips/$",
    r"^/library/tips/[0-9]+/$",
    r"^/api/v1/library/$",
    r"^/api/v1/library/[0-9]+/$",
    r"^/api/v1/guidance/$",
    r"^/api/v1/guidance/[0-9]+/$",
)
# The site's static files (styles, scripts, icons): no data, the same for everyone.
ASSET_PATHS: tuple[str, ...] = (r"^/static/",)
# Fetched when the worker is installed, so the lists open offline at once.
PRECACHE: tuple[str, ...] = ("/library/", "/library/tips/")
# The header a reader view sets on an answer the worker may keep; its value names the reader (``reader_key``).
READER_HEADER = "X-RightsGuard-Offline"
# The header saying until when a copy may be shown offline (seconds since the epoch): its tips' first last day ends.
UNTIL_HEADER = "X-RightsGuard-Offline-Until"
LOGIN_PATH = "/accounts/login/"
# Where the installed reader opens, and what it covers.
START_URL = "/library/tips/"
SCOPE = "/library/"


def worker_settings() -> str:
    """The worker's constants as JSON, for templates/library/sw.js (and the tests that read it back)."""
    return json.dumps(
        {
            "prefix": CACHE_PREFIX,
            "paths": list(OFFLINE_PATHS),
            "assets": list(ASSET_PATHS),
            "precache": list(PRECACHE),
            "header": READER_HEADER.lower(),
            "until": UNTIL_HEADER.lower(),
            "login": LOGIN_PATH,
        },
        sort_keys=True,
    )


def reader_key(actor: Actor) -> str:
    """The reader's cache name suffix: a keyed digest of the account and its roles, which tells neither to whoever reads
    the phone's storage, and changes with the roles (what the reader may read)."""
    roles = ",".join(sorted(f"{grant.role}@{grant.path}" for grant in actor.grants))
    return salted_hmac("library.offline.reader", f"{actor.user_id}|{roles}", algorithm="sha256").hexdigest()[:24]


View = Callable[..., HttpResponseBase]
Answer = TypeVar("Answer", bound=HttpResponseBase)


def keep_until(response: Answer, last_days: Iterable[date | None]) -> Answer:
    """Mark the answer as shown offline only until the earliest of ``last_days`` (local days, included) has ended;
    without one (no tip, or none with a last day), for as long as its copy is kept."""
    days = [day for day in last_days if day is not None]
    if days:
        end = timezone.make_aware(datetime.combine(min(days) + timedelta(days=1), time.min))
        response[UNTIL_HEADER] = str(int(end.timestamp()))
    return response


def offline_copy(unless: Callable[..., bool] | None = None) -> Callable[[View], View]:
    """Mark a reader view's successful answers as kept offline for their reader; not when ``unless(request, *args,
    **kwargs)`` says the answer shows more than published, anonymised material (the source case)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            response = view(request, *args, **kwargs)
            actor = getattr(request, "actor", None)
            if (
                request.method == "GET"
                and response.status_code == 200
                and actor is not None
                and actor.is_active
                and not (unless is not None and unless(request, *args, **kwargs))
            ):
                response[READER_HEADER] = reader_key(actor)
            return response

        return wrapped

    return decorate


def clears_offline_copies(view: View) -> View:
    """The log-out: its answer tells the browser to delete the site's storage, the offline reader's copies and worker
    included (``Clear-Site-Data``; applied over HTTPS by the browsers that support it)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        if request.method == "POST":
            response["Clear-Site-Data"] = '"storage"'
        return response

    return wrapped


def shows_source(request: HttpRequest, pk: int, **kwargs: Any) -> bool:
    """Whether a typical case's reader page (or API answer) names its source case to this reader: those are not kept.
    Asked after the view answered 200, so the write-up exists and is read by them."""
    writeup = WriteUp.objects.select_related("case").filter(pk=pk).first()
    actor = getattr(request, "actor", None)
    return writeup is None or actor is None or policy.sees_source(actor, writeup.case)
