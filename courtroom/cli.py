"""The ``courtroom`` command: serve the hub, verify a hearing's log, export a transcript."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from transcript.export import EXPORTERS
from transcript.log import ChainError, replay
from transcript.state import TranscriptState
from transcript.store import LogStore, open_database

DB_NAME = "courtroom.db"


def default_data_dir() -> Path:
    if os.environ.get("COURTROOM_DATA"):
        return Path(os.environ["COURTROOM_DATA"])
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "courtroom"


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .app import create_app
    from .hub import Hub
    from .invites import InviteStore, hash_token, new_token
    from .session import HARD_MESSAGE_LIMIT

    data: Path = args.data
    conn = open_database(data / DB_NAME)
    invites = InviteStore(conn)
    token = args.admin_token or os.environ.get("COURTROOM_ADMIN_TOKEN")
    if token:
        admin_hash = hash_token(token)
    elif (admin_hash := invites.admin_hash()) is None:
        token = new_token()
        admin_hash = hash_token(token)
        invites.set_admin_hash(admin_hash)
        print(f"Admin token (shown once; keep it safe): {token}", flush=True)
    conn.close()
    # The store thread must get the GIL back promptly after each fsync, or
    # a loop busy with fan-out delays every ack; A/B in tests/bench showed
    # p99 op→event 15-30 ms at 0.2 ms against 19-180 ms at the default 5 ms.
    sys.setswitchinterval(0.0002)
    print(f"courtroom hub: data in {data}; listening on http://{args.host}:{args.port}", flush=True)
    app = create_app(Hub(data), admin_hash, args.public_url)
    uvicorn.run(app, host=args.host, port=args.port, ws_max_size=HARD_MESSAGE_LIMIT,
                ws_per_message_deflate=False, log_level=args.log_level, timeout_graceful_shutdown=5)
    return 0


class CommandError(Exception):
    """A command failed in a way the user can act on: message, exit code."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def _replayed(args: argparse.Namespace) -> tuple[TranscriptState, str, int]:
    """The hearing's state, head hash and last seq, rebuilt and checked."""
    try:
        conn = open_database(args.data / DB_NAME, readonly=True)
    except FileNotFoundError as err:
        raise CommandError(str(err)) from None
    entries = list(LogStore(conn).entries(args.hearing_id))
    conn.close()
    if not entries:
        raise CommandError(f"no hearing {args.hearing_id} in {args.data}")
    try:
        return replay(entries, args.hearing_id)
    except ChainError as err:
        raise CommandError(f"hearing {args.hearing_id}: log FAILED verification at seq {err.seq}: "
                           f"{err.reason}", 1) from None


def verify(args: argparse.Namespace) -> int:
    _, head, seq = _replayed(args)
    print(f"hearing {args.hearing_id}: {seq} entries verified; head hash {head}")
    return 0


def export(args: argparse.Namespace) -> int:
    state, _, seq = _replayed(args)
    render, _ = EXPORTERS[args.format]
    text = render(state, seq)
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as err:
            raise CommandError(f"cannot write {args.output}: {err.strerror}") from None
    else:
        sys.stdout.write(text)
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="courtroom", description="Fusion courtroom hub (融合法庭)")
    sub = p.add_subparsers(dest="command", required=True)
    data_help = "data directory (default: $COURTROOM_DATA or ~/.local/share/courtroom)"

    s = sub.add_parser("serve", help="run the hearing hub")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--data", type=Path, default=default_data_dir(), help=data_help)
    s.add_argument("--admin-token", help="admin token (default: $COURTROOM_ADMIN_TOKEN, else one "
                   "generated at first start and printed once)")
    s.add_argument("--public-url", help="base URL used in join links (default: the request's host)")
    s.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    s.set_defaults(run=serve)

    for name, fn, text in (("verify", verify, "check a hearing's hash chain and replay its log"),
                           ("export", export, "write a hearing's transcript")):
        c = sub.add_parser(name, help=text)
        c.add_argument("--data", type=Path, default=default_data_dir(), help=data_help)
        c.add_argument("hearing_id")
        if name == "export":
            c.add_argument("--format", choices=sorted(EXPORTERS), default="txt")
            c.add_argument("--output", "-o", help="file to write (default: standard output)")
        c.set_defaults(run=fn)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except CommandError as err:
        print(f"courtroom: {err}", file=sys.stderr)
        return err.code


if __name__ == "__main__":
    sys.exit(main())
