"""Read a multipart/form-data body as it arrives, refusing a file over the byte limit at once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from python_multipart.multipart import MultipartParser, parse_options_header

from bot.imaging import describe_bytes
from bot.service.errors import BadForm, RequestTooLarge

# What each file field holds, for the sentences ("The photo is larger than ...").
FILE_WHAT = {"content": "photo", "style_image": "style image"}
MAX_TEXT_BYTES = 1024  # a text field (preset name, weights, strength...) is short


@dataclass(frozen=True)
class FormLimits:
    """How much a stylize form may carry: each file, each text field, the parts, the body."""

    max_file_bytes: int
    max_parts: int
    max_text_bytes: int = MAX_TEXT_BYTES

    @property
    def max_body_bytes(self) -> int:
        """Every part at its largest, plus room for the part headers."""
        return self.max_parts * (self.max_file_bytes + 4096)


@dataclass
class FormPart:
    """One part of the form: its field name, file name (None for a text field) and bytes."""

    name: str
    filename: str | None
    data: bytearray = field(default_factory=bytearray)

    @property
    def text(self) -> str:
        """The part as text (a text field); undecodable bytes are replaced."""
        return self.data.decode("utf-8", errors="replace").strip()


def check_content_length(headers: Mapping[str, str], limits: FormLimits) -> None:
    """Refuse a body whose declared length is over the limit before reading any of it."""
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_body_bytes:
        raise RequestTooLarge(
            f"The request is {describe_bytes(int(declared))}, more than the limit of "
            f"{describe_bytes(limits.max_body_bytes)} ({describe_bytes(limits.max_file_bytes)} "
            "per file)."
        )


def boundary_of(headers: Mapping[str, str]) -> bytes:
    """The multipart boundary, or a sentence saying the body is not a form."""
    kind, params = parse_options_header(headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise _not_a_form()
    return boundary


def _not_a_form() -> BadForm:
    return BadForm(
        "Send the request as multipart/form-data (e.g. curl -F content=@photo.jpg "
        "-F style=NAME)."
    )


async def _read_urlencoded(chunks: AsyncIterator[bytes], limits: FormLimits) -> list[FormPart]:
    """A form without files (curl -d): its text fields, so the answer can say what is missing."""
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > limits.max_parts * limits.max_text_bytes:
            raise _not_a_form()
    pairs = parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    if len(pairs) > limits.max_parts:
        raise BadForm(f"The form has more than {limits.max_parts} parts.")
    return [FormPart(name, None, bytearray(value.encode())) for name, value in pairs]


class _Collector:
    """python-multipart callbacks that gather parts and enforce the limits while reading."""

    def __init__(self, limits: FormLimits) -> None:
        self.limits = limits
        self.parts: list[FormPart] = []
        self._part: FormPart | None = None
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._disposition = b""

    def on_part_begin(self) -> None:
        if len(self.parts) >= self.limits.max_parts:
            raise BadForm(f"The form has more than {self.limits.max_parts} parts.")
        self._disposition = b""
        self._part = None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        if bytes(self._header_name).lower() == b"content-disposition":
            self._disposition = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        name = options.get(b"name")
        if name is None:
            raise BadForm("Each part of the form needs a name (Content-Disposition: form-data).")
        filename = options.get(b"filename")
        self._part = FormPart(
            name.decode("utf-8", errors="replace"),
            None if filename is None else filename.decode("utf-8", errors="replace"),
        )
        self.parts.append(self._part)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        part = self._part
        if part is None:
            return
        part.data += data[start:end]
        what = FILE_WHAT.get(part.name)
        if what is not None and len(part.data) > self.limits.max_file_bytes:
            raise RequestTooLarge(
                f"The {what} is larger than the limit of "
                f"{describe_bytes(self.limits.max_file_bytes)}."
            )
        if what is None and len(part.data) > self.limits.max_text_bytes:
            raise BadForm(f"The form field “{part.name[:40]}” is too long.")


async def read_form(
    headers: Mapping[str, str], chunks: AsyncIterator[bytes], limits: FormLimits
) -> list[FormPart]:
    """Parse the body's parts in order; stops reading at the first limit broken."""
    check_content_length(headers, limits)
    kind, _ = parse_options_header(headers.get("content-type", ""))
    if kind == b"application/x-www-form-urlencoded":
        return await _read_urlencoded(chunks, limits)
    collector = _Collector(limits)
    parser = MultipartParser(
        boundary_of(headers),
        {
            "on_part_begin": collector.on_part_begin,
            "on_header_field": collector.on_header_field,
            "on_header_value": collector.on_header_value,
            "on_header_end": collector.on_header_end,
            "on_headers_finished": collector.on_headers_finished,
            "on_part_data": collector.on_part_data,
        },
    )
    received = 0
    try:
        async for chunk in chunks:
            received += len(chunk)
            if received > limits.max_body_bytes:
                raise RequestTooLarge(
                    f"The request is more than the limit of "
                    f"{describe_bytes(limits.max_body_bytes)}."
                )
            parser.write(chunk)
        parser.finalize()
    except (BadForm, RequestTooLarge):
        raise
    except Exception as error:  # python-multipart's parse errors: a malformed body
        raise BadForm("The multipart form is malformed.") from error
    return collector.parts
