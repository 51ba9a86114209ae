"""What a user may act on: a frozen snapshot of their roles and the subtrees they cover. Pure, no queries."""

from dataclasses import dataclass

from accounts.models import Role


@dataclass(frozen=True)
class Grant:
    role: str
    path: str  # the unit's materialised path; the grant covers every path below it


@dataclass(frozen=True)
class Actor:
    user_id: int
    is_active: bool
    grants: tuple[Grant, ...] = ()

    def covers(self, role: str, path: str) -> bool:
        """Whether a grant of ``role`` covers the unit at ``path``."""
        return self.is_active and any(g.role == role and path.startswith(g.path) for g in self.grants)

    def paths_for(self, *roles: str) -> tuple[str, ...]:
        return tuple(g.path for g in self.grants if g.role in roles)

    @property
    def is_officer(self) -> bool:
        return any(g.role == Role.OFFICER for g in self.grants)

    @property
    def is_integration(self) -> bool:
        """Another system's account (accounts/integration.py): it holds integration grants and nothing else."""
        return any(g.role == Role.INTEGRATION for g in self.grants)


SYSTEM = Actor(user_id=0, is_active=True, grants=())
ANONYMOUS = Actor(user_id=0, is_active=False, grants=())  # no user: may do and see nothing
