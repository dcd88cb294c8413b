"""Downloads of the public datasets: resumable, verified, extracted safely, recorded.

``download(archive, root)`` does, for one :class:`Archive`:

1. skip it when the manifest records it as installed and its folders still exist (idempotent);
2. fetch the URL into ``<root>/.quba/downloads/<file>.part``, resuming a cut transfer with an
   HTTP ``Range`` request, reporting ``progress(done_bytes, total_bytes)``;
3. check the size (the known size, else the server's) and the SHA-256 where known;
4. extract into a temporary folder under ``<root>/.quba/tmp``, refusing members that are links,
   devices, absolute paths or paths that escape the folder;
5. move the content into place with an atomic rename (the temporary folder is on the same file
   system as the target), and record URL, size and SHA-256 in ``<root>/.quba/manifest.json``.

ImageNet itself needs a licence and is never downloaded: :data:`IMAGENET_INSTRUCTIONS` says where
to get it and how to lay it out.
"""

from __future__ import annotations

import dataclasses
import datetime
import gzip
import hashlib
import http.client
import json
import logging
import os
import shutil
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from quba.data.labels import CATEGORIES_16, imagenet_r_wnids
from quba.data.suites import CORRUPTIONS, EXTRA_CORRUPTIONS
from quba.errors import ConfigError, DataError

logger = logging.getLogger(__name__)

MANIFEST_SCHEMA_VERSION = 1
STATE_FOLDER = ".quba"
_CHUNK = 1 << 20

#: ``progress(done_bytes, total_bytes_or_None)`` while an archive is transferred.
DownloadProgress = Callable[[int, "int | None"], None]


@dataclass(frozen=True)
class Archive:
    """A published archive and where its content goes under the data root.

    Attributes:
        name: the name used on the command line (``quba data download NAME``).
        url: where it is published.
        target: the folder under the data root that receives the archive's content.
        expect: names of entries at the top of the content; the shallowest folder of the
            archive that holds one of them is the content (archives wrap it in 0-2 folders).
        datasets: the dataset keys it provides (some only in part).
        size: the archive's size in bytes, where known.
        sha256: the archive's SHA-256, where known.
    """

    name: str
    url: str
    target: str
    expect: tuple[str, ...]
    datasets: tuple[str, ...]
    size: int | None = None
    sha256: str | None = None
    description: str = ""

    @property
    def filename(self) -> str:
        return PurePosixPath(urllib.request.urlparse(self.url).path).name


@dataclass(frozen=True)
class DownloadResult:
    """What :func:`download` did with one archive."""

    name: str
    status: Literal["downloaded", "skipped"]
    target: Path
    size: int | None
    sha256: str | None
    entries: tuple[str, ...]


_MVH = "https://github.com/bethgelab/model-vs-human/releases/download/v0.1/{}.tar.gz"
_BG = (
    "https://github.com/MadryLab/backgrounds_challenge/releases/download/data/"
    "backgrounds_challenge_data.tar.gz"
)
_IMAGENET_R = "https://people.eecs.berkeley.edu/~hendrycks/imagenet-r.tar"
_IMAGENET_C = "https://zenodo.org/records/2235448/files/{}.tar"

IMAGENET_C_GROUPS: dict[str, tuple[str, ...]] = {
    "noise": CORRUPTIONS[0:3],
    "blur": CORRUPTIONS[3:7],
    "weather": CORRUPTIONS[7:11],
    "digital": CORRUPTIONS[11:15],
    "extra": EXTRA_CORRUPTIONS,
}


def _archives() -> dict[str, Archive]:
    categories = tuple(CATEGORIES_16)
    entries = [
        Archive(
            "cue-conflict",
            _MVH.format("cue-conflict"),
            "modelvshuman/cue-conflict",
            categories,
            ("cue_conflict",),
            description="model-vs-human cue-conflict",
        ),
        Archive(
            "edge",
            _MVH.format("edge"),
            "modelvshuman/edge",
            categories,
            ("edge",),
            description="model-vs-human edge",
        ),
        Archive(
            "silhouette",
            _MVH.format("silhouette"),
            "modelvshuman/silhouette",
            categories,
            ("silhouette",),
            description="model-vs-human silhouette",
        ),
        Archive(
            "sketch",
            _MVH.format("sketch"),
            "modelvshuman/sketch",
            ("dnn",),
            ("sketch",),
            description="model-vs-human sketch",
        ),
        Archive(
            "stylized",
            _MVH.format("stylized"),
            "modelvshuman/stylized",
            ("dnn",),
            ("stylized",),
            description="model-vs-human stylized",
        ),
        Archive(
            "backgrounds-challenge",
            _BG,
            "bg_challenge",
            ("mixed_same", "mixed_rand"),
            ("mixed_same", "mixed_rand"),
            description="Backgrounds Challenge (all variants)",
        ),
        Archive(
            "imagenet-r",
            _IMAGENET_R,
            "imagenet-r",
            imagenet_r_wnids(),
            ("imagenet_r",),
            description="ImageNet-R",
        ),
    ]
    for group, corruptions in IMAGENET_C_GROUPS.items():
        entries.append(
            Archive(
                f"imagenet-c-{group}",
                _IMAGENET_C.format(group),
                "imagenet-c",
                corruptions,
                ("imagenet_c",) if group != "extra" else (),
                description=f"ImageNet-C {group}: {', '.join(corruptions)}",
            )
        )
    return {a.name: a for a in entries}


#: The public archives of the ImageNet suite, by name. No size or SHA-256 is published for them
#: in a form quba could check against; the manifest records the values measured on download.
ARCHIVES: dict[str, Archive] = _archives()

IMAGENET_INSTRUCTIONS = """\
ImageNet-1k needs a licence and is not downloaded by quba.
Get the validation set (ILSVRC2012_img_val.tar, 6.3 GB, 50,000 images) after accepting the terms
at https://image-net.org/download-images (or from the Kaggle "ImageNet Object Localization
Challenge", which ships LOC_val_solution.csv), then lay it out under the data root in one of:

  imagenet/val/<wnid>/<file>.JPEG                    one folder per class (1000 wnids)
  imagenet/val/ILSVRC2012_val_00000001.JPEG …        flat, with imagenet/LOC_val_solution.csv
  imagenet/val/ILSVRC2012_val_00000001.JPEG …        flat, with the devkit's
      imagenet/ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt and meta.mat

For example:
  mkdir -p "$ROOT/imagenet/val" && tar -xf ILSVRC2012_img_val.tar -C "$ROOT/imagenet/val"
  tar -xzf ILSVRC2012_devkit_t12.tar.gz -C "$ROOT/imagenet"
Then check it with: quba data verify imagenet_val"""

IMAGENET_NAMES = frozenset({"imagenet", "imagenet_val", "imagenet-val"})


def resolve_archives(names: Iterable[str]) -> tuple[list[Archive], bool]:
    """Archives for the names given on the command line, and whether ImageNet was asked for.

    A name is an archive name (``edge``, ``imagenet-c-noise``, …), a dataset key (``edge``,
    ``imagenet_c`` = the four scored groups, ``mixed_same``), or ``all`` (every public archive
    but ``imagenet-c-extra``). ``imagenet`` / ``imagenet_val`` ask for the ImageNet instructions.
    """
    chosen: dict[str, Archive] = {}
    imagenet = False
    for name in names:
        if name in IMAGENET_NAMES:
            imagenet = True
            continue
        if name == "all":
            matches = [a for a in ARCHIVES.values() if a.name != "imagenet-c-extra"]
        elif name in ARCHIVES:
            matches = [ARCHIVES[name]]
        else:
            matches = [a for a in ARCHIVES.values() if name in a.datasets]
        if not matches:
            raise ConfigError(
                f"Unknown download {name!r}; expected one of all, imagenet, "
                f"{', '.join(ARCHIVES)}, or a dataset key"
            )
        for archive in matches:
            chosen.setdefault(archive.name, archive)
    return list(chosen.values()), imagenet


# -- manifest -------------------------------------------------------------------------------


def manifest_path(root: Path) -> Path:
    return Path(root) / STATE_FOLDER / "manifest.json"


def read_manifest(root: Path) -> dict[str, Any]:
    """The manifest of downloads under ``root`` (an empty one if there is none)."""
    path = manifest_path(root)
    if not path.exists():
        return {"schema_version": MANIFEST_SCHEMA_VERSION, "archives": {}}
    try:
        manifest = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise DataError(f"{path}: cannot read the download manifest ({error})") from error
    if manifest.get("schema_version") != MANIFEST_SCHEMA_VERSION:
        raise DataError(
            f"{path}: expected manifest schema_version {MANIFEST_SCHEMA_VERSION}, "
            f"got {manifest.get('schema_version')!r}"
        )
    return manifest


def _record(root: Path, name: str, entry: dict[str, Any]) -> None:
    from filelock import FileLock

    path = manifest_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"):
        manifest = read_manifest(root)
        manifest["archives"][name] = entry
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix="manifest.", suffix=".tmp")
        with os.fdopen(fd, "w") as handle:
            json.dump(manifest, handle, indent=2, sort_keys=True)
        os.replace(temporary, path)


# -- transfer -------------------------------------------------------------------------------


class _Truncated(Exception):
    """The server closed the connection before the announced end of the body."""


def _content_range_total(header: str | None) -> tuple[int | None, int | None]:
    """``bytes start-end/total`` -> (start, total); missing parts as None."""
    if not header or not header.startswith("bytes "):
        return None, None
    span, _, total = header[6:].partition("/")
    start = span.split("-")[0]
    return (
        int(start) if start.isdigit() else None,
        int(total) if total.isdigit() else None,
    )


def _transfer_once(
    url: str, part: Path, timeout: float, progress: DownloadProgress | None
) -> int | None:
    """One HTTP request, appending to ``part`` from its current size; returns the total size."""
    offset = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "quba"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:
            _, total = _content_range_total(error.headers.get("Content-Range"))
            if total == offset:
                return total  # the part file is already complete
            part.unlink()
            raise _Truncated(f"range not satisfiable at {offset} bytes; restarting") from None
        raise
    with response:
        length = response.headers.get("Content-Length")
        if response.status == 206:
            start, total = _content_range_total(response.headers.get("Content-Range"))
            if start != offset:
                part.unlink()
                raise _Truncated(f"server resumed at byte {start}, not {offset}; restarting")
        else:
            if offset:
                logger.info("%s: server ignored the range request; restarting", url)
            offset = 0
            total = int(length) if length and length.isdigit() else None
        done = offset
        with open(part, "ab" if offset else "wb") as handle:
            while True:
                try:
                    chunk = response.read(_CHUNK)
                except http.client.IncompleteRead as error:
                    handle.write(error.partial)
                    done += len(error.partial)
                    raise _Truncated(f"connection closed after {done} bytes") from None
                if not chunk:
                    break
                handle.write(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
    if total is not None and done != total:
        raise _Truncated(f"received {done} of {total} bytes")
    return total


def fetch(
    url: str,
    destination: Path,
    *,
    progress: DownloadProgress | None = None,
    retries: int = 3,
    timeout: float = 60.0,
    backoff: float = 2.0,
) -> int:
    """Download ``url`` to ``destination``, resuming from ``destination.part``; return the size.

    A transfer cut short is resumed with an HTTP ``Range`` request, up to ``retries`` times in
    this call; the ``.part`` file stays for a later call otherwise. A server that ignores ranges
    restarts from zero. Client errors (4xx) are not retried.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    part = destination.with_name(destination.name + ".part")
    last: Exception | None = None
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(backoff * attempt)
            logger.info("%s: resuming at %d bytes (attempt %d)", url, _size(part), attempt + 1)
        try:
            total = _transfer_once(url, part, timeout, progress)
        except urllib.error.HTTPError as error:
            if 400 <= error.code < 500:
                raise DataError(f"{url}: the server answered {error.code} {error.reason}") from None
            last = error
        except (_Truncated, urllib.error.URLError, OSError, http.client.HTTPException) as error:
            last = error
        else:
            size = _size(part)
            if total is not None and size != total:
                raise DataError(f"{part}: expected {total} bytes, the file has {size}")
            os.replace(part, destination)
            return size
        logger.warning("%s: transfer interrupted (%s)", url, last)
    raise DataError(
        f"{url}: the transfer failed after {retries + 1} attempt(s) ({last}); "
        f"{_size(part)} bytes are kept in {part}",
        hint="Run the same command again to resume.",
    )


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


# -- extraction -----------------------------------------------------------------------------


def _safe_member_path(name: str, destination: Path) -> Path | None:
    """The path a member extracts to, or ``None`` for ``.``; DataError if it would escape."""
    pure = PurePosixPath(name.replace("\\", "/"))
    if pure.is_absolute() or (pure.parts and ":" in pure.parts[0]):
        raise DataError(f"archive member {name!r} has an absolute path; refusing to extract")
    parts = [p for p in pure.parts if p != "."]
    if ".." in parts:
        raise DataError(f"archive member {name!r} escapes the target folder; refusing to extract")
    if not parts:
        return None
    return destination.joinpath(*parts)


def extract_archive(archive: Path, destination: Path) -> None:
    """Extract a tar archive (plain, gz, bz2 or xz) into ``destination``, safely.

    Only regular files and folders are written; a member that is a link, a device, has an
    absolute path or a ``..`` raises :class:`DataError` (nothing outside ``destination`` is
    touched, but what was written inside it remains: extract into a temporary folder).
    A corrupt or truncated archive raises :class:`DataError`.
    """
    destination.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive, mode="r:*") as tar:
            for member in tar:
                target = _safe_member_path(member.name, destination)
                if member.issym() or member.islnk():
                    raise DataError(
                        f"archive member {member.name!r} is a link; refusing to extract {archive}"
                    )
                if target is None:
                    continue
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                elif member.isfile():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    source = tar.extractfile(member)
                    if source is None:
                        raise DataError(f"archive member {member.name!r} cannot be read")
                    with source, open(target, "wb") as handle:
                        shutil.copyfileobj(source, handle, _CHUNK)
                else:
                    raise DataError(
                        f"archive member {member.name!r} is not a file or folder; refusing to "
                        f"extract {archive}"
                    )
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise DataError(f"{archive}: corrupt or truncated archive ({error})") from error


def find_content(folder: Path, expect: Iterable[str], depth: int = 3) -> Path:
    """The shallowest folder under ``folder`` (itself included) holding an entry in ``expect``."""
    expected = set(expect)
    level = [folder]
    for _ in range(depth + 1):
        for candidate in level:
            if any(child.name in expected for child in candidate.iterdir()):
                return candidate
        level = sorted(c for f in level for c in f.iterdir() if c.is_dir())
    raise DataError(
        f"the archive extracted into {folder} does not hold the expected folders "
        f"(any of {', '.join(sorted(expected)[:6])}…)"
    )


def _install(content: Path, target: Path) -> tuple[str, ...]:
    """Move ``content`` to ``target`` (one atomic rename), or merge its entries into it."""
    entries = tuple(sorted(child.name for child in content.iterdir()))
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(content, target)
        return entries
    for name in entries:
        destination = target / name
        if destination.exists():
            logger.warning(
                "%s exists already; keeping it and leaving the new copy out", destination
            )
            continue
        os.replace(content / name, destination)
    return entries


def _installed(root: Path, archive: Archive, manifest: dict[str, Any]) -> dict[str, Any] | None:
    entry = manifest["archives"].get(archive.name)
    if not entry:
        return None
    target = root / entry["target"]
    if all((target / name).exists() for name in entry.get("entries", [])) and target.exists():
        return entry
    return None


def download(
    archive: Archive,
    root: Path | str,
    *,
    progress: DownloadProgress | None = None,
    keep_archive: bool = False,
    force: bool = False,
    mirror: str | None = None,
    retries: int = 3,
    timeout: float = 60.0,
    backoff: float = 2.0,
) -> DownloadResult:
    """Download, verify, extract and install one archive under the data ``root``.

    ``mirror`` replaces the URL by ``<mirror>/<archive file name>``. A rerun after success does
    nothing (unless ``force``); a rerun after an interrupted transfer resumes it. The archive is
    deleted after installation unless ``keep_archive``.
    """
    from filelock import FileLock

    root = Path(root)
    if mirror:
        archive = dataclasses.replace(archive, url=f"{mirror.rstrip('/')}/{archive.filename}")
    state = root / STATE_FOLDER
    downloads, temporary_root = state / "downloads", state / "tmp"
    downloads.mkdir(parents=True, exist_ok=True)
    temporary_root.mkdir(parents=True, exist_ok=True)
    target = root / archive.target

    with FileLock(str(downloads / f"{archive.name}.lock")):
        entry = None if force else _installed(root, archive, read_manifest(root))
        if entry is not None:
            logger.info("%s: already installed in %s", archive.name, target)
            return DownloadResult(
                archive.name,
                "skipped",
                target,
                entry.get("size"),
                entry.get("sha256"),
                tuple(entry.get("entries", [])),
            )

        path = downloads / archive.filename
        if not path.exists():
            fetch(
                archive.url,
                path,
                progress=progress,
                retries=retries,
                timeout=timeout,
                backoff=backoff,
            )
        size = path.stat().st_size
        if archive.size is not None and size != archive.size:
            path.unlink()
            raise DataError(f"{archive.url}: expected {archive.size} bytes, received {size}")
        digest = sha256_file(path)
        if archive.sha256 is not None and digest != archive.sha256.lower():
            path.unlink()
            raise DataError(
                f"{archive.url}: expected SHA-256 {archive.sha256}, received {digest}",
                hint="The file was deleted; run the command again to download it anew.",
            )

        temporary = Path(tempfile.mkdtemp(prefix=f"{archive.name}-", dir=temporary_root))
        try:
            try:
                extract_archive(path, temporary)
            except DataError:
                path.unlink()  # a corrupt archive is fetched anew on the next run
                raise
            content = find_content(temporary, archive.expect)
            entries = _install(content, target)
        finally:
            shutil.rmtree(temporary, ignore_errors=True)

        _record(
            root,
            archive.name,
            {
                "url": archive.url,
                "size": size,
                "sha256": digest,
                "target": archive.target,
                "entries": list(entries),
                "datasets": list(archive.datasets),
                "installed": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            },
        )
        if not keep_archive:
            path.unlink()
        logger.info("%s: installed %d entries in %s", archive.name, len(entries), target)
        return DownloadResult(archive.name, "downloaded", target, size, digest, entries)
