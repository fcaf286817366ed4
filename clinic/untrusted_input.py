"""One rule at the door for text from outside: no control characters.

PostgreSQL text cannot hold NUL, so a NUL in a query string, a form or a JSON body reached the
database as a lookup and came back as a 500. No field in Interval needs a control character
other than tab, newline and carriage return (free text: notes, reasons), so the request is
refused with a 400 before any view sees it, instead of each view and serializer checking its
own fields. What is checked:

- the path (decoded) and the names of query, form and JSON fields: no control character at all;
- query, form and JSON values: none but tab, newline and carriage return;
- headers (cookies and the API token among them): none but tab.

"Control character" is Unicode's category Cc: U+0000-U+001F and U+007F-U+009F.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator

from django.http import HttpRequest, HttpResponse

from clinic import http_errors

_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINE_BREAKS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_BUT_TAB = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _in_query(query) -> Iterator[str]:
    """Names of the query or form fields whose name or value is refused."""
    for name, values in query.lists():
        if _ANY_CONTROL.search(name) or any(_CONTROL_BUT_LINE_BREAKS.search(value) for value in values):
            yield name.translate(_VISIBLE)


def _in_json(value, where: str = "") -> Iterator[str]:
    """Where in a parsed JSON document a refused key or string sits: `levels[1]`, `notes.inner`."""
    if isinstance(value, str):
        if _CONTROL_BUT_LINE_BREAKS.search(value):
            yield where or "body"
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _in_json(item, f"{where}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            if _ANY_CONTROL.search(key):
                yield (where + "." if where else "") + key.translate(_VISIBLE)
            else:
                yield from _in_json(item, f"{where}.{key}" if where else key)


# A refused field's name is echoed back with its control characters shown as U+FFFD.
_VISIBLE = {code: "\ufffd" for code in [*range(0x20), *range(0x7f, 0xa0)]}


def refused_header(request: HttpRequest) -> bool:
    return any(name.startswith("HTTP_") and isinstance(value, str) and _CONTROL_BUT_TAB.search(value)
               for name, value in request.META.items())


def refused_fields(request: HttpRequest) -> list[str] | None:
    """The fields of `request` that hold a refused character ([] when only its address does);
    None when the request is clean."""
    if _ANY_CONTROL.search(request.path_info):
        return []
    fields = list(_in_query(request.GET))
    content_type = request.content_type or ""
    if request.method == "POST" and content_type in _FORM_TYPES:
        fields += _in_query(request.POST)
    elif content_type == "application/json" or content_type.endswith("+json"):
        try:
            document = json.loads(request.body)
        except ValueError:
            document = None  # not JSON at all: the parser's own 400 says so
        fields += _in_json(document)
    return fields or None


class RefuseControlCharactersMiddleware:
    """Answer 400 to a request whose address, fields or headers hold a control character."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if refused_header(request):
            # Answered without a page: the page would read the session the cookie names.
            return http_errors.control_characters(request, [], page=False)
        fields = refused_fields(request)
        if fields is not None:
            return http_errors.control_characters(request, fields)
        return self.get_response(request)
