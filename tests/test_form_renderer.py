"""The form renderer (rightsguard/form_renderer.py): the choice widgets through Django's Jinja2 templates give the
markup the template language gives (but for blank lines and how a quote mark is written), escaped alike; everything
else stays as it was."""

import re

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates, get_default_renderer
from django.template.loader import render_to_string

from accounts.models import OrgUnit
from cases.forms import QueueFilterForm
from rightsguard.form_renderer import IN_JINJA2, ChoicesInJinja2

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


# --- Forms rendered wholly with Jinja2 (IN_JINJA2: the queue's filters) ---------------------------------------------


@pytest.mark.parametrize(
    ("widget", "value"),
    [
        (forms.TextInput, HOSTILE[1]),
        (forms.DateInput(attrs={"type": "date"}), "2026-03-01"),
        (forms.HiddenInput, HOSTILE[0]),
        (forms.CheckboxInput, True),
        (forms.NumberInput, "3"),
        (forms.Select(choices=CHOICES), "a"),
        (forms.SelectMultiple(choices=CHOICES), ["a", HOSTILE[1]]),
        (forms.CheckboxSelectMultiple(choices=CHOICES), ["b"]),
        (forms.RadioSelect(choices=CHOICES), HOSTILE[1]),
    ],
)
def test_every_widget_renders_the_same_markup_through_the_one_file_templates(widget, value):
    w = widget() if isinstance(widget, type) else widget
    fast = w.render("f", value, attrs={"id": "id_f", "aria-invalid": "true"}, renderer=IN_JINJA2)
    slow = w.render("f", value, attrs={"id": "id_f", "aria-invalid": "true"}, renderer=DjangoTemplates())
    assert squeeze(fast) == squeeze(slow)
    assert "<script>" not in fast
    assert 'value="" onmouseover' not in fast


@pytest.mark.django_db
@pytest.mark.parametrize("bound", [False, True])
def test_the_queue_filters_render_as_the_template_language_renders_them(bound):
    """The whole filter panel, with values typed (hostile ones) and the errors they raise, is the markup the
    template-language layout (includes/field.html) gives."""
    data = {
        "q": HOSTILE[0],
        "status": ["intake", "nonsense"],
        "kind": ["violent_attack"],
        "occurred_from": "2026-05-01",
        "occurred_to": "2026-04-01",
        "submitted": HOSTILE[1],
        "awaiting_unit": "<b>none</b>",
        "awaiting": "on",
        "place": "-",
        "weekday": "1",
        "hour": HOSTILE[0],
    }
    args = (data,) if bound else (None,)
    fast_form = QueueFilterForm(*args, units=OrgUnit.objects.all())
    slow_form = QueueFilterForm(*args, units=OrgUnit.objects.all(), renderer=DjangoTemplates())
    if bound:
        assert not fast_form.is_valid()
        assert not slow_form.is_valid()
        assert set(fast_form.errors) == {"status", "occurred_to", "submitted", "awaiting_unit", "hour"}
    fast = str(fast_form)
    slow = render_to_string("includes/form.html", {"form": slow_form})
    assert squeeze(fast) == squeeze(slow)
    assert "<script>" not in fast
    assert "<b>none</b>" not in fast
    if bound:
        assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in fast
        assert 'aria-invalid="true"' in fast


@pytest.mark.django_db
def test_the_unit_choices_are_read_with_one_ordinary_query_per_form(world, django_assert_num_queries):
    """Django's model choices read through a server-side cursor on PostgreSQL, each time they are listed."""
    form = QueueFilterForm(None, units=OrgUnit.objects.order_by("path"))
    with django_assert_num_queries(1) as captured:
        html = str(form)
    assert "CURSOR" not in captured.captured_queries[0]["sql"].upper()
    units = list(OrgUnit.objects.all())
    assert len(units) >= 8
    for unit in units:
        assert html.count(f'<option value="{unit.code}">') == 1, unit.code
