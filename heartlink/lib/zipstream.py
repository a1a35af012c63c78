"""A zip file written as it is sent: the standard library's zipfile writing into a buffer that a
generator empties after every piece, so that nothing larger than one piece is ever held in memory.

zipfile writes to an unseekable file with data descriptors after each member (sizes it cannot
go back to fill in), which every unzip reads.
"""
import zipfile
from datetime import UTC, datetime


class _Pipe:
    """The file zipfile writes to: it only collects, and counts where it is."""

    def __init__(self):
        self.pieces = []
        self.position = 0

    def write(self, data):
        self.pieces.append(bytes(data))
        self.position += len(data)
        return len(data)

    def tell(self):
        return self.position

    def flush(self):
        pass

    def drain(self):
        pieces, self.pieces = self.pieces, []
        return b"".join(pieces)


def stream(members, when=None):
    """Yield a zip file's bytes. `members` is an iterable of (name, iterable of bytes or str): each
    member is compressed (deflate) piece by piece as its pieces come."""
    stamp = (when or datetime.now(UTC)).timetuple()[:6]
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, pieces in members:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            with archive.open(info, "w", force_zip64=True) as member:
                for piece in pieces:
                    member.write(piece.encode() if isinstance(piece, str) else piece)
                    if pipe.pieces:
                        yield pipe.drain()
            if pipe.pieces:
                yield pipe.drain()
    yield pipe.drain()  # the central directory
