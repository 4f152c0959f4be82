"""Reading an upload without trusting it.

The request body is read as it arrives and parsed as multipart/form-data on the fly: small form
fields are kept (each bounded), the file's bytes go straight to an anonymous temporary file while
they are hashed and counted. A body that grows past the limit is refused with 413 the moment it
does, whatever Content-Length said, so no upload is ever held in memory or read to its end.

The client's file name is kept as text for the registry and reports only; it never becomes part
of a path (landing names files by their SHA-256). What the file is gets decided from its first
bytes, not from its name or the declared content type.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from lnob.http.refusals import Refusal

FIELD_MAX_BYTES = 4096          # level, unit, year, kind, standard, submitter, token: all short
FIELDS_MAX = 16
HEADER_MAX_BYTES = 8192         # headers of one part
# Room for the form fields and part headers around the file itself.
ENVELOPE_BYTES = FIELDS_MAX * FIELD_MAX_BYTES + 4 * HEADER_MAX_BYTES
SNIFF_BYTES = 64 * 1024


def too_large(limit_bytes: int) -> Refusal:
    mib = limit_bytes / (1024 * 1024)
    return Refusal(413, "too_large",
                   f"Tệp lớn hơn giới hạn {mib:g} MiB nên không được nhận; chia nhỏ tệp (ví dụ theo xã) rồi nộp lại.",
                   f"The file is larger than the {mib:g} MiB limit and was not received; split it (for example "
                   "by commune) and submit again.")


def malformed(reason: str) -> Refusal:
    return Refusal(400, "malformed_upload",
                   f"Nội dung gửi lên không phải biểu mẫu multipart/form-data hợp lệ ({reason}).",
                   f"The request body is not valid multipart/form-data ({reason}).")


@dataclass
class Upload:
    """The parsed form: its text fields and, when a file was sent, where its bytes wait."""

    fields: dict[str, str] = field(default_factory=dict)
    file_field: str | None = None
    file_name: str | None = None       # as the client sent it: text only, never a path
    file_path: Path | None = None
    byte_size: int = 0
    content_hash: str | None = None

    def discard(self) -> None:
        if self.file_path is not None:
            self.file_path.unlink(missing_ok=True)
            self.file_path = None


class _FormCollector:
    """python-multipart callbacks that fill an Upload, within the limits above."""

    def __init__(self, upload: Upload, max_file_bytes: int, spool_dir: str | None) -> None:
        self.upload = upload
        self.max_file_bytes = max_file_bytes
        self.spool_dir = spool_dir
        self.header_name = b""
        self.header_value = b""
        self.header_bytes = 0
        self.disposition = b""
        self.part_name: str | None = None
        self.part_is_file = False
        self.value = bytearray()
        self.file = None
        self.hasher = None
        self.ended = False

    def on_part_begin(self) -> None:
        self.disposition, self.header_bytes, self.value = b"", 0, bytearray()
        self.part_name, self.part_is_file = None, False

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self.header_value += data[start:end]

    def _count_header(self, size: int) -> None:
        self.header_bytes += size
        if self.header_bytes > HEADER_MAX_BYTES:
            raise malformed("part headers too long")

    def on_header_end(self) -> None:
        if self.header_name.strip().lower() == b"content-disposition":
            self.disposition = self.header_value
        self.header_name, self.header_value = b"", b""

    def on_headers_finished(self) -> None:
        from python_multipart.multipart import parse_options_header

        kind, options = parse_options_header(self.disposition)
        if kind.lower() != b"form-data" or b"name" not in options:
            raise malformed("a part without Content-Disposition: form-data; name=…")
        self.part_name = options[b"name"].decode("utf-8", errors="replace")
        if b"filename" in options:
            if self.upload.file_path is not None:
                raise malformed("more than one file")
            self.part_is_file = True
            self.upload.file_field = self.part_name
            self.upload.file_name = options[b"filename"].decode("utf-8", errors="replace")
            handle, name = tempfile.mkstemp(prefix="lnob-upload-", dir=self.spool_dir)
            self.upload.file_path = Path(name)
            self.file = os.fdopen(handle, "wb")
            self.hasher = hashlib.sha256()
        elif len(self.upload.fields) >= FIELDS_MAX:
            raise malformed(f"more than {FIELDS_MAX} fields")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self.part_is_file:
            self.upload.byte_size += len(chunk)
            if self.upload.byte_size > self.max_file_bytes:
                raise too_large(self.max_file_bytes)
            self.hasher.update(chunk)
            self.file.write(chunk)
        else:
            self.value += chunk
            if len(self.value) > FIELD_MAX_BYTES:
                raise malformed(f"field {self.part_name!r} longer than {FIELD_MAX_BYTES} bytes")

    def on_part_end(self) -> None:
        if self.part_is_file:
            self.file.close()
            self.file = None
            self.upload.content_hash = self.hasher.hexdigest()
        elif self.part_name is not None:
            self.upload.fields[self.part_name] = self.value.decode("utf-8", errors="replace")

    def on_end(self) -> None:
        self.ended = True

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None

    def callbacks(self) -> dict:
        return {name: getattr(self, name) for name in (
            "on_part_begin", "on_part_data", "on_part_end", "on_header_field", "on_header_value",
            "on_header_end", "on_headers_finished", "on_end")}


async def read_upload(request, *, max_file_bytes: int, spool_dir: str | None = None) -> Upload:
    """Parse a multipart/form-data request body as it streams in; see the module docstring."""
    from python_multipart import MultipartParser
    from python_multipart.exceptions import FormParserError
    from python_multipart.multipart import parse_options_header

    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    if content_type.lower() != b"multipart/form-data" or not options.get(b"boundary"):
        raise Refusal(415, "unsupported_media_type",
                      "Hãy gửi biểu mẫu multipart/form-data gồm tệp (`file`) và các trường level, unit, year, kind.",
                      "Send multipart/form-data with the file (`file`) and the fields level, unit, year, kind.")
    max_body_bytes = max_file_bytes + ENVELOPE_BYTES
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise malformed("Content-Length is not a number")
        if int(declared) > max_body_bytes:
            raise too_large(max_file_bytes)

    upload = Upload()
    collector = _FormCollector(upload, max_file_bytes, spool_dir)
    received = 0
    try:
        parser = MultipartParser(options[b"boundary"], collector.callbacks())
        async for chunk in request.stream():
            received += len(chunk)
            if received > max_body_bytes:
                raise too_large(max_file_bytes)
            parser.write(chunk)
        parser.finalize()
        if not collector.ended:
            raise malformed("the body ended before the closing boundary")
    except FormParserError as exc:
        collector.close()
        upload.discard()
        raise malformed(str(exc).splitlines()[0][:200] if str(exc) else "parse error") from None
    except BaseException:
        collector.close()
        upload.discard()
        raise
    return upload


def sniff_format(path: Path) -> str:
    """What the file is by its first bytes, as ingest's parser decides it (pipeline.parse.detect_format):
    xlsx, xls, parquet, json, csv, empty or binary."""
    from pipeline.parse import detect_format

    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
        truncated = bool(handle.read(1))
    fmt = detect_format(head)
    if fmt == "binary" and truncated:
        # A multi-byte character (UTF-8, or a UTF-16 pair) cut at the end of the window is still text.
        for cut in (1, 2, 3):
            if (trimmed := detect_format(head[:-cut])) != "binary":
                return trimmed
    return fmt


def unsupported_content(file_name: str | None) -> Refusal:
    shown = file_name if file_name else "(không tên / unnamed)"
    return Refusal(415, "unsupported_content",
                   f"Nội dung tệp {shown!r} không phải bảng dữ liệu (CSV, Excel .xlsx/.xls, JSON, Parquet), dù tên "
                   "hay kiểu khai báo là gì; hãy xuất lại từ mẫu của lnob (`lnob template`).",
                   f"The content of {shown!r} is not a data table (CSV, Excel .xlsx/.xls, JSON, Parquet), whatever "
                   "its name or declared type; export it again from lnob's template (`lnob template`).")


def display_name(file_name: str | None) -> str:
    """The client's file name reduced to a label safe to print and store as text: its last path part,
    printable characters only, bounded. It names the upload in reports; it is never a path."""
    text = (file_name or "").replace("\\", "/").split("/")[-1]
    text = "".join(ch for ch in text if ch.isprintable()).strip()[:120]
    return text if text.strip(".") else "upload"
