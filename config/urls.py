from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "nojackal"
admin.site.site_title = "nojackal"
admin.site.index_title = "Listening and outreach"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("sandbox/api/", include("monitoring.sandbox_server")),
]
