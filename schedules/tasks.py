"""Beat fires ``schedules.launch`` for each enabled schedule (django-celery-beat)."""

from celery import shared_task

from . import services
from .models import Schedule


@shared_task(name="schedules.launch", ignore_result=True)
def launch(schedule_id: int) -> int | None:
    schedule = Schedule.objects.select_related("scenario__current_revision").filter(pk=schedule_id)
    schedule = schedule.first()
    if schedule is None:
        return None
    run = services.launch_schedule(schedule)
    return run.pk if run else None
