"""The bare baselines: echo servers written the plain way, without labkit.

    socketserver_echo  ThreadingTCPServer, a recv/sendall loop per thread
    asyncio_echo       an asyncio Protocol that writes back what it gets
    twisted_echo       the Protocol from Twisted's own examples
    socat_echo         socat, one forked process per connection

Each is a script that prints ``listening on HOST:PORT`` and stops on SIGTERM.
The benchmark runs them by path (``python FILE.py``), never with ``-m``: that
would import labkit first, and its memory would count against the baseline.
"""
