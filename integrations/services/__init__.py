"""The integrations' writes: applications started from 110 incidents (incidents.py), integration accounts
(accounts.py), webhooks out (webhooks.py)."""

from integrations.services.incidents import ImportedDraft, ImportResult, Incident, OfficerOnScene, import_incident

__all__ = ["ImportResult", "ImportedDraft", "Incident", "OfficerOnScene", "import_incident"]
