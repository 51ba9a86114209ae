"""The campaign policy for each role and unit: who creates, runs, sees, reviews; each yes/no agrees with the
queryset beside it. Officers never see campaigns or reviews."""

from accounts.models import Role
from accounts.selectors import actor_for
from cases import services as case_services
from cases.choices import CaseStatus
from oversight import policy, services
from oversight.models import CampaignCase
from oversight.scope import Scope
from tests.factories import member
from tests.oversight.conftest import case_at, new_campaign

# person: (creates in the city, manages, sees the campaign, cases seen (west, east), reviews west, reviews east)
EXPECTED = {
    "officer": (False, False, False, set(), False, False),
    "east_officer": (False, False, False, set(), False, False),
    "county_supervisor": (False, False, True, {"west"}, True, False),  # assigned to the west county
    "east_supervisor": (False, False, False, set(), False, False),  # not assigned
    "supervisor": (True, True, True, {"west", "east"}, False, False),  # the city's: runs it, reviews nothing
    "admin": (True, True, True, {"west", "east"}, False, False),  # the province's administrator
    "ministry_supervisor": (True, True, True, {"west", "east"}, False, False),
    "sibling_supervisor": (False, False, False, set(), False, False),
    "inactive": (False, False, False, set(), False, False),
    "moved": (False, False, False, set(), False, False),  # assigned, then no longer a supervisor there
}


def test_the_policy_matrix(camp):
    world = camp.world
    west = case_at(camp, CaseStatus.CLOSED)
    east = case_at(camp, CaseStatus.CLOSED, east=True)
    campaign = new_campaign(camp)
    moved = member(world.county, Role.SUPERVISOR, username="moved")
    for reviewer in (world.county_supervisor, moved):
        services.assign_reviewer(campaign=campaign, by=world.supervisor, sub_unit=world.county, reviewer=reviewer)
    services.start_campaign(campaign=campaign, by=world.supervisor)
    moved.memberships.all().delete()
    inactive = member(world.city, Role.SUPERVISOR, username="inactive")
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])
    people = {name: getattr(world, name, None) for name in EXPECTED}
    people.update(east_officer=camp.east_officer, east_supervisor=camp.east_supervisor, inactive=inactive, moved=moved)
    items = {"west": CampaignCase.objects.get(case=west), "east": CampaignCase.objects.get(case=east)}
    found = {}
    for name, user in people.items():
        actor = actor_for(user)
        seen = set(policy.campaign_cases_visible_to(actor, campaign).values_list("pk", flat=True))
        found[name] = (
            policy.can_create_in(actor, camp.city),
            policy.can_manage(actor, campaign),
            policy.can_see(actor, campaign),
            {label for label, item in items.items() if item.pk in seen} if policy.can_see(actor, campaign) else set(),
            policy.can_review(actor, items["west"]),
            policy.can_review(actor, items["east"]),
        )
        assert policy.can_see(actor, campaign) == (campaign in policy.campaigns_visible_to(actor))
        assert policy.has_campaigns(actor) == (name not in ("officer", "east_officer", "inactive", "moved"))
    assert found == EXPECTED


def test_a_party_to_the_case_does_not_review_it(camp):
    world = camp.world
    case = case_at(camp, CaseStatus.SUPERVISION)
    campaign = new_campaign(camp, scope=Scope(statuses=(CaseStatus.SUPERVISION,)))
    # The county supervisor is listed on the case as a victim.
    case_services.add_involved_officer(case=case, by=world.supervisor, name="县局民警", user=world.county_supervisor)
    services.assign_reviewer(
        campaign=campaign, by=world.supervisor, sub_unit=world.county, reviewer=world.county_supervisor
    )
    services.start_campaign(campaign=campaign, by=world.supervisor)
    item = CampaignCase.objects.get(case=case)
    assert policy.can_review(actor_for(world.county_supervisor), item) is False
