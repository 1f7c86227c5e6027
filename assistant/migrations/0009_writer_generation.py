from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("assistant", "0008_gap_span"),
    ]

    operations = [
        migrations.AddField(
            model_name="meeting",
            name="writer_generation",
            field=models.BigIntegerField(
                default=0,
                help_text="the newest ingest lease generation that wrote for this stream; "
                "writes under an older one are refused",
            ),
        ),
        migrations.AddField(
            model_name="meeting",
            name="handed_over_generation",
            field=models.BigIntegerField(
                default=0,
                help_text="an older generation whose ingest handed the stream over on purpose: "
                "it may still write what it had read",
            ),
        ),
    ]
