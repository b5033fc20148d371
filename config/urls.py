from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path
from django.views.generic import RedirectView

from config import health, metrics

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    # Browsers ask for it on every site; no icon, rather than a 404 in every console.
    path("favicon.ico", lambda request: HttpResponse(status=204)),
    path("admin/", admin.site.urls),
    path("sandbox/api/", include("monitoring.sandbox_server")),
    # For orchestrators and monitors (config/health.py); /metrics/ only with NOJACKAL_METRICS.
    path("health/", health.HealthView.as_view(), name="health"),
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ReadyView.as_view(), name="health-ready"),
    path("metrics/", metrics.metrics, name="metrics"),
]
