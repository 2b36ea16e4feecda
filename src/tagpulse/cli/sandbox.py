"""`tagpulse sandbox serve`: run the sandbox platform on loopback."""

from __future__ import annotations

from typing import Annotated

import typer

from tagpulse.analysis.timeline import parse_duration
from tagpulse.cli.common import console, friendly_errors
from tagpulse.platforms.sandbox.clock import AcceleratedClock, Clock, SystemClock
from tagpulse.platforms.sandbox.server import FaultConfig, SandboxServer, serve_forever
from tagpulse.platforms.sandbox.world import World, default_accounts

__all__ = ["app"]

app = typer.Typer(help="The sandbox platform: a generative world behind the real API shapes.")


@app.command("serve")
@friendly_errors
def serve(
    port: Annotated[int, typer.Option("--port", help="0 picks a free port")] = 8765,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    speed: Annotated[
        float, typer.Option("--speed", help="Simulated seconds per wall second (1 = real time)")
    ] = 1.0,
    seed: Annotated[int, typer.Option("--seed")] = 7,
    accounts: Annotated[int, typer.Option("--accounts", help="Number of sandbox accounts")] = 3,
    faults: Annotated[
        float, typer.Option("--faults", help="Probability of an injected failure per request")
    ] = 0.0,
    skip: Annotated[
        str, typer.Option("--skip", help="Start the clock this far into the world, e.g. 3d")
    ] = "0s",
) -> None:
    """Serve the sandbox; prints its base URL, then serves until Ctrl-C."""
    world = World(seed=seed, accounts=default_accounts(accounts))
    start = world.start + parse_duration(skip) if skip not in ("0", "0s") else world.start
    clock: Clock = AcceleratedClock.starting_now(start, speed) if speed != 1.0 else SystemClock()
    fault_config = FaultConfig(
        rate_limit_429=faults / 2,
        connection_reset=faults / 4,
        truncated_json=faults / 4,
        seed=seed,
    )

    def ready(server: SandboxServer) -> None:
        console.print(server.base_url, highlight=False, soft_wrap=True)
        logins = ", ".join(f"{a.alias} (sessionid {a.session_id})" for a in world.accounts)
        console.print(
            f"accounts: {logins}; tags: {', '.join(world.tags)}",
            highlight=False,
        )

    serve_forever(world, clock, host=host, port=port, faults=fault_config, on_ready=ready)
