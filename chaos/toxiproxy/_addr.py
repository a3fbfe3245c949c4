"""TCP addresses in Go's ``host:port`` form: parsing, resolving, and binding listeners."""

from __future__ import annotations

import asyncio
import ipaddress
import socket

from stormproof.chaos.toxiproxy._api_error import ApiError

_BACKLOG = 1024


class AddressError(ValueError):
    """A ``host:port`` string that cannot be parsed."""


def split_host_port(addr: str) -> tuple[str, int]:
    """Split ``host:port`` (``[v6]:port`` for IPv6) as Go's ``net.SplitHostPort`` does.

    Raises:
        AddressError: No port, too many colons, or a port outside 0-65535.
    """
    if addr.startswith("["):
        end = addr.find("]")
        if end < 0:
            raise AddressError(f"address {addr}: missing ']' in address")
        host, rest = addr[1:end], addr[end + 1 :]
        if not rest.startswith(":"):
            raise AddressError(f"address {addr}: missing port in address")
        port_text = rest[1:]
    else:
        if ":" not in addr:
            raise AddressError(f"address {addr}: missing port in address")
        host, port_text = addr.rsplit(":", 1)
        if ":" in host:
            raise AddressError(f"address {addr}: too many colons in address")
    # isdigit alone takes "²" and other Unicode digits, which int() refuses or misreads.
    if not (port_text.isascii() and port_text.isdigit()) or not 0 <= int(port_text) <= 65535:
        raise AddressError(f"address {addr}: invalid port {port_text!r}")
    return host, int(port_text)


def join_host_port(host: str, port: int) -> str:
    """Format an address as Go does: IPv6 hosts in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _format_sockaddr(family: int, sockaddr: tuple[object, ...]) -> str:
    host = str(sockaddr[0])
    if family == socket.AF_INET6:
        host = str(ipaddress.IPv6Address(host.split("%", 1)[0]))
    return join_host_port(host, int(str(sockaddr[1])))


async def resolve(addr: str) -> tuple[int, tuple[object, ...], str]:
    """Resolve a listen address to (family, sockaddr, Go-formatted address).

    IPv4 results are preferred, as Go's ``net.Listen("tcp", "localhost:…")`` prefers them.
    An empty host (``:8000``) means every interface (``[::]`` dual-stack, as in Go). No address
    at all means ``127.0.0.1`` and a free port: Toxiproxy would listen on every interface, but
    nothing here listens beyond loopback unless the caller asks for it.

    Raises:
        ApiError: 400 when the address cannot be parsed, 500 when it does not resolve.
    """
    try:
        host, port = split_host_port(addr) if addr else ("127.0.0.1", 0)
    except AddressError as exc:
        raise ApiError(f"listen tcp: {exc}", 400) from None
    if host == "":
        if socket.has_ipv6:
            return socket.AF_INET6, ("::", port), join_host_port("::", port)
        return socket.AF_INET, ("0.0.0.0", port), join_host_port("0.0.0.0", port)
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        raise ApiError(f"listen tcp: lookup {host}: {exc.strerror or exc}", 500) from None
    except UnicodeError:
        # Not a host name at all (IDNA cannot encode it): a parse error, not a failed lookup.
        raise ApiError(f"listen tcp: address {addr}: invalid host name", 400) from None
    infos.sort(key=lambda info: info[0] != socket.AF_INET)
    family, _, _, _, sockaddr = infos[0]
    return family, tuple(sockaddr), _format_sockaddr(family, tuple(sockaddr))


def bind_listener(family: int, sockaddr: tuple[object, ...], shown: str) -> socket.socket:
    """Create a listening TCP socket with SO_REUSEADDR, as Go's listeners have.

    Raises:
        ApiError: 500 ``listen tcp ADDR: bind: address already in use`` and the like.
    """
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(sockaddr)
        sock.listen(_BACKLOG)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        reason = (exc.strerror or str(exc)).lower()
        raise ApiError(f"listen tcp {shown}: bind: {reason}", 500) from None
    return sock


def bound_address(sock: socket.socket) -> str:
    """The Go-formatted local address of a bound socket."""
    return _format_sockaddr(sock.family, tuple(sock.getsockname()))
