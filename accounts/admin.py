from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse

from accounts import services
from accounts.models import (
    ApiKey,
    Asset,
    Balance,
    LedgerEntry,
    ReconciliationRun,
    SecurityEvent,
    User,
)
from accounts.reconcile import sums_by
from exchange.errors import ExchangeError

ADJUST_BALANCE = "accounts.adjust_balance"
# Changelist totals are summed over at most this many filtered rows.
TOTALS_MAX_ROWS = 1_000_000


def amount_text(value: Decimal) -> str:
    """An amount in plain notation without trailing zeros: 60000, -0.0015."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def changelist_totals(response, describe) -> None:
    """Put ``describe(filtered_queryset)`` as the subtitle of a rendered changelist,
    so totals always match the rows the filters and search select."""
    context = getattr(response, "context_data", None)
    cl = context.get("cl") if context else None
    if cl is None:
        return
    if cl.result_count > TOTALS_MAX_ROWS:
        context["subtitle"] = (
            f"Totals are shown for at most {TOTALS_MAX_ROWS:,} rows: filter further."
        )
    else:
        context["subtitle"] = describe(cl.queryset, cl.result_count)


class BalanceInline(admin.TabularInline):
    model = Balance
    fields = ["asset", "free", "locked"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    fields = ["label", "key", "can_read", "can_trade", "ip_allowlist", "revoked_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class PasswordSetForm(AdminPasswordChangeForm):
    """The admin's password form, asking what to do with the user's API keys
    (every refresh token ends either way)."""

    keep_api_keys = forms.BooleanField(
        required=False,
        label="Keep API keys",
        help_text="Leave unticked to revoke every API key of the user.",
    )

    def save(self, commit=True):
        self.user.keep_api_keys_on_password_set = self.cleaned_data["keep_api_keys"]
        return super().save(commit=commit)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    change_password_form = PasswordSetForm
    change_user_password_template = "admin/accounts/user/change_password.html"  # noqa: S105
    inlines = [BalanceInline, ApiKeyInline]
    list_display = ["username", "email", "is_active", "is_staff", "date_joined"]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        # Deactivating must revoke keys and cancel orders: the "disable" action does
        # it through the services; a bare checkbox would leave cached keys working.
        return [*super().get_readonly_fields(request, obj), "is_active"] if obj else []


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "decimals"]

    def get_readonly_fields(self, request, obj=None):
        # Changing an asset's precision under existing balances would misstate them.
        return ["code", "decimals"] if obj else []


class AdjustForm(forms.Form):
    operation = forms.ChoiceField(choices=[("credit", "Credit"), ("debit", "Debit")])
    amount = forms.CharField(max_length=40)
    reason = forms.CharField(max_length=100, help_text="kept in the ledger reference")

    def clean_amount(self):
        try:
            amount = Decimal(self.cleaned_data["amount"])
        except InvalidOperation:
            raise forms.ValidationError("Not a decimal amount.") from None
        if not amount.is_finite() or amount <= 0:
            raise forms.ValidationError("The amount must be positive.")
        return amount


@admin.register(Balance)
class BalanceAdmin(admin.ModelAdmin):
    list_display = ["user", "asset", "free", "locked"]
    list_filter = ["asset"]
    search_fields = ["user__username"]
    readonly_fields = ["user", "asset", "free", "locked"]
    list_select_related = ["user"]
    actions = ["adjust"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_adjust_permission(self, request):
        return request.user.is_superuser or request.user.has_perm(ADJUST_BALANCE)

    @admin.action(
        description="Credit or debit selected balances", permissions=["adjust"]
    )
    def adjust(self, request, queryset):
        form = AdjustForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            operation = form.cleaned_data["operation"]
            amount = form.cleaned_data["amount"]
            reference = f"admin:{request.user.username}:{form.cleaned_data['reason']}"
            done = 0
            for balance in queryset:
                service = (
                    services.balance_deposit
                    if operation == "credit"
                    else services.balance_withdraw
                )
                try:
                    service(
                        user_id=balance.user_id,
                        asset=balance.asset_id,
                        amount=amount,
                        reference=reference[:128],
                    )
                except ExchangeError as exc:
                    self.message_user(request, f"{balance}: {exc.msg}", messages.ERROR)
                    continue
                self.log_change(
                    request,
                    balance,
                    f"{operation} {amount} {balance.asset_id}: "
                    f"{form.cleaned_data['reason']}",
                )
                done += 1
            self.message_user(request, f"{operation.title()}ed {done} balance(s).")
            return None
        return TemplateResponse(
            request,
            "admin/accounts/balance_adjust.html",
            {
                **self.admin_site.each_context(request),
                "title": "Credit or debit balances",
                "form": form,
                "balances": queryset,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                "opts": self.model._meta,
            },
        )


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "created_at",
        "user",
        "asset",
        "reason",
        "delta_free",
        "delta_locked",
        "reference",
    ]
    list_filter = ["asset", "reason"]
    search_fields = ["user__username__exact", "reference__exact"]
    search_help_text = "An exact username, or an exact reference (e.g. BTCUSDT:42)."
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist_totals(response, ledger_totals_text)
        return response


def ledger_totals_text(queryset, count: int) -> str:
    """Per asset, the sum of the selected entries' deltas."""
    sums = sums_by(queryset, ["asset_id"], ["delta_free", "delta_locked"])
    if not sums:
        return "Totals: no entries."
    parts = [
        f"{asset} free {amount_text(free)}, locked {amount_text(locked)}"
        for (asset,), (free, locked) in sorted(sums.items())
    ]
    return f"Totals of {count} entr{pluralize(count, 'y,ies')}: " + "; ".join(parts)


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(admin.ModelAdmin):
    list_display = ["started_at", "clean", "checks", "mismatches", "finished_at"]
    list_filter = ["clean"]
    fields = ["started_at", "finished_at", "clean", "checks", "mismatches", "report"]
    readonly_fields = fields
    date_hierarchy = "started_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "user",
        "label",
        "key",
        "can_read",
        "can_trade",
        "created_at",
        "revoked_at",
    ]
    list_filter = ["can_trade", "revoked_at"]
    search_fields = ["user__username", "label", "key"]
    readonly_fields = ["user", "key", "created_at", "revoked_at"]
    exclude = ["secret_encrypted"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke selected keys", permissions=["change"])
    def revoke(self, request, queryset):
        revoked = 0
        for key in queryset.filter(revoked_at=None):
            services.apikey_revoke(user_id=key.user_id, key_id=key.id)
            self.log_change(request, key, "revoked")
            revoked += 1
        self.message_user(request, f"Revoked {revoked} key(s).")


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    """Users' security logs, read-only: the log is written by the services."""

    list_display = ["created_at", "user", "kind", "ip", "detail"]
    list_filter = ["kind"]
    search_fields = ["user__username", "ip"]
    list_select_related = ["user"]
    readonly_fields = list_display
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
