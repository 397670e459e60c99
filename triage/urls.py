from django.urls import path

from . import views

app_name = "triage"
urlpatterns = [
    path("runs/<int:run_id>/notes", views.note_add, name="note_add"),
    path("search", views.search, name="search"),
]
