from django.urls import path

from . import views

app_name = "scenarios"
urlpatterns = [
    path("scenarios/", views.scenario_list, name="list"),
    path("scenarios/new", views.scenario_new, name="new"),
    path("scenarios/import", views.scenario_import, name="import"),
    path("scenarios/validate", views.validate, name="validate"),
    path("scenarios/schema.json", views.schema, name="schema"),
    path("scenarios/<slug:name>/", views.scenario_detail, name="detail"),
    path("scenarios/<slug:name>/save", views.scenario_save, name="save"),
    path("scenarios/<slug:name>/run", views.scenario_run, name="run"),
    path("scenarios/<slug:name>/archive", views.scenario_archive, name="archive"),
    path("scenarios/<slug:name>/export", views.scenario_export, name="export"),
    path(
        "scenarios/<slug:name>/revisions/<int:number>/",
        views.revision_detail,
        name="revision",
    ),
    path("secrets/", views.secret_list, name="secrets"),
    path("secrets/<str:name>/delete", views.secret_delete, name="secret_delete"),
    path("references/", views.reference_list, name="references"),
    path("references/new", views.reference_new, name="reference_new"),
    path("references/score", views.reference_score, name="reference_score"),
    path("references/<slug:name>/", views.reference_detail, name="reference"),
    path("references/<slug:name>/image.png", views.reference_image, name="reference_image"),
    path(
        "references/<slug:name>/candidates/add",
        views.reference_candidate_add,
        name="reference_candidate_add",
    ),
    path(
        "references/<slug:name>/candidates/<slug:label>/image.png",
        views.reference_candidate_image,
        name="reference_candidate_image",
    ),
    path(
        "references/<slug:name>/candidates/<slug:label>/remove",
        views.reference_candidate_remove,
        name="reference_candidate_remove",
    ),
]
