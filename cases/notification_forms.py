"""The notification list's filters and the notification settings form. They parse and validate; the selectors read
and the services write."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.choices import PREFERENCE_KINDS, NotificationDelivery, NotificationKind
from cases.forms import BootstrapMixin
from cases.selectors import InboxFilters

SHOW_UNREAD, SHOW_READ = "unread", "read"


class InboxFilterForm(BootstrapMixin, forms.Form):
    show = forms.ChoiceField(
        label=_("Show"),
        choices=[("", _("All notifications")), (SHOW_UNREAD, _("Unread only")), (SHOW_READ, _("Read only"))],
        required=False,
    )
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[("", _("Every kind")), *NotificationKind.choices], required=False
    )
    page = forms.IntegerField(label=_("Page"), min_value=1, max_value=1_000_000, required=False)

    def filters(self) -> InboxFilters:
        """The chosen filters; none for a form that is not valid."""
        if not self.is_bound or not self.is_valid():
            return InboxFilters()
        show = self.cleaned_data.get("show")
        unread = True if show == SHOW_UNREAD else False if show == SHOW_READ else None
        return InboxFilters(unread=unread, kind=self.cleaned_data.get("kind") or "")


class NotificationPreferencesForm(forms.Form):
    """One choice per kind of notification: e-mail at once, the daily digest, or in-app only. The form only reads
    what was chosen; whether it may be saved is the service's rule (``set_notification_preferences``), the same for
    the API, and its messages are put next to their fields."""

    def __init__(self, *args: Any, current: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind in PREFERENCE_KINDS:
            self.fields[kind] = forms.CharField(
                label=NotificationKind(kind).label,
                required=False,
                initial=current.get(kind, NotificationDelivery.EMAIL),
                widget=forms.RadioSelect(choices=NotificationDelivery.choices),
            )
