"""What WeasyPrint may load while it renders a report: the project's own static files and inline data: URLs.

Everything else (http, https, ftp, file paths outside the static directories, any other scheme) is refused, so no
text in a report can make the server open a connection or read a file it should not. Imported only when a PDF is
rendered: WeasyPrint loads Pango at import time.
"""

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from weasyprint.urls import URLFetcher, URLFetcherResponse


class RefusedURL(ValueError):
    """A URL the report renderer will not load. WeasyPrint leaves the resource out and goes on rendering."""


def static_roots() -> tuple[Path, ...]:
    """The directories report resources may come from: the project's static directories and the collected files."""
    dirs = [entry[1] if isinstance(entry, tuple | list) else entry for entry in settings.STATICFILES_DIRS]
    if settings.STATIC_ROOT:
        dirs.append(settings.STATIC_ROOT)
    return tuple(Path(d).resolve() for d in dirs)


def static_file(url: str) -> Path:
    """The file a ``file:`` URL names, when it lies inside a static directory (links and ``..`` resolved first)."""
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise RefusedURL(f"Report resources never come from another host: {url}")
    path = Path(unquote(parts.path)).resolve()
    if path.is_file() and any(path.is_relative_to(root) for root in static_roots()):
        return path
    raise RefusedURL(f"Report resources come from the static files only: {url}")


class StaticOnlyURLFetcher(URLFetcher):
    """Serves ``data:`` URLs and files under the static directories; refuses every other URL without opening it."""

    def __init__(self) -> None:
        # allowed_protocols is a second guard: the parent refuses other schemes before it opens anything.
        super().__init__(allowed_protocols=("data",), allow_redirects=False)

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            # Decoded in-process by urllib's data: handler; nothing is opened.
            return super().fetch(url, headers)
        if scheme == "file":
            path = static_file(url)
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": content_type})
        raise RefusedURL(f"Report resources never come from the network: {url}")
