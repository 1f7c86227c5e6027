from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('assistant', '0017_zoom_grants'),
    ]

    operations = [
        migrations.AddField(
            model_name='meeting',
            name='language',
            field=models.SmallIntegerField(blank=True, help_text='the language it is spoken in, as Zoom\'s transcript language id (-1: detect it; assistant/languages.py); blank: the MEETING_LANGUAGE setting', null=True),
        ),
    ]
