from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("publishing", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="questiontemplate",
            name="builder_spec",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="questiontemplate",
            name="sample_values",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
