#!/usr/bin/env python3
"""TCP stand-ins for what Kubernetes and the network do, for scripts/failover-test.

  tcp-proxy.py service LISTEN_PORT BACKEND_PORT...
      A Service: each new connection goes to the next ready backend, by the manifests' readinessProbe
      (/readyz every second, 1 s timeout, not ready after 2 failures); with no ready backend the
      connection is closed at once, as a Service without endpoints refuses it.
  tcp-proxy.py link LISTEN_PORT BACKEND_PORT
      A network link that can be cut: SIGUSR1 cuts it (bytes in either direction are dropped, new
      connections are accepted and hear nothing: a partition, not a refusal), SIGUSR2 mends it
      (connections cut are closed, new ones pass).
Both print one line, "ready", once listening.
"""
import asyncio
import signal
import sys

ready = {}
cut = False
cut_connections = set()


async def probe(port):
    writer = None
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 1)
        writer.write(b"GET /readyz HTTP/1.1\r\nHost: service\r\nConnection: close\r\n\r\n")
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), 1)
        return line.startswith(b"HTTP/1.1 200")
    except Exception:
        return False
    finally:
        if writer is not None:
            writer.close()


async def check_readiness(port):
    # As the manifests' readinessProbe: every second, 1 s timeout, out after 2 failures, in after 1.
    failures = 0
    while True:
        if await probe(port):
            failures = 0
            ready[port] = True
        else:
            failures += 1
            if failures >= 2:
                ready[port] = False
        await asyncio.sleep(1)


async def pipe(reader, writer, link):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            if link is not None and link["cut"]:
                continue  # dropped on the floor
            writer.write(data)
            await writer.drain()
    except Exception:
        pass
    finally:
        # Across a cut link not even the end of a connection gets through: it is closed when mended.
        if link is None or not link["cut"]:
            try:
                writer.close()
            except Exception:
                pass


async def splice(client_reader, client_writer, port, link=None):
    try:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", port)
    except Exception:
        client_writer.close()
        return
    if link is not None:
        cut_connections.add((client_writer, upstream_writer))
    await asyncio.gather(
        pipe(client_reader, upstream_writer, link), pipe(upstream_reader, client_writer, link)
    )
    if link is not None:
        cut_connections.discard((client_writer, upstream_writer))


async def service(listen, backends):
    for port in backends:
        ready[port] = False
        asyncio.ensure_future(check_readiness(port))
    turn = [0]

    async def accept(reader, writer):
        candidates = [port for port in backends if ready.get(port)]
        if not candidates:
            writer.close()
            return
        turn[0] += 1
        await splice(reader, writer, candidates[turn[0] % len(candidates)])

    server = await asyncio.start_server(accept, "127.0.0.1", listen, backlog=4096)
    print("ready", flush=True)
    await server.serve_forever()


async def link(listen, backend):
    state = {"cut": False}
    loop = asyncio.get_running_loop()

    def cut_link():
        state["cut"] = True

    def mend_link():
        state["cut"] = False
        for pair in list(cut_connections):
            for writer in pair:
                writer.close()
        cut_connections.clear()

    loop.add_signal_handler(signal.SIGUSR1, cut_link)
    loop.add_signal_handler(signal.SIGUSR2, mend_link)

    async def accept(reader, writer):
        if state["cut"]:
            cut_connections.add((writer,))
            return  # accepted, never answered
        await splice(reader, writer, backend, state)

    server = await asyncio.start_server(accept, "127.0.0.1", listen)
    print("ready", flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    mode, ports = sys.argv[1], [int(port) for port in sys.argv[2:]]
    if mode == "service":
        asyncio.run(service(ports[0], ports[1:]))
    elif mode == "link":
        asyncio.run(link(ports[0], ports[1]))
    else:
        sys.exit(f"unknown mode {mode}")
