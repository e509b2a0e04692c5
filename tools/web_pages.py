"""The web app on a served exchange: screenshots and first-load figures.

    .venv/bin/python -m tools.web_pages screenshots   # docs/screenshots/*.png
    .venv/bin/python -m tools.web_pages perf [--mode run|prod] [--runs 7]

Each run serves a throwaway exchange on the embedded default (SQLite in a temporary
folder, local-memory cache): `run` is `make run`'s command (DEBUG on, one uvicorn
process through scripts/serve-streams.sh: REST, static files and the streams);
`prod` is the image's gunicorn with DEBUG off and the collected, hashed,
compressed static files (REST only, so the page polls). The demo data is
seed_demo's plus a day of trades between alice and bob, placed through the order
service with a clock set back, so that the chart has candles. Chromium is
Debian's (scripts/install-browser.sh), driven by Playwright.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "docs" / "screenshots"
VIEWPORTS = {
    "desktop": {"width": 1440, "height": 900},
    "phone": {"width": 390, "height": 844},
}
# The trading screen is usable once the page has its symbol (data-ready), the
# book has at least one ask level drawn, the chart has its canvas and the order
# form has its button (or, signed out, its "Log in" link).
USABLE = """() => document.body.dataset.ready
    && document.querySelector('#book-asks tr.level')
    && document.querySelector('#chart canvas')
    && document.querySelector('#place-order, .form-panel a')"""


def environment(workdir: Path, mode: str) -> dict:
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update(SQLITE_PATH=str(workdir / "web.sqlite3"), LOG_LEVEL="WARNING")
    if mode == "run":
        env["DEBUG"] = "1"
        return env
    env.update(
        DEBUG="0",
        SECURE_SSL_REDIRECT="0",
        ALLOWED_HOSTS="127.0.0.1",
        SECRET_KEY=secrets.token_urlsafe(40),
        API_KEY_ENCRYPTION_KEY=base64.urlsafe_b64encode(os.urandom(32)).decode(),
    )
    return env


def manage(env: dict, *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)  # noqa: S603


def demo_history(hours: int = 24, step_minutes: int = 4) -> None:
    """Trades between alice and bob over the last hours: a random walk around each
    demo mid price, placed through the order service with its clock set back."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "exchange.settings")
    django.setup()
    from django.core.management import call_command

    from accounts.models import User
    from trading.backoffice.demo import DEMO_MIDS, SYMBOLS
    from trading.orders import persist
    from trading.orders import services as orders
    from trading.orders.types import OrderRequest

    rng = random.Random(2026)
    alice = User.objects.get(username="alice")
    bob = User.objects.get(username="bob")
    specs = {s["symbol"]: s for s in SYMBOLS}
    now = int(time.time() * 1000)
    start = now - hours * 3_600_000
    steps = hours * 60 // step_minutes
    # seed_demo's resting orders would take part; the book is laid again below.
    call_command("cancel_orders", "--all", stdout=open(os.devnull, "w"))  # noqa: SIM115

    def place(user, side, price, qty, tif="GTC"):
        orders.order_place(
            user_id=user.id,
            request=OrderRequest(
                symbol=symbol,
                side=side,
                type="LIMIT",
                quantity=qty,
                price=price,
                time_in_force=tif,
            ),
        )

    for symbol, mid in DEMO_MIDS.items():
        tick = specs[symbol]["tick_size"]
        step = specs[symbol]["step_size"]
        # A random walk bent to end at the demo mid price (a Brownian bridge),
        # starting a little lower so that the day shows a change.
        walk = [0.0]
        for _ in range(steps - 1):
            walk.append(walk[-1] + rng.gauss(0, 0.0025))
        for i in range(steps):
            clock = start + i * step_minutes * 60_000 + rng.randrange(60_000)
            persist.now_ms = orders.now_ms = lambda clock=clock: clock
            share = i / (steps - 1)
            offset = walk[i] - walk[-1] * share - 0.015 * (1 - share)
            price = (mid * Decimal(1 + offset)).quantize(tick)
            qty = (Decimal(rng.randint(5, 60)) * step * 10).quantize(step)
            maker, taker = (alice, bob) if rng.random() < 0.5 else (bob, alice)
            side = "SELL" if rng.random() < 0.5 else "BUY"
            place(maker, side, price, qty)
            place(taker, flip(side), price, qty, tif="IOC")
        persist.now_ms = orders.now_ms = lambda: int(time.time() * 1000)
        spacing = max(tick, (mid * Decimal("0.0002")).quantize(tick))
        for level in range(1, 11):
            qty = (Decimal(rng.randint(2, 40)) * step * 10).quantize(step)
            place(alice, "BUY", mid - spacing * level, qty)
            qty = (Decimal(rng.randint(2, 40)) * step * 10).quantize(step)
            place(bob, "SELL", mid + spacing * level, qty)


def flip(side: str) -> str:
    return "BUY" if side == "SELL" else "SELL"


@contextmanager
def served(mode: str, port: int):
    with tempfile.TemporaryDirectory() as tmp:
        env = environment(Path(tmp), mode)
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "seed_demo")
        history = [PYTHON, "-m", "tools.web_pages", "_history"]
        subprocess.run(history, cwd=ROOT, env=env, check=True)  # noqa: S603
        if mode == "prod":
            manage(env, "collectstatic", "--noinput", "-v0")
            command = [
                str(ROOT / ".venv" / "bin" / "gunicorn"),
                "--config",
                "gunicorn.conf.py",
                "exchange.wsgi:application",
            ]
            env["PORT"] = str(port)
        else:
            # make run's last line: scripts/serve-streams.sh execs uvicorn.
            command = ["bash", "scripts/serve-streams.sh"]
            env.update(BIND_HOST="127.0.0.1", STREAMS_PORT=str(port))
        server = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(base + "/healthz", timeout=1)  # noqa: S310
                    break
                except OSError:
                    time.sleep(0.2)
            yield base
        finally:
            server.terminate()
            server.wait(timeout=20)


def log_in(page, base: str, next_path: str) -> None:
    page.goto(f"{base}/login?next={next_path}")
    page.fill("#login-form input[name=username]", "alice")
    page.fill("#login-form input[name=password]", "demo-pass-2026")
    page.click("#login-form button[type=submit]")
    page.wait_for_url(base + next_path)


def screenshots(base: str) -> None:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox"]
        )
        for name, viewport in VIEWPORTS.items():
            for scheme in ("light", "dark"):
                if scheme == "dark" and name == "phone":
                    continue
                context = browser.new_context(viewport=viewport, color_scheme=scheme)
                page = context.new_page()
                suffix = "" if scheme == "light" else "-dark"
                page.goto(base + "/")
                page.wait_for_selector("#market-BTCUSDT td.last:not(:empty)")
                page.wait_for_timeout(500)
                if scheme == "light":
                    page.screenshot(path=SHOTS / f"landing-{name}.png")
                log_in(page, base, "/trade/BTCUSDT")
                page.click("button[data-interval='15m']")
                page.wait_for_function(USABLE)
                page.wait_for_selector("#recent-trades tr[data-trade-id]")
                page.fill("#order-form input[name=price]", "59500")
                page.fill("#order-form input[name=quantity]", "0.05")
                page.wait_for_timeout(1500)
                page.screenshot(
                    path=SHOTS / f"trade-{name}{suffix}.png", full_page=True
                )
                if scheme == "light":
                    account(page, base, SHOTS / f"account-{name}.png")
                context.close()
        browser.close()


def account(page, base: str, path: Path) -> None:
    """The account page halfway through turning two-factor on: the QR code and
    the secret shown, the code asked for."""
    page.click("#whoami")
    page.wait_for_url(base + "/account")
    page.wait_for_selector("table.keys tbody tr")
    page.click("#twofactor-start")
    page.wait_for_function(
        "() => document.querySelector('#twofactor-qr')?.naturalWidth > 0"
    )
    # The code field takes the focus and scrolls the page; show it from the top.
    page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
    page.wait_for_timeout(300)
    page.screenshot(path=path, full_page=True)


def first_loads(base: str, runs: int, waterfall: bool = False) -> list[dict]:
    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox"]
        )
        for _ in range(runs):
            context = browser.new_context(viewport=VIEWPORTS["desktop"])
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
            sizes: dict[str, int] = {}
            kinds: dict[str, str] = {}
            cdp.on(
                "Network.responseReceived",
                lambda e, kinds=kinds: kinds.__setitem__(e["requestId"], e["type"]),
            )
            cdp.on(
                "Network.loadingFinished",
                lambda e, sizes=sizes: sizes.__setitem__(
                    e["requestId"], int(e["encodedDataLength"])
                ),
            )
            finished = []
            page.on("requestfinished", lambda r, finished=finished: finished.append(r))
            load = os.getloadavg()[0]
            page.goto(base + "/trade/BTCUSDT", wait_until="commit")
            page.wait_for_function(USABLE, polling="raf")
            usable_ms = page.evaluate("performance.now()")
            feed = page.evaluate("document.getElementById('feed-mode').dataset.mode")
            transferred_at_usable = sum(sizes.values())
            requests_at_usable = len(sizes)
            by_kind: dict[str, int] = {}
            for request_id, size in sizes.items():
                kind = kinds.get(request_id, "Other")
                by_kind[kind] = by_kind.get(kind, 0) + size
            page.wait_for_load_state("networkidle")
            origin = page.evaluate("performance.timeOrigin")
            timing = page.evaluate(
                "JSON.stringify(performance.getEntriesByType('navigation')[0])"
            )
            nav = json.loads(timing)
            results.append(
                {
                    "usable_ms": round(usable_ms),
                    "dom_content_loaded_ms": round(nav["domContentLoadedEventEnd"]),
                    "load_ms": round(nav["loadEventEnd"]),
                    "bytes_at_usable": transferred_at_usable,
                    "requests_at_usable": requests_at_usable,
                    "bytes_at_usable_by_type": by_kind,
                    "bytes_at_network_idle": sum(sizes.values()),
                    "feed_at_usable": feed,
                    "load_average_1m": round(load, 2),
                }
            )
            if waterfall:
                for request in finished:
                    t = request.timing
                    start = t["startTime"] - origin
                    end = start + t["responseEnd"]
                    path = request.url.removeprefix(base)
                    print(f"{start:7.0f} {end:7.0f}  {path[:90]}")
                print(f"{usable_ms:7.0f}          usable")
            context.close()
        browser.close()
    return results


def machine() -> dict:
    """What the figures were measured on: the CPU as lscpu names it, the speed of
    a bare Python loop on it (ns per empty for-iteration, best of 5), and the
    load average, which on a shared machine moves the figures more than anything."""
    model = "unknown"
    try:
        lscpu = subprocess.run(  # noqa: S603
            ["lscpu"],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for line in lscpu.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
                break
    except (OSError, subprocess.CalledProcessError):
        pass
    n = 3_000_000
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter_ns()
        for _ in range(n):
            pass
        best = min(best, (time.perf_counter_ns() - start) / n)
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "loop_ns_per_iteration": round(best, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    if sys.argv[1:] == ["_history"]:
        demo_history()
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["screenshots", "perf", "serve"])
    parser.add_argument("--mode", choices=["run", "prod"], default="run")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--port", type=int, default=8121)
    parser.add_argument("--base", help="measure this running server instead")
    parser.add_argument(
        "--waterfall", action="store_true", help="print each request's times"
    )
    args = parser.parse_args()
    if args.base:
        before = machine()
        report(args, first_loads(args.base, args.runs, args.waterfall), before)
        return
    with served(args.mode, args.port) as base:
        if args.what == "serve":
            print(f"serving {base}; Ctrl-C or SIGTERM stops", flush=True)
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                return
        if args.what == "screenshots":
            screenshots(base)
            print(f"screenshots in {SHOTS.relative_to(ROOT)}")
            return
        before = machine()
        results = first_loads(base, args.runs, args.waterfall)
    report(args, results, before)


def report(args, results: list[dict], before: dict) -> None:
    for row in results:
        print(json.dumps(row))
    after = os.getloadavg()
    print(json.dumps({**before, "load_average_after": [round(x, 2) for x in after]}))
    usable = [r["usable_ms"] for r in results]
    sizes = [r["bytes_at_usable"] for r in results]
    idle = [r["bytes_at_network_idle"] for r in results]
    requests = [r["requests_at_usable"] for r in results]
    print(
        f"mode={args.mode} runs={len(results)} usable median "
        f"{statistics.median(usable):.0f} ms ({min(usable)}-{max(usable)}); "
        f"transferred until usable {min(sizes) / 1000:.1f}-{max(sizes) / 1000:.1f} KB "
        f"in {min(requests)}-{max(requests)} requests, until network idle "
        f"{min(idle) / 1000:.1f}-{max(idle) / 1000:.1f} KB; "
        f"load average {before['load_average'][0]} -> {after[0]:.2f}"
    )


if __name__ == "__main__":
    main()
