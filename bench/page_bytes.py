"""What a browser downloads to show a page: the page and every subresource it references,
fetched from the benchmark's gunicorn as a browser would ask for them."""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from bench.server import Gunicorn

# What a browser on a first visit says it accepts; compression counts only if the server uses it.
BROWSER_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Encoding": "gzip, deflate, br",
    "Accept-Language": "en-US,en;q=0.9",
    "User-Agent": "Mozilla/5.0 (interval-bench)",
}


@dataclass(frozen=True)
class Transfer:
    """One response as a browser receives it."""

    path: str
    status: int
    content_type: str
    content_encoding: str  # "" when sent uncompressed
    header_bytes: int  # status line and headers as sent
    body_bytes: int  # as sent (compressed if the server compressed)
    decoded_bytes: int  # after decompression
    gzip_bytes: int  # the decoded body gzipped at level 6: what compression would send

    @property
    def wire_bytes(self) -> int:
        return self.header_bytes + self.body_bytes


@dataclass(frozen=True)
class FirstView:
    page: Transfer
    subresources: list[Transfer]
    external: list[str]  # subresources on other hosts: not fetched, listed
    inline_styles: int
    inline_scripts: int
    favicon: Transfer  # browsers ask for /favicon.ico when the page names no icon
    names_icon: bool

    @property
    def transfers(self) -> list[Transfer]:
        return [self.page, *self.subresources]

    @property
    def decoded_bytes(self) -> int:
        return sum(transfer.decoded_bytes for transfer in self.transfers)

    @property
    def wire_bytes(self) -> int:
        return sum(transfer.wire_bytes for transfer in self.transfers)

    @property
    def gzip_bytes(self) -> int:
        return sum(transfer.gzip_bytes for transfer in self.transfers)


def fetch(server: Gunicorn, path: str, headers: dict[str, str] | None = None) -> tuple[Transfer, bytes]:
    """GET `path` on a fresh connection, as a browser asks by default; the transfer and the decoded body."""
    connection = server.connection()
    try:
        connection.request("GET", path, headers=headers or BROWSER_HEADERS)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    encoding = response.getheader("Content-Encoding", "") or ""
    if encoding not in {"", "gzip", "identity"}:
        raise RuntimeError(f"GET {path}: cannot decode Content-Encoding {encoding!r}")
    decoded = gzip.decompress(body) if encoding == "gzip" else body
    status_line = f"HTTP/1.1 {response.status} {response.reason}\r\n"
    header_block = "".join(f"{name}: {value}\r\n" for name, value in response.getheaders()) + "\r\n"
    return Transfer(
        path=path, status=response.status, content_type=(response.getheader("Content-Type") or "").split(";")[0],
        content_encoding="" if encoding == "identity" else encoding,
        header_bytes=len((status_line + header_block).encode("latin-1")), body_bytes=len(body),
        decoded_bytes=len(decoded), gzip_bytes=len(gzip.compress(decoded, compresslevel=6, mtime=0)),
    ), decoded


_FETCHED_LINKS = {"stylesheet", "icon", "shortcut", "apple-touch-icon", "preload", "modulepreload", "manifest",
                  "prefetch"}
_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")


class Subresources(HTMLParser):
    """The URLs a browser fetches to show the page (not the links a visitor may follow)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self.inline_styles = 0
        self.inline_scripts = 0
        self.names_icon = False
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        rel = set((values.get("rel") or "").lower().split())
        if tag == "link" and values.get("href") and rel & _FETCHED_LINKS:
            self.urls.append(values["href"])
            self.names_icon |= bool(rel & {"icon", "shortcut"})
        elif tag == "script":
            if values.get("src"):
                self.urls.append(values["src"])
            else:
                self.inline_scripts += 1
        elif tag in {"img", "source", "audio", "video", "iframe", "embed", "track", "input"}:
            if values.get("src") and (tag != "input" or values.get("type") == "image"):
                self.urls.append(values["src"])
            for candidate in (values.get("srcset") or "").split(","):
                if candidate.strip():
                    self.urls.append(candidate.split()[0])
            if values.get("poster"):
                self.urls.append(values["poster"])
        elif tag == "object" and values.get("data"):
            self.urls.append(values["data"])
        elif tag == "style":
            self.inline_styles += 1
            self._in_style = True
        if values.get("style"):
            self.urls += self._css_urls(values["style"])

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.urls += self._css_urls(data)

    @staticmethod
    def _css_urls(css: str) -> list[str]:
        return [url or imported for url, imported in _CSS_URL.findall(css) if not (url or "").startswith("data:")]


def first_view(server: Gunicorn, path: str) -> FirstView:
    """(g): the page, then every subresource it references, and the stylesheets' own url()s."""
    base = f"http://127.0.0.1:{server.port}{path}"
    page, html = fetch(server, path)
    if page.status != 200:
        raise RuntimeError(f"GET {path} answered {page.status}")
    parser = Subresources()
    parser.feed(html.decode("utf-8", "replace"))
    pending, seen, subresources, external = list(parser.urls), set(), [], []
    while pending:
        url = urljoin(base, pending.pop(0))
        parts = urlsplit(url)
        if parts.scheme == "data" or url in seen:
            continue
        seen.add(url)
        if parts.netloc != f"127.0.0.1:{server.port}":
            external.append(url)
            continue
        transfer, body = fetch(server, parts.path + (f"?{parts.query}" if parts.query else ""))
        subresources.append(transfer)
        if transfer.content_type == "text/css":
            pending += Subresources._css_urls(body.decode("utf-8", "replace"))
    favicon, _ = fetch(server, "/favicon.ico")
    return FirstView(page=page, subresources=subresources, external=external, inline_styles=parser.inline_styles,
                     inline_scripts=parser.inline_scripts, favicon=favicon, names_icon=parser.names_icon)
