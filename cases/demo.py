"""The demo world behind ``manage.py seed_demo``: an organisation tree, demo accounts, a few dozen demo cases
played through the case services, and optionally many synthetic cases bulk-inserted for reports and benchmarks.

Everything except the synthetic cases is idempotent: a second run finds what the first created and leaves it.
"""

import json
import logging
import math
import operator
import queue
import random
import sqlite3
import threading
import time
from bisect import bisect
from collections import Counter
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import accumulate, chain
from typing import Any, TypeVar

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Q
from django.utils import timezone

from accounts.models import Membership, OrgLevel, OrgUnit, Role, User
from accounts.services import create_org_unit, create_user, grant_membership
from cases import services
from cases.choices import (
    DISPOSITION_RANK,
    FINAL_DISPOSITIONS,
    INJURY_RANK,
    OPEN_STATUSES,
    CaseStatus,
    Channel,
    Disposition,
    DutyStatus,
    EventKind,
    FindingProblem,
    IncidentKind,
    InjuryGrade,
    OfficerType,
    PauseReason,
    PoliceFault,
    ReferralTarget,
    ReviewVerdict,
    SupportKind,
    SupportStatus,
    SuspectStatus,
    Track,
    Weapon,
)
from cases.fields import EncryptedCharField, encrypt
from cases.models import (
    Case,
    CaseEvent,
    InvolvedOfficer,
    LookBackReview,
    ReferenceCounter,
    Referral,
    SupervisionFinding,
    SupportMeasure,
    Suspect,
)
from cases.sla import stage_deadline
from cases.workflow import TRANSITIONS

# Documented in DESIGN §7 and printed by `make run`; it only ever guards the demo accounts.
DEMO_PASSWORD = "rightsguard-demo"  # noqa: S105
ADMIN_GROUP = "Unit administrators"
DEFAULT_SEED = 20190201  # any fixed value does; this is the day the 2019 regulation came into force
DEFAULT_BATCH_SIZE = 2500

Log = Callable[[str], None]
_T = TypeVar("_T")


# --- Organisation tree ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitSpec:
    code: str
    name: str
    name_en: str
    level: str
    parent: str | None
    # For county units: how street addresses in the area begin, some of its roads, and the prefix of the
    # case numbers its departments issue. Synthetic cases use them to read like real files.
    locality: str = ""
    roads: tuple[str, ...] = ()
    abbr: str = ""


def _stations(county: str, *names: tuple[str, str]) -> tuple[UnitSpec, ...]:
    return tuple(
        UnitSpec(f"{county}{i:03d}", zh, f"{en} Police Station", OrgLevel.STATION, county)
        for i, (zh, en) in enumerate(names, start=1)
    )


ORG_TREE: tuple[UnitSpec, ...] = (
    UnitSpec("000000", "公安部", "Ministry of Public Security", OrgLevel.MINISTRY, None),
    UnitSpec("330000", "浙江省公安厅", "Zhejiang Provincial Public Security Department", OrgLevel.PROVINCE, "000000"),
    UnitSpec("330100", "杭州市公安局", "Hangzhou Municipal Public Security Bureau", OrgLevel.CITY, "330000"),
    UnitSpec(
        "330106",
        "西湖区分局",
        "Xihu District Branch",
        OrgLevel.COUNTY,
        "330100",
        "杭州市西湖区",
        ("文三路", "天目山路", "北山街", "曙光路", "古墩路", "文一西路", "学院路"),
        "杭西公",
    ),
    *_stations("330106", ("北山派出所", "Beishan"), ("灵隐派出所", "Lingyin"), ("文新派出所", "Wenxin")),
    UnitSpec(
        "330102",
        "上城区分局",
        "Shangcheng District Branch",
        OrgLevel.COUNTY,
        "330100",
        "杭州市上城区",
        ("解放路", "延安路", "清泰街", "湖滨路", "望江路", "庆春路", "中河中路"),
        "杭上公",
    ),
    *_stations("330102", ("湖滨派出所", "Hubin"), ("清波派出所", "Qingbo"), ("小营派出所", "Xiaoying")),
    UnitSpec("330200", "宁波市公安局", "Ningbo Municipal Public Security Bureau", OrgLevel.CITY, "330000"),
    UnitSpec(
        "330203",
        "海曙区分局",
        "Haishu District Branch",
        OrgLevel.COUNTY,
        "330200",
        "宁波市海曙区",
        ("中山西路", "药行街", "望春路", "柳汀街", "解放南路", "环城西路"),
        "甬海公",
    ),
    *_stations("330203", ("南门派出所", "Nanmen"), ("鼓楼派出所", "Gulou"), ("西门派出所", "Ximen")),
    UnitSpec(
        "330212",
        "鄞州区分局",
        "Yinzhou District Branch",
        OrgLevel.COUNTY,
        "330200",
        "宁波市鄞州区",
        ("天童南路", "四明中路", "首南路", "钱湖北路", "宁南北路", "惠风东路"),
        "甬鄞公",
    ),
    *_stations("330212", ("中河派出所", "Zhonghe"), ("首南派出所", "Shounan"), ("钟公庙派出所", "Zhonggongmiao")),
    UnitSpec("420000", "湖北省公安厅", "Hubei Provincial Public Security Department", OrgLevel.PROVINCE, "000000"),
    UnitSpec("420100", "武汉市公安局", "Wuhan Municipal Public Security Bureau", OrgLevel.CITY, "420000"),
    UnitSpec(
        "420102",
        "江岸区分局",
        "Jiang'an District Branch",
        OrgLevel.COUNTY,
        "420100",
        "武汉市江岸区",
        ("解放大道", "沿江大道", "黄浦大街", "后湖大道", "中山大道", "京汉大道"),
        "武岸公",
    ),
    *_stations("420102", ("大智派出所", "Dazhi"), ("球场街派出所", "Qiuchangjie"), ("后湖派出所", "Houhu")),
    UnitSpec(
        "420106",
        "武昌区分局",
        "Wuchang District Branch",
        OrgLevel.COUNTY,
        "420100",
        "武汉市武昌区",
        ("中南路", "中北路", "武珞路", "和平大道", "徐东大街", "八一路"),
        "武昌公",
    ),
    *_stations("420106", ("中南路派出所", "Zhongnanlu"), ("水果湖派出所", "Shuiguohu"), ("积玉桥派出所", "Jiyuqiao")),
    UnitSpec("420500", "宜昌市公安局", "Yichang Municipal Public Security Bureau", OrgLevel.CITY, "420000"),
    UnitSpec(
        "420502",
        "西陵区分局",
        "Xiling District Branch",
        OrgLevel.COUNTY,
        "420500",
        "宜昌市西陵区",
        ("夷陵大道", "东山大道", "西陵一路", "云集路", "解放路", "沿江大道"),
        "宜西公",
    ),
    *_stations("420502", ("云集派出所", "Yunji"), ("学院街派出所", "Xueyuanjie"), ("夜明珠派出所", "Yemingzhu")),
    UnitSpec(
        "420526",
        "兴山县公安局",
        "Xingshan County Public Security Bureau",
        OrgLevel.COUNTY,
        "420500",
        "宜昌市兴山县",
        ("昭君路", "高阳大道", "香溪大道", "古夫路", "峡口大道"),
        "兴公",
    ),
    *_stations("420526", ("古夫派出所", "Gufu"), ("昭君派出所", "Zhaojun"), ("峡口派出所", "Xiakou")),
)
UNIT_SPECS: dict[str, UnitSpec] = {spec.code: spec for spec in ORG_TREE}


@transaction.atomic
def ensure_org_tree() -> tuple[dict[str, OrgUnit], int]:
    """Create the demo units that are missing (a unit whose code exists is left as it is)."""
    units = {u.code: u for u in OrgUnit.objects.filter(code__in=list(UNIT_SPECS))}
    created = 0
    for spec in ORG_TREE:
        if spec.code in units:
            continue
        parent = units[spec.parent] if spec.parent else None
        units[spec.code] = create_org_unit(
            code=spec.code, name=spec.name, name_en=spec.name_en, level=spec.level, parent=parent
        )
        created += 1
    return units, created


# --- Accounts ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoAccount:
    username: str
    full_name: str
    badge_number: str
    role: str
    unit: str
    is_staff: bool = False


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("officer", "王磊", "018236", Role.OFFICER, "330106001"),
    DemoAccount("officer2", "陈静", "021457", Role.OFFICER, "330102001"),
    DemoAccount("officer_hubei", "刘洋", "105833", Role.OFFICER, "420102001"),
    DemoAccount("supervisor", "赵敏", "010352", Role.SUPERVISOR, "330100"),
    DemoAccount("county_supervisor", "孙卫东", "016718", Role.SUPERVISOR, "330106"),
    DemoAccount("supervisor_hubei", "周海峰", "100274", Role.SUPERVISOR, "420000"),
    DemoAccount("admin", "郑晓明", "010027", Role.ADMIN, "330000", is_staff=True),
)
DEMO_OFFICERS = tuple(a.username for a in DEMO_ACCOUNTS if a.role == Role.OFFICER)

# Unit administrators read everything in the admin and maintain users, units and time limits (DESIGN §1).
ADMIN_EDITABLE: tuple[tuple[str, str], ...] = (
    ("accounts", "user"),
    ("accounts", "membership"),
    ("accounts", "orgunit"),
    ("cases", "stagelimit"),
)
# They revoke memberships as well as grant them (both audited service calls, within their subtree).
ADMIN_REVOCABLE: tuple[tuple[str, str], ...] = (("accounts", "membership"),)


def ensure_admin_group() -> Group:
    group, _created = Group.objects.get_or_create(name=ADMIN_GROUP)
    editable = Q(pk__in=[])
    for app_label, model in ADMIN_EDITABLE:
        editable |= Q(
            content_type__app_label=app_label,
            content_type__model=model,
            codename__in=[f"add_{model}", f"change_{model}"],
        )
    for app_label, model in ADMIN_REVOCABLE:
        editable |= Q(content_type__app_label=app_label, content_type__model=model, codename=f"delete_{model}")
    viewable = Q(content_type__app_label__in=["accounts", "cases"], codename__startswith="view_")
    # add() rather than set(): permissions an administrator granted the group later survive a re-run.
    group.permissions.add(*Permission.objects.filter(viewable | editable))
    return group


@transaction.atomic
def ensure_demo_accounts(units: dict[str, OrgUnit]) -> tuple[dict[str, User], int]:
    """Create missing demo accounts and their memberships. Existing accounts keep their passwords."""
    users = {u.username: u for u in User.objects.filter(username__in=[a.username for a in DEMO_ACCOUNTS])}
    group = ensure_admin_group()
    created = 0
    for account in DEMO_ACCOUNTS:
        user = users.get(account.username)
        if user is None:
            user = create_user(
                username=account.username,
                password=DEMO_PASSWORD,
                full_name=account.full_name,
                badge_number=account.badge_number,
                validate=False,
            )
            created += 1
        changed = []
        if not user.is_active:
            user.is_active = True
            changed.append("is_active")
        if account.is_staff and not user.is_staff:
            user.is_staff = True
            changed.append("is_staff")
        if changed:
            user.save(update_fields=changed)
        grant_membership(user=user, unit=units[account.unit], role=account.role)
        if account.role == Role.ADMIN:
            user.groups.add(group)
        users[account.username] = user
    return users, created


# --- Demo cases, played through the services -----------------------------------------------------------------


@dataclass(frozen=True)
class Victim:
    """An involved officer; a blank name means the filer themself."""

    name: str = ""
    badge: str = ""
    officer_type: str = OfficerType.REGULAR
    duty: str = DutyStatus.ON_DUTY
    injury: str = InjuryGrade.NONE
    medical: str = ""


@dataclass(frozen=True)
class Party:
    name: str = ""
    id_number: str = ""
    status: str = SuspectStatus.UNIDENTIFIED


@dataclass(frozen=True)
class Submit:
    pass


@dataclass(frozen=True)
class Withdraw:
    reason: str


@dataclass(frozen=True)
class Reject:
    reason: str
    duplicate_of: str = ""  # key of an earlier demo case


@dataclass(frozen=True)
class Assign:
    pass


@dataclass(frozen=True)
class Refer:
    track: str
    unit: str = ""
    target: str = ReferralTarget.INTERNAL_UNIT
    body: str = ""


@dataclass(frozen=True)
class Acknowledge:
    external_reference: str


@dataclass(frozen=True)
class Dispose:
    suspect: int
    disposition: str
    article: str = ""
    months: int | None = None
    probation: bool | None = None
    days_ago: int = 1
    lowered_reason: str = ""


@dataclass(frozen=True)
class Support:
    kind: str
    officer: int | None = 0
    status: str = SupportStatus.DELIVERED
    amount: int | None = None
    notes: str = ""
    started_days_ago: int = 2
    delivered_days_ago: int | None = 1


@dataclass(frozen=True)
class Finding:
    problem: str
    detail: str
    rectify_in_days: int = 10


@dataclass(frozen=True)
class Pause:
    reason: str
    note: str


@dataclass(frozen=True)
class Conclude:
    reason: str = ""


@dataclass(frozen=True)
class Reopen:
    problem: str
    detail: str


@dataclass(frozen=True)
class Close:
    notes: str = ""
    support_delivered: bool | None = None
    clarification_issued: bool | None = None


@dataclass(frozen=True)
class Recall:
    reason: str


Step = (
    Submit
    | Withdraw
    | Reject
    | Assign
    | Refer
    | Acknowledge
    | Dispose
    | Support
    | Finding
    | Pause
    | Conclude
    | Reopen
    | Close
    | Recall
)


@dataclass(frozen=True)
class DemoCase:
    key: str
    filer: str
    unit: str
    handler: str
    days_ago: float
    details: dict[str, Any]
    victims: tuple[Victim, ...] = (Victim(),)
    suspects: tuple[Party, ...] = ()
    steps: tuple[Step, ...] = ()


def _d(kind: str, channel: str, summary: str, location: str, narrative: str, **facts: Any) -> dict[str, Any]:
    return {"kind": kind, "channel": channel, "summary": summary, "location": location, "narrative": narrative, **facts}


K, C, Inj, Sp, SK, SS, D, F = (
    IncidentKind,
    Channel,
    InjuryGrade,
    SuspectStatus,
    SupportKind,
    SupportStatus,
    Disposition,
    FindingProblem,
)
_Y = "{year}"  # replaced by the current year in handling units' case numbers

DEMO_CASES: tuple[DemoCase, ...] = (
    # --- drafts ---
    DemoCase(
        "online-video-draft",
        "officer",
        "330106001",
        "supervisor",
        2.3,
        _d(
            K.ONLINE_DEFAMATION,
            C.MOBILE_APP,
            "短视频平台发布剪辑视频辱骂处警民警",
            "网络（短视频平台）",
            "本人在北山街处置一起噪音扰民警情后，当事人将执法过程剪辑成视频发布到短视频平台，配以“暴力执法”等不实字幕，"
            "并公开了本人的姓名和警号，评论区出现大量辱骂。截至目前视频播放量约1.2万次、转发300余次，已截图保存，正在整理材料。",
            online_views=12000,
            online_reposts=340,
            weapon=Weapon.NONE,
        ),
        suspects=(Party(),),
    ),
    DemoCase(
        "parking-insult-draft",
        "officer2",
        "330102001",
        "supervisor",
        1.1,
        _d(
            K.INSULT_ON_SCENE,
            C.WEB,
            "查处违停时遭车主当众辱骂",
            "杭州市上城区延安路与解放路交叉口",
            "本人与辅警何志强在延安路查处违法停车，车主吴某返回后拒绝驶离，当着围观群众的面用污言秽语辱骂民警约十分钟，"
            "并用手机对着民警面部拍摄，扬言要“让你们上热搜”。执法记录仪已记录全过程。",
            weapon=Weapon.NONE,
            attackers=1,
            police_fault=PoliceFault.NONE,
        ),
        victims=(Victim(), Victim("何志强", "F30217", OfficerType.AUXILIARY)),
        suspects=(Party("吴某", status=Sp.IDENTIFIED),),
    ),
    DemoCase(
        "address-leak-draft",
        "officer_hubei",
        "420102001",
        "supervisor_hubei",
        4.0,
        _d(
            K.DOXXING,
            C.MOBILE_APP,
            "民警家庭住址及子女学校被发布到本地论坛",
            "网络（本地论坛）",
            "本人在处置一起商铺纠纷后，有网民在本地论坛发帖，公布了本人姓名、手机号、家庭住址和孩子就读的学校，"
            "并号召他人“上门讨说法”。帖子已被多次转载，近两日有陌生号码来电骚扰。",
            personal_info_items=6,
            weapon=Weapon.NONE,
        ),
        suspects=(Party(),),
    ),
    DemoCase(
        "phone-threat-draft",
        "officer",
        "330106001",
        "supervisor",
        0.6,
        _d(
            K.THREAT,
            C.MOBILE_APP,
            "处理交通事故后遭当事人电话威胁",
            "杭州市西湖区天目山路",
            "本人处理一起交通事故并依法认定责任后，当事一方连续数日拨打本人手机，扬言“知道你住哪里，走着瞧”。",
        ),
        suspects=(Party("钱某", status=Sp.IDENTIFIED),),
    ),
    # --- withdrawn ---
    DemoCase(
        "neighbour-dispute-withdrawn",
        "officer",
        "330106001",
        "supervisor",
        9.0,
        _d(
            K.OTHER,
            C.WEB,
            "小区停车纠纷",
            "杭州市西湖区文一西路一小区",
            "本人休息日在小区内与邻居因停车位发生口角。",
        ),
        steps=(Withdraw("误提交：该事项系本人与邻居的生活纠纷，与履行职责无关，已由社区调解解决。"),),
    ),
    DemoCase(
        "apology-withdrawn",
        "officer2",
        "330102001",
        "supervisor",
        6.0,
        _d(
            K.INSULT_ON_SCENE,
            C.MOBILE_APP,
            "调解纠纷时遭一方当事人辱骂",
            "杭州市上城区清泰街一餐馆",
            "本人在清泰街一餐馆调解消费纠纷时，食客一方情绪激动，辱骂民警“狗仗人势”。",
            weapon=Weapon.NONE,
        ),
        suspects=(Party("郑某", status=Sp.IDENTIFIED),),
        steps=(Submit(), Withdraw("当事人已到派出所当面道歉并书面检讨，本人申请撤回维权申请。")),
    ),
    # --- intake ---
    DemoCase(
        "bar-assault-intake",
        "officer",
        "330106001",
        "supervisor",
        1.5,
        _d(
            K.VIOLENT_ATTACK,
            C.DISPATCH_110,
            "处置酒吧纠纷时遭醉酒男子殴打",
            "杭州市西湖区曙光路一酒吧门口",
            "凌晨1时许，本人与同事接110指令到曙光路一酒吧门口处置纠纷。醉酒男子黄某拒不听从劝阻，突然挥拳击打本人面部，"
            "又踢踹本人腿部，致本人鼻部出血、左膝挫伤。黄某当场被控制，执法记录仪完整记录了经过。",
            dispatch_ref="J330106202600412",
            weapon=Weapon.NONE,
            endangered_safety=False,
            officers_attacked=1,
            attackers=1,
            intoxicated=True,
            police_fault=PoliceFault.NONE,
        ),
        victims=(Victim(injury=Inj.SLIGHT, medical="鼻部软组织挫伤、左膝挫伤，已在浙大附属医院急诊处理"),),
        suspects=(Party("黄某", "330106199005121532", Sp.DETAINED),),
        steps=(
            Submit(),
            Support(SK.GREEN_CHANNEL, 0, SS.DELIVERED, notes="经绿色通道就诊，无需住院", started_days_ago=1),
            Assign(),
        ),
    ),
    DemoCase(
        "drunk-check-intake",
        "officer2",
        "330102001",
        "supervisor",
        3.0,
        _d(
            K.OBSTRUCTION,
            C.WEB,
            "酒驾检查时驾驶人拒不配合并推搡民警",
            "杭州市上城区望江路",
            "本人在望江路设卡开展酒驾查处，一名驾驶人拒绝吹气检测，下车后用身体冲撞、推搡民警，并拉扯本人警服致肩章脱落，"
            "阻碍检查约十五分钟，后被依法带离。",
            weapon=Weapon.NONE,
            officers_attacked=1,
            attackers=1,
            intoxicated=True,
        ),
        suspects=(Party("蒋某", status=Sp.ADMIN_DETAINED),),
        steps=(Submit(),),
    ),
    DemoCase(
        "bribery-accusation-intake",
        "officer_hubei",
        "420102001",
        "supervisor_hubei",
        20.0,
        _d(
            K.FALSE_ACCUSATION,
            C.MAILBOX,
            "当事人捏造事实举报民警索要财物",
            "武汉市江岸区大智派出所辖区",
            "本人依法处理一起寻衅滋事案后，违法行为人冯某向纪检部门实名举报本人在办案中索要现金两万元。"
            "经纪检部门初核，举报内容无任何证据支持，冯某本人亦承认系为发泄不满而编造。申请澄清正名并依法处理。",
            weapon=Weapon.NONE,
        ),
        suspects=(Party("冯某", status=Sp.IDENTIFIED),),
        steps=(Submit(),),
    ),
    DemoCase(
        "stalking-intake",
        "officer",
        "330106001",
        "county_supervisor",
        12.0,
        _d(
            K.STALKING_HARASSMENT,
            C.MOBILE_APP,
            "被处罚人多次跟踪骚扰民警并发送辱骂短信",
            "杭州市西湖区古墩路一小区门口",
            "因不满本人对其作出的行政拘留决定，许某解除拘留后多次在本人下班途中尾随，在本人住所小区门口蹲守，"
            "并连续发送辱骂、恐吓短信六十余条。",
            weapon=Weapon.NONE,
            prior_attack_on_police=False,
        ),
        suspects=(Party("许某", status=Sp.IDENTIFIED),),
        steps=(
            Submit(),
            Support(SK.RELATIVE_PROTECTION, 0, SS.IN_PROGRESS, started_days_ago=1, delivered_days_ago=None),
        ),
    ),
    DemoCase(
        "auxiliary-kicked-intake",
        "officer2",
        "330102001",
        "supervisor",
        2.0,
        _d(
            K.MINOR_RESISTANCE,
            C.WEB,
            "盘查时当事人挣脱并踢踹辅警",
            "杭州市上城区湖滨路地铁站出口",
            "本人带领辅警沈浩在湖滨路地铁站出口对一名形迹可疑人员进行盘查，对方拒不出示证件，甩手挣脱后踢踹沈浩小腿，"
            "后被控制。沈浩小腿皮肤擦伤。",
            weapon=Weapon.NONE,
            officers_attacked=1,
            attackers=1,
        ),
        victims=(Victim("沈浩", "F30588", OfficerType.AUXILIARY, injury=Inj.SLIGHT, medical="右小腿皮肤擦伤"),),
        suspects=(Party("韩某", status=Sp.IDENTIFIED),),
        steps=(Submit(),),
    ),
    # --- rejected ---
    DemoCase(
        "auxiliary-kicked-duplicate",
        "officer2",
        "330102001",
        "supervisor",
        2.0,
        _d(
            K.MINOR_RESISTANCE,
            C.MOBILE_APP,
            "辅警沈浩盘查时被踢伤",
            "杭州市上城区湖滨路",
            "同一事件：湖滨路地铁站出口盘查时辅警沈浩被踢伤。",
        ),
        victims=(Victim("沈浩", "F30588", OfficerType.AUXILIARY, injury=Inj.SLIGHT),),
        steps=(Submit(), Reject("与已受理的申请为同一事件的重复申请。", duplicate_of="auxiliary-kicked-intake")),
    ),
    DemoCase(
        "private-dispute-rejected",
        "officer_hubei",
        "420102001",
        "supervisor_hubei",
        15.0,
        _d(
            K.OTHER,
            C.WEB,
            "休息日与邻居因装修噪音发生口角",
            "武汉市江岸区后湖大道一小区",
            "本人休息日在家时，与楼上邻居因装修噪音问题发生口角，对方言语不敬。",
            weapon=Weapon.NONE,
        ),
        victims=(Victim(duty=DutyStatus.OFF_DUTY),),
        suspects=(Party("卢某", status=Sp.IDENTIFIED),),
        steps=(
            Submit(),
            Reject("属于民警个人生活纠纷，与履行职责无关，不属于维权受理范围；建议通过社区调解或民事途径解决。"),
        ),
    ),
    # --- referred ---
    DemoCase(
        "patrol-car-smashed-referred",
        "officer",
        "330106001",
        "supervisor",
        5.0,
        _d(
            K.ATTACK_ON_VEHICLE_OR_EQUIPMENT,
            C.DISPATCH_110,
            "醉酒男子持砖块砸毁巡逻警车",
            "杭州市西湖区文三路与学院路交叉口",
            "本人驾驶巡逻警车在文三路处置警情时，醉酒男子邓某持砖块连续砸击警车前挡风玻璃和车窗，玻璃碎片溅入车内，"
            "本人和同车辅警险些受伤。邓某被当场控制。",
            dispatch_ref="J330106202600398",
            weapon=Weapon.BLUNT,
            endangered_safety=True,
            could_cause_serious_harm=False,
            officers_attacked=2,
            attackers=1,
            intoxicated=True,
            major_property_loss=False,
            police_fault=PoliceFault.NONE,
        ),
        victims=(Victim(), Victim("潘立", "F30144", OfficerType.AUXILIARY)),
        suspects=(Party("邓某", status=Sp.DETAINED),),
        steps=(Submit(), Assign(), Refer(Track.CRIMINAL, "330106")),
    ),
    DemoCase(
        "traffic-insult-referred",
        "officer2",
        "330102001",
        "supervisor",
        7.0,
        _d(
            K.INSULT_ON_SCENE,
            C.MOBILE_APP,
            "处理交通违法时遭驾驶人辱骂并被拍视频",
            "杭州市上城区庆春路",
            "本人在庆春路查处一辆闯红灯的电动自行车，骑车人不服处罚，当众辱骂民警并录制视频，扬言发到网上让民警“社死”。",
            weapon=Weapon.NONE,
        ),
        suspects=(Party("曹某", status=Sp.IDENTIFIED),),
        steps=(Submit(), Refer(Track.ADMINISTRATIVE, "330102")),
    ),
    DemoCase(
        "crowd-siege-referred",
        "officer_hubei",
        "420102001",
        "supervisor_hubei",
        6.0,
        _d(
            K.SCENE_DISRUPTION,
            C.DISPATCH_110,
            "执法现场被多人围堵起哄阻挠带离",
            "武汉市江岸区黄浦大街一农贸市场",
            "本人在农贸市场依法带离一名殴打他人的违法嫌疑人时，其亲友五人围堵警车，起哄并煽动围观群众拍摄，"
            "拉扯车门阻止民警离开，现场秩序一度失控，增援警力到场后才将嫌疑人带离。",
            dispatch_ref="J420102202600876",
            weapon=Weapon.NONE,
            officers_attacked=2,
            attackers=5,
            organised_or_incited=True,
        ),
        victims=(Victim(), Victim("胡斌", "106271")),
        suspects=(Party("彭某", status=Sp.IDENTIFIED), Party("彭某某", status=Sp.IDENTIFIED)),
        steps=(Submit(), Refer(Track.ADMINISTRATIVE, "420102")),
    ),
    DemoCase(
        "wife-shop-smashed-referred",
        "officer",
        "330106001",
        "county_supervisor",
        4.0,
        _d(
            K.RETALIATION_RELATIVES,
            C.WEB,
            "民警妻子经营的店铺遭被处罚人打砸",
            "杭州市西湖区灵隐路一水果店",
            "本人妻子在灵隐路经营一家水果店。被本人依法处罚的程某带人到店内砸毁货架和收银台，扬言此事是因为民警“多管闲事”。",
            weapon=Weapon.BLUNT,
            attackers=2,
            major_property_loss=False,
        ),
        victims=(Victim(duty=DutyStatus.OFF_DUTY),),
        suspects=(Party("程某", status=Sp.IDENTIFIED), Party()),
        steps=(Submit(), Assign(), Refer(Track.ADMINISTRATIVE, "330106002")),
    ),
    # --- supervision ---
    DemoCase(
        "dispute-assault-supervision",
        "officer",
        "330106001",
        "supervisor",
        18.0,
        _d(
            K.VIOLENT_ATTACK,
            C.DISPATCH_110,
            "调解纠纷时遭当事人撕扯踢打致轻伤",
            "杭州市西湖区北山街一民宿",
            "本人接警到北山街一民宿处置房客与店主的纠纷。房客杨某拒不配合调查，突然将本人推倒并踢踹头面部，"
            "致本人左眼眶骨折。经鉴定为轻伤二级。杨某被同班民警当场控制。",
            dispatch_ref="J330106202600227",
            weapon=Weapon.NONE,
            endangered_safety=True,
            officers_attacked=1,
            attackers=1,
            intoxicated=False,
            police_fault=PoliceFault.NONE,
        ),
        victims=(Victim(injury=Inj.MINOR_2, medical="左眼眶内侧壁骨折，住院治疗六天"),),
        suspects=(Party("杨某", "330106198807234518", Sp.DETAINED),),
        steps=(
            Submit(),
            Support(SK.GREEN_CHANNEL, 0, SS.DELIVERED, started_days_ago=17, delivered_days_ago=17),
            Assign(),
            Refer(Track.CRIMINAL, "330106"),
            Acknowledge(f"杭西公刑立字〔{_Y}〕01532号"),
            Dispose(0, D.CRIMINAL_FILED, "刑法第277条第5款", days_ago=12),
            Support(SK.PSYCH_INTERVENTION, 0, SS.IN_PROGRESS, notes="每周一次心理疏导", delivered_days_ago=None),
            Support(SK.COMFORT_PAYMENT, 0, SS.DELIVERED, amount=3000, notes="局工会抚慰金", started_days_ago=10),
        ),
    ),
    DemoCase(
        "knife-attack-supervision",
        "officer_hubei",
        "420102001",
        "supervisor_hubei",
        25.0,
        _d(
            K.ARMED_ATTACK,
            C.DISPATCH_110,
            "持刀袭击处警民警",
            "武汉市江岸区中山大道一网吧",
            "本人接报中山大道一网吧有人持刀滋事，到场处置时，谢某持管制刀具向民警连刺数刀，本人左臂被刺伤，"
            "同事使用警械将其制服。本人伤情鉴定尚在进行中。",
            dispatch_ref="J420102202600701",
            weapon=Weapon.CONTROLLED_KNIFE,
            endangered_safety=True,
            could_cause_serious_harm=True,
            officers_attacked=2,
            attackers=1,
            police_fault=PoliceFault.NONE,
        ),
        victims=(
            Victim(injury=Inj.PENDING_APPRAISAL, medical="左上臂刀刺伤，肌腱部分断裂，已手术"),
            Victim("马骏", "106532", injury=Inj.SLIGHT, medical="右手掌划伤"),
        ),
        suspects=(Party("谢某", "42010219920311783X", Sp.ARRESTED),),
        steps=(
            Submit(),
            Support(SK.GREEN_CHANNEL, 0, SS.DELIVERED, started_days_ago=25, delivered_days_ago=25),
            Refer(Track.CRIMINAL, target=ReferralTarget.PROCURATORATE, body="武汉市江岸区人民检察院"),
            Acknowledge(f"江检捕诉提前介入〔{_Y}〕12号"),
            Dispose(0, D.CRIMINAL_FILED, "刑法第277条第5款", days_ago=20),
            Pause(PauseReason.APPRAISAL_PENDING, "等待司法鉴定中心出具伤情鉴定意见"),
            Support(SK.COMFORT_PAYMENT, 0, SS.OFFERED, amount=5000, started_days_ago=3, delivered_days_ago=None),
            Support(SK.DUTY_INJURY_CERTIFICATION, 0, SS.IN_PROGRESS, started_days_ago=5, delivered_days_ago=None),
        ),
    ),
    DemoCase(
        "defamation-post-supervision",
        "officer2",
        "330102001",
        "supervisor",
        30.0,
        _d(
            K.ONLINE_DEFAMATION,
            C.WEB,
            "微博发帖捏造民警“收黑钱”",
            "网络（微博）",
            "网民贺某在微博连续发帖，捏造本人在处理一起纠纷中“收黑钱、拉偏架”，附本人执勤照片，帖子阅读量超过八万次、"
            "转发一千二百余次，多家自媒体转载。",
            online_views=82000,
            online_reposts=1260,
            weapon=Weapon.NONE,
        ),
        suspects=(Party("贺某", status=Sp.IDENTIFIED),),
        steps=(
            Submit(),
            Refer(Track.ADMINISTRATIVE, "330102"),
            Acknowledge(f"杭上公行受字〔{_Y}〕00871号"),
            Support(SK.LEGAL_SERVICE, 0, SS.IN_PROGRESS, notes="法律顾问协助固定电子证据", delivered_days_ago=None),
            Support(SK.PUBLIC_OPINION_RESPONSE, None, SS.DELIVERED, notes="官方账号发布情况通报", started_days_ago=3),
        ),
    ),
    DemoCase(
        "ramming-fled-supervision",
        "officer",
        "330106001",
        "supervisor",
        14.0,
        _d(
            K.VEHICLE_RAMMING,
            C.DISPATCH_110,
            "拒检车辆冲撞执勤民警后逃逸",
            "杭州市西湖区天目山路与古墩路交叉口",
            "本人在天目山路设卡检查时，一辆无牌轿车拒不停车，加速冲向执勤民警，本人躲避时被车辆后视镜剐蹭倒地，"
            "驾驶人驾车逃离。经调查，驾驶人为有吸毒前科的叶某，目前在逃。",
            weapon=Weapon.NONE,
            vehicle_used=True,
            endangered_safety=True,
            could_cause_serious_harm=True,
            officers_attacked=1,
            attackers=1,
            suspect_escaped=True,
        ),
        victims=(Victim(injury=Inj.SLIGHT, medical="右肘、右髋部擦挫伤"),),
        suspects=(Party("叶某", status=Sp.AT_LARGE),),
        steps=(
            Submit(),
            Refer(Track.CRIMINAL, "330106"),
            Acknowledge(f"杭西公刑立字〔{_Y}〕01608号"),
            Dispose(0, D.AT_LARGE, days_ago=8),
            Pause(PauseReason.SUSPECT_AT_LARGE, "嫌疑人已上网追逃"),
            Support(SK.FUGITIVE_PURSUIT, None, SS.IN_PROGRESS, started_days_ago=8, delivered_days_ago=None),
        ),
    ),
    DemoCase(
        "doxxing-supervision",
        "officer2",
        "330102001",
        "supervisor",
        22.0,
        _d(
            K.DOXXING,
            C.MOBILE_APP,
            "网民公开民警家庭住址和电话号码",
            "网络（微信群）",
            "本人依法处理一起噪音扰民投诉后，被处罚人苏某在多个业主微信群发布本人姓名、手机号、家庭住址和车牌号，"
            "并号召他人“去他家门口讲讲道理”，此后本人多次接到骚扰电话。",
            personal_info_items=4,
            weapon=Weapon.NONE,
        ),
        suspects=(Party("苏某", status=Sp.IDENTIFIED),),
        steps=(
            Submit(),
            Refer(Track.ADMINISTRATIVE, "330102"),
            Acknowledge(f"杭上公行受字〔{_Y}〕00912号"),
            Support(SK.RELATIVE_PROTECTION, 0, SS.DELIVERED, notes="住所周边加强巡逻", started_days_ago=15),
        ),
    ),
    DemoCase(
        "torture-claim-supervision",
        "officer",
        "330106001",
        "county_supervisor",
        45.0,
        _d(
            K.FALSE_ACCUSATION,
            C.MAILBOX,
            "被告人诬告民警刑讯逼供",
            "杭州市西湖区北山派出所",
            "盗窃案被告人罗某在庭审中声称遭本人刑讯逼供。经调取讯问全程录音录像和看守所入所体检记录核查，"
            "所述情况与事实不符，且罗某在会见律师时曾表示“这样说能拖一拖”。",
            weapon=Weapon.NONE,
        ),
        suspects=(Party("罗某", status=Sp.ARRESTED),),
        steps=(
            Submit(),
            Refer(Track.ADMINISTRATIVE, "330106"),
            Acknowledge(f"杭西公行受字〔{_Y}〕02210号"),
            Support(SK.CLARIFICATION_NOTICE, 0, SS.IN_PROGRESS, notes="起草澄清通知书", delivered_days_ago=None),
            Finding(F.PROTRACTED, "承办单位受案已超过三十日，未作出处理决定，也未办理延长办案期限审批。"),
        ),
    ),
    DemoCase(
        "mediated-shove-reopened",
        "officer_hubei",
        "420102001",
        "supervisor_hubei",
        40.0,
        _d(
            K.OBSTRUCTION,
            C.WEB,
            "依法传唤时遭当事人推搡阻碍",
            "武汉市江岸区京汉大道一小区",
            "本人依法传唤违法嫌疑人熊某时，熊某在小区门口推搡本人，拉扯警服并阻止民警上车，阻碍执行职务约十分钟。",
            weapon=Weapon.NONE,
            officers_attacked=1,
            attackers=1,
            police_fault=PoliceFault.NONE,
        ),
        suspects=(Party("熊某", status=Sp.IDENTIFIED),),
        steps=(
            Submit(),
            Refer(Track.ADMINISTRATIVE, "420102"),
            Acknowledge(f"武岸公行受字〔{_Y}〕01377号"),
            Dispose(0, D.MEDIATION, "治安管理处罚法第9条", days_ago=6),
            Conclude(),
            Reopen(
                F.MEDIATION_OF_ATTACK,
                "民警依法执行职务时遭推搡，承办单位以治安调解结案，不符合治安调解的适用范围，责令重新作出处理。",
            ),
        ),
    ),
    # --- look-back ---
    DemoCase(
        "street-insult-lookback",
        "officer",
        "330106001",
        "county_supervisor",
        35.0,
        _d(
            K.INSULT_ON_SCENE,
            C.DISPATCH_110,
            "处警时遭当事人当众辱骂",
            "杭州市西湖区文三路一烧烤店门前",
            "本人处置烧烤店门前的一起斗殴警情时，当事人唐某当着数十名围观群众的面辱骂民警，并用手指戳本人胸口。",
            weapon=Weapon.NONE,
        ),
        suspects=(Party("唐某", status=Sp.RELEASED),),
        steps=(
            Submit(),
            Refer(Track.ADMINISTRATIVE, "330106"),
            Acknowledge(f"杭西公行受字〔{_Y}〕02077号"),
            Dispose(0, D.ADMIN_DETENTION_1_5, "治安管理处罚法第42条第2项", days_ago=5),
            Conclude(),
        ),
    ),
    DemoCase(
        "hotline-complaint-lookback",
        "officer2",
        "330102001",
        "supervisor",
        50.0,
        _d(
            K.UNTRUE_COMPLAINT,
            C.HOTLINE_12389,
            "12389投诉民警执法不公经核查不实",
            "杭州市上城区湖滨派出所辖区",
            "有群众通过12389举报电话投诉本人在处理一起邻里纠纷时偏袒一方。经督察部门调取执法记录仪、询问双方当事人，"
            "本人处置程序合法、用语规范，投诉内容不实。申请为本人澄清正名。",
            weapon=Weapon.NONE,
        ),
        suspects=(Party("魏某", status=Sp.IDENTIFIED),),
        steps=(
            Submit(),
            Refer(Track.ADMINISTRATIVE, "330102"),
            Acknowledge(f"杭上公督核字〔{_Y}〕00033号"),
            Dispose(0, D.NON_LEGAL_HANDLING, days_ago=8),
            Support(SK.CLARIFICATION_NOTICE, 0, SS.DELIVERED, notes="在全局通报中为民警澄清正名", started_days_ago=7),
            Conclude(),
        ),
    ),
    DemoCase(
        "revenge-threat-lookback",
        "officer_hubei",
        "420102001",
        "supervisor_hubei",
        38.0,
        _d(
            K.THREAT,
            C.MOBILE_APP,
            "被处罚人扬言报复办案民警",
            "武汉市江岸区大智派出所门口",
            "因不满行政处罚决定，吕某连续三天到派出所门口滞留，当众扬言要“让这个警察出不了门”，并称已知道民警住址。",
            weapon=Weapon.NONE,
        ),
        suspects=(Party("吕某", status=Sp.RELEASED),),
        steps=(
            Submit(),
            Refer(Track.ADMINISTRATIVE, "420102"),
            Acknowledge(f"武岸公行受字〔{_Y}〕01290号"),
            Dispose(0, D.ADMIN_DETENTION_6_10, "治安管理处罚法第42条第1项", days_ago=6),
            Support(SK.PSYCH_ASSESSMENT, 0, SS.DELIVERED, started_days_ago=10, delivered_days_ago=9),
            Conclude(),
        ),
    ),
    DemoCase(
        "probation-recalled",
        "officer",
        "330106001",
        "supervisor",
        95.0,
        _d(
            K.VIOLENT_ATTACK,
            C.DISPATCH_110,
            "盘查时民警被当事人拳击面部",
            "杭州市西湖区学院路一网吧",
            "本人在学院路一网吧对一名网上在逃人员进行盘查时，其同伴金某突然挥拳击打本人面部并试图带人逃离，后被当场控制。",
            weapon=Weapon.NONE,
            officers_attacked=1,
            attackers=1,
            police_fault=PoliceFault.NONE,
        ),
        victims=(Victim(injury=Inj.SLIGHT, medical="面部软组织挫伤"),),
        suspects=(Party("金某", status=Sp.RELEASED),),
        steps=(
            Submit(),
            Refer(Track.CRIMINAL, "330106"),
            Acknowledge(f"杭西公刑立字〔{_Y}〕00415号"),
            Dispose(0, D.CONVICTED_277_5_BASIC, "刑法第277条第5款", months=8, probation=True, days_ago=20),
            Conclude(),
            Close(notes="判决已生效，民警已收到判决书。"),
            Recall("年度维权案件“回头看”专项检查：判处缓刑，复核是否存在应当从重处罚的情节未被认定。"),
        ),
    ),
    # --- closed ---
    DemoCase(
        "night-market-assault-closed",
        "officer",
        "330106001",
        "supervisor",
        120.0,
        _d(
            K.VIOLENT_ATTACK,
            C.DISPATCH_110,
            "夜市处警时遭摊主殴打",
            "杭州市西湖区文一西路夜市",
            "本人在文一西路夜市处置占道经营纠纷，摊主施某拒不配合，用拳头击打本人头部，并将本人推倒在地。",
            weapon=Weapon.NONE,
            officers_attacked=1,
            attackers=1,
            police_fault=PoliceFault.NONE,
        ),
        victims=(Victim(injury=Inj.SLIGHT, medical="头皮血肿、右手擦伤"),),
        suspects=(Party("施某", status=Sp.RELEASED),),
        steps=(
            Submit(),
            Assign(),
            Refer(Track.CRIMINAL, "330106"),
            Acknowledge(f"杭西公刑立字〔{_Y}〕00212号"),
            Dispose(0, D.CRIMINAL_FILED, "刑法第277条第5款", days_ago=100),
            Dispose(0, D.CONVICTED_277_5_BASIC, "刑法第277条第5款", months=10, probation=False, days_ago=15),
            Support(SK.COMFORT_PAYMENT, 0, SS.DELIVERED, amount=2000, started_days_ago=110, delivered_days_ago=105),
            Conclude(),
            Close(notes="已向民警送达判决书。", support_delivered=True),
        ),
    ),
    DemoCase(
        "checkpoint-obstruction-closed",
        "officer2",
        "330102001",
        "supervisor",
        80.0,
        _d(
            K.OBSTRUCTION,
            C.WEB,
            "检查站驾驶人拒检并拖行民警",
            "杭州市上城区中河中路",
            "本人在中河中路检查站检查一辆面包车时，驾驶人袁某拒不熄火，缓慢起步拖行抓住车门的本人约三米，后被拦停。",
            weapon=Weapon.NONE,
            vehicle_used=True,
            endangered_safety=False,
            officers_attacked=1,
            attackers=1,
        ),
        suspects=(Party("袁某", status=Sp.RELEASED),),
        steps=(
            Submit(),
            Refer(Track.ADMINISTRATIVE, "330102"),
            Acknowledge(f"杭上公行受字〔{_Y}〕00455号"),
            Dispose(0, D.ADMIN_DETENTION_11_15, "治安管理处罚法第50条第1款第2项", days_ago=60),
            Conclude(),
            Close(notes="处罚决定书副本已送达民警。"),
        ),
    ),
    DemoCase(
        "video-insult-closed",
        "officer_hubei",
        "420102001",
        "supervisor_hubei",
        70.0,
        _d(
            K.ONLINE_DEFAMATION,
            C.MOBILE_APP,
            "短视频平台发布侮辱民警视频",
            "网络（短视频平台）",
            "网民邹某将本人执法视频配上侮辱性字幕发布至短视频平台，浏览量约六千次，评论区出现大量针对本人的辱骂。",
            online_views=6100,
            online_reposts=210,
            weapon=Weapon.NONE,
        ),
        suspects=(Party("邹某", status=Sp.RELEASED),),
        steps=(
            Submit(),
            Refer(Track.ADMINISTRATIVE, "420102"),
            Acknowledge(f"武岸公行受字〔{_Y}〕00988号"),
            Dispose(0, D.ADMIN_DETENTION_1_5, "治安管理处罚法第42条第2项", days_ago=45),
            Support(SK.CLARIFICATION_NOTICE, 0, SS.DELIVERED, notes="平台发布澄清说明", started_days_ago=44),
            Conclude(),
            Close(clarification_issued=True, support_delivered=True),
        ),
    ),
    DemoCase(
        "shaking-off-closed",
        "officer",
        "330106001",
        "county_supervisor",
        60.0,
        _d(
            K.MINOR_RESISTANCE,
            C.MOBILE_APP,
            "强制带离时当事人挣扎踢踹",
            "杭州市西湖区灵隐路景区停车场",
            "本人在灵隐景区停车场处置一起醉酒滋事警情，对戴某采取强制带离措施时，其挣扎踢踹，致本人手部轻微擦伤。",
            weapon=Weapon.NONE,
            intoxicated=True,
        ),
        victims=(Victim(injury=Inj.NONE),),
        suspects=(Party("戴某", status=Sp.IDENTIFIED),),
        steps=(
            Submit(),
            Refer(Track.ADMINISTRATIVE, "330106003"),
            Acknowledge(f"杭西公（文）行受字〔{_Y}〕00318号"),
            Dispose(0, D.ADMIN_FINE, "治安管理处罚法第50条第1款第2项", days_ago=40),
            Conclude(),
            Close(),
        ),
    ),
    DemoCase(
        "private-car-scratched-closed",
        "officer2",
        "330102001",
        "supervisor",
        75.0,
        _d(
            K.PROPERTY_DAMAGE,
            C.WEB,
            "民警私家车遭报复划伤",
            "杭州市上城区清波街一小区地下车库",
            "本人停放在小区车库的私家车被人划伤车身、扎破两只轮胎。经调取监控，系半月前被本人依法处罚的任某所为。",
            weapon=Weapon.NONE,
        ),
        victims=(Victim(duty=DutyStatus.OFF_DUTY),),
        suspects=(Party("任某", status=Sp.RELEASED),),
        steps=(
            Submit(),
            Refer(Track.ADMINISTRATIVE, "330102002"),
            Acknowledge(f"杭上公（清）行受字〔{_Y}〕00127号"),
            Dispose(0, D.ADMIN_DETENTION_6_10, "治安管理处罚法第49条", days_ago=55),
            Support(SK.CIVIL_CLAIM_SUPPORT, 0, SS.DELIVERED, notes="协助民警获得赔偿4200元", started_days_ago=50),
            Conclude(),
            Close(support_delivered=True),
        ),
    ),
    DemoCase(
        "equipment-snatched-closed",
        "officer_hubei",
        "420102001",
        "supervisor_hubei",
        150.0,
        _d(
            K.ATTACK_ON_VEHICLE_OR_EQUIPMENT,
            C.DISPATCH_110,
            "执法记录仪被当事人抢夺摔毁",
            "武汉市江岸区沿江大道一工地",
            "本人在沿江大道一工地处置欠薪纠纷时，包工头方某抢夺本人佩戴的执法记录仪并摔毁，推搡民警阻止取证。",
            weapon=Weapon.NONE,
            endangered_safety=False,
            officers_attacked=1,
            attackers=1,
        ),
        suspects=(Party("方某", status=Sp.RELEASED),),
        steps=(
            Submit(),
            Refer(Track.CRIMINAL, "420102"),
            Acknowledge(f"武岸公刑立字〔{_Y}〕00268号"),
            Dispose(0, D.CONVICTED_277_1, "刑法第277条第1款", months=8, probation=True, days_ago=30),
            Conclude(),
            Close(notes="判决书已送达民警。"),
        ),
    ),
    DemoCase(
        "anonymous-account-closed",
        "officer2",
        "330102001",
        "supervisor",
        100.0,
        _d(
            K.ONLINE_DEFAMATION,
            C.WEB,
            "匿名账号散布民警“打人”谣言",
            "网络（微博）",
            "一匿名微博账号发布本人“在湖滨路殴打外卖骑手”的不实信息，并附无关视频，阅读量约三千次。",
            online_views=3100,
            online_reposts=95,
            weapon=Weapon.NONE,
        ),
        suspects=(Party(),),
        steps=(
            Submit(),
            Refer(Track.ADMINISTRATIVE, "330102"),
            Acknowledge(f"杭上公行受字〔{_Y}〕00301号"),
            Support(SK.CLARIFICATION_NOTICE, 0, SS.DELIVERED, notes="官方微博发布辟谣通报", started_days_ago=90),
            Conclude(
                "发帖账号使用境外虚拟号码注册，经平台协查仍无法查明发布者身份；相关帖文已删除，已为民警澄清正名。"
            ),
            Close(clarification_issued=True, support_delivered=True),
        ),
    ),
)


def _play(spec: DemoCase, units: dict[str, OrgUnit], users: dict[str, User], played: dict[str, Case]) -> Case:
    """File one demo case as its officer, then take it through its steps as its supervisor, all via the services."""
    filer, handler = users[spec.filer], users[spec.handler]
    now = timezone.now()
    today = timezone.localdate(now)
    details = {**spec.details, "occurred_at": now - timedelta(days=spec.days_ago)}
    files_for_self = any(not v.name for v in spec.victims)
    case = services.create_draft_case(
        by=filer, unit=units[spec.unit], details=details, add_filer_as_officer=files_for_self
    )
    officers: list[InvolvedOfficer] = []
    for v in spec.victims:
        fields = {"officer_type": v.officer_type, "duty_status": v.duty, "injury": v.injury, "medical_notes": v.medical}
        if v.name:
            officers.append(
                services.add_involved_officer(case=case, by=filer, name=v.name, badge_number=v.badge, **fields)
            )
        else:
            own = case.officers.get(user=filer)
            officers.append(services.update_involved_officer(officer=own, by=filer, **fields))
    suspects = [
        services.add_suspect(case=case, by=filer, name=p.name, id_number=p.id_number, status=p.status)
        for p in spec.suspects
    ]
    for step in spec.steps:
        kw: dict[str, Any] = {"case": case, "by": handler, "expected_version": None}
        match step:
            case Submit():
                services.submit_case(**{**kw, "by": filer})
            case Withdraw(reason=reason):
                services.withdraw_case(**{**kw, "by": filer}, reason=reason)
            case Reject(reason=reason, duplicate_of=key):
                services.reject_case(**kw, reason=reason, duplicate_of=played[key].reference if key else "")
            case Assign():
                services.assign_case(**kw, assignee=handler)
            case Refer():
                services.refer_case(
                    **kw,
                    track=step.track,
                    target=step.target,
                    to_unit=units[step.unit] if step.unit else None,
                    body_name=step.body,
                )
            case Acknowledge(external_reference=ref):
                services.acknowledge_referral(**kw, external_reference=ref.replace(_Y, str(today.year)))
            case Dispose():
                services.record_disposition(
                    suspect=suspects[step.suspect],
                    by=handler,
                    disposition=step.disposition,
                    disposition_article=step.article,
                    sentence_months=step.months,
                    probation=step.probation,
                    decided_at=today - timedelta(days=step.days_ago),
                    lowered_reason=step.lowered_reason,
                )
            case Support():
                services.record_support_measure(
                    case=case,
                    by=handler,
                    kind=step.kind,
                    officer=officers[step.officer] if step.officer is not None else None,
                    status=step.status,
                    amount=Decimal(step.amount) if step.amount is not None else None,
                    started_on=today - timedelta(days=step.started_days_ago),
                    delivered_on=(
                        today - timedelta(days=step.delivered_days_ago) if step.delivered_days_ago is not None else None
                    ),
                    notes=step.notes,
                )
            case Finding():
                services.raise_finding(
                    case=case,
                    by=handler,
                    problem=step.problem,
                    detail=step.detail,
                    rectify_by=today + timedelta(days=step.rectify_in_days),
                )
            case Pause(reason=reason, note=note):
                services.pause_clock(**kw, reason=reason, note=note)
            case Conclude(reason=reason):
                services.conclude_case(**kw, reason=reason)
            case Reopen(problem=problem, detail=detail):
                services.reopen_case(**kw, problem=problem, detail=detail, rectify_by=today + timedelta(days=15))
            case Close():
                services.close_case(
                    **kw,
                    officer_informed=True,
                    disposition_consistent=True,
                    support_delivered=step.support_delivered,
                    clarification_issued=step.clarification_issued,
                    notes=step.notes,
                )
            case Recall(reason=reason):
                services.recall_case(**kw, reason=reason)
    case.refresh_from_db()
    return case


def demo_cases_exist(users: dict[str, User]) -> bool:
    return Case.objects.filter(filed_by__in=[users[name] for name in DEMO_OFFICERS]).exists()


def seed_demo_cases(units: dict[str, OrgUnit], users: dict[str, User]) -> int:
    """Play the demo cases through the services, unless a demo officer has filed anything already."""
    if demo_cases_exist(users):
        return 0
    played: dict[str, Case] = {}
    # One transaction: an interrupted run leaves no half-built demo world that would block the next one.
    with _quiet_task_log(), transaction.atomic():
        for spec in DEMO_CASES:
            played[spec.key] = _play(spec, units, users, played)
    return len(played)


@contextmanager
def _quiet_task_log() -> Iterator[None]:
    """Notification tasks run in-process without a broker and log a line each; the operator needs the summary."""
    logger = logging.getLogger("celery.app.trace")
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)


# --- Synthetic cases, bulk-inserted ---------------------------------------------------------------------------

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆"
    "汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建文辉力鹏飞斌波宇浩凯俊峰健晨阳林海东亮红玲雪梅晓燕志国"


def _one(rng: random.Random, seq: Sequence[_T]) -> _T:
    # rng.choice and rng.randrange draw bits in a loop; one float is several times cheaper and just as uniform
    # for the generator's purposes, which matters at a dozen draws per case.
    return seq[int(rng.random() * len(seq))]


def _below(rng: random.Random, n: int) -> int:
    return int(rng.random() * n)


def _between(rng: random.Random, low: int, high: int) -> int:
    return low + int(rng.random() * (high - low))


def _person_name(rng: random.Random) -> str:
    given = _one(rng, GIVEN) + (_one(rng, GIVEN) if rng.random() < 0.7 else "")
    return _one(rng, SURNAMES) + given


def _masked_name(rng: random.Random) -> str:
    # Case files name private parties by surname only, the way published decisions do.
    return _one(rng, SURNAMES) + ("某" if rng.random() < 0.75 else "某某")


ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _fake_id_number(rng: random.Random, region: str, born: date) -> str:
    """A well-formed but invented resident ID number (region, birth date, sequence, ISO 7064 check digit)."""
    body = f"{region[:6]}{born.year:04d}{born.month:02d}{born.day:02d}{_below(rng, 1000):03d}"
    return body + "10X98765432"[sum(map(operator.mul, map(int, body), ID_WEIGHTS)) % 11]


class _Weighted:
    """rng.choices with the cumulative weights computed once."""

    def __init__(self, pairs: Sequence[tuple[Any, float]]) -> None:
        self.values = [v for v, _w in pairs]
        self.cum = list(accumulate(w for _v, w in pairs))
        self.total = self.cum[-1]

    def pick(self, rng: random.Random) -> Any:
        return self.values[bisect(self.cum, rng.random() * self.total)]


def _w(*pairs: tuple[Any, float]) -> _Weighted:
    return _Weighted(pairs)


KIND_MIX = _w(
    (K.OBSTRUCTION, 17),
    (K.VIOLENT_ATTACK, 15),
    (K.INSULT_ON_SCENE, 12),
    (K.MINOR_RESISTANCE, 10),
    (K.ONLINE_DEFAMATION, 9),
    (K.UNTRUE_COMPLAINT, 8),
    (K.THREAT, 6),
    (K.FALSE_ACCUSATION, 4),
    (K.SCENE_DISRUPTION, 4),
    (K.ATTACK_ON_VEHICLE_OR_EQUIPMENT, 3),
    (K.DOXXING, 2.5),
    (K.STALKING_HARASSMENT, 2),
    (K.PROPERTY_DAMAGE, 1.5),
    (K.RETALIATION_OFF_DUTY, 1.5),
    (K.RETALIATION_RELATIVES, 1),
    (K.ARMED_ATTACK, 1),
    (K.VEHICLE_RAMMING, 1),
    (K.OTHER, 1),
)
CHANNEL_ON_SCENE = _w(
    (C.DISPATCH_110, 35), (C.MOBILE_APP, 30), (C.WEB, 20), (C.OWN_MOTION, 10), (C.HOTLINE_12389, 3), (C.MAILBOX, 2)
)
CHANNEL_REMOTE = _w(
    (C.WEB, 38), (C.MOBILE_APP, 35), (C.OWN_MOTION, 12), (C.HOTLINE_12389, 8), (C.MAILBOX, 6), (C.DISPATCH_110, 1)
)
INJURY_SEVERE = _w(
    (Inj.NONE, 25), (Inj.SLIGHT, 40), (Inj.MINOR_2, 15), (Inj.MINOR_1, 7), (Inj.SERIOUS_2, 4), (Inj.SERIOUS_1, 1.5),
    (Inj.DEATH, 0.2), (Inj.PENDING_APPRAISAL, 6), (Inj.NOT_APPRAISED, 1.3),
)  # fmt: skip
INJURY_PHYSICAL = _w(
    (Inj.NONE, 40), (Inj.SLIGHT, 42), (Inj.MINOR_2, 8), (Inj.MINOR_1, 2.5), (Inj.SERIOUS_2, 0.8), (Inj.SERIOUS_1, 0.2),
    (Inj.DEATH, 0.03), (Inj.PENDING_APPRAISAL, 4.5), (Inj.NOT_APPRAISED, 2),
)  # fmt: skip
INJURY_LIGHT = _w(
    (Inj.NONE, 72), (Inj.SLIGHT, 24), (Inj.MINOR_2, 1.2), (Inj.PENDING_APPRAISAL, 1.5), (Inj.NOT_APPRAISED, 1.3)
)
POLICE_FAULT = _w(
    (PoliceFault.NONE, 80), (PoliceFault.UNKNOWN, 12), (PoliceFault.MINOR, 6), (PoliceFault.LARGE, 1.5),
    (PoliceFault.SERIOUS, 0.5),
)  # fmt: skip
ADMIN_OUTCOME = _w(
    (D.NO_ACTION, 1.5), (D.NON_LEGAL_HANDLING, 4), (D.MEDIATION, 3), (D.NO_PUNISHMENT, 2.5), (D.ADMIN_WARNING, 10),
    (D.ADMIN_FINE, 18), (D.ADMIN_DETENTION_1_5, 25), (D.ADMIN_DETENTION_6_10, 24), (D.ADMIN_DETENTION_11_15, 12),
)  # fmt: skip
SPEECH_OUTCOME = _w(
    (D.NO_ACTION, 2), (D.NON_LEGAL_HANDLING, 5), (D.MEDIATION, 3), (D.ADMIN_WARNING, 15), (D.ADMIN_FINE, 25),
    (D.ADMIN_DETENTION_1_5, 35), (D.ADMIN_DETENTION_6_10, 15),
)  # fmt: skip
COMPLAINT_OUTCOME = _w((D.NON_LEGAL_HANDLING, 70), (D.NO_ACTION, 25), (D.ADMIN_WARNING, 5))
CRIMINAL_OUTCOME = _w(
    (D.CRIMINAL_NON_PROSECUTION, 10), (D.CONVICTED_277_1, 18), (D.CONVICTED_277_5_BASIC, 45),
    (D.CONVICTED_277_5_AGGRAVATED, 8), (D.CONVICTED_OTHER, 12), (D.CONVICTED_SERIOUS, 2), (D.ADMIN_DETENTION_11_15, 5),
)  # fmt: skip
CRIMINAL_GRAVE_OUTCOME = _w(
    (D.CONVICTED_277_5_AGGRAVATED, 30), (D.CONVICTED_SERIOUS, 25), (D.CONVICTED_277_5_BASIC, 25),
    (D.CONVICTED_OTHER, 10), (D.CRIMINAL_NON_PROSECUTION, 5), (D.CONVICTED_277_1, 5),
)  # fmt: skip
CRIMINAL_SPEECH_OUTCOME = _w((D.CONVICTED_OTHER, 70), (D.CRIMINAL_NON_PROSECUTION, 20), (D.ADMIN_DETENTION_11_15, 10))
PENDING_ADMIN = _w((D.UNDER_INVESTIGATION, 85), (D.AT_LARGE, 10), (D.APPRAISAL_PENDING, 5))
PENDING_CRIMINAL = _w(
    (D.UNDER_INVESTIGATION, 35), (D.CRIMINAL_FILED, 25), (D.AWAITING_PROSECUTION, 15), (D.AWAITING_TRIAL, 12),
    (D.AT_LARGE, 8), (D.APPRAISAL_PENDING, 5),
)  # fmt: skip
OFFICER_COUNT = _w((1, 70), (2, 22), (3, 6), (4, 2))
SUSPECTS_COMPLAINT = _w((0, 40), (1, 60))
SUSPECTS_CROWD = _w((1, 40), (2, 35), (3, 25))
SUSPECTS_PHYSICAL = _w((0, 4), (1, 72), (2, 17), (3, 7))
SUSPECTS_OTHER = _w((0, 8), (1, 85), (2, 6), (3, 1))
WEAPON_ARMED = _w((Weapon.CONTROLLED_KNIFE, 45), (Weapon.BLUNT, 30), (Weapon.OTHER_LETHAL, 20), (Weapon.GUN, 5))
WEAPON_PHYSICAL = _w((Weapon.NONE, 72), (Weapon.BLUNT, 10), (Weapon.UNKNOWN, 15), (Weapon.CONTROLLED_KNIFE, 3))
COMFORT_AMOUNTS = (500, 1000, 1000, 2000, 2000, 3000, 5000, 5000, 8000, 10000, 20000, 50000)

SUSPECT_STATUS_FOR: dict[str, tuple[str, ...]] = {
    D.UNDER_INVESTIGATION: (Sp.IDENTIFIED, Sp.IDENTIFIED, Sp.BAIL),
    D.APPRAISAL_PENDING: (Sp.IDENTIFIED, Sp.BAIL),
    D.AT_LARGE: (Sp.AT_LARGE,),
    D.AWAITING_PROSECUTION: (Sp.ARRESTED, Sp.BAIL, Sp.RESIDENTIAL_SURVEILLANCE),
    D.AWAITING_TRIAL: (Sp.ARRESTED, Sp.BAIL),
    D.APPEAL_PENDING: (Sp.ARRESTED,),
    D.CRIMINAL_FILED: (Sp.DETAINED, Sp.ARRESTED, Sp.BAIL),
    D.CRIMINAL_NON_PROSECUTION: (Sp.RELEASED,),
    D.ADMIN_DETENTION_1_5: (Sp.RELEASED,),
    D.ADMIN_DETENTION_6_10: (Sp.RELEASED,),
    D.ADMIN_DETENTION_11_15: (Sp.RELEASED,),
}
CONVICTIONS = {
    D.CONVICTED_277_1: (6, 30, 0.4),
    D.CONVICTED_277_5_BASIC: (6, 36, 0.35),
    D.CONVICTED_277_5_AGGRAVATED: (36, 84, 0.0),
    D.CONVICTED_OTHER: (6, 60, 0.3),
    D.CONVICTED_SERIOUS: (36, 180, 0.0),
}

PHYSICAL_KINDS = frozenset(
    {
        K.VIOLENT_ATTACK,
        K.ARMED_ATTACK,
        K.VEHICLE_RAMMING,
        K.RETALIATION_OFF_DUTY,
        K.OBSTRUCTION,
        K.MINOR_RESISTANCE,
        K.SCENE_DISRUPTION,
        K.ATTACK_ON_VEHICLE_OR_EQUIPMENT,
    }
)
ONLINE_KINDS = frozenset({K.ONLINE_DEFAMATION, K.DOXXING})
SPEECH_KINDS = frozenset({K.INSULT_ON_SCENE, K.ONLINE_DEFAMATION, K.THREAT, K.STALKING_HARASSMENT, K.DOXXING})
CLARIFICATION_KINDS = frozenset({K.UNTRUE_COMPLAINT, K.FALSE_ACCUSATION, K.ONLINE_DEFAMATION})
CRIMINAL_SHARE: dict[str, float] = {
    K.ARMED_ATTACK: 0.95,
    K.VEHICLE_RAMMING: 0.9,
    K.VIOLENT_ATTACK: 0.6,
    K.RETALIATION_OFF_DUTY: 0.5,
    K.ATTACK_ON_VEHICLE_OR_EQUIPMENT: 0.45,
    K.OBSTRUCTION: 0.2,
    K.SCENE_DISRUPTION: 0.25,
    K.DOXXING: 0.25,
    K.FALSE_ACCUSATION: 0.2,
    K.ONLINE_DEFAMATION: 0.08,
    K.RETALIATION_RELATIVES: 0.3,
    K.STALKING_HARASSMENT: 0.1,
    K.PROPERTY_DAMAGE: 0.1,
}
ADMIN_ARTICLE: dict[str, str] = {
    K.VIOLENT_ATTACK: "治安管理处罚法第43条",
    K.RETALIATION_OFF_DUTY: "治安管理处罚法第43条",
    K.RETALIATION_RELATIVES: "治安管理处罚法第43条",
    K.INSULT_ON_SCENE: "治安管理处罚法第42条第2项",
    K.ONLINE_DEFAMATION: "治安管理处罚法第42条第2项",
    K.THREAT: "治安管理处罚法第42条第1项",
    K.STALKING_HARASSMENT: "治安管理处罚法第42条第5项",
    K.FALSE_ACCUSATION: "治安管理处罚法第42条第3项",
    K.DOXXING: "治安管理处罚法第42条第6项",
    K.PROPERTY_DAMAGE: "治安管理处罚法第49条",
    K.SCENE_DISRUPTION: "治安管理处罚法第23条",
}
OTHER_OFFENCE: dict[str, str] = {
    K.ONLINE_DEFAMATION: "刑法第246条",
    K.FALSE_ACCUSATION: "刑法第243条",
    K.DOXXING: "刑法第253条之一",
    K.STALKING_HARASSMENT: "刑法第293条",
    K.SCENE_DISRUPTION: "刑法第293条",
    K.PROPERTY_DAMAGE: "刑法第275条",
}

# Per incident type: summaries and narratives, paired by position.
TEXTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    K.VIOLENT_ATTACK: (
        ("处警时遭{suspect}殴打", "盘查过程中民警被{suspect}拳击面部"),
        (
            "{md}，{station}民警{officer}接110指令至{place}处置纠纷警情。处置过程中{suspect}情绪激动，拒不配合，"
            "对民警拳打脚踢。现场执法记录仪记录了全过程，同班民警及时将其控制。",
            "{md}晚，民警{officer}在{place}开展巡查，对形迹可疑人员进行盘查时，{suspect}突然挥拳击打民警面部并试图逃离，"
            "后被当场控制。民警受伤后被送医检查。",
        ),
    ),
    K.ATTACK_ON_VEHICLE_OR_EQUIPMENT: (
        ("{suspect}砸毁警车车窗", "执法记录仪被当事人抢夺摔毁"),
        (
            "{md}，民警{officer}驾驶警车在{place}处置警情时，{suspect}持砖块砸向警车，致前挡风玻璃破碎，车内民警险些受伤。",
            "{md}，民警{officer}在{place}查处违法行为时，{suspect}抢夺民警佩戴的执法记录仪并摔毁，阻止民警取证。",
        ),
    ),
    K.ARMED_ATTACK: (
        ("{suspect}持刀袭击处警民警", "当事人持木棍追打民警"),
        (
            "{md}，{station}接报{place}有人持刀滋事。民警{officer}到场处置时，{suspect}持刀具向民警刺来，"
            "民警使用警械将其制服，过程中民警受伤。",
            "{md}，民警{officer}在{place}劝阻一起斗殴，{suspect}手持木棍追打民警，多次击中民警头部和手臂。",
        ),
    ),
    K.VEHICLE_RAMMING: (
        ("拒检车辆冲撞执勤民警", "驾驶人驾车冲撞警车后逃离"),
        (
            "{md}，民警{officer}在{place}设卡开展酒驾查处，一辆轿车拒不停车接受检查，加速冲向执勤民警，民警躲避不及被剐蹭倒地。",
            "{md}，民警{officer}在{place}拦截一辆涉案车辆，驾驶人{suspect}突然倒车并加速冲撞警车，随后驾车逃离现场。",
        ),
    ),
    K.THREAT: (
        ("被处罚人电话威胁民警人身安全", "当事人扬言报复办案民警"),
        (
            "{md}起，因不满处罚决定，{suspect}多次拨打民警{officer}的电话，扬言“要让你出不了门”，并称知道民警住址。",
            "{md}，民警{officer}在{place}依法处置后，{suspect}当众扬言要报复民警及其家人，并多次到单位门口滞留。",
        ),
    ),
    K.OBSTRUCTION: (
        ("交通检查时驾驶人拒不配合并推搡民警", "传唤过程中当事人阻碍民警执行职务"),
        (
            "{md}，民警{officer}在{place}开展交通秩序整治，驾驶人{suspect}拒不出示证件，用身体阻挡、推搡民警，"
            "并拉扯民警警服，致执法工作中断。",
            "{md}，民警{officer}依法传唤{suspect}时，其本人及亲属在{place}围堵民警、拉扯警车车门，阻碍民警执行职务约二十分钟。",
        ),
    ),
    K.MINOR_RESISTANCE: (
        ("盘查时当事人挣脱并踢踹民警", "强制带离时当事人抗拒挣扎"),
        (
            "{md}，民警{officer}在{place}对{suspect}进行盘查，其拒绝配合并甩手挣脱、踢踹民警腿部，后被依法带离。",
            "{md}，民警{officer}在{place}处置醉酒滋事警情，对{suspect}采取强制带离措施时，其挣扎踢踹，致民警手部擦伤。",
        ),
    ),
    K.INSULT_ON_SCENE: (
        ("处警时遭当事人当众辱骂", "查处违法时当事人对民警进行侮辱"),
        (
            "{md}，民警{officer}在{place}处置警情时，{suspect}当着围观群众的面用污言秽语辱骂民警十余分钟，并用手指戳民警胸口。",
            "{md}，民警{officer}在{place}依法查处违法行为，{suspect}不满处罚，对民警进行人格侮辱，并录制视频扬言要发到网上。",
        ),
    ),
    K.ONLINE_DEFAMATION: (
        ("网络发布不实视频诋毁执法民警", "微信群内散布侮辱民警的言论"),
        (
            "{md}，{suspect}将民警{officer}在{place}执法的视频剪辑后发布至短视频平台，配以“暴力执法”等不实文字，"
            "视频浏览量超过{views}次。",
            "{md}起，{suspect}在多个微信群发布侮辱民警{officer}的言论和图片，捏造民警“收黑钱”等情节，造成恶劣影响。",
        ),
    ),
    K.FALSE_ACCUSATION: (
        ("当事人捏造事实举报民警索贿", "被告人诬告民警刑讯逼供"),
        (
            "{md}，{suspect}向纪检监察部门实名举报民警{officer}在办案中索要财物。经调查，举报内容系其为报复民警依法处罚而捏造。",
            "{md}，{suspect}在案件审理期间声称遭民警{officer}刑讯逼供，经调取执法记录仪和讯问录像核查，所述情况与事实不符。",
        ),
    ),
    K.UNTRUE_COMPLAINT: (
        ("12389投诉民警执法不公经核查不实", "信访反映民警态度粗暴经核查失实"),
        (
            "{md}，有群众通过12389举报电话投诉民警{officer}在{place}处警时偏袒一方。经督察部门调查核实，"
            "民警处置程序合法、执法规范，投诉不实，申请为民警澄清正名。",
            "{md}，{suspect}信访反映民警{officer}接处警时态度粗暴。经调取执法记录仪核查，民警用语规范，反映情况不属实。",
        ),
    ),
    K.DOXXING: (
        ("民警个人信息被人肉搜索并公开", "网民公开民警及其子女的个人信息"),
        (
            "{md}，民警{officer}在{place}执法后，有网民将其姓名、警号、手机号码及家庭住址等{items}项个人信息发布至网络论坛，"
            "并号召他人“上门讨说法”。",
            "{md}，{suspect}在社交平台公布民警{officer}及其子女就读学校等信息，随后多名陌生人拨打民警电话进行骚扰。",
        ),
    ),
    K.STALKING_HARASSMENT: (
        ("被处罚人多次跟踪骚扰民警", "当事人反复发送辱骂恐吓短信"),
        (
            "{md}以来，{suspect}因对处罚决定不满，多次在民警{officer}下班途中尾随，并在其住所小区门口蹲守。",
            "{md}起，{suspect}连续多日向民警{officer}发送辱骂、恐吓短信百余条，严重影响民警正常生活。",
        ),
    ),
    K.RETALIATION_OFF_DUTY: (
        ("民警下班途中遭被处理人报复殴打", "休息日民警遭报复伤害"),
        (
            "{md}晚，民警{officer}下班途经{place}时，曾被其依法处理的{suspect}纠集他人对其进行殴打，事后逃离。",
            "{md}，民警{officer}休息期间在{place}购物时，被曾因其查处而受到处罚的{suspect}认出并遭殴打。",
        ),
    ),
    K.RETALIATION_RELATIVES: (
        ("民警家属经营店铺遭报复打砸", "民警子女遭被处罚人恐吓"),
        (
            "{md}，民警{officer}妻子在{place}经营的店铺被{suspect}等人打砸，对方扬言此事系因民警“多管闲事”。",
            "{md}，{suspect}在民警{officer}子女学校门口拦截并恐吓其子女，称要让民警“付出代价”。",
        ),
    ),
    K.SCENE_DISRUPTION: (
        ("执法现场遭多人围堵起哄", "煽动围观群众阻挠民警带离嫌疑人"),
        (
            "{md}，民警{officer}在{place}查处违法行为时，{suspect}等{attackers}人围堵民警、起哄煽动围观群众，阻挠民警正常执法。",
            "{md}，民警{officer}在{place}依法带离违法嫌疑人时，{suspect}煽动在场人员围堵警车，现场秩序一度失控。",
        ),
    ),
    K.PROPERTY_DAMAGE: (
        ("民警私家车遭报复损毁", "民警个人财物被当事人故意损坏"),
        (
            "{md}夜间，民警{officer}停放在{place}的私家车被人划伤车身、扎破轮胎，经调查系{suspect}因不满处罚所为。",
            "{md}，民警{officer}在{place}处置警情时，{suspect}将民警个人手机抢过并摔坏。",
        ),
    ),
    K.OTHER: (
        ("民警执法权益受到其他侵害",),
        ("{md}，民警{officer}在{place}履行职责过程中合法权益受到侵害，具体情况见所附材料。",),
    ),
}
PLACES = (
    "{road}与{road2}交叉口",
    "{road}{n}号附近",
    "{road}一小区门口",
    "{road}一烧烤店门前",
    "{road}一商场停车场",
    "{road}公交站台",
    "{road}一酒吧门口",
    "{road}一网吧内",
    "{road}农贸市场",
    "{road}地铁站出口",
    "{road}一医院急诊大厅",
    "{road}一工地",
)
ONLINE_PLACES = ("网络（短视频平台）", "网络（微信群）", "网络（微博）", "网络（本地论坛）")
NO_SUSPECT_REASON = {
    K.UNTRUE_COMPLAINT: "经核查投诉不实，已为民警澄清正名，无需追究投诉人责任。",
    K.ONLINE_DEFAMATION: "发帖人身份经平台协查仍无法查明，相关内容已删除，已为民警澄清正名。",
    K.DOXXING: "信息发布者身份无法查明，相关信息已删除，已对民警及家属落实保护措施。",
}
NO_SUSPECT_DEFAULT = "侵害人身份未能查明，经多方工作仍无进展，依规作结论处理。"
AT_LARGE_REASON = "嫌疑人在逃，已上网追逃，待到案后另行处理。"


@dataclass
class _Person:
    user_id: int
    name: str
    badge: str


@dataclass
class _Site:
    """A unit that handles synthetic cases, with what the generator needs to know about its surroundings."""

    unit_id: int
    path: str
    station: str
    region: str
    locality: str
    roads: tuple[str, ...]
    abbr: str
    filers: list[_Person]
    supervisor_id: int
    admin_stations: list[int]  # where an administrative case is referred
    criminal_unit: int  # where a criminal case is referred


Row = dict[str, Any]  # a row to insert, keyed by attribute name


class _Row(Row):
    """A row that event data refers to; the reference becomes the row's id once it has one."""

    __slots__ = ()


@dataclass
class _Bundle:
    case: Row
    year: int
    officers: list[_Row] = field(default_factory=list)
    suspects: list[_Row] = field(default_factory=list)
    referrals: list[_Row] = field(default_factory=list)
    findings: list[_Row] = field(default_factory=list)
    reviews: list[_Row] = field(default_factory=list)
    measures: list[_Row] = field(default_factory=list)
    events: list[Row] = field(default_factory=list)
    # Service writes whose events are not stored (see _Generator.build); they still count in the case version.
    unrecorded: int = 0


def _ancestor(unit: OrgUnit, by_code: dict[str, OrgUnit], level: str) -> OrgUnit | None:
    for code in unit.path.strip("/").split("/"):
        other = by_code.get(code)
        if other is not None and other.level == level:
            return other
    return None


def _ensure_synthetic_staff(stations: list[OrgUnit], offices: list[OrgUnit]) -> dict[str, User]:
    """One officer per station and one supervisor per city office, created in bulk when missing.

    They have unusable passwords: they exist so synthetic cases have believable filers and handlers.
    """
    wanted: dict[str, tuple[OrgUnit, str]] = {f"officer-{u.code}": (u, Role.OFFICER) for u in stations}
    wanted |= {f"supervisor-{u.code}": (u, Role.SUPERVISOR) for u in offices}
    existing = set(User.objects.filter(username__in=list(wanted)).values_list("username", flat=True))
    new_users = []
    for username in sorted(set(wanted) - existing):
        unit, _role = wanted[username]
        # Seeded from the username so a user looks the same however many runs created others before it.
        rng = random.Random(username)
        new_users.append(
            User(
                username=username,
                full_name=_person_name(rng),
                badge_number=f"{unit.code[:2]}{_below(rng, 10000):04d}",
                password=make_password(None),
            )
        )
    User.objects.bulk_create(new_users)
    users = {u.username: u for u in User.objects.filter(username__in=list(wanted))}
    Membership.objects.bulk_create(
        [Membership(user=users[name], unit=unit, role=role) for name, (unit, role) in wanted.items()],
        ignore_conflicts=True,
    )
    return users


def _load_sites() -> list[_Site]:
    units = list(OrgUnit.objects.all())
    by_code = {u.code: u for u in units}
    by_id = {u.pk: u for u in units}
    stations = [u for u in units if u.level == OrgLevel.STATION]
    if not stations:
        raise ValueError("The organisation tree has no police stations to file synthetic cases at.")

    def office_of(station: OrgUnit) -> OrgUnit:
        return _ancestor(station, by_code, OrgLevel.CITY) or by_id.get(station.parent_id) or station

    offices = {office_of(s).pk: office_of(s) for s in stations}
    staff = _ensure_synthetic_staff(stations, list(offices.values()))

    counties: dict[int, list[OrgUnit]] = {}
    for station in stations:
        county = _ancestor(station, by_code, OrgLevel.COUNTY) or station
        counties.setdefault(county.pk, []).append(station)

    def person(station: OrgUnit) -> _Person:
        user = staff[f"officer-{station.code}"]
        return _Person(user.pk, user.full_name or user.username, user.badge_number)

    sites = []
    for county_id, members in counties.items():
        county = by_id[county_id]
        spec = UNIT_SPECS.get(county.code)
        common = {
            "locality": spec.locality if spec and spec.locality else county.name,
            "roads": spec.roads if spec and spec.roads else ("人民路", "解放路", "中山路", "建设路", "新华路"),
            "abbr": spec.abbr if spec and spec.abbr else "公",
            "supervisor_id": staff[f"supervisor-{office_of(members[0]).code}"].pk,
            "admin_stations": [s.pk for s in members],
            "criminal_unit": county.pk,
            "region": county.code if county.code.isdigit() and len(county.code) == 6 else "330106",
        }
        for station in members:
            sites.append(
                _Site(unit_id=station.pk, path=station.path, station=station.name, filers=[person(station)], **common)
            )
        if county.level == OrgLevel.COUNTY:
            filers = [person(s) for s in members]
            sites.append(_Site(unit_id=county.pk, path=county.path, station=county.name, filers=filers, **common))
    return sites


def _stage_allowances() -> dict[tuple[str, str, bool], timedelta]:
    """Every stage limit the generator can need, read once through the SLA module rather than once per case."""
    base = timezone.now()
    allowances = {}
    for stage in OPEN_STATUSES:
        for track in ("", *Track.values):
            for major in (False, True):
                due = stage_deadline(stage=stage, track=track, major_security_period=major, start=base)
                if due is not None:
                    allowances[(stage, track, major)] = due - base
    return allowances


def _days(rng: random.Random, median: float, sigma: float, low: float, high: float) -> timedelta:
    return timedelta(days=min(high, max(low, median * math.exp(rng.gauss(0.0, sigma)))))


def _in_major_period(local: datetime) -> bool:
    """The National People's Congress sessions in March and the National Day holiday are security periods."""
    month_day = (local.month, local.day)
    return (3, 2) <= month_day <= (3, 15) or (9, 28) <= month_day <= (10, 8)


Move = Callable[[str, datetime, int, dict[str, Any]], None]


class _Generator:
    """Tells each synthetic case's story from filing to now, in the order the services would have written it."""

    def __init__(self, rng: random.Random, sites: list[_Site], now: datetime) -> None:
        self.rng = rng
        self.sites = sites
        self.now = now
        self.allow = _stage_allowances()
        self.tzinfo = timezone.get_current_timezone()

    def _local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.tzinfo).date()

    def _allowance(self, stage: str, track: str, major: bool) -> timedelta:
        return self.allow.get((stage, track, major)) or self.allow[(stage, "", major)]

    def _place(self, site: _Site, kind: str) -> str:
        rng = self.rng
        if kind in ONLINE_KINDS:
            return _one(rng, ONLINE_PLACES)
        if kind in (K.UNTRUE_COMPLAINT, K.FALSE_ACCUSATION):
            return f"{site.locality}{site.station}辖区"
        road, road2 = rng.sample(site.roads, 2) if len(site.roads) > 1 else (site.roads[0], site.roads[0])
        return site.locality + _one(rng, PLACES).format(road=road, road2=road2, n=_between(rng, 1, 400))

    def _officers(self, kind: str, physical: bool, filer: _Person, created: datetime) -> list[_Row]:
        """Involved officers: the filer is usually among the victims; colleagues here have no account."""
        rng = self.rng
        if kind in (K.ARMED_ATTACK, K.VEHICLE_RAMMING):
            injuries: _Weighted | None = INJURY_SEVERE
        elif kind in (K.VIOLENT_ATTACK, K.RETALIATION_OFF_DUTY):
            injuries = INJURY_PHYSICAL
        else:
            injuries = INJURY_LIGHT if physical else None
        off_duty = kind in (K.RETALIATION_OFF_DUTY, K.RETALIATION_RELATIVES, K.PROPERTY_DAMAGE)
        rows = []
        for i in range(OFFICER_COUNT.pick(rng) if physical else 1):
            is_filer = i == 0 and rng.random() < 0.85
            auxiliary = not is_filer and rng.random() < 0.3
            if off_duty:
                duty = DutyStatus.OFF_DUTY
            elif kind == K.VIOLENT_ATTACK and rng.random() < 0.03:
                duty = DutyStatus.OFF_DUTY_INTERVENING
            else:
                duty = DutyStatus.ON_DUTY
            if is_filer:
                name, badge = filer.name, filer.badge
            else:
                name = _person_name(rng)
                badge = f"F{_below(rng, 100000):05d}" if auxiliary else f"{_below(rng, 1000000):06d}"
            rows.append(
                _Row(
                    user_id=filer.user_id if is_filer else None,
                    name=name,
                    badge_number=badge,
                    officer_type=OfficerType.AUXILIARY if auxiliary else OfficerType.REGULAR,
                    duty_status=duty,
                    injury=injuries.pick(rng) if injuries else Inj.NONE,
                    created_at=created,
                )
            )
        return rows

    def build(self, created: datetime) -> _Bundle:
        rng, now = self.rng, self.now
        site = _one(rng, self.sites)
        filer = _one(rng, site.filers)
        sup = site.supervisor_id
        kind = KIND_MIX.pick(rng)
        physical = kind in PHYSICAL_KINDS
        occurred = created - _days(rng, 1.0, 1.2, 0.02, 60)
        local_occ = occurred.astimezone(self.tzinfo)
        major = _in_major_period(local_occ)
        channel = (CHANNEL_ON_SCENE if physical or kind == K.INSULT_ON_SCENE else CHANNEL_REMOTE).pick(rng)
        if kind == K.UNTRUE_COMPLAINT and rng.random() < 0.5:
            channel = C.HOTLINE_12389

        officers = self._officers(kind, physical, filer, created)
        injury_ranks = [INJURY_RANK[o["injury"]] for o in officers if o["injury"] in INJURY_RANK]
        worst = max(injury_ranks) if injury_ranks else None

        # Suspects: most physical incidents have an identified attacker; online ones often do not.
        if kind == K.UNTRUE_COMPLAINT:
            n_suspects = SUSPECTS_COMPLAINT.pick(rng)
        elif kind == K.SCENE_DISRUPTION:
            n_suspects = SUSPECTS_CROWD.pick(rng)
        else:
            n_suspects = (SUSPECTS_PHYSICAL if physical else SUSPECTS_OTHER).pick(rng)
        identified_share = 0.62 if kind in ONLINE_KINDS else 0.75 if kind == K.PROPERTY_DAMAGE else 0.92
        identified = [rng.random() < identified_share for _ in range(n_suspects)]

        criminal = rng.random() < CRIMINAL_SHARE.get(kind, 0.0) or (physical and worst is not None and worst >= 2)
        track = Track.CRIMINAL if criminal else Track.ADMINISTRATIVE
        names = [_masked_name(rng) if known else "" for known in identified]
        views = int(math.exp(rng.gauss(8.0, 1.6))) if kind in ONLINE_KINDS else None
        items = _between(rng, 3, 400) if kind == K.DOXXING else None
        place = self._place(site, kind)
        summaries, narratives = TEXTS[kind]
        variant = _below(rng, len(summaries))
        text_args = {
            "md": f"{local_occ.month}月{local_occ.day}日",
            "place": place,
            "station": site.station,
            "officer": officers[0]["name"],
            "suspect": names[0] if names and names[0] else "一名不明身份人员",
            "views": views or 0,
            "items": items or 0,
            "attackers": max(n_suspects, 2),
        }
        weapon = (WEAPON_ARMED if kind == K.ARMED_ATTACK else WEAPON_PHYSICAL).pick(rng) if physical else Weapon.NONE
        if kind in (K.ARMED_ATTACK, K.VEHICLE_RAMMING):
            endangered, serious_harm = rng.random() < 0.9, rng.random() < 0.7
        elif physical:
            endangered, serious_harm = (rng.random() < 0.3 if rng.random() < 0.9 else None), rng.random() < 0.03
        else:
            endangered = serious_harm = None
        case: dict[str, Any] = {
            "unit_id": site.unit_id,
            "unit_path": site.path,
            "kind": kind,
            "channel": channel,
            "dispatch_ref": (
                f"J{site.region}{local_occ:%Y%m%d}{_below(rng, 100000):05d}" if channel == C.DISPATCH_110 else ""
            ),
            "occurred_at": occurred,
            "location": place,
            "summary": summaries[variant].format(**text_args),
            "narrative": narratives[variant].format(**text_args),
            "major_security_period": major,
            "weapon": weapon,
            "vehicle_used": True if kind == K.VEHICLE_RAMMING else False if physical else None,
            "endangered_safety": endangered,
            "could_cause_serious_harm": serious_harm,
            "officers_attacked": len(officers) if physical else None,
            "attackers": max(1, n_suspects) if physical else (n_suspects or None),
            "organised_or_incited": rng.random() < (0.5 if kind == K.SCENE_DISRUPTION else 0.03),
            "intoxicated": (rng.random() < 0.35) if physical or kind == K.INSULT_ON_SCENE else None,
            "evidence_lost": rng.random() < 0.02,
            "others_hurt": (rng.random() < 0.05) if physical else False,
            "major_property_loss": rng.random() < (0.1 if kind == K.ATTACK_ON_VEHICLE_OR_EQUIPMENT else 0.01),
            "prior_attack_on_police": rng.random() < 0.03 if n_suspects else None,
            "police_fault": POLICE_FAULT.pick(rng),
            "online_views": views,
            "online_reposts": int(views / rng.uniform(8, 40)) if views else None,
            "personal_info_items": items,
            "filed_by_id": filer.user_id,
            "created_at": created,
            "track": "",
            "status": CaseStatus.DRAFT,
        }
        bundle = _Bundle(case=case, year=created.astimezone(self.tzinfo).year, officers=officers)
        events = bundle.events

        def event(at: datetime, kind_: str, actor: int | None, data: dict[str, Any], **transition: str) -> None:
            events.append({"kind": kind_, "actor_id": actor, "at": at, "data": data, **transition})

        def move(action: str, at: datetime, actor: int, data: dict[str, Any]) -> None:
            transition = TRANSITIONS[action]
            status = case["status"]
            if status not in transition.sources:
                raise RuntimeError(f"Generator bug: {action} from {status}")
            event(at, EventKind.TRANSITION, actor, data, action=action, from_status=status, to_status=transition.target)
            case["status"], case["stage_started_at"] = transition.target, at

        # Drafting: the filer lists colleagues and suspects right after creating the application. The timeline
        # keeps what a reader of a case history looks for (filing, status changes, dispositions, support, clock,
        # findings); these drafting steps and the assignment count in the version but are not stored as events,
        # which is a fifth of all rows and what keeps 100,000 cases within their time budget.
        event(created, EventKind.CREATED, filer.user_id, {}, to_status=CaseStatus.DRAFT)
        t = created
        for o in officers:
            t += timedelta(seconds=_between(rng, 20, 300))
            if o["user_id"] is None:
                o["created_at"] = t
                bundle.unrecorded += 1
            elif o["duty_status"] != DutyStatus.ON_DUTY or o["injury"] != Inj.NONE:
                bundle.unrecorded += 1
        for known, name in zip(identified, names, strict=True):
            t += timedelta(seconds=_between(rng, 20, 300))
            suspect = _Row(
                name=name,
                id_number="",
                status=Sp.IDENTIFIED if known else Sp.UNIDENTIFIED,
                disposition=D.UNDER_INVESTIGATION,
                created_at=t,
            )
            if known and rng.random() < 0.6:
                born = created.date() - timedelta(days=_between(rng, 18 * 365, 65 * 365))
                suspect["id_number"] = _fake_id_number(rng, site.region, born)
            bundle.suspects.append(suspect)
            bundle.unrecorded += 1

        def finish() -> _Bundle:
            return self._finalise(bundle, major)

        # Draft: submitted within hours, rarely abandoned or withdrawn.
        submit_at = t + _days(rng, 0.08, 1.2, 0.003, 5)
        roll = rng.random()
        if submit_at > now or roll < 0.004:
            return finish()
        if roll < 0.012:
            move("withdraw", submit_at, filer.user_id, {"reason": "信息填写有误，撤回后重新提交。"})
            return finish()
        move("submit", submit_at, filer.user_id, {})
        case["submitted_at"] = submit_at

        # Intake: the office refers most applications within days, rejects a few; some officers withdraw.
        decide_at = submit_at + _days(rng, 2.5, 0.7, 0.05, 25)
        roll = rng.random()
        if decide_at > now:
            self._support(bundle, kind, worst, submit_at, now, sup, concluded=False)
            return finish()
        if roll < 0.04:
            move("reject", decide_at, sup, {"reason": "经审查不属于维权受理范围。", "duplicate_of": ""})
            return finish()
        if roll < 0.05:
            move("withdraw", decide_at, filer.user_id, {"reason": "本人申请撤回。"})
            return finish()
        case["track"] = track
        if rng.random() < 0.7:
            case["assigned_to_id"] = sup
            bundle.unrecorded += 1
        due = decide_at + self._allowance(CaseStatus.REFERRED, track, major)
        external = criminal and rng.random() < 0.04
        referral = _Row(
            target=ReferralTarget.PROCURATORATE if external else ReferralTarget.INTERNAL_UNIT,
            to_unit_id=None if external else (site.criminal_unit if criminal else _one(rng, site.admin_stations)),
            body_name=f"{site.locality}人民检察院" if external else "",
            track=track,
            referred_by_id=sup,
            referred_at=decide_at,
            due_at=due,
        )
        bundle.referrals.append(referral)
        move("refer", decide_at, sup, {"referral": referral, "track": track, "due_at": due.isoformat()})

        # Referred: the handling unit acknowledges with its own case number.
        ack_at = decide_at + _days(rng, 1.8, 0.8, 0.05, 20)
        if ack_at > now:
            self._support(bundle, kind, worst, submit_at, now, sup, concluded=False)
            return finish()
        year = ack_at.astimezone(self.tzinfo).year
        referral["acknowledged_at"] = ack_at
        referral["external_reference"] = ref = (
            f"{site.abbr[:1]}检介〔{year}〕{_between(rng, 1, 300)}号"
            if external
            else f"{site.abbr}{'刑立' if criminal else '行受'}字〔{year}〕{_between(rng, 1, 30000):05d}号"
        )
        move("acknowledge", ack_at, sup, {"referral": referral, "external_reference": ref})

        # Supervision: criminal cases take months, administrative ones weeks; a few drag on for years.
        span = _days(rng, 70 if criminal else 17, 0.55, 3, 400)
        if rng.random() < 0.02:
            span *= rng.uniform(3, 8)
        conclude_at = ack_at + span
        concluded = conclude_at <= now
        self._dispose(bundle, kind, criminal, worst, ack_at, conclude_at if concluded else now, concluded, sup)
        if not concluded:
            self._support(bundle, kind, worst, submit_at, now, sup, concluded=False)
            self._maybe_pause(bundle, ack_at, sup)
            return finish()
        self._support(bundle, kind, worst, submit_at, conclude_at, sup, concluded=True)
        self._conclude(bundle, conclude_at, sup, kind, move)

        # Look-back: a few reviews find a deficiency and send the case back to supervision.
        close_at = conclude_at + _days(rng, 7, 0.5, 1, 40)
        if close_at > now:
            return finish()
        if rng.random() < 0.04:
            problem = _one(rng, (F.DOWNGRADED, F.NO_FEEDBACK_TO_OFFICER, F.EVIDENCE_NOT_SECURED, F.PROTRACTED))
            finding = _Row(
                problem=problem,
                detail="回头看发现承办环节存在问题，责令整改。",
                raised_by_id=sup,
                raised_at=close_at,
                rectify_by=close_at.astimezone(self.tzinfo).date() + timedelta(days=15),
                officers_held_accountable=0,
            )
            bundle.findings.append(finding)
            bundle.reviews[-1].update(
                finished_at=close_at, verdict=ReviewVerdict.DEFICIENT, reviewer_id=sup, disposition_consistent=False
            )
            move("reopen", close_at, sup, {"finding": finding, "problem": problem})
            rectified_at = close_at + _days(rng, 12, 0.5, 1, 60)
            if rectified_at > now:
                return finish()
            finding["rectified_at"] = rectified_at
            event(rectified_at, EventKind.FINDING, sup, {"finding": finding, "rectified": True, "accountable": 0})
            conclude_at = rectified_at + timedelta(hours=_between(rng, 1, 72))
            if conclude_at > now:
                return finish()
            self._conclude(bundle, conclude_at, sup, kind, move)
            close_at = conclude_at + _days(rng, 7, 0.5, 1, 40)
            if close_at > now:
                return finish()
        self._close(bundle, close_at, sup, move)

        # Annual look-back campaigns recall a few closed cases early the next year.
        if rng.random() < 0.02:
            campaign = close_at.astimezone(self.tzinfo).year + 1
            recall_at = close_at.replace(year=campaign, month=_between(rng, 1, 4), day=_between(rng, 1, 28))
            if close_at < recall_at <= now:
                bundle.reviews.append(_Row(campaign_year=campaign, started_at=recall_at, verdict=ReviewVerdict.PENDING))
                case["closed_at"] = None
                reason = f"{campaign}年度维权案件“回头看”专项检查"
                move("recall", recall_at, sup, {"reason": reason, "campaign_year": campaign})
                again = recall_at + _days(rng, 10, 0.5, 2, 40)
                if again <= now:
                    self._close(bundle, again, sup, move)
        return finish()

    def _outcome(self, kind: str, criminal: bool, worst: int | None, concluded: bool) -> str:
        rng = self.rng
        if not concluded:
            return (PENDING_CRIMINAL if criminal else PENDING_ADMIN).pick(rng)
        if rng.random() < 0.03:
            return D.AT_LARGE  # never caught: the case concludes with a recorded reason
        if kind == K.UNTRUE_COMPLAINT:
            return COMPLAINT_OUTCOME.pick(rng)
        if criminal:
            if (worst or 0) >= 4 or kind in (K.ARMED_ATTACK, K.VEHICLE_RAMMING):
                return CRIMINAL_GRAVE_OUTCOME.pick(rng)
            return (CRIMINAL_SPEECH_OUTCOME if kind in SPEECH_KINDS else CRIMINAL_OUTCOME).pick(rng)
        return (SPEECH_OUTCOME if kind in SPEECH_KINDS else ADMIN_OUTCOME).pick(rng)

    def _dispose(
        self,
        bundle: _Bundle,
        kind: str,
        criminal: bool,
        worst: int | None,
        start: datetime,
        end: datetime,
        concluded: bool,
        sup: int,
    ) -> None:
        """Give each identified suspect a disposition (final if the case concludes, pending otherwise)."""
        rng = self.rng
        span = (end - start).total_seconds()
        for s in bundle.suspects:
            if s["status"] == Sp.UNIDENTIFIED:
                continue
            outcome = self._outcome(kind, criminal, worst, concluded)
            s["status"] = _one(rng, SUSPECT_STATUS_FOR.get(outcome, (Sp.IDENTIFIED, Sp.RELEASED)))
            if outcome == D.UNDER_INVESTIGATION:
                continue
            # Criminal cases pass through "filed" before the outcome; that is where lowered charges show.
            steps = [outcome]
            if criminal and concluded and outcome in FINAL_DISPOSITIONS and rng.random() < 0.6:
                steps.insert(0, D.CRIMINAL_FILED)
            moments = sorted(start + timedelta(seconds=span * rng.uniform(0.05, 0.95)) for _ in steps)
            previous, article_before = D.UNDER_INVESTIGATION, ""
            for step, at in zip(steps, moments, strict=True):
                changes: dict[str, list[Any]] = {"disposition": [previous, step]}
                article = _article(kind, step)
                if article != article_before:
                    changes["disposition_article"] = [article_before, article]
                before, after = DISPOSITION_RANK.get(previous), DISPOSITION_RANK.get(step)
                lowered = before is not None and after is not None and after < before
                s["disposition"], s["disposition_article"] = step, article
                if lowered:
                    s["lowered_reason"] = "经审查不构成犯罪，转为治安案件依法处理。"
                    changes["lowered_reason"] = ["", s["lowered_reason"]]
                if step in FINAL_DISPOSITIONS:
                    s["decided_at"] = at.astimezone(self.tzinfo).date()
                    changes["decided_at"] = [None, s["decided_at"].isoformat()]
                    if step in CONVICTIONS:
                        low, high, probation_share = CONVICTIONS[step]
                        months = s["sentence_months"] = _between(rng, low, high + 1)
                        s["probation"] = months <= 36 and rng.random() < probation_share
                        changes["sentence_months"] = [None, months]
                        changes["probation"] = [None, s["probation"]]
                data = {"suspect": s, "changes": changes, "lowered": lowered}
                bundle.events.append({"kind": EventKind.DISPOSITION, "actor_id": sup, "at": at, "data": data})
                previous, article_before = step, article

    def _conclude(self, bundle: _Bundle, at: datetime, sup: int, kind: str, move: Move) -> None:
        identified = [s for s in bundle.suspects if s["status"] != Sp.UNIDENTIFIED]
        gaps = [s["name"] for s in identified if s["disposition"] not in FINAL_DISPOSITIONS] if identified else ["-"]
        reason = ""
        if gaps == ["-"]:
            reason = NO_SUSPECT_REASON.get(kind, NO_SUSPECT_DEFAULT)
        elif gaps:
            reason = AT_LARGE_REASON
        bundle.case["conclusion_reason"] = reason
        year = at.astimezone(self.tzinfo).year
        bundle.reviews.append(_Row(campaign_year=year, started_at=at, verdict=ReviewVerdict.PENDING))
        move("conclude", at, sup, {"reason": reason, "missing": gaps})

    def _close(self, bundle: _Bundle, at: datetime, sup: int, move: Move) -> None:
        kinds = {m["kind"] for m in bundle.measures}
        review = bundle.reviews[-1]
        review.update(
            finished_at=at,
            reviewer_id=sup,
            verdict=ReviewVerdict.UPHELD,
            officer_informed=True,
            disposition_consistent=True,
            support_delivered=True if bundle.measures else None,
            clarification_issued=True if SK.CLARIFICATION_NOTICE in kinds else None,
        )
        bundle.case["closed_at"] = at
        move("close", at, sup, {"review": review})

    def _support(
        self,
        bundle: _Bundle,
        kind: str,
        worst: int | None,
        start: datetime,
        end: datetime,
        sup: int,
        *,
        concluded: bool,
    ) -> None:
        """Support measures, recorded while the case is open as the office records them."""
        rng = self.rng
        first = bundle.officers[0]
        injured = (worst is not None and worst >= 1) or any(
            o["injury"] == Inj.PENDING_APPRAISAL for o in bundle.officers
        )
        wanted: list[tuple[str, _Row | None, float]] = []  # measure, officer, typical days after submission
        if injured and rng.random() < 0.55:
            wanted.append((SK.GREEN_CHANNEL, first, 0.01))
        if worst is not None and worst >= 2:
            if rng.random() < 0.7:
                wanted.append((SK.COMFORT_VISIT, first, 2))
            if rng.random() < 0.5:
                wanted.append((SK.COMFORT_PAYMENT, first, 6))
            if rng.random() < 0.4:
                wanted.append((SK.DUTY_INJURY_CERTIFICATION, first, 10))
            if rng.random() < 0.2:
                wanted.append((SK.LIABILITY_INSURANCE_CLAIM, first, 12))
        if kind in PHYSICAL_KINDS and rng.random() < 0.1:
            wanted.append((_one(rng, (SK.PSYCH_ASSESSMENT, SK.PSYCH_INTERVENTION)), first, 4))
        if kind in CLARIFICATION_KINDS and concluded and rng.random() < 0.6:
            wanted.append((SK.CLARIFICATION_NOTICE, first, 20))
        if kind in ONLINE_KINDS and rng.random() < 0.3:
            wanted.append((SK.PUBLIC_OPINION_RESPONSE, None, 3))
        if kind in (K.ONLINE_DEFAMATION, K.FALSE_ACCUSATION) and rng.random() < 0.2:
            wanted.append((SK.LEGAL_SERVICE, first, 5))
        if kind in (K.RETALIATION_RELATIVES, K.STALKING_HARASSMENT, K.DOXXING) and rng.random() < 0.6:
            wanted.append((SK.RELATIVE_PROTECTION, first, 1))
        if kind == K.PROPERTY_DAMAGE and rng.random() < 0.5:
            wanted.append((SK.CIVIL_CLAIM_SUPPORT, first, 15))
        if any(s["status"] == Sp.AT_LARGE for s in bundle.suspects) and rng.random() < 0.6:
            wanted.append((SK.FUGITIVE_PURSUIT, None, 3))
        window = (end - start).total_seconds()
        for measure_kind, officer, after_days in wanted:
            at = start + timedelta(days=after_days * rng.uniform(0.5, 1.5))
            if at >= end:
                at = start + timedelta(seconds=window * rng.uniform(0.1, 0.9))
            delivered_at = at + timedelta(days=rng.uniform(0, 10))
            delivered = concluded or delivered_at <= end
            measure = _Row(
                officer=officer,
                kind=measure_kind,
                status=SS.DELIVERED if delivered else _one(rng, (SS.OFFERED, SS.IN_PROGRESS)),
                amount=Decimal(_one(rng, COMFORT_AMOUNTS)) if measure_kind == SK.COMFORT_PAYMENT else None,
                started_on=at.astimezone(self.tzinfo).date(),
                delivered_on=min(delivered_at, end).astimezone(self.tzinfo).date() if delivered else None,
                recorded_by_id=sup,
                created_at=at,
                updated_at=at,
            )
            bundle.measures.append(measure)
            data = {"measure": measure, "kind": measure_kind, "status": measure["status"]}
            bundle.events.append({"kind": EventKind.SUPPORT, "actor_id": sup, "at": at, "data": data})

    def _maybe_pause(self, bundle: _Bundle, since: datetime, sup: int) -> None:
        """Open supervision waiting on an appraisal or a fugitive often has its clock stopped."""
        if any(o["injury"] == Inj.PENDING_APPRAISAL for o in bundle.officers):
            reason = PauseReason.APPRAISAL_PENDING
        elif any(s["status"] == Sp.AT_LARGE for s in bundle.suspects):
            reason = PauseReason.SUSPECT_AT_LARGE
        else:
            return
        if self.rng.random() < 0.4:
            return
        at = since + (self.now - since) * self.rng.uniform(0.1, 0.9)
        bundle.case["paused_at"], bundle.case["pause_reason"] = at, reason
        bundle.events.append(
            {"kind": EventKind.CLOCK_PAUSED, "actor_id": sup, "at": at, "data": {"reason": reason, "note": ""}}
        )

    def _finalise(self, bundle: _Bundle, major: bool) -> _Bundle:
        case, events = bundle.case, bundle.events
        events.sort(key=lambda e: e["at"])
        status = case["status"]
        if status in OPEN_STATUSES:
            if status == CaseStatus.REFERRED:
                case["stage_due_at"] = bundle.referrals[-1]["due_at"]
            else:
                case["stage_due_at"] = case["stage_started_at"] + self._allowance(status, case["track"], major)
        case["last_activity_at"] = case["updated_at"] = events[-1]["at"]
        # Every service call after creation bumps the version once.
        case["version"] = len(events) + bundle.unrecorded
        ranks = [INJURY_RANK[o["injury"]] for o in bundle.officers if o["injury"] in INJURY_RANK]
        case["max_injury_rank"] = max(ranks) if ranks else None
        dranks = [DISPOSITION_RANK[d] for s in bundle.suspects if (d := s["disposition"]) in DISPOSITION_RANK]
        case["disposition_rank"] = max(dranks) if dranks else None
        return bundle


def _article(kind: str, disposition: str) -> str:
    """The provision a disposition is usually decided under, for the suspect's record."""
    if disposition in (D.NO_ACTION, D.NON_LEGAL_HANDLING) or disposition not in DISPOSITION_RANK:
        return ""
    if disposition == D.MEDIATION:
        return "治安管理处罚法第9条"
    if DISPOSITION_RANK[disposition] <= DISPOSITION_RANK[D.ADMIN_DETENTION_11_15]:
        return ADMIN_ARTICLE.get(kind, "治安管理处罚法第50条第1款第2项")
    if disposition == D.CRIMINAL_NON_PROSECUTION:
        return "刑事诉讼法第177条第2款"
    if disposition == D.CONVICTED_277_1:
        return "刑法第277条第1款"
    if disposition == D.CONVICTED_OTHER:
        return OTHER_OFFENCE.get(kind, "刑法第234条")
    if disposition == D.CONVICTED_SERIOUS:
        return "刑法第114条" if kind == K.VEHICLE_RAMMING else "刑法第234条第2款"
    return "刑法第277条第5款"


# --- Writing synthetic rows -------------------------------------------------------------------------------------
# The ORM's bulk_create spends about ten microseconds per value compiling SQL (measured: under 300 cases/s), which
# alone is several minutes for 100,000 cases. Rows are therefore written as plain value lists (COPY on PostgreSQL,
# multi-row INSERTs on SQLite) with ids reserved beforehand, so children point at parents without a round trip.


class _Table:
    """Column order, defaults and value adapters of one model, worked out once."""

    def __init__(self, model: type[models.Model], connection: BaseDatabaseWrapper) -> None:
        self.connection = connection
        self.vendor = connection.vendor
        fields = model._meta.concrete_fields
        quote = connection.ops.quote_name
        self.name = model._meta.db_table
        self.table = quote(self.name)
        self.pk_column = model._meta.pk.column
        self.max_id = f"SELECT COALESCE(MAX({quote(self.pk_column)}), 0) FROM {self.table}"  # noqa: S608
        self.columns = ", ".join(quote(f.column) for f in fields)
        self.width = len(fields)
        # Defaults are shared between rows; the only mutable one (a JSONField's {}) is serialised, never changed.
        self.defaults = {f.attname: None if f.primary_key else f.get_default() for f in fields}
        self.pick = operator.itemgetter(*(f.attname for f in fields))
        self.adapted = [(i, adapt) for i, f in enumerate(fields) if (adapt := self._adapter(f)) is not None]
        self.insert = f"INSERT INTO {self.table} ({self.columns}) VALUES "  # noqa: S608

    def _adapter(self, f: models.Field) -> Callable[[Any], Any] | None:
        ops, kind = self.connection.ops, f.get_internal_type()
        if isinstance(f, EncryptedCharField):
            return encrypt  # bypassing the ORM bypasses the field's own encryption: the column holds tokens
        if kind == "JSONField":
            return lambda v: json.dumps(v, cls=f.encoder)
        if self.vendor == "postgresql":
            return None  # COPY adapts dates, times and decimals itself
        if kind == "DateTimeField":
            if self.vendor == "sqlite":
                # What ops.adapt_datetimefield_value does, without its per-call checks.
                tz = self.connection.timezone
                return lambda v: str((v if v.tzinfo is tz else v.astimezone(tz)).replace(tzinfo=None))
            return ops.adapt_datetimefield_value
        if kind == "DateField":
            return ops.adapt_datefield_value
        if kind == "DecimalField":
            return lambda v: ops.adapt_decimalfield_value(v, f.max_digits, f.decimal_places)
        return None

    def reserve_ids(self, rows: list[Row]) -> None:
        if not rows:
            return
        with self.connection.cursor() as cursor:
            if self.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [self.name, self.pk_column, len(rows)],
                )
                ids = [r[0] for r in cursor.fetchall()]
            else:
                # Safe because the batch's transaction holds SQLite's write lock (transaction_mode IMMEDIATE);
                # sqlite_sequence remembers AUTOINCREMENT ids of rows deleted since, which must not come back.
                cursor.execute(self.max_id)
                start = cursor.fetchone()[0]
                if self.vendor == "sqlite":
                    cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = %s", [self.name])
                    start = max(start, cursor.fetchone()[0])
                ids = list(range(start + 1, start + 1 + len(rows)))
        for row, pk in zip(rows, ids, strict=True):
            row["id"] = pk

    def _values(self, rows: list[Row]) -> list[list[Any]]:
        defaults, pick, adapted = self.defaults, self.pick, self.adapted
        out = []
        for row in rows:
            values = list(pick({**defaults, **row}))
            for i, adapt in adapted:
                if values[i] is not None:
                    values[i] = adapt(values[i])
            out.append(values)
        return out

    def write(self, rows: list[Row]) -> None:
        if not rows:
            return
        values = self._values(rows)
        # The DB-API connection, inside the transaction Django opened: no per-statement debug logging.
        raw = self.connection.connection
        if self.vendor == "postgresql":
            with raw.cursor() as cursor, cursor.copy(f"COPY {self.table} ({self.columns}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
        elif self.vendor == "sqlite":
            # Many rows per statement: SQLite builds the lookup table of each CHECK constraint's IN list once per
            # statement, so one row per statement (executemany) costs about three times as much.
            limit = raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
            per = max(1, min(1000, limit // self.width))
            one = "(" + ", ".join(["?"] * self.width) + ")"
            cursor = raw.cursor()
            for begin in range(0, len(values), per):
                chunk = values[begin : begin + per]
                cursor.execute(self.insert + ", ".join([one] * len(chunk)), list(chain.from_iterable(chunk)))
        else:
            with self.connection.cursor() as cursor:
                cursor.executemany(self.insert + "(" + ", ".join(["%s"] * self.width) + ")", values)


class _Writer:
    def __init__(self) -> None:
        connection = connections[DEFAULT_DB_ALIAS]
        self.vendor = connection.vendor
        self.tables = {
            model: _Table(model, connection)
            for model in (
                Case,
                InvolvedOfficer,
                Suspect,
                Referral,
                SupervisionFinding,
                LookBackReview,
                SupportMeasure,
                CaseEvent,
            )
        }

    def write(self, bundles: list[_Bundle]) -> None:
        """One batch in one transaction: reference numbers, cases and everything hanging off them."""
        with transaction.atomic():
            if self.vendor == "postgresql":
                # A crash can lose at most the last batches, never half of one; not waiting for the WAL flush
                # lets the server start on the next batch sooner.
                with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
            numbers = _take_numbers(Counter(b.year for b in bundles))
            for b in bundles:
                b.case["reference"] = f"RG-{b.year}-{numbers[b.year]:06d}"
                numbers[b.year] += 1
            cases = [b.case for b in bundles]
            self.tables[Case].reserve_ids(cases)
            children: dict[type[models.Model], list[Row]] = {}
            for model, attr in (
                (InvolvedOfficer, "officers"),
                (Suspect, "suspects"),
                (Referral, "referrals"),
                (SupervisionFinding, "findings"),
                (LookBackReview, "reviews"),
                (SupportMeasure, "measures"),
                (CaseEvent, "events"),
            ):
                rows = children[model] = []
                for b in bundles:
                    case_id = b.case["id"]
                    for row in getattr(b, attr):
                        row["case_id"] = case_id
                        rows.append(row)
                self.tables[model].reserve_ids(rows)
            for measure in children[SupportMeasure]:
                officer = measure.pop("officer")
                measure["officer_id"] = officer["id"] if officer is not None else None
            for e in children[CaseEvent]:
                e["data"] = {k: v["id"] if isinstance(v, _Row) else v for k, v in e["data"].items()}
            self.tables[Case].write(cases)
            for model, rows in children.items():
                self.tables[model].write(rows)


def _take_numbers(counts: Counter[int]) -> dict[int, int]:
    """Reserve a block of reference numbers per year under the counter rows' locks; returns each block's first."""
    ReferenceCounter.objects.bulk_create(
        [ReferenceCounter(year=y, last_number=0) for y in counts], ignore_conflicts=True
    )
    counters = list(ReferenceCounter.objects.select_for_update().filter(year__in=list(counts)).order_by("year"))
    first = {}
    for counter in counters:
        first[counter.year] = counter.last_number + 1
        counter.last_number += counts[counter.year]
    ReferenceCounter.objects.bulk_update(counters, ["last_number"])
    return first


@dataclass(frozen=True)
class GenerationResult:
    cases: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.cases / self.seconds if self.seconds else 0.0


def generate_cases(
    count: int,
    *,
    seed: int = DEFAULT_SEED,
    batch_size: int = DEFAULT_BATCH_SIZE,
    log: Log | None = None,
    now: datetime | None = None,
) -> GenerationResult:
    """Insert ``count`` synthetic cases spread over the five years before ``now``."""
    started = time.perf_counter()
    rng = random.Random(seed)
    now = now or timezone.now()
    generator = _Generator(rng, _load_sites(), now)
    writer = _Writer()
    span = timedelta(days=5 * 365)
    latest = now - timedelta(minutes=1)
    # Skewed towards recent years (caseloads grow), and sorted so reference numbers follow filing dates.
    offsets = sorted(rng.random() ** 0.85 for _ in range(count))
    batches = (
        [generator.build(min(now - span + span * o, latest)) for o in offsets[begin : begin + batch_size]]
        for begin in range(0, count, batch_size)
    )
    done = 0
    with _roomy_sqlite_cache(), closing(_ahead(batches)) as ahead:
        for bundles in ahead:
            writer.write(bundles)
            done += len(bundles)
            if log:
                log(f"  {done:,}/{count:,} cases ({done / (time.perf_counter() - started):,.0f} cases/s)")
    return GenerationResult(cases=done, seconds=time.perf_counter() - started)


@contextmanager
def _roomy_sqlite_cache() -> Iterator[None]:
    """Give SQLite's page cache 256 MiB while seeding, on this connection only.

    Every case updates a dozen indexes at scattered positions; with the default 2 MiB cache most of those pages
    are evicted and re-read for each batch once the file outgrows it.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
        cursor.execute("PRAGMA cache_size = -262144")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


def _ahead(items: Iterator[_T]) -> Generator[_T, None, None]:
    """Produce the next item in a background thread while the caller consumes this one.

    Building a batch is pure Python and touches no database; writing one mostly waits on the database with the
    GIL released. Overlapping the two is what the time budget needs. The rng is used by the one producer thread
    only, so the output is exactly as reproducible as a plain loop.
    """
    handoff: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def offer(entry: tuple[bool, Any]) -> bool:
        while not stop.is_set():
            try:
                handoff.put(entry, timeout=0.1)
            except queue.Full:
                continue
            return True
        return False

    def produce() -> None:
        try:
            for item in items:
                if not offer((True, item)):
                    return
            offer((False, None))
        except BaseException as error:  # handed to the consumer, which raises it
            offer((False, error))

    thread = threading.Thread(target=produce, name="seed-demo-builder", daemon=True)
    thread.start()
    try:
        while True:
            more, item = handoff.get()
            if not more:
                if item is not None:
                    raise item
                return
            yield item
    finally:
        stop.set()
        thread.join()


# --- Entry point -----------------------------------------------------------------------------------------------


def seed(
    *,
    cases: int = 0,
    seed_value: int = DEFAULT_SEED,
    demo: bool = True,
    batch_size: int = DEFAULT_BATCH_SIZE,
    log: Log = print,
) -> None:
    """What ``manage.py seed_demo`` does: ensure the tree and accounts, play the demo cases, add synthetic ones."""
    units, new_units = ensure_org_tree()
    log(f"Organisation units: {new_units} created, {len(units) - new_units} already present.")
    users, new_users = ensure_demo_accounts(units)
    existing = len(users) - new_users
    kept = ", passwords left unchanged" if existing else ""
    log(f"Demo accounts: {new_users} created, {existing} already present{kept}.")
    if demo:
        played = seed_demo_cases(units, users)
        if played:
            log(f"Demo cases: {played} created.")
        else:
            log("Demo cases: already present, left unchanged.")
    else:
        log("Demo cases: skipped (--no-demo).")
    if cases:
        log(f"Generating {cases:,} synthetic cases (seed {seed_value}, batches of {batch_size:,})...")
        result = generate_cases(cases, seed=seed_value, batch_size=batch_size, log=log)
        log(f"Added {result.cases:,} synthetic cases in {result.seconds:.1f} s ({result.rate:,.0f} cases/s).")
