from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("scenarios", "0004_revision_drop_runnable_issues"),
    ]

    operations = [
        migrations.CreateModel(
            name="Tag",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=64, unique=True)),
            ],
            options={"ordering": ["name"]},
        ),
        migrations.AddField(
            model_name="scenario",
            name="tagged_with",
            field=models.ManyToManyField(blank=True, help_text="from the scenario's tags:", related_name="scenarios", to="scenarios.tag"),
        ),
        migrations.AddField(
            model_name="referenceimage",
            name="tagged_with",
            field=models.ManyToManyField(blank=True, related_name="references", to="scenarios.tag"),
        ),
    ]
