"""Downloads against a local HTTP server: clean, cut and resumed, corrupt, malicious, idempotent."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import tarfile

import pytest

from quba.data.download import (
    ARCHIVES,
    IMAGENET_C_GROUPS,
    download,
    extract_archive,
    fetch,
    read_manifest,
    resolve_archives,
)
from quba.data.suites import CORRUPTIONS, IMAGENET_SUITE
from quba.data.testing import FileServer, make_imagenet_tree, make_tar
from quba.data.verify import verify
from quba.errors import ConfigError, DataError


@pytest.fixture(scope="module")
def edge_archive(tmp_path_factory):
    """A full-size edge set (16 categories x 10 = 160 images), packed like the publisher's."""
    source = tmp_path_factory.mktemp("source")
    make_imagenet_tree(source, datasets=["edge"], categories=16, images_per_class=10)
    return make_tar(source / "modelvshuman/edge", source / "edge.tar.gz", arcname="edge")


def serve(archive: bytes, name: str = "edge.tar.gz", **kwargs) -> FileServer:
    return FileServer({name: archive}, **kwargs)


def edge_from(server: FileServer):
    return dataclasses.replace(ARCHIVES["edge"], url=server.url("edge.tar.gz"))


def test_clean_download_installs_verifies_and_records(tmp_path, edge_archive):
    calls = []
    with serve(edge_archive) as server:
        result = download(edge_from(server), tmp_path, progress=lambda d, t: calls.append((d, t)))
    sha = hashlib.sha256(edge_archive).hexdigest()
    assert result.status == "downloaded" and result.sha256 == sha
    assert result.size == len(edge_archive) and result.target == tmp_path / "modelvshuman/edge"
    assert calls[-1] == (len(edge_archive), len(edge_archive))
    assert verify(IMAGENET_SUITE, tmp_path, ["edge"], deep=True).ok  # 160 of 160 images
    entry = json.loads((tmp_path / ".quba/manifest.json").read_text())["archives"]["edge"]
    assert (entry["url"], entry["size"], entry["sha256"]) == (
        server.url("edge.tar.gz"),
        len(edge_archive),
        sha,
    )
    assert not (tmp_path / ".quba/downloads/edge.tar.gz").exists()  # archive removed
    assert list((tmp_path / ".quba/tmp").iterdir()) == []


def test_rerun_is_idempotent(tmp_path, edge_archive):
    with serve(edge_archive) as server:
        download(edge_from(server), tmp_path)
        again = download(edge_from(server), tmp_path)
        assert again.status == "skipped" and len(server.requests) == 1
        forced = download(edge_from(server), tmp_path, force=True)
        assert forced.status == "downloaded" and len(server.requests) == 2
    assert verify(IMAGENET_SUITE, tmp_path, ["edge"]).ok


def test_transfer_cut_half_way_is_resumed_by_a_later_run(tmp_path, edge_archive):
    with serve(edge_archive) as server:
        server.cut["edge.tar.gz"] = 1
        with pytest.raises(DataError, match="Run the same command again to resume"):
            download(edge_from(server), tmp_path, retries=0)
        part = tmp_path / ".quba/downloads/edge.tar.gz.part"
        half = len(edge_archive) // 2
        assert part.stat().st_size == half
        result = download(edge_from(server), tmp_path, retries=0)
        assert server.requests == [("edge.tar.gz", None), ("edge.tar.gz", f"bytes={half}-")]
    assert result.sha256 == hashlib.sha256(edge_archive).hexdigest()
    assert verify(IMAGENET_SUITE, tmp_path, ["edge"], deep=True).ok


def test_cut_transfer_is_retried_within_one_run(tmp_path, edge_archive):
    with serve(edge_archive) as server:
        server.cut["edge.tar.gz"] = 2
        result = download(edge_from(server), tmp_path, retries=2, backoff=0)
        assert [r[1] is not None for r in server.requests] == [False, True, True]
    assert result.sha256 == hashlib.sha256(edge_archive).hexdigest()


def test_server_without_range_support_restarts_from_zero(tmp_path, edge_archive):
    with serve(edge_archive, ranges=False) as server:
        server.cut["edge.tar.gz"] = 1
        result = download(edge_from(server), tmp_path, retries=1, backoff=0)
    assert result.sha256 == hashlib.sha256(edge_archive).hexdigest()


def test_fetch_reports_a_missing_file(tmp_path):
    with FileServer({}) as server, pytest.raises(DataError, match="answered 404"):
        fetch(server.url("nothing.tar"), tmp_path / "nothing.tar")


def test_corrupt_archive_is_refused_and_deleted(tmp_path, edge_archive):
    corrupt = (
        edge_archive[:100] + bytes(b ^ 0xFF for b in edge_archive[100:400]) + edge_archive[400:]
    )
    with serve(corrupt) as server, pytest.raises(DataError, match="corrupt or truncated"):
        download(edge_from(server), tmp_path)
    assert not (tmp_path / "modelvshuman/edge").exists()
    assert not (tmp_path / ".quba/downloads/edge.tar.gz").exists()
    assert list((tmp_path / ".quba/tmp").iterdir()) == []
    assert read_manifest(tmp_path)["archives"] == {}


def test_checksum_and_size_mismatch_are_refused(tmp_path, edge_archive):
    with serve(edge_archive) as server:
        wrong_sha = dataclasses.replace(edge_from(server), sha256="0" * 64)
        with pytest.raises(DataError, match="expected SHA-256 0000"):
            download(wrong_sha, tmp_path)
        wrong_size = dataclasses.replace(edge_from(server), size=len(edge_archive) + 1)
        with pytest.raises(DataError, match=f"expected {len(edge_archive) + 1} bytes"):
            download(wrong_size, tmp_path)
        right = dataclasses.replace(
            edge_from(server),
            size=len(edge_archive),
            sha256=hashlib.sha256(edge_archive).hexdigest(),
        )
        assert download(right, tmp_path).status == "downloaded"
    assert verify(IMAGENET_SUITE, tmp_path, ["edge"]).ok


def malicious(member: tarfile.TarInfo, data: bytes = b"x") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        ok = tarfile.TarInfo("edge/airplane/airplane1.png")
        ok.size = 1
        tar.addfile(ok, io.BytesIO(b"x"))
        if member.isfile():
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
        else:
            tar.addfile(member)
    return buffer.getvalue()


def link(name: str, target: str, kind: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


@pytest.mark.parametrize(
    ("member", "pattern"),
    [
        (tarfile.TarInfo("../escaped.txt"), "escapes the target folder"),
        (tarfile.TarInfo("edge/../../escaped.txt"), "escapes the target folder"),
        (tarfile.TarInfo("/tmp/absolute-escaped.txt"), "absolute path"),
        (link("edge/airplane/l.png", "../../../escaped.txt", tarfile.SYMTYPE), "is a link"),
        (link("edge/airplane/h.png", "edge/airplane/airplane1.png", tarfile.LNKTYPE), "is a link"),
    ],
    ids=["dotdot", "nested-dotdot", "absolute", "symlink", "hardlink"],
)
def test_malicious_members_are_refused(tmp_path, member, pattern):
    root = tmp_path / "root"
    with serve(malicious(member)) as server, pytest.raises(DataError, match=pattern):
        download(edge_from(server), root)
    assert not (tmp_path / "escaped.txt").exists() and not (root / "escaped.txt").exists()
    assert not (root / "modelvshuman").exists()
    assert list((root / ".quba/tmp").iterdir()) == []


def test_extract_refuses_devices(tmp_path):
    device = tarfile.TarInfo("edge/dev")
    device.type = tarfile.CHRTYPE
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(malicious(device))
    with pytest.raises(DataError, match="not a file or folder"):
        extract_archive(archive, tmp_path / "out")


def test_imagenet_c_groups_merge_into_one_folder(tmp_path):
    source = tmp_path / "source"
    make_imagenet_tree(source, datasets=["imagenet_c"], corruptions=CORRUPTIONS, severities=[1])
    files = {}
    for group in ("noise", "blur"):
        folder = tmp_path / group
        folder.mkdir()
        for corruption in IMAGENET_C_GROUPS[group]:
            (source / "imagenet-c" / corruption).rename(folder / corruption)
        # the published tars hold the corruption folders at their top
        files[f"{group}.tar"] = make_tar(folder, tmp_path / f"{group}.tar", arcname=".")
    root = tmp_path / "root"
    with FileServer(files) as server:
        for group in ("noise", "blur"):
            archive = ARCHIVES[f"imagenet-c-{group}"]
            download(dataclasses.replace(archive, url=server.url(f"{group}.tar")), root)
    installed = sorted(p.name for p in (root / "imagenet-c").iterdir())
    assert installed == sorted(IMAGENET_C_GROUPS["noise"] + IMAGENET_C_GROUPS["blur"])
    report = verify(IMAGENET_SUITE, root, ["imagenet_c"])
    assert report["imagenet_c"].status == "partial" and report["imagenet_c"].found == 7 * 6


def test_mirror_replaces_the_url(tmp_path, edge_archive):
    with serve(edge_archive) as server:
        result = download(ARCHIVES["edge"], tmp_path, mirror=server.base_url + "/")
    assert result.status == "downloaded"
    manifest = read_manifest(tmp_path)
    assert manifest["archives"]["edge"]["url"] == server.url("edge.tar.gz")


def test_resolve_archives():
    archives, imagenet = resolve_archives(["imagenet_c", "edge", "imagenet"])
    assert [a.name for a in archives] == [
        "imagenet-c-noise",
        "imagenet-c-blur",
        "imagenet-c-weather",
        "imagenet-c-digital",
        "edge",
    ]
    assert imagenet
    every, _ = resolve_archives(["all"])
    assert {k for a in every for k in a.datasets} == set(IMAGENET_SUITE.datasets) - {"imagenet_val"}
    assert [a.name for a in resolve_archives(["mixed_rand"])[0]] == ["backgrounds-challenge"]
    with pytest.raises(ConfigError, match="Unknown download 'imagenet-p'"):
        resolve_archives(["imagenet-p"])


def test_archive_urls_follow_the_protocol():
    assert ARCHIVES["cue-conflict"].url == (
        "https://github.com/bethgelab/model-vs-human/releases/download/v0.1/cue-conflict.tar.gz"
    )
    assert ARCHIVES["imagenet-c-weather"].url == (
        "https://zenodo.org/records/2235448/files/weather.tar"
    )
    assert all("3565846" not in a.url for a in ARCHIVES.values())  # that record is ImageNet-P
    groups = [c for g in ("noise", "blur", "weather", "digital") for c in IMAGENET_C_GROUPS[g]]
    assert sorted(groups) == sorted(CORRUPTIONS)
