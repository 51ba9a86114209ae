"""Server-error handler: a database that cannot be reached is a 503 (retry shortly), not a 500.

While PostgreSQL restarts, every request fails at its first query. Django turns the exception into the 500
handler's response wherever it was raised (in a view or a middleware), so the handler looks at the exception
being handled: a database connection error answers 503 with ``Retry-After`` at once (no template that would
query the database again), JSON for the API and a short page for the browser.
"""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token

RETRY_AFTER_SECONDS = 5


def database_unavailable(request: HttpRequest) -> HttpResponse:
    message = _("The database is not reachable at the moment. Nothing was saved; please try again shortly.")
    if request.path.startswith("/api/"):
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
    return HttpResponse(loader.render_to_string("500.html"), status=500)
