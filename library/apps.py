from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LibraryConfig(AppConfig):
    name = "library"
    verbose_name = _("Typical cases")

    def ready(self) -> None:
        # The case page (cases) offers the proposal of a closed case without importing this app: the button is
        # registered here (cases/case_page_links.py).
        from cases.case_page_links import register_link
        from cases.notices import register_topic
        from library import notices
        from library.case_links import typical_case_link

        register_link("library.typical_case", typical_case_link)
        # The notification list (cases) words the library's notices without importing this app (cases/notices.py).
        register_topic(notices.TIP_TOPIC, notices.tip_text, kind=notices.TOPICS[notices.TIP_TOPIC])
        register_topic(notices.WORK_TOPIC, notices.work_text, kind=notices.TOPICS[notices.WORK_TOPIC])
