"""Field encryption at rest: suspects' ID numbers are stored as Fernet tokens, never as plain text.

The keys come from ``RIGHTSGUARD_FIELD_KEY`` (``settings.RIGHTSGUARD_FIELD_KEYS``): a comma-separated list of
Fernet keys. The first encrypts; every key decrypts, so a key is rotated by putting the new one first and keeping
the old ones for as long as rows written with them remain (a row is re-encrypted with the first key whenever it is
saved). Without the keys a database dump or a backup shows no ID number: keep them apart from the backups.

A token differs on every write (random IV), so an encrypted column cannot be searched or compared in SQL: the field
refuses every lookup but ``isnull``. Empty values stay empty (nothing to protect, and blank stays blank).

An ID number is still found by exact match, through a keyed blind index (``blind_index``): HMAC-SHA256 of the
normalised number (full-width characters as ASCII, spaces removed, upper case) under a key of its own
(``RIGHTSGUARD_BLIND_INDEX_KEY``, by default derived with HKDF from the first field key, never that key itself),
stored beside the token (``Suspect.id_number_index``). Equal numbers have equal digests, so the column answers
"which suspects have this number" and nothing else: no part of a number, no order, and without the key not even a
guess can be checked.
"""

import base64
import hashlib
import hmac
import re
import unicodedata
from collections.abc import Callable
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
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
    if setting in ("RIGHTSGUARD_FIELD_KEYS", "RIGHTSGUARD_BLIND_INDEX_KEY"):
        _fernet.cache_clear()
        _blind_index_key.cache_clear()


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


BLIND_INDEX_INFO = b"rightsguard blind index of ID numbers v1"
_SPACES = re.compile(r"\s+")


@cache
def _blind_index_key() -> bytes:
    configured = settings.RIGHTSGUARD_BLIND_INDEX_KEY
    if configured:
        return configured.encode()
    keys = settings.RIGHTSGUARD_FIELD_KEYS
    if not keys:
        raise ImproperlyConfigured("RIGHTSGUARD_FIELD_KEY is not set.")
    # A key of its own for the index: HKDF expands the field key's bytes under a purpose label, so the index key
    # tells nothing about the encryption key and the other way round.
    field_key = base64.urlsafe_b64decode(keys[0])
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=BLIND_INDEX_INFO).derive(field_key)


# A first-generation resident ID number: 6 digits of the address code, the birth date as YYMMDD, 3 digits of sequence.
_FIRST_GENERATION = re.compile(r"[0-9]{15}")
# GB 11643-1999: the check digit of an 18-digit number, ISO 7064 MOD 11-2 over its first 17 digits.
_CHECK_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_DIGITS = "10X98765432"


def second_generation(first: str) -> str:
    """The 18-digit form of a 15-digit first-generation number, as the public security organs converted them when the
    18-digit numbers were introduced (GB 11643-1999): the century 19 put before the two-digit birth year, and the
    check digit appended. The first-generation cards were issued to people born in the twentieth century."""
    body = f"{first[:6]}19{first[6:]}"
    return body + _CHECK_DIGITS[sum(int(d) * w for d, w in zip(body, _CHECK_WEIGHTS, strict=True)) % 11]


def normalise_id_number_v1(value: str) -> str:
    """The rule before first-generation numbers were read as their 18-digit form (migration cases 0040 goes back
    to it)."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", value)).upper()


def normalise_id_number_v2(value: str) -> str:
    """The rule before invisible format characters were left out (migration cases 0043 goes back to it)."""
    normalised = normalise_id_number_v1(value)
    return second_generation(normalised) if _FIRST_GENERATION.fullmatch(normalised) else normalised


def normalise_id_number(value: str) -> str:
    """An ID number as the index compares it: full-width digits and letters as their ASCII forms (NFKC: a Chinese
    input method in full-width mode types ``１１０１…``), without spaces (an ideographic space too) and without the
    invisible format characters a number copied from a web page, a document or a chat carries unseen (Unicode's
    category Cf: zero-width space and joiners, byte order mark, direction marks, soft hyphen), upper case (a final
    ``x`` is ``X``); a 15-digit first-generation number in its 18-digit form (``second_generation``), so that a
    suspect recorded under the old card's number is found, and matched as a repeat attacker, by the new one."""
    return normalise_id_number_v2("".join(c for c in value if unicodedata.category(c) != "Cf"))


def blind_index(value: str, *, normalise: Callable[[str], str] = normalise_id_number) -> str:
    """The keyed digest (64 hex digits) the ID number is found by; empty for an empty number."""
    normalised = normalise(value or "")
    if not normalised:
        return ""
    return hmac.new(_blind_index_key(), normalised.encode(), hashlib.sha256).hexdigest()


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


def rebuild_id_number_index(
    connection: Any, *, batch: int = 5000, normalise: Callable[[str], str] = normalise_id_number
) -> int:
    """Recompute every suspect's ``id_number_index`` from its ID number in plain SQL (the migration that added the
    column, and ``manage.py rebuild_blind_index`` after the index key changed); returns how many rows changed.
    Reads id ranges in batches, so a million suspects never sit in memory at once."""
    return _rewrite_suspects(
        connection,
        "id_number_index",
        lambda token, old: blind_index(decrypt(token), normalise=normalise),
        batch=batch,
    )


def reencrypt_id_numbers(connection: Any, *, batch: int = 5000) -> int:
    """Re-encrypt every suspect's ID number with the first field key (``manage.py rotate_field_key``), so that the
    older keys can then be dropped; returns how many rows were rewritten. An empty number stays empty."""
    fernet = _fernet()
    return _rewrite_suspects(
        connection,
        "id_number",
        lambda token, old: fernet.rotate(token.encode()).decode() if token else token,
        batch=batch,
    )


def _rewrite_suspects(connection: Any, column: str, compute: Callable[[str, str], str], *, batch: int) -> int:
    """Set ``column`` of every suspect to ``compute(stored ID-number token, column's value)`` where it differs, in
    id-ordered batches; returns how many rows changed."""
    table = connection.ops.quote_name("cases_suspect")
    target = connection.ops.quote_name(column)
    changed, last = 0, 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, id_number, {target} FROM {table} WHERE id > %s ORDER BY id LIMIT %s",  # noqa: S608
                [last, batch],
            )
            rows = cursor.fetchall()
        if not rows:
            return changed
        last = rows[-1][0]
        updates = [(new, pk) for pk, token, old in rows if (new := compute(token, old)) != old]
        if not updates:
            continue
        changed += len(updates)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                values = ", ".join(["(%s::bigint, %s::text)"] * len(updates))
                cursor.execute(
                    f"UPDATE {table} AS s SET {target} = v.value FROM (VALUES {values}) AS v(id, value) "  # noqa: S608
                    "WHERE s.id = v.id",
                    [x for new, pk in updates for x in (pk, new)],
                )
            else:
                cursor.executemany(f"UPDATE {table} SET {target} = %s WHERE id = %s", updates)  # noqa: S608
