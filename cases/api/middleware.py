"""Nothing the API answers may be kept by a browser or a proxy: the answers carry case data, personal data and
evidence files. The schema and its documentation page describe the API only, and may be cached."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

API_PREFIX = "/api/"
CACHEABLE = {"api:schema", "api:docs"}


class NoStoreMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path_info.startswith(API_PREFIX):
            match = getattr(request, "resolver_match", None)
            if match is None or match.view_name not in CACHEABLE:
                add_never_cache_headers(response)
        return response
