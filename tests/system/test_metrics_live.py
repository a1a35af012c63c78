"""A real worker's /metrics moves as the product is used: sends, sockets, pairings."""
import requests
from prometheus_client.parser import text_string_to_metric_families

from support import eventually


def _scrape(server):
    answer = requests.get(server.url + "/metrics", timeout=10)
    assert answer.status_code == 200
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(answer.text) for sample in family.samples}


def test_a_send_through_a_real_server_moves_the_counter_and_the_histogram(live_server, linked):
    alice, bob, room_id = linked(live_server)
    before = _scrape(live_server)
    assert before[("heartlink_sockets_open", ())] == 2
    assert before[("heartlink_matches_total", (("kind", "random"),))] >= 1
    for text in ("one", "two", "three"):
        assert alice.send_text(room_id, text)["ok"]
    bob.wait_for("message:new", lambda data: data["message"]["text"] == "three")
    after = _scrape(live_server)
    assert after[("heartlink_messages_stored_total", ())] - before[("heartlink_messages_stored_total", ())] == 3
    assert after[("heartlink_message_ack_seconds_count", ())] - before[("heartlink_message_ack_seconds_count", ())] == 3
    assert after[("heartlink_message_ack_seconds_sum", ())] > before[("heartlink_message_ack_seconds_sum", ())]
    ok_sends = ("heartlink_event_acks_total", (("code", "ok"), ("event", "message:send")))
    assert after[ok_sends] - before.get(ok_sends, 0) == 3
    bob.disconnect()
    alice.disconnect()
    eventually(lambda: _scrape(live_server)[("heartlink_sockets_open", ())] == 0, timeout=20,
               what="both sockets counted closed")
