"""The web app's shell and assets as the server hands them out: one HTML page for
every route, a strict Content-Security-Policy, nothing from another origin, hashed
static names that module imports follow, and Swagger UI without a CDN."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.files.storage import FileSystemStorage
from django.test import Client

from exchange.staticfiles import HashedStaticFilesStorage
from tests.factories import admin_login

WEB_SRC = Path(settings.BASE_DIR) / "web" / "src"
ROUTES = ["/", "/trade/BTCUSDT", "/trade/ethbtc", "/login", "/signup", "/account"]


class Tags(HTMLParser):
    """Every tag with its attributes, and the code inside <script> and <style>."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.inline: dict[str, list[str]] = {"script": [], "style": []}
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in and data.strip():
            self.inline[self._in].append(data)


def parsed(response) -> Tags:
    tags = Tags()
    tags.feed(response.content.decode())
    return tags


def local_asset(url: str) -> str:
    assert url.startswith(settings.STATIC_URL) or url.startswith(
        "/" + settings.STATIC_URL
    ), url
    return url.split(settings.STATIC_URL, 1)[1]


@pytest.mark.parametrize("path", ROUTES)
def test_every_route_is_the_shell_under_a_strict_policy(path):
    response = Client().get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert response["Cache-Control"] == "no-cache"
    policy = dict(
        part.strip().split(" ", 1)
        for part in response["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]

    tags = parsed(response)
    assert tags.inline == {"script": [], "style": []}
    assert not any("style" in attrs for _, attrs in tags.tags)
    assert not any(k.startswith("on") for _, attrs in tags.tags for k in attrs)
    assets = [
        attrs.get("src") or attrs.get("href")
        for tag, attrs in tags.tags
        if tag in ("script", "link")
    ]
    for url in assets:
        assert finders.find(local_asset(url)), url
    # Every module is fetched up front, not one import level after another.
    preloaded = {
        local_asset(attrs["href"])
        for tag, attrs in tags.tags
        if tag == "link" and attrs.get("rel") == "modulepreload"
    }
    modules = {
        "web/" + p.relative_to(WEB_SRC).as_posix()
        for p in WEB_SRC.rglob("*.js")
        if "vendor" not in p.parts and p.name != "app.js"
    }
    assert preloaded == modules


def test_unknown_pages_are_not_the_shell():
    assert Client().get("/trade/").status_code == 404
    assert Client().get("/nothing-here").status_code == 404
    assert Client().post("/").status_code == 405


def test_the_admins_view_site_link_reaches_the_app(client, admin_user):
    page = admin_login(client, admin_user).get("/admin/").content.decode()
    link = re.search(r'<a href="([^"]*)">View site</a>', page)
    assert link and link.group(1) == "/"
    assert Client().get(link.group(1)).status_code == 200


def test_swagger_ui_loads_from_our_own_static_files():
    page = Client().get("/api/docs/")
    assert page.status_code == 200
    tags = parsed(page)
    # Its few lines of page style are inline; every script is a file.
    assert tags.inline["script"] == []
    urls = [
        attrs.get("src") or attrs.get("href")
        for tag, attrs in tags.tags
        if tag in ("script", "link")
    ]
    assert len(urls) >= 3
    for url in urls:
        assert "://" not in url and not url.startswith("//"), url
        if settings.STATIC_URL in url:
            assert finders.find(local_asset(url)), url
    init = [u for u in urls if settings.STATIC_URL not in u]
    assert init, "the page's own setup script is a separate request"
    assert Client().get(init[0]).status_code == 200


def test_hashed_names_reach_every_module_import(tmp_path):
    """Released assets are cached for a year, so a module must import its
    neighbours by their hashed names: a changed module then renames every module
    that depends on it."""
    source = FileSystemStorage(location=WEB_SRC)
    storage = HashedStaticFilesStorage(location=tmp_path, base_url="/static/")
    paths = {}
    for file in WEB_SRC.rglob("*"):
        if file.is_file() and file.suffix in (".js", ".css", ".svg"):
            name = file.relative_to(WEB_SRC).as_posix()
            with file.open("rb") as handle:
                storage.save(name, handle)
            paths[name] = (source, name)
    processed = list(storage.post_process(paths))
    assert not [error for *_, error in processed if isinstance(error, Exception)]

    app = Path(storage.path(storage.stored_name("app.js")))
    assert re.fullmatch(r"app\.[0-9a-f]{12}\.js", app.name)
    seen = 0
    for module in (tmp_path).rglob("*.js"):
        if not re.search(r"\.[0-9a-f]{12}\.js$", module.name):
            continue
        for target in re.findall(r'from "(\.[^"]+)"', module.read_text()):
            seen += 1
            assert re.search(r"\.[0-9a-f]{12}\.js$", target), (module.name, target)
            assert (module.parent / target).resolve().exists(), (module.name, target)
    assert seen >= 20
