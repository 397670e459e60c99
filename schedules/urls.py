from django.urls import path

from . import views

app_name = "schedules"
urlpatterns = [
    path("schedules/", views.schedule_list, name="list"),
    path("schedules/add", views.schedule_add, name="add"),
    path("schedules/<int:schedule_id>/edit", views.schedule_edit, name="edit"),
    path("schedules/<int:schedule_id>/enable", views.schedule_toggle, {"on": True}, name="enable"),
    path(
        "schedules/<int:schedule_id>/disable", views.schedule_toggle, {"on": False}, name="disable"
    ),
    path("schedules/<int:schedule_id>/run", views.schedule_run_now, name="run_now"),
    path("schedules/<int:schedule_id>/delete", views.schedule_delete, name="delete"),
    path("schedules/hooks/add", views.hook_add, name="hook_add"),
    path("schedules/hooks/<int:hook_id>/edit", views.hook_edit, name="hook_edit"),
    path("schedules/hooks/<int:hook_id>/delete", views.hook_delete, name="hook_delete"),
    path("schedules/hooks/<int:hook_id>/test", views.hook_test, name="hook_test"),
]
