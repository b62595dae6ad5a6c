"""What the sandbox's TCP emulators (RDAP over HTTP(S), port-43 WHOIS) share: listening on a
loopback port, tracking open connections so that ``stop()`` ends them, and closing each
connection however its conversation ends."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from typing import Any, Self

# A peer that hangs up, sends garbage or breaks TLS ends its own conversation, never the server.
_PEER_ERRORS = (
    ConnectionError,
    TimeoutError,
    asyncio.IncompleteReadError,
    asyncio.LimitOverrunError,
    ssl.SSLError,
    ValueError,
)


class TcpService:
    """A loopback TCP server; subclasses answer one connection in :meth:`_converse`."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self._port = port
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[Any]] = set()

    async def _listen(self, context: ssl.SSLContext | None = None) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self._port, ssl=context)
        self._port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def start(self) -> str:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def host_for_url(self) -> str:
        """The host as it stands in a URL or ``host:port`` (IPv6 in brackets)."""
        return f"[{self.host}]" if ":" in self.host else self.host

    async def _converse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        try:
            await self._converse(reader, writer)
        except _PEER_ERRORS:
            pass
        except asyncio.CancelledError:
            # stop() cancels open connections; ending quietly keeps asyncio's stream callback
            # from logging the cancellation as an unhandled error.
            pass
        finally:
            if task is not None:
                self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
