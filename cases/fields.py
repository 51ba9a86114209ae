"""Field encryption at rest: suspects' ID numbers are stored as Fernet tokens, never as plain text.

The keys come from ``RIGHTSGUARD_FIELD_KEY`` (``settings.RIGHTSGUARD_FIELD_KEYS``): a comma-separated list of
Fernet keys. The first encrypts; every key decrypts, so a key is rotated by putting the new one first and keeping
the old ones for as long as rows written with them remain (a row is re-encrypted with the first key whenever it is
saved). Without the keys a database dump or a backup shows no ID number: keep them apart from the backups.

A token differs on every write (random IV), so an encrypted column cannot be searched or compared in SQL: the field
refuses every lookup but ``isnull``. Empty values stay empty (nothing to protect, and blank stays blank).
"""

from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import models
from django.dispatch import receiver

FERNET_START = "gAAAAA"  # every Fernet token starts with its version byte and a timestamp's leading zeros


@cache
def _fernet() -> MultiFernet:
    keys = settings.RIGHTSGUARD_FIELD_KEYS
    if not keys:
        raise ImproperlyConfigured("RIGHTSGUARD_FIELD_KEY is not set.")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured("RIGHTSGUARD_FIELD_KEY holds a value that is not a Fernet key.") from exc


@receiver(setting_changed)
def _keys_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "RIGHTSGUARD_FIELD_KEYS":
        _fernet.cache_clear()


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode() if value else value


def decrypt(token: str) -> str:
    if not token:
        return token
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        # Never fall back to showing the stored text: it is either a token of a lost key or damaged.
        raise ImproperlyConfigured("A stored value cannot be decrypted with any key of RIGHTSGUARD_FIELD_KEY.") from exc


def is_token(value: str) -> bool:
    """Whether a stored value is already a token of one of the keys (the migration's and rotation's test)."""
    if not value or not value.startswith(FERNET_START):
        return False
    try:
        _fernet().decrypt(value.encode())
    except InvalidToken:
        return False
    return True


class EncryptedCharField(models.CharField):
    """A CharField in Python and in forms (``max_length`` validates the plain text); a text column of Fernet
    tokens in the database."""

    def get_internal_type(self) -> str:
        return "TextField"  # a token is about four times as long as its plain text, whatever max_length says

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        return decrypt(value) if value is not None else value

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        value = super().get_db_prep_value(value, connection, prepared)
        return encrypt(value) if isinstance(value, str) else value

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name != "isnull":
            raise FieldError(f"{self.name} is encrypted: it cannot be filtered with '{lookup_name}'.")
        return super().get_lookup(lookup_name)
