from django.urls import path

from . import capacity_views, console, part_views, pause_views, views

app_name = "runs"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("runs/", views.run_list, name="list"),
    path("runs/compare", views.compare, name="compare"),
    path("runs/trends", views.trends, name="trends"),
    path("runs/matrix", views.matrix, name="matrix"),
    path("runs/trends/metrics", views.metric_trends, name="metric_trends"),
    path("capacity/", capacity_views.capacity_list, name="capacity_list"),
    path("capacity/launch", capacity_views.capacity_launch, name="capacity_launch"),
    path("capacity/<int:capacity_id>/", capacity_views.capacity_detail, name="capacity_detail"),
    path(
        "capacity/<int:capacity_id>/cancel", capacity_views.capacity_cancel, name="capacity_cancel"
    ),
    path("runs/<int:run_id>/", views.run_detail, name="detail"),
    path("runs/<int:run_id>/report", views.run_report, name="report"),
    path("runs/<int:run_id>/investigate", views.investigate, name="investigate"),
    path("runs/<int:run_id>/report.json", views.report_download, {"fmt": "json"}, name="json"),
    path("runs/<int:run_id>/junit.xml", views.report_download, {"fmt": "junit"}, name="junit"),
    path("runs/<int:run_id>/events", views.run_events, name="events"),
    path("runs/<int:run_id>/parts", part_views.run_parts, name="parts"),
    path("runs/<int:run_id>/cancel", views.run_cancel, name="cancel"),
    path("runs/<int:run_id>/rerun", views.run_rerun, name="rerun"),
    path(
        "runs/<int:run_id>/targets/<int:target_id>/screen.png",
        views.target_screen,
        name="screen",
    ),
    path(
        "runs/<int:run_id>/targets/<int:target_id>/console",
        console.target_console,
        name="console",
    ),
    path(
        "runs/<int:run_id>/targets/<int:target_id>/console.json",
        console.target_console_status,
        name="console_status",
    ),
    path(
        "runs/<int:run_id>/targets/<int:target_id>/pause",
        pause_views.target_pause,
        name="pause",
    ),
    path(
        "runs/<int:run_id>/targets/<int:target_id>/resume",
        pause_views.target_resume,
        name="resume",
    ),
    path("runs/<int:run_id>/artifacts/<int:artifact_id>", views.artifact_file, name="artifact"),
    path("runs/<int:run_id>/artifacts/find", views.artifact_find, name="artifact_find"),
]
