"""Import layering, read from the source with ``ast``: which module may import which.

Views, the API and tasks call services; services call selectors, the policy and the models; the rules are pure.
Every import counts, those inside functions included: deferring an import hides a dependency from readers and tools
but does not remove it. Imports under ``if TYPE_CHECKING`` (annotations only) do not count.
"""

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("cases", "accounts", "demo", "oversight", "analysis", "library", "integrations")

# Existing edges that break a rule below, each with the reason it stays for now. Remove an entry when its edge goes.
ALLOWED: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module (a submodule when ``from package import submodule``)


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                found[_module_name(path)] = path
    return found


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(node: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            found.append(child)
        elif not (isinstance(child, ast.If) and _is_type_checking(child)):
            found.extend(_import_nodes(child))
    return found


def _imports_of(module: str, path: Path) -> list[Import]:
    is_package = path.name == "__init__.py"
    found = []
    for node in _import_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.extend(Import(module, alias.name) for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            anchor = module.split(".")
            anchor = anchor if is_package else anchor[:-1]
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join([*anchor, base] if base else anchor)
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            found.append(Import(module, submodule if submodule in MODULES else base))
    return found


IMPORTS = [imp for module, path in MODULES.items() for imp in _imports_of(module, path)]


def _violations(source_prefix: str, forbidden: tuple[str, ...]) -> list[tuple[str, str]]:
    return sorted(
        {
            (imp.source, imp.target)
            for imp in IMPORTS
            if _within(imp.source, source_prefix)
            and any(_within(imp.target, f) for f in forbidden)
            and (imp.source, imp.target) not in ALLOWED
        }
    )


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_import_reader_sees_the_modules_and_their_edges():
    # Guards the checks below against passing because nothing was read.
    assert {"cases.flagging.plan", "cases.flagging.scan", "cases.tasks", "accounts.models", "demo.seed"} <= set(MODULES)
    assert Import("cases.tasks", "cases.flagging") in IMPORTS
    assert Import("cases.flagging.scan", "cases.outbox") in IMPORTS
    assert Import("cases.flagging.apply", "cases.flagging.plan") in IMPORTS
    # Inside a function it counts; under TYPE_CHECKING it does not.
    assert Import("cases.reports.tasks", "cases.reports.services") in IMPORTS
    assert Import("cases.rules.presentation", "cases.models") not in IMPORTS
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles_among_the_modules_of_cases():
    edges: dict[str, set[str]] = {}
    for imp in IMPORTS:
        if _within(imp.source, "cases") and _within(imp.target, "cases") and imp.source != imp.target:
            edges.setdefault(imp.source, set()).add(imp.target)
    assert _cycles(edges) == []


def test_nothing_below_the_tasks_imports_the_tasks():
    importers = sorted({imp.source for imp in IMPORTS if imp.target == "cases.tasks"})
    assert importers == []


def test_the_rules_are_pure():
    forbidden = ("django.db", "cases.models", "cases.services", "cases.selectors")
    assert _violations("cases.rules", forbidden) == []


def test_planning_the_flags_needs_no_database():
    assert _violations("cases.flagging.plan", ("django.db", "cases.models", "cases.flagging.snapshot")) == []


def test_the_domain_does_not_import_the_demo():
    assert _violations("cases", ("demo",)) == []
    assert _violations("accounts", ("demo",)) == []


def test_services_do_not_import_views_or_the_api():
    assert _violations("cases.services", ("cases.views", "cases.api")) == []


def test_cases_never_imports_oversight():
    assert _violations("cases", ("oversight",)) == []
    assert _violations("accounts", ("oversight",)) == []


def test_the_analysis_stands_on_the_domain_and_the_domain_never_imports_it():
    assert _violations("cases", ("analysis",)) == []
    assert _violations("accounts", ("analysis",)) == []
    assert Import("analysis.admin", "analysis.services") in IMPORTS


# What oversight may use of cases: its public doors (services, selectors, policy, and where reading-heavy work reads:
# the read replica's choice), the model classes its foreign keys point at, the vocabulary of case values (statuses,
# incident types, flags, timeline steps) and the refusals the services raise (a stale version is one refusal wherever
# it is given: the API answers it with 412).
CASES_DOORS = (
    "cases.services",
    "cases.selectors",
    "cases.policy",
    "cases.reading",
    "cases.models",
    "cases.choices",
    "cases.exceptions",
)
# The campaign API (oversight.api) stands on the API's common ground, which lives with the case API: the base views
# with their authentication, paging, the error answers of the schema, idempotency keys, the version read from the body
# or If-Match, and the reference serializers.
CASES_API_GROUND = (
    "cases.api.views",
    "cases.api.pagination",
    "cases.api.schema",
    "cases.api.idempotency",
    "cases.api.versioning",
    "cases.api.serializers",
)
# The review page gives back what a stale form had typed as the case page does (cases/views/kept.py).
CASES_PAGE_GROUND = ("cases.views.kept",)


# The campaign report and the yearly report's campaigns section (oversight.report_files, oversight.yearly) are drawn
# with the reports' building blocks: the grids and charts, the formula-safe CSV writer, the PDF machinery, the sheet
# names, the extension point of the yearly report and its time zone. Nothing else of oversight uses them.
CASES_REPORT_BLOCKS = (
    "cases.reports.cells",
    "cases.reports.charts",
    "cases.reports.grid",
    "cases.reports.layout",
    "cases.reports.page",
    "cases.reports.pdf",
    "cases.reports.sections",
    "cases.reports.xlsx",
    "cases.reports.yearly",
)
REPORT_MODULES = ("oversight.report_files", "oversight.yearly", "oversight.apps")


def test_oversight_uses_cases_only_through_its_doors():
    used = sorted(
        {
            imp.target
            for imp in IMPORTS
            if _within(imp.source, "oversight") and _within(imp.target, "cases")
            if not any(imp.target == door for door in CASES_DOORS)
            if not (_within(imp.source, "oversight.api") and imp.target in CASES_API_GROUND)
            if not (imp.source == "oversight.views" and imp.target in CASES_PAGE_GROUND)
            if not (imp.source in REPORT_MODULES and imp.target in CASES_REPORT_BLOCKS)
            # The beat's once-per-period claim (JobRun) is the project's, for every periodic task.
            if not (imp.source == "oversight.tasks" and imp.target == "cases.periodic")
        }
    )
    assert used == []
    assert Import("oversight.services", "cases.services") in IMPORTS
    assert Import("oversight.apps", "cases.reports.sections") in IMPORTS


def test_the_yearly_report_knows_its_added_sections_only_through_the_registry():
    # cases never imports oversight (above); the registry is how the campaigns reach the yearly report.
    assert Import("cases.reports.yearly", "cases.reports.sections") in IMPORTS
    assert _violations("cases.reports", ("oversight",)) == []


def test_every_allowed_edge_still_exists():
    # An allowance outliving its edge would quietly permit the next one.
    assert {(imp.source, imp.target) for imp in IMPORTS} >= set(ALLOWED)


# The analysis (the analysis app) reads the cases' figures through the selectors and decides who sees them with the
# policy; it names the analysis's dimensions and their codes as cases/dimensions.py defines them (the vocabulary the
# queue reads too), and draws its tables and files with the reports' building blocks, as oversight's report does.
ANALYSIS_VOCABULARY = ("cases.dimensions",)
ANALYSIS_REPORT_MODULES = ("analysis.tables", "analysis.views", "analysis.evaluation_files")
# The evaluation report names a repeat attacker masked by the cases' own masking rule (cases/sensitive.py), never one
# of its own: one rule for what a mask hides, wherever a name or number is shown.
ANALYSIS_MASKING = {"analysis.evaluation": ("cases.sensitive",)}
# The early warnings reach the notification list and the dashboard through their registries, as the campaigns reach the
# yearly report (their wording and their count are the analysis's; cases knows neither); the dashboard's panel is the
# registry's own dataclass.
ANALYSIS_REGISTRIES = {
    "analysis.apps": ("cases.notices", "cases.dashboard_panels"),
    "analysis.panels": ("cases.dashboard_panels",),
}


def test_the_analysis_uses_cases_only_through_its_doors():
    used = sorted(
        {
            (imp.source, imp.target)
            for imp in IMPORTS
            if _within(imp.source, "analysis") and _within(imp.target, "cases")
            if imp.target not in CASES_DOORS and imp.target not in ANALYSIS_VOCABULARY
            if not (imp.source in ANALYSIS_REPORT_MODULES and imp.target in CASES_REPORT_BLOCKS)
            if not (_within(imp.source, "analysis.api") and imp.target in CASES_API_GROUND)
            if imp.target not in ANALYSIS_REGISTRIES.get(imp.source, ())
            if imp.target not in ANALYSIS_MASKING.get(imp.source, ())
            # The beat's once-per-period claim (JobRun) is the project's, for every periodic task.
            if not (imp.source == "analysis.tasks" and imp.target == "cases.periodic")
        }
    )
    assert used == []
    assert Import("analysis.figures", "cases.selectors") in IMPORTS
    assert Import("analysis.apps", "cases.notices") in IMPORTS
    assert Import("analysis.apps", "cases.dashboard_panels") in IMPORTS
    assert Import("analysis.evaluation", "cases.sensitive") in IMPORTS


def test_the_dashboard_and_the_notifications_know_the_analysis_only_through_the_registries():
    assert Import("cases.views.dashboard", "cases.dashboard_panels") in IMPORTS
    assert Import("cases.messages", "cases.notices") in IMPORTS
    assert _violations("cases", ("analysis",)) == []


# The typical-case library reads the source case through the selectors (its parties, its legal basis) and decides who
# may propose, edit and read with the policy; it reaches the case page through its registry of links, as the analysis
# reaches the dashboard, and the notification list through the notices' registry, as the early warnings do; its API
# stands on the API's common ground, as the campaign API does; its training record's files are written with the
# reports' formula-safe CSV writer and sheet names, as the campaign report's are.
LIBRARY_REGISTRIES = {
    "library.apps": ("cases.case_page_links", "cases.notices"),
    "library.case_links": ("cases.case_page_links",),
}
LIBRARY_REPORT_MODULES = ("library.training",)
# A published tip is pushed by a background job, enqueued through the project's transactional outbox with the
# publication and marked done by its task, as every job a service starts is.
LIBRARY_JOBS = {"library.notices": ("cases.outbox",), "library.tasks": ("cases.outbox", "cases.periodic")}


def test_the_library_uses_cases_only_through_its_doors():
    used = sorted(
        {
            (imp.source, imp.target)
            for imp in IMPORTS
            if _within(imp.source, "library") and _within(imp.target, "cases")
            if imp.target not in CASES_DOORS
            if not (_within(imp.source, "library.api") and imp.target in CASES_API_GROUND)
            if imp.target not in LIBRARY_REGISTRIES.get(imp.source, ())
            if not (imp.source in LIBRARY_REPORT_MODULES and imp.target in CASES_REPORT_BLOCKS)
            if imp.target not in LIBRARY_JOBS.get(imp.source, ())
        }
    )
    assert used == []
    assert Import("library.selectors", "cases.selectors") in IMPORTS
    assert Import("library.tasks", "cases.outbox") in IMPORTS
    assert Import("library.apps", "cases.case_page_links") in IMPORTS
    assert Import("library.apps", "cases.notices") in IMPORTS
    assert Import("library.training", "cases.reports.cells") in IMPORTS


def test_cases_knows_the_library_only_through_the_case_page_registry():
    assert _violations("cases", ("library",)) == []
    assert _violations("accounts", ("library",)) == []
    assert _violations("oversight", ("library",)) == []
    assert _violations("analysis", ("library",)) == []
    assert Import("cases.views.workspace", "cases.case_page_links") in IMPORTS


# The integrations (other systems of the intranet) start applications through the intake services, find an application
# already recorded for a 110 incident through the selectors, and ask the policy which units an integration account
# imports for; the 110 import prefills the facts the incident's type asks (the facts table is the cases' vocabulary of
# facts, as cases/dimensions.py is the analysis's); the import API stands on the API's common ground.
INTEGRATIONS_VOCABULARY = {"integrations.services.incidents": ("cases.rules.facts",)}
# The webhooks hear of each move of a case through the cases' registry (cases/case_feed.py), as the library reaches the
# case page through its registry of links; they queue their deliveries in the project's transactional outbox and
# claim the beat's periods as every periodic task does (no second queue); their signing secrets are encrypted at rest
# with the field keys, as suspects' ID numbers are (cases/fields.py).
INTEGRATIONS_GROUND = {
    "integrations.apps": ("cases.case_feed",),
    "integrations.services.webhooks": ("cases.outbox",),
    "integrations.tasks": ("cases.outbox", "cases.periodic"),
    "integrations.models": ("cases.fields",),
}


def test_cases_never_imports_the_integrations():
    assert _violations("cases", ("integrations",)) == []
    assert _violations("accounts", ("integrations",)) == []
    for app in ("oversight", "analysis", "library"):
        assert _violations(app, ("integrations",)) == []


def test_the_integrations_use_cases_only_through_its_doors():
    used = sorted(
        {
            (imp.source, imp.target)
            for imp in IMPORTS
            if _within(imp.source, "integrations") and _within(imp.target, "cases")
            if imp.target not in CASES_DOORS
            if not (_within(imp.source, "integrations.api") and imp.target in CASES_API_GROUND)
            if imp.target not in INTEGRATIONS_VOCABULARY.get(imp.source, ())
            if imp.target not in INTEGRATIONS_GROUND.get(imp.source, ())
        }
    )
    assert used == []
    assert Import("integrations.apps", "cases.case_feed") in IMPORTS
    assert Import("integrations.services.webhooks", "cases.outbox") in IMPORTS
    assert Import("integrations.services.incidents", "cases.services") in IMPORTS
    assert Import("integrations.services.incidents", "cases.selectors") in IMPORTS
    assert Import("integrations.services.incidents", "cases.policy") in IMPORTS


def test_cases_knows_the_webhooks_only_through_the_case_feed():
    assert Import("cases.services.common", "cases.case_feed") in IMPORTS
    assert _violations("cases.case_feed", ("integrations",)) == []
