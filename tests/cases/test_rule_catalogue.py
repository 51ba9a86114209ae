"""The rule catalogue (page and API): every rule version with its dates, severity, basis and sourced parts, read from
the rules themselves; the suppressions with the rules they silence; who may read it."""

import re
from datetime import date
from html import unescape

import pytest
from django.urls import reverse
from django.utils import translation

from accounts import services as account_services
from accounts.models import Role
from accounts.selectors import actor_for
from cases import policy
from cases.choices import FlagKind
from cases.models import AccessLog, Case, Flag, Notification
from cases.rules import OPERATIONAL_RULES, RULES, Severity, Tag
from cases.rules.catalogue import rule_catalogue
from cases.rules.engine import SUPPRESSIONS
from cases.rules.presentation import TAG_TEXT
from tests.api.conftest import token_client
from tests.factories import UserFactory, case_in, member

PAGE = "/rules/"
API = "/api/v1/rules/"
ARTICLE = re.compile(
    r'<article id="(?P<anchor>[^"]+)" class="card mb-2 rule-version" data-rule="(?P<code>[^"]+)" '
    r'data-version="(?P<version>[^"]+)" data-severity="(?P<severity>[^"]+)">(?P<body>.*?)</article>',
    re.S,
)
SUPPRESSION = re.compile(
    r'<article id="[^"]+" class="card mb-2 suppression-version" data-suppression="(?P<code>[^"]+)" '
    r'data-version="(?P<version>[^"]+)">(?P<body>.*?)</article>',
    re.S,
)
NOT_LAW = "Not every part of this rule is verified against the official text: a prompt to check, not the law."


def text(html: str) -> str:
    """The words of some HTML, tags taken out, spaces collapsed, none before punctuation."""
    flat = " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())
    return re.sub(r" ([,.;:])", r"\1", flat)


def silenced_by(code: str, version: str) -> list[str]:
    """The rules naming suppression ``code`` with a version in force on some incident date its version covers."""
    suppression = next(s for s in SUPPRESSIONS if s.code == code and s.version == version)
    start, end = suppression.effective_from or date.min, suppression.effective_to or date.max
    codes = {
        r.code
        for r in RULES
        if code in r.suppressed_by and (r.effective_from or date.min) <= end and start <= (r.effective_to or date.max)
    }
    return sorted(codes, key=lambda c: int(c[1:]))


def page_articles(html: str) -> dict[tuple[str, str], dict[str, str]]:
    return {
        (m["code"], m["version"]): {"severity": m["severity"], "anchor": m["anchor"], "text": text(m["body"])}
        for m in ARTICLE.finditer(html)
    }


@pytest.fixture
def catalogue_html(client, world):
    client.force_login(world.supervisor)
    with translation.override("en"):
        response = client.get(PAGE, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_lists_every_rule_version_with_its_severity_and_sourced_parts(catalogue_html):
    articles = page_articles(catalogue_html)
    # Every version of every rule, none twice, none invented: the page is read from RULES.
    assert sorted(articles) == sorted((r.code, r.version) for r in RULES)
    assert len(articles) == len(RULES)
    for rule in RULES:
        article = articles[(rule.code, rule.version)]
        assert article["severity"] == str(rule.severity), rule.code
        assert str(rule.title) in catalogue_html
        assert str(rule.basis) in article["text"]
        for source in rule.sources:
            assert f"{source.part} ({TAG_TEXT[source.tag]}, {source.tag})" in article["text"], (rule.code, source)
        # A rule not verified in every part says it is not the law; a verified one does not.
        assert (NOT_LAW in article["text"]) is not rule.verified
        label = "Downgrade" if rule.severity == Severity.DOWNGRADE else "Review prompt"
        assert article["text"].startswith(label)


def test_a_few_rows_exactly(catalogue_html):
    articles = page_articles(catalogue_html)
    r1 = articles[("R1", "2025-01-18")]
    assert (r1["severity"], r1["anchor"]) == ("downgrade", "rule-R1-2025-01-18")
    assert r1["text"] == (
        "Downgrade Incidents from 18 Jan 2025 "
        "Basis: SPC/SPP Interpretation on assault-on-police cases (高检发释字〔2025〕1号) Art. 1(1); "
        "Criminal Law Art. 277(5) "
        "Biting, slapping, kicking, throwing down or throwing objects that causes at least a slight injury "
        "(verified from the official text, V) "
        "Expected outcome: a criminal case for assaulting police (verified from the official text, V) "
        "Expected at least: Criminal case filed "
        "Too light even at a high enough rank: Convicted: obstructing official duty (CL 277(1)) "
        "Only its findings about the level of the outcome are downgrades; its other findings are review prompts. "
        "Silenced by: R12, R14"
    )
    earliest = articles[("R1", "-")]
    assert (earliest["severity"], earliest["anchor"]) == ("prompt", "rule-R1-start")
    assert earliest["text"].startswith("Review prompt Incidents up to 28 Feb 2021 ")
    assert NOT_LAW in earliest["text"]
    assert "Incidents from 1 Mar 2021 to 17 Jan 2025" in articles[("R1", "2021-03-01")]["text"]
    # R6 starts with the 2020 guidance; neither version is verified in every part.
    assert sorted(v for code, v in articles if code == "R6") == ["2020-01-10", "2025-01-18"]
    for version in ("2020-01-10", "2025-01-18"):
        r6 = articles[("R6", version)]
        assert r6["severity"] == "prompt"
        assert "(from a secondary source, S)" in r6["text"]
        assert NOT_LAW in r6["text"]
    assert "(the office's inference, I)" in articles[("R6", "2025-01-18")]["text"]
    # A downgrade rule whose other findings are prompts says so.
    assert "Only its findings about the level of the outcome are downgrades" in articles[("R4", "2025-01-18")]["text"]
    assert (
        "Too light even at a high enough rank: Convicted: obstructing official duty (CL 277(1))"
        in (articles[("R4", "2025-01-18")]["text"])
    )
    assert "A sentence below 36 months is below the bracket." in articles[("R3", "2021-03-01")]["text"]


def test_the_suppressions_name_the_rules_they_silence(catalogue_html):
    found = {(m["code"], m["version"]): text(m["body"]) for m in SUPPRESSION.finditer(catalogue_html)}
    assert sorted(found) == sorted((s.code, s.version) for s in SUPPRESSIONS)
    assert found[("R12", "2025-01-18")].endswith("Silences: R1, R2, R3, R4, R6, R13, R27")
    assert found[("R12", "-")].endswith("Silences: R1, R2, R3, R4, R6, R27")
    assert found[("R14", "2025-01-18")].endswith(f"Silences: {', '.join(silenced_by('R14', '2025-01-18'))}")
    assert "(verified from the official text, V)" in found[("R14", "2025-01-18")]
    assert NOT_LAW in found[("R14", "2025-01-18")]  # one part is an inference
    # Every code a rule names as its suppression is on the page, and every rule it silences lists it.
    catalogue = rule_catalogue()
    for entry in catalogue.suppressions:
        for version in entry.versions:
            for code in version.silences:
                assert any(entry.code in v.silenced_by for r in catalogue.rules if r.code == code for v in r.versions)


def test_the_page_says_what_each_severity_means_and_that_unverified_rules_are_not_the_law(catalogue_html):
    flat = text(catalogue_html)
    assert (
        "A rule not verified from the official text is not presented as the law: its basis is shown with each "
        "part's confidence, as a prompt to check." in flat
    )
    assert (
        "Only a rule verified from the official text in every part, and setting a minimum outcome, can flag a "
        "downgrade." in flat
    )
    for rule in OPERATIONAL_RULES.values():
        assert f'id="rule-{rule.code}"' in catalogue_html
        assert str(rule.title) in flat
    # Each rule has an anchor the flags link to, and the navigation links here.
    for code in {r.code for r in RULES}:
        assert f'id="rule-{code}"' in catalogue_html
    assert f'href="{reverse("cases:rules")}"' in catalogue_html


def test_the_page_in_chinese(client, world):
    client.force_login(world.supervisor)
    client.cookies["django_language"] = "zh-hans"
    html = client.get(PAGE).content.decode()
    assert 'lang="zh-Hans"' in html
    with translation.override("zh-hans"):
        assert str(TAG_TEXT[Tag.VERIFIED]) in html
        assert str(FlagKind.REVIEW_PROMPT.label) in html
        assert re.search(r"[\u4e00-\u9fff]", str(FlagKind.REVIEW_PROMPT.label)), "not translated"
    assert "<title>规则目录" in html


@pytest.mark.parametrize("who", ["officer", "supervisor", "admin", "sibling_supervisor"])
def test_members_of_a_unit_read_it(client, world, who):
    client.force_login(getattr(world, who))
    assert client.get(PAGE).status_code == 200
    body = token_client(getattr(world, who)).get(API)
    assert body.status_code == 200
    assert policy.can_read_rule_catalogue(actor_for(getattr(world, who)))


def records() -> tuple:
    return (
        list(Case.objects.order_by("pk").values_list("pk", "version", "status")),
        list(Flag.objects.order_by("pk").values_list("pk", "kind", "resolved_at", "acknowledged_at")),
        Notification.objects.count(),
    )


def test_a_person_without_a_membership_is_refused_and_nothing_changes(client, world):
    case_in(world, "intake")
    stranger = UserFactory(username="stranger")
    revoked = member(world.station, Role.OFFICER, username="revoked")
    account_services.revoke_membership(membership=revoked.memberships.get())
    before = records()
    for user in (stranger, revoked):
        assert not policy.can_read_rule_catalogue(actor_for(user))
        client.force_login(user)
        response = client.get(PAGE)
        assert response.status_code == 403
        assert 'href="/rules/"' not in response.content.decode()  # not offered in the navigation either
        assert 'class="card mb-2 rule-version"' not in response.content.decode()
        assert AccessLog.objects.filter(user=user, object_ref=PAGE, outcome="forbidden").count() == 1
        refused = token_client(user).get(API)
        assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    assert records() == before
    client.logout()
    assert client.get(PAGE)["Location"].startswith("/accounts/login/")
    assert token_client(world.supervisor).get(API).status_code == 200


def test_the_api_answers_the_same_catalogue(world):
    with translation.override("en"):
        body = token_client(world.supervisor).get(API, HTTP_ACCEPT_LANGUAGE="en").json()
    versions = {(r["code"], v["version"]): v for r in body["rules"] for v in r["versions"]}
    assert sorted(versions) == sorted((r.code, r.version) for r in RULES)
    assert {k: v["severity"] for k, v in versions.items()} == {(r.code, r.version): str(r.severity) for r in RULES}
    r1 = versions[("R1", "2025-01-18")]
    assert (r1["effective_from"], r1["effective_to"], r1["verified"], r1["caveat"]) == ("2025-01-18", None, True, "")
    assert [(s["tag"], s["tag_text"]) for s in r1["sources"]] == [("V", "verified from the official text")] * 2
    assert r1["silenced_by"] == ["R12", "R14"]
    r6 = versions[("R6", "2025-01-18")]
    assert (r6["severity"], r6["verified"], r6["caveat"]) == ("prompt", False, NOT_LAW)
    assert [s["tag"] for s in r6["sources"]] == ["V", "V", "S", "I"]
    assert {s["code"]: s["versions"][-1]["silences"] for s in body["suppressions"]} == {
        "R12": ["R1", "R2", "R3", "R4", "R6", "R13", "R27"],
        "R14": silenced_by("R14", "2025-01-18"),
    }
    assert [(o["code"], o["kind"]) for o in body["operational"]] == [
        ("STALLED", "stalled"),
        ("IDLE", "idle"),
        ("REFERRAL_OVERDUE", "overdue_referral"),
    ]
