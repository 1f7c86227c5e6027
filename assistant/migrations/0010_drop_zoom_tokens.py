# Zoom OAuth tokens were stored at sign-in but never used after it: the table goes, and every
# stored access and refresh token (and sealed account id) with it.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("assistant", "0009_writer_generation"),
    ]

    operations = [
        migrations.AlterField(
            model_name="deauthorizationaudit",
            name="tokens_deleted",
            field=models.BooleanField(
                default=False,
                help_text="OAuth tokens were deleted (none are kept since migration 0010)",
            ),
        ),
        migrations.DeleteModel(
            name="ZoomToken",
        ),
    ]
