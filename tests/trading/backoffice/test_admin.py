"""The admin as a back office: staff only, every change through a service, every
destructive action behind a permission, every action in the admin log."""

from datetime import UTC, datetime
from decimal import Decimal

import pyotp
import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.urls import reverse

from accounts import services as funds
from accounts.models import ApiKey, Balance, LedgerEntry, ReconciliationRun, User
from exchange.errors import ExchangeError
from tests.factories import (
    PASSWORD,
    UserFactory,
    admin_login,
    funded_user,
    twofactor_on,
)
from tests.trading.backoffice.conftest import grant
from tests.trading.backoffice.test_ops import trade_at
from tests.trading.conftest import bal, place
from trading.backoffice import services as ops
from trading.models import Order, Symbol
from trading.orders import persist as order_persist
from trading.orders import services as order_services
from trading.symbols import services as symbol_services

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal

SYMBOLS = reverse("admin:trading_symbol_changelist")
ORDERS = reverse("admin:trading_order_changelist")
TRADES = reverse("admin:trading_trade_changelist")
LEDGER = reverse("admin:accounts_ledgerentry_changelist")
BALANCES = reverse("admin:accounts_balance_changelist")
USERS = reverse("admin:accounts_user_changelist")
OVERVIEW = reverse("admin:trading_symbol_overview")


def logged_in(client, user):
    return admin_login(client, user)


def action_names(client, url) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200
    form = response.context["action_form"]
    if form is None:
        return []
    return [name for name, _ in form.fields["action"].choices if name]


def act(client, url, action, *ids, **extra):
    return client.post(
        url,
        {"action": action, "_selected_action": [str(i) for i in ids], **extra},
        follow=True,
    )


def shown_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def logged(user, obj, flag=CHANGE) -> list[str]:
    return list(
        LogEntry.objects.filter(
            user=user, object_id=str(obj.pk), action_flag=flag
        ).values_list("change_message", flat=True)
    )


# --- who may use the admin --------------------------------------------------------


def test_the_admin_is_for_staff_only(client, symbols):
    trader = UserFactory()
    logged_in(client, trader)
    for url in ("/admin/", OVERVIEW, ORDERS, SYMBOLS):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_staff_see_only_what_they_are_allowed(client, staff, symbols):
    logged_in(client, staff)
    assert client.get(ORDERS).status_code == 403
    assert client.get(OVERVIEW).status_code == 403
    grant(staff, "trading.view_order", "trading.view_symbol")
    assert action_names(client, ORDERS) == []
    assert action_names(client, SYMBOLS) == []
    grant(staff, "trading.cancel_order", "trading.change_symbol_status")
    assert action_names(client, ORDERS) == ["cancel_orders"]
    assert action_names(client, SYMBOLS) == [
        "halt_trading",
        "resume_trading",
        "break_trading",
    ]


def test_a_staff_member_with_the_permission_halts_a_symbol(client, staff, symbols):
    grant(staff, "trading.view_symbol", "trading.change_symbol_status")
    response = act(logged_in(client, staff), SYMBOLS, "halt_trading", "BTCUSDT")
    assert shown_messages(response) == ["BTCUSDT: status HALT."]
    assert Symbol.objects.get(symbol="BTCUSDT").status == "HALT"


def test_without_the_permission_an_action_is_refused(client, staff, symbols):
    grant(staff, "trading.view_symbol")
    response = act(logged_in(client, staff), SYMBOLS, "halt_trading", "BTCUSDT")
    assert response.status_code == 200
    assert Symbol.objects.get(symbol="BTCUSDT").status == "TRADING"
    assert not LogEntry.objects.exists()


# --- the landing page ---------------------------------------------------------------


def test_the_index_leads_to_the_overview(client, superuser, symbols):
    response = logged_in(client, superuser).get("/admin/")
    assert response.status_code == 200
    assert OVERVIEW in response.content.decode()


def test_the_overview_shows_each_symbol_and_the_last_reconciliation(
    client, superuser, symbols
):
    buyer = funded_user(USDT="100000")
    seller = funded_user(BTC="1")
    trade_at(buyer, seller, "60000", "0.01", order_persist.now_ms())
    place(buyer, "BUY", "0.01", "59000.5")
    place(seller, "SELL", "0.02", "61000")
    symbol_services.symbol_set_status(symbol="ETHUSDT", status="HALT")
    logged_in(client, superuser)
    page = client.get(OVERVIEW)
    rows = {row["symbol"]: row for row in page.context["rows"]}
    assert rows["BTCUSDT"] | {"symbol": "BTCUSDT"} == {
        "symbol": "BTCUSDT",
        "status": "TRADING",
        "best_bid": "59000.5",
        "best_ask": "61000",
        "volume_24h": "0.01",
        "quote_volume_24h": "600",
        "trades_24h": 1,
        "open_orders": 2,
    }
    assert rows["ETHUSDT"]["status"] == "HALT"
    html = page.content.decode()
    assert "Never run" in html
    started = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
    ReconciliationRun.objects.create(
        started_at=started,
        finished_at=started,
        clean=False,
        checks=5,
        mismatches=2,
        report="FAIL assets conserved: 2 mismatch(es)\n  BTC: balances total 1",
    )
    html = client.get(OVERVIEW).content.decode()
    assert "2026-03-01 06:00:00 UTC" in html and "2 mismatch(es)" in html
    assert "BTC: balances total 1" in html


# --- symbols ------------------------------------------------------------------------

ADD_FORM = {
    "symbol": "SOLUSDT",
    "base": "SOL",
    "quote": "USDT",
    "status": "HALT",
    "tick_size": "0.01",
    "min_price": "0",
    "max_price": "0",
    "step_size": "0.001",
    "min_qty": "0.001",
    "max_qty": "10000",
    "market_max_qty": "0",
    "min_notional": "5",
    "max_notional": "0",
    "max_num_orders": "200",
    "maker_fee": "0.001",
    "taker_fee": "0.001",
}


def change_form(symbol: str, **changes) -> dict:
    row = Symbol.objects.filter(symbol=symbol).values().get()
    data = {name: str(row[name]) for name in ops.SYMBOL_EDITABLE_FIELDS}
    return {**data, **changes}


@pytest.fixture
def sol(symbols):
    from accounts.models import Asset

    Asset.objects.create(code="SOL", decimals=8)


def test_creating_a_symbol_in_the_admin_uses_the_service(client, superuser, sol):
    logged_in(client, superuser)
    response = client.post(reverse("admin:trading_symbol_add"), ADD_FORM)
    assert response.status_code == 302
    row = Symbol.objects.get(symbol="SOLUSDT")
    assert (row.status, row.min_notional, row.book_seq) == ("HALT", D(5), 0)
    assert logged(superuser, row, ADDITION)


def test_incoherent_filters_come_back_as_form_errors(client, superuser, sol):
    logged_in(client, superuser)
    bad = {**ADD_FORM, "step_size": "0.000000001", "symbol": "SOLBTC"}
    response = client.post(reverse("admin:trading_symbol_add"), bad)
    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors()
    assert "the symbol must be its base then its quote: SOLUSDT" in errors
    assert "stepSize finer than SOL's 8 places" in errors
    assert not Symbol.objects.filter(base_id="SOL").exists()


def test_editing_fees_and_filters_keeps_the_pair_and_counters(
    client, superuser, symbols
):
    logged_in(client, superuser)
    url = reverse("admin:trading_symbol_change", args=["BTCUSDT"])
    form = client.get(url).context["adminform"].form
    assert str(form.initial["tick_size"]) == "0.01"  # without trailing zeros
    assert {"base", "quote", "status", "book_seq"} <= set(
        client.get(url).context["adminform"].readonly_fields
    )
    data = change_form(
        "BTCUSDT", maker_fee="0.0005", book_seq="99", status="HALT", quote="BTC"
    )
    assert client.post(url, data).status_code == 302
    row = Symbol.objects.get(symbol="BTCUSDT")
    assert (row.maker_fee, row.book_seq, row.status, row.quote_id) == (
        D("0.0005"),
        0,
        "TRADING",
        "USDT",
    )
    assert logged(superuser, row) == ['[{"changed": {"fields": ["Maker fee"]}}]']


def test_tick_size_cannot_change_under_resting_orders(client, superuser, symbols):
    place(funded_user(USDT="1000"), "BUY", "0.01", "50000")
    logged_in(client, superuser)
    url = reverse("admin:trading_symbol_change", args=["BTCUSDT"])
    response = client.post(url, change_form("BTCUSDT", tick_size="0.1"))
    assert response.status_code == 200
    assert "halt it and cancel them first" in str(
        response.context["adminform"].form.non_field_errors()
    )
    assert Symbol.objects.get(symbol="BTCUSDT").tick_size == D("0.01")


def test_a_refusal_after_the_form_checks_is_a_message_not_an_error(
    client, superuser, symbols, monkeypatch
):
    def refuse(**kwargs):
        raise ExchangeError(-1130, "tickSize and stepSize can change only ...")

    monkeypatch.setattr(ops, "symbol_update", refuse)
    logged_in(client, superuser)
    url = reverse("admin:trading_symbol_change", args=["BTCUSDT"])
    response = client.post(url, change_form("BTCUSDT", maker_fee="0.002"), follow=True)
    assert response.status_code == 200
    assert shown_messages(response) == [
        "Not saved: tickSize and stepSize can change only ..."
    ]
    assert Symbol.objects.get(symbol="BTCUSDT").maker_fee == D("0.001")


def test_halting_refuses_new_orders_and_still_accepts_cancels(
    client, superuser, symbols
):
    trader = funded_user(USDT="100000")
    resting = place(trader, "BUY", "0.01", "50000").order
    logged_in(client, superuser)
    response = act(client, SYMBOLS, "halt_trading", "BTCUSDT", "ETHUSDT")
    assert shown_messages(response) == ["BTCUSDT, ETHUSDT: status HALT."]
    with pytest.raises(ExchangeError) as info:
        place(trader, "BUY", "0.01", "50000")
    assert (info.value.code, info.value.msg) == (-2010, "Market is closed.")
    order_services.order_cancel(
        user_id=trader.id, symbol="BTCUSDT", order_id=resting.order_id
    )
    btc = Symbol.objects.get(symbol="BTCUSDT")
    assert logged(superuser, btc) == ["Status TRADING -> HALT."]
    response = act(client, SYMBOLS, "halt_trading", "BTCUSDT")
    assert shown_messages(response) == ["Nothing to change: already HALT."]
    act(client, SYMBOLS, "break_trading", "ETHUSDT")
    assert Symbol.objects.get(symbol="ETHUSDT").status == "BREAK"
    act(client, SYMBOLS, "resume_trading", "BTCUSDT", "ETHUSDT")
    assert set(Symbol.objects.values_list("status", flat=True)) == {"TRADING"}
    assert place(trader, "BUY", "0.01", "50000").order.status == "NEW"


def test_symbols_cannot_be_deleted(client, superuser, symbols):
    logged_in(client, superuser)
    url = reverse("admin:trading_symbol_delete", args=["BTCUSDT"])
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert "delete_selected" not in action_names(client, SYMBOLS)


# --- orders -----------------------------------------------------------------------


@pytest.fixture
def orders(symbols):
    alice = funded_user(USDT="100000", ETH="10")
    alice.username = "alice"
    alice.save(update_fields=["username"])
    bob = funded_user(BTC="1")
    first = place(alice, "BUY", "0.01", "50000", new_client_order_id="mine-1").order
    filled = place(alice, "BUY", "0.01", "60000").order
    place(bob, "SELL", "0.01", "60000")
    eth = place(alice, "SELL", "1", "0.06", symbol="ETHBTC").order
    return alice, bob, first, filled, eth


def listed(response) -> list[str]:
    return [str(order) for order in response.context["cl"].result_list]


def test_orders_search_and_filters(client, superuser, orders):
    alice, bob, first, filled, eth = orders
    logged_in(client, superuser)
    assert listed(client.get(ORDERS, {"q": "mine-1"})) == ["BTCUSDT#1"]
    assert sorted(listed(client.get(ORDERS, {"q": "1"}))) == ["BTCUSDT#1", "ETHBTC#1"]
    assert sorted(listed(client.get(ORDERS, {"q": "alice"}))) == [
        "BTCUSDT#1",
        "BTCUSDT#2",
        "ETHBTC#1",
    ]
    assert listed(client.get(ORDERS, {"q": "ali"})) == []
    assert listed(
        client.get(ORDERS, {"symbol__symbol__exact": "BTCUSDT", "side": "SELL"})
    ) == ["BTCUSDT#3"]
    assert sorted(listed(client.get(ORDERS, {"open": "yes"}))) == [
        "BTCUSDT#1",
        "ETHBTC#1",
    ]
    assert sorted(listed(client.get(ORDERS, {"status": "FILLED", "type": "LIMIT"})))
    assert len(listed(client.get(ORDERS, {"time": "24h"}))) == 4
    Order.objects.filter(pk=eth.pk).update(time=0)
    assert len(listed(client.get(ORDERS, {"time": "today"}))) == 3
    assert len(listed(client.get(ORDERS, {"time": "30d"}))) == 3


def test_orders_are_read_only(client, superuser, orders):
    _, _, first, _, _ = orders
    logged_in(client, superuser)
    url = reverse("admin:trading_order_change", args=[first.pk])
    page = client.get(url)
    assert page.status_code == 200 and page.context["has_change_permission"] is False
    assert client.post(url, {"status": "CANCELED"}).status_code == 403
    assert client.get(reverse("admin:trading_order_add")).status_code == 403
    delete = reverse("admin:trading_order_delete", args=[first.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Order.objects.get(pk=first.pk).status == "NEW"


def test_cancelling_selected_orders_goes_through_the_service(client, superuser, orders):
    alice, _, first, filled, eth = orders
    logged_in(client, superuser)
    response = act(client, ORDERS, "cancel_orders", first.pk, filled.pk, eth.pk)
    assert shown_messages(response) == [
        "Cancelled 2 order(s): BTCUSDT#1, ETHBTC#1",
        "Left 1 order(s) not open: BTCUSDT#2 (already FILLED)",
    ]
    assert Order.objects.get(pk=first.pk).status == "CANCELED"
    assert Order.objects.get(pk=eth.pk).status == "CANCELED"
    assert bal(alice, "USDT")[1] == 0 and bal(alice, "ETH") == (D(10), D(0))
    assert logged(superuser, first) == ["Cancelled in the back office."]
    assert logged(superuser, filled) == []


# --- trades and the ledger ----------------------------------------------------------


def test_trades_are_read_only_searchable_and_totalled(client, superuser, symbols):
    buyer = funded_user(USDT="100000", BTC="1")
    seller = funded_user(BTC="1", ETH="10")
    now = order_persist.now_ms()
    trade_at(buyer, seller, "60000", "0.01", now)
    trade_at(buyer, seller, "60000.5", "0.02", now)
    place(seller, "SELL", "1", "0.05", symbol="ETHBTC")
    place(buyer, "BUY", "1", "0.05", symbol="ETHBTC")
    logged_in(client, superuser)
    page = client.get(TRADES)
    assert page.context["subtitle"] == (
        "Totals of 3 trades: BTCUSDT qty 0.03, quote qty 1800.01; "
        "ETHBTC qty 1, quote qty 0.05"
    )
    page = client.get(TRADES, {"symbol__symbol__exact": "BTCUSDT", "q": "2"})
    assert [t.trade_id for t in page.context["cl"].result_list] == [2, 1]
    assert page.context["subtitle"] == (
        "Totals of 2 trades: BTCUSDT qty 0.03, quote qty 1800.01"
    )
    page = client.get(TRADES, {"symbol__symbol__exact": "ETHBTC"})
    assert page.context["subtitle"].startswith("Totals of 1 trade: ")
    page = client.get(TRADES, {"q": "nobody"})
    assert page.context["subtitle"] == "Totals: no trades."
    assert client.get(reverse("admin:trading_trade_add")).status_code == 403
    change = reverse("admin:trading_trade_change", args=[1])
    assert client.post(change, {"qty": "5"}).status_code == 403


def test_ledger_is_read_only_and_totalled_per_asset(client, superuser, symbols):
    alice = funded_user(USDT="100", BTC="1")
    logged_in(client, superuser)
    page = client.get(LEDGER, {"q": alice.username})
    assert page.context["subtitle"] == (
        "Totals of 2 entries: BTC free 1, locked 0; USDT free 100, locked 0"
    )
    place(alice, "BUY", "0.001", "50000")
    page = client.get(LEDGER, {"q": alice.username, "asset__code__exact": "USDT"})
    assert page.context["subtitle"] == "Totals of 2 entries: USDT free 50, locked 50"
    entry = LedgerEntry.objects.first()
    change = reverse("admin:accounts_ledgerentry_change", args=[entry.pk])
    assert client.post(change, {"reason": "FEE"}).status_code == 403


# --- users and balances -------------------------------------------------------------


def test_credit_and_debit_need_the_permission_and_are_logged(client, staff, symbols):
    alice = funded_user(USDT="100")
    balance = Balance.objects.get(user=alice, asset_id="USDT")
    grant(staff, "accounts.view_balance")
    logged_in(client, staff)
    assert action_names(client, BALANCES) == []
    grant(staff, "accounts.adjust_balance")
    assert action_names(client, BALANCES) == ["adjust"]
    confirm = act(client, BALANCES, "adjust", balance.pk)
    assert "Credit or debit balances" in confirm.content.decode()
    done = act(
        client,
        BALANCES,
        "adjust",
        balance.pk,
        apply="Apply",
        operation="debit",
        amount="40",
        reason="chargeback 7",
    )
    assert shown_messages(done) == ["Debited 1 balance(s)."]
    assert bal(alice, "USDT") == (D(60), D(0))
    entry = LedgerEntry.objects.filter(user=alice, reason="WITHDRAW").get()
    assert entry.reference == "admin:clerk:chargeback 7"
    assert logged(staff, balance) == ["debit 40 USDT: chargeback 7"]
    refused = act(
        client,
        BALANCES,
        "adjust",
        balance.pk,
        apply="Apply",
        operation="debit",
        amount="1000",
        reason="too much",
    )
    assert "insufficient balance" in shown_messages(refused)[0]
    assert bal(alice, "USDT") == (D(60), D(0))


def test_the_user_page_shows_balances_and_keys_read_only(client, superuser, symbols):
    alice = funded_user(USDT="100")
    funds.apikey_create(user_id=alice.id, label="bot")
    logged_in(client, superuser)
    page = client.get(reverse("admin:accounts_user_change", args=[alice.pk]))
    inlines = {
        formset.opts.model.__name__: formset
        for formset in page.context["inline_admin_formsets"]
    }
    assert set(inlines) == {"Balance", "ApiKey"}
    assert "free" in inlines["Balance"].readonly_fields
    assert "bot" in page.content.decode()


def test_disabling_users_cancels_their_orders_and_revokes_keys(
    client, superuser, symbols
):
    mallory = funded_user(USDT="100000", ETH="10")
    funds.apikey_create(user_id=mallory.id, permissions=["read", "trade"])
    orders = [
        place(mallory, "BUY", "0.01", "50000").order,
        place(mallory, "SELL", "1", "0.06", symbol="ETHBTC").order,
    ]
    logged_in(client, superuser)
    assert "disable_users" in action_names(client, USERS)
    confirm = act(client, USERS, "disable_users", mallory.pk)
    assert "every open order of theirs" in confirm.content.decode()
    assert User.objects.get(pk=mallory.pk).is_active
    done = act(client, USERS, "disable_users", mallory.pk, superuser.pk, apply="1")
    assert shown_messages(done) == [
        "You cannot disable your own account.",
        f"Disabled {mallory.username} (2 order(s) cancelled).",
    ]
    assert not User.objects.get(pk=mallory.pk).is_active
    assert User.objects.get(pk=superuser.pk).is_active
    assert not ApiKey.objects.filter(user=mallory, revoked_at=None).exists()
    assert set(Order.objects.values_list("status", flat=True)) == {"CANCELED"}
    assert bal(mallory, "USDT") == (D(100000), D(0))
    assert logged(superuser, mallory) == [
        "Disabled; API keys revoked; 2 open order(s) cancelled."
    ]
    for order in orders:
        assert logged(superuser, order) == [f"Cancelled: {mallory.username} disabled."]


def test_disabling_needs_the_permission(client, staff, symbols):
    victim = UserFactory()
    grant(staff, "accounts.view_user")
    logged_in(client, staff)
    assert "disable_users" not in action_names(client, USERS)
    act(client, USERS, "disable_users", victim.pk, apply="1")
    assert User.objects.get(pk=victim.pk).is_active
    grant(staff, "accounts.disable_user")
    assert "disable_users" in action_names(client, USERS)
    act(client, USERS, "disable_users", victim.pk, apply="1")
    assert not User.objects.get(pk=victim.pk).is_active


def test_reconciliation_runs_are_listed_read_only(client, superuser):
    started = datetime(2026, 3, 1, tzinfo=UTC)
    run = ReconciliationRun.objects.create(
        started_at=started, finished_at=started, clean=True, checks=5
    )
    logged_in(client, superuser)
    page = client.get(reverse("admin:accounts_reconciliationrun_changelist"))
    assert list(page.context["cl"].result_list) == [run]
    change = reverse("admin:accounts_reconciliationrun_change", args=[run.pk])
    assert client.post(change, {"clean": "false"}).status_code == 403


def test_staff_log_in_with_a_password_and_a_code(client, symbols):
    ops = UserFactory(username="ops", is_staff=True, is_superuser=True)
    secret = twofactor_on(ops)
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "ops", "password": PASSWORD, "otp": pyotp.TOTP(secret).now()},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/admin/"
    assert "Back office" in response.content.decode()
