"""A small TCP forwarder: `python -m tools.multihost.forward 10.77.0.1:5432=127.0.0.1:5432 ...`.

The shared PostgreSQL and Redis listen on 127.0.0.1 of the root network namespace only, and PostgreSQL lets in
127.0.0.1 only (pg_hba.conf), so the simulated hosts (other network namespaces) cannot reach them directly. This
process, in the root namespace, listens on the bridge's address and passes every connection on to the loopback
address unchanged, so the services see local clients and nothing about them is reconfigured.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from typing import List, Tuple

Address = Tuple[str, int]


def parse_address(text: str) -> Address:
    host, _, port = text.rpartition(":")
    return host, int(port)


def parse_route(text: str) -> Tuple[Address, Address]:
    """`listen_host:port=target_host:port`."""
    listen, _, target = text.partition("=")
    if not target:
        raise ValueError(f"a route is listen_host:port=target_host:port, not {text!r}")
    return parse_address(listen), parse_address(target)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()  # half-close: the other direction may still be answering
    except (ConnectionError, OSError):
        writer.close()


def _no_delay(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


async def _connection(target: Address, client_reader: asyncio.StreamReader,
                      client_writer: asyncio.StreamWriter) -> None:
    try:
        server_reader, server_writer = await asyncio.open_connection(*target)
    except OSError:
        client_writer.close()
        return
    _no_delay(client_writer)
    _no_delay(server_writer)
    try:
        await asyncio.gather(_pipe(client_reader, server_writer), _pipe(server_reader, client_writer))
    finally:
        for writer in (client_writer, server_writer):
            writer.close()


async def serve(routes: List[Tuple[Address, Address]]) -> None:
    servers = []
    for listen, target in routes:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                         target: Address = target) -> None:
            await _connection(target, reader, writer)

        servers.append(await asyncio.start_server(handle, *listen, reuse_address=True, backlog=512))
    print("forwarding " + ", ".join(f"{a[0]}:{a[1]} -> {b[0]}:{b[1]}" for a, b in routes), flush=True)
    await asyncio.gather(*(server.serve_forever() for server in servers))


def main(argv: List[str]) -> None:
    if not argv:
        sys.exit("usage: python -m tools.multihost.forward listen_host:port=target_host:port ...")
    asyncio.run(serve([parse_route(arg) for arg in argv]))


if __name__ == "__main__":
    main(sys.argv[1:])
