from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from scheduling.reminders.views import visit_cancel, visit_confirm

admin.site.site_header = "Interval"
admin.site.site_title = "Interval staff"
admin.site.index_title = "Clinic administration"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("visit/<str:token>/confirm/", visit_confirm, name="visit-confirm"),
    path("visit/<str:token>/cancel/", visit_cancel, name="visit-cancel"),
    path("api/v1/", include(("scheduling.api.urls", "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
