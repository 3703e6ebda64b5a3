"""Echo the plain way with Twisted: the Protocol from Twisted's own examples.

    python labkit/bench/baselines/twisted_echo.py [--port 0]

What a user writes without labkit: ``dataReceived`` calls
``transport.write``, the reactor runs in the main thread (it stops on
SIGTERM by itself). The benchmark's bare counterpart of labkit's twisted
transport.
"""

import argparse

from twisted.internet import reactor
from twisted.internet.protocol import Factory, Protocol


class Echo(Protocol):
    def dataReceived(self, data: bytes) -> None:
        self.transport.write(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    factory = Factory.forProtocol(Echo)
    factory.noisy = False
    port = reactor.listenTCP(args.port, factory, interface="127.0.0.1")
    address = port.getHost()
    print(f"listening on {address.host}:{address.port}", flush=True)
    reactor.run()


if __name__ == "__main__":
    main()
