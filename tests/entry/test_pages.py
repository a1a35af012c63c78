"""The HTML pages: sign-in forms, the one-page app, errors, in English and Chinese, under a strict CSP."""
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from config import BASE_DIR

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}
CATALOGUE = BASE_DIR / "translations/zh_Hans/LC_MESSAGES/messages.po"
ROOM_ID = "0b7e3c8e-4f7a-4c55-9d0a-2d7c1f7f9a11"


@pytest.fixture(scope="module", autouse=True)
def compiled_catalogue():
    """`make translations` builds the .mo; build it here too when it is missing or stale."""
    mo = CATALOGUE.with_suffix(".mo")
    if not mo.exists() or mo.stat().st_mtime < CATALOGUE.stat().st_mtime:
        with open(CATALOGUE, "rb") as po_file:
            catalog = read_po(po_file)
        partial = mo.with_suffix(f".mo.{os.getpid()}")  # parallel workers never see half a file
        with open(partial, "wb") as mo_file:
            write_mo(mo_file, catalog, use_fuzzy=True)
        os.replace(partial, mo)


class _Page(HTMLParser):
    """What the CSP cares about in a page: scripts, style attributes and blocks, event handlers."""

    def __init__(self, html):
        super().__init__()
        self.scripts, self.problems, self.app, self._in_script, self.json_blocks = [], [], None, None, {}
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in attrs:
            if name == "style" or name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>")
        if tag == "style":
            self.problems.append("<style> block")
        if tag == "script":
            self.scripts.append(attrs)
            self._in_script = attrs
        if attrs.get("id") == "app":
            self.app = attrs

    def handle_data(self, data):
        script = self._in_script
        if script is not None and data.strip():
            if script.get("type") != "application/json":
                self.problems.append("inline script code")
            else:
                self.json_blocks[script.get("id")] = json.loads(data)

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None


def _page(response):
    assert response.status_code == 200, response.status_code
    page = _Page(response.get_data(as_text=True))
    assert page.problems == [], "the page would break the CSP"
    return page


def test_login_page_is_english_by_default_and_has_a_csrf_token(client):
    response = client.get("/login")
    html = response.get_data(as_text=True)
    _page(response)
    assert '<html lang="en">' in html
    assert "Sign in" in html and "Username" in html
    assert re.search(r'name="csrf_token" type="hidden" value="[^"]+"', html)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_login_page_speaks_chinese_to_a_chinese_browser(client):
    html = client.get("/login", headers=ZH).get_data(as_text=True)
    assert '<html lang="zh-Hans">' in html
    assert "登录" in html and "用户名" in html and "密码" in html
    assert "Sign in" not in html


def test_register_page_renders_in_both_languages(client):
    assert "Create account" in client.get("/register").get_data(as_text=True)
    assert "创建账号" in client.get("/register", headers=ZH).get_data(as_text=True)


def test_lobby_requires_login(client):
    for path in ("/", f"/rooms/{ROOM_ID}"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")


def test_signing_in_through_the_form_leads_to_the_lobby(client, auth, make_user):
    make_user("alice")
    response = auth.login("alice")
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_a_wrong_password_is_said_in_the_browser_language(client, auth, make_user):
    make_user("alice")
    html = client.post("/login", data={"username": "alice", "password": "nope-nope-nope",
                                       "csrf_token": auth.csrf_token()}).get_data(as_text=True)
    assert "Wrong username or password." in html and 'data-testid="flash-error"' in html
    html = client.post("/login", headers=ZH, data={"username": "alice", "password": "nope-nope-nope",
                                                   "csrf_token": auth.csrf_token()}).get_data(as_text=True)
    assert "用户名或密码错误。" in html


def test_register_shows_field_errors(client, auth):
    refused = auth.register("a!", password="short")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert 'data-testid="error-username"' in html and 'data-testid="error-password"' in html


def test_lobby_gives_the_scripts_what_they_need(client, auth, make_user):
    user_id = make_user("alice", "Alice Liddell")
    auth.login("alice")
    page = _page(client.get("/"))
    assert all(script.get("src") or script.get("type") == "application/json" for script in page.scripts)
    assert any(script.get("type") == "module" and script["src"].endswith("/js/app.js") for script in page.scripts)
    me = json.loads(page.app["data-me"])
    assert me["id"] == user_id and me["display_name"] == "Alice Liddell"
    assert page.app["data-view"] == "lobby" and page.app["data-room-id"] == ""
    assert page.app["data-rooms-api"] == "/api/rooms"
    assert page.app["data-room-url"] == "/rooms/ROOM_ID"
    strings = page.json_blocks["i18n"]
    assert strings["online"] == "online" and strings["last_seen"] == "last seen {when}"


def test_lobby_strings_for_scripts_are_translated(client, auth, make_user):
    make_user("alice")
    auth.login("alice")
    response = client.get("/", headers=ZH)
    html = response.get_data(as_text=True)
    assert "寻找心动连线" in html
    strings = _page(response).json_blocks["i18n"]
    assert strings["online"] == "在线" and strings["last_seen"] == "最后上线：{when}"


def test_a_room_opens_the_same_page_on_that_room(client, auth, make_user):
    make_user("alice")
    auth.login("alice")
    page = _page(client.get(f"/rooms/{ROOM_ID}"))
    assert page.app["data-view"] == "room" and page.app["data-room-id"] == ROOM_ID


def test_a_missing_page_gets_the_error_page_in_the_browser_language(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "This page does not exist." in response.get_data(as_text=True)
    assert "这个页面不存在。" in client.get("/no-such-page", headers=ZH).get_data(as_text=True)


def test_the_socket_io_client_is_served_from_node_modules(client):
    response = client.get("/vendor/socket.io.esm.min.js")
    assert response.status_code == 200
    assert "javascript" in response.headers["Content-Type"]
    assert client.get("/vendor/../package.json").status_code == 404


def test_the_chinese_catalogue_is_complete():
    with open(CATALOGUE, "rb") as po_file:
        catalog = read_po(po_file)
    untranslated = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
    assert untranslated == []
    for message in catalog:
        if message.id:
            placeholders = sorted(re.findall(r"\{\w+\}|%\(\w+\)s", message.id))
            assert sorted(re.findall(r"\{\w+\}|%\(\w+\)s", message.string)) == placeholders, message.id


def test_scripts_never_turn_data_into_markup():
    for path in Path(BASE_DIR / "static/js").rglob("*.js"):
        source = path.read_text()
        assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", source), path
