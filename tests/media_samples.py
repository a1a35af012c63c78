"""Real files made in the test: pictures with metadata, voice-note containers
built byte by byte the way MediaRecorder lays them out (their frames are not real sound),
and voice notes with real sound encoded by FFmpeg (PyAV)."""
import array
import io
import math
import struct

from PIL import Image


def jpeg_with_gps_and_comment(comment=b"<script>alert(1)</script>", orientation=None, size=(64, 48)):
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x0110] = "HeartPhone 1"  # camera model
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (48.0, 51.0, 29.0), "E", (2.0, 17.0, 40.0)
    if orientation:
        exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, comment=comment)
    return out.getvalue()


def two_tone_jpeg_rotated():
    """200x100, left half red and right half blue, with EXIF orientation 6
    (shown turned 90° clockwise: upright it is 100x200, red on top)."""
    image = Image.new("RGB", (200, 100), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 100, 100))
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, quality=95)
    return out.getvalue()


def png(size=(32, 32)):
    out = io.BytesIO()
    Image.new("RGBA", size, (10, 200, 10, 255)).save(out, format="PNG")
    return out.getvalue()


def decompression_bomb():
    """A few kilobytes that claim 10000 x 10000 pixels."""
    out = io.BytesIO()
    Image.new("1", (10000, 10000)).save(out, format="PNG", optimize=True)
    return out.getvalue()


# --- voice notes ----------------------------------------------------------------------------

def ebml(element_id, payload, unknown_size=False):
    """One EBML (Matroska, webm) element: its id, an 8-byte size (or "unknown"), the payload."""
    size = b"\x01\xff\xff\xff\xff\xff\xff\xff" if unknown_size else b"\x01" + len(payload).to_bytes(7, "big")
    return element_id + size + payload


def webm_opus(duration_ms=2500, frame_ms=20, codec=b"A_OPUS", video_size=None):
    """A MediaRecorder-style webm: no Duration in Info, Segment and Cluster of unknown size.
    `video_size` (w, h) adds the track's Video element with PixelWidth / PixelHeight."""
    header = ebml(b"\x1a\x45\xdf\xa3", ebml(b"\x42\x86", b"\x01") + ebml(b"\x42\x82", b"webm"))
    info = ebml(b"\x15\x49\xa9\x66", ebml(b"\x2a\xd7\xb1", (1_000_000).to_bytes(3, "big")))
    video = b""
    if video_size:
        width, height = (side.to_bytes(2, "big") for side in video_size)
        video = ebml(b"\xe0", ebml(b"\xb0", width) + ebml(b"\xba", height))
    tracks = ebml(b"\x16\x54\xae\x6b", ebml(b"\xae", ebml(b"\xd7", b"\x01") + ebml(b"\x86", codec) + video))
    blocks = b"".join(
        ebml(b"\xa3", b"\x81" + struct.pack(">h", t) + b"\x80" + b"\xfc\xff\xfe")
        for t in range(0, duration_ms - frame_ms + 1, frame_ms)
    )
    cluster = ebml(b"\x1f\x43\xb6\x75", ebml(b"\xe7", b"\x00") + blocks, unknown_size=True)
    return header + ebml(b"\x18\x53\x80\x67", info + tracks + cluster, unknown_size=True)


def ogg_page(packet, granule, sequence, header_type=0):
    """One Ogg page holding one packet, with its lacing values (checksum left 0)."""
    segments, rest = [], len(packet)
    while rest >= 255:
        segments.append(255)
        rest -= 255
    segments.append(rest)
    return (b"OggS" + bytes([0, header_type]) + struct.pack("<qIII", granule, 0x4C494E4B, sequence, 0)
            + bytes([len(segments)]) + bytes(segments) + packet)


def ogg_opus(duration_ms=3000, pre_skip=312):
    head = b"OpusHead" + bytes([1, 1]) + struct.pack("<HIhB", pre_skip, 48000, 0, 0)
    tags = b"OpusTags" + struct.pack("<I", 4) + b"test" + struct.pack("<I", 0)
    pages = [ogg_page(head, 0, 0, header_type=2), ogg_page(tags, 0, 1)]
    samples, sequence = pre_skip, 2
    while samples < pre_skip + duration_ms * 48:
        samples = min(samples + 48 * 1000, pre_skip + duration_ms * 48)
        pages.append(ogg_page(b"\xfc\xff\xfe" * 10, samples, sequence))
        sequence += 1
    return b"".join(pages)


def spoken_note(parts=((1.0, 0.1), (1.0, 0.8)), fmt="webm", codec="libopus", rate=48000):
    """A voice note with real sound: a 440 Hz tone for each (seconds, loudness 0-1) of
    `parts`, encoded as MediaRecorder would (webm or ogg with opus, mp4 with aac)."""
    out = io.BytesIO()
    import av

    with av.open(out, mode="w", format=fmt) as container:
        stream = container.add_stream(codec, rate=rate, layout="mono")
        pts = 0
        for seconds, loudness in parts:
            count = int(seconds * rate)
            tone = array.array("h", (int(loudness * 32767 * math.sin(2 * math.pi * 440 * (pts + i) / rate))
                                     for i in range(count)))
            for start in range(0, count, 960):
                chunk = tone[start: start + 960]
                frame = av.AudioFrame(format="s16", layout="mono", samples=len(chunk))
                frame.planes[0].update(chunk.tobytes())
                frame.sample_rate, frame.pts = rate, pts + start
                for packet in stream.encode(frame):
                    container.mux(packet)
            pts += count
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()


# --- video clips ----------------------------------------------------------------------------

def _box(kind, payload):
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def mp4_clip(width=640, height=360):
    """The boxes a browser reads first: ftyp, then moov with one video track's tkhd (size in
    16.16 fixed point) and its handler ("vide")."""
    ftyp = _box(b"ftyp", b"isom" + b"\x00\x00\x02\x00" + b"isomiso2mp41")
    tkhd = _box(b"tkhd", b"\x00\x00\x00\x03" + b"\x00" * 72 + struct.pack(">II", width << 16, height << 16))
    hdlr = _box(b"hdlr", b"\x00" * 8 + b"vide" + b"\x00" * 12 + b"VideoHandler\x00")
    moov = _box(b"moov", _box(b"trak", tkhd + _box(b"mdia", hdlr)))
    return ftyp + moov + _box(b"mdat", b"\x00" * 64)
