"""Where the zones' bytes are kept: a local folder (the default) or an S3-compatible object store.

    zone_for(settings)           the `Zone` of LNOB_HOME: `LocalZone` for a path, `S3Zone` for s3://bucket/prefix
    Zone.write_once(key, data)   keep bytes under a key that must not exist yet; False when it already did
    Zone.write(key, data)        replace the object in one step (a reader sees the old bytes or the new)
    Zone.write_if(key, data, tag)  replace only while the object is still the one read with `tag` (its ETag;
                                 None: only while there is none); raises `Precondition` otherwise

Keys are relative POSIX paths (`landing/ab/ab12…`, `marts/current.json`). On object storage the store
itself refuses an overwrite (`If-None-Match: *`, `If-Match: <etag>`), so two machines racing on one key
need no lock of their own. One client library serves lnob and anything that reads the same store through
fsspec (Prefect's result storage, Polars, PyArrow): s3fs, configured the usual AWS way (AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_REGION, and AWS_ENDPOINT_URL for an S3-compatible store that is not AWS).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

S3_SCHEME = "s3://"


class Precondition(RuntimeError):
    """A conditional write found the object changed (or present) since it was read."""


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str            # without leading or trailing slash; may be empty

    @property
    def url(self) -> str:
        return f"{S3_SCHEME}{self.bucket}/{self.prefix}".rstrip("/")


def is_remote(home: str | os.PathLike) -> bool:
    return str(home).startswith(S3_SCHEME)


def parse_s3(url: str) -> S3Location:
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError(f"not an s3://bucket/prefix address: {url!r}")
    return S3Location(parsed.netloc, parsed.path.strip("/"))


def s3_endpoint() -> str | None:
    return os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None


def _region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def fsspec_options() -> dict:
    """s3fs / fsspec options from the environment (also what Prefect's RemoteFileSystem takes as `settings`)."""
    options: dict = {"client_kwargs": {"region_name": _region()}}
    endpoint = s3_endpoint()
    if endpoint:
        options["client_kwargs"]["endpoint_url"] = endpoint
    if os.environ.get("AWS_ACCESS_KEY_ID"):
        options["key"] = os.environ["AWS_ACCESS_KEY_ID"]
        options["secret"] = os.environ.get("AWS_SECRET_ACCESS_KEY", "")
    return options


def polars_storage_options() -> dict[str, str]:
    """`storage_options` for `pl.read_parquet("s3://…")` / `pl.scan_parquet` from the environment."""
    options = {"aws_region": _region()}
    endpoint = s3_endpoint()
    if endpoint:
        options["aws_endpoint_url"] = endpoint
        if endpoint.startswith("http://"):
            options["aws_allow_http"] = "true"
    if os.environ.get("AWS_ACCESS_KEY_ID"):
        options["aws_access_key_id"] = os.environ["AWS_ACCESS_KEY_ID"]
        options["aws_secret_access_key"] = os.environ.get("AWS_SECRET_ACCESS_KEY", "")
    return options


def pyarrow_filesystem():
    """A `pyarrow.fs.S3FileSystem` for the store of the environment (paths are then `bucket/prefix/…`)."""
    from pyarrow import fs

    endpoint = s3_endpoint()
    kwargs: dict = {"region": _region()}
    if endpoint:
        parsed = urlparse(endpoint)
        kwargs.update(endpoint_override=parsed.netloc, scheme=parsed.scheme or "https")
    if os.environ.get("AWS_ACCESS_KEY_ID"):
        kwargs.update(access_key=os.environ["AWS_ACCESS_KEY_ID"],
                      secret_key=os.environ.get("AWS_SECRET_ACCESS_KEY", ""))
    return fs.S3FileSystem(**kwargs)


class Zone:
    """The bytes of LNOB_HOME by relative key."""

    url: str

    def read_bytes(self, key: str) -> bytes: ...
    def write_once(self, key: str, data: bytes) -> bool: ...
    def write(self, key: str, data: bytes) -> None: ...
    def write_if(self, key: str, data: bytes, tag: str | None) -> str: ...
    def tag(self, key: str) -> str | None: ...
    def exists(self, key: str) -> bool: ...
    def list(self, prefix: str) -> Iterator[str]: ...
    def delete(self, key: str) -> None: ...
    def upload(self, source: Path, key: str) -> None: ...
    def download(self, key: str, target: Path) -> None: ...
    def download_many(self, pairs: list[tuple[str, Path]]) -> None: ...

    def url_for(self, key: str) -> str:
        return f"{self.url}/{key}"


class LocalZone(Zone):
    """A folder; used by tests and tools that treat a folder like the store (the zones themselves keep their
    own fsync'd, link-based writing for local homes)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.url = str(self.root)

    def _path(self, key: str) -> Path:
        return self.root / key

    def read_bytes(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def _temporary(self, path: Path, data: bytes) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(6)}")
        with open(temporary, "xb") as target:
            target.write(data)
            target.flush()
            os.fsync(target.fileno())
        return temporary

    def write_once(self, key: str, data: bytes) -> bool:
        path = self._path(key)
        temporary = self._temporary(path, data)
        try:
            os.link(temporary, path)
            return True
        except FileExistsError:
            return False
        finally:
            temporary.unlink(missing_ok=True)

    def write(self, key: str, data: bytes) -> None:
        path = self._path(key)
        os.replace(self._temporary(path, data), path)

    def tag(self, key: str) -> str | None:
        import hashlib

        path = self._path(key)
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None

    def write_if(self, key: str, data: bytes, tag: str | None) -> str:
        import fcntl
        import hashlib

        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_name(f".{path.name}.lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self.tag(key) != tag:
                raise Precondition(f"{key} changed since it was read")
            self.write(key, data)
        return hashlib.sha256(data).hexdigest()

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def list(self, prefix: str) -> Iterator[str]:
        folder = self._path(prefix)
        if not folder.is_dir():
            return iter(())
        return iter(sorted(p.relative_to(self.root).as_posix() for p in folder.rglob("*")
                           if p.is_file() and ".tmp-" not in p.name))

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def upload(self, source: Path, key: str) -> None:
        self.write(key, Path(source).read_bytes())

    def download(self, key: str, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.tmp-{os.getpid()}-{secrets.token_hex(6)}")
        temporary.write_bytes(self.read_bytes(key))
        os.replace(temporary, target)

    def download_many(self, pairs: list[tuple[str, Path]]) -> None:
        for key, target in pairs:
            self.download(key, target)


def _precondition_failed(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        response = getattr(seen, "response", None)
        if isinstance(response, dict):
            code = str(response.get("Error", {}).get("Code", ""))
            status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in ("PreconditionFailed", "ConditionalRequestConflict") or status in (409, 412):
                return True
        seen = seen.__cause__ or seen.__context__
    return "pre-condition" in str(error).lower() or "precondition" in str(error).lower()


class S3Zone(Zone):
    """An S3 bucket and prefix, through s3fs (listings are never cached: other machines write too)."""

    def __init__(self, url: str) -> None:
        import s3fs

        self.location = parse_s3(url)
        self.url = self.location.url
        self.fs = s3fs.S3FileSystem(use_listings_cache=False, skip_instance_cache=True, **fsspec_options())

    def _path(self, key: str) -> str:
        return "/".join(part for part in (self.location.bucket, self.location.prefix, key) if part)

    def _key(self, key: str) -> str:
        return "/".join(part for part in (self.location.prefix, key) if part)

    def _put(self, key: str, data: bytes, **conditions) -> str:
        try:
            answer = self.fs.call_s3("put_object", Bucket=self.location.bucket, Key=self._key(key), Body=data,
                                     **conditions)
        except Exception as error:   # only a refused condition is ours to name
            if conditions and _precondition_failed(error):
                raise Precondition(f"{self.url_for(key)}: the store refused the write ({conditions})") from error
            raise
        return answer.get("ETag", "")

    def read_bytes(self, key: str) -> bytes:
        return self.fs.cat_file(self._path(key))

    def write_once(self, key: str, data: bytes) -> bool:
        try:
            self._put(key, data, IfNoneMatch="*")
            return True
        except Precondition:
            return False

    def write(self, key: str, data: bytes) -> None:
        self._put(key, data)

    def tag(self, key: str) -> str | None:
        try:
            return self.fs.info(self._path(key))["ETag"]
        except FileNotFoundError:
            return None

    def write_if(self, key: str, data: bytes, tag: str | None) -> str:
        return self._put(key, data, **({"IfNoneMatch": "*"} if tag is None else {"IfMatch": tag}))

    def exists(self, key: str) -> bool:
        return self.fs.exists(self._path(key))

    def list(self, prefix: str) -> Iterator[str]:
        root = self._path("")
        try:
            found = self.fs.find(self._path(prefix.rstrip("/")), detail=True)
        except FileNotFoundError:
            return iter(())
        # Some stores (SeaweedFS) keep an emptied folder as an entry of its own: only objects count.
        return iter(sorted(path[len(root):].lstrip("/") for path, info in found.items()
                           if info.get("type") == "file" and not path.endswith("/")
                           and path.rstrip("/") != self._path(prefix.rstrip("/"))))

    def delete(self, key: str) -> None:
        try:
            self.fs.rm_file(self._path(key))
        except FileNotFoundError:
            pass

    def upload(self, source: Path, key: str) -> None:
        self.fs.put_file(str(source), self._path(key))

    def download(self, key: str, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.tmp-{os.getpid()}-{secrets.token_hex(6)}")
        try:
            self.fs.get_file(self._path(key), str(temporary))
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)

    def download_many(self, pairs: list[tuple[str, Path]]) -> None:
        """Many objects in one call (s3fs runs the requests concurrently), each renamed into place once
        complete."""
        temporaries = []
        for _key, target in pairs:
            target.parent.mkdir(parents=True, exist_ok=True)
            temporaries.append(target.with_name(f".{target.name}.tmp-{os.getpid()}-{secrets.token_hex(6)}"))
        try:
            self.fs.get([self._path(key) for key, _target in pairs], [str(t) for t in temporaries])
            for temporary, (_key, target) in zip(temporaries, pairs, strict=True):
                os.replace(temporary, target)
        finally:
            for temporary in temporaries:
                temporary.unlink(missing_ok=True)
