"""Echo the plain way with asyncio: a Protocol that writes back what it gets.

    python labkit/bench/baselines/asyncio_echo.py [--port 0]

What a user writes without labkit: ``data_received`` calls
``transport.write``. No line limit, no idle limit, no backpressure. The
benchmark's bare counterpart of labkit's selectors and asyncio transports.
"""

import argparse
import asyncio
import signal


class Echo(asyncio.Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
    server = await loop.create_server(Echo, "127.0.0.1", port)
    host, port = server.sockets[0].getsockname()[:2]
    print(f"listening on {host}:{port}", flush=True)
    async with server:
        await stop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    asyncio.run(serve(parser.parse_args().port))


if __name__ == "__main__":
    main()
