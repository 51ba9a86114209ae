"""The Simplified Chinese catalogue is complete and is what Django serves (pure: no database).

The ``.po`` file is parsed here with a small reader (no polib); the ``.mo`` file is gitignored, so it is compiled
first when it is missing or older than the ``.po`` file, as ``make setup`` would.
"""

import ast
import contextlib
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import models
from django.utils import translation

from accounts import models as account_models
from cases import choices
from cases.workflow import TRANSITIONS

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
PO_FILE = LOCALE_DIR / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO_FILE = PO_FILE.with_suffix(".mo")

_KEYWORD = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(\".*\")\s*$")
_PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]")


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)

    @property
    def label(self) -> str:
        return f"{self.msgctxt}\x04{self.msgid}" if self.msgctxt is not None else self.msgid


def _unquote(literal: str) -> str:
    # PO strings use C escapes; those that occur in practice (\n \t \" \\) read the same as Python literals.
    return ast.literal_eval(literal)


def parse_po(text: str) -> list[Entry]:
    """Entries of a PO file, header first. Obsolete (``#~``) entries are skipped."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int] | None = None

    def finish() -> None:
        nonlocal current, target
        if current is not None and current.msgstr:
            entries.append(current)
        current, target = None, None

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            continue
        starts_entry = line.startswith("#") or line.startswith(("msgctxt ", "msgid "))
        if starts_entry and current is not None and current.msgstr:
            finish()  # makemessages may put no blank line between the header and the first entry
        if current is None:
            current = Entry()
        if line.startswith("#,"):
            current.flags |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
            continue
        if line.startswith("#"):
            continue
        match = _KEYWORD.match(line)
        if match:
            keyword, literal = match.groups()
            if keyword.startswith("msgstr"):
                index = int(keyword[7:-1]) if "[" in keyword else 0
                target = ("msgstr", index)
                current.msgstr[index] = _unquote(literal)
            else:
                target = (keyword, 0)
                setattr(current, keyword, _unquote(literal))
            continue
        if not line.startswith('"') or target is None:
            raise ValueError(f"unexpected PO line: {raw!r}")
        name, index = target
        if name == "msgstr":
            current.msgstr[index] += _unquote(line)
        else:
            setattr(current, name, getattr(current, name) + _unquote(line))
    finish()
    return entries


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    assert PO_FILE.exists(), f"{PO_FILE} is missing; run makemessages -l zh_Hans"
    parsed = parse_po(PO_FILE.read_text(encoding="utf-8"))
    assert parsed, "the catalogue is empty"
    assert parsed[0].msgid == "", "the catalogue has no header entry"
    return parsed


@pytest.fixture(scope="module")
def messages(entries: list[Entry]) -> list[Entry]:
    return entries[1:]


@pytest.fixture(scope="module")
def compiled_catalogue() -> None:
    """Compile the catalogue when the .mo is missing or stale, and make Django read the fresh file."""
    if MO_FILE.exists() and MO_FILE.stat().st_mtime >= PO_FILE.stat().st_mtime:
        return
    with contextlib.chdir(settings.BASE_DIR):
        call_command("compilemessages", locale=["zh_Hans"], ignore_patterns=[".venv", "node_modules"], verbosity=0)
    assert MO_FILE.exists()
    # A catalogue read earlier in this process would otherwise be served from the gettext and Django caches.
    for key in [k for k in gettext._translations if str(k[1]).startswith(str(LOCALE_DIR))]:
        del gettext._translations[key]
    from django.utils.translation import trans_real

    trans_real._translations = {}
    trans_real._default = None
    trans_real.translation_catalog_exists.cache_clear()


def test_header_declares_simplified_chinese(entries: list[Entry]):
    header = entries[0]
    assert "fuzzy" not in header.flags
    fields = dict(line.split(": ", 1) for line in header.msgstr[0].splitlines() if ": " in line)
    assert fields.get("Language") == "zh_Hans"
    assert "charset=UTF-8" in fields.get("Content-Type", "")
    assert fields.get("Plural-Forms", "").replace(" ", "") == "nplurals=1;plural=0;"


def test_no_entry_is_untranslated(messages: list[Entry]):
    untranslated = [e.label for e in messages if not e.msgstr or not all(s.strip() for s in e.msgstr.values())]
    assert untranslated == []


def test_no_entry_is_fuzzy(messages: list[Entry]):
    assert [e.label for e in messages if "fuzzy" in e.flags] == []


def test_plural_entries_have_the_single_chinese_form(messages: list[Entry]):
    assert [e.label for e in messages if e.msgid_plural is not None and set(e.msgstr) != {0}] == []


def test_placeholders_and_line_structure_are_kept(messages: list[Entry]):
    broken = [
        e.label
        for e in messages
        for s in e.msgstr.values()
        if sorted(_PLACEHOLDER.findall(s)) != sorted(_PLACEHOLDER.findall(e.msgid))
        or s.count("\n") != e.msgid.count("\n")
    ]
    assert broken == []


def _choice_labels() -> list[tuple[str, object]]:
    enums = [
        value
        for module in (choices, account_models)
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, models.Choices) and value.__module__ == module.__name__
    ]
    assert enums, "no enumerations found"
    return [(f"{enum.__name__}.{member.name}", member.label) for enum in enums for member in enum]


def _transition_texts() -> list[tuple[str, object]]:
    return [(f"{action}.label", t.label) for action, t in TRANSITIONS.items()] + [
        (f"{action}.requires", t.requires) for action, t in TRANSITIONS.items()
    ]


LABELS = _choice_labels() + _transition_texts()


@pytest.mark.usefixtures("compiled_catalogue")
@pytest.mark.parametrize(("name", "text"), LABELS, ids=[name for name, _ in LABELS])
def test_label_is_translated(name: str, text: object):
    with translation.override("en"):
        english = str(text)
    with translation.override("zh-hans"):
        chinese = str(text)
    assert chinese != english, f"{name} ({english!r}) is not translated"
    assert re.search(r"[\u4e00-\u9fff]", chinese), f"{name} translates to {chinese!r}, which has no Chinese"


@pytest.mark.usefixtures("compiled_catalogue")
def test_glossary_terms():
    """A few terms fixed by the domain glossary (research/domain.md §5, §6)."""
    expected = {
        choices.CaseStatus.INTAKE: "受理",
        choices.CaseStatus.LOOK_BACK: "回头看",
        choices.InjuryGrade.MINOR_2: "轻伤二级",
        choices.Disposition.MEDIATION: "治安调解",
        choices.SupportKind.GREEN_CHANNEL: "紧急救治绿色通道",
    }
    with translation.override("zh-hans"):
        assert {member: str(member.label) for member in expected} == expected
        assert str(TRANSITIONS["recall"].label) == "调回复查"
