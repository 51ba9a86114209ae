"""The flag scans: ``snapshot`` reads cases, ``plan`` decides their flags (pure), ``apply`` writes, ``scan`` runs;
``setwise`` evaluates the whole population in SQL."""

from cases.flagging.apply import ScanResult
from cases.flagging.scan import DEFAULT_BATCH, check_case_flags, flag_cases, open_flags_of

__all__ = ["DEFAULT_BATCH", "ScanResult", "check_case_flags", "flag_cases", "open_flags_of"]
