from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("hits", "0004_decision_on_intent"),
    ]

    operations = [
        migrations.AddField(
            model_name="hit",
            name="inputs",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
