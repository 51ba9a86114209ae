"""A process that serves pages does not load the libraries only some requests need (each weighs megabytes in every
web and task worker): pypdf checks uploaded PDFs, XlsxWriter writes workbooks, qrcode draws the enrolment code."""

import json
import os
import subprocess
import sys

from django.conf import settings

HEAVY = ("pypdf", "xlsxwriter", "qrcode")

PROGRAM = """
import json, sys
import django
django.setup()
from django.urls import get_resolver
get_resolver().url_patterns  # every view module imported, as the first request does
print(json.dumps(sorted(name for name in {heavy!r} if name in sys.modules)))
"""


def test_starting_the_site_loads_none_of_the_libraries_only_some_requests_need():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "rightsguard.settings"}
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", PROGRAM.format(heavy=HEAVY)],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
