"""The offline reader's two public files (library/offline.py): the Web App manifest that makes the library installable
on a phone, and the service worker. Neither holds data, so neither needs a session (a browser fetches the manifest
without its cookies); both are answered in the visitor's language."""

import json

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.utils.cache import patch_cache_control
from django.utils.html import escape
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from library import offline


@login_not_required
@require_safe
def manifest(request: HttpRequest) -> HttpResponse:
    icons = [
        {"src": static("library/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
        {"src": static("library/icon-192.png"), "sizes": "192x192", "type": "image/png"},
        {"src": static("library/icon-512.png"), "sizes": "512x512", "type": "image/png"},
        {
            "src": static("library/icon-maskable-512.png"),
            "sizes": "512x512",
            "type": "image/png",
            "purpose": "maskable",
        },
    ]
    data = {
        "name": _("RightsGuard typical cases and tips"),
        "short_name": _("Guidance"),
        "description": _("Typical cases and guidance tips for officers, readable offline."),
        "lang": "zh-Hans" if (get_language() or "").startswith("zh") else "en",
        "id": offline.START_URL,
        "start_url": offline.START_URL,
        "scope": offline.SCOPE,
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b3d91",
        "icons": icons,
    }
    response = JsonResponse(data, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False})
    patch_cache_control(response, no_cache=True)
    return response


@login_not_required
@require_safe
def service_worker(request: HttpRequest) -> HttpResponse:
    context = {
        "settings": offline.worker_settings(),
        "offline_title": json.dumps(escape(_("Not kept for offline reading"))),
        "offline_text": json.dumps(
            escape(
                _(
                    "You are offline, and this page was not kept on this phone. Typical cases and tips you opened "
                    "before are kept: go back to their lists."
                )
            )
        ),
    }
    response = render(request, "library/sw.js", context, content_type="text/javascript; charset=utf-8")
    # The browser checks for a new worker on every visit; the file must never be kept stale.
    patch_cache_control(response, no_cache=True, max_age=0)
    return response
