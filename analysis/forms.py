"""The early-warning pages' forms: the list's filters, and the steps of a warning (each with the version the page
showed, so a stale tab is refused instead of writing again)."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from analysis.choices import WarningKind, WarningState
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
