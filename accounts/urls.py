from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("accounts/users/", views.user_list, name="users"),
    path("accounts/users/create", views.user_create, name="user_create"),
    path("accounts/users/<int:user_id>/update", views.user_update, name="user_update"),
    path("accounts/token/", views.my_token, name="token"),
]
