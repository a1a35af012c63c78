"""The browser and matching controls: two people who share an interest see it; `next` from the chat
reaches a new partner; the gradual reveal comes after both have sent their tenth message, and until
then the page never loaded the partner's sharp picture (every request the pages made is recorded)."""
import re

import pytest
import requests
from playwright.sync_api import expect

import media_samples as samples
from browser_plugin import ROOM_URL, bubble, server_log_on_failure, sign_in, type_and_send
from support import browser_session, fresh_names


def _with_picture(server, username, display_name):
    server.make_user(username, display_name)
    http, csrf = browser_session(server, username)
    uploaded = http.post(server.url + "/api/me/avatar", headers={"X-CSRFToken": csrf},
                         files={"file": ("me.png", samples.png((96, 96)), "image/png")}, timeout=10)
    assert uploaded.status_code == 200, uploaded.text
    return uploaded.json()["user"]


def _look_for(page, interests):
    page.get_by_test_id("match-interests").fill(interests)
    page.get_by_test_id("find-link").click()


def _recording(watched):
    seen = []
    watched.page.on("request", lambda request: seen.append(request.url))
    return seen


def test_a_shared_interest_is_shown_and_the_reveal_comes_after_ten_messages_each(serve, open_page):
    server = serve(HEARTLINK_REVEAL_AFTER="10")
    me, partner = fresh_names("rv")
    alice = _with_picture(server, me, "Alice Liddell")
    bob = _with_picture(server, partner, "Bob Builder")
    tabs = [open_page(), open_page()]
    requested = [_recording(tab) for tab in tabs]
    with server_log_on_failure(server):
        pages = [sign_in(tab, server, name) for tab, name in zip(tabs, (me, partner), strict=True)]
        _look_for(pages[0], "Hiking, jazz")
        expect(pages[0].get_by_test_id("looking-for")).to_contain_text("hiking, jazz")
        _look_for(pages[1], "chess, hiking")
        for page in pages:
            expect(page).to_have_url(re.compile(re.escape(server.url) + ROOM_URL))
            expect(page.get_by_test_id("chat")).to_have_attribute("data-chat-status", "ready")
            expect(page.get_by_test_id("shared-interests")).to_have_text("You both like hiking")
            expect(page.get_by_test_id("reveal-progress")).to_have_text("10 more messages each to see each other")
        expect(pages[0].get_by_test_id("partner-name")).to_have_text("BB")
        expect(pages[1].get_by_test_id("partner-name")).to_have_text("AL")
        expect(pages[0].locator('[data-testid="partner-avatar"] img')).to_have_attribute(
            "src", re.compile(rf"/api/users/{bob['id']}/avatar/veiled\?"))

        for n in range(1, 11):
            for sender, page in enumerate(pages):
                type_and_send(page, f"message {n} of {sender}")
                expect(bubble(page, f"message {n} of {sender}")).to_have_attribute("data-state", "sent")
            if n == 9:
                expect(pages[0].get_by_test_id("reveal-progress")).to_have_text(
                    "1 more message each to see each other")
                expect(pages[0].get_by_test_id("partner-name")).to_have_text("BB")

        for page, other in zip(pages, (bob, alice), strict=True):
            expect(page.get_by_test_id("partner-name")).to_have_text(other["display_name"])
            expect(page.get_by_test_id("reveal-progress")).to_be_hidden()
            expect(page.locator('[data-testid="partner-avatar"] img')).to_have_attribute("src", other["avatar_url"])
        # Before the reveal no page asked for the other's sharp picture; after it, each did.
        for seen, other in zip(requested, (bob, alice), strict=True):
            sharp = [n for n, url in enumerate(seen) if url.endswith(other["avatar_url"])]
            veiled = [n for n, url in enumerate(seen) if f"/api/users/{other['id']}/avatar/veiled" in url]
            assert veiled and sharp and max(veiled) < min(sharp), (veiled, sharp)
            assert not any(f"/api/users/{other['id']}/avatar?" in url for url in seen[:min(sharp)])
        for tab in tabs:
            tab.assert_clean()


@pytest.mark.parametrize("how", ["button", "keyboard"])
def test_next_from_the_chat_reaches_a_new_partner(serve, open_page, how):
    server = serve()
    me, first = fresh_names("nx")
    second = fresh_names("ny")[0]
    server.make_user(me, "Alice Liddell")
    server.make_user(first, "Bob Builder")
    server.make_user(second, "Carol Singer")
    with server_log_on_failure(server):
        page = sign_in(open_page(), server, me)
        bob = server.connect(first)
        assert bob.ask("match:start", {"interests": ["tea"]})["state"] == "waiting"
        _look_for(page, "tea")
        old_room = bob.wait_for("match:found")["room"]["id"]
        expect(page).to_have_url(re.compile(rf"/rooms/{old_room}$"))
        expect(page.get_by_test_id("chat")).to_have_attribute("data-chat-status", "ready")
        carol = server.connect(second)
        assert carol.ask("match:start", {"interests": ["tea"]})["state"] == "waiting"

        if how == "button":
            page.get_by_test_id("next-link").click()
        else:
            page.get_by_test_id("composer-input").focus()
            page.keyboard.press("Alt+KeyN")
        new_room = carol.wait_for("match:found")["room"]
        assert new_room["id"] != old_room and new_room["shared_interests"] == ["tea"]
        ended = bob.wait_for("room:ended")
        assert (ended["room_id"], ended["reason"]) == (old_room, "next")
        expect(page).to_have_url(re.compile(rf"/rooms/{new_room['id']}$"))
        expect(page.get_by_test_id("partner-name")).to_have_text("Carol Singer")
        expect(page.get_by_test_id("shared-interests")).to_have_text("You both like tea")
        for client in (bob, carol):
            client.disconnect()


def test_the_partners_sharp_picture_is_refused_before_the_reveal(serve):
    server = serve(HEARTLINK_REVEAL_AFTER="10")
    me, partner = fresh_names("pic")
    alice = _with_picture(server, me, "Alice Liddell")
    server.make_user(partner, "Bob Builder")
    a, b = server.connect(me), server.connect(partner)
    assert a.ask("match:start")["state"] == "waiting"
    room = b.ask("match:start")["room"]
    shown = next(member for member in room["members"] if member["id"] == alice["id"])
    assert shown["avatar_url"] != alice["avatar_url"] and "/veiled" in shown["avatar_url"]
    http, _csrf = browser_session(server, partner)
    assert http.get(server.url + alice["avatar_url"], timeout=10).status_code == 404
    assert http.get(server.url + shown["avatar_url"], timeout=10).status_code == 200
    assert requests.get(server.url + shown["avatar_url"], timeout=10).status_code in (401, 404)
    for client in (a, b):
        client.disconnect()
