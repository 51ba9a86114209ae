from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OversightConfig(AppConfig):
    name = "oversight"
    verbose_name = _("Oversight campaigns")

    def ready(self) -> None:
        # The yearly report (cases) carries the year's campaigns without importing this app (cases/reports/sections.py).
        from cases.reports.sections import register_section
        from oversight.yearly import campaigns_section

        register_section("oversight.campaigns", campaigns_section)
