"""HTML forms. They parse and validate input; the services decide and write."""

import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from django import forms
from django.forms.models import ModelChoiceIterator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import OrgUnit
from cases.choices import (
    ANSWER_STATUS,
    FAULT_FINDING_CHOICES,
    INJURY_RANK,
    NOTE_MAX_LENGTH,
    OFFICE_RECORDED_STATUSES,
    SUPPORT_TRANSITIONS,
    CaseStatus,
    FindingProblem,
    FlagKind,
    IncidentKind,
    InjuryGrade,
    NoSuspectReason,
    NoteVisibility,
    OverrideReason,
    PauseReason,
    ReferralTarget,
    SupportAnswer,
    SupportKind,
    SupportStatus,
    Track,
)
from cases.dimensions import UnknownCode
from cases.models import Case, InvolvedOfficer, SupportMeasure, Suspect
from cases.overrides import BASIS_MAX, TEXT_MAX, override_errors
from cases.queue_filters import DIMENSION_CHOICES, DUE_OVERDUE, DUE_PAUSED, DUE_WEEK, period_range, weekhour_code
from cases.rules.facts import FACT_NAMES, FACTS, OFFICER, SUPERVISOR, facts_asked_of, facts_for_kind
from cases.rules.presentation import FlagView
from cases.services.fault import DEPARTMENT_MAX, DOCUMENT_REFERENCE_MAX, NOTES_MAX
from cases.services.handling import support_amount_error
from rightsguard.form_renderer import IN_JINJA2

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class UnitChoiceField(forms.ModelChoiceField):
    """Units indented by their depth in the tree, so the hierarchy reads at a glance."""

    def label_from_instance(self, obj: OrgUnit) -> str:
        return "\u3000" * obj.depth + f"{obj.display_name} ({obj.code})"


class ListedChoiceIterator(ModelChoiceIterator):
    """A model choice field's options read with one ordinary query, kept for the form's life (Django's iterator
    reads through a server-side cursor on PostgreSQL: three statements, each render)."""

    def __iter__(self) -> Iterator[Any]:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset:
            yield self.choice(obj)


class ListedModelChoiceField(forms.ModelChoiceField):
    iterator = ListedChoiceIterator


class DisclosureCheckboxes(forms.CheckboxSelectMultiple):
    """Checkboxes the form folds into a disclosure (``<details>``) under the field's label: a long list of choices
    that any number of may be ticked without holding Ctrl, and that takes one line until opened. Works without
    JavaScript (includes/field.html)."""

    disclosure = True


class BootstrapMixin:
    """Bootstrap classes on every widget, and aria-invalid on fields with errors once the form is validated."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # type: ignore[attr-defined]
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
                css = ""
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            if css:
                widget.attrs.setdefault("class", css)

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        for name in self.errors:  # type: ignore[attr-defined]
            if name in self.fields:  # type: ignore[attr-defined]
                attrs = self.fields[name].widget.attrs  # type: ignore[attr-defined]
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"{self[name].auto_id}_errors"  # type: ignore[index]
                attrs["class"] = attrs.get("class", "") + " is-invalid"


class VersionForm(BootstrapMixin, forms.Form):
    """Every change carries the version the user saw; a newer version means someone else acted first."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


# --- Filing (officer) -------------------------------------------------------------------------------------------


class IncidentForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Case
        fields = ["kind", "occurred_at", "location", "channel", "dispatch_ref"]
        widgets = {"occurred_at": DATETIME_WIDGET}

    def clean_occurred_at(self) -> Any:
        value = self.cleaned_data.get("occurred_at")
        if value and value > timezone.now():
            raise forms.ValidationError(_("The incident cannot be in the future."))
        return value


class NarrativeForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Case
        fields = ["summary", "narrative"]
        widgets = {"narrative": forms.Textarea(attrs={"rows": 8})}
        help_texts = {
            "summary": _("One line, e.g. “Kicked by a suspect during a street check”."),
            "narrative": _("What happened, in order: who, what, where, and what was said or done."),
        }


class FactsForm(BootstrapMixin, forms.ModelForm):
    """The facts the office weighs, asked as plain questions. "Unknown" is a valid answer. Only the questions the
    case's incident type asks (cases/rules/facts.Fact.asked_about): no online views for a kick, no weapon for a post."""

    class Meta:
        model = Case
        fields = [f.name for f in facts_asked_of(OFFICER)]
        labels = {f.name: f.question for f in FACTS if f.question}
        help_texts = {f.name: f.help_text for f in FACTS if f.help_text}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.instance.kind:
            return  # no incident type yet: every question
        asked = {f.name for f in facts_for_kind(self.instance.kind)}
        for name in [n for n in self.fields if n in FACT_NAMES and n not in asked]:
            del self.fields[name]


class SupervisorFactsForm(FactsForm):
    class Meta(FactsForm.Meta):
        fields = [*FactsForm.Meta.fields, *(f.name for f in facts_asked_of(SUPERVISOR))]


class OfficerForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = InvolvedOfficer
        fields = ["name", "badge_number", "officer_type", "duty_status", "injury", "medical_notes"]
        widgets = {"medical_notes": forms.Textarea(attrs={"rows": 2})}


class SuspectForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Suspect
        fields = ["name", "id_number", "status"]


class PartyEditMixin:
    """Changing a listed officer or suspect: the form starts from what is recorded, except the masked field (medical
    details, ID number), which is never put into the page. Left empty it keeps the recorded value; typed, it replaces
    it; the "clear" box empties it. ``changes()`` gives the service only what is to be set."""

    masked_field: str
    clear_label: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        instance = kwargs.get("instance")
        field = self.fields[self.masked_field]  # type: ignore[attr-defined]
        self.initial[self.masked_field] = ""  # type: ignore[attr-defined]
        field.required = False
        self.has_recorded = bool(instance and getattr(instance, self.masked_field))
        if self.has_recorded:
            field.help_text = _("Recorded, and hidden here. Leave this empty to keep it; type to replace it.")
            self.fields[f"clear_{self.masked_field}"] = forms.BooleanField(  # type: ignore[attr-defined]
                label=self.clear_label, required=False, widget=forms.CheckboxInput(attrs={"class": "form-check-input"})
            )

    def changes(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)  # type: ignore[attr-defined]
        clear = data.pop(f"clear_{self.masked_field}", False)
        if clear:
            data[self.masked_field] = ""
        elif not data.get(self.masked_field):
            data.pop(self.masked_field, None)
        return data


class OfficerEditForm(PartyEditMixin, OfficerForm):
    masked_field = "medical_notes"
    clear_label = _("Clear the recorded medical details")

    def _post_clean(self) -> None:
        # The service validates and saves; the form must not write the blank masked field over the instance.
        pass


class SuspectEditForm(PartyEditMixin, SuspectForm):
    masked_field = "id_number"
    clear_label = _("Clear the recorded ID number")

    def _post_clean(self) -> None:
        pass


class SupportRequestForm(BootstrapMixin, forms.Form):
    kinds = forms.MultipleChoiceField(
        label=_("Support you need"), choices=SupportKind.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    notes = forms.CharField(
        label=_("Anything the office should know"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class EvidenceForm(BootstrapMixin, forms.Form):
    file = forms.FileField(label=_("Evidence file"))
    description = forms.CharField(label=_("Description"), max_length=200, required=False)


class NoteForm(BootstrapMixin, forms.Form):
    text = forms.CharField(label=_("Note"), max_length=NOTE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2}))
    visibility = forms.ChoiceField(label=_("Who may read it"), choices=NoteVisibility.choices, required=False)

    def __init__(self, *args: Any, visibilities: tuple[str, ...] = (), **kwargs: Any) -> None:
        """``visibilities``: what the author may choose (cases/policy.note_visibilities), the first the default.
        With one choice only (the filer's notes are shared) the field is not offered."""
        super().__init__(*args, **kwargs)
        if len(visibilities) > 1:
            field = self.fields["visibility"]
            field.choices = [(v, label) for v, label in NoteVisibility.choices if v in visibilities]  # type: ignore[attr-defined]
            field.initial = visibilities[0]
        else:
            del self.fields["visibility"]


# --- Workflow actions -------------------------------------------------------------------------------------------


class SubmitForm(VersionForm):
    pass


class ReasonForm(VersionForm):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class WithdrawForm(ReasonForm):
    pass


class RejectForm(ReasonForm):
    duplicate_of = forms.CharField(label=_("Duplicate of (reference)"), required=False, max_length=20)


class ReferForm(VersionForm):
    target = forms.ChoiceField(
        label=_("Refer to"), choices=ReferralTarget.choices, initial=ReferralTarget.INTERNAL_UNIT
    )
    to_unit = UnitChoiceField(label=_("Handling unit"), queryset=OrgUnit.objects.none(), required=False)
    body_name = forms.CharField(label=_("Name of the outside body"), required=False, max_length=150)
    track = forms.ChoiceField(label=_("Track"), choices=Track.choices)
    due_at = forms.DateTimeField(
        label=_("Acknowledgement due"),
        required=False,
        widget=DATETIME_WIDGET,
        help_text=_("Leave empty for the default time limit."),
    )

    def __init__(self, *args: Any, units: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if units is not None:
            self.fields["to_unit"].queryset = units  # type: ignore[attr-defined]


class AcknowledgeForm(VersionForm):
    external_reference = forms.CharField(label=_("Handling unit's case number"), max_length=60)


class OverrideFieldsMixin:
    """For each open flag that must be overridden before the action (cases/overrides.py), its reason, explanation and
    legal basis, shown under the flag's rule; ``clean`` hands them to the service as ``overrides``.

    ``flags_shown`` carries the flags the page listed: a flag raised after the page was loaded gets its own message
    (the user has not seen it), and its fields ask for an override like the others; what was typed is kept.
    """

    FIELD = "override_{flag}_{part}"
    PARTS = ("reason", "text", "basis")

    def __init__(self, *args: Any, flags: Sequence[FlagView] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.override_flags = list(flags)
        fields = self.fields  # type: ignore[attr-defined]
        for flag in self.override_flags:
            fields[self._name(flag, "reason")] = forms.ChoiceField(
                label=_("Why the finding does not stand"),
                choices=[("", "---------"), *OverrideReason.choices],
                widget=forms.Select(attrs={"class": "form-select"}),
            )
            fields[self._name(flag, "text")] = forms.CharField(
                label=_("Explanation"),
                max_length=TEXT_MAX,
                widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
            )
            fields[self._name(flag, "basis")] = forms.CharField(
                label=_("Legal basis (required for a lawful reason)"),
                required=False,
                max_length=BASIS_MAX,
                widget=forms.TextInput(attrs={"class": "form-control"}),
            )
        fields["flags_shown"] = forms.CharField(
            widget=forms.HiddenInput,
            required=False,
            initial=",".join(str(f.flag_id) for f in self.override_flags),
        )

    def _name(self, flag: FlagView, part: str) -> str:
        return self.FIELD.format(flag=flag.flag_id, part=part)

    def plain_fields(self) -> list[forms.BoundField]:
        """The action's own fields (and the hidden list of flags shown), without the overrides."""
        override_names = {self._name(f, p) for f in self.override_flags for p in self.PARTS}
        return [self[name] for name in self.fields if name not in override_names]  # type: ignore[attr-defined,index]

    def override_groups(self) -> list[tuple[FlagView, list[forms.BoundField]]]:
        return [(f, [self[self._name(f, p)] for p in self.PARTS]) for f in self.override_flags]  # type: ignore[index]

    def clean(self) -> dict[str, Any]:
        data = super().clean()  # type: ignore[misc]
        shown = {part.strip() for part in str(data.pop("flags_shown", "") or "").split(",")}
        unseen = [f for f in self.override_flags if str(f.flag_id) not in shown]
        if unseen:
            self.add_error(  # type: ignore[attr-defined]
                None,
                _(
                    "A flag was raised on this case after the page was loaded: %(flags)s. Read it and give a reason "
                    "to override it too; nothing you typed is lost."
                )
                % {"flags": ", ".join(f"{f.rule_code} “{f.title}”" for f in unseen)},
            )
        overrides = []
        for flag in self.override_flags:
            values = {part: data.pop(self._name(flag, part), "") or "" for part in self.PARTS}
            for part, message in override_errors(**values).items():
                name = self._name(flag, part)
                if name not in self.errors:  # type: ignore[attr-defined]
                    self.add_error(name, message)  # type: ignore[attr-defined]
            overrides.append({"flag": flag.flag_id, **values})
        data["overrides"] = overrides
        return data


class ConcludeForm(OverrideFieldsMixin, VersionForm):
    no_suspect_reason = forms.ChoiceField(
        label=_("Why no suspect is identified"),
        choices=[("", "---------"), *NoSuspectReason.choices],
        required=False,
        help_text=_("Required when the case concludes without an identified suspect."),
    )
    reason = forms.CharField(
        label=_("Reason (if a suspect has no final disposition, or the reason above is “other”)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReopenForm(VersionForm):
    problem = forms.ChoiceField(label=_("Problem found"), choices=FindingProblem.choices)
    detail = forms.CharField(label=_("Detail"), widget=forms.Textarea(attrs={"rows": 2}))
    rectify_by = forms.DateField(label=_("Rectify by"), required=False, widget=DATE_WIDGET)


class CloseForm(OverrideFieldsMixin, VersionForm):
    officer_informed = forms.BooleanField(label=_("The officer has been informed of the outcome"), required=False)
    disposition_consistent = forms.BooleanField(label=_("The disposition is consistent with the facts"), required=False)
    support_delivered = forms.NullBooleanField(label=_("Support delivered"), required=False)
    clarification_issued = forms.NullBooleanField(label=_("Clarification issued where due"), required=False)
    notes = forms.CharField(label=_("Review notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class RecallForm(ReasonForm):
    campaign_year = forms.IntegerField(
        label=_("Look-back campaign year"), required=False, min_value=2019, max_value=2100
    )


# --- Handling (supervisor) --------------------------------------------------------------------------------------


class DispositionForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Suspect
        fields = [
            "disposition",
            "disposition_article",
            "sentence_months",
            "probation",
            "decided_at",
            "lowered_reason",
            "lenient_reason",
            "lenient_reason_detail",
        ]
        widgets = {
            "decided_at": DATE_WIDGET,
            "lowered_reason": forms.Textarea(attrs={"rows": 2}),
            "lenient_reason_detail": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "lenient_reason": _(
                "Required for an outcome below a criminal case, and for non-prosecution or exemption from punishment."
            ),
            "lenient_reason_detail": _("Required when the reason is “Other”."),
        }

    def _get_validation_exclusions(self) -> set[str]:
        # Whether a lenient outcome's reason is needed and complete is the service's to decide, next to the fields;
        # the model's constraints on the pair would only repeat it at the top of the form.
        return super()._get_validation_exclusions() | {"lenient_reason", "lenient_reason_detail"}  # type: ignore[misc]


class TransferForm(VersionForm):
    """A suspect not prosecuted or exempted, handed over for administrative punishment."""

    target = forms.ChoiceField(
        label=_("Transfer to"),
        choices=[(t.value, t.label) for t in (ReferralTarget.INTERNAL_UNIT, ReferralTarget.OTHER)],
        initial=ReferralTarget.INTERNAL_UNIT,
    )
    to_unit = UnitChoiceField(label=_("Public-security unit"), queryset=OrgUnit.objects.none(), required=False)
    body_name = forms.CharField(label=_("Name of the competent body"), required=False, max_length=150)

    def __init__(self, *args: Any, units: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if units is not None:
            self.fields["to_unit"].queryset = units  # type: ignore[attr-defined]


class SupportMeasureForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = SupportMeasure
        fields = ["kind", "officer", "status", "amount", "started_on", "delivered_on", "provider", "notes"]
        widgets = {"started_on": DATE_WIDGET, "delivered_on": DATE_WIDGET, "notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, case: Case | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["officer"].queryset = (  # type: ignore[attr-defined]
            InvolvedOfficer.objects.filter(case=case) if case else InvolvedOfficer.objects.none()
        )
        # Requests come from the officer and approving or declining answers one: neither is recorded here.
        self.fields["status"].choices = [c for c in SupportStatus.choices if c[0] in OFFICE_RECORDED_STATUSES]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # Named on its field here: left to the model, the same rule answers as a constraint naming no field.
        message = support_amount_error(data.get("kind", ""), data.get("amount"))
        if message:
            self.add_error("amount", message)
        return data


class SupportAnswerForm(VersionForm):
    """The office's answer to one support measure: the choices are those its status allows (SUPPORT_TRANSITIONS)."""

    answer = forms.ChoiceField(label=_("Answer"), choices=SupportAnswer.choices)
    reason = forms.CharField(
        label=_("Reason (the officer reads it)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when declining."),
    )
    provider = forms.CharField(
        label=_("Provided by"), required=False, max_length=200, help_text=_("Required when recording delivery.")
    )
    delivered_on = forms.DateField(label=_("Delivered on"), required=False, widget=DATE_WIDGET)

    def __init__(self, *args: Any, measure: SupportMeasure, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", f"answer-{measure.pk}")
        super().__init__(*args, **kwargs)
        allowed = SUPPORT_TRANSITIONS[SupportStatus(measure.status)]
        self.fields["answer"].choices = [  # type: ignore[attr-defined]
            (a, label) for a, label in SupportAnswer.choices if ANSWER_STATUS[SupportAnswer(a)] in allowed
        ]
        self.measure = measure


def answerable(measure: SupportMeasure) -> bool:
    """Whether the office has an answer left to give on this measure (it is not delivered, declined or refused)."""
    return any(ANSWER_STATUS[a] in SUPPORT_TRANSITIONS[SupportStatus(measure.status)] for a in SupportAnswer)


class FindingForm(BootstrapMixin, forms.Form):
    problem = forms.ChoiceField(label=_("Problem"), choices=FindingProblem.choices)
    detail = forms.CharField(label=_("Detail"), widget=forms.Textarea(attrs={"rows": 2}))
    rectify_by = forms.DateField(label=_("Rectify by"), required=False, widget=DATE_WIDGET)


class FaultFindingForm(VersionForm):
    """The legal-affairs department's finding on police fault; the service checks dates and the document rule. It
    carries the version of the case the supervisor saw: a finding supersedes the current one, so a stale tab or a
    second click must not silently replace a finding the supervisor never saw."""

    finding = forms.ChoiceField(label=_("Police fault found"), choices=FAULT_FINDING_CHOICES)
    department = forms.CharField(
        label=_("Department that made the finding"),
        max_length=DEPARTMENT_MAX,
        help_text=_("The legal-affairs department, e.g. “杭州市公安局法制支队”."),
    )
    found_on = forms.DateField(label=_("Date of the finding"), widget=DATE_WIDGET)
    document_reference = forms.CharField(
        label=_("Finding document number"),
        max_length=DOCUMENT_REFERENCE_MAX,
        required=False,
        help_text=_("Required when the fault found is considerable or serious."),
    )
    notes = forms.CharField(
        label=_("Notes"), max_length=NOTES_MAX, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class PauseForm(VersionForm):
    reason = forms.ChoiceField(label=_("Why is the clock paused?"), choices=PauseReason.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=200)


class ExtendDeadlineForm(VersionForm):
    approval_reference = forms.CharField(label=_("Approval reference"), max_length=100)
    reason = forms.CharField(
        label=_("Why more time is needed"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class AssignForm(VersionForm):
    assignee = forms.ModelChoiceField(label=_("Supervisor in charge"), queryset=None, required=False)  # type: ignore[var-annotated]

    def __init__(self, *args: Any, supervisors: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = supervisors  # type: ignore[attr-defined]


# --- Queue ------------------------------------------------------------------------------------------------------

INJURY_CHOICES = [("", _("Any"))] + [
    (str(rank), label) for value, label in InjuryGrade.choices if (rank := INJURY_RANK.get(value))
]


SEARCH_HELP = _(
    "Finds cases by reference or part of it, summary, what happened, location, 110 incident number, involved "
    "officer's name or badge number, suspect's name or exact ID number (where you may see it in full), or "
    "handling unit."
)


class SearchForm(forms.Form):
    """The global search in the top bar (cases/search.py)."""

    q = forms.CharField(label=_("Search cases"), max_length=100, help_text=SEARCH_HELP)


class QueueFilterForm(BootstrapMixin, forms.Form):
    # Fifteen fields and a hundred or more options on every queue page: rendered with Jinja2 (``{{ form }}``).
    default_renderer = IN_JINJA2
    template_name = "forms/stacked.html"

    status = forms.MultipleChoiceField(
        label=_("Status"),
        choices=[c for c in CaseStatus.choices if c[0] != CaseStatus.DRAFT],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Open cases when none is chosen."),
    )
    kind = forms.MultipleChoiceField(
        label=_("Incident type"), choices=IncidentKind.choices, required=False, widget=DisclosureCheckboxes
    )
    unit = ListedModelChoiceField(
        label=_("Unit"), queryset=OrgUnit.objects.none(), required=False, to_field_name="code"
    )
    flag = forms.MultipleChoiceField(
        label=_("Flag"), choices=FlagKind.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    injury = forms.TypedChoiceField(
        label=_("Injury at least"), choices=INJURY_CHOICES, coerce=int, required=False, empty_value=None
    )
    occurred_from = forms.DateField(label=_("Occurred from"), required=False, widget=DATE_WIDGET)
    occurred_to = forms.DateField(label=_("Occurred to"), required=False, widget=DATE_WIDGET)
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        help_text=SEARCH_HELP,
    )
    view = forms.ChoiceField(
        label=_("Show"),
        choices=[("all", _("All")), ("mine", _("Assigned to me")), ("unassigned", _("Unassigned"))],
        required=False,
    )
    due = forms.ChoiceField(
        label=_("Stage clock"),
        choices=[
            ("", _("Any")),
            (DUE_OVERDUE, _("Overdue")),
            (DUE_WEEK, _("Due within seven days")),
            (DUE_PAUSED, _("Clock paused")),
        ],
        required=False,
        help_text=_("A paused clock is neither overdue nor due: it is listed under “Clock paused”."),
    )
    submitted = forms.CharField(
        label=_("Submitted in"),
        required=False,
        max_length=7,
        help_text=_("A month written as year and month, for example 2026-03, or a whole year, for example 2026."),
    )
    awaiting = forms.BooleanField(label=_("Only cases with a referral awaiting acknowledgement"), required=False)
    awaiting_unit = forms.ModelChoiceField(
        label=_("Referral awaiting acknowledgement by the unit with this code"),
        queryset=OrgUnit.objects.all(),
        required=False,
        to_field_name="code",
        widget=forms.TextInput,
        error_messages={"invalid_choice": _("No unit has this code.")},
    )
    # The analysis's dimensions (cases/queue_filters.py DIMENSION_CHOICES): where each figure of the analysis links.
    scenario = forms.ChoiceField(
        label=_("Duty scenario"),
        choices=[("", _("Any")), *DIMENSION_CHOICES["scenario"]],
        required=False,
        help_text=_("Whatever the incident type; choose the type above for one type."),
    )
    place = forms.ChoiceField(
        label=_("Place category"), choices=[("", _("Any")), *DIMENSION_CHOICES["place"]], required=False
    )
    weapon = forms.ChoiceField(
        label=_("Weapon"), choices=[("", _("Any")), *DIMENSION_CHOICES["weapon"]], required=False
    )
    intox = forms.ChoiceField(
        label=_("Attacker intoxicated"), choices=[("", _("Any")), *DIMENSION_CHOICES["intox"]], required=False
    )
    crowd = forms.ChoiceField(
        label=_("Attackers"),
        choices=[("", _("Any")), *DIMENSION_CHOICES["crowd"]],
        required=False,
        help_text=_("Organised or incited comes first, whatever the number of attackers."),
    )
    weekday = forms.ChoiceField(
        label=_("Day of the week it occurred"),
        choices=[("", _("Any")), *DIMENSION_CHOICES["weekday"]],
        required=False,
        help_text=_("Local time."),
    )
    hour = forms.ChoiceField(
        label=_("Hour it occurred"),
        choices=[("", _("Any")), *DIMENSION_CHOICES["hour"]],
        required=False,
        help_text=_("Local time."),
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        choices=[
            ("activity", _("Latest activity")),
            ("due", _("Stage deadline")),
            ("occurred", _("Incident date")),
            ("created", _("Filing date")),
        ],
        required=False,
    )
    dir = forms.ChoiceField(
        label=_("Order"),
        choices=[("", _("Usual order")), ("asc", _("Ascending")), ("desc", _("Descending"))],
        required=False,
    )

    def __init__(self, *args: Any, units: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if units is not None:
            self.fields["unit"].queryset = units  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("occurred_from"), data.get("occurred_to")
        if start and end and start > end:
            self.add_error("occurred_to", _("The end date is before the start date."))
        try:
            weekhour_code(data.get("weekday") or "", data.get("hour") or "")
        except UnknownCode:
            self.add_error("hour", _("A case whose time is not recorded has no hour: choose a day, or no hour."))
        return data

    def clean_submitted(self) -> tuple[datetime, datetime] | None:
        value = (self.cleaned_data.get("submitted") or "").strip()
        if not value:
            return None
        period = period_range(value)
        if period is None:
            raise forms.ValidationError(
                _("Write a month as year and month, for example 2026-03, or a year, for example 2026."), code="invalid"
            )
        return period


class DashboardForm(BootstrapMixin, forms.Form):
    """The dashboard's unit picker and the sub-unit table's sort. A unit outside the actor's units is refused, never
    replaced by a wider one."""

    unit = forms.ModelChoiceField(
        label=_("Unit"),
        queryset=OrgUnit.objects.none(),
        required=False,
        to_field_name="code",
        empty_label=_("All my units"),
        error_messages={"invalid_choice": _("Choose one of your own units; that unit is not among them.")},
    )
    sort = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, units: Any, sorts: Sequence[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]
        self.sorts = {*sorts, *(f"-{s}" for s in sorts)}

    def clean_sort(self) -> str:
        """A column heading's link: an order that is not one of them falls back to the default (by unit)."""
        value = self.cleaned_data.get("sort") or ""
        return value if value in self.sorts else ""

    def offer(self, picker: Iterable[OrgUnit]) -> None:
        """The units the list shows; every unit of the queryset is accepted (the sub-unit table links further down)."""
        field = self.fields["unit"]
        field.widget.choices = [("", field.empty_label)] + [(u.code, str(u)) for u in picker]  # type: ignore[attr-defined]


class SaveFilterForm(BootstrapMixin, forms.Form):
    default_renderer = IN_JINJA2  # on every queue page, beside the filters

    name = forms.CharField(
        label=_("Name this filter"),
        max_length=60,
        widget=forms.TextInput(attrs={"placeholder": _("Name this filter")}),
        error_messages={"required": _("Give the filter a name.")},
    )
    query = forms.CharField(widget=forms.HiddenInput, required=False, max_length=1000)
    shared = forms.BooleanField(label=_("Share with my unit"), required=False)


# --- Bulk work on the queue ---------------------------------------------------------------------------------------

BULK_MAX = 100  # cases one bulk request may act on
# One ticked case as the queue page sends it: ``id:version``, ASCII digits, the id at most 12 and the version 9 long.
SELECTION_ITEM = re.compile(r"(?P<pk>[0-9]{1,12}):(?P<version>[0-9]{1,9})", re.ASCII)


class BulkSelectionForm(forms.Form):
    """The cases ticked on the queue page, each as ``id:version`` (the version the user saw, so a case changed by
    someone else since is refused rather than acted on blindly), and the action chosen."""

    action = forms.ChoiceField(
        label=_("With the selected cases"),
        choices=[("assign", _("Assign")), ("refer", _("Refer")), ("note", _("Add a note"))],
    )
    back = forms.CharField(required=False, max_length=1000, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["action"].widget.attrs["class"] = "form-select form-select-sm"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        picked: dict[int, int] = {}  # case id -> version seen, in the order sent; a repeated id counts once
        for value in self.data.getlist("case"):  # type: ignore[attr-defined]
            # ASCII digits only: str.isdigit() also takes superscripts (int() then fails) and other scripts' digits.
            match = SELECTION_ITEM.fullmatch(str(value))
            if match is None:
                raise forms.ValidationError(_("The selection was not sent by the queue page. Select the cases again."))
            picked.setdefault(int(match["pk"]), int(match["version"]))
        if not picked:
            raise forms.ValidationError(_("Select at least one case."))
        if len(picked) > BULK_MAX:
            raise forms.ValidationError(
                _("You selected %(n)s cases; select at most %(max)s at a time.") % {"n": len(picked), "max": BULK_MAX}
            )
        data["cases"] = list(picked.items())
        return data


class BulkAssignForm(BootstrapMixin, forms.Form):
    assignee: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Supervisor in charge"),
        queryset=None,
        required=False,
        empty_label=_("Nobody (unassigned)"),
    )

    def __init__(self, *args: Any, supervisors: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = supervisors  # type: ignore[attr-defined]


class BulkReferForm(ReferForm):
    """The case page's referral fields, without its version: each case carries its own."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["version"]


class BulkNoteForm(BootstrapMixin, forms.Form):
    text = forms.CharField(label=_("Note"), max_length=NOTE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3}))
    visibility = forms.ChoiceField(label=_("Who may read it"), choices=NoteVisibility.choices)
