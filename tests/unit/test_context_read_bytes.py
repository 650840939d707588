"""Context's file reads on what a walk of a user's home may meet between listing and reading."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

from agent.facts.context import Context, FileMissing


@pytest.mark.skipif(sys.platform == "win32", reason="named pipes in the file system: POSIX")
def test_a_fifo_does_not_block_the_read(tmp_path: Path) -> None:
    # A user can swap a document for a FIFO after the walk listed it as a file: opening it for
    # reading would wait for a writer forever, and with it the probe's thread.
    fifo = tmp_path / "plan.pdf"
    os.mkfifo(fifo)
    done: list[bytes] = []
    reader = threading.Thread(target=lambda: done.append(Context().read_bytes(str(fifo), 64)))
    reader.daemon = True
    reader.start()
    reader.join(5)
    if reader.is_alive():  # unblock the stuck open so the test process can end
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(5)
        pytest.fail("read_bytes blocked on a FIFO")
    assert done == [b""]


def test_a_regular_file_is_read_from_an_offset(tmp_path: Path) -> None:
    path = tmp_path / "a.bin"
    path.write_bytes(b"0123456789")
    assert Context().read_bytes(str(path), 4, 3) == b"3456"
    assert Context().read_bytes(str(path), 100) == b"0123456789"


@pytest.mark.skipif(sys.platform == "win32", reason="named pipes in the file system: POSIX")
def test_a_fifo_does_not_block_read_text(tmp_path: Path) -> None:
    # The same swap under a text reader (a .desktop file the applications probe reads).
    fifo = tmp_path / "tiktok.desktop"
    os.mkfifo(fifo)
    done: list[str] = []
    reader = threading.Thread(target=lambda: done.append(Context().read_text(str(fifo))))
    reader.daemon = True
    reader.start()
    reader.join(5)
    if reader.is_alive():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(5)
        pytest.fail("read_text blocked on a FIFO")
    assert done == [""]


def test_read_text_reads_a_file_and_names_a_missing_one(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("caf\u00e9\n", encoding="utf-8")
    assert Context().read_text(str(path)) == "caf\u00e9\n"
    with pytest.raises(FileMissing, match="nope"):
        Context().read_text(str(tmp_path / "nope"))
