from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q

from accounts.fields import AmountField


class User(AbstractUser):
    """A person or bot that holds balances and trades."""

    email_verified_at = models.DateTimeField(null=True, blank=True)

    # Set by accounts.services.user_password_set for the next save (not columns):
    # whether the API keys survive this password change, and how the security
    # log names it (kind, client IP).
    keep_api_keys_on_password_set = False
    password_set_event: tuple[str, str | None] = ("PASSWORD_CHANGED", None)

    class Meta:
        db_table = "accounts_user"
        permissions = [
            ("disable_user", "Can disable a user, cancelling their open orders")
        ]

    def __str__(self) -> str:
        return self.username

    def save(self, *args, **kwargs):
        # Every way of setting a password (the API, a reset, the admin's form,
        # ``changepassword``, a shell) goes through set_password and then save:
        # once the new hash is stored, the credentials issued under the old one
        # are revoked, here, so that no path can forget it.
        password_changed = self._password is not None and not self._state.adding
        super().save(*args, **kwargs)
        if password_changed:
            # accounts.services imports this module.
            from accounts.services import user_credentials_revoke

            kind, ip = self.password_set_event
            user_credentials_revoke(
                user_id=self.pk,
                keep_api_keys=self.keep_api_keys_on_password_set,
                event=kind,
                ip=ip,
            )
            self.keep_api_keys_on_password_set = False
            self.password_set_event = ("PASSWORD_CHANGED", None)


class Asset(models.Model):
    """A coin or token. ``decimals`` is the precision balances of it are kept to."""

    code = models.CharField(max_length=16, primary_key=True)
    name = models.CharField(max_length=64, blank=True)
    decimals = models.PositiveSmallIntegerField(default=8)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(decimals__lte=18), name="asset_decimals_at_most_18"
            )
        ]

    def __str__(self) -> str:
        return self.code


class Balance(models.Model):
    """What one user holds of one asset: ``free`` to use, ``locked`` by open orders.

    Changed only through ``accounts.services``, never by editing the row.
    """

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="balances")
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="balances")
    free = AmountField(default=0)
    locked = AmountField(default=0)

    class Meta:
        permissions = [
            ("adjust_balance", "Can credit and debit balances in the back office")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "asset"], name="balance_user_asset"
            ),
            models.CheckConstraint(condition=Q(free__gte=0), name="balance_free_gte_0"),
            models.CheckConstraint(
                condition=Q(locked__gte=0), name="balance_locked_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.asset_id} free={self.free} locked={self.locked}"


class LedgerEntry(models.Model):
    """One change of one balance. Append-only: the balance is the sum of its entries."""

    class Reason(models.TextChoices):
        DEPOSIT = "DEPOSIT"
        WITHDRAW = "WITHDRAW"
        HOLD = "HOLD"
        RELEASE = "RELEASE"
        TRADE = "TRADE"
        FEE = "FEE"
        TRANSFER = "TRANSFER"

    user = models.ForeignKey(
        User, on_delete=models.PROTECT, db_index=False, related_name="+"
    )
    asset = models.ForeignKey(
        Asset, on_delete=models.PROTECT, db_index=False, related_name="+"
    )
    delta_free = AmountField(default=0)
    delta_locked = AmountField(default=0)
    reason = models.CharField(max_length=16, choices=Reason.choices)
    reference = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "ledger entries"
        indexes = [
            models.Index(fields=["user", "asset", "id"], name="ledger_user_asset"),
            models.Index(fields=["asset", "reason"], name="ledger_asset_reason"),
            models.Index(fields=["reference"], name="ledger_reference"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.reason} {self.user_id}:{self.asset_id} "
            f"free{self.delta_free:+} locked{self.delta_locked:+}"
        )


class ApiKey(models.Model):
    """A Binance-style API key. The secret is stored encrypted, shown once."""

    class Permission(models.TextChoices):
        READ = "read"
        TRADE = "trade"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    label = models.CharField(max_length=64, blank=True)
    key = models.CharField(max_length=64, unique=True)
    secret_encrypted = models.TextField()
    can_read = models.BooleanField(default=True)
    can_trade = models.BooleanField(default=False)
    ip_allowlist = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"
        indexes = [models.Index(fields=["user", "revoked_at"], name="apikey_user")]

    def __str__(self) -> str:
        return f"{self.label or 'key'} ({self.key[:8]}...)"

    @property
    def permissions(self) -> list[str]:
        return [
            name
            for name, allowed in (("read", self.can_read), ("trade", self.can_trade))
            if allowed
        ]

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ReconciliationRun(models.Model):
    """One run of the ``reconcile`` command: when it ran, whether the books balanced,
    and the first lines of what did not. Written by the command, read by the back
    office."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    clean = models.BooleanField()
    checks = models.PositiveIntegerField(default=0, help_text="checks run")
    mismatches = models.PositiveIntegerField(default=0)
    report = models.TextField(blank=True, help_text="the first lines of the mismatches")

    class Meta:
        ordering = ["-started_at", "-id"]
        get_latest_by = ["started_at", "id"]
        indexes = [models.Index(fields=["-started_at"], name="reconcile_run_started")]

    def __str__(self) -> str:
        outcome = "clean" if self.clean else f"{self.mismatches} mismatch(es)"
        return f"reconcile at {self.started_at:%Y-%m-%d %H:%M:%S}: {outcome}"


class TwoFactor(models.Model):
    """A user's TOTP authenticator. Pending until ``confirmed_at`` is set by a
    correct code; the secret is stored encrypted like API-key secrets."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, primary_key=True, related_name="two_factor"
    )
    secret_encrypted = models.TextField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The time step of the last code accepted: a code is good once.
    last_counter = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "two-factor authenticator"

    def __str__(self) -> str:
        state = "enabled" if self.confirmed_at else "pending"
        return f"{self.user_id}: {state}"


class RecoveryCode(models.Model):
    """A single-use code that stands in for a TOTP code. Only its digest is kept."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="recovery_codes"
    )
    code_digest = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "code_digest"], name="recovery_code_user_digest"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {'used' if self.used_at else 'unused'}"


class RevokedTokenFamily(models.Model):
    """A login's chain of refresh tokens, revoked because one of them was used
    again after it had been rotated (a sign it was copied)."""

    family = models.CharField(max_length=64, primary_key=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    revoked_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.family}"


class SecurityEvent(models.Model):
    """One event in a user's security log: what happened, when, from where.
    Append-only; written by the accounts services, read by the user and staff."""

    class Kind(models.TextChoices):
        LOGIN = "LOGIN"
        LOGIN_FAILED = "LOGIN_FAILED"
        TWO_FACTOR_ENABLED = "TWO_FACTOR_ENABLED"
        TWO_FACTOR_DISABLED = "TWO_FACTOR_DISABLED"
        RECOVERY_CODES_RENEWED = "RECOVERY_CODES_RENEWED"
        API_KEY_CREATED = "API_KEY_CREATED"
        API_KEY_REVOKED = "API_KEY_REVOKED"
        PASSWORD_CHANGED = "PASSWORD_CHANGED"  # noqa: S105 - an event name
        PASSWORD_RESET = "PASSWORD_RESET"  # noqa: S105
        EMAIL_VERIFIED = "EMAIL_VERIFIED"
        TOKEN_REUSED = "TOKEN_REUSED"  # noqa: S105

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="security_events"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    ip = models.GenericIPAddressField(null=True, blank=True)
    detail = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-id"], name="security_event_user")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.kind} at {self.created_at:%Y-%m-%d %H:%M:%S}"
