"""helpers.files.atomic_write_bytes: all or nothing, synced unless asked not to be."""

import os

import pytest

from helpers.files import atomic_write_bytes


@pytest.mark.parametrize("sync, expected", [(True, 1), (False, 0)])
def test_the_bytes_are_synced_only_when_asked(tmp_path, monkeypatch, sync, expected):
    calls = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real(fd)))
    target = tmp_path / "a" / "input.json"
    assert atomic_write_bytes(target, b'{"x": 1}', sync=sync) == target
    assert target.read_bytes() == b'{"x": 1}' and len(calls) == expected
    assert [p.name for p in target.parent.iterdir()] == ["input.json"]  # no temporary file left


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "input.json"
    target.write_bytes(b"old")

    def boom(*a):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(target, b"new", sync=False)
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["input.json"]
