"""`suit serve`: the CoAP update server (specs/COAP-TRANSPORT.md)."""

from __future__ import annotations

import asyncio
import signal

import click

from suitlib.errors import InputError


def parse_bind(text: str) -> tuple[str, int]:
    """``HOST:PORT``, ``[v6]:PORT`` or ``HOST`` (port 5683)."""
    host, port = text, "5683"
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise InputError(f"bad bind address {text!r}", hint="use HOST:PORT or [IPv6]:PORT")
        host, rest = text[1:end], text[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise InputError(f"bad bind address {text!r}")
            port = rest[1:]
    elif text.count(":") == 1:
        host, port = text.split(":")
    try:
        num = int(port)
    except ValueError:
        raise InputError(f"bad port in {text!r}") from None
    if not 0 <= num <= 65535:
        raise InputError(f"port {num} out of range")
    return host or "::", num


@click.command()
@click.option("--store", "store_dir", required=True, type=click.Path(file_okay=False),
              help="Store directory (see `suit publish`).")
@click.option("--bind", default="[::]:5683", show_default=True, help="HOST:PORT to listen on (port 0: any).")
@click.option("--rate", default=500.0, show_default=True, type=float,
              help="Requests/s allowed per source address (0 = no limit); above: 4.29.")
@click.option("--burst", default=1000.0, show_default=True, type=float)
@click.option("--oscore", "oscore", default=None, type=click.Path(dir_okay=False, exists=True),
              help="aiocoap credentials JSON with OSCORE contexts (RFC 8613).")
@click.option("--require-auth", is_flag=True,
              help="Refuse requests not protected by OSCORE (4.01), except /.well-known/core.")
@click.pass_context
def serve(ctx: click.Context, store_dir: str, bind: str, rate: float, burst: float,
          oscore: str | None, require_auth: bool) -> None:
    """Serve manifests, payloads and the report sink over CoAP until SIGINT/SIGTERM."""
    from suitlib.server.app import ServerLimits, UpdateServer

    host, port = parse_bind(bind)
    quiet = bool(ctx.obj and ctx.obj.get("quiet"))

    async def run() -> None:
        server = UpdateServer(store_dir, ServerLimits(rate=rate, burst=burst),
                              oscore_credentials=oscore, require_auth=require_auth)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            bound = await server.start((host, port))
        except OSError as exc:
            server.db.close()
            raise InputError(f"cannot bind {host}:{port}: {exc.strerror or exc}") from None
        except BaseException:
            server.db.close()
            raise
        if not quiet:
            shown = f"[{host}]" if ":" in host else host
            click.echo(f"listening on coap://{shown}:{bound}", err=True)
        try:
            await stop.wait()
        finally:
            if not quiet:
                click.echo("shutting down", err=True)
            await server.stop()

    asyncio.run(run())
