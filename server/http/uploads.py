"""Reading a submitted file from a request: a body of an RDF media type, or a multipart form."""

import re
from email.message import Message
from pathlib import PurePosixPath

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException

from server.formats.registry import IATI, RDFXML
from server.rdf.parsing import BIDI_FORMATTING
from server.rdf.syntaxes import BY_MEDIA_TYPE, BY_NAME, SYNTAXES, Format, is_iati, syntax_for_path
from server.submissions.service import SubmissionError, Upload

_ACCEPTED = ", ".join(s.media_types[0] for s in SYNTAXES)
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")


def _parse_content_type(value: str) -> tuple[str, dict[str, str]]:
    message = Message()
    message["content-type"] = value
    params = {k.lower(): v for k, v in message.get_params()[1:]} if message.get_params() else {}
    return message.get_content_type(), params


def _file_name(value: str | None) -> str | None:
    """A file name fit to keep and show: its last path segment, without control or bidirectional formatting
    characters (`report\u202Elmth.ttl` would display as another name), bounded."""
    if not value:
        return None
    name = _UNSAFE_NAME.sub("", value.replace("\\", "/").rsplit("/", 1)[-1])
    name = BIDI_FORMATTING.sub("", name).strip()
    return name[:200] or None


def _disposition_name(header: str | None) -> str | None:
    if not header:
        return None
    message = Message()
    message["content-disposition"] = header
    return _file_name(message.get_filename())


def _syntax_of_media_type(media_type: str) -> Format:
    syntax = BY_MEDIA_TYPE.get(media_type)
    if syntax is not None:
        return syntax
    hint = " (JSON-LD is application/ld+json)" if media_type == "application/json" else ""
    raise SubmissionError(415, f"{media_type} is not an RDF syntax this server reads{hint}; send one of: {_ACCEPTED}.")


async def read_upload(request: Request, max_bytes: int) -> Upload:
    """The submitted file of a request, with its syntax; SubmissionError (4xx) if there is none."""
    header = request.headers.get("content-type")
    if not header:
        raise SubmissionError(
            415, f"The request has no Content-Type: say which RDF syntax the body is ({_ACCEPTED}), "
            "or send a multipart/form-data form with a 'file' or 'text' field.",
        )
    media_type, params = _parse_content_type(header)
    if media_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        return await _read_form(request, max_bytes)
    syntax = _syntax_of_media_type(media_type)
    charset = params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise SubmissionError(415, f"Only UTF-8 is read, not charset={charset}; convert the file to UTF-8.")
    data = await request.body()
    return _upload(data, syntax, media_type, _disposition_name(request.headers.get("content-disposition")))


async def _read_form(request: Request, max_bytes: int) -> Upload:
    try:
        form = await request.form(max_files=1, max_fields=4, max_part_size=max_bytes)
    except MultiPartException as error:
        raise SubmissionError(400, f"The form cannot be read: {error.message}") from None
    chosen = form.get("format") or None
    if chosen is not None and (not isinstance(chosen, str) or chosen not in BY_NAME):
        raise SubmissionError(415, f"format must be one of: {', '.join(BY_NAME)}.")
    upload, text = form.get("file"), form.get("text")
    if isinstance(upload, UploadFile) and upload.filename:
        name = _file_name(upload.filename)
        data = await upload.read()
        part_type = _parse_content_type(upload.content_type or "")[0]
        syntax = BY_NAME[chosen] if chosen else BY_MEDIA_TYPE.get(part_type) or syntax_for_path(PurePosixPath(name or ""))
        if syntax is None:
            raise SubmissionError(415, f"Cannot tell the RDF syntax of {name!r} from its name; choose a format.")
        return _upload(data, syntax, syntax.media_types[0], name)
    if isinstance(text, str) and text.strip():
        syntax = BY_NAME[chosen or "turtle"]
        return _upload(text.encode("utf-8"), syntax, syntax.media_types[0], None)
    raise SubmissionError(400, "The form holds no file ('file') and no text ('text') to read.")


def _upload(data: bytes, syntax: Format, media_type: str, name: str | None) -> Upload:
    if not data.strip():
        raise SubmissionError(400, "The file is empty.")
    if syntax in (IATI, RDFXML):
        # XML is read by what its root element says it is: RDF/XML saved as .xml, IATI sent as text/xml.
        sniffed = IATI if is_iati(data) else RDFXML
        if sniffed is not syntax:
            syntax, media_type = sniffed, sniffed.media_type
    return Upload(data, syntax, media_type, name)
