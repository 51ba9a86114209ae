# Structured reasons for lenient outcomes (existing rows: "", not recorded), and transfers for administrative
# punishment after non-prosecution as referrals linked to the suspect.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0015_event_kind_officer_removed"),
    ]

    operations = [
        migrations.AddField(
            model_name="referral",
            name="suspect",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="transfers",
                to="cases.suspect",
                verbose_name="suspect transferred",
            ),
        ),
        migrations.AddField(
            model_name="suspect",
            name="lenient_reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("intoxication", "The attacker was intoxicated"),
                    ("police_fault", "Fault on the police side"),
                    ("minor_circumstances", "Minor circumstances"),
                    ("forgiveness", "The victim forgave the attacker or settled"),
                    ("insufficient_evidence", "Insufficient evidence"),
                    ("other", "Other (say which)"),
                ],
                max_length=30,
                verbose_name="reason for the lenient outcome",
            ),
        ),
        migrations.AddField(
            model_name="suspect",
            name="lenient_reason_detail",
            field=models.TextField(blank=True, verbose_name="the reason in words"),
        ),
        migrations.AddConstraint(
            model_name="referral",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("suspect__isnull", True),
                    models.Q(("closed_at__isnull", False), ("track", "administrative")),
                    _connector="OR",
                ),
                name="referral_transfer_is_administrative_handover",
            ),
        ),
        migrations.AddConstraint(
            model_name="referral",
            constraint=models.UniqueConstraint(
                condition=models.Q(("suspect__isnull", False)),
                fields=("suspect",),
                name="referral_one_transfer_per_suspect",
            ),
        ),
        migrations.AddConstraint(
            model_name="suspect",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "lenient_reason__in",
                        [
                            "intoxication",
                            "police_fault",
                            "minor_circumstances",
                            "forgiveness",
                            "insufficient_evidence",
                            "other",
                            "",
                        ],
                    )
                ),
                name="suspect_lenient_reason_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="suspect",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("lenient_reason", ""), ("lenient_reason_detail", "")),
                    (
                        "disposition__in",
                        [
                            "admin_detention_11_15",
                            "admin_detention_1_5",
                            "admin_detention_6_10",
                            "admin_fine",
                            "admin_warning",
                            "criminal_non_prosecution",
                            "mediation",
                            "no_action",
                            "no_punishment",
                            "non_legal_handling",
                        ],
                    ),
                    _connector="OR",
                ),
                name="suspect_lenient_reason_with_lenient_outcome",
            ),
        ),
        migrations.AddConstraint(
            model_name="suspect",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("lenient_reason", "other"), _negated=True),
                    models.Q(("lenient_reason_detail", ""), _negated=True),
                    _connector="OR",
                ),
                name="suspect_other_lenient_reason_says_which",
            ),
        ),
    ]
