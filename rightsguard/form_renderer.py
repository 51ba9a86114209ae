"""The form renderer: Django's Jinja2 widget templates for the choice widgets, the template language for the rest.

A page of filters renders hundreds of options (the queue: statuses, incident types, flags, units), and in the
template language each option is an include of its own: the widgets were the largest part of the queue page's time.
Django ships the same widget templates for Jinja2, which renders them in a fraction of that. Only the choice widgets
are rendered that way; every other widget (text boxes, whose value is what a user typed, and the admin site's own
widgets, which exist only in the template language) keeps the template-language templates and their escaping.
"""

from functools import cached_property
from typing import Any

from django.forms.renderers import DjangoTemplates, Jinja2

# Django's choice widgets and the templates they include.
CHOICE_TEMPLATES = (
    "django/forms/widgets/select.html",
    "django/forms/widgets/select_option.html",
    "django/forms/widgets/checkbox_select.html",
    "django/forms/widgets/checkbox_option.html",
    "django/forms/widgets/radio.html",
    "django/forms/widgets/radio_option.html",
    "django/forms/widgets/multiple_input.html",
    "django/forms/widgets/input_option.html",
)


class ChoicesInJinja2(DjangoTemplates):
    @cached_property
    def jinja2(self) -> Jinja2:
        return Jinja2()

    def get_template(self, template_name: str) -> Any:
        if template_name in CHOICE_TEMPLATES:
            return self.jinja2.get_template(template_name)
        return super().get_template(template_name)


# Django's widget templates that include others (an option, its input, the input's attributes) and the one-file
# versions of them (cases/jinja2/forms/widgets/): the same markup without an include per option.
FLAT_TEMPLATES = {
    "django/forms/widgets/checkbox_select.html": "forms/widgets/choices.html",
    "django/forms/widgets/radio.html": "forms/widgets/choices.html",
    "django/forms/widgets/multiple_input.html": "forms/widgets/choices.html",
    "django/forms/widgets/select.html": "forms/widgets/select.html",
    **{
        f"django/forms/widgets/{kind}.html": "forms/widgets/input.html"
        for kind in ("input", "text", "date", "hidden", "checkbox", "number", "email", "search", "time", "url")
    },
}


class AllInJinja2(Jinja2):
    """Every widget rendered with Jinja2, the ones with options from a single template (``FLAT_TEMPLATES``)."""

    def get_template(self, template_name: str) -> Any:
        return super().get_template(FLAT_TEMPLATES.get(template_name, template_name))


# A form whose every part may be rendered with Jinja2 (a page's filter panel) sets ``default_renderer = IN_JINJA2``
# and a ``template_name`` from an app's jinja2/ folder. The markup is that of Django's widget templates, and Jinja2
# escapes what a user typed as the template language does (autoescape is on in Django's Jinja2 backend). One
# instance: a renderer builds its template environment once.
IN_JINJA2 = AllInJinja2()
