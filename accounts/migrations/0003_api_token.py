# Per-device API tokens, stored hashed (accounts/tokens.py), replace DRF's one shared plain-text key per user.
#
# The old keys are dropped, not carried over: they were stored in plain text, never expired, carry no record of a
# second-factor check and may already have outlived a password reset. Terminals obtain a new token once.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def forget_old_token_model(apps, schema_editor):
    # Its permissions would otherwise linger in the admin site's permission lists and in groups.
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(content_type__app_label="authtoken").delete()
    ContentType.objects.filter(app_label="authtoken").delete()


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_saved_queue_filter'),
        ('auth', '0012_alter_user_first_name_max_length'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.CreateModel(
            name='ApiToken',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=60, verbose_name='name')),
                ('key_hash', models.CharField(editable=False, max_length=64, unique=True, verbose_name='key hash')),
                ('mfa_verified', models.BooleanField(default=False, verbose_name='issued with a second factor')),
                ('password_fingerprint', models.CharField(editable=False, max_length=64)),
                ('created_at', models.DateTimeField(verbose_name='created at')),
                ('last_used_at', models.DateTimeField(verbose_name='last used at')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='api_tokens', to=settings.AUTH_USER_MODEL, verbose_name='user')),
            ],
            options={
                'verbose_name': 'API token',
                'verbose_name_plural': 'API tokens',
                'ordering': ['-created_at', '-pk'],
                'indexes': [models.Index(fields=['user', '-last_used_at'], name='apitoken_user_last_used')],
                'constraints': [models.CheckConstraint(condition=models.Q(('name', ''), _negated=True), name='apitoken_name_not_empty'), models.CheckConstraint(condition=models.Q(('last_used_at__gte', models.F('created_at'))), name='apitoken_used_after')],
            },
        ),
        # rest_framework.authtoken is no longer installed, so its table is dropped here, with every plain-text key.
        migrations.RunSQL("DROP TABLE IF EXISTS authtoken_token", reverse_sql=migrations.RunSQL.noop),
        migrations.RunPython(forget_old_token_model, migrations.RunPython.noop),
    ]
