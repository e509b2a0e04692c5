"""The back office in a real browser: Debian's Chromium, driven by Playwright,
against a live server. scripts/install-browser.sh installs the browser; no test tool
downloads one of its own."""

import time

import pyotp
import pytest

from tests.factories import (
    PASSWORD,
    UserFactory,
    funded_user,
    standard_symbols,
    twofactor_on,
)
from tests.trading.conftest import place
from trading.models import Order, Symbol

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class BackOffice:
    """The admin pages as a staff member uses them."""

    def __init__(self, page, base_url: str):
        self.page = page
        self.base_url = base_url

    def open(self, path: str):
        self.page.goto(self.base_url + path)

    def log_in(self, username: str, password: str, otp: str = ""):
        self.open("/admin/login/?next=/admin/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        self.page.fill("#id_otp", otp)
        self.page.click("input[type=submit]")
        self.page.wait_for_url(self.base_url + "/admin/")

    def run_action(self, changelist: str, action: str, *pks) -> str:
        """Tick rows, choose an action, press Go; returns the messages shown."""
        self.open(changelist)
        for pk in pks:
            self.page.check(f"input[name=_selected_action][value='{pk}']")
        self.page.select_option("select[name=action]", action)
        self.page.click("button[name=index]")
        return self.page.inner_text("ul.messagelist")

    def overview_cell(self, symbol: str, column: str) -> str:
        return self.page.inner_text(f"#overview-{symbol} td.{column}")


def test_halt_refuse_cancel_resume_and_cancel_from_the_orders_page(
    browser, live_server, tmp_path
):
    playwright, context = browser
    standard_symbols()
    ops = UserFactory(username="ops", is_staff=True, is_superuser=True)
    secret = twofactor_on(ops)
    trader = funded_user(USDT="100000")
    to_cancel_by_api = place(trader, "BUY", "0.01", "50000").order
    to_cancel_in_admin = place(trader, "BUY", "0.01", "49000").order
    office = BackOffice(context.new_page(), live_server.url)
    api = playwright.request.new_context(base_url=live_server.url)

    office.log_in("ops", PASSWORD, pyotp.TOTP(secret).now())
    office.page.click("text=Market overview")
    assert office.overview_cell("BTCUSDT", "status") == "TRADING"
    assert office.overview_cell("BTCUSDT", "best-bid") == "50000"
    assert office.overview_cell("BTCUSDT", "open-orders") == "2"

    shown = office.run_action("/admin/trading/symbol/", "halt_trading", "BTCUSDT")
    assert "BTCUSDT: status HALT." in shown
    assert Symbol.objects.get(symbol="BTCUSDT").status == "HALT"
    office.open("/admin/trading/symbol/overview/")
    assert office.overview_cell("BTCUSDT", "status") == "HALT"

    login = api.post(
        "/api/v1/auth/login",
        data={"username": trader.username, "password": PASSWORD},
    )
    assert login.status == 200, login.text()
    auth = {"Authorization": f"Bearer {login.json()['access']}"}
    order = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.01",
        "price": "50000",
    }
    refused = api.post("/api/v3/order", form=order, headers=auth)
    assert refused.status == 400, refused.text()
    assert refused.json() == {"code": -2010, "msg": "Market is closed."}
    cancelled = api.delete(
        f"/api/v3/order?symbol=BTCUSDT&orderId={to_cancel_by_api.order_id}",
        headers=auth,
    )
    assert cancelled.status == 200, cancelled.text()
    assert cancelled.json()["status"] == "CANCELED"

    shown = office.run_action("/admin/trading/symbol/", "resume_trading", "BTCUSDT")
    assert "BTCUSDT: status TRADING." in shown
    accepted = api.post("/api/v3/order", form=order, headers=auth)
    assert accepted.status == 200, accepted.text()
    assert accepted.json()["status"] == "NEW"

    shown = office.run_action(
        "/admin/trading/order/", "cancel_orders", to_cancel_in_admin.pk
    )
    assert f"Cancelled 1 order(s): {to_cancel_in_admin}" in shown
    assert Order.objects.get(pk=to_cancel_in_admin.pk).status == "CANCELED"
    office.page.screenshot(path=str(tmp_path / "orders.png"), full_page=True)
    api.dispose()


def test_staff_enrol_two_factor_and_log_in_with_it(browser, live_server):
    """The operator's first visit: password, then the QR code and the secret,
    a code from the authenticator, the recovery codes once, the back office;
    then a new session logs in with the password and a current code, and is
    refused without one."""
    playwright, context = browser
    standard_symbols()
    UserFactory(username="ops2", is_staff=True, is_superuser=True)
    office = BackOffice(context.new_page(), live_server.url)
    page = office.page

    office.open("/admin/login/?next=/admin/")
    page.fill("#id_username", "ops2")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(live_server.url + "/admin/2fa/enrol/")
    qr = page.locator("#twofactor-qr img")
    assert qr.get_attribute("src").startswith("data:image/svg+xml;base64,")
    assert qr.evaluate("img => img.naturalWidth") > 0  # the browser drew it
    secret = page.inner_text("#twofactor-secret").strip()
    totp = pyotp.TOTP(secret)
    # Nothing else opens before enrolment is done.
    office.open("/admin/trading/order/")
    assert "/admin/login/" in page.url
    office.open("/admin/2fa/enrol/")
    assert page.inner_text("#twofactor-secret").strip() == secret

    page.fill("#id_otp", totp.at(time.time() - totp.interval))
    page.click("#twofactor-form input[type=submit]")
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    page.click("#continue")
    page.wait_for_url(live_server.url + "/admin/")
    assert "Back office" in page.content()

    # A new session: the persistent profile's cookies go.
    context.clear_cookies()
    other = BackOffice(context.new_page(), live_server.url)
    other.open("/admin/login/?next=/admin/")
    other.page.fill("#id_username", "ops2")
    other.page.fill("#id_password", PASSWORD)
    other.page.click("input[type=submit]")
    assert "two-factor code is required" in other.page.content()
    other.log_in("ops2", PASSWORD, totp.now())
    assert "Back office" in other.page.content()
