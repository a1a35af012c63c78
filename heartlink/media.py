"""Reading uploads by their bytes: what an image, a voice note or a video really is.

Pure functions over bytes and Pillow images; no request, no storage. Every
reader raises MediaError for bytes that are not what they claim.
"""
import io
import struct
import warnings

from PIL import Image, ImageOps

IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
THUMB_SIZE = (320, 320)


class MediaError(ValueError):
    """The bytes are not a readable file of the expected kind."""


class TooManyPixels(MediaError):
    """An image larger than the pixel limit (or a decompression bomb)."""


# --- images ---------------------------------------------------------------------------------

def clean_image(data, max_pixels):
    """Decode an image with a pixel limit and re-encode it without metadata.

    Returns (bytes, mime, width, height, thumb_bytes, thumb_mime). The orientation
    EXIF asks for is applied to the pixels first, so the picture still stands the
    right way up once EXIF (GPS included) and comments are gone.
    """
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb guard, as an error: our limit below is usually lower anyway.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                fmt = probe.format
                width, height = probe.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise TooManyPixels(str(error)) from None
    except Exception:
        raise MediaError("not an image") from None
    if fmt not in IMAGE_FORMATS:
        raise MediaError(f"unsupported image format {fmt}")
    if width * height > max_pixels:
        raise TooManyPixels(f"{width}x{height} is over {max_pixels} pixels")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            upright = ImageOps.exif_transpose(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise TooManyPixels(str(error)) from None
    except Exception:
        raise MediaError("the image could not be decoded") from None

    clean, mime = _encode(upright, fmt)
    thumb = upright.copy()
    thumb.thumbnail(THUMB_SIZE)
    thumb_bytes, thumb_mime = _encode(thumb, "JPEG" if fmt == "JPEG" else "PNG")
    return clean, mime, upright.width, upright.height, thumb_bytes, thumb_mime


def _encode(image, fmt):
    """Pixels only: a new image object carries no info dict, EXIF, ICC or comments."""
    if fmt == "JPEG":
        pixels = image.convert("RGB")
        params = {"quality": 88, "optimize": True}
    elif fmt == "GIF":
        # The first frame, as PNG: re-encoding animation is not worth its risks here.
        pixels, fmt, params = image.convert("RGBA"), "PNG", {}
    else:
        pixels = image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")
        params = {}
    bare = Image.new(pixels.mode, pixels.size)
    bare.paste(pixels)
    out = io.BytesIO()
    bare.save(out, format=fmt, **params)
    return out.getvalue(), IMAGE_FORMATS[fmt]


# --- voice notes and video clips ------------------------------------------------------------

def probe_audio(data):
    """(mime, duration_ms) of a MediaRecorder voice note: webm/opus, ogg/opus or mp4/aac."""
    if data[:4] == b"\x1a\x45\xdf\xa3":
        doc_type, codecs, duration = _read_webm(data)
        if doc_type != "webm" or not any(codec.startswith("A_") for codec in codecs):
            raise MediaError("a webm without an audio track")
        return "audio/webm", duration
    if data[:4] == b"OggS":
        return "audio/ogg", _read_ogg_opus(data)
    if data[4:8] == b"ftyp":
        return "audio/mp4", _read_mp4_duration(data)
    raise MediaError("not a webm, ogg or mp4 recording")


def sniff_video(data):
    """The mime of an mp4 or webm video clip, or None for any other file."""
    try:
        if data[:4] == b"\x1a\x45\xdf\xa3":
            doc_type, codecs, _ = _read_webm(data)
            if doc_type == "webm" and any(codec.startswith("V_") for codec in codecs):
                return "video/webm"
        elif data[4:8] == b"ftyp" and b"vide" in data[:1 << 20]:
            return "video/mp4"
    except MediaError:
        return None
    return None


# EBML (Matroska/WebM) element ids we read; masters are descended into whatever
# their size (MediaRecorder writes Segment and Cluster with unknown size).
_EBML, _DOCTYPE, _SEGMENT, _INFO, _TIMECODE_SCALE, _DURATION = 0x1A45DFA3, 0x4282, 0x18538067, 0x1549A966, 0x2AD7B1, 0x4489
_TRACKS, _TRACK_ENTRY, _CODEC_ID, _CLUSTER, _CLUSTER_TIME, _SIMPLE_BLOCK, _BLOCK_GROUP, _BLOCK = (
    0x1654AE6B, 0xAE, 0x86, 0x1F43B675, 0xE7, 0xA3, 0xA0, 0xA1)
_MASTERS = {_EBML, _SEGMENT, _INFO, _TRACKS, _TRACK_ENTRY, _CLUSTER, _BLOCK_GROUP}


def _vint(data, pos, keep_marker):
    if pos >= len(data):
        raise MediaError("truncated")
    first = data[pos]
    length = 1
    while length <= 8 and not first & (0x80 >> (length - 1)):
        length += 1
    if length > 8 or pos + length > len(data):
        raise MediaError("bad EBML number")
    value = first if keep_marker else first & (0xFF >> length)
    for byte in data[pos + 1: pos + length]:
        value = (value << 8) | byte
    unknown = not keep_marker and value == (1 << (7 * length)) - 1
    return value, length, unknown


def _read_webm(data):
    """(doc_type, codec ids, duration_ms) from an EBML walk."""
    pos, doc_type, codecs = 0, None, []
    scale, declared, cluster_time, last_time = 1_000_000, None, 0, 0
    while pos < len(data):
        element, id_len, _ = _vint(data, pos, keep_marker=True)
        size, size_len, unknown = _vint(data, pos + id_len, keep_marker=False)
        start = pos + id_len + size_len
        if element in _MASTERS:
            pos = start
            continue
        if unknown:
            raise MediaError("unknown size on a leaf element")
        body = data[start: start + size]
        if element == _DOCTYPE:
            doc_type = body.decode("ascii", "replace")
        elif element == _TIMECODE_SCALE:
            scale = int.from_bytes(body, "big") or scale
        elif element == _DURATION and size in (4, 8):
            declared = struct.unpack(">f" if size == 4 else ">d", body)[0]
        elif element == _CODEC_ID:
            codecs.append(body.decode("ascii", "replace"))
        elif element == _CLUSTER_TIME:
            cluster_time = int.from_bytes(body, "big")
        elif element in (_SIMPLE_BLOCK, _BLOCK) and size >= 4:
            _track, track_len, _ = _vint(body, 0, keep_marker=False)
            relative = struct.unpack(">h", body[track_len: track_len + 2])[0]
            last_time = max(last_time, cluster_time + relative)
        pos = start + size
    if doc_type is None:
        raise MediaError("no EBML DocType")
    ticks = declared if declared else last_time
    return doc_type, codecs, round(ticks * scale / 1_000_000)


def _read_ogg_opus(data):
    pos, pre_skip, last_granule = 0, None, 0
    while pos < len(data):
        if data[pos: pos + 4] != b"OggS" or pos + 27 > len(data):
            raise MediaError("broken ogg page")
        granule = struct.unpack("<q", data[pos + 6: pos + 14])[0]
        segments = data[pos + 26]
        table = data[pos + 27: pos + 27 + segments]
        body_start = pos + 27 + segments
        body_len = sum(table)
        if body_start + body_len > len(data):
            raise MediaError("truncated ogg page")
        if pre_skip is None:
            head = data[body_start: body_start + body_len]
            if head[:8] != b"OpusHead" or len(head) < 19:
                raise MediaError("an ogg file that is not opus")
            pre_skip = struct.unpack("<H", head[10:12])[0]
        if granule > 0:
            last_granule = granule
        pos = body_start + body_len
    return max(0, round((last_granule - (pre_skip or 0)) / 48))


def _read_mp4_duration(data):
    """Duration from moov/mvhd (or mvex/mehd for fragmented recordings)."""
    for box, body in _boxes(data, 0, len(data)):
        if box == b"moov":
            for child, child_body in _boxes(data, *body):
                if child == b"mvhd":
                    duration = _mvhd_ms(data, *child_body)
                    if duration:
                        return duration
                if child == b"mvex":
                    for leaf, leaf_body in _boxes(data, *child_body):
                        if leaf == b"mehd":
                            return _mehd_ms(data, leaf_body, _timescale(data, body))
    raise MediaError("an mp4 without a duration")


def _boxes(data, start, end):
    pos = start
    while pos + 8 <= end:
        size, box = struct.unpack(">I4s", data[pos: pos + 8])
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", data[pos + 8: pos + 16])[0], 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise MediaError("broken mp4 box")
        yield box, (pos + header, pos + size)
        pos += size


def _mvhd_fields(data, start):
    version = data[start]
    if version == 1:
        return struct.unpack(">IQ", data[start + 20: start + 32])
    return struct.unpack(">II", data[start + 12: start + 20])


def _mvhd_ms(data, start, _end):
    timescale, duration = _mvhd_fields(data, start)
    return round(duration * 1000 / timescale) if timescale else 0


def _timescale(data, moov):
    for child, (start, _end) in _boxes(data, *moov):
        if child == b"mvhd":
            return _mvhd_fields(data, start)[0]
    return 0


def _mehd_ms(data, body, timescale):
    start = body[0]
    version = data[start]
    duration = struct.unpack(">Q" if version == 1 else ">I", data[start + 4: start + (12 if version == 1 else 8)])[0]
    if not timescale or not duration:
        raise MediaError("an mp4 without a duration")
    return round(duration * 1000 / timescale)
