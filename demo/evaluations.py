"""The demo's case analysis and evaluation reports (analysis/evaluation.py), played through ``analysis.services``:

- the Hangzhou bureau's report for **last year**, its lessons and measures written and submitted by the city's
  supervisor (``supervisor``) and approved by the provincial department's (``province_supervisor``): the second
  supervisor's sign-off, so its figures are frozen as of the seeding;
- its report for the **current quarter**, a draft with the first lines of its lessons.

Played once: a report the city has already for either period is left as it is, whatever its state.
"""

from dataclasses import dataclass

from django.utils import timezone

from accounts.models import OrgUnit, User
from analysis import services
from analysis.choices import WHOLE_YEAR

CITY = "330100"

ANNUAL_LESSONS = """一、主要特点
1. 110接处警和纠纷调解现场是袭警案件的高发场景，夜间22时至次日2时案件相对集中，多数行为人系酒后滋事。
2. 道路和娱乐场所周边案件占比较高；部分案件中有人煽动围观、拍摄视频并在网上恶意传播。
3. 个别行为人多次阻碍民警执法，已纳入重点人员管控。

二、存在的不足
1. 部分民警现场处置经验不足，执法记录仪开启不及时，证据固定不够完整。
2. 个别案件移送后跟踪督办不到位，办理周期偏长。
3. 受伤民警心理疏导和慰问回访还不够及时。

三、工作措施
1. 开展110接处警现场安全防护和处置技能实战化轮训，每季度至少一次，重点提升夜间和酒后滋事警情处置能力。
2. 严格执行执法记录仪全程记录制度，纳入执法质量考评。
3. 对多次袭警的行为人建立档案，会同治安部门落实重点管控。
4. 完善网上舆情联动处置机制，及时为受到不实举报的民警澄清正名，依法打击网上侮辱诽谤民警的行为。
5. 落实受伤民警“绿色通道”和心理干预，由各分局维权工作站在七日内完成回访。"""

QUARTER_LESSONS = """（草稿）
一、本季度案件主要集中在交通查控和夜间巡逻现场。
二、拟于下季度组织一次民警维权法律知识培训，并对两起办理周期偏长的案件开展督办。"""


@dataclass(frozen=True)
class Played:
    reports: int


def current_quarter() -> tuple[int, int]:
    today = timezone.localdate()
    return today.year, (today.month - 1) // 3 + 1


def seed_demo_evaluations(units: dict[str, OrgUnit], users: dict[str, User]) -> Played:
    """The city's approved report for last year and its draft for this quarter, each unless the city has one."""
    city, writer, head = units[CITY], users["supervisor"], users["province_supervisor"]
    played = 0
    year, quarter = current_quarter()
    annual, created = services.start_evaluation(unit=city, year=year - 1, quarter=WHOLE_YEAR, by=writer)
    if created:
        annual = services.submit_evaluation(report=annual, by=writer, lessons=ANNUAL_LESSONS)
        services.approve_evaluation(report=annual, by=head)
        played += 1
    draft, created = services.start_evaluation(unit=city, year=year, quarter=quarter, by=writer)
    if created:
        services.save_lessons(report=draft, by=writer, lessons=QUARTER_LESSONS)
        played += 1
    return Played(played)
