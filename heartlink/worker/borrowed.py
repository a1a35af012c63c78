"""What Heart Link borrows from inside its libraries, in one place.

python-socketio, python-engineio, Flask-SocketIO, Flask, werkzeug, Flask-WTF, eventlet and
gevent-websocket have no public way to do a few things Heart Link needs (count running handlers,
close a session without waiting on its client, weigh what a socket has not read, refuse a foreign
origin before a websocket upgrade ...). Every read of their private state, and every patch of their
classes, goes through a name defined here, which says why it is needed and what public API would
replace it. tests/worker/test_borrowed.py checks each one still has the shape used, so an upgrade that
changes one fails that test, not production.

Where Heart Link subclasses a library class and overrides a private method, the subclass stays beside
the rule it serves (an upload body, a request head, the order of a room's messages) and is only
listed here; the canary checks the method it overrides and that the library still calls it. Patches
that are nothing but a library's internals (eventlet's websocket, gevent-websocket's reader) live here.

Borrowed here (used in):
  python-socketio
    Server.eio, the Engine.IO server underneath      sockets, guard, inbound, server, offload, live/writer
    Server._handle_event_internal                     server (Worker counts running handlers)
    Server.environ (eio sid -> handshake environ)     inbound (the address of a connection)
    Server.manager.sid_from_eio_sid                   guard (HandshakeReaper)
    RedisManager.pubsub, redis PubSub.subscribed      server (the queue watch)
  python-engineio
    Server.sockets                                    sockets, guard, server
    Server.handlers                                   inbound (the packet budget wraps two)
    Server.max_http_buffer_size                       inbound (the websocket message cap)
    Server._cors_allowed_origins                      server (gevent's upgrade refuses a foreign origin)
    Socket.queue (and its deque), .closed, .closing   sockets, server (the graceful stop), guard
    Socket.close(wait=False, abort=True)              sockets.close_for_reconnect
  Flask-SocketIO
    environ["saved_session"]                          socket_sessions
  Flask
    RequestContext matches with match(return_rule=True)   socket_context (App, a socket's URL adapter)
  werkzeug
    Request "form" cached in the instance's __dict__  bodies
  eventlet
    RFC6455WebSocket._apply_mask                      tuning (vectorised unmasking)
    WebSocketWSGI._negotiate_permessage_deflate       tuning (no compression)
    RFC6455WebSocket.Message.push, .max_frame_length  inbound (the websocket message cap, below)
  gevent-websocket
    handler.WebSocket, WebSocket.raw_read             inbound (the websocket message cap, below)

Overridden where they are used (private or undocumented methods of library classes):
  werkzeug Request._load_form_data, ._get_stream_for_parsing, ._get_file_stream   worker/bodies.py
  Flask-WTF CSRFProtect._get_csrf_token                                           extensions.py
  python-socketio PubSubManager._handle_emit (and its message's keys)             live/ordering.py
  eventlet wsgi.HttpProtocol.__init__(conn_state, server)                         worker/server.py
  gevent-websocket WebSocketHandler.upgrade_websocket                             worker/server.py
"""

# --- python-socketio and python-engineio ----------------------------------------------------


def engineio_server(sio):
    """The Engine.IO server under a python-socketio server: its sessions, queues and async mode.
    Public replacement: none; python-socketio keeps it as the attribute `eio`."""
    return sio.eio


def engineio_sockets(sio):
    """This worker's Engine.IO sessions, eio sid -> socket (live: copy before iterating). Needed to
    close them (a stop, the queue back, a stall) and to weigh their queues. Replacement: a public
    listing of sessions in python-engineio."""
    return sio.eio.sockets


def socket_closed(eio_socket):
    """Whether an Engine.IO session has been closed. Replacement: a public session state."""
    return eio_socket.closed


def socket_closing(eio_socket):
    """Whether an Engine.IO session is closed or on its way there. Replacement: as socket_closed."""
    return eio_socket.closed or eio_socket.closing


def queued_packets(eio_socket):
    """Packets waiting in a session's outgoing queue: a socket that stopped reading piles them up.
    Replacement: a public queue length, or a bound on it, in python-engineio."""
    return eio_socket.queue.qsize()


def queued_characters(eio_socket):
    """Characters of the packets waiting in a session's queue (a snapshot; it may move on), read from
    the queue's own deque. Replacement: as queued_packets."""
    return sum(len(packet.data) for packet in list(eio_socket.queue.queue)
               if isinstance(packet.data, (str, bytes)))


def close_for_reconnect(sio, eio_socket):
    """Ends a session at once: no CLOSE packet (python-socketio's clients take one as final) and no
    wait for the client to drain its queue (one that never polls again would hold the caller for
    good). Replacement: none; the public Server.disconnect(sid) sends CLOSE and waits."""
    eio_socket.close(wait=False, abort=True, reason=sio.eio.reason.SERVER_DISCONNECT)


def has_socketio_connection(sio, eio_sid):
    """Whether an Engine.IO session carries a Socket.IO connection to the default namespace yet.
    Replacement: none; the manager's other lookups take a Socket.IO sid."""
    return sio.manager.sid_from_eio_sid(eio_sid, "/") is not None


def handshake_environ(sio, eio_sid):
    """The WSGI environ a session's handshake came with ({} once it is gone). Replacement:
    Server.get_environ, which takes a Socket.IO sid; the packet handlers have only the eio sid."""
    return sio.environ.get(eio_sid, {})


def engineio_handler(sio, event):
    """The handler python-socketio gave Engine.IO for 'message' or 'disconnect', to be wrapped (as
    python-socketio's own admin instrumentation does). Replacement: a public middleware hook."""
    return sio.eio.handlers[event]


def socket_payload_limit(sio):
    """The largest packet Engine.IO accepts (max_http_buffer_size), which also caps a websocket
    message. Replacement: a public read of the server's options."""
    return int(sio.eio.max_http_buffer_size)


def wrap_event_handling(sio, wrap):
    """Replaces the method that runs one event's handler and sends its ack with wrap(method): the
    graceful stop counts the handlers running. Replacement: a hook around each event's handler."""
    sio._handle_event_internal = wrap(sio._handle_event_internal)


def foreign_origin(sio, environ):
    """Whether a request's Origin is one Engine.IO refuses, by Engine.IO's own rule (the same origin,
    or HEARTLINK_ALLOWED_ORIGINS), not a copy of it. Replacement: a public origin check."""
    origin = environ.get("HTTP_ORIGIN")
    eio = sio.eio
    if not origin or eio.cors_allowed_origins == []:
        return False
    allowed = eio._cors_allowed_origins(environ)
    return allowed is not None and origin not in allowed


def queue_subscription(manager):
    """The Redis manager's subscription (None for a manager without one); python-socketio makes a new
    one when its listener reconnects. Replacement: a public "listening" state on the manager."""
    return getattr(manager, "pubsub", None)


def subscribed(subscription):
    """Whether a redis-py PubSub holds its channel subscription (taken as so if it does not say)."""
    return bool(getattr(subscription, "subscribed", True))


# --- Flask-SocketIO, Flask and werkzeug ----------------------------------------------------------

# Where Flask-SocketIO keeps a socket's own session, in the socket's handshake environ.
# Replacement: a public "this request context is a socket event" flag at session opening.
SOCKET_SESSION_KEY = "saved_session"

# The arguments Flask's request context passes when it matches a request's URL (the match a socket's
# URL adapter keeps). Replacement: a public hook for the match, or a cache of it, in Flask.
URL_MATCH_ARGUMENTS = {"return_rule": True}


def form_parsed(request):
    """Whether werkzeug has parsed a request's form already: `form` is a cached property, kept in the
    request's __dict__. Replacement: none in werkzeug's API."""
    return "form" in request.__dict__


# --- eventlet and gevent-websocket ---------------------------------------------------------------


def replace_eventlet_unmask(unmask):
    """Puts `unmask(data, mask, length=None, offset=0)` in place of eventlet's byte-at-a-time Python
    loop over every frame a browser sends. Replacement: none (eventlet has no C speedup for it)."""
    import eventlet.websocket

    eventlet.websocket.RFC6455WebSocket._apply_mask = staticmethod(unmask)


def refuse_eventlet_compression():
    """eventlet's websocket never agrees to permessage-deflate. Replacement: an option of
    WebSocketWSGI, which Engine.IO builds without passing any."""
    import eventlet.websocket

    eventlet.websocket.WebSocketWSGI._negotiate_permessage_deflate = lambda self, extensions: None


def cap_eventlet_messages():
    """eventlet is given the payload limit as max_frame_length (by Engine.IO) and checks each frame
    against it; a whole message is held to it too, and fails with 1009 as a frame too long does.
    Replacement: a message-length limit in eventlet's websocket."""
    from eventlet import websocket

    message_class = websocket.RFC6455WebSocket.Message
    if getattr(message_class, "capped", False):
        return

    class CappedMessage(message_class):
        capped = True

        def push(self, data, final=False):
            self.size = getattr(self, "size", 0) + len(data)
            if self.size > self.max_frame_length:
                raise websocket.FailedConnectionError(
                    1009, f"Incoming message is above the length limit of {self.max_frame_length} bytes.")
            super().push(data, final)

    websocket.RFC6455WebSocket.Message = CappedMessage


def cap_gevent_messages(limit):
    """gevent-websocket reads whatever length a frame announces. Every payload is read through
    raw_read(length), so counting there stops a frame before its bytes are read; the count starts
    again with each message. Past the limit the read fails and the socket is closed.
    Replacement: a message-length limit in gevent-websocket."""
    from geventwebsocket import handler, websocket

    if getattr(handler.WebSocket, "capped", False):
        return

    class CappedWebSocket(websocket.WebSocket):
        capped = True

        def __init__(self, environ, stream, handler_):
            super().__init__(environ, stream, handler_)
            self.message_size = 0
            read = self.raw_read

            def counted_read(length):
                self.message_size += length
                if self.message_size > limit:
                    raise websocket.WebSocketError(f"incoming message is above the length limit of {limit} bytes")
                return read(length)

            self.raw_read = counted_read

        def read_message(self):
            self.message_size = 0
            return super().read_message()

    handler.WebSocket = CappedWebSocket

