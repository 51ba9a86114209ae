"""What the case page could not save, kept for the user instead of lost.

A form sent from a page that is out of date (someone else acted on the case since it was loaded: the posted version
is older than the case's) or refused for an action the page no longer offers is never answered with a bare 409, 400
or 403 on the action's URL. The view keeps what was typed in the session and redirects to the case page (POST,
redirect, GET), which says what happened, from the case's latest event, and gives the text back: in the form again
when it is still offered, otherwise in a "not saved" box to copy. Nothing is saved by any of this.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms
from django.http import HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.requests import AuthenticatedRequest
from cases.models import Case, CaseEvent
from cases.templatetags.rg import event_text

SESSION_KEY = "cases.kept_input"
# Posted fields that are not the user's words.
NOT_TYPED = frozenset({"csrfmiddlewaretoken", "page_version", "do", "step"})


def seen_version(request: AuthenticatedRequest) -> int | None:
    """The case version the posting page showed: its ``page_version``, else the form's own version field."""
    names = ["page_version", *(k for k in request.POST if k == "version" or k.endswith("-version"))]
    for name in names:
        value = request.POST.get(name, "")
        if value.isdigit():
            return int(value)
    return None


def page_is_stale(request: AuthenticatedRequest, case: Case) -> bool:
    """Whether the case changed since the page that sent this form was loaded."""
    seen = seen_version(request)
    return seen is not None and seen != case.version


def _choices(field: forms.Field) -> Any:
    return getattr(field, "choices", None) or getattr(field.widget, "choices", None)


def _choice_labels(field: forms.Field) -> dict[str, str]:
    labels: dict[str, str] = {}
    for value, label in _choices(field) or ():
        if isinstance(label, list | tuple):  # an option group
            labels.update({str(v): str(lab) for v, lab in label})
        else:
            labels[str(value)] = str(label)
    return labels


def typed_fields(form: forms.BaseForm) -> list[list[str]]:
    """(label, text) for every field the user filled in, choices by their labels, in the form's order."""
    data = form.data
    typed = []
    for name, field in form.fields.items():
        if field.widget.is_hidden or isinstance(field, forms.FileField):
            continue
        key = form.add_prefix(name)
        values = data.getlist(key) if hasattr(data, "getlist") else [data.get(key, "")]
        values = [str(v) for v in values if str(v).strip()]
        if not values:
            continue
        initial = form.get_initial_for_field(field, name)
        if _choices(field) and initial not in (None, "") and values == [str(initial)]:
            # A choice left as the form offered it (a note's default visibility) is not something the user typed.
            continue
        if isinstance(field, forms.BooleanField):
            text = _("yes")
        elif _choices(field):
            labels = _choice_labels(field)
            text = ", ".join(labels.get(v, v) for v in values)
        else:
            text = ", ".join(values)
        typed.append([str(field.label or name), text])
    return typed


def keep_input(
    request: AuthenticatedRequest, case: Case, *, key: str, form: forms.BaseForm | None, stale: bool
) -> HttpResponse:
    """Keep what was posted for the case page and send the user there (an upload's script is told where to go)."""
    errors: list[str] = []
    # Only the errors already found: keeping the input runs no new checks.
    if form is not None and form.is_bound and getattr(form, "_errors", None) is not None:
        errors = [str(e) for e in form.non_field_errors()]
        errors += [
            f"{form.fields[n].label}: {' '.join(str(e) for e in es)}"
            for n, es in form.errors.items()
            if n in form.fields
        ]
    request.session[SESSION_KEY] = {
        "case": case.pk,
        "key": key,
        "stale": stale,
        "errors": errors,
        "data": {k: request.POST.getlist(k) for k in request.POST if k not in NOT_TYPED},
        "fields": typed_fields(form) if form is not None else [],
        "file": bool(request.FILES),
    }
    url = reverse("cases:detail", args=[case.pk])
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse({"redirect": url}, status=409)
    return redirect(url)


@dataclass(frozen=True)
class Kept:
    key: str
    stale: bool
    errors: list[str]
    data: dict[str, list[str]]
    fields: list[list[str]]
    file: bool

    def data_at(self, version: int) -> QueryDict:
        """The posted data as a form's input again, its version fields brought up to ``version``."""
        data = QueryDict(mutable=True)
        for name, values in self.data.items():
            is_version = name == "version" or name.endswith("-version")
            data.setlist(name, [str(version)] if is_version else values)
        return data


def take_kept(request: AuthenticatedRequest, case: Case) -> Kept | None:
    """The input kept for this case, once: a reload shows the page without it."""
    raw = request.session.get(SESSION_KEY)
    if not isinstance(raw, dict) or raw.get("case") != case.pk:
        return None
    del request.session[SESSION_KEY]
    return Kept(
        key=str(raw.get("key", "")),
        stale=bool(raw.get("stale")),
        errors=list(raw.get("errors") or []),
        data=dict(raw.get("data") or {}),
        fields=list(raw.get("fields") or []),
        file=bool(raw.get("file")),
    )


def _when(at: datetime) -> str:
    local = timezone.localtime(at)
    if local.date() == timezone.localdate():
        return local.strftime("%H:%M")
    return f"{date_format(local, 'SHORT_DATE_FORMAT')} {local:%H:%M}"


@dataclass(frozen=True)
class KeptNotice:
    headline: str
    detail: str
    text: str  # what was typed, for the "not saved" box; empty when it is back in its form
    rows: int


def kept_notice(kept: Kept, case: Case, latest: CaseEvent | None, *, title: str, offered: bool) -> KeptNotice:
    """The banner: what happened to the case (who and when, from its latest event) and where the text is: back in
    its form when the page still ``offered`` it, otherwise in the box."""
    if kept.stale and latest is not None:
        who = str(latest.actor) if latest.actor else _("the system")
        if latest.to_status and latest.to_status == case.status:
            headline = _("This case moved to “%(status)s” by %(who)s at %(when)s.") % {
                "status": case.get_status_display(),
                "who": who,
                "when": _when(latest.at),
            }
        else:
            headline = _("This case was changed by %(who)s at %(when)s (%(what)s).") % {
                "who": who,
                "when": _when(latest.at),
                "what": event_text(latest),
            }
    else:
        headline = " ".join(kept.errors) or _("This could not be saved.")
    if offered and kept.fields:
        detail = _("Nothing was saved. What you typed is back in “%(form)s” below: check it and send it again.")
    elif offered:
        detail = _("Nothing was saved. Check the case, then use “%(form)s” again if it is still needed.")
    elif kept.fields:
        detail = _(
            "Nothing was saved, and “%(form)s” is not possible at this stage any more. What you typed is kept below "
            "so you can copy it."
        )
    else:
        detail = _("Nothing was saved, and “%(form)s” is not possible at this stage any more.")
    detail = detail % {"form": title}
    if kept.file:
        detail += " " + _("The file was not uploaded: choose it again.")
    if offered or not kept.fields:
        text = ""
    elif len(kept.fields) == 1:
        text = kept.fields[0][1]
    else:
        text = "\n".join(f"{label}: {value}" for label, value in kept.fields)
    return KeptNotice(headline=headline, detail=detail, text=text, rows=min(max(text.count("\n") + 2, 3), 12))
