"""A hand-built set of cases over 2024 and 2025 (plus edges in 2023 and 2026), made through the services with the
clock set to each step's moment, so every stored time is what a real history would store.

Every expected figure of the reports tests is derived by hand from the comments below; keep them in step.

County 西湖区分局 (330106) subtree, submitted in 2025 (local time, Asia/Shanghai):
  C1  station        violent_attack   web            2025-01-01 00:30 (UTC: 2024-12-31)  closed 2025-03-01 00:30
  C2  other_station  online_defamation mobile_app     2025-03-15 10:00                     in supervision
  C3  county itself  armed_attack     dispatch_110   2025-12-31 23:30                     intake
  C6  station        insult_on_scene  web            2025-08-08 10:00                     rejected
  (a withdrawn draft and an open draft from 2025 never count)
submitted in 2024:
  P1  station        violent_attack   web            2024-12-31 23:59 (referred and closed in 2025)
  P2  other_station  doxxing          hotline_12389  2024-06-10 10:00                     closed 2024-07-10 10:00
  P3  station        online_defamation web           2024-01-01 00:00 exactly (UTC: 2023-12-31)
edges: O1 station 2023-12-31 23:00; N1 station 2026-01-01 00:00.
City 杭州市公安局 (330100) itself: K1 obstruction own_motion 2025-09-09.
Sibling province (420000), never in the county's or the province's report:
  S1 sibling_station violent_attack 2025-02-02 (closed 2025-02-10); S2 threat 2024-05-05.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

from accounts.models import OrgUnit, User
from cases import services
from cases.choices import (
    Channel,
    Disposition,
    FindingProblem,
    FlagKind,
    FlagResolution,
    IncidentKind,
    InjuryGrade,
    OfficerType,
    ReferralTarget,
    SupportKind,
    SupportStatus,
    SuspectStatus,
    Track,
)
from cases.models import Case, Flag, InvolvedOfficer, Referral, SupervisionFinding
from cases.workflow_actions import WORKFLOW_ACTIONS
from tests.factories import World

SH = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, h: int = 10, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=SH)


@contextmanager
def clock(moment: datetime) -> Iterator[None]:
    """Services read the time through django.utils.timezone.now: the clock is the boundary we set."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


class Story:
    """One case's history, told step by step at the given moments."""

    def __init__(self, world: World, *, unit: OrgUnit, filer: User, handler: User, created: datetime, **details: Any):
        self.world, self.filer, self.handler = world, filer, handler
        details.setdefault("occurred_at", created - timedelta(hours=2))
        details.setdefault("location", "杭州市西湖区")
        details.setdefault("summary", "执法时遭到侵害")
        with clock(created):
            self.case = services.create_draft_case(by=filer, unit=unit, details=details)

    def _act(self, action: str, when: datetime, **payload: Any) -> "Story":
        who = self.filer if action in ("submit", "withdraw") else self.handler
        with clock(when):
            self.case = WORKFLOW_ACTIONS[action].service(
                case=self.case, by=who, expected_version=self.case.version, **payload
            )
        return self

    def filer_officer(self) -> InvolvedOfficer:
        return self.case.officers.get(user=self.filer)

    def injure(self, injury: str, when: datetime) -> "Story":
        with clock(when):
            services.update_involved_officer(officer=self.filer_officer(), by=self.filer, injury=injury)
        self.case.refresh_from_db()
        return self

    def colleague(self, name: str, when: datetime, **fields: Any) -> InvolvedOfficer:
        with clock(when):
            officer = services.add_involved_officer(case=self.case, by=self.filer, name=name, **fields)
        self.case.refresh_from_db()
        return officer

    def submit(self, when: datetime) -> "Story":
        return self._act("submit", when)

    def withdraw(self, when: datetime) -> "Story":
        return self._act("withdraw", when, reason="填写错误")

    def reject(self, when: datetime) -> "Story":
        return self._act("reject", when, reason="不属于受理范围")

    def refer(self, when: datetime, to_unit: OrgUnit, track: str = Track.CRIMINAL) -> "Story":
        return self._act("refer", when, track=track, to_unit=to_unit)

    def acknowledge(self, when: datetime) -> "Story":
        return self._act("acknowledge", when, external_reference="XH-118")

    def conclude(self, when: datetime) -> "Story":
        return self._act("conclude", when, reason="处理完毕")

    def reopen(self, when: datetime, problem: str) -> "Story":
        return self._act("reopen", when, problem=problem, detail="回头看发现问题")

    def close(self, when: datetime, **checklist: Any) -> "Story":
        return self._act("close", when, officer_informed=True, disposition_consistent=True, **checklist)

    def suspect(self, when: datetime, status: str, disposition: str | None = None, name: str = "") -> "Story":
        with clock(when):
            suspect = services.add_suspect(case=self.case, by=self.handler, name=name, status=status)
        if disposition:
            with clock(when + timedelta(minutes=1)):
                services.record_disposition(
                    suspect=suspect, by=self.handler, disposition=disposition, lenient_reason="minor_circumstances"
                )
        self.case.refresh_from_db()
        return self

    def support(
        self,
        when: datetime,
        kind: str,
        officer: InvolvedOfficer | None,
        delivered_on: date | None,
        amount: Decimal | None = None,
    ) -> "Story":
        status = SupportStatus.DELIVERED if delivered_on else SupportStatus.OFFERED
        with clock(when):
            services.record_support_measure(
                case=self.case,
                by=self.handler,
                kind=kind,
                officer=officer,
                status=status,
                amount=amount,
                started_on=min(when.date(), delivered_on or when.date()),
                delivered_on=delivered_on,
            )
        self.case.refresh_from_db()
        return self

    def finding(
        self,
        when: datetime,
        problem: str,
        rectify_by: date | None = None,
        rectified: datetime | None = None,
        accountable: int = 0,
    ) -> "Story":
        with clock(when):
            finding = services.raise_finding(
                case=self.case, by=self.handler, problem=problem, detail="督办发现问题", rectify_by=rectify_by
            )
        if rectified:
            with clock(rectified):
                services.rectify_finding(finding=finding, by=self.handler, officers_held_accountable=accountable)
        self.case.refresh_from_db()
        return self

    def flag(self, kind: str, raised: datetime, resolved: datetime | None = None) -> "Story":
        # The scans write flags; here we only need their dates, so the rows are written directly.
        Flag.objects.create(
            case=self.case,
            kind=kind,
            rule_code="T1",
            raised_at=raised,
            resolved_at=resolved,
            resolution=FlagResolution.CLEARED if resolved else "",
        )
        return self


@dataclass
class Dataset:
    world: World
    cases: dict[str, Case]


def build_dataset(world: World) -> Dataset:
    w = world
    sup, sib = w.supervisor, w.sibling_supervisor
    out: dict[str, Case] = {}

    def story(unit: OrgUnit, filer: User, created: datetime, **details: Any) -> Story:
        return Story(
            w,
            unit=unit,
            filer=filer,
            handler=sib if unit.path.startswith("/000000/420000/") else sup,
            created=created,
            **details,
        )

    # --- 2025, county subtree ---
    c1 = story(w.station, w.officer, at(2024, 12, 31, 23, 0), kind=IncidentKind.VIOLENT_ATTACK, channel=Channel.WEB)
    c1.injure(InjuryGrade.MINOR_2, at(2024, 12, 31, 23, 5))
    aux = c1.colleague(
        "辅警甲", at(2024, 12, 31, 23, 10), officer_type=OfficerType.AUXILIARY, injury=InjuryGrade.SLIGHT
    )
    c1.submit(at(2025, 1, 1, 0, 30))
    c1.suspect(at(2025, 1, 2), SuspectStatus.ARRESTED, Disposition.CONVICTED_277_5_BASIC, name="张三")
    c1.suspect(at(2025, 1, 2, 11), SuspectStatus.UNIDENTIFIED)
    c1.refer(at(2025, 1, 3, 0, 30), w.county).acknowledge(at(2025, 1, 4))
    c1.support(at(2025, 1, 5), SupportKind.GREEN_CHANNEL, aux, date(2025, 1, 1))
    c1.support(at(2025, 1, 6), SupportKind.COMFORT_PAYMENT, c1.filer_officer(), date(2025, 2, 1), Decimal("5000.00"))
    # rectified on the due date, late in the evening local time
    c1.finding(at(2025, 2, 10), FindingProblem.PROTRACTED, date(2025, 2, 20), at(2025, 2, 20, 23, 30), accountable=2)
    c1.conclude(at(2025, 2, 20)).reopen(at(2025, 2, 25), FindingProblem.NO_FEEDBACK_TO_OFFICER)
    c1.conclude(at(2025, 2, 26)).close(at(2025, 3, 1, 0, 30), support_delivered=True)
    # Review prompts (counted apart from downgrades): raised and resolved in 2025.
    c1.flag(FlagKind.REVIEW_PROMPT, at(2025, 2, 1), at(2025, 2, 15))
    out["C1"] = c1.case

    c2 = story(
        w.other_station,
        w.other_officer,
        at(2025, 3, 15, 9),
        kind=IncidentKind.ONLINE_DEFAMATION,
        channel=Channel.MOBILE_APP,
    )
    c2.submit(at(2025, 3, 15, 10))
    c2.suspect(at(2025, 3, 16), SuspectStatus.AT_LARGE, Disposition.AT_LARGE, name="李四")
    c2.suspect(at(2025, 3, 16, 11), SuspectStatus.UNIDENTIFIED)
    c2.refer(at(2025, 3, 19, 10), w.other_station).acknowledge(at(2025, 3, 20))
    c2.support(at(2025, 3, 25), SupportKind.CLARIFICATION_NOTICE, c2.filer_officer(), date(2025, 4, 1))
    c2.support(at(2025, 3, 26), SupportKind.LEGAL_SERVICE, c2.filer_officer(), None)  # offered, not delivered
    # rectify-by 20 April, rectified 21 April 07:00 local: late, although it is still the 20th in UTC
    c2.finding(at(2025, 4, 10), FindingProblem.DOWNGRADED, date(2025, 4, 20), at(2025, 4, 21, 7, 0), accountable=1)
    c2.flag(FlagKind.DOWNGRADED, at(2025, 5, 1), at(2025, 6, 1)).flag(FlagKind.STALLED, at(2025, 7, 1))
    c2.flag(FlagKind.REVIEW_PROMPT, at(2025, 5, 1))  # still open
    # A later referral of the same case is not a "first referral" and must not enter the durations.
    Referral.objects.create(
        case=c2.case,
        target=ReferralTarget.PROCURATORATE,
        body_name="西湖区人民检察院",
        track=Track.CRIMINAL,
        referred_by=sup,
        referred_at=at(2025, 6, 1),
        due_at=at(2025, 6, 8),
    )
    out["C2"] = c2.case

    c3 = story(w.county, w.officer, at(2025, 12, 31, 22), kind=IncidentKind.ARMED_ATTACK, channel=Channel.DISPATCH_110)
    c3.injure(InjuryGrade.DEATH, at(2025, 12, 31, 22, 5))
    c3.submit(at(2025, 12, 31, 23, 30))
    c3.suspect(at(2025, 12, 31, 23, 40), SuspectStatus.DETAINED, Disposition.CRIMINAL_FILED, name="王五")
    # Raised on 31 December, resolved ten minutes into 2026 local time (still 2025 in UTC): resolved in 2026.
    c3.flag(FlagKind.REVIEW_PROMPT, at(2025, 12, 31, 23, 35), at(2026, 1, 1, 0, 10))
    out["C3"] = c3.case

    c6 = story(w.station, w.officer, at(2025, 8, 8, 9), kind=IncidentKind.INSULT_ON_SCENE, channel=Channel.WEB)
    c6.submit(at(2025, 8, 8, 10)).reject(at(2025, 8, 10))
    out["C6"] = c6.case

    withdrawn = story(w.station, w.officer, at(2025, 5, 5), kind=IncidentKind.VIOLENT_ATTACK)
    out["withdrawn_draft"] = withdrawn.withdraw(at(2025, 5, 6)).case
    out["draft"] = story(w.station, w.officer, at(2025, 6, 1), kind=IncidentKind.THREAT).case

    # --- 2024, county subtree ---
    p1 = story(w.station, w.officer, at(2024, 12, 31, 23, 0), kind=IncidentKind.VIOLENT_ATTACK, channel=Channel.WEB)
    p1.injure(InjuryGrade.MINOR_1, at(2024, 12, 31, 23, 1))
    p1.submit(at(2024, 12, 31, 23, 59))
    p1.suspect(at(2025, 1, 1, 9), SuspectStatus.ARRESTED, Disposition.ADMIN_DETENTION_6_10, name="赵六")
    p1.flag(FlagKind.OVERDUE_REFERRAL, at(2025, 1, 1, 12), at(2025, 1, 2, 12))
    p1.refer(at(2025, 1, 2, 23, 59), w.station, Track.ADMINISTRATIVE).acknowledge(at(2025, 1, 3))
    p1.support(at(2025, 1, 4), SupportKind.PSYCH_INTERVENTION, p1.filer_officer(), date(2025, 1, 5))
    p1.conclude(at(2025, 1, 20)).close(at(2025, 2, 1, 23, 59), clarification_issued=True)
    out["P1"] = p1.case

    p2 = story(
        w.other_station, w.other_officer, at(2024, 6, 10, 9), kind=IncidentKind.DOXXING, channel=Channel.HOTLINE_12389
    )
    p2.colleague("辅警乙", at(2024, 6, 10, 9, 5), officer_type=OfficerType.AUXILIARY)
    p2.submit(at(2024, 6, 10, 10))
    p2.suspect(at(2024, 6, 11), SuspectStatus.RELEASED, Disposition.MEDIATION, name="钱七")
    p2.suspect(at(2024, 6, 11, 11), SuspectStatus.BAIL, Disposition.CRIMINAL_NON_PROSECUTION, name="孙八")
    p2.refer(at(2024, 6, 20, 10), w.other_station).acknowledge(at(2024, 6, 21))
    p2.finding(at(2024, 6, 25), FindingProblem.EVIDENCE_NOT_SECURED, None, at(2024, 6, 30))
    p2.flag(FlagKind.STALLED, at(2024, 6, 30), at(2024, 7, 1))
    officer = p2.filer_officer()
    p2.support(at(2024, 6, 28), SupportKind.COMFORT_PAYMENT, officer, date(2024, 7, 1), Decimal("1200.50"))
    p2.support(at(2024, 6, 29), SupportKind.COMFORT_PAYMENT, officer, date(2024, 7, 2), Decimal("800.00"))
    p2.support(at(2024, 6, 29, 11), SupportKind.COMFORT_VISIT, officer, date(2023, 12, 31))  # outside both years
    p2.conclude(at(2024, 7, 5)).close(at(2024, 7, 10, 10), support_delivered=True)
    out["P2"] = p2.case

    p3 = story(w.station, w.officer, at(2023, 12, 31, 23), kind=IncidentKind.ONLINE_DEFAMATION, channel=Channel.WEB)
    p3.submit(at(2024, 1, 1, 0, 0))
    p3.flag(FlagKind.IDLE, at(2024, 12, 31, 23))
    # Raised in 2024, resolved in 2025: a 2024 flag (since resolved) and a 2025 resolution.
    p3.flag(FlagKind.REVIEW_PROMPT, at(2024, 3, 1), at(2025, 2, 1))
    out["P3"] = p3.case

    # --- edges outside the two years ---
    o1 = story(w.station, w.officer, at(2023, 12, 31, 22), kind=IncidentKind.THREAT)
    out["O1"] = o1.submit(at(2023, 12, 31, 23)).case
    n1 = story(w.station, w.officer, at(2025, 12, 31, 23, 50), kind=IncidentKind.THREAT)
    out["N1"] = n1.submit(at(2026, 1, 1, 0, 0)).case

    # --- the city itself ---
    k1 = story(w.city, w.officer, at(2025, 9, 9, 9), kind=IncidentKind.OBSTRUCTION, channel=Channel.OWN_MOTION)
    out["K1"] = k1.submit(at(2025, 9, 9, 10)).case

    # --- the sibling province: everything counted, so a leak would show ---
    s1 = story(w.sibling_station, w.sibling_officer, at(2025, 2, 2, 9), kind=IncidentKind.VIOLENT_ATTACK)
    s1.injure(InjuryGrade.DEATH, at(2025, 2, 2, 9, 5)).submit(at(2025, 2, 2, 10))
    s1.suspect(at(2025, 2, 2, 11), SuspectStatus.ARRESTED, Disposition.CONVICTED_277_1, name="周九")
    s1.refer(at(2025, 2, 3, 10), w.sibling_station).acknowledge(at(2025, 2, 3, 12))
    s1.support(at(2025, 2, 4), SupportKind.COMFORT_PAYMENT, s1.filer_officer(), date(2025, 2, 5), Decimal("9999.00"))
    s1.finding(at(2025, 2, 4, 11), FindingProblem.NOT_HANDLED, date(2025, 2, 6), at(2025, 2, 5), accountable=5)
    s1.flag(FlagKind.STALLED, at(2025, 2, 4))
    s1.conclude(at(2025, 2, 6)).close(at(2025, 2, 10, 10))
    out["S1"] = s1.case
    s2 = story(w.sibling_station, w.sibling_officer, at(2024, 5, 5, 9), kind=IncidentKind.THREAT)
    out["S2"] = s2.submit(at(2024, 5, 5, 10)).case

    assert SupervisionFinding.objects.count() == 5  # guards the story above against silent changes
    return Dataset(world=w, cases=out)
