# Share links (issue 21 item 7): a read-only link to a finished meeting's notes and transcript,
# kept as the SHA-256 of its token, and a bounded log of its openings.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('assistant', '0012_primary_track'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ShareLink',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('token_hash', models.CharField(help_text='SHA-256 (hex) of the token; the token is not kept', max_length=64, unique=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('expires_at', models.DateTimeField()),
                ('revoked_at', models.DateTimeField(blank=True, null=True)),
                ('open_count', models.PositiveIntegerField(default=0, help_text='every opening, ever')),
                ('last_opened_at', models.DateTimeField(blank=True, null=True)),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('meeting', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='share_links', to='assistant.meeting')),
                ('revoked_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['meeting', '-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='ShareLinkOpening',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField()),
                ('client_address', models.CharField(blank=True, max_length=64)),
                ('user_agent', models.CharField(blank=True, help_text='truncated', max_length=200)),
                ('link', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='openings', to='assistant.sharelink')),
            ],
            options={
                'ordering': ['link', '-at', '-id'],
                'indexes': [models.Index(fields=['link', '-at'], name='share_opening_link_at')],
            },
        ),
    ]
