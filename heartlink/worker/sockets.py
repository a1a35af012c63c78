"""Closing this worker's sockets: for good (sign-out), or so that their clients come back by
themselves (the queue returned, a socket stalled, a handshake never finished, the worker stops).
"""
import logging

from ..extensions import socketio
from . import borrowed

log = logging.getLogger(__name__)


def disconnect_sockets(sids):
    """Close sockets for good, wherever they are (sign-out, a password change): the
    Socket.IO DISCONNECT packet tells every client not to reconnect ("io server
    disconnect"). The server forwards the request to the worker that holds each one
    when a message queue is configured."""
    for sid in sids:
        socketio.server.disconnect(sid, namespace="/")


def close_here(sid):
    """Close one socket of this worker for good, as disconnect_sockets does, without the message
    queue (a restriction found while the queue is away must still close it)."""
    socketio.server.disconnect(sid, namespace="/", ignore_queue=True)


def close_for_reconnect(eio_sids):
    """Close connections of this worker so that their clients come back by themselves:
    the queue returned, a socket stalled, a handshake never finished, the worker stops.
    Returns how many were open.

    Every official client reconnects after losing its transport, but python-socketio's
    Client and AsyncClient take an Engine.IO CLOSE packet as final, and every client
    takes a Socket.IO DISCONNECT so. So nothing is said: the connection just ends. A
    websocket's writer closes it under the client ("transport close"); a long-polling
    session ends, its held poll answers empty and the next poll gets 400 ("transport
    error"). Nothing here waits on the client: what is already queued still goes out if
    the client reads it, and the session is forgotten either way (closes meant to be
    final go through disconnect_sockets)."""
    open_sockets = borrowed.engineio_sockets(socketio.server)
    closed = 0
    for eio_sid in eio_sids:
        eio_socket = open_sockets.get(eio_sid)
        if eio_socket is None or borrowed.socket_closing(eio_socket):
            continue
        closed += 1
        try:
            borrowed.close_for_reconnect(socketio.server, eio_socket)
        except Exception:  # noqa: BLE001 - one socket that fails to close must not keep the others open
            log.exception("closing socket %s failed", eio_sid)
    return closed


# A queue this short is not weighed: nearly every socket has one, and weighing walks it.
_WEIGHED_FROM = 8


def close_stalled_sockets(max_queued, max_queued_size):
    """Close this worker's sockets that stopped reading (their unsent packets pile up
    without bound otherwise); their clients reconnect and catch up when they read
    again. A queue is too long past `max_queued` packets or `max_queued_size`
    characters: 500 catch-up answers of 256 Ki characters each would be 128 MB.
    Returns how many were closed."""
    stalled = {}
    for eio_sid, eio_socket in list(borrowed.engineio_sockets(socketio.server).items()):
        queued = borrowed.queued_packets(eio_socket)
        if borrowed.socket_closed(eio_socket) or queued < _WEIGHED_FROM:
            continue
        size = borrowed.queued_characters(eio_socket)
        if queued > max_queued or size > max_queued_size:
            stalled[eio_sid] = (queued, size)
    for eio_sid, (queued, size) in stalled.items():
        log.warning("closing socket %s: %d packets (%d characters) unread", eio_sid, queued, size)
    return close_for_reconnect(stalled)
