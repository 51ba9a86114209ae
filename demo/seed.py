"""What ``manage.py seed_demo`` does: ensure the tree, accounts and officer strengths, play the demo cases, add
synthetic ones."""

import time

from django.utils import timezone

from cases import partitions, summaries
from cases.models import CaseEvent
from demo.campaigns import seed_demo_campaigns
from demo.evaluations import seed_demo_evaluations
from demo.generator import DEFAULT_BATCH_SIZE, DEFAULT_SEED, SPAN, Log, generate_cases
from demo.library import seed_demo_library
from demo.organisation import ensure_demo_accounts, ensure_org_tree
from demo.stories import seed_demo_cases
from demo.strengths import ensure_officer_strengths
from demo.tips import seed_demo_tips


def seed(
    *,
    cases: int = 0,
    seed_value: int = DEFAULT_SEED,
    demo: bool = True,
    batch_size: int = DEFAULT_BATCH_SIZE,
    workers: int | None = None,
    log: Log = print,
) -> None:
    """Everything but the synthetic cases is idempotent: a second run finds what the first created and leaves it."""
    # The timeline's monthly partitions for the years the demo's cases span (PostgreSQL: cases/partitions.py), so that
    # their events land in their months' partitions rather than in DEFAULT.
    now = timezone.now()
    created = partitions.cover(CaseEvent, start=now - SPAN, end=now)
    if created:
        log(f"Timeline partitions: {created} month(s) created.")
    units, new_units = ensure_org_tree()
    log(f"Organisation units: {new_units} created, {len(units) - new_units} already present.")
    users, new_users = ensure_demo_accounts(units)
    existing = len(users) - new_users
    kept = ", passwords left unchanged" if existing else ""
    log(f"Demo accounts: {new_users} created, {existing} already present{kept}.")
    strengths, present = ensure_officer_strengths(units)
    log(f"Officer strengths of the counties and stations: {strengths} recorded, {present} already present.")
    if demo:
        played = seed_demo_cases(units, users)
        if played:
            log(f"Demo cases: {played} created.")
        else:
            log("Demo cases: already present, left unchanged.")
        campaigns = seed_demo_campaigns(units, users)
        if campaigns.campaigns:
            log(f"Demo campaigns: {campaigns.campaigns} created.")
        elif campaigns.skipped:
            log(f"Demo campaigns: skipped, {campaigns.skipped}.")
        else:
            log("Demo campaigns: already present, left unchanged.")
        evaluations = seed_demo_evaluations(units, users)
        if evaluations.reports:
            log(f"Demo evaluation reports: {evaluations.reports} created.")
        else:
            log("Demo evaluation reports: already present, left unchanged.")
        library = seed_demo_library(units, users)
        if library.typical_cases:
            log(f"Demo typical cases: {library.typical_cases} published.")
        elif library.skipped:
            log(f"Demo typical cases: skipped, {library.skipped}.")
        else:
            log("Demo typical cases: already present, left unchanged.")
        tips = seed_demo_tips(units, users)
        if tips.tips:
            log(f"Demo guidance tips: {tips.tips} published.")
        else:
            log("Demo guidance tips: already present, left unchanged.")
    else:
        log("Demo cases: skipped (--no-demo).")
    if cases:
        log(f"Generating {cases:,} synthetic cases (seed {seed_value}, batches of {batch_size:,})...")
        try:
            result = generate_cases(cases, seed=seed_value, batch_size=batch_size, workers=workers, log=log)
            log(f"Added {result.cases:,} synthetic cases in {result.seconds:.1f} s ({result.rate:,.0f} cases/s).")
        finally:
            # The synthetic cases are written around the services, a batch per transaction, so the report summaries
            # are rebuilt after them: also when a batch failed, for the batches committed before it. (A process
            # killed outright leaves that to ``manage.py reconcile --repair-summaries``.)
            started = time.perf_counter()
            check = summaries.reconcile(repair=True)
            seconds = time.perf_counter() - started
            log(f"Report summaries rebuilt: {len(check.mismatches):,} rows written in {seconds:.1f} s.")
