"""The `tagpulse` command line."""

from __future__ import annotations

import typer

from tagpulse.cli import campaign, demo, insights, lake, maintenance, predict, sandbox, spark, users
from tagpulse.cli.enrich import enrich
from tagpulse.cli.feed import feed
from tagpulse.cli.feed_eval import feed_eval
from tagpulse.cli.imports import import_command
from tagpulse.cli.scale import app as scale_app
from tagpulse.cli.serve import serve
from tagpulse.cli.similar_tags import similar_tags
from tagpulse.cli.status import status
from tagpulse.cli.track import track

__all__ = ["app", "main"]

app = typer.Typer(
    name="tagpulse",
    help="Track hashtags over time, keep every answer in an open data lake, chart it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command()(track)
app.command()(status)
app.command()(lake.chart)
app.command()(lake.export)
app.command(name="import")(import_command)
app.command()(lake.compact)
app.command()(maintenance.reparse)
app.command()(maintenance.forget)
app.command()(demo.demo)
app.command()(serve)
app.command()(enrich)
app.command()(feed)
app.command(name="feed-eval")(feed_eval)
app.command(name="similar-tags")(similar_tags)
app.add_typer(sandbox.app, name="sandbox")
app.add_typer(insights.app, name="insights")
app.add_typer(users.users_app, name="users")
app.add_typer(users.keys_app, name="keys")
app.add_typer(campaign.app, name="campaign")
app.add_typer(predict.app, name="predict")
spark.register(app)
app.add_typer(scale_app, name="scale")


def main() -> None:
    app()
