"""A closed case whose texts name its parties every way a narrative does, and the people who propose, edit, approve and
read its write-up: the world's city supervisor (the proposer and editor), the province administrator (the approver),
the filing officer and an officer of the neighbouring station (readers), and an officer of another province."""

from dataclasses import dataclass

import pytest

from accounts import services as account_services
from accounts.models import Role, User
from cases import services as case_services
from cases.choices import CaseStatus, Disposition, DutyScenario, PlaceCategory, Track
from cases.models import Case, Suspect
from library import services
from library.models import WriteUp
from tests.factories import World, build_world, complete_details, member

NARRATIVE = (
    "2026年3月5日晚，民警王磊在杭州市西湖区文一西路88号3栋2单元501室处警，嫌疑人张三（身份证号330106199001011234，"
    "电话13912345678）驾驶浙A·12345面包车冲撞民警。张某随后被抓获。"
)
ID_NUMBER = "330106199001011234"
PHONE = "13912345678"


@dataclass
class Lib:
    world: World
    case: Case
    suspect: Suspect
    editor: User  # the city supervisor
    approver: User  # the province administrator
    admin_supervisor: User  # an administrator of the province who is also a supervisor of the city
    sibling_officer: User


def closed_case(world: World) -> tuple[Case, Suspect]:
    """A closed case filed by the officer (王磊, phone 13912345678) against 张三, convicted under Art. 277(5)."""
    officer = world.officer
    officer.full_name, officer.phone = "王磊", PHONE
    officer.save(update_fields=["full_name", "phone"])
    case = case_services.create_draft_case(
        by=officer,
        unit=world.station,
        details=complete_details(
            summary="处警时遭张三驾车冲撞",
            narrative=NARRATIVE,
            duty_scenario=DutyScenario.CALL_110,
            place_category=PlaceCategory.ROAD,
        ),
    )
    suspect = case_services.add_suspect(case=case, by=officer, name="张三", id_number=ID_NUMBER)
    sup = world.supervisor
    case = case_services.submit_case(case=case, by=officer, expected_version=None)
    case = case_services.refer_case(
        case=case, by=sup, expected_version=None, track=Track.CRIMINAL, to_unit=world.county
    )
    case = case_services.acknowledge_referral(case=case, by=sup, expected_version=None, external_reference="XH-1")
    case_services.record_disposition(
        suspect=suspect,
        by=sup,
        disposition=Disposition.CONVICTED_277_5_BASIC,
        disposition_article="刑法第277条第5款",
        sentence_months=10,
    )
    case = Case.objects.get(pk=case.pk)
    case = case_services.conclude_case(case=case, by=sup, expected_version=None)
    case = case_services.close_case(
        case=case, by=sup, expected_version=None, officer_informed=True, disposition_consistent=True
    )
    assert case.status == CaseStatus.CLOSED
    return case, suspect


def build_lib() -> Lib:
    world = build_world()
    case, suspect = closed_case(world)
    both = member(world.province, Role.ADMIN, username="admin_supervisor")
    account_services.grant_membership(user=both, unit=world.city, role=Role.SUPERVISOR)
    return Lib(
        world=world,
        case=case,
        suspect=suspect,
        editor=world.supervisor,
        approver=world.admin,
        admin_supervisor=both,
        sibling_officer=world.sibling_officer,
    )


@pytest.fixture
def lib(db) -> Lib:
    return build_lib()


ZH_TEXTS = {
    "title_zh": "处警时遭驾车冲撞",
    "happened_zh": "2026年3月，民警甲处警时，嫌疑人A驾驶面包车冲撞民警。",
    "handling_zh": "现场控制嫌疑人，固定执法记录仪视频，依法移送起诉。",
    "legal_basis_zh": "以袭警罪追究刑事责任。",
    "outcome_zh": "嫌疑人A被判处有期徒刑十个月。",
    "lessons_zh": "遇车辆冲撞先避让，保全视频证据，及时呼叫支援。",
}


def proposed(lib: Lib) -> WriteUp:
    return services.propose_case(case=lib.case, by=lib.editor, note="驾车冲撞的处置")


def drafted(lib: Lib, **texts: str) -> WriteUp:
    writeup = proposed(lib)
    return services.save_writeup(
        writeup=writeup,
        by=lib.editor,
        texts={**ZH_TEXTS, **texts},
        expected_version=writeup.version,
    )


def submitted(lib: Lib) -> WriteUp:
    writeup = drafted(lib)
    return services.submit_writeup(writeup=writeup, by=lib.editor, expected_version=writeup.version)


def published(lib: Lib, scope=None) -> WriteUp:
    writeup = submitted(lib)
    return services.publish_writeup(
        writeup=writeup, by=lib.approver, scope_unit=scope or lib.world.city, expected_version=writeup.version
    )
