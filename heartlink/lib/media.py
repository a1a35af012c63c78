"""Reading uploads by their bytes: what an image, a voice note or a video really is.

Pure functions over bytes and Pillow images; no request, no storage, no Flask (they
run in a thread pool, see heartlink/worker/offload.py). Every reader raises MediaError for
bytes that are not what they claim, truncated or malformed ones included: never
struct.error, IndexError or anything else that would become a 500.

Costs are bounded by the bytes: each container walk takes at most MAX_ELEMENTS
steps, each step moves forward by at least two bytes, and no step copies more than
the element it reads.

Memory per image decode (W x H pixels, 4 bytes a pixel for RGBA): the decoded image
(for JPEG, draft() decodes at 1/2, 1/4 or 1/8 scale when the picture is larger than
IMAGE_MAX_SIDE, so usually much less), at most one converted or rotated copy of it
while it is made, and the result scaled to IMAGE_MAX_SIDE. At the default 40 MP that
is at most about 2 x 160 MiB for a PNG, and about 30 MiB for a JPEG.
"""
import array
import functools
import io
import struct
import time
import warnings

from PIL import Image, ImageOps

IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
# Twice the largest side a picture is shown at in the chat (280 CSS px, static/js/views/message_content.js),
# so it is sharp on the 2x screens of phones.
THUMB_SIZE = (640, 640)
# Steps of a container walk (EBML elements, ogg pages, mp4 boxes). A 5-minute
# MediaRecorder voice note has about 15,000 (one block per 20 ms of opus).
MAX_ELEMENTS = 100_000


class MediaError(ValueError):
    """The bytes are not a readable file of the expected kind."""


class TooManyPixels(MediaError):
    """An image larger than the pixel limit (or a decompression bomb)."""


def _malformed_is_media_error(reader):
    """Whatever a malformed file makes a reader trip over is a MediaError."""

    @functools.wraps(reader)
    def read(*args, **kwargs):
        try:
            return reader(*args, **kwargs)
        except MediaError:
            raise
        except (struct.error, IndexError, ValueError, OverflowError, ZeroDivisionError, TypeError) as error:
            raise MediaError(f"malformed file ({type(error).__name__})") from None

    return read


# --- images ---------------------------------------------------------------------------------

def clean_image(data, max_pixels, max_side=4096):
    """Decode an image with a pixel limit and re-encode it without metadata.

    Returns (bytes, mime, width, height, thumb_bytes, thumb_mime). The orientation
    EXIF asks for is applied to the pixels first, so the picture still stands the
    right way up once EXIF (GPS included) and comments are gone. A picture larger
    than max_side on its long side is stored scaled down to it.
    """
    # Pillow's own bomb guard: an error at twice this, a warning (made an error) above it.
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            fmt = image.format
            width, height = image.size
            if fmt not in IMAGE_FORMATS:
                raise MediaError(f"unsupported image format {fmt}")
            if width * height > max_pixels:
                raise TooManyPixels(f"{width}x{height} is over {max_pixels} pixels")
            if fmt == "JPEG" and max(width, height) > max_side:
                # Decode at the smallest 1/2^n scale still at least max_side: a fraction of the memory.
                image.draft("RGB", _fit((width, height), max_side, at_least=True))
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise TooManyPixels(str(error)) from None
    except MediaError:
        raise
    except Exception:
        raise MediaError("the image could not be decoded") from None
    try:
        ImageOps.exif_transpose(image, in_place=True)
        image = _pixels_for(image, fmt)
        if max(image.size) > max_side:
            image = _shrink(image, _fit(image.size, max_side))
        clean, mime = _encode(image, fmt)
        thumb = image.resize(_fit(image.size, max(THUMB_SIZE)), Image.LANCZOS, reducing_gap=2.0) \
            if max(image.size) > max(THUMB_SIZE) else image
        thumb_bytes, thumb_mime = _encode(thumb, "JPEG" if fmt == "JPEG" else "PNG")
    except Exception:
        raise MediaError("the image could not be re-encoded") from None
    return clean, mime, image.width, image.height, thumb_bytes, thumb_mime


def _shrink(image, size):
    """`image` scaled down to `size`, one axis at a time, letting the full-size pixels go
    between the two passes. Pillow's resize makes the intermediate of its two passes while
    the source is still held: for a 6300² RGBA picture source, intermediate and result are
    151 + 98 + 64 MiB at once; this way at most 151 + 98."""
    width, height = size
    wide = image.resize((width, image.height), Image.LANCZOS, reducing_gap=2.0)
    image.close()
    return wide.resize((width, height), Image.LANCZOS, reducing_gap=2.0)


def _fit(size, side, at_least=False):
    """(w, h) scaled so that the long side is `side` (never up)."""
    width, height = size
    scale = min(1.0, side / max(width, height))
    if at_least:
        return max(1, int(width * scale + 0.999)), max(1, int(height * scale + 0.999))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _pixels_for(image, fmt):
    """The mode the output format is written in; converts (one copy) only when it differs."""
    if fmt == "JPEG":
        mode = "RGB"
    elif fmt == "GIF":
        mode = "RGBA"  # the first frame, as PNG: re-encoding animation is not worth its risks here
    else:
        mode = "RGBA" if image.mode in ("RGBA", "LA", "P", "PA") else "RGB"
    return image if image.mode == mode else image.convert(mode)


def _encode(image, fmt):
    """Pixels only: the image's info (EXIF, ICC, comments, text chunks) is not written."""
    params = {"quality": 88, "optimize": True} if fmt == "JPEG" else {}
    fmt = "PNG" if fmt == "GIF" else fmt
    image.info = {}
    out = io.BytesIO()
    image.save(out, format=fmt, exif=b"", **params)
    return out.getvalue(), IMAGE_FORMATS[fmt]


# --- voice notes and video clips ------------------------------------------------------------

@_malformed_is_media_error
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


WAVEFORM_BARS = 64
_WAVEFORM_RATE = 8000  # decoded sound is resampled to 8 kHz mono 16-bit before it is measured
_WAVEFORM_FLOOR = 0.02  # of full scale: quieter than this is drawn as near silence, not blown up
_DEMUXERS = {"audio/webm": "webm", "audio/ogg": "ogg", "audio/mp4": "mp4"}
# The codecs browsers record voice in; FFmpeg's other decoders are never run on an upload.
_VOICE_CODECS = {"opus", "vorbis", "aac"}


def waveform(data, mime, max_ms, max_seconds):
    """WAVEFORM_BARS loudness levels 0-255 of a voice note already probed as `mime`, or None
    when its sound cannot be read within the limits.

    FFmpeg (PyAV) decodes it with the demuxer `mime` names, never by guessing the format from
    the bytes, from memory only, and only if its codec is one browsers record in (opus, vorbis,
    aac). Bounded: decoding stops with None past `max_ms` of decoded sound (a container that
    lies about its length), past `max_seconds` of work, or past MAX_ELEMENTS packets; any
    decoder error is None too. Each bar is the mean of the 20 ms peaks in its slice of the
    note, scaled so the loudest bar is 255 (but a note quieter than _WAVEFORM_FLOOR of full
    scale stays low)."""
    import av  # FFmpeg: loaded by the first voice note, not by every process that imports this module

    demuxer = _DEMUXERS.get(mime)
    if demuxer is None:
        return None
    deadline = time.monotonic() + max_seconds
    window = _WAVEFORM_RATE // 50  # 20 ms
    peaks, pending, decoded = [], array.array("h"), 0
    limit = (max_ms + 1000) * _WAVEFORM_RATE // 1000  # the probe's limit, and a second of slack
    try:
        with av.open(io.BytesIO(data), mode="r", format=demuxer,
                     options={"probesize": "1000000", "analyzeduration": "1000000"}) as container:
            stream = next((s for s in container.streams if s.type == "audio"), None)
            if stream is None or stream.codec_context.name not in _VOICE_CODECS:
                return None
            resampler = av.AudioResampler(format="s16", layout="mono", rate=_WAVEFORM_RATE)
            for count, packet in enumerate(container.demux(stream)):
                if count > MAX_ELEMENTS or time.monotonic() >= deadline:
                    return None
                for frame in packet.decode():  # the last, empty packet flushes the decoder
                    for mono in resampler.resample(frame):
                        pending.frombytes(bytes(mono.planes[0])[: mono.samples * 2])
                        decoded += mono.samples
                if decoded > limit:
                    return None
                whole = len(pending) - len(pending) % window
                peaks.extend(_peak(pending[start: start + window]) for start in range(0, whole, window))
                del pending[:whole]
            for mono in resampler.resample(None):
                pending.frombytes(bytes(mono.planes[0])[: mono.samples * 2])
    except (av.FFmpegError, ValueError, OSError, MemoryError, UnicodeDecodeError):
        return None
    if pending:
        peaks.append(_peak(pending))
    return _bars(peaks) if peaks else None


def _peak(samples):
    return max(max(samples), -min(samples))


def _bars(peaks):
    """WAVEFORM_BARS means of consecutive peaks (a short note repeats its peaks), 0-255."""
    count = len(peaks)
    means = []
    for bar in range(WAVEFORM_BARS):
        start = bar * count // WAVEFORM_BARS
        end = max(start + 1, (bar + 1) * count // WAVEFORM_BARS)
        part = peaks[start:end]
        means.append(sum(part) / len(part))
    top = max(max(means), _WAVEFORM_FLOOR * 32768)
    return [min(255, round(255 * mean / top)) for mean in means]


def probe_video(data):
    """(mime, width, height) of an mp4 or webm video clip; (None, None, None) for any other file.
    The size (from the container's headers, when they say it) lets the page reserve the
    player's box before the clip loads; it is None when unknown."""
    try:
        return _probe_video(data)
    except MediaError:
        return None, None, None


_MAX_VIDEO_SIDE = 16384  # a size past this is not a real clip's: treated as unknown


def _plausible(width, height):
    if width and height and 0 < width <= _MAX_VIDEO_SIDE and 0 < height <= _MAX_VIDEO_SIDE:
        return width, height
    return None, None


@_malformed_is_media_error
def _probe_video(data):
    if data[:4] == b"\x1a\x45\xdf\xa3":
        # The tracks come before the first cluster: no need to walk the frames.
        sizes = {}
        doc_type, codecs, _ = _read_webm(data, tracks_only=True, sizes=sizes)
        if doc_type == "webm" and any(codec.startswith("V_") for codec in codecs):
            return ("video/webm", *_plausible(sizes.get(_PIXEL_WIDTH), sizes.get(_PIXEL_HEIGHT)))
    elif data[4:8] == b"ftyp" and b"vide" in data[:1 << 20]:
        try:
            size = _read_mp4_video_size(data)
        except MediaError:
            size = (None, None)  # still a clip; only its size is unknown
        return ("video/mp4", *_plausible(*size))
    return None, None, None


# EBML (Matroska/WebM) element ids we read; masters are descended into whatever
# their size (MediaRecorder writes Segment and Cluster with unknown size).
_EBML, _DOCTYPE, _SEGMENT, _INFO, _TIMECODE_SCALE, _DURATION = (
    0x1A45DFA3, 0x4282, 0x18538067, 0x1549A966, 0x2AD7B1, 0x4489)
_TRACKS, _TRACK_ENTRY, _CODEC_ID, _CLUSTER, _CLUSTER_TIME, _SIMPLE_BLOCK, _BLOCK_GROUP, _BLOCK = (
    0x1654AE6B, 0xAE, 0x86, 0x1F43B675, 0xE7, 0xA3, 0xA0, 0xA1)
_VIDEO, _PIXEL_WIDTH, _PIXEL_HEIGHT = 0xE0, 0xB0, 0xBA  # a video track's frame size
_MASTERS = {_EBML, _SEGMENT, _INFO, _TRACKS, _TRACK_ENTRY, _VIDEO, _CLUSTER, _BLOCK_GROUP}
_MAX_SMALL_LEAF = 256  # DocType, CodecID, times: a few bytes in any real file


def _vint(data, pos, keep_marker):
    if pos >= len(data):
        raise MediaError("truncated")
    first = data[pos]
    if not first:
        raise MediaError("bad EBML number")
    length = 9 - first.bit_length()
    if pos + length > len(data):
        raise MediaError("truncated EBML number")
    value = int.from_bytes(data[pos: pos + length], "big")
    if not keep_marker:
        value &= (1 << (7 * length)) - 1
    unknown = not keep_marker and value == (1 << (7 * length)) - 1
    return value, length, unknown


def _read_webm(data, tracks_only=False, sizes=None):
    """(doc_type, codec ids, duration_ms) from an EBML walk of at most MAX_ELEMENTS elements.
    `sizes`, when given, gets the first video track's PixelWidth / PixelHeight."""
    pos, doc_type, codecs, steps = 0, None, [], 0
    scale, declared, cluster_time, last_time = 1_000_000, None, 0, 0
    end = len(data)
    while pos < end:
        steps += 1
        if steps > MAX_ELEMENTS:
            raise MediaError("too many EBML elements")
        element, id_len, _ = _vint(data, pos, keep_marker=True)
        size, size_len, unknown = _vint(data, pos + id_len, keep_marker=False)
        start = pos + id_len + size_len
        if element in _MASTERS:
            if element == _CLUSTER and (tracks_only or declared):
                break  # what we need was before the frames
            pos = start
            continue
        if unknown:
            raise MediaError("unknown size on a leaf element")
        if start + size > end:
            raise MediaError("truncated EBML element")
        if element in (_DOCTYPE, _CODEC_ID, _TIMECODE_SCALE, _DURATION, _CLUSTER_TIME) and size > _MAX_SMALL_LEAF:
            raise MediaError("an EBML header field of implausible size")
        if element == _DOCTYPE:
            doc_type = data[start: start + size].decode("ascii", "replace")
        elif element == _TIMECODE_SCALE:
            scale = int.from_bytes(data[start: start + size], "big") or scale
        elif element == _DURATION and size in (4, 8):
            declared = struct.unpack(">f" if size == 4 else ">d", data[start: start + size])[0]
        elif element == _CODEC_ID:
            codecs.append(data[start: start + size].decode("ascii", "replace"))
        elif element in (_PIXEL_WIDTH, _PIXEL_HEIGHT) and sizes is not None and 0 < size <= 8:
            sizes.setdefault(element, int.from_bytes(data[start: start + size], "big"))
        elif element == _CLUSTER_TIME:
            cluster_time = int.from_bytes(data[start: start + size], "big")
        elif element in (_SIMPLE_BLOCK, _BLOCK) and size >= 4:
            _track, track_len, _ = _vint(data, start, keep_marker=False)
            if track_len + 2 > size:
                raise MediaError("a short EBML block")
            relative = struct.unpack_from(">h", data, start + track_len)[0]
            last_time = max(last_time, cluster_time + relative)
        pos = start + size
    if doc_type is None:
        raise MediaError("no EBML DocType")
    ticks = declared if declared and declared == declared and 0 < declared < 1e15 else last_time
    return doc_type, codecs, round(ticks * scale / 1_000_000)


def _read_ogg_opus(data):
    pos, pre_skip, last_granule, pages = 0, None, 0, 0
    while pos < len(data):
        pages += 1
        if pages > MAX_ELEMENTS:
            raise MediaError("too many ogg pages")
        if data[pos: pos + 4] != b"OggS" or pos + 27 > len(data):
            raise MediaError("broken ogg page")
        granule = struct.unpack_from("<q", data, pos + 6)[0]
        segments = data[pos + 26]
        table = data[pos + 27: pos + 27 + segments]
        if len(table) != segments:
            raise MediaError("truncated ogg page")
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
    budget = [MAX_ELEMENTS]
    for box, body in _boxes(data, 0, len(data), budget):
        if box == b"moov":
            for child, child_body in _boxes(data, *body, budget):
                if child == b"mvhd":
                    duration = _mvhd_ms(data, *child_body)
                    if duration:
                        return duration
                if child == b"mvex":
                    for leaf, leaf_body in _boxes(data, *child_body, budget):
                        if leaf == b"mehd":
                            return _mehd_ms(data, leaf_body, _timescale(data, body, budget))
    raise MediaError("an mp4 without a duration")


def _read_mp4_video_size(data):
    """(width, height) of the first track with a picture, from moov/trak/tkhd (16.16 fixed point)."""
    budget = [MAX_ELEMENTS]
    for box, body in _boxes(data, 0, len(data), budget):
        if box != b"moov":
            continue
        for child, child_body in _boxes(data, *body, budget):
            if child != b"trak":
                continue
            for leaf, (start, end) in _boxes(data, *child_body, budget):
                if leaf == b"tkhd":
                    version = _field(data, start, end, ">B", 0)[0]
                    width, height = _field(data, start, end, ">II", 88 if version == 1 else 76)
                    if width >> 16 and height >> 16:
                        return width >> 16, height >> 16
    return None, None


def _boxes(data, start, end, budget):
    """The boxes between start and end; every box read, at any depth, spends one of `budget`."""
    pos = start
    while pos + 8 <= end:
        budget[0] -= 1
        if budget[0] < 0:
            raise MediaError("too many mp4 boxes")
        size, box = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            if pos + 16 > end:
                raise MediaError("broken mp4 box")
            size, header = struct.unpack_from(">Q", data, pos + 8)[0], 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise MediaError("broken mp4 box")
        yield box, (pos + header, pos + size)
        pos += size


def _field(data, start, end, fmt, offset):
    if start + offset + struct.calcsize(fmt) > end:
        raise MediaError("a short mp4 header box")
    return struct.unpack_from(fmt, data, start + offset)


def _mvhd_fields(data, start, end):
    if start >= end:
        raise MediaError("an empty mvhd box")
    if data[start] == 1:
        return _field(data, start, end, ">IQ", 20)
    return _field(data, start, end, ">II", 12)


def _mvhd_ms(data, start, end):
    timescale, duration = _mvhd_fields(data, start, end)
    return round(duration * 1000 / timescale) if timescale else 0


def _timescale(data, moov, budget):
    for child, (start, end) in _boxes(data, *moov, budget):
        if child == b"mvhd":
            return _mvhd_fields(data, start, end)[0]
    return 0


def _mehd_ms(data, body, timescale):
    start, end = body
    if start >= end:
        raise MediaError("an empty mehd box")
    (duration,) = _field(data, start, end, ">Q" if data[start] == 1 else ">I", 4)
    if not timescale or not duration:
        raise MediaError("an mp4 without a duration")
    return round(duration * 1000 / timescale)
