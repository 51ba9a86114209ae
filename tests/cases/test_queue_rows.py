"""The queue's rows (cases/views/queue_rows.py, printed by a Jinja2 template): what each cell says, in both
languages, and that whatever was typed into a case is printed as text."""

import html
import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import OrgUnit
from cases import services
from cases.choices import CaseStatus
from cases.models import Case
from cases.views.queue_rows import RowPresenter, render_rows, shortened
from tests.factories import case_in

S = CaseStatus
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>\'&'


def _row_html(body: str, reference: str) -> str:
    rows = re.findall(r"<tr>.*?</tr>", body, flags=re.DOTALL)
    [row] = [r for r in rows if f">{reference}</a>" in r]
    return row


def test_hostile_text_in_a_case_its_unit_and_its_assignee_is_printed_as_text(client, world):
    case = case_in(world, S.INTAKE, summary=HOSTILE)
    OrgUnit.objects.filter(pk=world.station.pk).update(name_en=HOSTILE)
    world.supervisor.first_name, world.supervisor.last_name = HOSTILE, "Z"
    world.supervisor.save()
    services.assign_case(case=case, by=world.supervisor, expected_version=case.version, assignee=world.supervisor)
    client.force_login(world.supervisor)
    body = client.get(reverse("cases:queue")).content.decode()
    row = _row_html(body, case.reference)
    assert "<script>" not in body
    assert "<img" not in row
    assert "onerror=alert(1)>" not in row
    # Shortened to sixty characters, then escaped: the text the reader sees is the text typed.
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&#39;&amp;" in row
    assert html.unescape(row).count(HOSTILE) == 2  # the summary (short enough to be whole) and the unit's name
    assert str(world.supervisor) in html.unescape(row)


def test_a_typed_search_is_kept_in_the_box_escaped(client, world):
    case_in(world, S.INTAKE)
    client.force_login(world.supervisor)
    body = client.get(reverse("cases:queue"), {"q": '"><svg onload=alert(1)>'}).content.decode()
    assert "<svg" not in body
    assert 'value="&#34;&gt;&lt;svg onload=alert(1)&gt;"' in body


def test_each_cell_says_what_the_template_language_said(world):
    today = timezone.localdate()
    overdue = case_in(world, S.INTAKE)
    left = case_in(world, S.INTAKE)
    paused = case_in(world, S.INTAKE)
    Case.objects.filter(pk=overdue.pk).update(stage_due_at=timezone.now() - timedelta(days=3), is_stalled=True)
    Case.objects.filter(pk=left.pk).update(stage_due_at=timezone.now() + timedelta(days=1), has_review_prompt=True)
    services.pause_clock(case=paused, by=world.supervisor, expected_version=paused.version, reason="other", note="n")
    cases = {
        c.pk: c
        for c in Case.objects.select_related("unit", "assigned_to").filter(pk__in=[overdue.pk, left.pk, paused.pk])
    }
    with translation.override("en"):
        p = RowPresenter()
        a, b, c = (p.row(cases[x.pk]) for x in (overdue, left, paused))
        assert (a.deadline, a.overdue, a.badges) == ("3 days overdue", True, (("danger", "Stalled"),))
        assert (b.deadline, b.overdue, b.badges) == ("1 day left", False, (("info", "Review prompt"),))
        assert (c.deadline, c.paused, c.badges) == ("", True, ())
        assert (a.status, a.status_style, a.kind) == ("Intake", "info", cases[overdue.pk].get_kind_display())
        assert a.unit == world.station.display_name
        assert a.assigned == "—"
        assert a.select_label == f"Select {overdue.reference}"
        assert a.url == reverse("cases:detail", args=[overdue.pk])
        last = timezone.localtime(cases[overdue.pk].last_activity_at).date()
        assert a.last_activity == f"{last.day} {last:%b} {last.year}"  # the project's SHORT_DATE_FORMAT, "j M Y"
        html_rows = render_rows([cases[paused.pk]])
        assert '<span class="badge text-bg-secondary">Paused</span>' in html_rows
    with translation.override("zh-hans"):
        p = RowPresenter()
        a = p.row(cases[overdue.pk])
        assert (a.deadline, a.badges, a.status) == ("已超期 3 天", (("danger", "阶段超期"),), "受理")
        last = timezone.localtime(cases[overdue.pk].last_activity_at).date()
        assert a.last_activity == f"{last.year}年{last.month}月{last.day}日"
        assert a.unit == world.station.display_name
    assert today == timezone.localdate()


def test_no_case_says_so_in_one_row():
    with translation.override("en"):
        assert render_rows([]).strip() == '<tr><td colspan="8">No cases match.</td></tr>'


def test_a_summary_is_cut_as_truncatechars_cuts_it():
    assert shortened("a" * 60) == "a" * 60
    assert shortened("甲" * 61) == "甲" * 59 + "…"
    assert len(shortened("x" * 500)) == 60
