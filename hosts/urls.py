from django.urls import path

from . import views

app_name = "hosts"
urlpatterns = [
    path("hosts/", views.host_list, name="list"),
    path("hosts/add", views.host_add, name="add"),
    path("hosts/<int:host_id>/edit", views.host_edit, name="edit"),
    path("hosts/<int:host_id>/delete", views.host_delete, name="delete"),
    path("hosts/<int:host_id>/test", views.host_test, name="test"),
    path("hosts/<int:host_id>/sync", views.host_sync, name="sync"),
    path("hosts/<int:host_id>/vms/<str:vm_name>/ping", views.ping_vm, name="ping_vm"),
    path("vms/", views.vm_list, name="vms"),
    path("vms/<int:vm_id>/thumbnail.png", views.vm_thumbnail, name="vm_thumbnail"),
    path("vms/<int:vm_id>/screen.png", views.vm_screen, name="vm_screen"),
    path("vms/<int:vm_id>/console", views.vm_console, name="vm_console"),
    path("vms/<int:vm_id>/console.json", views.vm_console_status, name="vm_console_status"),
    path("vdi/", views.vdi_list, name="vdi_list"),
    path("vdi/add", views.vdi_add, name="vdi_add"),
    path("vdi/<int:endpoint_id>/", views.vdi_detail, name="vdi_detail"),
    path("vdi/<int:endpoint_id>/edit", views.vdi_edit, name="vdi_edit"),
    path("vdi/<int:endpoint_id>/delete", views.vdi_delete, name="vdi_delete"),
    path("vdi/<int:endpoint_id>/test", views.vdi_action, {"action": "test"}, name="vdi_test"),
    path("vdi/<int:endpoint_id>/sync", views.vdi_action, {"action": "sync"}, name="vdi_sync"),
    path("vdi/<int:endpoint_id>/verify", views.vdi_action, {"action": "verify"}, name="vdi_verify"),
]
