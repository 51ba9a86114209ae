"""The campaign pages' forms: they parse what was typed for a service and keep it on an error."""

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import OrgUnit, User
from cases.choices import CaseStatus, FlagKind, IncidentKind, SuspectStatus
from oversight.choices import (
    CHECKLISTS,
    CUSTODY_STATUSES,
    PURSUIT_STEPS,
    Answer,
    CampaignKind,
    ChecklistItem,
    Measure,
    ProblemType,
    PursuitStatus,
    SelectionMode,
)
from oversight.models import Problem, PursuitRecord
from oversight.scope import Scope

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class Styled(forms.Form):
    """Bootstrap classes on every widget; aria-invalid and the error's id on fields with errors."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for f in self.fields.values():
            w = f.widget
            if w.is_hidden:
                continue
            if isinstance(w, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(w, forms.CheckboxSelectMultiple | forms.RadioSelect):
                css = ""
            elif isinstance(w, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            if css:
                w.attrs.setdefault("class", css)

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
    """A form of the review page. It carries the version of the selected case the page showed, so the service refuses
    it if anything was written about the case since (another tab, another reviewer, the same form sent twice)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Several forms share the page: each version field gets its own id ("problem-version", "rectify-p3-version").
        form = type(self).__name__.removesuffix("Form").lower()
        self.fields["version"].widget.attrs["id"] = f"{form}-{self.add_prefix('version')}"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "version" in self.errors:
            # A hidden field's error is shown nowhere: say it at the top of the form.
            self.add_error(None, _("The page that sent this form is incomplete. Reload it, then send the form again."))
        return cleaned

    def service_data(self) -> dict[str, Any]:
        """What was typed, as the service takes it: the version the page showed as ``expected_version``."""
        data = dict(self.cleaned_data)
        data["expected_version"] = data.pop("version")
        return data


class UnitField(forms.ModelChoiceField):
    def label_from_instance(self, obj: OrgUnit) -> str:
        return f"{'— ' * obj.depth}{obj.display_name}"


class CampaignForm(Styled):
    name = forms.CharField(label=_("Name"), max_length=150)
    kind = forms.ChoiceField(label=_("Kind"), choices=CampaignKind.choices)
    owner_unit = UnitField(
        label=_("Owner unit"),
        queryset=OrgUnit.objects.none(),
        to_field_name="code",
        help_text=_("Reviews happen within this unit; its supervisors and administrators run the campaign."),
    )
    period_start = forms.DateField(label=_("Period from"), widget=DATE)
    period_end = forms.DateField(label=_("Period to"), widget=DATE)
    deadline = forms.DateField(label=_("Deadline"), widget=DATE)
    statuses = forms.MultipleChoiceField(
        label=_("Status"),
        choices=[c for c in CaseStatus.choices if c[0] != CaseStatus.DRAFT],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Every status when none is chosen."),
    )
    kinds = forms.MultipleChoiceField(
        label=_("Incident type"), choices=IncidentKind.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    flags = forms.MultipleChoiceField(
        label=_("Flag"), choices=FlagKind.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    unit = UnitField(
        label=_("Only cases of this unit"),
        queryset=OrgUnit.objects.none(),
        to_field_name="code",
        required=False,
        help_text=_("Leave empty for every case of the owner unit."),
    )
    occurred_from = forms.DateField(label=_("Occurred from"), required=False, widget=DATE)
    occurred_to = forms.DateField(label=_("Occurred to"), required=False, widget=DATE)
    closed_from = forms.DateField(label=_("Closed from"), required=False, widget=DATE)
    closed_to = forms.DateField(label=_("Closed to"), required=False, widget=DATE)
    selection = forms.ChoiceField(
        label=_("Selection"), choices=SelectionMode.choices, widget=forms.RadioSelect, initial=SelectionMode.ALL
    )
    sample_size = forms.IntegerField(
        label=_("Sample size"),
        required=False,
        min_value=1,
        help_text=_("For a sample: how many cases, or how many from each sub-unit."),
    )
    seed = forms.CharField(
        label=_("Seed"),
        required=False,
        max_length=64,
        help_text=_(
            "Optional: the same seed over the same cases draws the same sample. One is recorded if left empty."
        ),
    )

    def __init__(self, *args: Any, units: QuerySet[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("owner_unit", "unit"):
            self.fields[name].queryset = units  # type: ignore[attr-defined]

    def scope(self) -> Scope:
        d = self.cleaned_data
        return Scope(
            statuses=tuple(d.get("statuses") or ()),
            kinds=tuple(d.get("kinds") or ()),
            flags=tuple(d.get("flags") or ()),
            unit_path=d["unit"].path if d.get("unit") else "",
            occurred_from=d.get("occurred_from"),
            occurred_to=d.get("occurred_to"),
            closed_from=d.get("closed_from"),
            closed_to=d.get("closed_to"),
        )


class AssignForm(Styled):
    sub_unit = UnitField(label=_("Sub-unit"), queryset=OrgUnit.objects.none(), to_field_name="code")
    reviewer = forms.ModelChoiceField(label=_("Reviewer"), queryset=User.objects.none(), to_field_name="username")

    def __init__(self, *args: Any, sub_units: QuerySet[OrgUnit], reviewers: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sub_unit"].queryset = sub_units  # type: ignore[attr-defined]
        self.fields["reviewer"].queryset = reviewers  # type: ignore[attr-defined]


class ReviewForm(Versioned):
    """The checklist of a campaign's kind: an answer and a note per item, then a summary."""

    summary = forms.CharField(label=_("Summary"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = CHECKLISTS[kind]
        summary = self.fields.pop("summary")
        for item in self.items:
            self.fields[item] = forms.ChoiceField(
                label=ChecklistItem(item).label, choices=Answer.choices, widget=forms.RadioSelect
            )
            self.fields[f"{item}_note"] = forms.CharField(
                label=_("Note"), required=False, max_length=5000, widget=forms.TextInput
            )
            self.fields[item].widget.attrs.pop("class", None)
            self.fields[f"{item}_note"].widget.attrs.setdefault("class", "form-control form-control-sm")
        self.fields["summary"] = summary

    def answers(self) -> dict[str, tuple[str, str]]:
        d = self.cleaned_data
        return {item: (d.get(item) or "", d.get(f"{item}_note") or "") for item in self.items}

    def rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[item], self[f"{item}_note"]) for item in self.items]


class ProblemForm(Versioned):
    type = forms.ChoiceField(label=_("Type"), choices=ProblemType.choices)
    description = forms.CharField(label=_("Description"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))
    responsible_unit = UnitField(label=_("Responsible unit"), queryset=OrgUnit.objects.none(), to_field_name="code")
    rectify_by = forms.DateField(label=_("Rectify by"), widget=DATE)

    def __init__(self, *args: Any, units: QuerySet[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["responsible_unit"].queryset = units  # type: ignore[attr-defined]


class RectifyForm(Versioned):
    rectification = forms.CharField(label=_("What was done"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))
    rectified_on = forms.DateField(label=_("Rectified on"), widget=DATE)


class ProblemField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Problem) -> str:
        text = obj.description if len(obj.description) <= 60 else obj.description[:59] + "…"
        return f"{obj.get_type_display()}: {text}"


class MakeUpForm(Versioned):
    problem = ProblemField(label=_("Because of the problem"), queryset=Problem.objects.none())

    def __init__(self, *args: Any, problems: QuerySet[Problem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["problem"].queryset = problems  # type: ignore[attr-defined]


class AccountabilityForm(Versioned):
    officer_name = forms.CharField(label=_("Officer"), max_length=100)
    officer_badge = forms.CharField(label=_("Badge number"), max_length=20, required=False)
    unit = UnitField(label=_("Unit"), queryset=OrgUnit.objects.none(), to_field_name="code")
    measure = forms.ChoiceField(label=_("Measure"), choices=Measure.choices)
    document_reference = forms.CharField(label=_("Document reference"), max_length=100)
    decided_on = forms.DateField(label=_("Decided on"), widget=DATE)
    problem = ProblemField(label=_("For the problem"), queryset=Problem.objects.none(), required=False)

    def __init__(self, *args: Any, units: QuerySet[OrgUnit], problems: QuerySet[Problem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]
        self.fields["problem"].queryset = problems  # type: ignore[attr-defined]


class PursuitStepForm(Versioned):
    """The next step of one suspect's pursuit: the steps its status allows."""

    status = forms.ChoiceField(label=_("Step"), choices=())
    on = forms.DateField(label=_("On"), widget=DATE)
    unit = UnitField(label=_("Pursuing unit"), queryset=OrgUnit.objects.none(), to_field_name="code")
    cross_border = forms.BooleanField(label=_("Across the border"), required=False)
    custody = forms.ChoiceField(
        label=_("Custody status"),
        choices=[(s, SuspectStatus(s).label) for s in CUSTODY_STATUSES],
        initial=SuspectStatus.DETAINED,
        help_text=_("For an arrest, a surrender or an extradition: the suspect's status from now on."),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, record: PursuitRecord, units: QuerySet[OrgUnit], **kwargs: Any) -> None:
        kwargs.setdefault("prefix", f"f{record.pk}")
        super().__init__(*args, **kwargs)
        steps = PURSUIT_STEPS[record.status]
        # Offered: the steps the pursuit's status allows now. Accepted: any status, so that a step posted from a page
        # loaded before the pursuit moved on gets the service's reason (it decides the steps), not a bare "not one of
        # the choices" on a form the page no longer shows.
        self.fields["status"].choices = PursuitStatus.choices  # type: ignore[attr-defined]
        self.steps = [(s.value, s.label) for s in PursuitStatus if s.value in steps]
        self.fields["status"].widget.choices = self.steps
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]
        if record.cross_border:
            self.fields["cross_border"].initial = True
