"""The forms of the early-warning and evaluation-report pages: the lists' filters, and the steps of a warning or a
report (each with the version the page showed, so a stale tab is refused instead of writing again)."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from analysis.choices import WHOLE_YEAR, EvaluationState, WarningKind, WarningState
from analysis.models import LESSONS_MAX
from analysis.services import NOTE_MAX


class WarningFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), choices=[("", _("Any state")), *WarningState.choices], required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", _("Any kind")), *WarningKind.choices], required=False)
    unit = forms.CharField(label=_("Unit"), max_length=12, required=False)
    page = forms.IntegerField(min_value=1, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("state", "kind"):
            self.fields[name].widget.attrs["class"] = "form-select form-select-sm"


class StepForm(forms.Form):
    """A step of a warning (acknowledge, resolve), with the version of the warning the page showed."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    note = forms.CharField(
        label=_("Note"), max_length=NOTE_MAX, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["note"].widget.attrs["class"] = "form-control"
        # Two forms share the page: each version field gets its own id ("acknowledge-version", "resolve-version").
        self.fields["version"].widget.attrs["id"] = f"{self.prefix}-version"

    def full_clean(self) -> None:
        super().full_clean()
        if "note" in self.errors:
            attrs = self.fields["note"].widget.attrs
            attrs.update({"aria-invalid": "true", "aria-describedby": f"{self['note'].auto_id}_errors"})
            attrs["class"] += " is-invalid"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "version" in self.errors:
            # A hidden field's error is shown nowhere: say it at the top of the form.
            self.add_error(None, _("The page that sent this form is incomplete. Reload it, then send the form again."))
        return cleaned


class AcknowledgeForm(StepForm):
    prefix = "acknowledge"


class ResolveForm(StepForm):
    prefix = "resolve"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        note = self.fields["note"]
        note.required, note.label = True, _("What was found and done")
        note.error_messages["required"] = _("Say what was found and done: a resolution needs a note.")
        note.widget.attrs["rows"] = 3


# --- the case analysis and evaluation reports -------------------------------------------------------------------


def quarter_choices() -> list[tuple[int, Any]]:
    return [
        (WHOLE_YEAR, _("Whole year")),
        (1, _("First quarter")),
        (2, _("Second quarter")),
        (3, _("Third quarter")),
        (4, _("Fourth quarter")),
    ]


class EvaluationFilterForm(forms.Form):
    unit = forms.CharField(label=_("Unit"), max_length=12, required=False)
    year = forms.IntegerField(label=_("Year"), min_value=2015, max_value=2100, required=False)
    state = forms.ChoiceField(
        label=_("State"), choices=[("", _("Any state")), *EvaluationState.choices], required=False
    )
    page = forms.IntegerField(min_value=1, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["state"].widget.attrs["class"] = "form-select form-select-sm"
        self.fields["year"].widget.attrs["class"] = "form-control form-control-sm"


class StartEvaluationForm(forms.Form):
    unit = forms.CharField(label=_("Unit"), max_length=12)
    year = forms.IntegerField(label=_("Year"))
    quarter = forms.TypedChoiceField(label=_("Period"), choices=quarter_choices, coerce=int)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["quarter"].widget.attrs["class"] = "form-select form-select-sm"
        self.fields["year"].widget.attrs["class"] = "form-control form-control-sm"


class VersionedForm(forms.Form):
    """A step of a report, with the version of the report the page showed."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Several forms share the page: each version field gets its own id ("lessons-version", "approve-version"…).
        self.fields["version"].widget.attrs["id"] = f"{self.prefix}-version"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "version" in self.errors:
            self.add_error(None, _("The page that sent this form is incomplete. Reload it, then send the form again."))
        return cleaned

    def mark_invalid(self, name: str) -> None:
        if name in self.errors:
            attrs = self.fields[name].widget.attrs
            attrs.update({"aria-invalid": "true", "aria-describedby": f"{self[name].auto_id}_errors"})
            attrs["class"] = attrs.get("class", "") + " is-invalid"


class LessonsForm(VersionedForm):
    prefix = "lessons"
    # Not bounded here: the service says how long the text is against its bound (analysis/services.py), in one message
    # for the page and the API; the browser is told the bound (maxlength).
    lessons = forms.CharField(
        label=_("Lessons and measures"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 12, "class": "form-control", "maxlength": LESSONS_MAX}),
        help_text=_(
            "What the cases of the period teach, what was done about them and what the unit will do: written by the "
            "unit's office, approved by another supervisor."
        ),
    )

    def full_clean(self) -> None:
        super().full_clean()
        self.mark_invalid("lessons")


class ApproveForm(VersionedForm):
    prefix = "approve"


class ReturnForm(VersionedForm):
    prefix = "return"
    # Not bounded here either: a browser sends each line break as two characters and counts it as one against the
    # maxlength it is told, so the service counts them as the writer saw them (analysis/services.py).
    note = forms.CharField(
        label=_("What should change"),
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control", "maxlength": NOTE_MAX}),
        error_messages={"required": _("Say what should change: a return needs a note.")},
    )

    def full_clean(self) -> None:
        super().full_clean()
        self.mark_invalid("note")
