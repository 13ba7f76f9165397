#!/usr/bin/env python3
"""A TLS terminator on loopback for Sésame's browser tests: HTTPS in front of a plain-HTTP
server, as a reverse proxy or load balancer puts it in production.

    tls_proxy.py --listen HOST:PORT --upstream HOST:PORT --dir DIR

Creates DIR/tls-{key,cert}.pem (self-signed, for HOST) if missing, accepts TLS connections on
HOST:PORT and pipes each one's bytes to a new TCP connection to the upstream, both ways, until
either side closes. It does not parse HTTP. Prints `ready` on stdout once it listens; logs go to
stderr.
"""

import argparse
import asyncio
import os
import ssl
import subprocess
import sys


def ensure_cert(d, host):
    os.makedirs(d, exist_ok=True)
    key, cert = os.path.join(d, "tls-key.pem"), os.path.join(d, "tls-cert.pem")
    if not os.path.exists(cert):
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-keyout", key, "-out", cert, "-subj", f"/CN={host}",
             "-addext", f"subjectAltName=IP:{host}"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return key, cert


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--listen", required=True)
    p.add_argument("--upstream", required=True)
    p.add_argument("--dir", required=True)
    args = p.parse_args()
    host, port = args.listen.rsplit(":", 1)
    up_host, up_port = args.upstream.rsplit(":", 1)
    key, cert = ensure_cert(args.dir, host)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)

    async def handle(client_reader, client_writer):
        try:
            up_reader, up_writer = await asyncio.open_connection(up_host, int(up_port))
        except OSError as e:
            sys.stderr.write(f"tls_proxy: upstream {args.upstream}: {e}\n")
            client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, up_writer), pipe(up_reader, client_writer))

    async def serve():
        server = await asyncio.start_server(handle, host, int(port), ssl=ctx)
        print("ready", flush=True)
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
