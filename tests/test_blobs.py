"""The blob area: bytes appear only on commit, whole; an aborted sink leaves nothing."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import pytest

from mockshot.state.blobs import Blobs


def visible(blobs: Blobs) -> list[str]:
    return sorted(p.name for p in blobs.root.iterdir() if p.is_file())


def leftovers(blobs: Blobs) -> list[str]:
    return sorted(p.name for p in (blobs.root / "tmp").iterdir())


def test_bytes_appear_under_their_key_only_on_commit(tmp_path):
    blobs = Blobs(tmp_path)
    with blobs.sink() as sink:
        sink.write(b"hello ")
        sink.write(b"world")
        assert visible(blobs) == [] and not blobs.exists("f1")
        sink.commit("f1")
    assert blobs.read("f1") == b"hello world" and blobs.size("f1") == 11
    assert leftovers(blobs) == []


def test_leaving_a_sink_uncommitted_or_failing_leaves_nothing(tmp_path):
    blobs = Blobs(tmp_path)
    with pytest.raises(RuntimeError), blobs.sink() as sink:
        sink.write(b"partial")
        raise RuntimeError("the client hung up")
    with blobs.sink() as sink:
        sink.write(b"never committed")
    assert visible(blobs) == [] and leftovers(blobs) == []


def test_streamed_reads_come_in_pieces_and_survive_a_delete(tmp_path):
    blobs = Blobs(tmp_path)
    with blobs.sink() as sink:
        sink.write(b"abcdefghij")
        sink.commit("f1")
    pieces = blobs.chunks("f1", size=4)
    assert next(pieces) == b"abcd"
    blobs.delete("f1")
    assert list(pieces) == [b"efgh", b"ij"] and not blobs.exists("f1")
    with pytest.raises(FileNotFoundError):
        blobs.open("f1")


def test_a_link_keeps_the_bytes_when_the_source_is_deleted(tmp_path):
    blobs = Blobs(tmp_path)
    with blobs.sink() as sink:
        sink.write(b"lines\n")
        sink.commit("f1")
    blobs.link("f1", "b1.input")
    blobs.delete("f1")
    assert blobs.read("b1.input") == b"lines\n" and blobs.read_range("b1.input", 1, 3) == b"in"


@pytest.mark.parametrize("key", ["../etc/passwd", "a/b", ".hidden", "", "x" * 200])
def test_a_key_that_is_not_an_id_is_refused(tmp_path, key):
    with pytest.raises(ValueError, match="not a blob key"):
        Blobs(tmp_path).path(key)


def test_a_directory_given_is_durable_and_a_temporary_one_is_removed_with_it(tmp_path):
    assert Blobs(tmp_path).durable
    blobs = Blobs()
    root = Path(blobs.root)
    assert not blobs.durable and root.is_dir()
    del blobs
    gc.collect()
    assert not root.exists()


def test_a_durable_commit_syncs_the_data_and_the_directory(tmp_path, monkeypatch):
    synced: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd) or real(fd))
    blobs = Blobs(tmp_path)
    with blobs.sink() as sink:
        sink.write(b"kept")
        sink.commit("f1")
    assert len(synced) == 2


def test_clear_forgets_every_blob(tmp_path):
    blobs = Blobs(tmp_path)
    for key in ("f1", "f2"):
        with blobs.sink() as sink:
            sink.write(b"x")
            sink.commit(key)
    blobs.clear()
    assert visible(blobs) == []


def test_a_taken_key_is_never_replaced_and_the_sink_can_take_another(tmp_path):
    blobs = Blobs(tmp_path)
    with blobs.sink() as first:
        first.write(b"first")
        first.commit("f1")
    with blobs.sink() as second:
        second.write(b"second")
        with pytest.raises(FileExistsError):
            second.commit("f1")
        second.commit("f2")
    assert (blobs.read("f1"), blobs.read("f2")) == (b"first", b"second")
    assert leftovers(blobs) == []
