"""GET /metrics: this worker's Prometheus metrics, for allowed addresses or the bearer token only."""
from prometheus_client.parser import text_string_to_metric_families

from heartlink.worker import metrics

from support import AuthActions, config_for


def _samples(text):
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def test_metrics_are_served_to_loopback_in_the_prometheus_format(client):
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.content_type.startswith("text/plain")
    names = {family.name for family in text_string_to_metric_families(answer.get_data(as_text=True))}
    assert {"heartlink_sockets_open", "heartlink_messages_stored", "heartlink_message_ack_seconds",
            "heartlink_event_acks", "heartlink_matches", "heartlink_match_wait_seconds", "heartlink_reports",
            "heartlink_restrictions", "heartlink_queue_outages", "heartlink_database_unavailable"} <= names


def test_another_address_without_the_token_gets_a_404(client):
    answer = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert answer.status_code == 404
    assert b"heartlink_" not in answer.data


def test_the_token_opens_it_from_anywhere_and_a_wrong_one_does_not(db_path, tmp_path):
    from heartlink import create_app

    app = create_app(config_for(db_path, UPLOAD_DIR=str(tmp_path / "u"), METRICS_TOKEN="scrape-secret",
                                METRICS_ALLOW=["10.0.0.0/8"]))
    client = app.test_client()
    elsewhere = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=elsewhere).status_code == 404
    assert client.get("/metrics", environ_base=elsewhere,
                      headers={"Authorization": "Bearer wrong"}).status_code == 404
    assert client.get("/metrics", environ_base=elsewhere,
                      headers={"Authorization": "Bearer scrape-secret"}).status_code == 200
    # An address of the allowed network needs no token; loopback is no longer allowed.
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
    assert client.get("/metrics").status_code == 404


def test_events_the_server_does_not_know_share_one_label(linked_sockets):
    alice, _bob, _room_id = linked_sockets
    before = _samples(metrics.exposition().decode())
    for name in ("made-up-1", "made-up-2", "made-up-3"):
        alice.emit(name, {}, callback=True)
    after = _samples(metrics.exposition().decode())
    key = ("heartlink_event_acks_total", (("code", "bad_request"), ("event", "unknown")))
    assert after[key] - before.get(key, 0) == 3
    assert not any("made-up" in str(labels) for _name, labels in after)


def test_reports_and_restrictions_are_counted_by_state_and_standing(linked_http, runner):
    room_id, clients, _ids = linked_http
    before = _samples(metrics.exposition().decode())
    token = AuthActions(clients["alice"]).csrf_token("/")
    filed = clients["alice"].post("/api/reports", json={"room_id": room_id, "reason": "insults"},
                                  headers={"X-CSRFToken": token})
    assert filed.status_code == 201
    assert runner.invoke(args=["users", "ban", "bob", "--reason", "spam"]).exit_code == 0
    after = _samples(metrics.exposition().decode())

    def moved(name, labels):
        key = (name, labels)
        return after.get(key, 0) - before.get(key, 0)

    assert moved("heartlink_reports_total", (("state", "open"),)) == 1
    assert moved("heartlink_restrictions_total", (("standing", "banned"),)) == 1
