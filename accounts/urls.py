from django.urls import path

from accounts import apis

urlpatterns = [
    path("auth/register", apis.RegisterApi.as_view(), name="auth-register"),
    path("auth/login", apis.LoginApi.as_view(), name="auth-login"),
    path("auth/refresh", apis.RefreshApi.as_view(), name="auth-refresh"),
    path("auth/logout", apis.LogoutApi.as_view(), name="auth-logout"),
    path("auth/password-reset", apis.PasswordResetApi.as_view(), name="password-reset"),
    path(
        "auth/password-reset/confirm",
        apis.PasswordResetConfirmApi.as_view(),
        name="password-reset-confirm",
    ),
    path("auth/verify-email", apis.EmailVerifyApi.as_view(), name="verify-email"),
    path("me", apis.MeApi.as_view(), name="me"),
    path("me/password", apis.PasswordChangeApi.as_view(), name="me-password"),
    path("me/2fa/enrol", apis.TwoFactorEnrolApi.as_view(), name="2fa-enrol"),
    path("me/2fa/confirm", apis.TwoFactorConfirmApi.as_view(), name="2fa-confirm"),
    path(
        "me/2fa/recovery-codes",
        apis.TwoFactorRecoveryCodesApi.as_view(),
        name="2fa-recovery-codes",
    ),
    path("me/2fa/disable", apis.TwoFactorDisableApi.as_view(), name="2fa-disable"),
    path("me/security-log", apis.SecurityLogApi.as_view(), name="security-log"),
    path("api-keys", apis.ApiKeyListApi.as_view(), name="api-keys"),
    path("api-keys/<int:key_id>", apis.ApiKeyDetailApi.as_view(), name="api-key"),
]
