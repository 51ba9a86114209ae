"""The dates at which the law on attacks against police changed. Rules are versioned by the incident date.

- Criminal Law Amendment XI (in force 2021-03-01) made 277(5) "assaulting a police officer" an offence with
  its own ranges; before, it was a heavier-punishment clause of 277(1) "obstructing official duty" [S].
- The SPC/SPP Interpretation on assault-on-police cases (高检发释字〔2025〕1号) is in force from 2025-01-18 and
  requires at least a slight injury, or danger to personal safety, for a "violent attack" [V]; the 2020 joint
  guidance it overrides needed no injury [S].
- The revised Public Security Administration Punishments Law is in force from 2026-01-01 with renumbered
  articles [S]; the article numbers of the old law (Art. 42, 43, 50) apply to incidents before that date.

Versioning by incident date follows DESIGN §5. For the Criminal Law amendment that matches the rule that
the law in force at the time of the act applies unless the new one is lighter [R]. Judicial interpretations
are generally applied to cases not yet decided when they take effect [R], so for incidents shortly before
2025-01-18 a handling unit may already follow the 2025 Interpretation; the flag stays a prompt.
"""

from datetime import date, timedelta

# The SPC/SPP/MPS guidance on assaults on police (aggravating circumstances, "generally no probation") was issued on
# 2020-01-10 [S]; rules resting on it start then.
GUIDANCE_2020 = date(2020, 1, 10)
AMENDMENT_XI = date(2021, 3, 1)
INTERPRETATION_2025 = date(2025, 1, 18)
PSAPL_2026 = date(2026, 1, 1)


def day_before(day: date) -> date:
    return day - timedelta(days=1)
