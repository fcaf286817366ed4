"""Where a webhook may go: public internet addresses only, unless WEBHOOK_ALLOW_PRIVATE_ADDRESSES
(on by default only with DEBUG: a receiver on this machine while developing).

An endpoint URL is typed by a manager, so it must not become a way to reach what only the server
can: this machine (loopback), the clinic's network (RFC 1918, unique-local), the cloud's metadata
service (link-local 169.254.169.254) or "any address" (0.0.0.0). The host is checked when the
endpoint is saved, and again at each post on the address actually connected to, after DNS
resolution: a name that resolved to a public address when it was registered may resolve to a
private one later (DNS rebinding).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import urllib.request

from django.conf import settings
from django.utils.translation import gettext as _


class AddressRefused(OSError):
    """The host is, or resolves to, an address webhooks are not posted to."""


def private_allowed() -> bool:
    return settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES


def why_refused(address: str) -> str | None:
    """What kind of address `address` is when webhooks may not go there; None for a public one."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone ("fe80::1%eth0") aside
    except ValueError:
        return _("not an IP address")
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if ip.is_unspecified:
        return _("the unspecified address")
    if ip.is_loopback:
        return _("a loopback address (this server)")
    if ip.is_link_local:
        return _("a link-local address (e.g. the cloud's metadata service)")
    if ip.is_multicast:
        return _("a multicast address")
    if not ip.is_global:
        return _("a private address (the clinic's own network)")
    return None


def refusal(host: str, address: str, reason: str) -> str:
    shown = host if host == address else f"{host} ({address})"
    return _("Webhooks go to public internet addresses only: %(host)s is %(reason)s.") % {
        "host": shown, "reason": reason}


def resolve(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to, in the order a connection tries them."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def check_host(host: str, port: int) -> None:
    """Raise AddressRefused when `host` is, or any address it resolves to is, not public.
    A name that does not resolve is let through (the post then fails as unreachable)."""
    if private_allowed():
        return
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        raise AddressRefused(refusal(host, "127.0.0.1", why_refused("127.0.0.1")))
    try:
        addresses = resolve(name, port)
    except (OSError, UnicodeError):
        return
    for address in addresses:
        reason = why_refused(address)
        if reason:
            raise AddressRefused(refusal(host, address, reason))


def _guarded_connection(address, timeout=socket._GLOBAL_DEFAULT_TIMEOUT, source_address=None, **kwargs):
    """socket.create_connection, connecting only to public addresses: each address the name
    resolves to now is checked, and the one connected to is checked again."""
    host, port = address
    check_host(host, port)
    sock = socket.create_connection(address, timeout, source_address, **kwargs)
    if not private_allowed():
        peer = sock.getpeername()[0]
        reason = why_refused(peer)
        if reason:
            sock.close()
            raise AddressRefused(refusal(host, peer, reason))
    return sock


class _GuardedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _guarded_connection


class _GuardedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _guarded_connection  # before the TLS handshake: nothing sent yet


class GuardedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_GuardedHTTPConnection, req)


class GuardedHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_GuardedHTTPSConnection, req, context=self._context)


def refused_reason(error: BaseException) -> str | None:
    """The refusal's words when urllib's `error` is a refused address, else None."""
    reason = getattr(error, "reason", error)
    return str(reason) if isinstance(reason, AddressRefused) else None
