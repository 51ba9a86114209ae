"""The anonymisation (library/anonymise.py), pure: what it finds of a case's parties and by pattern, in both scripts,
full-width digits and separators included, and what it proposes instead."""

import pytest

from cases.selectors import CaseParties, Party
from library.anonymise import Kind, fold, known_from, leftovers, propose

PARTIES = CaseParties(
    reference="RG-2026-000123",
    dispatch_ref="330106202603050012",
    officers=(
        Party(role="officer", name="王磊", other_names=("王小磊",), phone="13912345678", badge_number="018236"),
        Party(role="officer", name="欧阳明华"),
    ),
    suspects=(
        Party(role="suspect", name="张三", id_number="330106199001011234"),
        Party(role="suspect", name="施某"),
        Party(role="suspect", name="不详"),
        Party(role="suspect", name="John Smith"),
    ),
)
KNOWN = known_from(PARTIES)


def test_placeholder_names_are_not_looked_for():
    assert [p.names for p in KNOWN.people if p.role == "suspect"] == [("张三",), ("施某",), (), ("John Smith",)]
    # The reference also without its letters (2026-000123), as a text may cite it.
    assert KNOWN.references == ("RG-2026-000123", "2026000123", "330106202603050012")


def test_the_proposal_finds_the_cases_names_wherever_they_appear_and_gives_roles():
    text = (
        "民警王磊到场。张三拒不配合，张某踢打王警官；欧阳明华、欧阳某协助。施某在旁。犯罪嫌疑人张三被抓获，王小磊作证。"
    )
    proposal = propose(text, KNOWN, "zh")
    assert proposal.text == (
        "民警甲到场。嫌疑人A拒不配合，嫌疑人A踢打民警甲；民警乙、民警乙协助。嫌疑人B在旁。犯罪嫌疑人A被抓获，民警甲作证。"
    )
    assert [(s.original, s.kind) for s in proposal.changes] == [
        ("王磊", Kind.OFFICER_NAME),
        ("张三", Kind.SUSPECT_NAME),
        ("张某", Kind.SUSPECT_NAME),
        ("王警官", Kind.OFFICER_NAME),
        ("欧阳明华", Kind.OFFICER_NAME),
        ("欧阳某", Kind.OFFICER_NAME),
        ("施某", Kind.SUSPECT_NAME),
        ("张三", Kind.SUSPECT_NAME),
        ("王小磊", Kind.OFFICER_NAME),
    ]


def test_names_in_latin_script_and_english_roles():
    text = "Officer 王磊 stopped SMITH, JOHN? No: john  smith and Smith-John; Johnson stays."
    assert (
        propose(text, KNOWN, "en").text == "Officer A stopped SMITH, JOHN? No: Suspect D and Suspect D; Johnson stays."
    )


def test_a_surname_form_spans_names_with_spaces_between_characters():
    assert propose("张 三与张某某", KNOWN, "zh").text == "嫌疑人A与嫌疑人A"


@pytest.mark.parametrize(
    "written",
    [
        "330106199001011234",
        "３３０１０６１９９００１０１１２３４",  # full-width digits
        "330106 19900101 1234",
        "330106-1990-0101-1234",
        "３３０１０６　１９９００１０１　１２３４",  # full-width digits, ideographic spaces
        "330106.19900101.1234",
    ],
)
def test_the_cases_id_number_is_found_however_typed(written):
    text = f"身份证号{written}。"
    assert leftovers(text, KNOWN, "zh") == [Kind.ID_NUMBER]
    assert propose(text, KNOWN, "zh").text == "身份证号[身份证号]。"


@pytest.mark.parametrize(
    "written", ["13912345678", "139 1234 5678", "139-1234-5678", "１３９１２３４５６７８", "+86 139 1234 5678"]
)
def test_the_cases_phone_number_is_found_however_typed(written):
    assert leftovers(f"电话{written}", KNOWN, "zh") == [Kind.PHONE]
    assert leftovers(f"call {written}.", KNOWN, "en") == [Kind.PHONE]


def test_patterns_find_numbers_the_case_does_not_record():
    text = "另一人110105198001011237，手机138 0013 8000，座机0571-87654321，旧证号330106800101123。"
    proposal = propose(text, KNOWN, "zh")
    assert proposal.text == "另一人[身份证号]，手机[电话号码]，座机[电话号码]，旧证号[身份证号]。"
    assert leftovers(text, KNOWN, "zh") == [Kind.ID_NUMBER, Kind.PHONE]


@pytest.mark.parametrize(
    "plate", ["浙A·12345", "浙A12345", "浙Ａ１２３４５", "浙A 12345", "浙AD12345", "浙a·1234警", "京N-8K8K8"]
)
def test_plates_are_found_in_chinese_format(plate):
    assert leftovers(f"驾驶{plate}面包车", KNOWN, "zh") == [Kind.PLATE]
    assert propose(f"驾驶{plate}面包车", KNOWN, "zh").text == "驾驶[车牌号]面包车"


def test_badge_numbers_and_the_cases_references():
    text = "警号018236，案号RG-2026-000123，110警情号330106202603050012。"
    assert propose(text, KNOWN, "zh").text == "警号[警号]，案号[案件编号]，110警情号[案件编号]。"
    assert leftovers(text, KNOWN, "zh") == [Kind.BADGE, Kind.REFERENCE]


def test_exact_addresses_and_days_are_generalised_but_not_refused():
    text = "2026年3月5日晚，在杭州市西湖区文一西路88号3栋2单元501室；2026-03-05；5号楼1单元。"
    proposal = propose(text, KNOWN, "zh")
    assert proposal.text == "2026年3月晚，在杭州市西湖区某处；2026-03；某处。"
    assert leftovers(text, KNOWN, "zh") == []


def test_english_addresses_and_dates():
    text = "On 5 March 2026 at No. 88 Wenyi West Road, Room 501 (March 5th, 2026)."
    assert propose(text, KNOWN, "en").text == "On March 2026 at [address], [address] (March 2026)."


def test_the_redacted_text_is_accepted():
    text = (
        "民警王磊（警号018236）处警时，嫌疑人张三（身份证号３３０１０６ １９９００１０１ １２３４，电话139-1234-5678）"
        "驾驶浙A·12345冲撞。"
    )
    assert leftovers(text, KNOWN, "zh") == [
        Kind.OFFICER_NAME,
        Kind.SUSPECT_NAME,
        Kind.ID_NUMBER,
        Kind.PHONE,
        Kind.PLATE,
        Kind.BADGE,
    ]
    redacted = propose(text, KNOWN, "zh").text
    assert redacted == "民警甲（警号[警号]）处警时，嫌疑人A（身份证号[身份证号]，电话[电话号码]）驾驶[车牌号]冲撞。"
    assert leftovers(redacted, KNOWN, "zh") == []


def test_ordinary_numbers_are_left_alone():
    text = "依据刑法第277条第5款，判处有期徒刑10个月，罚款500元，2026年，浙江省。"
    assert propose(text, KNOWN, "zh").text == text


def test_positions_map_back_to_the_original_text():
    folded = fold("ａ１　b")
    assert (folded.text, folded.origin) == ("a1 b", (0, 1, 2, 3))
    assert fold("㈠").text == "(一)"
    assert fold("㈠x").span(3, 4) == (1, 2)
