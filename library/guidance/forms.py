"""The tips' forms: they parse what was typed for a service and keep it on an error."""

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import OrgUnit
from cases.choices import DutyScenario, IncidentKind
from library.choices import LANGUAGES, column
from library.forms import HTML_LANG, Styled, UnitField, Versioned
from library.guidance.choices import TIP_BODY_MAX, TIP_COLUMNS, TIP_FIELDS, TIP_TITLE_MAX, TipPriority
from library.guidance.models import Tip
from library.guidance.services import TipInput, tip_field_label


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class TipFields(Styled):
    """A tip's texts in both languages, its tags, priority and validity."""

    scenarios = forms.MultipleChoiceField(
        label=_("Duty scenarios"), choices=DutyScenario.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    kinds = forms.MultipleChoiceField(
        label=_("Incident types"), choices=IncidentKind.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    priority = forms.ChoiceField(label=_("Priority"), choices=TipPriority.choices, initial=TipPriority.NORMAL)
    valid_from = forms.DateField(label=_("Valid from"), widget=DateInput())
    valid_until = forms.DateField(
        label=_("Valid until"),
        required=False,
        widget=DateInput(),
        help_text=_("The last day it holds; leave empty while it holds until withdrawn."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for language in LANGUAGES:
            for field in TIP_FIELDS:
                name = column(field, language)
                attrs = {"lang": HTML_LANG[language], "class": "form-control"}
                widget: forms.Widget = (
                    forms.TextInput(attrs=attrs) if field == "title" else forms.Textarea(attrs={**attrs, "rows": 5})
                )
                self.fields[name] = forms.CharField(
                    label=tip_field_label(name),
                    max_length=TIP_TITLE_MAX if field == "title" else TIP_BODY_MAX,
                    required=False,
                    strip=False,
                    widget=widget,
                )
        self.order_fields([*TIP_COLUMNS, "scenarios", "kinds", "priority", "valid_from", "valid_until"])

    def language_fields(self, language: str) -> list[forms.BoundField]:
        return [self[column(field, language)] for field in TIP_FIELDS]

    def tip_input(self) -> TipInput:
        data = self.cleaned_data
        return TipInput(
            texts={name: data[name] for name in TIP_COLUMNS},
            scenarios=data["scenarios"],
            kinds=data["kinds"],
            priority=data["priority"],
            valid_from=data["valid_from"],
            valid_until=data["valid_until"],
        )

    @classmethod
    def initial_for(cls, tip: Tip) -> dict[str, Any]:
        initial: dict[str, Any] = {name: getattr(tip, name) for name in TIP_COLUMNS}
        return {
            **initial,
            "scenarios": tip.scenarios,
            "kinds": tip.kinds,
            "priority": tip.priority,
            "valid_from": tip.valid_from,
            "valid_until": tip.valid_until,
            "version": tip.version,
        }


class NewTipForm(TipFields):
    unit = UnitField(
        label=_("Unit"),
        queryset=OrgUnit.objects.none(),
        to_field_name="code",
        help_text=_("Its administrators approve the tip, and publish it to this unit or to units below it."),
    )

    def __init__(self, *args: Any, units: QuerySet[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]
        self.order_fields(["unit", *TIP_COLUMNS, "scenarios", "kinds", "priority", "valid_from", "valid_until"])


class TipForm(TipFields, Versioned):
    """The draft of a tip, with the version the page showed."""


class TipPublishForm(Versioned):
    scope_unit = UnitField(
        label=_("Publish to"),
        queryset=OrgUnit.objects.none(),
        to_field_name="code",
        help_text=_("Every officer of this unit and of the units below it is told at once, and reads the tip."),
    )

    def __init__(self, *args: Any, units: QuerySet[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scope_unit"].queryset = units  # type: ignore[attr-defined]


def _blank(choices: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [("", _("Any")), *choices]


class TipFilterForm(Styled):
    scenario = forms.ChoiceField(label=_("Duty scenario"), required=False, choices=_blank(DutyScenario.choices))
    kind = forms.ChoiceField(label=_("Incident type"), required=False, choices=_blank(IncidentKind.choices))
