"""A canary for what Heart Link borrows from inside its libraries (heartlink/worker/borrowed.py).

Each test checks that one library's internals still have the shape Heart Link uses (the attribute,
the method's parameters, the environ key, the queue's type, that the library still calls the method
Heart Link overrides), without a server. A failure names the upgrade that changed it and the code
that relies on it: fix borrowed.py (or the subclass named) before shipping that upgrade.
"""
import collections
import inspect
import io

import engineio
import flask
import flask_socketio
import flask_wtf.csrf
import pytest
import redis
import socketio
import werkzeug.wrappers
from engineio import packet

from heartlink.worker import borrowed, tuning

_EVENTLET_DEPRECATED = pytest.mark.filterwarnings(r"ignore:\s*Eventlet is deprecated")


def _changed(library, what, used_in):
    return f"an upgrade of {library} changed {what}, which Heart Link relies on in {used_in}"


def _parameters(function):
    return list(inspect.signature(function).parameters)


def _calls(function, name):
    """Whether a library function's own source still calls (or hands on) `self.<name>`."""
    return f"self.{name}" in inspect.getsource(function)


# --- python-socketio and python-engineio -------------------------------------------------------

def test_a_socketio_server_keeps_its_engineio_server_handlers_and_options():
    sio = socketio.Server(async_mode="threading", max_http_buffer_size=1234)
    assert isinstance(sio.eio, engineio.Server), _changed("python-socketio", "Server.eio", "borrowed.engineio_server")
    assert isinstance(sio.eio.sockets, dict), _changed("python-engineio", "Server.sockets (eio sid -> socket)",
                                                       "borrowed.engineio_sockets")
    assert all(callable(borrowed.engineio_handler(sio, event)) for event in ("message", "disconnect")), \
        _changed("python-engineio", "Server.handlers['message'/'disconnect']", "inbound.install")
    assert isinstance(sio.environ, dict), _changed("python-socketio", "Server.environ (eio sid -> environ)",
                                                   "borrowed.handshake_environ")
    assert borrowed.socket_payload_limit(sio) == 1234, \
        _changed("python-engineio", "Server.max_http_buffer_size", "borrowed.socket_payload_limit")
    assert sio.eio.async_mode == "threading", _changed("python-engineio", "Server.async_mode",
                                                       "inbound.install, offload, server.Worker.serve")
    assert sio.eio.reason.SERVER_DISCONNECT, _changed("python-engineio", "Server.reason.SERVER_DISCONNECT",
                                                      "borrowed.close_for_reconnect")


def test_an_engineio_socket_has_a_queue_that_can_be_weighed_and_closes_without_a_close_packet():
    sio = socketio.Server(async_mode="threading")
    eio_socket = engineio.socket.Socket(sio.eio, "canary")
    eio_socket.send(packet.Packet(packet.MESSAGE, "hello"))
    assert isinstance(eio_socket.queue.queue, collections.deque), \
        _changed("python-engineio", "Socket.queue (a queue over a deque)", "borrowed.queued_characters")
    assert borrowed.queued_packets(eio_socket) == 1, _changed("python-engineio", "Socket.queue.qsize()",
                                                              "borrowed.queued_packets")
    assert borrowed.queued_characters(eio_socket) == len("hello"), \
        _changed("python-engineio", "Packet.data of a queued packet", "borrowed.queued_characters")
    assert not borrowed.socket_closed(eio_socket) and not borrowed.socket_closing(eio_socket), \
        _changed("python-engineio", "Socket.closed and Socket.closing", "borrowed.socket_closed, socket_closing")
    assert {"wait", "abort", "reason"} <= set(_parameters(eio_socket.close)), \
        _changed("python-engineio", "Socket.close(wait, abort, reason)", "borrowed.close_for_reconnect")

    borrowed.close_for_reconnect(sio, eio_socket)

    assert borrowed.socket_closed(eio_socket), _changed("python-engineio", "Socket.close", "close_for_reconnect")
    waiting = list(eio_socket.queue.queue)
    assert waiting[-1] is None and all(item is None or item.packet_type != packet.CLOSE for item in waiting), \
        _changed("python-engineio", "Socket.close(abort=True), which no longer leaves out the CLOSE packet",
                 "sockets.close_for_reconnect (python-socketio's clients would not reconnect)")


@_EVENTLET_DEPRECATED
@pytest.mark.parametrize("async_mode", ["threading", "eventlet", "gevent"])
def test_engineio_queues_of_every_async_mode_keep_their_packets_in_a_deque(async_mode):
    queue = engineio.Server(async_mode=async_mode).create_queue()
    assert callable(queue.qsize) and isinstance(queue.queue, collections.deque), \
        _changed(f"python-engineio or {async_mode}", "the queue type's qsize() and .queue deque",
                 "borrowed.queued_packets and queued_characters")


def test_each_event_runs_through_one_method_in_a_request_context_on_the_sockets_own_environ():
    app = flask.Flask("canary")
    app.secret_key = "canary"
    server = flask_socketio.SocketIO(app, async_mode="threading")
    seen = []
    handled = []

    @server.on("probe")
    def probe():
        seen.append(flask.request.environ)
        return "ok"

    def counting(handle):
        def counted(*args):
            handled.append(args)
            return handle(*args)
        return counted

    assert _parameters(server.server._handle_event_internal) == ["server", "sid", "eio_sid", "data", "namespace",
                                                                  "id"], \
        _changed("python-socketio", "Server._handle_event_internal", "server.Worker (counting running handlers)")
    borrowed.wrap_event_handling(server.server, counting)
    client = server.test_client(app)
    answers = [client.emit("probe", callback=True), client.emit("probe", callback=True)]

    assert answers == ["ok", "ok"] and len(handled) == 2, \
        _changed("python-socketio", "Server._handle_event_internal, no longer what runs each event and acks",
                 "server.Worker (a graceful stop would not wait for running handlers)")
    assert seen[0] is seen[1] is borrowed.handshake_environ(server.server, client.eio_sid), \
        _changed("Flask-SocketIO or python-socketio", "one handshake environ per socket, kept in Server.environ",
                 "socket_context.App and inbound (a connection's address)")
    assert borrowed.SOCKET_SESSION_KEY in seen[0], \
        _changed("Flask-SocketIO", f"environ[{borrowed.SOCKET_SESSION_KEY!r}], a socket's own session",
                 "socket_sessions.SessionInterface (every event would decode the cookie again)")
    assert _parameters(socketio.Manager.sid_from_eio_sid) == ["self", "eio_sid", "namespace"], \
        _changed("python-socketio", "Manager.sid_from_eio_sid", "borrowed.has_socketio_connection")
    assert borrowed.has_socketio_connection(server.server, client.eio_sid), \
        _changed("python-socketio", "Manager.sid_from_eio_sid", "guard.HandshakeReaper")
    client.disconnect()


def test_engineio_applies_its_origin_rule_through_one_method():
    assert _parameters(engineio.Server._cors_allowed_origins) == ["self", "environ"], \
        _changed("python-engineio", "Server._cors_allowed_origins(environ)", "borrowed.foreign_origin")
    environ = {"wsgi.url_scheme": "https", "HTTP_HOST": "chat.example"}
    same_origin = socketio.Server(async_mode="threading")  # HEARTLINK_ALLOWED_ORIGINS empty
    listed = socketio.Server(async_mode="threading", cors_allowed_origins=["https://app.example"])
    anyone = socketio.Server(async_mode="threading", cors_allowed_origins="*")
    message = _changed("python-engineio", "Server._cors_allowed_origins", "server (a gevent upgrade's origin check)")
    assert not borrowed.foreign_origin(same_origin, {**environ, "HTTP_ORIGIN": "https://chat.example"}), message
    assert borrowed.foreign_origin(same_origin, {**environ, "HTTP_ORIGIN": "https://evil.example"}), message
    assert not borrowed.foreign_origin(listed, {**environ, "HTTP_ORIGIN": "https://app.example"}), message
    assert borrowed.foreign_origin(listed, {**environ, "HTTP_ORIGIN": "https://chat.example"}), message
    assert not borrowed.foreign_origin(anyone, {**environ, "HTTP_ORIGIN": "https://evil.example"}), message


def test_the_message_queue_hands_each_emit_to_handle_emit_with_its_event_data_and_skip_sid():
    handed = []

    class Canary(socketio.PubSubManager):
        def _handle_emit(self, message):
            handed.append(message)

        def _publish(self, data):
            pass

    assert _parameters(socketio.PubSubManager._handle_emit) == ["self", "message"], \
        _changed("python-socketio", "PubSubManager._handle_emit(message)", "live/ordering.OrderedRedisManager")
    Canary().emit("message:new", {"message": {"seq": 1}}, namespace="/", room="r", skip_sid="s")
    assert len(handed) == 1 and handed[0]["event"] == "message:new" and handed[0]["skip_sid"] == "s" \
        and handed[0]["data"] == [{"message": {"seq": 1}}], \
        _changed("python-socketio", "the message PubSubManager hands to _handle_emit",
                 "live/ordering.OrderedRedisManager (messages would skip the seq order)")


def test_the_redis_manager_keeps_its_subscription_where_the_queue_watch_looks():
    manager = socketio.RedisManager("redis://localhost:1/0")
    assert manager.pubsub is None, _changed("python-socketio", "RedisManager.pubsub", "borrowed.queue_subscription")
    manager._redis_connect()  # builds the client and its subscription; connects to nothing yet
    subscription = borrowed.queue_subscription(manager)
    assert isinstance(subscription, redis.client.PubSub), \
        _changed("python-socketio", "RedisManager.pubsub", "server.Worker._watch_queue")
    assert isinstance(inspect.getattr_static(redis.client.PubSub, "subscribed"), property), \
        _changed("redis", "PubSub.subscribed", "borrowed.subscribed")
    assert _calls(socketio.RedisManager._redis_listen_with_retries, "_redis_connect()"), \
        _changed("python-socketio", "the listener's reconnect (a new pubsub each time)", "server.Worker._resubscribed")
    subscription.close()


# --- Flask, werkzeug and Flask-WTF ---------------------------------------------------------------

def test_flasks_request_context_matches_with_the_arguments_a_sockets_adapter_keeps():
    calls = []

    class Recording(flask.Flask):
        def create_url_adapter(self, request):
            adapter = super().create_url_adapter(request)
            if request is None:
                return adapter
            match = adapter.match

            def recorded(*args, **kwargs):
                calls.append((args, kwargs))
                return match(*args, **kwargs)

            adapter.match = recorded
            return adapter

    app = Recording("canary")
    app.add_url_rule("/socket.io/", "socketio", lambda: "")
    with app.test_request_context("/socket.io/"):
        pass
    assert calls == [((), borrowed.URL_MATCH_ARGUMENTS)], \
        _changed("Flask", "how a request context matches its URL (adapter.match(return_rule=True))",
                 "socket_context.App (every socket event would match its URL again)")


def test_werkzeug_still_parses_a_form_through_the_methods_bodies_overrides():
    request_class = flask.Request  # what bodies.Request subclasses; werkzeug's Request underneath
    where = "worker/bodies.Request (uploads would be read on the event loop)"
    assert _parameters(request_class._load_form_data) == ["self"], \
        _changed("werkzeug", "Request._load_form_data()", where)
    assert _parameters(request_class._get_stream_for_parsing) == ["self"], \
        _changed("werkzeug", "Request._get_stream_for_parsing()", where)
    assert _parameters(request_class._get_file_stream) == ["self", "total_content_length", "content_type",
                                                           "filename", "content_length"], \
        _changed("werkzeug", "Request._get_file_stream(...)", where)
    assert _calls(werkzeug.wrappers.Request._load_form_data, "_get_stream_for_parsing()"), \
        _changed("werkzeug", "Request._load_form_data, no longer reading through _get_stream_for_parsing", where)
    assert _calls(request_class.make_form_data_parser, "_get_file_stream"), \
        _changed("werkzeug", "Request.make_form_data_parser, no longer spooling through _get_file_stream", where)

    request = request_class.from_values(data={"name": "x"})
    assert not borrowed.form_parsed(request)
    assert request.form["name"] == "x" and borrowed.form_parsed(request), \
        _changed("werkzeug", "Request.form, no longer cached in the request's __dict__", "borrowed.form_parsed")


def test_flask_wtf_reads_the_token_through_the_method_extensions_overrides():
    assert _parameters(flask_wtf.csrf.CSRFProtect._get_csrf_token) == ["self"], \
        _changed("Flask-WTF", "CSRFProtect._get_csrf_token()", "extensions._HeaderFirstCSRF")
    assert _calls(flask_wtf.csrf.CSRFProtect.protect, "_get_csrf_token()"), \
        _changed("Flask-WTF", "CSRFProtect.protect, no longer asking _get_csrf_token",
                 "extensions._HeaderFirstCSRF (an upload's whole body would be parsed before the sign-in check)")


# --- eventlet and gevent-websocket ---------------------------------------------------------------

@_EVENTLET_DEPRECATED
def test_eventlets_websocket_has_the_methods_tuning_and_the_message_cap_replace():
    from eventlet import websocket, wsgi

    frames = websocket.RFC6455WebSocket
    assert isinstance(inspect.getattr_static(frames, "_apply_mask"), staticmethod) \
        and _parameters(frames._apply_mask) == ["data", "mask", "length", "offset"], \
        _changed("eventlet", "RFC6455WebSocket._apply_mask(data, mask, length, offset)", "tuning.fast_websocket_unmask")
    assert tuning._unmask(b"\x01\x02\x03\x04\x05", b"\x0f\x0f\x0f\x0f") == b"\x0e\x0d\x0c\x0b\x0a"
    assert _parameters(websocket.WebSocketWSGI._negotiate_permessage_deflate) == ["self", "extensions"] \
        and _calls(websocket.WebSocketWSGI._handle_hybi_request, "_negotiate_permessage_deflate("), \
        _changed("eventlet", "WebSocketWSGI._negotiate_permessage_deflate", "tuning.no_websocket_compression")
    assert _parameters(frames.Message.push) == ["self", "data", "final"] \
        and frames.Message(1, 10).max_frame_length == 10 \
        and _calls(frames._recv_frame, "Message("), \
        _changed("eventlet", "RFC6455WebSocket.Message", "borrowed.cap_eventlet_messages (unbounded messages)")
    assert issubclass(websocket.FailedConnectionError, Exception) \
        and websocket.FailedConnectionError(1009, "too long").status == 1009, \
        _changed("eventlet", "FailedConnectionError(status, message)", "borrowed.cap_eventlet_messages")
    assert _parameters(wsgi.HttpProtocol.__init__) == ["self", "conn_state", "server"] \
        and "protocol" in _parameters(wsgi.server), \
        _changed("eventlet", "wsgi.HttpProtocol(conn_state, server)", "server._eventlet_protocol (connections per "
                 "address, the request head's deadline)")


def test_gevent_websocket_reads_every_frame_through_raw_read_of_the_class_the_handler_builds():
    from geventwebsocket import handler, websocket

    assert issubclass(handler.WebSocket, websocket.WebSocket) \
        and _calls(handler.WebSocketHandler.upgrade_connection, "websocket = WebSocket("), \
        _changed("gevent-websocket", "handler.WebSocket, the class the handler builds",
                 "borrowed.cap_gevent_messages (unbounded messages)")
    stream = io.BytesIO()
    assert _parameters(websocket.WebSocket.__init__) == ["self", "environ", "stream", "handler"] \
        and websocket.WebSocket({}, stream, None).raw_read == stream.read \
        and _calls(websocket.WebSocket.read_frame, "raw_read(") \
        and _parameters(websocket.WebSocket.read_message) == ["self"], \
        _changed("gevent-websocket", "WebSocket(environ, stream, handler).raw_read and read_message()",
                 "borrowed.cap_gevent_messages")
    assert issubclass(websocket.WebSocketError, Exception), \
        _changed("gevent-websocket", "WebSocketError", "borrowed.cap_gevent_messages")
    assert _parameters(handler.WebSocketHandler.upgrade_websocket) == ["self"] \
        and _calls(handler.WebSocketHandler.run_application, "upgrade_websocket()") \
        and _parameters(handler.WebSocketHandler.read_request) == ["self", "raw_requestline"], \
        _changed("gevent-websocket", "WebSocketHandler.upgrade_websocket()", "server._gevent_handler (a foreign "
                 "origin would get a websocket closed without a word)")
