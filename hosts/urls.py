from django.urls import path

from . import views

app_name = "hosts"
urlpatterns = [
    path("hosts/", views.host_list, name="list"),
    path("hosts/<int:host_id>/vms/<str:vm_name>/ping", views.ping_vm, name="ping_vm"),
]
