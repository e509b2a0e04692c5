"""The back office for trading: symbols, orders and trades, the staff overview, and
the user actions that reach into trading (disabling a user cancels their orders).

Admin pages only collect input and call services: a symbol is created, edited and
halted through ``trading.backoffice.services`` and ``trading.symbols.services``,
orders are cancelled through ``order_cancel``; nothing edits an order, trade or
status row directly. Every action is written to the admin log.
"""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from accounts import admin as accounts_admin
from accounts.admin import changelist_totals
from accounts.models import User
from accounts.reconcile import sums_by
from exchange.errors import ExchangeError
from trading.backoffice import services as ops
from trading.models import OPEN_STATUSES, Order, Symbol, Trade
from trading.orders import persist as order_persist
from trading.symbols import services as symbol_services

# Destructive actions need a superuser or one of these permissions. The accounts
# ones are declared in accounts.models; the trading ones belong in the Meta of the
# trading models (Order, Symbol), and until then only superusers hold them.
CANCEL_ORDER = "trading.cancel_order"
CHANGE_SYMBOL_STATUS = "trading.change_symbol_status"
DISABLE_USER = "accounts.disable_user"

admin.site.site_header = "Exchange back office"
admin.site.site_title = "Exchange back office"
admin.site.index_title = "Back office"
# The index leads to the market overview (see SymbolAdmin.overview_view).
admin.site.index_template = "admin/trading/index.html"


def allowed(request, permission: str) -> bool:
    return request.user.is_superuser or request.user.has_perm(permission)


# --- Shared pieces --------------------------------------------------------------------


class RecentFilter(admin.SimpleListFilter):
    """Rows whose ``time`` (ms since the epoch) falls in a recent window."""

    title = "time"
    parameter_name = "time"
    WINDOWS = {
        "1h": ("Past hour", 3600),
        "24h": ("Past 24 hours", 24 * 3600),
        "7d": ("Past 7 days", 7 * 24 * 3600),
        "30d": ("Past 30 days", 30 * 24 * 3600),
    }

    def lookups(self, request, model_admin):
        return [
            ("today", "Today (UTC)"),
            *[(key, label) for key, (label, _) in self.WINDOWS.items()],
        ]

    def queryset(self, request, queryset):
        value = self.value()
        now = timezone.now()
        if value == "today":
            midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
            return queryset.filter(time__gte=ops.datetime_to_ms(midnight))
        if value in self.WINDOWS:
            seconds = self.WINDOWS[value][1]
            return queryset.filter(time__gte=ops.datetime_to_ms(now) - seconds * 1000)
        return queryset


class NumberSearchMixin:
    """A search term that is a whole number also matches ``number_search_fields``
    exactly (indexed integer lookups rather than text casts)."""

    number_search_fields: tuple[str, ...] = ()

    def get_search_results(self, request, queryset, search_term):
        found, duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if (
            term.isascii()
            and term.isdigit()
            and len(term) <= 18
            and self.number_search_fields
        ):
            number = int(term)
            by_number = Q()
            for name in self.number_search_fields:
                by_number |= Q(**{name: number})
            found = found | queryset.filter(by_number)
        return found, duplicates


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Symbols --------------------------------------------------------------------------


class SymbolForm(forms.ModelForm):
    """Checks the whole set of filters the way the services will, so that a mistake
    comes back as a form error rather than a refusal after saving."""

    class Meta:
        model = Symbol
        fields = ["symbol", "base", "quote", "status", *ops.SYMBOL_EDITABLE_FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ops.SYMBOL_EDITABLE_FIELDS:
            value = self.initial.get(name)
            if name != "max_num_orders" and value is not None:
                # Same value, shown without the column's 18 trailing places.
                self.initial[name] = Decimal(ops.amount_text(value))

    def clean(self):
        data = super().clean()
        adding = self.instance._state.adding
        values = {}
        for name in ops.SYMBOL_EDITABLE_FIELDS:
            if name in self.errors:
                return data
            values[name] = data.get(name, getattr(self.instance, name))
        if adding:
            base, quote = data.get("base"), data.get("quote")
            if base is None or quote is None or "symbol" in self.errors:
                return data
            base, quote = base.code, quote.code
            problems = ops.symbol_name_problems(
                symbol=data.get("symbol", ""), base=base, quote=quote
            )
        else:
            base, quote = self.instance.base_id, self.instance.quote_id
            problems = []
        problems += ops.symbol_filters_problems(base=base, quote=quote, **values)
        regrid = (
            any(name in self.changed_data for name in ops.SYMBOL_GRID_FIELDS)
            and not adding
        )
        if regrid and ops.symbol_open_order_count(symbol=self.instance.symbol):
            problems.append(
                "tickSize and stepSize can change only while the symbol has no "
                "open orders: halt it and cancel them first"
            )
        if problems:
            raise ValidationError(problems)
        return data


@admin.register(Symbol)
class SymbolAdmin(admin.ModelAdmin):
    form = SymbolForm
    list_display = [
        "symbol",
        "status",
        "base",
        "quote",
        "tick",
        "step",
        "min_notional_text",
        "maker_fee_text",
        "taker_fee_text",
    ]
    list_filter = ["status"]
    search_fields = ["symbol"]
    actions = ["halt_trading", "resume_trading", "break_trading"]
    SEQUENCE_FIELDS = ["book_seq", "last_order_id", "last_trade_id"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (None, {"fields": ["symbol", "base", "quote", "status"]}),
            ("Price filter", {"fields": ["tick_size", "min_price", "max_price"]}),
            (
                "Lot size",
                {"fields": ["step_size", "min_qty", "max_qty", "market_max_qty"]},
            ),
            (
                "Notional and open orders",
                {"fields": ["min_notional", "max_notional", "max_num_orders"]},
            ),
            ("Fees", {"fields": ["maker_fee", "taker_fee"]}),
        ]
        if obj is not None:
            fieldsets.append(
                (
                    "Sequence (kept by the order path)",
                    {"fields": self.SEQUENCE_FIELDS, "classes": ["collapse"]},
                )
            )
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        # The pair never changes; the status only through the actions.
        return ["symbol", "base", "quote", "status", *self.SEQUENCE_FIELDS]

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_status_permission(self, request):
        return allowed(request, CHANGE_SYMBOL_STATUS)

    @admin.display(description="tick size", ordering="tick_size")
    def tick(self, obj):
        return ops.amount_text(obj.tick_size)

    @admin.display(description="step size", ordering="step_size")
    def step(self, obj):
        return ops.amount_text(obj.step_size)

    @admin.display(description="min notional", ordering="min_notional")
    def min_notional_text(self, obj):
        return ops.amount_text(obj.min_notional)

    @admin.display(description="maker fee", ordering="maker_fee")
    def maker_fee_text(self, obj):
        return ops.amount_text(obj.maker_fee)

    @admin.display(description="taker fee", ordering="taker_fee")
    def taker_fee_text(self, obj):
        return ops.amount_text(obj.taker_fee)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        filters = {
            name: data[name] for name in ops.SYMBOL_EDITABLE_FIELDS if name in data
        }
        if change:
            ops.symbol_update(symbol=obj.symbol, **filters)
        else:
            ops.symbol_add(
                symbol=obj.symbol,
                base=obj.base_id,
                quote=obj.quote_id,
                status=data.get("status") or Symbol.Status.TRADING,
                **filters,
            )

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The form checks what the services check; this catches what changed in
        # between (e.g. an order placed before a tick size change was saved).
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ExchangeError as exc:
            self.message_user(request, f"Not saved: {exc.msg}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def _status_set(self, request, queryset, status: str) -> None:
        changed = []
        for row in queryset.order_by("symbol"):
            if row.status == status:
                continue
            symbol_services.symbol_set_status(symbol=row.symbol, status=status)
            self.log_change(request, row, f"Status {row.status} -> {status}.")
            changed.append(row.symbol)
        if changed:
            self.message_user(request, f"{', '.join(changed)}: status {status}.")
        else:
            self.message_user(
                request, f"Nothing to change: already {status}.", messages.WARNING
            )

    @admin.action(
        description="Halt trading (refuse new orders, accept cancels)",
        permissions=["change_status"],
    )
    def halt_trading(self, request, queryset):
        self._status_set(request, queryset, Symbol.Status.HALT)

    @admin.action(description="Resume trading", permissions=["change_status"])
    def resume_trading(self, request, queryset):
        self._status_set(request, queryset, Symbol.Status.TRADING)

    @admin.action(description="Break (closed, as halt)", permissions=["change_status"])
    def break_trading(self, request, queryset):
        self._status_set(request, queryset, Symbol.Status.BREAK)

    def get_urls(self):
        overview = path(
            "overview/",
            self.admin_site.admin_view(self.overview_view),
            name="trading_symbol_overview",
        )
        return [overview, *super().get_urls()]

    def overview_view(self, request):
        """The staff landing page: every symbol at a glance, and the last
        reconciliation."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": "Market overview",
            "opts": self.opts,
            "rows": [
                overview_display(row)
                for row in ops.symbol_overview_list(now_ms=order_persist.now_ms())
            ],
            "reconciliation": ops.reconciliation_last(),
        }
        return TemplateResponse(request, "admin/trading/overview.html", context)


def overview_display(row: ops.SymbolOverview) -> dict:
    """A row of the overview with its amounts as plain text."""
    shown = asdict(row)
    for name in ("best_bid", "best_ask", "volume_24h", "quote_volume_24h"):
        if shown[name] is not None:
            shown[name] = ops.amount_text(shown[name])
    return shown


# --- Orders ---------------------------------------------------------------------------


class OpenFilter(admin.SimpleListFilter):
    title = "open"
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", "Open"), ("no", "Closed")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(status__in=OPEN_STATUSES)
        if self.value() == "no":
            return queryset.exclude(status__in=OPEN_STATUSES)
        return queryset


@admin.register(Order)
class OrderAdmin(NumberSearchMixin, ReadOnlyAdmin):
    list_display = [
        "__str__",
        "user",
        "client_order_id",
        "side",
        "type",
        "status",
        "price_text",
        "qty_text",
        "executed_text",
        "placed",
    ]
    list_filter = ["symbol", "side", OpenFilter, "status", "type", RecentFilter]
    search_fields = ["client_order_id__exact", "user__username__exact"]
    search_help_text = "An order id, an exact client order id or an exact username."
    number_search_fields = ("order_id",)
    list_select_related = ["user"]
    ordering = ["-time", "-id"]
    show_full_result_count = False
    actions = ["cancel_orders"]

    def has_cancel_permission(self, request):
        return allowed(request, CANCEL_ORDER)

    @admin.display(description="price", ordering="price")
    def price_text(self, obj):
        return ops.amount_text(obj.price)

    @admin.display(description="quantity", ordering="orig_qty")
    def qty_text(self, obj):
        return ops.amount_text(obj.orig_qty)

    @admin.display(description="executed", ordering="executed_qty")
    def executed_text(self, obj):
        return ops.amount_text(obj.executed_qty)

    @admin.display(description="time (UTC)", ordering="time")
    def placed(self, obj):
        return ops.ms_to_datetime(obj.time)

    @admin.action(description="Cancel selected open orders", permissions=["cancel"])
    def cancel_orders(self, request, queryset):
        outcome = ops.order_cancel_many(
            orders=queryset.order_by("symbol_id", "order_id")
        )
        for order in outcome.cancelled:
            self.log_change(request, order, "Cancelled in the back office.")
        if outcome.cancelled:
            self.message_user(
                request,
                f"Cancelled {len(outcome.cancelled)} order(s): "
                + ", ".join(str(order) for order in outcome.cancelled[:20]),
            )
        if outcome.skipped:
            self.message_user(
                request,
                f"Left {len(outcome.skipped)} order(s) not open: "
                + ", ".join(f"{order} ({why})" for order, why in outcome.skipped[:20]),
                messages.WARNING,
            )


# --- Trades ---------------------------------------------------------------------------


def trade_totals_text(queryset, count: int) -> str:
    """Per symbol, the sum of the selected trades' quantity and quote quantity."""
    sums = sums_by(queryset, ["symbol_id"], ["qty", "quote_qty"])
    if not sums:
        return "Totals: no trades."
    parts = [
        f"{symbol} qty {ops.amount_text(qty)}, quote qty {ops.amount_text(quote)}"
        for (symbol,), (qty, quote) in sorted(sums.items())
    ]
    return f"Totals of {count} trade{pluralize(count)}: " + "; ".join(parts)


@admin.register(Trade)
class TradeAdmin(NumberSearchMixin, ReadOnlyAdmin):
    list_display = [
        "symbol",
        "trade_id",
        "price_text",
        "qty_text",
        "quote_qty_text",
        "buyer",
        "seller",
        "buyer_order_id",
        "seller_order_id",
        "is_buyer_maker",
        "traded",
    ]
    list_filter = ["symbol", "is_buyer_maker", RecentFilter]
    search_fields = ["buyer__username__exact", "seller__username__exact"]
    search_help_text = "A trade or order id, or an exact username (buyer or seller)."
    number_search_fields = ("trade_id", "buyer_order_id", "seller_order_id")
    list_select_related = ["buyer", "seller"]
    ordering = ["-time", "-id"]
    show_full_result_count = False

    @admin.display(description="price", ordering="price")
    def price_text(self, obj):
        return ops.amount_text(obj.price)

    @admin.display(description="quantity", ordering="qty")
    def qty_text(self, obj):
        return ops.amount_text(obj.qty)

    @admin.display(description="quote quantity", ordering="quote_qty")
    def quote_qty_text(self, obj):
        return ops.amount_text(obj.quote_qty)

    @admin.display(description="time (UTC)", ordering="time")
    def traded(self, obj):
        return ops.ms_to_datetime(obj.time)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist_totals(response, trade_totals_text)
        return response


# --- Users: the accounts admin, plus disabling with orders ----------------------------

admin.site.unregister(User)


@admin.register(User)
class UserAdmin(accounts_admin.UserAdmin):
    actions = [*accounts_admin.UserAdmin.actions, "disable_users"]

    def has_disable_permission(self, request):
        return allowed(request, DISABLE_USER)

    @admin.action(
        description="Disable selected users (cancel their orders, revoke keys)",
        permissions=["disable"],
    )
    def disable_users(self, request, queryset):
        users = list(queryset.order_by("username"))
        if "apply" not in request.POST:
            return TemplateResponse(
                request,
                "admin/trading/disable_users.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Disable users",
                    "users": users,
                    "action_checkbox_name": ACTION_CHECKBOX_NAME,
                    "opts": self.opts,
                },
            )
        disabled = []
        for user in users:
            if user.pk == request.user.pk:
                self.message_user(
                    request, "You cannot disable your own account.", messages.ERROR
                )
                continue
            cancelled = ops.user_disable_with_orders(user_id=user.id)
            for order in cancelled:
                self.log_change(request, order, f"Cancelled: {user} disabled.")
            self.log_change(
                request,
                user,
                f"Disabled; API keys revoked; {len(cancelled)} open order(s) "
                "cancelled.",
            )
            disabled.append(f"{user} ({len(cancelled)} order(s) cancelled)")
        if disabled:
            self.message_user(request, "Disabled " + ", ".join(disabled) + ".")
        return None
