"""The form renderer (rightsguard/form_renderer.py): the choice widgets through Django's Jinja2 templates give the
markup the template language gives (but for blank lines and how a quote mark is written), escaped alike; everything
else stays as it was."""

import re

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates, get_default_renderer

from rightsguard.form_renderer import ChoicesInJinja2

HOSTILE = ("<script>alert(1)</script>", '" onmouseover="x')
CHOICES = [("a", "Alpha & <b>"), ("b", "西湖区"), (HOSTILE[1], HOSTILE[0])]


def squeeze(html: str) -> str:
    """The markup without its blank lines, and Jinja2's numeric forms of the quote marks written as the template
    language writes them (the same characters, escaped either way)."""
    html = html.replace("&#34;", "&quot;").replace("&#39;", "&#x27;")
    return re.sub(r"\s+", " ", html).replace("> <", "><").strip()


@pytest.mark.parametrize(
    "widget",
    [forms.Select, forms.SelectMultiple, forms.CheckboxSelectMultiple, forms.RadioSelect],
)
def test_a_choice_widget_renders_the_same_markup_through_jinja2(widget):
    w = widget(choices=CHOICES, attrs={"class": "form-select"})
    value = ["a"] if w.allow_multiple_selected else "a"
    fast = w.render("f", value, attrs={"id": "id_f"}, renderer=ChoicesInJinja2())
    slow = w.render("f", value, attrs={"id": "id_f"}, renderer=DjangoTemplates())
    assert squeeze(fast) == squeeze(slow)
    assert "<script>" not in fast
    assert 'value="" onmouseover' not in fast
    assert isinstance(get_default_renderer(), ChoicesInJinja2)


def test_text_boxes_keep_the_template_language_and_its_escaping():
    renderer = ChoicesInJinja2()
    text = forms.Textarea().render("t", 'a "quoted" <b>', renderer=renderer)
    assert text == forms.Textarea().render("t", 'a "quoted" <b>', renderer=DjangoTemplates())
    assert "a &quot;quoted&quot; &lt;b&gt;" in text
