"""The back office's admin site: staff need two-factor to use it.

Logging in takes the password and, once the staff member has two-factor on, a code
(TOTP or recovery). A staff member without two-factor who logs in with the right
password is sent to enrol (QR code, secret, a code to confirm) and reaches nothing
else until that is done. The session remembers which user passed the second
factor; any other session (``force_login``, a session made by another view) is
sent back to the login page.
"""

from __future__ import annotations

import base64

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from accounts import twofactor
from accounts.authentication import client_ip
from accounts.securitylog import Kind, security_event_record
from accounts.throttling import login_throttle_check, login_throttle_reset
from exchange.errors import ExchangeError

# The session key holding the id of the user who passed the second factor.
VERIFIED_SESSION_KEY = "accounts_otp_verified"


def session_verified(request) -> bool:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    return request.session.get(VERIFIED_SESSION_KEY) == user.pk


def session_mark_verified(request) -> None:
    request.session[VERIFIED_SESSION_KEY] = request.user.pk


class OtpAuthenticationForm(AdminAuthenticationForm):
    """The admin's login form with a code field, required of staff with
    two-factor on."""

    otp = forms.CharField(
        label="Two-factor code",
        max_length=32,
        required=False,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
        help_text="From your authenticator app, or a recovery code.",
    )

    def clean(self):
        try:
            login_throttle_check(
                ip=client_ip(self.request) if self.request else "",
                username=self.data.get("username", ""),
            )
        except ExchangeError as exc:
            raise forms.ValidationError(exc.msg, code="throttled") from None
        cleaned = super().clean()
        user = self.get_user()
        if user is not None:
            try:
                twofactor.twofactor_check(user=user, otp=cleaned.get("otp") or "")
            except ExchangeError as exc:
                raise forms.ValidationError(exc.msg, code="otp") from None
        return cleaned


class ExchangeAdminSite(admin.AdminSite):
    site_header = "Exchange back office"
    site_title = "Exchange back office"
    index_title = "Back office"
    login_form = OtpAuthenticationForm
    login_template = "admin/otp_login.html"

    def has_permission(self, request) -> bool:
        return (
            super().has_permission(request)
            and session_verified(request)
            and twofactor.twofactor_enabled(user_id=request.user.id)
        )

    @method_decorator(never_cache)
    def login(self, request, extra_context=None):
        response = super().login(request, extra_context)
        if request.method == "POST" and request.user.is_authenticated:
            if response.status_code == 302:
                login_throttle_reset(username=request.user.get_username())
                security_event_record(
                    user_id=request.user.id,
                    kind=Kind.LOGIN,
                    ip=client_ip(request),
                    detail="back office",
                )
                if twofactor.twofactor_enabled(user_id=request.user.id):
                    session_mark_verified(request)
                else:
                    return HttpResponseRedirect(
                        reverse("admin:twofactor_enrol", current_app=self.name)
                    )
        return response

    def get_urls(self):
        return [
            path(
                "2fa/enrol/",
                self.twofactor_enrol_view,
                name="twofactor_enrol",
            ),
            *super().get_urls(),
        ]

    @method_decorator(never_cache)
    @method_decorator(csrf_protect)
    def twofactor_enrol_view(self, request):
        """Enrol the logged-in staff member: QR code and secret, then a code."""
        user = request.user
        if not (user.is_authenticated and user.is_active and user.is_staff):
            return HttpResponseRedirect(reverse("admin:login", current_app=self.name))
        if twofactor.twofactor_enabled(user_id=user.id):
            target = "admin:index" if session_verified(request) else "admin:login"
            return HttpResponseRedirect(reverse(target, current_app=self.name))
        error = ""
        if request.method == "POST":
            try:
                codes = twofactor.twofactor_enrol_confirm(
                    user=user, otp=request.POST.get("otp", "")
                )
            except ExchangeError as exc:
                error = exc.msg
            else:
                session_mark_verified(request)
                return TemplateResponse(
                    request,
                    "admin/twofactor_codes.html",
                    {
                        **self.each_context(request),
                        "title": "Recovery codes",
                        "codes": codes,
                    },
                )
        enrolment = twofactor.twofactor_enrolment_pending(user=user)
        if enrolment is None:
            enrolment = twofactor.twofactor_enrol_start(user=user)
        context = {
            **self.each_context(request),
            "title": "Set up two-factor authentication",
            "secret": enrolment.secret,
            "uri": enrolment.uri,
            # An image, not inline markup: nothing of it is parsed into the page.
            "qr_data_uri": "data:image/svg+xml;base64,"
            + base64.b64encode(enrolment.qr_svg.encode()).decode(),
            "error": error,
        }
        return TemplateResponse(request, "admin/twofactor_enrol.html", context)
