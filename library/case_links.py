"""The case page's link to the library (registered in library/apps.py, shown by cases/case_page_links.py): "Propose as
a typical case" on a closed case to a supervisor who oversees it; once proposed, a link to the write-up for those who
edit or approve it."""

from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.authority import Actor
from cases.case_page_links import CaseLink
from cases.choices import CaseStatus
from cases.models import Case
from library import policy
from library.models import WriteUp


def typical_case_link(actor: Actor, case: Case) -> CaseLink | None:
    if case.status != CaseStatus.CLOSED or not policy.manages_library(actor):
        return None
    writeup = WriteUp.objects.filter(case=case).select_related("unit").first()
    if writeup is not None:
        if not policy.can_manage(actor, writeup):
            return None
        return CaseLink(
            key="typical-case",
            label=_("Typical case: %(state)s") % {"state": writeup.get_state_display()},
            url=reverse("library:edit", args=[writeup.pk]),
        )
    if not policy.can_propose(actor, case):
        return None
    return CaseLink(
        key="typical-case",
        label=_("Propose as a typical case"),
        url=reverse("library:propose", args=[case.pk]),
        post=True,
        note=_("An anonymised write-up of this case for officers to learn from, approved before anyone reads it."),
    )
