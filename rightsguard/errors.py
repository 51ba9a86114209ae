"""Error handlers for what Django answers itself, outside the API's views: JSON under ``/api/``, pages elsewhere.

Server errors: a database that cannot be reached is a 503 (retry shortly), not a 500. While PostgreSQL restarts,
every request fails at its first query. Django turns the exception into the 500 handler's response wherever it was
raised (in a view or a middleware), so the handler looks at the exception being handled: a database connection
error answers 503 with ``Retry-After`` at once (no template that would query the database again), JSON for the API
and a short page for the browser.

Refused requests (``SuspiciousOperation``: a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``, too many fields, a
disallowed host) and unknown paths answer the API's error envelope ``{"code": ..., "detail": ...}`` under
``/api/``, as the API's own views do (rightsguard/api.py); a body too large is a 413 there.
"""

import sys

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.csrf import requires_csrf_token
from rest_framework import exceptions

RETRY_AFTER_SECONDS = 5
API_PREFIX = "/api/"


def _api_error(code: str, detail: str, status: int) -> JsonResponse:
    return JsonResponse({"code": code, "detail": detail}, status=status)


@requires_csrf_token
def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not request.path.startswith(API_PREFIX):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        limit = filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        return _api_error(
            "request_too_large",
            _("The request body is too large: at most %(limit)s is accepted.") % {"limit": limit},
            413,
        )
    return _api_error("bad_request", _("The request was refused as malformed or beyond the server's limits."), 400)


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not request.path.startswith(API_PREFIX):
        return defaults.page_not_found(request, exception)
    # The answer the API's own catch-all gives (cases/api/urls.py), for paths outside its version prefix.
    return _api_error(exceptions.NotFound.default_code, str(exceptions.NotFound.default_detail), 404)


def database_unavailable(request: HttpRequest) -> HttpResponse:
    message = _("The database is not reachable at the moment. Nothing was saved; please try again shortly.")
    if request.path.startswith(API_PREFIX):
        response: HttpResponse = JsonResponse({"detail": message, "code": "service_unavailable"}, status=503)
    else:
        response = HttpResponse(loader.render_to_string("503.html", {"message": message}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    exc = sys.exc_info()[1]
    if isinstance(exc, OperationalError | InterfaceError):
        return database_unavailable(request)
    if request.path.startswith(API_PREFIX):
        return _api_error("server_error", _("The server could not complete the request."), 500)
    return HttpResponse(loader.render_to_string("500.html"), status=500)
