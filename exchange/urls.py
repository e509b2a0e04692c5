from django.contrib import admin
from django.urls import include, path, re_path
from django_prometheus.exports import ExportToDjangoView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from exchange import errors_views, health, webapp
from trading.backoffice import internal

handler400 = errors_views.bad_request
handler404 = errors_views.not_found
handler500 = errors_views.server_error

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", ExportToDjangoView, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"
    ),
    path("api/v1/", include("accounts.urls")),
    path("api/v3/", include("trading.api.urls")),
    path("internal/books", internal.books, name="internal-books"),
    # The web app: every route it draws in the browser gets the same HTML shell.
    path("", webapp.index, name="web"),
    re_path(r"^trade/(?P<symbol>[A-Za-z0-9]{2,20})$", webapp.index, name="web-trade"),
    re_path(r"^(?P<page>login|signup|account)$", webapp.index, name="web-page"),
]
