"""Echo in C: socat, one forked process per connection, piping bytes back.

    python labkit/bench/baselines/socat_echo.py [--port 0]

``socat TCP-LISTEN:PORT,fork PIPE`` echoes every byte (the PIPE address
reads back what is written to it). socat does not say which port it got for
port 0, so this wrapper picks a free port, starts socat, prints
``listening on HOST:PORT`` once socat accepts, and stops it on SIGTERM.
Its CPU time and memory are socat's whole process tree (the runner sums
the children).
"""

import argparse
import shutil
import signal
import socket
import subprocess
import sys
import time


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_accepting(port: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.02)
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    if shutil.which("socat") is None:
        print("socat is not installed (apt-get install socat)", file=sys.stderr)
        return 1
    port = args.port or free_port()
    listen = f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,backlog=1024"
    socat = subprocess.Popen(["socat", listen, "PIPE"])
    signal.signal(signal.SIGTERM, lambda *_: socat.terminate())
    if not wait_accepting(port):
        socat.kill()
        print("socat did not start listening within 10 s", file=sys.stderr)
        return 1
    print(f"listening on 127.0.0.1:{port}", flush=True)
    socat.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
