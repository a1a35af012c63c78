"""Process tuning for a serving worker, each piece justified by a profile (docs/performance.md)."""
import gc


def _unmask(data, mask, length=None, offset=0):
    """XOR a websocket payload with its 4-byte mask as one big integer, in C, instead of
    eventlet's byte-at-a-time Python loop over every frame a browser sends."""
    if length is None:
        length = len(data)
    if length == 0:
        return b""
    key = bytes(mask[(offset + i) % 4] for i in range(4)) * (length // 4 + 1)
    payload = int.from_bytes(bytes(data[:length]), "big") ^ int.from_bytes(key[:length], "big")
    return payload.to_bytes(length, "big")


def fast_websocket_unmask():
    import eventlet.websocket

    eventlet.websocket.RFC6455WebSocket._apply_mask = staticmethod(_unmask)


def no_websocket_compression():
    """Chat packets are a few hundred bytes: deflating each costs more CPU than the bytes
    it saves, and every compressing connection holds zlib state of a few hundred KB.
    (socket.io's own Node server leaves permessage-deflate off by default too.)"""
    import eventlet.websocket

    eventlet.websocket.WebSocketWSGI._negotiate_permessage_deflate = lambda self, extensions: None


def settle_garbage_collector():
    """Everything loaded at start-up lives for the whole process: move it out of the
    collector's sight, and collect the young generation less often (each message makes
    a few dozen short-lived objects; a full scan of a large heap per burst is waste)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def tune(async_mode):
    if async_mode == "eventlet":
        fast_websocket_unmask()
        no_websocket_compression()
    settle_garbage_collector()
