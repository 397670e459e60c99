from django.contrib import admin

from .models import Notification, NotificationHook, Schedule


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    list_display = ("name", "scenario", "kind", "every_seconds", "crontab", "enabled")
    readonly_fields = ("periodic_task", "last_launched", "last_run", "last_error")


@admin.register(NotificationHook)
class NotificationHookAdmin(admin.ModelAdmin):
    list_display = ("name", "scenario", "url", "emails", "enabled")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("run", "channel", "target", "ok", "status_code", "attempts", "created")
    list_filter = ("channel", "ok")
