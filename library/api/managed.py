"""What the editors' and approvers' endpoints of the typical cases (library/api/views.py) and of the guidance tips
(library/api/tips_manage.py) share: the view of one object the caller manages. Whoever manages nothing of its kind is
refused (403); an object they do not manage is a 404, looked up before the body is read; a step they may not take on
it a 403, refused before the body is read too, so that the answer never depends on what was sent."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.functional import Promise
from rest_framework.request import Request

from accounts.authority import Actor
from accounts.requests import ApiRequest
from cases.api.views import ApiView


@dataclass(frozen=True)
class Managing:
    """One kind of material, as its editors' endpoints find and guard it."""

    require_manager: Callable[[ApiRequest], None]  # refuses (403) whoever manages none of it
    managed: Callable[[Actor], QuerySet[Any]]  # what the actor manages
    may_take: Callable[[Actor, Any, str], bool]  # whether the actor's role lets them take a step on it
    refusals: Mapping[str, Promise]  # by step: who may


class ManagedView(ApiView):
    """Views of one object the caller manages (``managed_object``), or 404."""

    managing: ClassVar[Managing]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.managing.require_manager(self.request)
        self.managed_object = get_object_or_404(self.managing.managed(self.request.actor), pk=self.kwargs["pk"])

    def require(self, action: str) -> None:
        """Refuse (403) a step the caller's role does not let them take on the object."""
        if not self.managing.may_take(self.request.actor, self.managed_object, action):
            raise PermissionDenied(str(self.managing.refusals[action]))
