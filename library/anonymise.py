"""Anonymisation of a typical case's write-up: what in a text identifies a person or the source case, and what it could
be replaced by. Pure: the case's parties are passed in (``known_from`` turns ``cases.selectors.case_parties`` into
what is looked for), nothing here reads the database.

Two sources of findings:

1. **The case's own data.** Every name the case gives an officer, a suspect or a witness is looked for wherever it
   appears, in full and in its surname forms (张某, 张某某, and 张警官 for an officer); so are their ID numbers, phone
   numbers and badge numbers, the case's reference, its 110 incident number and the case numbers the bodies it was
   referred to gave it. Names are replaced by roles (民警甲/乙,
   嫌疑人A/B, 证人甲 in a Chinese text; Officer A, Suspect A, Witness A in an English one), numbers by what they are.
2. **Patterns.** ID numbers (18 digits, the last may be X, with a plausible date of birth; 15 digits), mobile numbers
   (11 digits from 13…19, optionally after +86 or 0086) and landlines (0571-…), vehicle plates (浙A·12345, 浙AD12345),
   exact addresses below district level (…路88号3栋2单元501室, Room 501) and full dates (2026年3月5日 → 2026年3月,
   2026-03-05 → 2026-03, 5 March 2026 → March 2026).

Every text is normalised first, character by character so that positions map back to the original (``fold``):
full-width digits, letters and spaces become half-width (Unicode compatibility decomposition), accents and other
combining marks are dropped, characters that show nothing (zero-width spaces and joiners, soft hyphens, direction
marks) are skipped, the Cyrillic and Greek letters that look like Latin ones are read as those, digits of any script
become 0-9, and a run of five or more Chinese numerals (一三九…, 〇, 幺, 壹贰叁…) is read as the number it spells.
Latin letters are matched whatever their case, numbers across the spaces, hyphens, minus signs and dots people type
inside them (138 1234 5678, 330106 - 1990…), names across the spaces and dots typed inside them (张 三, 买买提•艾力),
the case's reference also without its letters (2026-000459). What shows nothing, or steers the direction a text is
shown in (a right-to-left override shows 三张 as 张三), is taken out of every text written into a write-up
(``clean``, library/services.py), so what the check reads is what a reader sees.

``propose`` gives every finding with its replacement (the editor sees them as a diff and accepts or edits them);
``leftovers`` gives the findings that must not remain in a published text (names, ID numbers, phone numbers, plates,
badge numbers, the case's reference): the service refuses to send a write-up on while there is one
(``library.services.check_anonymised``). Addresses and dates are proposed, never refused: a street or a month may be
what the lesson is about.

What it cannot catch (the editor's review and the administrator's approval are there for it): a name the case does
not record (a witness, a bystander, a relative), a nickname or a name misspelt, a person called by the surname
alone or with 老/小 (老张), or by the given name alone (小磊 for 王小磊), a name written with other characters of
the same sound (张叁) or with a variant character outside OpenCC's traditional-to-simplified table (a name in
traditional characters, 張三, is read as 张三); a Chinese name written in pinyin in an English text; a number with
letters for the digits they look like (O for 0, l for 1), or written in words (一百三十九…); an identifying detail in
words (a rare job, a famous place, "the son of the county head"); a plate or an address in a format not listed
above; a picture.
"""

import re
import unicodedata
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.selectors import CaseParties


class Kind(models.TextChoices):
    """What a finding is (the API names it by its value)."""

    OFFICER_NAME = "officer_name", _("Officer's name")
    SUSPECT_NAME = "suspect_name", _("Suspect's name")
    WITNESS_NAME = "witness_name", _("Witness's name")
    ID_NUMBER = "id_number", _("ID number")
    PHONE = "phone", _("Phone number")
    PLATE = "plate", _("Vehicle plate")
    BADGE = "badge", _("Badge number")
    REFERENCE = "reference", _("Case reference")
    ADDRESS = "address", _("Exact address")
    DATE = "date", _("Full date")


# What may never remain in a text sent for approval or published.
REFUSED = frozenset(
    {
        Kind.OFFICER_NAME,
        Kind.SUSPECT_NAME,
        Kind.WITNESS_NAME,
        Kind.ID_NUMBER,
        Kind.PHONE,
        Kind.PLATE,
        Kind.BADGE,
        Kind.REFERENCE,
    }
)
NAME_KINDS = {"officer": Kind.OFFICER_NAME, "suspect": Kind.SUSPECT_NAME, "witness": Kind.WITNESS_NAME}

# --- the parties looked for ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    role: str  # "officer", "suspect" or "witness"
    index: int  # 0 for the first of the role: 民警甲, Suspect A
    names: tuple[str, ...]
    id_numbers: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    badges: tuple[str, ...] = ()


@dataclass(frozen=True)
class Known:
    """Everything of the source case that must not remain in a write-up."""

    people: tuple[Person, ...] = ()
    # The case's reference, its 110 incident number, the case numbers the bodies it was referred to gave it.
    references: tuple[str, ...] = ()
    plates: tuple[str, ...] = ()


# What a case records where a name is not known: never looked for as a name.
NOT_NAMES = frozenset({"不详", "未知", "无名氏", "姓名不详", "身份不明", "不明", "unknown", "n/a", "none"})


def _is_name(name: str) -> bool:
    name = unicodedata.normalize("NFKC", name).strip()
    return bool(name) and name.lower() not in NOT_NAMES and "不详" not in name and "未知" not in name


def _reference_forms(reference: str) -> tuple[str, ...]:
    """A reference as a text may give it: in full, and without the letters it starts with (RG-2026-000459 as
    2026-000459) when what is left is still too long to be an ordinary number."""
    digits = re.sub(r"^[A-Z]+", "", compact(reference))
    return (reference, digits) if digits != compact(reference) and len(digits) >= 8 else (reference,)


def known_from(parties: CaseParties) -> Known:
    people: list[Person] = []
    for role, listed in (("suspect", parties.suspects), ("officer", parties.officers), ("witness", parties.witnesses)):
        for index, party in enumerate(listed):
            people.append(
                Person(
                    role=role,
                    index=index,
                    names=tuple(n for n in (party.name, *party.other_names) if _is_name(n)),
                    id_numbers=(party.id_number,) if party.id_number.strip() else (),
                    phones=(party.phone,) if party.phone.strip() else (),
                    badges=(party.badge_number,) if party.badge_number.strip() else (),
                )
            )
    return Known(
        people=tuple(people),
        references=tuple(
            form
            for r in (parties.reference, parties.dispatch_ref, *parties.handling_references)
            if r.strip()
            for form in _reference_forms(r)
        ),
        plates=tuple(p for p in parties.plates if p.strip()),
    )


# --- roles -------------------------------------------------------------------------------------------------------

STEMS = "甲乙丙丁戊己庚辛壬癸"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# The word a Chinese text puts before a person's name, which the role already says: 嫌疑人张某 → 嫌疑人A, not
# 嫌疑人嫌疑人A. Longest first.
ROLE_WORDS_ZH = {
    "officer": ("民警", "辅警", "警官"),
    "suspect": ("犯罪嫌疑人", "违法嫌疑人", "嫌疑人"),
    "witness": ("证人",),
}
ROLE_WORDS_EN = {"officer": ("officer ",), "suspect": ("suspect ",), "witness": ("witness ",)}


def _nth(alphabet: str, index: int) -> str:
    return alphabet[index] if index < len(alphabet) else f"{alphabet[index % len(alphabet)]}{index // len(alphabet)}"


def role_label(person: Person, language: str, *, bare: bool = False) -> str:
    """民警甲, 嫌疑人A, 证人甲 in Chinese; Officer A, Suspect A, Witness A in English. ``bare``: the letter or stem
    alone, after a role word the text already has."""
    if language == "zh":
        mark = _nth(LETTERS, person.index) if person.role == "suspect" else _nth(STEMS, person.index)
        word = {"officer": "民警", "suspect": "嫌疑人", "witness": "证人"}[person.role]
    else:
        mark = _nth(LETTERS, person.index)
        word = {"officer": "Officer ", "suspect": "Suspect ", "witness": "Witness "}[person.role]
    return mark if bare else f"{word}{mark}"


NUMBER_LABELS = {
    "zh": {
        Kind.ID_NUMBER: "[身份证号]",
        Kind.PHONE: "[电话号码]",
        Kind.PLATE: "[车牌号]",
        Kind.BADGE: "[警号]",
        Kind.REFERENCE: "[案件编号]",
        Kind.ADDRESS: "某处",
    },
    "en": {
        Kind.ID_NUMBER: "[ID number]",
        Kind.PHONE: "[phone number]",
        Kind.PLATE: "[plate number]",
        Kind.BADGE: "[badge number]",
        Kind.REFERENCE: "[case reference]",
        Kind.ADDRESS: "[address]",
    },
}

# --- normalising -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Folded:
    """A text normalised character by character (``fold``), with the original position of every character."""

    text: str
    origin: tuple[int, ...]
    length: int  # of the original

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of the folded span [start, end)."""
        first = self.origin[start]
        last = self.origin[end - 1] + 1 if end > start else first
        return first, last


def invisible(ch: str) -> bool:
    """A character that shows nothing, or steers how the text around it is shown: zero-width spaces and joiners, soft
    hyphens, byte order marks, direction marks, overrides and isolates (Unicode's format characters), and the control
    characters other than line breaks and tabs."""
    category = unicodedata.category(ch)
    return category == "Cf" or (category == "Cc" and not ch.isspace())


def clean(text: str) -> str:
    """``text`` without its invisible characters: what the texts of a write-up are written as, so that what the check
    reads is what a reader sees (a right-to-left override shows 三张 as 张三 while the text holds 三张)."""
    return "".join(ch for ch in text if not invisible(ch))


# The Cyrillic and Greek letters that look like Latin ones, read as those: a name typed with one is still the name.
LOOKALIKES = str.maketrans(
    "аеорсухіјѕԁԛԝһӏАВЕКМНОРСТУХІЈЅԚԜαενορτυχικΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
    "aeopcyxijsdqwhlABEKMHOPCTYXIJSQWaevoptuxikABEZHIKMNOPTYX",
)


# Traditional characters as their simplified forms, one for one (OpenCC's character table, TSCharacters: the first
# simplified form of each), so that 張三 is read as 张三 on both sides of the comparison.
def _traditional_table() -> dict[int, str]:
    from importlib.resources import files

    table: dict[int, str] = {}
    for line in files("opencc").joinpath("dictionary/TSCharacters.txt").read_text(encoding="utf-8").splitlines():
        traditional, _tab, simplified = line.partition("\t")
        if len(traditional) == 1 and simplified:
            table[ord(traditional)] = simplified.split()[0]
    return table


TRADITIONAL = _traditional_table()
# Chinese numerals as the digits they stand for, in a run of five or more (a phone, an ID or a badge number written
# out; a shorter run is a word: 三五成群): 幺 is 1 as it is read aloud, 壹贰叁… are the numerals of amounts.
NUMERALS = {
    numeral: str(digit)
    for digit, numerals in enumerate(("〇零", "一壹幺", "二贰", "三叁", "四肆", "五伍", "六陆", "七柒", "八捌", "九玖"))
    for numeral in numerals
}
# What people type inside numbers: spaces (any width: the folding makes the ideographic one a plain one), hyphens,
# dashes and the minus sign, dots and middle dots; up to three of them (139 - 1234 - 5678).
SEP_CLASS = r"[\s\-\u2010-\u2015\u2212\u2043\u2e3a\u2e3b\u00b7\u2022\u30fb.]"
SEP = f"{SEP_CLASS}{{0,3}}"
_NUMERAL = f"[{''.join(NUMERALS)}]"
NUMERAL_RUN = re.compile(rf"{_NUMERAL}(?:{SEP}{_NUMERAL}){{4,}}")
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _fold_char(ch: str) -> str:
    """A character as the check reads it: nothing for an invisible one or a combining mark; the compatibility
    decomposition (full-width to half-width, ㈠ to (一)); a digit of any script as 0-9; a lookalike as its Latin
    letter; a traditional character as its simplified form."""
    if invisible(ch):
        return ""
    kept = []
    for c in unicodedata.normalize("NFKD", ch):
        if unicodedata.combining(c):
            continue
        digit = unicodedata.decimal(c, None)
        kept.append(str(digit) if digit is not None else c)
    return "".join(kept).translate(LOOKALIKES).translate(TRADITIONAL)


def fold(text: str) -> Folded:
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        for c in _fold_char(ch):
            chars.append(c)
            origin.append(i)
    # A run of Chinese numerals becomes its digits one for one: the positions stay as they are.
    folded = NUMERAL_RUN.sub(lambda run: "".join(NUMERALS.get(c, c) for c in run.group()), "".join(chars))
    return Folded(folded, tuple(origin), len(text))


def compact(value: str) -> str:
    """A number as compared: folded, without the spaces, hyphens and dots typed inside it, upper case."""
    return re.sub(SEP_CLASS, "", fold(value).text).upper()


# Two-character surnames, written one after the other.
_COMPOUND = (
    "欧阳太史端木上官司马东方独孤南宫万俟闻人夏侯诸葛尉迟公羊赫连澹台皇甫宗政濮阳公冶"
    "太叔申屠公孙慕容仲孙钟离长孙宇文司徒鲜于司空闾丘子车亓官司寇巫马公西颛孙壤驷公良"
    "漆雕乐正宰父谷梁拓跋夹谷轩辕令狐段干百里呼延东郭南门羊舌微生公户公玉公仪梁丘公仲"
    "公上公门公山公坚左丘公伯西门公祖第五公乘贯丘公皙南荣东里东宫仲长子书子桑即墨达奚"
    "褚师"
)
COMPOUND_SURNAMES = frozenset(_COMPOUND[i : i + 2] for i in range(0, len(_COMPOUND), 2))


def _number_pattern(value: str) -> re.Pattern[str] | None:
    """A number of the case as it may be typed: any of its characters separated by up to three separators, and not part
    of a longer number."""
    chars = compact(value)
    if len(chars) < 5:  # too short to be told from other numbers
        return None
    body = SEP.join(re.escape(c) for c in chars)
    return re.compile(rf"(?<![0-9A-Za-z]){body}(?![0-9A-Za-z])", re.IGNORECASE)


def _name_forms(name: str, role: str) -> list[str]:
    """A name as a text may give it: in full, and (for a Chinese name) by its surname: 张某, 张某某, and 张警官 for an
    officer. A name recorded as a surname form already (施某) is looked for as it is and as 施某某. Folded as the texts
    are (``fold``)."""
    name = fold(name).text.strip()
    if not name:
        return []
    forms = [name]
    if CJK.match(name) and len(name) >= 2:
        surname = name[:2] if name[:2] in COMPOUND_SURNAMES and len(name) >= 3 else name[0]
        forms += [f"{surname}某某", f"{surname}某"]
        if role == "officer":
            forms.append(f"{surname}警官")
    return list(dict.fromkeys(forms))


def _name_pattern(form: str) -> re.Pattern[str] | None:
    if CJK.search(form):
        # The characters of the name across the spaces and dots typed between them: 张 三, 买买提·艾力 as 买买提•艾力
        # or 买买提艾力.
        chars = [c for c in form if not re.fullmatch(SEP_CLASS, c)]
        if len(chars) < 2:
            return None
        return re.compile(f"{SEP_CLASS}*".join(re.escape(c) for c in chars))
    tokens = form.split()
    if not tokens or (len(tokens) == 1 and len(tokens[0]) < 3):
        return None  # a single short Latin word is too likely to be an ordinary one
    orders = [tokens] if len(tokens) == 1 else [tokens, list(reversed(tokens))]
    alternatives = "|".join(r"[\s\-]+".join(re.escape(t) for t in order) for order in orders)
    return re.compile(rf"(?<![A-Za-z])(?:{alternatives})(?![A-Za-z])", re.IGNORECASE)


# --- patterns ----------------------------------------------------------------------------------------------------

# A run of digits as people type them: groups of digits (the last of an ID number may be X) separated by one to three
# separators. Each window of consecutive groups is tried, so a number typed next to another one is still found.
DIGIT_RUN = re.compile(rf"(?<![0-9A-Za-z])\+?\d+[xX]?(?:{SEP_CLASS}{{1,3}}\d+[xX]?)*(?![0-9A-Za-z])")
ID_18 = re.compile(r"[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dX]")
ID_15 = re.compile(r"[1-9]\d{5}\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}")
MOBILE = re.compile(r"(?:(?:\+|00)?86)?1[3-9]\d{9}")
LANDLINE_AREA = re.compile(r"0\d{2,3}")
LANDLINE_NUMBER = re.compile(r"[2-9]\d{6,7}")
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
PLATE = re.compile(
    rf"[{PROVINCES}][A-Za-z]{SEP}[A-Za-z0-9](?:{SEP_CLASS}?[A-Za-z0-9]){{3,4}}[A-Za-z0-9挂学警港澳领](?![A-Za-z0-9])"
)
# An exact address below the district: a road's number, a building, a unit, a floor, a room.
# A road's name: the characters right before the number, never a district's or a town's, nor the words a sentence
# puts before a place (在文一西路88号: the road is 文一西路).
ROAD = (
    r"[^\s\d市区县省州镇乡在于到至从自的和与及往向经对把被将是为由住家，。、,.;；:：（）()“”\"'「」]{1,8}?"
    r"(?:路|街|大道|大街|巷|弄|胡同|村|小区|大厦|花园|公寓|新村|苑|里)"
)
BUILDING = r"(?:\s*(?:\d+|[A-Za-z])\s*(?:号楼|栋|幢|座|楼))?(?:\s*\d+\s*单元)?(?:\s*\d+\s*层)?(?:\s*\d+\s*室)?"
# Each starts where a number's digits start (``(?<!\d)``), never inside them or in the blanks before them: tried from
# every digit of a long number, or every space of a long run, they took seconds on a text of the longest length.
ADDRESS_ZH = [
    re.compile(rf"(?:{ROAD}\s*)?(?<!\d)\d+\s*(?:号|弄){BUILDING}"),
    re.compile(r"(?:(?<!\d)\d+|[A-Za-z])\s*(?:号楼|栋|幢|座)(?:\s*\d+\s*单元)?(?:\s*\d+\s*层)?(?:\s*\d+\s*室)?"),
    re.compile(r"(?<!\d)\d+\s*单元(?:\s*\d+\s*层)?(?:\s*\d+\s*室)?"),
    re.compile(r"(?<!\d)\d+\s*室"),
]
ROAD_EN = r"(?:road|rd|street|st|lane|ln|avenue|ave|alley|boulevard|blvd)\.?"
ADDRESS_EN = [
    re.compile(rf"\b(?:no\.?\s*)?\d+[a-z]?,?\s+(?:[a-z]+\s+){{1,3}}{ROAD_EN}(?![a-z])", re.IGNORECASE),
    re.compile(
        r"\b(?:room|rm|flat|apt|apartment|unit|building|bldg|block)\.?\s*(?:no\.?\s*)?\d+[a-z]?\b", re.IGNORECASE
    ),
]
MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
DATE_ZH = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*\d{1,2}\s*[日号]")
DATE_ISO = re.compile(r"(?<!\d)(\d{4})([-/.])(\d{1,2})\2\d{1,2}(?!\d)")
DATE_DAY_MONTH = re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+({MONTHS})\.?,?\s+(\d{{4}})\b", re.IGNORECASE)
DATE_MONTH_DAY = re.compile(rf"\b({MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.IGNORECASE)


# --- finding -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    start: int  # in the original text
    end: int
    kind: Kind
    replacement: str

    @property
    def refused(self) -> bool:
        return self.kind in REFUSED


@dataclass(frozen=True)
class _Candidate:
    start: int  # in the folded text
    end: int
    kind: Kind
    priority: int  # lower wins between candidates of the same span
    person: Person | None = None
    replacement: str = ""


def _number_kind(digits: str) -> Kind | None:
    if ID_18.fullmatch(digits) or ID_15.fullmatch(digits):
        return Kind.ID_NUMBER
    if MOBILE.fullmatch(digits):
        return Kind.PHONE
    return None


def _is_landline(area: str, number: str) -> bool:
    """0571-87654321: an area code and a local number, typed apart."""
    return bool(LANDLINE_AREA.fullmatch(area) and LANDLINE_NUMBER.fullmatch(number))


# The longest number a window may make: an ID number (18), longer than a mobile number after 0086 (15). A window
# stops growing past it, so a text of many short numbers is read in linear time.
LONGEST_NUMBER = 18


def _digit_windows(folded: str) -> list[_Candidate]:
    found: list[_Candidate] = []
    for run in DIGIT_RUN.finditer(folded):
        groups = [(m.start() + run.start(), m.end() + run.start()) for m in re.finditer(r"\+?\d+[xX]?", run.group())]
        for i in range(len(groups)):
            digits = ""
            for j in range(i, len(groups)):
                start, end = groups[i][0], groups[j][1]
                digits += folded[slice(*groups[j])].upper()
                if len(digits.lstrip("+")) > LONGEST_NUMBER:
                    break
                kind = _number_kind(digits)
                if kind is None and j == i + 1 and _is_landline(folded[slice(*groups[i])], folded[slice(*groups[j])]):
                    kind = Kind.PHONE
                if kind is not None:
                    found.append(_Candidate(start, end, kind, priority=2))
    return found


def _pattern_candidates(folded: str) -> list[_Candidate]:
    found = _digit_windows(folded)
    found += [_Candidate(m.start(), m.end(), Kind.PLATE, priority=2) for m in PLATE.finditer(folded)]
    for pattern in (*ADDRESS_ZH, *ADDRESS_EN):
        found += [_Candidate(m.start(), m.end(), Kind.ADDRESS, priority=3) for m in pattern.finditer(folded)]
    for m in DATE_ZH.finditer(folded):
        found.append(_Candidate(m.start(), m.end(), Kind.DATE, 3, replacement=f"{m[1]}年{int(m[2])}月"))
    for m in DATE_ISO.finditer(folded):
        found.append(_Candidate(m.start(), m.end(), Kind.DATE, 3, replacement=f"{m[1]}{m[2]}{m[3]}"))
    for m in DATE_DAY_MONTH.finditer(folded):
        found.append(_Candidate(m.start(), m.end(), Kind.DATE, 3, replacement=f"{m[1]} {m[2]}"))
    for m in DATE_MONTH_DAY.finditer(folded):
        found.append(_Candidate(m.start(), m.end(), Kind.DATE, 3, replacement=f"{m[1]} {m[2]}"))
    return found


def _known_candidates(folded: str, known: Known) -> list[_Candidate]:
    found: list[_Candidate] = []
    for person in known.people:
        kind = NAME_KINDS[person.role]
        for name in person.names:
            for n, form in enumerate(_name_forms(name, person.role)):
                pattern = _name_pattern(form)
                if pattern is None:
                    continue
                # A full name before its surname forms; a suspect's surname form before an officer's of the same
                # surname (a narrative calls suspects 张某 far more often than officers).
                priority = 0 if n == 0 else 1
                found += [_Candidate(m.start(), m.end(), kind, priority, person) for m in pattern.finditer(folded)]
        numbers = (
            [(Kind.ID_NUMBER, v) for v in person.id_numbers]
            + [(Kind.PHONE, v) for v in person.phones]
            + [(Kind.BADGE, v) for v in person.badges]
        )
        for number_kind, value in numbers:
            pattern = _number_pattern(value)
            if pattern is not None:
                found += [_Candidate(m.start(), m.end(), number_kind, 0) for m in pattern.finditer(folded)]
    for number_kind, values in ((Kind.REFERENCE, known.references), (Kind.PLATE, known.plates)):
        for value in values:
            pattern = _number_pattern(value)
            if pattern is not None:
                found += [_Candidate(m.start(), m.end(), number_kind, 0) for m in pattern.finditer(folded)]
    return found


def _replacement(candidate: _Candidate, folded: str, language: str) -> str:
    """What the candidate is replaced by: its role for a name (the bare letter after a role word the text has
    already), what it is for a number or an address, the month for a date."""
    if candidate.replacement:
        return candidate.replacement
    person = candidate.person
    if person is None:
        return NUMBER_LABELS[language][candidate.kind]
    before = folded[: candidate.start].lower()
    words = ROLE_WORDS_ZH[person.role] if language == "zh" else ROLE_WORDS_EN[person.role]
    return role_label(person, language, bare=any(before.endswith(word) for word in words))


def find(text: str, known: Known, language: str) -> list[Finding]:
    """Everything in ``text`` that identifies a party or the case, or is an exact address or date, without overlaps
    (the longest at each place), in text order. ``language``: "zh" or "en", the language of the replacements."""
    if not text:
        return []
    folded = fold(text)
    candidates = _known_candidates(folded.text, known) + _pattern_candidates(folded.text)
    # At each place the longest candidate wins; among equal spans, the case's own data before a pattern, a full name
    # before a surname form. A name is never cut out of a longer match (张某某 wins over 张某).
    suspects_first = {"suspect": 0, "officer": 1, "witness": 2}
    candidates.sort(
        key=lambda c: (
            c.start,
            -(c.end - c.start),
            c.priority,
            suspects_first.get(c.person.role, 3) if c.person else 3,
        )
    )
    chosen: list[_Candidate] = []
    reached = 0
    for candidate in candidates:
        if candidate.start >= reached and candidate.end > candidate.start:
            chosen.append(candidate)
            reached = candidate.end
    findings = []
    for candidate in chosen:
        replacement = _replacement(candidate, folded.text, language)
        start, end = folded.span(candidate.start, candidate.end)
        findings.append(Finding(start=start, end=end, kind=candidate.kind, replacement=replacement))
    return findings


def leftovers(text: str, known: Known, language: str) -> list[Kind]:
    """The kinds of what must not remain that ``text`` still holds, each once, in the order of ``Kind``."""
    kinds = {f.kind for f in find(text, known, language) if f.refused}
    return [kind for kind in Kind if kind in kinds]


# --- proposing ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """A piece of the proposal's diff: text kept as it is (``kind`` empty), or ``original`` replaced."""

    text: str  # the kept text, or the replacement
    original: str = ""
    kind: str = ""


@dataclass(frozen=True)
class Proposal:
    original: str
    text: str  # with every replacement applied
    segments: tuple[Segment, ...]

    @property
    def changes(self) -> tuple[Segment, ...]:
        return tuple(s for s in self.segments if s.kind)


def propose(text: str, known: Known, language: str) -> Proposal:
    """The text with every finding replaced, and the diff that shows it."""
    segments: list[Segment] = []
    at = 0
    for finding in find(text, known, language):
        if finding.start > at:
            segments.append(Segment(text[at : finding.start]))
        segments.append(Segment(finding.replacement, original=text[finding.start : finding.end], kind=finding.kind))
        at = finding.end
    if at < len(text):
        segments.append(Segment(text[at:]))
    return Proposal(original=text, text="".join(s.text for s in segments), segments=tuple(segments))
