"""Process tuning for a serving worker, each piece justified by a profile (docs/performance.md)."""
import ctypes
import gc

from . import borrowed

_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter (malloc.h)


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
    borrowed.replace_eventlet_unmask(_unmask)


def no_websocket_compression():
    """Chat packets are a few hundred bytes: deflating each costs more CPU than the bytes
    it saves, and every compressing connection holds zlib state of a few hundred KB.
    (socket.io's own Node server leaves permessage-deflate off by default too.)"""
    borrowed.refuse_eventlet_compression()


def settle_garbage_collector():
    """Everything loaded at start-up lives for the whole process: move it out of the
    collector's sight, and collect the young generation less often (each message makes
    a few dozen short-lived objects; a full scan of a large heap per burst is waste)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def give_large_blocks_back():
    """argon2 takes 19 MiB per verification, in whichever thread of the pool runs it. Once
    such a block is freed, glibc raises its mmap threshold and from then on keeps each
    thread's freed 19 MiB in that thread's arena: after a burst of sign-ins the pool's
    threads held ~300 MB for good (most of the benchmark's 426 KB "per connection"). A
    fixed threshold keeps large blocks mmapped, so they go back to the system when freed."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return  # not glibc: its allocator has its own policy
    libc.mallopt(_M_MMAP_THRESHOLD, 128 * 1024)


def tune(async_mode):
    if async_mode == "eventlet":
        fast_websocket_unmask()
        no_websocket_compression()
    give_large_blocks_back()
    settle_garbage_collector()
