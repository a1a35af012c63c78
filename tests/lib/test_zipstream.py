"""The export's zip is written as it is sent: bytes come out while a member is still being produced,
and what comes out is a zip any unzip reads."""
import io
import os
import zipfile

from heartlink.lib import zipstream


def test_bytes_come_out_before_a_member_is_finished_and_the_whole_is_a_valid_zip():
    produced = []

    def big_member():
        for index in range(64):
            produced.append(index)
            yield os.urandom(64 * 1024)  # incompressible: deflate hands it on at once

    out, seen_while_producing = [], []
    for piece in zipstream.stream([("a.json", ['{"x": ', "1}"]), ("uploads/big.bin", big_member())]):
        out.append(piece)
        seen_while_producing.append(len(produced))
    # Output was handed on while the 4 MiB member was still being produced, not once at the end.
    assert any(0 < count < 64 for count in seen_while_producing)
    assert max(len(piece) for piece in out) < 1024 * 1024
    archive = zipfile.ZipFile(io.BytesIO(b"".join(out)))
    assert archive.testzip() is None
    assert archive.read("a.json") == b'{"x": 1}'
    assert len(archive.read("uploads/big.bin")) == 64 * 64 * 1024
