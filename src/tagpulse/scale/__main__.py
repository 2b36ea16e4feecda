"""``python -m tagpulse.scale worker|schedule …``: the `tagpulse scale` commands without loading
the whole CLI (a worker starts in a fraction of the time)."""

from __future__ import annotations

from tagpulse.cli.scale import app

if __name__ == "__main__":
    app()
