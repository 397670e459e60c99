"""Schedule.retries: the launch option that used to travel as a ``run_retries`` variable.

The data step moves a ``run_retries`` entry of a schedule's variables into the field when it is
a whole number from 0 to 10; any other value stays where it is, so the schedule's launch keeps
being refused with a message naming it (as it was before) until someone fixes it."""

import django.core.validators
from django.db import migrations, models

RETRIES_VARIABLE = "run_retries"
RETRIES_MAX = 10


def _whole_number(value):
    if isinstance(value, bool):
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        return None
    return number if 0 <= number <= RETRIES_MAX else None


def variables_to_field(apps, schema_editor):
    Schedule = apps.get_model("schedules", "Schedule")
    for schedule in Schedule.objects.filter(variables__has_key=RETRIES_VARIABLE):
        retries = _whole_number(schedule.variables[RETRIES_VARIABLE])
        if retries is None:
            continue
        schedule.variables = {
            k: v for k, v in schedule.variables.items() if k != RETRIES_VARIABLE
        }
        schedule.retries = retries
        schedule.save(update_fields=["variables", "retries"])


def field_to_variables(apps, schema_editor):
    Schedule = apps.get_model("schedules", "Schedule")
    for schedule in Schedule.objects.filter(retries__gt=0):
        schedule.variables = {**(schedule.variables or {}), RETRIES_VARIABLE: schedule.retries}
        schedule.save(update_fields=["variables"])


class Migration(migrations.Migration):
    dependencies = [
        ("schedules", "0003_schedule_build"),
    ]

    operations = [
        migrations.AddField(
            model_name="schedule",
            name="retries",
            field=models.PositiveSmallIntegerField(
                default=0,
                help_text="new attempts of each run after a lost worker (0-10)",
                validators=[django.core.validators.MaxValueValidator(10)],
            ),
        ),
        migrations.RunPython(variables_to_field, field_to_variables),
    ]
