"""The web app's HTML shell: one page for every route the app draws in the browser.

The app itself is static (web/src, served by whitenoise) and talks to the exchange
only through the public REST API, like any other client.
"""

from django.shortcuts import render
from django.views.decorators.http import require_safe

# Scripts and styles only from our own origin: no inline code, no CDN. The API and
# the streams are on the same origin (ws/wss named for browsers that do not count
# them as 'self').
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self' {ws}; manifest-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"
)


@require_safe
def index(request, **route):
    response = render(request, "web/index.html")
    host = request.get_host()
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.format(
        ws=f"ws://{host} wss://{host}"
    )
    # The shell names the hashed assets of the current release: always revalidate.
    response["Cache-Control"] = "no-cache"
    return response
