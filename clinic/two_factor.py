"""Two-factor sign-in for staff (django-otp): an authenticator app (TOTP) plus one-time recovery
codes, required by STAFF_2FA_REQUIRED.

With the setting on, a staff member who signed in with a password but has not yet typed a code
this session is sent to type one (or, with no app set up yet, to set one up and take their
recovery codes) before any admin page opens; the API refuses such a session with a JSON 403.
API tokens are unaffected: an integration signs in with its token, not a password.
"""

from __future__ import annotations

from base64 import b32encode

import django_otp
import segno
from django import forms
from django.conf import settings
from django.contrib import admin
from django.db import transaction
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

RECOVERY_CODE_COUNT = 10
APP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"


class TwoFactorRequiredMiddleware:
    """Runs after django-otp's OTPMiddleware, which tells whether this session typed a code."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.STAFF_2FA_REQUIRED and self._needs_code(request):
            path_info = request.path_info
            if path_info.startswith("/api/v1/"):
                return JsonResponse({"code": "two_factor_required",
                                     "detail": str(_("Sign in to the admin with your second factor first."))},
                                    status=403)
            # The admin, and the API's schema and docs pages (a person in a browser).
            if path_info.startswith((reverse("admin:index"), "/api/")) and not self._exempt(path_info):
                view = "two_factor:verify" if django_otp.user_has_device(request.user) else "two_factor:setup"
                return HttpResponseRedirect(f"{reverse(view)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)

    @staticmethod
    def _needs_code(request) -> bool:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_staff:
            return False
        if "HTTP_AUTHORIZATION" in request.META:
            return False  # the API authenticates the token itself; the session is not used
        return not user.is_verified()

    @staticmethod
    def _exempt(path_info: str) -> bool:
        open_paths = (reverse("admin:login"), reverse("admin:logout"), reverse("admin:jsi18n"),
                      reverse("two_factor:verify"), reverse("two_factor:setup"))
        return path_info in open_paths


class CodeForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=16, strip=True,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True,
                                                         "inputmode": "text", "spellcheck": "false"}))


def _next_url(request) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return wanted
    return reverse("admin:index")


def _render(request, template: str, context: dict, status: int = 200):
    return TemplateResponse(request, template, {**admin.site.each_context(request), "next": _next_url(request),
                                                **context}, status=status)


def verify(request):
    """Type the code the authenticator app shows, or one of the recovery codes."""
    if not django_otp.user_has_device(request.user):
        return redirect(f"{reverse('two_factor:setup')}?{urlencode({'next': _next_url(request)})}")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = django_otp.match_token(request.user, form.cleaned_data["code"].replace(" ", "").lower())
        if device is not None:
            django_otp.login(request, device)
            return HttpResponseRedirect(_next_url(request))
        form.add_error("code", _("That code is not right, or was already used. Codes change every 30 seconds; "
                                 "after a few wrong ones, wait a little before the next try."))
    return _render(request, "admin/two_factor/verify.html", {"title": _("Second step of sign-in"), "form": form})


def setup(request):
    """Set up an authenticator app; once its first code is right, show the recovery codes, once."""
    user = request.user
    if django_otp.user_has_device(user):
        return redirect(f"{reverse('two_factor:verify')}?{urlencode({'next': _next_url(request)})}")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"].replace(" ", "")):
            codes = _confirm(user=user, device=device)
            django_otp.login(request, device)
            return _render(request, "admin/two_factor/recovery_codes.html",
                           {"title": _("Your recovery codes"), "codes": codes})
        form.add_error("code", _("That code is not right. Check the app shows Interval and type the code "
                                 "it shows now."))
    secret = b32encode(device.bin_key).decode()
    return _render(request, "admin/two_factor/setup.html", {
        "title": _("Set up two-step sign-in"), "form": form,
        "secret_groups": [secret[i:i + 4] for i in range(0, len(secret), 4)],
        "config_url": device.config_url,
        "qr_svg": segno.make(device.config_url, error="m").svg_inline(scale=4, light="#fff", border=4),
    })


@transaction.atomic
def _confirm(*, user, device: TOTPDevice) -> list[str]:
    """Confirm the app and give the user a fresh set of recovery codes (each works once)."""
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    StaticDevice.objects.filter(user=user).delete()
    recovery = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=recovery, token=code) for code in codes])
    return codes


app_name = "two_factor"
urlpatterns = [
    path("", admin.site.admin_view(verify), name="verify"),
    path("setup/", admin.site.admin_view(setup), name="setup"),
]
