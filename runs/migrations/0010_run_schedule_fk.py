"""Run.schedule becomes a foreign key; the name string it was stays as Run.schedule_name.

Existing runs are linked to the schedule of that name when it still exists; the name is kept
either way, so the history of a deleted schedule stays readable.
"""

from django.db import migrations, models
import django.db.models.deletion


def link_schedules(apps, schema_editor):
    Run = apps.get_model("runs", "Run")
    Schedule = apps.get_model("schedules", "Schedule")
    for schedule_id, name in Schedule.objects.values_list("pk", "name"):
        Run.objects.filter(schedule_name=name).update(schedule_id=schedule_id)


class Migration(migrations.Migration):

    dependencies = [
        ("runs", "0009_run_facts"),
        ("schedules", "0003_schedule_build"),
    ]

    operations = [
        migrations.RenameField(model_name="run", old_name="schedule", new_name="schedule_name"),
        migrations.AlterField(
            model_name="run",
            name="schedule_name",
            field=models.CharField(
                blank=True,
                help_text="the schedule's name at launch: history keeps it after a rename or delete",
                max_length=120,
            ),
        ),
        migrations.AddField(
            model_name="run",
            name="schedule",
            field=models.ForeignKey(
                blank=True,
                help_text="the schedule that launched it",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="runs",
                to="schedules.schedule",
            ),
        ),
        migrations.RunPython(link_schedules, migrations.RunPython.noop, elidable=True),
    ]
