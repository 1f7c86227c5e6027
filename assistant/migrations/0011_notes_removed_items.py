# A host may remove a decision or an action item: the notes remember what was removed so that
# later updates of the notes do not add it again.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("assistant", "0010_drop_zoom_tokens"),
    ]

    operations = [
        migrations.AddField(
            model_name="meetingnotes",
            name="removed_items",
            field=models.JSONField(blank=True, default=list),
        ),
    ]
