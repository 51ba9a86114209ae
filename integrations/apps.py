from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = _("Integrations")

    def ready(self) -> None:
        # The cases hand each move of a case to the webhooks without importing this app (cases/case_feed.py).
        from cases import case_feed
        from integrations.services.webhooks import queue_case_move

        case_feed.register("integrations.webhooks", queue_case_move)
