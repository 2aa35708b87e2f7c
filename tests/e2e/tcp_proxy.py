"""A TCP proxy a test can cut: what a client behind it sees of a server that went down and came back.

`cut()` resets every open connection and stops listening, so new connections are refused (as when the server's
host is up but the server is not); `restore()` listens again on the same port. The server itself (the machine's
shared RabbitMQ, say) is never touched.
"""

from __future__ import annotations

import select
import socket
import struct
import threading
from typing import List, Optional, Set

from talentbot.wiring.devserver import free_port


class TcpProxy:
    """Forwards 127.0.0.1:`port` to `upstream_host`:`upstream_port`, one thread per connection."""

    def __init__(self, upstream_host: str, upstream_port: int, port: Optional[int] = None) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = port or free_port()
        self._listener: Optional[socket.socket] = None
        self._sockets: Set[socket.socket] = set()
        self._lock = threading.Lock()
        self._threads: List[threading.Thread] = []
        self.connections = 0  # accepted so far (a reconnecting client adds one per attempt that got through)

    def __enter__(self) -> "TcpProxy":
        self.restore()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cut()

    @property
    def up(self) -> bool:
        return self._listener is not None

    def restore(self) -> None:
        """Listens (again) on the proxy's port."""
        if self._listener is not None:
            return
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        thread = threading.Thread(target=self._accept, args=(listener,), daemon=True, name="tcp-proxy-accept")
        thread.start()
        self._threads.append(thread)

    def cut(self) -> None:
        """Stops listening and resets every connection through the proxy."""
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            _reset(sock)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            if self._listener is not listener:
                _reset(client)
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _reset(client)
                continue
            server.settimeout(None)
            with self._lock:
                self._sockets.update((client, server))
                self.connections += 1
            thread = threading.Thread(target=self._pump, args=(client, server), daemon=True, name="tcp-proxy-pump")
            thread.start()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        peers = {client: server, server: client}
        try:
            while True:
                readable, _, _ = select.select(list(peers), [], [], 1.0)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    peers[sock].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            with self._lock:
                self._sockets.discard(client)
                self._sockets.discard(server)
            _reset(client)
            _reset(server)


def _reset(sock: socket.socket) -> None:
    """Closes with a reset (SO_LINGER 0), as a dead server's host answers."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass
