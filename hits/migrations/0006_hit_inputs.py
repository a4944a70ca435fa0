from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("hits", "0005_hit_review_policy_results"),
    ]

    operations = [
        migrations.AddField(
            model_name="hit",
            name="inputs",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
