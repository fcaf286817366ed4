from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.utils.functional import lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import RedirectView

from clinic import http_errors
from clinic.health import HealthView
from clinic.metrics import metrics_view
from scheduling.api.docs import DocsView, SchemaView

admin.site.site_header = "Interval"
admin.site.site_title = "Interval staff"
admin.site.index_title = "Clinic administration"

urlpatterns = [
    # Operations: the load balancer's health check and Prometheus' scrape (README "Operations").
    # Read only: anything but GET is 405, not the CSRF page meant for forms.
    path("health/", csrf_exempt(HealthView.as_view()), name="health"),
    path("metrics", metrics_view, name="metrics"),
    path("", RedirectView.as_view(pattern_name="book-start", permanent=False)),
    # Browsers ask for /favicon.ico whatever the page links to: answer with the site's icon, not a 404.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("clinic/favicon.svg"), permanent=True)),
    path("admin/board/", include("scheduling.admin.board.urls")),
    path("admin/two-factor/", include("clinic.two_factor")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("feeds/", include("scheduling.feeds.urls")),
    path("", include("scheduling.pages.urls")),
    # Twilio's delivery reports and patients' replies (signed by Twilio; see scheduling/sms/).
    path("sms/", include("scheduling.sms.urls")),
    path("api/v1/", include(("scheduling.api.urls", "api"), namespace="api")),
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    path("api/docs/", DocsView.as_view(url_name="api-schema"), name="api-docs"),
    # Any other address under /api/ is the API's JSON 404, also while DEBUG shows Django's
    # debug pages elsewhere (they would list every route).
    # Not a form: no CSRF check, so a POST to a wrong address is the 404 too, not a CSRF page.
    re_path(r"^api/", csrf_exempt(http_errors.page_not_found)),
    path("fhir/r4/", include(("scheduling.fhir.urls", "fhir"), namespace="fhir")),
    # As under /api/: any other address is an OperationOutcome 404, never a page.
    re_path(r"^fhir/", csrf_exempt(http_errors.page_not_found)),
]

# Errors raised outside a view: JSON under /api/, OperationOutcome under /fhir/, the patient
# pages' own words elsewhere.
handler400 = "clinic.http_errors.bad_request"
handler403 = "clinic.http_errors.permission_denied"
handler404 = "clinic.http_errors.page_not_found"
handler500 = "clinic.http_errors.server_error"
