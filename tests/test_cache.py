"""The content-hash cache helper (helpers/cache.py): keys, verified lookups, atomic stores, stamps."""

from __future__ import annotations

import json
import logging
import os

import numpy as np
import pytest

from helpers import cache as hc
from helpers.cache import Key, Store, copy_all_verified, read_stamp, write_stamp
from helpers.files import sha256_file


# --------------------------------------------------------------------------- keys

def test_a_key_changes_with_every_part_and_only_with_them(tmp_path):
    f = tmp_path / "table.csv"
    f.write_bytes(b"a,b\n1,2\n")

    def key(**over):
        parts = {"kind": "k", "blob": b"xy", "value": {"b": 1, "a": [1.5, None]}, "file": f}
        parts.update(over)
        return (Key(parts["kind"]).blob("blob", parts["blob"]).json("value", parts["value"])
                .file("file", parts["file"]).hexdigest())

    base = key()
    assert key() == base and len(base) == 64
    assert key(value={"a": [1.5, None], "b": 1}) == base  # dict order is not content
    assert key(kind="other") != base
    assert key(blob=b"xz") != base
    assert key(value={"b": 2, "a": [1.5, None]}) != base
    f.write_bytes(b"a,b\n1,3\n")
    assert key() != base


def test_parts_are_framed_so_they_never_run_together(tmp_path):
    assert Key("k").blob("a", b"xy").blob("b", b"").hexdigest() != Key("k").blob("a", b"x").blob("b", b"y").hexdigest()
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert Key("k").file("f", empty).hexdigest() != Key("k").file("f", tmp_path / "missing").hexdigest()


def test_json_parts_take_numpy_scalars_as_their_values():
    assert Key("k").json("v", {"x": np.float64(0.5), "n": np.int64(3)}).hexdigest() == \
        Key("k").json("v", {"x": 0.5, "n": 3}).hexdigest()
    with pytest.raises(TypeError):
        Key("k").json("v", object())


def test_a_tree_key_sees_a_renamed_file_and_ignores_bytecode(tmp_path):
    (tmp_path / "ref").mkdir()
    (tmp_path / "ref" / "a.csv").write_text("1")
    base = Key("k").tree("ref", tmp_path / "ref").hexdigest()
    (tmp_path / "ref" / "__pycache__").mkdir()
    (tmp_path / "ref" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    assert Key("k").tree("ref", tmp_path / "ref").hexdigest() == base
    (tmp_path / "ref" / ".a.csv.123.tmp").write_text("an atomic write under way")
    assert Key("k").tree("ref", tmp_path / "ref").hexdigest() == base
    (tmp_path / "ref" / "a.csv").rename(tmp_path / "ref" / "b.csv")
    assert Key("k").tree("ref", tmp_path / "ref").hexdigest() != base
    # a file root is that file; a missing root is neither an empty folder nor an empty file
    assert Key("k").tree("f", tmp_path / "ref" / "b.csv").hexdigest() == Key("k").file("f", tmp_path / "ref" / "b.csv").hexdigest()
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty.txt").write_text("")
    missing = Key("k").tree("r", tmp_path / "missing").hexdigest()
    assert missing not in {Key("k").tree("r", tmp_path / "empty").hexdigest(),
                           Key("k").tree("r", tmp_path / "empty.txt").hexdigest()}


def test_the_code_version_is_the_assessments_code_hash():
    from helpers.model.cache import code_hash

    assert hc.code_version() == code_hash() and len(code_hash()) == 64
    assert Key("k").code().hexdigest() != Key("k").hexdigest()


# --------------------------------------------------------------------------- a store of files

def test_a_stored_entry_is_a_verified_hit_and_another_key_a_miss(tmp_path):
    store = Store(tmp_path / "c")
    key = Key("charts").json("spec", {"x": 1}).hexdigest()
    assert store.lookup(key, ["svg"]) is None  # never stored
    paths = store.put(key, {"svg": b"<svg/>", "jpg": b"\xff\xd8"})
    assert store.lookup(key, ["svg", "jpg"]) == paths and paths["svg"].read_bytes() == b"<svg/>"
    assert store.lookup(key, ["svg"]) == {"svg": paths["svg"]}  # a subset of the forms
    assert store.lookup(Key("charts").json("spec", {"x": 2}).hexdigest(), ["svg"]) is None  # changed input
    assert store.lookup(key, ["png"]) is None  # a form never stored
    # a plain miss, not damage: the entry stays (a chart drawn for the pages only keeps its SVG)
    assert store.lookup(key, ["svg", "jpg"]) == paths


def test_a_form_never_stored_is_a_plain_miss_that_keeps_the_entry(tmp_path, caplog):
    store = Store(tmp_path / "c")
    key = "c" * 64
    paths = store.put(key, {"svg": b"<svg/>"})
    with caplog.at_level(logging.WARNING, logger="ipeval.run.cache"):
        assert store.lookup(key, ["svg", "jpg"]) is None
    assert not [r for r in caplog.records if getattr(r, "event", "") == "cache_bad"]
    assert store.lookup(key, ["svg"]) == paths


@pytest.mark.parametrize("damage", ["truncated", "emptied", "edited", "removed", "sidecar", "misfiled", "link"])
def test_a_damaged_entry_is_a_logged_miss_and_stored_again(damage, tmp_path, caplog):
    store = Store(tmp_path / "c")
    key, other = "a" * 64, "b" * 64
    store.put(key, {"svg": b"<svg>chart</svg>"})
    store.put(other, {"svg": b"<svg>other</svg>"})
    svg, side = store.path(key, "svg"), store.path(key, "sha256")
    if damage == "truncated":
        svg.write_bytes(b"<svg>ch")
    elif damage == "emptied":
        svg.write_bytes(b"")
    elif damage == "edited":
        svg.write_bytes(b"<svg>CHART</svg>")
    elif damage == "removed":
        svg.unlink()
    elif damage == "sidecar":
        side.write_text(side.read_text()[:10])
    elif damage == "misfiled":  # another key's entry under this name: its bytes and its record
        svg.write_bytes(store.path(other, "svg").read_bytes())
        side.write_bytes(store.path(other, "sha256").read_bytes())
    else:
        svg.unlink()
        svg.symlink_to(store.path(other, "svg"))
    with caplog.at_level(logging.WARNING, logger="ipeval.run.cache"):
        assert store.lookup(key, ["svg"]) is None
    assert [r.event for r in caplog.records] == ["cache_bad"]
    assert not side.exists()  # forgotten: the next lookup is a plain miss until stored again
    store.put(key, {"svg": b"<svg>chart</svg>"})
    assert store.lookup(key, ["svg"]) == {"svg": svg} and svg.read_bytes() == b"<svg>chart</svg>"
    assert store.lookup(other, ["svg"]) is not None  # the other entry untouched


def test_a_crash_while_storing_leaves_a_miss_never_a_half_written_hit(tmp_path, monkeypatch):
    store = Store(tmp_path / "c")
    key = "c" * 64
    real = os.replace
    calls = []

    def crash_on(n):
        def replace(src, dst):
            calls.append(dst)
            if len(calls) == n:
                raise KeyboardInterrupt("killed")  # as a signal landing mid-store
            return real(src, dst)
        return replace

    # killed renaming the first file into place: nothing under its name, no temporary file left
    monkeypatch.setattr(os, "replace", crash_on(1))
    with pytest.raises(KeyboardInterrupt):
        store.put(key, {"svg": b"<svg/>", "jpg": b"jpg"})
    assert sorted(p.name for p in store.folder.iterdir()) == []
    assert store.lookup(key, ["svg"]) is None
    # killed after both files, before the sidecar: the files are there, but not a hit
    calls.clear()
    monkeypatch.setattr(os, "replace", crash_on(3))
    with pytest.raises(KeyboardInterrupt):
        store.put(key, {"svg": b"<svg/>", "jpg": b"jpg"})
    assert store.path(key, "svg").is_file() and not store.path(key, "sha256").exists()
    assert store.lookup(key, ["svg", "jpg"]) is None
    # the next run stores it whole
    monkeypatch.setattr(os, "replace", real)
    store.put(key, {"svg": b"<svg/>", "jpg": b"jpg"})
    assert store.lookup(key, ["svg", "jpg"]) is not None
    assert not [p for p in store.folder.iterdir() if p.name.endswith(".tmp")]


def test_a_finished_file_is_moved_in_and_a_file_made_in_place_is_sealed(tmp_path):
    store = Store(tmp_path / "c")
    made = tmp_path / "c" / "font.1234.tmp"
    made.parent.mkdir()
    made.write_bytes(b"ttf bytes")
    store.put("d" * 64, {"ttf": made})
    assert not made.exists() and store.lookup("d" * 64, ["ttf"])["ttf"].read_bytes() == b"ttf bytes"
    store.path("e" * 64, "svg").write_bytes(b"drawn by its maker")  # e.g. Matplotlib, renamed into place
    assert store.lookup("e" * 64, ["svg"]) is None
    store.seal("e" * 64, ["svg", "jpg"])  # only the svg exists: only it is recorded
    assert store.lookup("e" * 64, ["svg"]) is not None and store.lookup("e" * 64, ["svg", "jpg"]) is None


# --------------------------------------------------------------------------- JSON values

def test_a_json_value_round_trips_with_its_key_and_checksum_inside(tmp_path):
    store = Store(tmp_path / "a")
    value = {"probability": np.float64(0.25), "bands": [{"q": 1}], "note": "按期"}
    path = store.put_json("k1", value)
    entry = json.loads(path.read_text(encoding="utf-8"))
    assert entry["key"] == "k1" and entry["sha256"] == hc.json_checksum(entry["data"])
    assert store.get_json("k1") == {"probability": 0.25, "bands": [{"q": 1}], "note": "按期"}
    assert store.get_json("k2") is None
    # keys keep their order: a table built from a cached value has the columns of a computed one
    store.put_json("k3", {"period": "2025", "indicator_id": "x", "qindex": 8103, "q025": 1.0})
    assert list(store.get_json("k3")) == ["period", "indicator_id", "qindex", "q025"]


@pytest.mark.parametrize("damage", ["truncated", "misfiled", "tampered"])
def test_a_damaged_json_value_is_a_logged_miss_and_removed(damage, tmp_path, caplog):
    store = Store(tmp_path / "a")
    path = store.put_json("k1", {"p": 0.5})
    store.put_json("k2", {"p": 0.9})
    if damage == "truncated":
        path.write_text(path.read_text()[:15])
    elif damage == "misfiled":
        path.write_bytes(store.path("k2", "json").read_bytes())
    else:
        entry = json.loads(path.read_text())
        entry["data"]["p"] = 0.123456
        path.write_text(json.dumps(entry))
    with caplog.at_level(logging.WARNING, logger="ipeval.run.cache"):
        assert store.get_json("k1") is None
    assert [r.event for r in caplog.records] == ["cache_bad"] and not path.exists()


# --------------------------------------------------------------------------- reuse from the previous run

def test_a_stamp_names_its_files_only_for_its_key(tmp_path):
    stamp = tmp_path / "documents" / ".stamp"
    assert read_stamp(stamp, "k") is None
    write_stamp(stamp, "k", ["a.docx", "a.pdf"])
    assert read_stamp(stamp, "k") == ["a.docx", "a.pdf"]
    assert read_stamp(stamp, "other") is None
    write_stamp(stamp, "k")
    assert read_stamp(stamp, "k") == []


def test_files_are_copied_all_verified_or_none(tmp_path):
    prev, run = tmp_path / "prev", tmp_path / "run"
    (prev / "charts").mkdir(parents=True)
    for n in ("a", "b"):
        (prev / "charts" / f"{n}.svg").write_text(n)
    rels = ["charts/a.svg", "charts/b.svg"]
    recorded = {r: sha256_file(prev / r) for r in rels}
    assert copy_all_verified(prev, rels, run, recorded)
    assert (run / "charts/b.svg").read_text() == "b"
    assert (run / "charts/a.svg").stat().st_ino != (prev / "charts/a.svg").stat().st_ino  # a copy, not a link
    (prev / "charts" / "b.svg").write_text("tampered")
    run2 = tmp_path / "run2"
    assert not copy_all_verified(prev, rels, run2, recorded)
    assert not (run2 / "charts/a.svg").exists()  # the first copy was taken back


# --------------------------------------------------------------------------- the schemes on the helper

def test_a_font_cut_is_kept_by_the_fonts_bytes_and_cut_again_when_damaged(tmp_path, monkeypatch):
    from helpers.pages.document import fonts

    cuts = []

    def fake_cut(src, text, dest):  # the real cut takes seconds: what is cached is the point here
        cuts.append(src.name)
        dest.write_bytes(b"ttf:" + src.read_bytes()[:4] + text.encode())

    monkeypatch.setattr(fonts, "_cut_to_truetype", fake_cut)
    src = tmp_path / "Noto.otf"
    src.write_bytes(b"OTTO-one")
    cache = tmp_path / "fonts"
    first = fonts.truetype_fonts({"sans": src}, {"a", "b"}, cache)["sans"]
    assert fonts.truetype_fonts({"sans": src}, {"b", "a"}, cache)["sans"] == first and cuts == ["Noto.otf"]
    first.write_bytes(first.read_bytes()[:3])  # truncated: cut again, never embedded
    assert fonts.truetype_fonts({"sans": src}, {"a", "b"}, cache)["sans"].read_bytes() == b"ttf:OTTOab"
    src.write_bytes(b"OTTO-two")  # another font of the same name and size: another cut
    assert fonts.truetype_fonts({"sans": src}, {"a", "b"}, cache)["sans"] != first and len(cuts) == 3
    assert not list(cache.glob("*.tmp"))


def test_the_documents_key_sees_the_teams_judgement_and_the_charts(tmp_path):
    from types import SimpleNamespace

    from helpers.pages.document import _stamp

    run = tmp_path / "run"
    (run / "params").mkdir(parents=True)
    (run / "charts").mkdir()
    (run / "assessments.csv").write_text("a\n1\n")
    (run / "params" / "judgement.yaml").write_text("targets: {}\n")
    (run / "charts" / "charts.json").write_text('{"x": {"330106": {"sha256": "1"}}}')
    s = SimpleNamespace(root=tmp_path, outputs_path=tmp_path / "outputs")

    def key(**over):
        args = {"codes": ["330106"], "formats": ("docx",), "lang": "zh"} | over
        return _stamp(run, args["codes"], args["formats"], args["lang"], s)

    base = key()
    assert key() == base and key(lang="en") != base and key(formats=("docx", "pdf")) != base
    (run / "params" / "judgement.yaml").write_text("targets: {admin_cases: {problem: 新问题}}\n")
    assert key() != base  # the team's 问题与建议 changed: the documents are written again
    changed = key()
    (run / "charts" / "charts.json").write_text('{"x": {"330106": {"sha256": "2"}}}')
    assert key() != changed  # a chart drawn differently
    changed = key()
    (tmp_path / "data" / "reference").mkdir(parents=True)
    (tmp_path / "data" / "reference" / "press.csv").write_text("figure\n1\n")
    assert key() != changed  # the published figures the documents quote
