"""The OpenAPI schema is valid and complete: drf-spectacular resolves every view without a warning."""

from django.core.management import call_command


def test_schema_generates_without_warnings_and_validates(tmp_path, db):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    for path in (
        "/api/v1/cases/",
        "/api/v1/cases/{case_pk}/actions/submit/",
        "/api/v1/flags/{id}/acknowledge/",
        "/api/v1/analysis/evaluations/",
        "/api/v1/analysis/evaluations/{id}/approve/",
        "/api/v1/guidance/manage/",
        "/api/v1/guidance/manage/{id}/",
        "/api/v1/guidance/manage/{id}/actions/{action}/",
        "/api/v1/cases/{case_pk}/duplicates/",
        "/api/v1/cases/{case_pk}/links/",
        "/api/v1/cases/{case_pk}/links/{id}/",
        "/api/v1/cases/{case_pk}/merge/",
        "/api/v1/cases/{case_pk}/unmerge/",
    ):
        assert f"  {path}:" in text
