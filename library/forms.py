"""The library's forms: they parse what was typed for a service and keep it on an error."""

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import OrgUnit
from cases.choices import DutyScenario, IncidentKind, PlaceCategory
from cases.selectors import LegalBasis
from library.choices import COLUMNS, LANGUAGES, NOTE_MAX, TEXT_FIELDS, TEXT_MAX, TITLE_MAX, column
from library.models import WriteUp
from library.services import field_label

HTML_LANG = {"zh": "zh-Hans", "en": "en"}


class Styled(forms.Form):
    """Bootstrap classes on every widget; aria-invalid and the error's id on fields with errors."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for f in self.fields.values():
            w = f.widget
            if w.is_hidden or isinstance(w, forms.CheckboxSelectMultiple | forms.RadioSelect):
                continue
            w.attrs.setdefault("class", "form-select" if isinstance(w, forms.Select) else "form-control")

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"{self[name].auto_id}_errors"
                attrs["class"] = attrs.get("class", "") + " is-invalid"

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        """A service's refusal by field, on the fields this form has (the rest on the form)."""
        for name, messages in errors.items():
            self.add_error(name if name in self.fields else None, messages)


class Versioned(Styled):
    """A form of the editors' page: it carries the version of the write-up the page showed, so the service refuses it
    if anything was written since (another tab, another editor, the same form sent twice)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "version" in self.errors:
            self.add_error(None, _("The page that sent this form is incomplete. Reload it, then send the form again."))
        return cleaned


class ProposeForm(Styled):
    note = forms.CharField(
        label=_("Why this case teaches"),
        max_length=NOTE_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class WriteUpForm(Versioned):
    """The working copy: every text in both languages, and the rules and articles of the case it links to."""

    rule_codes = forms.MultipleChoiceField(
        label=_("Rules applied"), required=False, widget=forms.CheckboxSelectMultiple
    )
    articles = forms.MultipleChoiceField(
        label=_("Articles applied"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, basis: LegalBasis, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for language in LANGUAGES:
            for field in TEXT_FIELDS:
                name = column(field, language)
                attrs = {"lang": HTML_LANG[language]}
                if field == "title":
                    widget: forms.Widget = forms.TextInput(attrs={**attrs, "class": "form-control"})
                else:
                    widget = forms.Textarea(attrs={**attrs, "rows": 6 if field == "happened" else 4})
                    widget.attrs["class"] = "form-control"
                self.fields[name] = forms.CharField(
                    label=field_label(name),
                    max_length=TITLE_MAX if field == "title" else TEXT_MAX,
                    required=False,
                    strip=False,
                    widget=widget,
                )
        self.fields["rule_codes"].choices = [(r.code, f"{r.code} {r.title}") for r in basis.rules]  # type: ignore[attr-defined]
        self.fields["articles"].choices = [(a, a) for a in basis.articles]  # type: ignore[attr-defined]
        # The rules and articles after the texts.
        self.order_fields([*COLUMNS, "rule_codes", "articles"])

    @classmethod
    def initial_for(cls, writeup: WriteUp) -> dict[str, Any]:
        initial: dict[str, Any] = {name: getattr(writeup, name) for name in COLUMNS}
        return {**initial, "rule_codes": writeup.rule_codes, "articles": writeup.articles, "version": writeup.version}

    def language_fields(self, language: str) -> list[forms.BoundField]:
        return [self[column(field, language)] for field in TEXT_FIELDS]


class StepForm(Versioned):
    """A step that needs nothing but the version: send for approval, start a revision, accept the replacements."""


class NoteForm(Versioned):
    note = forms.CharField(label=_("Note"), max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 3}))


class UnitField(forms.ModelChoiceField):
    def label_from_instance(self, obj: OrgUnit) -> str:
        return f"{'— ' * obj.depth}{obj.display_name}"


class PublishForm(Versioned):
    scope_unit = UnitField(
        label=_("Publish to"),
        queryset=OrgUnit.objects.none(),
        to_field_name="code",
        help_text=_("Officers of this unit and of the units below it read the typical case."),
    )

    def __init__(self, *args: Any, units: QuerySet[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scope_unit"].queryset = units  # type: ignore[attr-defined]


class FeedbackForm(forms.Form):
    useful = forms.TypedChoiceField(
        label=_("Was this useful?"),
        choices=[("yes", _("Yes")), ("no", _("No"))],
        coerce=lambda value: value == "yes",
    )


def _blank(choices: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [("", _("Any")), *choices]


class ReaderFilterForm(Styled):
    q = forms.CharField(label=_("Search"), max_length=100, required=False)
    kind = forms.ChoiceField(label=_("Incident type"), required=False, choices=_blank(IncidentKind.choices))
    duty_scenario = forms.ChoiceField(label=_("Duty scenario"), required=False, choices=_blank(DutyScenario.choices))
    place_category = forms.ChoiceField(label=_("Place category"), required=False, choices=_blank(PlaceCategory.choices))
    article = forms.ChoiceField(label=_("Legal article"), required=False)

    def __init__(self, *args: Any, articles: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["article"].choices = _blank([(a, a) for a in articles])  # type: ignore[attr-defined]
