"""The web app in a real browser, as two people use it: sign up, get funded by the
operator, trade with each other, cancel, and be refused, with no reload."""

import re
import time

import pyotp
import pytest
from django.core.management import call_command

from accounts.twofactor import twofactor_enabled
from tests.browser import launch
from tests.factories import PASSWORD, funded_user, standard_symbols, twofactor_on
from trading.models import Order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "a-long-new-password-42"
SESSION = "JSON.parse(sessionStorage.getItem('exchange.session'))"


class Trader:
    """One person's browser tab on the trading screen."""

    def __init__(self, context, base_url: str):
        self.page = context.new_page()
        self.base_url = base_url
        self.policy_violations = []
        self.page.on("console", self._console)

    def _console(self, message):
        if "Content Security Policy" in message.text:
            self.policy_violations.append(message.text)

    def open(self, path: str):
        self.page.goto(self.base_url + path)

    def balance(self, asset: str) -> str:
        return self.page.inner_text(f"#balances tr[data-asset={asset}] td.free")

    def wait_balance(self, asset: str, shown: str):
        self.page.wait_for_selector(
            f"#balances tr[data-asset={asset}] td.free:text-is('{shown}')"
        )

    def order(self, side: str, price: str | None, amount: str, type: str = "LIMIT"):
        form = self.page.locator("#order-form")
        form.locator(f"button[data-side={side}]").click()
        form.locator(f"button[data-type={type}]").click()
        if price is not None:
            form.locator("input[name=price]").fill(price)
        form.locator("input[name=quantity]").fill(amount)
        form.locator("#place-order").click()

    def message(self, pattern: str) -> str:
        selector = "#order-message"
        self.page.wait_for_function(
            "([s, p]) => new RegExp(p).test(document.querySelector(s).textContent)",
            arg=[selector, pattern],
        )
        return self.page.inner_text(selector)


def test_two_traders_cross_cancel_and_get_refused(browser, live_server, tmp_path):
    playwright, context = browser
    standard_symbols()
    seller = funded_user(BTC="1")
    carol = Trader(context, live_server.url)

    # Sign up: straight onto the trading screen, with nothing to trade yet.
    carol.open("/signup")
    carol.page.fill("#signup-form input[name=username]", "carol")
    carol.page.fill("#signup-form input[name=password]", PASSWORD)
    carol.page.click("#signup-form button[type=submit]")
    carol.page.wait_for_url(live_server.url + "/trade/BTCUSDT")
    carol.wait_balance("USDT", "0.00")
    assert carol.balance("BTC") == "0.00000000"
    assert carol.page.inner_text("#whoami") == "carol"

    # The operator's deposit shows up without a reload.
    call_command("deposit", "carol", "USDT", "1000")
    carol.wait_balance("USDT", "1,000.00")

    # The filters are applied before sending: nothing reaches the exchange.
    carol.order("BUY", "50000.001", "0.01")
    assert "Filter failure: PRICE_FILTER" in carol.message("PRICE_FILTER")
    assert not Order.objects.exists()

    # A limit order rests in the book and in the open orders.
    carol.order("BUY", "50000", "0.01")
    carol.message("new")
    order = Order.objects.get(user__username="carol")
    bid = "#book-bids tr[data-price='50000.00000000']"
    carol.page.wait_for_selector(bid)
    row = carol.page.locator(f"#open-orders tr[data-order-id='{order.order_id}']")
    row.wait_for()
    assert "50,000.00" in row.inner_text()
    carol.wait_balance("USDT", "500.00")  # 500 held for the order

    # A second person, in another browser, sells into it from the book.
    other = launch(playwright, tmp_path / "second-profile")
    dave = Trader(other, live_server.url)
    dave.open("/login?next=/trade/BTCUSDT")
    dave.page.fill("#login-form input[name=username]", seller.username)
    dave.page.fill("#login-form input[name=password]", PASSWORD)
    dave.page.click("#login-form button[type=submit]")
    dave.page.wait_for_url(live_server.url + "/trade/BTCUSDT")
    dave.page.click(bid)  # the book fills the price in
    assert dave.page.input_value("#order-form input[name=price]") == "50000"
    dave.order("SELL", None, "0.004")
    assert "filled" in dave.message("filled")

    # Both screens follow without a reload.
    row.locator("td.filled:text-is('0.00400')").wait_for()
    carol.wait_balance("BTC", "0.00399600")  # 0.004 less the 0.1% fee
    dave.wait_balance("BTC", "0.99600000")
    for trader in (carol, dave):
        trader.page.wait_for_selector("#recent-trades td:text-is('50,000.00')")
        trader.page.wait_for_selector("#ticker-last:text-is('50,000.00')")
    dave.page.wait_for_selector(f"{bid} td:text-is('0.00600')")

    # Cancel: gone from the open orders and from both books, funds released.
    row.locator("button.cancel").click()
    carol.page.wait_for_selector("#open-orders td.empty")
    carol.page.wait_for_selector(bid, state="detached")
    dave.page.wait_for_selector(bid, state="detached")
    carol.wait_balance("USDT", "800.00")
    assert Order.objects.get(pk=order.pk).status == "CANCELED"

    # The exchange's refusal, in its own words.
    dave.order("SELL", "60000", "5")
    shown = dave.message("insufficient")
    assert shown == "Account has insufficient balance for requested action."

    # History: the partly filled, then cancelled order and the trade.
    carol.page.click("button[data-tab=history]")
    carol.page.wait_for_selector(
        f"#order-history tr[data-order-id='{order.order_id}'] td:text-is('CANCELED')"
    )
    carol.page.click("button[data-tab=trades]")
    carol.page.wait_for_selector("#my-trades tr[data-trade-id]")
    assert re.search(
        r"Buy\s+50,000\.00\s+0\.00400", carol.page.inner_text("#my-trades")
    )

    assert carol.policy_violations == [] and dave.policy_violations == []
    other.close()


def test_account_page_keys_and_password(browser, live_server):
    _, context = browser
    standard_symbols()
    user = funded_user(USDT="10")
    me = Trader(context, live_server.url)
    me.open("/login?next=/account")
    me.page.fill("#login-form input[name=username]", user.username)
    me.page.fill("#login-form input[name=password]", PASSWORD)
    me.page.click("#login-form button[type=submit]")
    me.page.wait_for_url(live_server.url + "/account")

    # An access token the API no longer takes: refreshed once, the page carries on.
    stored = "JSON.parse(sessionStorage.getItem('exchange.session'))"
    before = me.page.evaluate(stored)
    me.page.evaluate(
        f"sessionStorage.setItem('exchange.session', JSON.stringify("
        f"{{...{stored}, access: 'no-longer-valid'}}))"
    )
    me.page.reload()
    me.page.wait_for_selector("table.keys td.empty")
    after = me.page.evaluate(stored)
    assert after["access"] not in (before["access"], "no-longer-valid")
    assert after["refresh"] != before["refresh"]  # rotated

    # A key: the secret shown once, the key listed, then revoked.
    me.page.fill("#key-form input[name=label]", "bot")
    me.page.check("#key-form input[name=trade]")
    me.page.click("#key-form button[type=submit]")
    api_key = me.page.inner_text("#new-api-key")
    assert len(me.page.inner_text("#new-secret-key")) >= 32
    listed = me.page.locator("table.keys tbody tr", has_text=api_key)
    listed.wait_for()
    assert "read, trade" in listed.inner_text()
    me.page.once("dialog", lambda dialog: dialog.accept())
    listed.locator("button").click()
    listed.wait_for(state="detached")
    assert not user.api_keys.filter(revoked_at=None).exists()

    # The password: changing it logs this tab out; the new one logs in.
    me.page.fill("#password-form input[name=old_password]", PASSWORD)
    me.page.fill("#password-form input[name=new_password]", NEW_PASSWORD)
    me.page.click("#password-form button[type=submit]")
    me.page.wait_for_url(re.compile(r".*/login\?changed=1$"))
    me.page.fill("#login-form input[name=username]", user.username)
    me.page.fill("#login-form input[name=password]", NEW_PASSWORD)
    me.page.click("#login-form button[type=submit]")
    me.page.wait_for_selector("#whoami")
    assert me.policy_violations == []


def test_login_asks_for_the_code_when_two_factor_is_on(browser, live_server):
    _, context = browser
    standard_symbols()
    user = funded_user(USDT="10")
    secret = twofactor_on(user)
    me = Trader(context, live_server.url)
    me.open("/login?next=/account")
    code = me.page.locator("#login-form input[name=otp]")
    assert code.is_hidden()
    me.page.fill("#login-form input[name=username]", user.username)
    me.page.fill("#login-form input[name=password]", PASSWORD)
    me.page.click("#login-form button[type=submit]")
    code.wait_for()  # the API asked for it
    assert "authenticator" in me.page.inner_text("#login-form .error")

    code.fill("000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    me.page.click("#login-form button[type=submit]")
    me.page.wait_for_selector("#login-form .error:text-is('Invalid two-factor code.')")
    code.fill(pyotp.TOTP(secret).now())
    me.page.click("#login-form button[type=submit]")
    me.page.wait_for_url(live_server.url + "/account")
    # New keys and a new password need a code too: the forms ask for it.
    me.page.wait_for_selector("#key-form input[name=otp]")
    me.page.wait_for_selector("#password-form input[name=otp]")
    assert me.policy_violations == []


def wrong_code(totp: pyotp.TOTP) -> str:
    now = time.time()
    good = {totp.at(now + step * totp.interval) for step in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in good)


def log_in(me: Trader, username: str, next_path: str):
    me.open(f"/login?next={next_path}")
    me.page.fill("#login-form input[name=username]", username)
    me.page.fill("#login-form input[name=password]", PASSWORD)
    me.page.click("#login-form button[type=submit]")


def test_two_factor_on_from_the_account_page_then_off(browser, live_server):
    _, context = browser
    standard_symbols()
    user = funded_user(USDT="10")
    me = Trader(context, live_server.url)
    log_in(me, user.username, "/account")
    me.page.wait_for_url(live_server.url + "/account")
    me.page.wait_for_selector("#twofactor[data-state=off]")
    assert "Off" in me.page.inner_text("#twofactor-status")
    assert me.page.locator("#key-form input[name=otp]").is_hidden()

    # Turn on: the secret in text and as a QR code the page's policy lets through.
    me.page.click("#twofactor-start")
    secret = me.page.inner_text("#twofactor-secret")
    assert f"secret={secret}" in me.page.inner_text("#twofactor-uri")
    me.page.wait_for_function(
        "() => document.querySelector('#twofactor-qr').complete"
        " && document.querySelector('#twofactor-qr').naturalWidth > 0"
    )
    totp = pyotp.TOTP(secret)

    # A wrong code is refused in the API's words, and costs one attempt: the
    # tokens are not refreshed for it and the request is not sent again.
    before = me.page.evaluate(SESSION)
    me.page.fill("#twofactor-confirm input[name=otp]", wrong_code(totp))
    me.page.click("#twofactor-confirm button[type=submit]")
    me.page.wait_for_selector("#twofactor-error:text-is('Invalid two-factor code.')")
    assert me.page.evaluate(SESSION)["refresh"] == before["refresh"]
    assert not twofactor_enabled(user_id=user.id)

    me.page.fill("#twofactor-confirm input[name=otp]", totp.now())
    me.page.click("#twofactor-confirm button[type=submit]")
    me.page.wait_for_selector("#recovery-codes")
    recovery = me.page.locator("#recovery-codes li").all_inner_texts()
    assert len(recovery) == 10 and all(
        re.fullmatch(r"\w{5}-\w{5}", c) for c in recovery
    )
    assert twofactor_enabled(user_id=user.id)
    me.page.wait_for_selector("#key-form input[name=otp]")  # the forms ask now
    me.page.click("#recovery-codes-saved")
    me.page.wait_for_selector("#twofactor[data-state=on]")
    assert me.page.locator("#recovery-codes").count() == 0  # shown once

    # Log out; logging in again needs the code.
    me.page.click("#logout")
    me.page.wait_for_selector("#session a[href='/login']")
    log_in(me, user.username, "/account")
    code = me.page.locator("#login-form input[name=otp]")
    code.wait_for()
    # The next step's code (one step of skew is allowed): the current one may be
    # the one just used, and a code is taken once.
    code.fill(totp.at(time.time() + totp.interval))
    me.page.click("#login-form button[type=submit]")
    me.page.wait_for_url(live_server.url + "/account")
    me.page.wait_for_selector("#twofactor[data-state=on]")
    me.page.wait_for_selector("#password-form input[name=otp]")

    # Turn off, here with one of the recovery codes.
    me.page.fill("#twofactor-manage input[name=otp]", wrong_code(totp))
    me.page.click("#twofactor-disable")
    me.page.wait_for_selector("#twofactor-error:text-is('Invalid two-factor code.')")
    assert twofactor_enabled(user_id=user.id)
    me.page.fill("#twofactor-manage input[name=otp]", recovery[0])
    me.page.click("#twofactor-disable")
    me.page.wait_for_selector("#twofactor[data-state=off]")
    assert not twofactor_enabled(user_id=user.id)
    assert me.page.locator("#key-form input[name=otp]").is_hidden()
    assert me.policy_violations == []
