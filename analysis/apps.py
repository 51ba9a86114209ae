from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalysisConfig(AppConfig):
    name = "analysis"
    verbose_name = _("Case analysis")

    def ready(self) -> None:
        # The notification list and the dashboard (cases) carry the early warnings without importing this app: the
        # notice's wording and the dashboard's count are registered here (cases/notices.py, cases/dashboard_panels.py).
        from analysis import evaluation
        from analysis.explain import TOPIC, notice_text
        from analysis.panels import open_warnings_panel
        from cases.dashboard_panels import register_panel
        from cases.notices import register_topic

        register_topic(TOPIC, notice_text)
        register_topic(evaluation.TOPIC, evaluation.notice_text)
        register_panel("analysis.open_warnings", open_warnings_panel)
