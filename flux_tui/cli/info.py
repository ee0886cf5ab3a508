"""``flux-tui info``: what the stream looks like and what the rate budget allows.

One DescribeStream walk (following ``HasMoreShards``), printed as text or JSON: the stream's
name, status and retention, every shard with its lineage, and the budget after the calls.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import TYPE_CHECKING, Any

from flux_tui.base.errors import FluxError
from flux_tui.cli.output import EXIT_OK, report_error
from flux_tui.config import Profile
from flux_tui.data.terminal import terminal_safe

if TYPE_CHECKING:
    from flux_tui.api.models import Shard, StreamDescription


def add_parser(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    parents: list[argparse.ArgumentParser],
) -> None:
    """Register ``info``."""
    parser = commands.add_parser(
        "info",
        parents=parents,
        help="describe the stream: status, shards, budget",
        description="Describe the stream and show the rate budget.",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=run_info)


def _lineage(shard: Shard) -> str:
    parents = [p for p in (shard.parent_shard_id, shard.adjacent_parent_shard_id) if p]
    if not parents:
        return ""
    verb = "merged from" if len(parents) == 2 else "split from"
    return f"{verb} {' + '.join(parents)}"


def describe_text(
    profile: Profile,
    stream: StreamDescription,
    budget: dict[str, Any],
    token_expires_at: float | None,
) -> str:
    """The human report."""
    lines = [
        f"profile    {profile.name} ({profile.stream_url() if not profile.simulator else 'embedded simulator'})",
        f"stream     {stream.stream_name or '?'}",
        f"status     {stream.stream_status or '?'}",
        f"retention  {stream.retention_period_hours if stream.retention_period_hours is not None else '?'} h",
    ]
    if stream.stream_arn:
        lines.append(f"arn        {stream.stream_arn}")
    open_count = sum(1 for s in stream.shards if not s.is_closed)
    lines.append(
        f"shards     {len(stream.shards)} ({open_count} open, "
        f"{len(stream.shards) - open_count} closed)"
    )
    for shard in stream.shards:
        state = "closed" if shard.is_closed else "open  "
        lines.append(f"  {shard.shard_id}  {state}  {_lineage(shard)}".rstrip())
    wait = f", next call in {budget['resets_in']:.0f} s" if budget["resets_in"] >= 0.5 else ""
    lines.append(
        f"budget     {budget['remaining']} of {budget['calls']} calls left "
        f"(window {budget['window']:g} s{wait})"
    )
    if token_expires_at is not None:
        left = max(0, int(token_expires_at - time.time()))
        lines.append(f"token      valid for {left // 3600}h{left % 3600 // 60:02d}m")
    return "\n".join(lines)


async def _describe(profile: Profile) -> tuple[StreamDescription, dict[str, Any], float | None]:
    from flux_tui.connect import open_feed

    async with await open_feed(profile) as session:
        stream = await session.client.describe_all()
        budget = session.budget
        snapshot = {
            "calls": budget.calls,
            "window": budget.window,
            "remaining": budget.remaining,
            "resets_in": budget.resets_in,
        }
        return stream, snapshot, session.tokens.expires_at


def run_info(args: argparse.Namespace, profile: Profile) -> int:
    """``flux-tui info``."""
    try:
        stream, budget, expires_at = asyncio.run(_describe(profile))
    except FluxError as exc:
        return report_error(exc)
    if args.json:
        shards = [
            {
                "shard_id": s.shard_id,
                "closed": s.is_closed,
                "parents": [p for p in (s.parent_shard_id, s.adjacent_parent_shard_id) if p],
            }
            for s in stream.shards
        ]
        out = {
            "profile": profile.name,
            "stream_name": stream.stream_name,
            "stream_status": stream.stream_status,
            "retention_period_hours": stream.retention_period_hours,
            "shards": shards,
            "budget": budget,
            "token_expires_at": expires_at,
        }
        json.dump(out, sys.stdout, indent=2)
        print()
    else:
        # Stream and shard names come from the server: shown literally, never acted on.
        print(terminal_safe(describe_text(profile, stream, budget, expires_at), newlines=True))
    return EXIT_OK
