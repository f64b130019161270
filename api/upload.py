"""Receiving a replay upload: the multipart body is parsed as it arrives, the log streamed to
the spool, and every limit kept while reading.

FastAPI reads a form body whole (spooling files to temporary storage) before the route's
dependencies run, so a client without a key could make the service store gigabytes before
being told 401. The replay route therefore declares no body parameter: its key check runs
first, then this module reads the body chunk by chunk with python-multipart's streaming
parser. The log goes straight to its spool file; the moment it passes the size limit the
upload is refused with 413 and the partial file removed. A declared `Content-Length` over
the limit is refused before a byte is read. A log whose file name has no known ending is
refused as soon as its part's headers arrive.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from io import BufferedWriter
from pathlib import Path

import anyio.to_thread
from fastapi import Request, status
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

LOG_FIELD = "log"
TEXT_FIELD_LIMITS = {"seed": 32, "scenario": 100_000}
"""The form's text fields and their largest size in bytes."""
FORM_OVERHEAD = 64 * 1024 + sum(TEXT_FIELD_LIMITS.values())
"""What a body may hold besides the log: boundaries, part headers and the text fields."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class UploadRefusedError(Exception):
    """The upload is refused: answer `status_code` with the message."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code


@dataclass(slots=True)
class ReceivedUpload:
    """A form whose log is on disk at `path` (the caller removes it if it refuses the job)."""

    filename: str
    path: Path
    size: int
    fields: dict[str, str]


def unprocessable(message: str) -> UploadRefusedError:
    """A 422 naming the field."""
    return UploadRefusedError(status.HTTP_422_UNPROCESSABLE_CONTENT, message)


@dataclass(slots=True)
class _Form:
    """The parser's callbacks: the log part to a file, the text parts to memory."""

    place_log: Callable[[str], Path]
    max_log_bytes: int
    fields: dict[str, str] = field(default_factory=dict)
    filename: str | None = None
    path: Path | None = None
    log_bytes: int = 0
    pending: list[bytes] = field(default_factory=list)
    _file: BufferedWriter | None = None
    _name: str = ""
    _text: bytearray = field(default_factory=bytearray)
    _header: bytes = b""
    _value: bytes = b""
    _disposition: bytes = b""

    def callbacks(self) -> dict[str, Callable[..., None]]:
        """The callbacks python-multipart calls while parsing."""
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
        }

    def on_part_begin(self) -> None:
        self._name, self._disposition, self._text = "", b"", bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def on_header_end(self) -> None:
        if self._header.lower() == b"content-disposition":
            self._disposition = self._value
        self._header = self._value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        self._name = _decode(options.get(b"name", b""), "a part's name")
        if self._name == LOG_FIELD:
            self._open_log(options.get(b"filename"))
        elif self._name not in TEXT_FIELD_LIMITS:
            known = ", ".join([LOG_FIELD, *TEXT_FIELD_LIMITS])
            raise unprocessable(f"body.{self._name[:40]!r}: unknown field; known: {known}")
        elif self._name in self.fields:
            raise unprocessable(f"body.{self._name}: sent more than once")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._name != LOG_FIELD:
            self._text += chunk
            if len(self._text) > TEXT_FIELD_LIMITS[self._name]:
                limit = TEXT_FIELD_LIMITS[self._name]
                raise unprocessable(f"body.{self._name}: longer than {limit} bytes")
            return
        self.log_bytes += len(chunk)
        if self.log_bytes > self.max_log_bytes:
            raise UploadRefusedError(
                status.HTTP_413_CONTENT_TOO_LARGE,
                f"log: the log is larger than {self.max_log_bytes} bytes",
            )
        self.pending.append(chunk)

    def on_part_end(self) -> None:
        if self._name != LOG_FIELD:
            self.fields[self._name] = _decode(bytes(self._text), f"body.{self._name}")

    def _open_log(self, raw_name: bytes | None) -> None:
        if self.filename is not None:
            raise unprocessable("body.log: sent more than once")
        name = _decode(raw_name or b"", "body.log's file name")
        if not name or len(name) > 255 or _CONTROL.search(name):
            raise unprocessable("body.log: needs a file name of 1-255 printable characters")
        self.path = self.place_log(name)  # refuses an unknown file name ending
        self.filename = name
        self._file = self.path.open("wb")

    def flush(self) -> None:
        """Write what the last chunk brought to the log file (called off the event loop)."""
        if self._file is not None and self.pending:
            self._file.write(b"".join(self.pending))
        self.pending.clear()

    def close(self) -> None:
        """Close the log file (idempotent)."""
        if self._file is not None:
            self._file.close()
            self._file = None


def _decode(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise unprocessable(f"{what}: not UTF-8") from None


async def receive_upload(
    request: Request, *, place_log: Callable[[str], Path], max_log_bytes: int
) -> ReceivedUpload:
    """Parse the multipart body as it arrives; `place_log(filename)` says where the log goes.

    Raises UploadRefusedError (413 over the limit, 422 a bad field, 400 a broken body); then
    nothing of the upload is left on disk.
    """
    boundary = _boundary(request)
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > max_log_bytes + FORM_OVERHEAD:
        raise UploadRefusedError(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"log: the body ({declared} bytes) is larger than the {max_log_bytes}-byte limit",
        )
    form = _Form(place_log, max_log_bytes)
    try:
        await _parse(request, boundary, form)
    except BaseException:
        form.close()
        if form.path is not None:
            form.path.unlink(missing_ok=True)
        raise
    if form.path is None or form.filename is None:
        raise unprocessable("body.log: Field required (an event log file)")
    return ReceivedUpload(form.filename, form.path, form.log_bytes, form.fields)


def _boundary(request: Request) -> bytes:
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise unprocessable("body: expected multipart/form-data with a `log` file")
    return boundary


async def _parse(request: Request, boundary: bytes, form: _Form) -> None:
    try:
        parser = MultipartParser(boundary, form.callbacks())  # type: ignore[arg-type]
        async for chunk in request.stream():
            parser.write(chunk)
            if form.pending:
                await anyio.to_thread.run_sync(form.flush)
        parser.finalize()
    except FormParserError as error:
        raise UploadRefusedError(
            status.HTTP_400_BAD_REQUEST, f"body: not readable multipart data ({error})"
        ) from None
    finally:
        form.close()
