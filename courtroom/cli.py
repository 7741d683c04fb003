"""The ``courtroom`` command: serve the hub, verify a hearing's log, export a transcript."""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import logging
import os
import re
import socket
import sys
from pathlib import Path
from typing import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from transcript.canonical import canonical_json
from paperwork.record import EXPORTERS
from transcript.sittings import Sittings
from transcript.heads import SignedHead, Signer, check_head, key_id
from transcript.log import ChainError, LogEntry, replay
from transcript.state import TranscriptState
from case.state import CaseState
from storage import StorageError, describe, open_database
from storage.invites import InviteStore
from storage.log import LogStore

from .evidence import file_sha256
from .kinds import kind_name, machine_for
from .keys import KeyFileError, default_key_path, load_public, public_pem, signing_key

#: An admin token anyone could guess is no protection.
MIN_ADMIN_TOKEN = 16


def default_data_dir() -> Path:
    if os.environ.get("COURTROOM_DATA"):
        return Path(os.environ["COURTROOM_DATA"])
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "courtroom"


def serve(args: argparse.Namespace) -> int:
    from .app import create_app
    from .hub import Hub
    from storage.tokens import hash_token, new_token

    from .ratelimit import RateLimit
    from transcript.quotas import Quotas

    worker = _worker_arg(args.worker) if args.worker else None
    workers = _workers(args)
    quiet = worker is not None  # the front said it all
    media = _media_config(args)

    data: Path = args.data
    try:
        db = open_database(args.database, data)
    except StorageError as err:
        raise CommandError(str(err)) from None
    invites = InviteStore(db)
    token = args.admin_token or os.environ.get("COURTROOM_ADMIN_TOKEN")
    if token and len(token) < MIN_ADMIN_TOKEN:
        raise CommandError(f"the admin token must be at least {MIN_ADMIN_TOKEN} characters "
                           "(leave it out and the hub generates a strong one)")
    if token:
        admin_hash = hash_token(token)
    elif (admin_hash := invites.admin_hash()) is None:
        token = new_token()
        admin_hash = hash_token(token)
        invites.set_admin_hash(admin_hash)
        print(f"Admin token (shown once; keep it safe): {token}", flush=True)
    db.close()
    try:
        key, created = signing_key(args.signing_key, data)
    except KeyFileError as err:
        raise CommandError(str(err)) from None
    signer = Signer(key)
    if created:
        print(f"created the signing key {args.signing_key} (key id {signer.key_id}): keep a copy of it "
              "somewhere safe, away from the data directory", flush=True)
    elif not quiet:
        print(f"signing hearings' heads with {args.signing_key} (key id {signer.key_id})", flush=True)
    # The store thread must get the GIL back promptly after each fsync, or
    # a loop busy with fan-out delays every ack; A/B in tests/bench showed
    # p99 op→event 15-30 ms at 0.2 ms against 19-180 ms at the default 5 ms.
    sys.setswitchinterval(0.0002)
    try:
        quotas = Quotas.parse(args.quota)
    except ValueError as err:
        raise CommandError(str(err)) from None
    if args.rate_limit < 0:
        raise CommandError("--rate-limit is messages per second (0: no limit)")
    rate = RateLimit(args.rate_limit, args.rate_limit * 4)
    emblem = _emblem(args.emblem or os.environ.get("COURTROOM_EMBLEM"))
    cluster: tuple[str | None, str, str | None] | None = None
    if args.redis:
        if not args.redis.startswith(("redis://", "rediss://", "unix://")):
            raise CommandError("--redis must be a redis:// URL (e.g. redis://10.1.2.3:6379/0)")
        host = socket.gethostname() if args.host in ("0.0.0.0", "::") else args.host
        cluster = (args.redis, args.node_url or f"http://{host}:{args.port}", None)
        import redis
        try:
            redis.Redis.from_url(args.redis, socket_connect_timeout=5).ping()
        except (redis.RedisError, ValueError) as err:
            raise CommandError(f"cannot reach Redis at {args.redis.split('@')[-1]}: {err}") from None
        print(f"cluster node: events through Redis {args.redis.split('@')[-1]}, reached at {cluster[1]}", flush=True)
    if not quiet:
        print(f"courtroom hub: data in {data}, logs in {describe(args.database, data)}; "
              f"listening on http://{args.host}:{args.port}"
              + (f" with {workers} worker processes" if workers > 1 else ""), flush=True)
    if worker is None and workers > 1:
        return _front(args, workers)
    private: socket.socket | None = None
    resumes: Callable[[str], bool] | None = None
    if worker is not None:
        from .workers.front import die_with_parent
        from .workers.route import is_home, node_id
        die_with_parent(worker[2])
        # A private loopback port: where the other workers pass on the HTTP
        # requests about streams this worker holds.
        private = socket.create_server(("127.0.0.1", 0))
        cluster = (None, f"http://127.0.0.1:{private.getsockname()[1]}",
                   node_id(worker[0], os.getpid(), os.urandom(3).hex()))
        # The live streams a worker takes up at start: those of the hearings
        # the front sends here while nobody holds them (``workers`` is the
        # front's count: the same arguments on the same machine).
        resumes = functools.partial(is_home, index=worker[0], workers=workers)
    app = create_app(Hub(data, media, quotas, rate, signer, args.database, cluster=cluster, resumes=resumes),
                     admin_hash, args.public_url, emblem)
    _uvicorn(args, app, private, worker)
    return 0


def _workers(args: argparse.Namespace) -> int:
    """How many hub processes: ``--workers``, else one per core (one with
    ``--redis``: a cluster node is one process; run one node per core)."""
    if args.workers is None:
        return 1 if args.redis else max(1, os.cpu_count() or 1)
    if args.workers < 1:
        raise CommandError("--workers is a number of processes, at least 1")
    if args.workers > 1 and args.redis:
        raise CommandError("--workers cannot be combined with --redis: a cluster node is one process; "
                           "start one node per core, each on its own port")
    return int(args.workers)


def _worker_arg(value: str) -> tuple[int, int, int]:
    """``--worker INDEX:FD:FRONT_PID``, given by the front only."""
    try:
        index, fd, parent = (int(x) for x in value.split(":"))
    except ValueError:
        raise CommandError("--worker is set by the hub's front process, not by hand") from None
    return index, fd, parent


def _front(args: argparse.Namespace, workers: int) -> int:
    from .connections import ConnectionLimits
    from .workers.front import Front, worker_argv
    from storage.leases import Leases

    if args.database is None:
        # The embedded store is this machine's alone, and one front's: it
        # clears the leases of workers that died with the one before it.
        import fcntl
        args.data.mkdir(parents=True, exist_ok=True)
        lock = open(args.data / "front.lock", "a")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CommandError(f"another hub is serving {args.data}; stop it first") from None
    front = Front(args.host, args.port, workers, worker_argv(args.argv),
                  lambda: Leases(open_database(args.database, args.data, beside_hub=True)), args.head_timeout,
                  clear_leases=args.database is None,
                  max_heads=ConnectionLimits.for_this_process(args.max_connections).max_connections)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s: front: %(message)s")
    try:
        asyncio.run(front.run())
    except OSError as err:
        raise CommandError(f"cannot listen on {args.host}:{args.port}: {err}") from None
    return 0


def _uvicorn(args: argparse.Namespace, app: object, private: socket.socket | None,
             worker: tuple[int, int, int] | None) -> None:
    import uvicorn
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    from .connections import ConnectionLimits, Guard, guarded
    from .logs import log_config
    from protocol.limits import HARD_MESSAGE_LIMIT

    limits = ConnectionLimits.for_this_process(args.max_connections, args.head_timeout)
    http = guarded(AutoHTTPProtocol, Guard(limits))
    options = dict(http=http, ws_max_size=HARD_MESSAGE_LIMIT, ws_per_message_deflate=False,
                   log_level=args.log_level, log_config=log_config(args.log_level),
                   timeout_graceful_shutdown=5, timeout_keep_alive=5)
    if worker is None or private is None:
        uvicorn.run(app, host=args.host, port=args.port, **options)  # type: ignore[arg-type]
        return
    from .workers.handoff import WorkerServer
    server = WorkerServer(uvicorn.Config(app, **options), socket.socket(fileno=worker[1]))  # type: ignore[arg-type]
    server.run(sockets=[private])


EMBLEM_TYPES = {".png", ".jpg", ".jpeg", ".svg", ".webp"}


def _emblem(name: str | None) -> Path | None:
    """The court's emblem image for the pages (人民法院在线诉讼规则 Art. 24
    asks online hearings to show the national emblem). The hub ships none:
    the court supplies its own file."""
    if not name:
        print("no emblem image: the hearing pages show none (pass --emblem FILE, "
              "a PNG, JPEG, WebP or SVG of the national emblem)", flush=True)
        return None
    path = Path(name)
    if path.suffix.lower() not in EMBLEM_TYPES:
        raise CommandError(f"--emblem {path}: the emblem must be a PNG, JPEG, WebP or SVG file")
    if not path.is_file():
        raise CommandError(f"--emblem {path}: no such file")
    return path


def _media_config(args: argparse.Namespace) -> object:
    """The media hub's settings; says plainly whether speech is recognized."""
    from asr.engine import ModelError, VoskEngine
    from asr.models import find_model

    from .media.mediaroom import MediaConfig
    from .media.network import Network, rtc_configuration, use_networks

    try:
        networks = [Network.parse(spec) for spec in args.network]
    except ValueError as err:
        raise CommandError(str(err)) from None
    if networks:
        use_networks(networks)
        print("media on " + ", ".join(f"{n.name} ({n.address})" for n in networks), flush=True)
    if args.turn and not (args.turn_user and args.turn_password):
        raise CommandError("--turn needs --turn-user and --turn-password")
    from .live.service import LiveStreams
    match = re.fullmatch(r"(\d{3,4})x(\d{3,4})", args.live_size)
    width, height = (int(match[1]), int(match[2])) if match else (0, 0)
    if not (320 <= width <= 1920 and 180 <= height <= 1080 and width % 2 == 0 and height % 2 == 0):
        raise CommandError(f"--live-size {args.live_size}: give WIDTHxHEIGHT, even, from 320x180 to 1920x1080")
    recordings = args.data / "recordings"
    config = MediaConfig(rtc_configuration(args.stun, args.turn, args.turn_user, args.turn_password),
                         recordings=recordings, early_endpoints=args.endpoints == "early",
                         live=LiveStreams(args.data, recordings, width, height))
    if args.asr:
        from .remoteasr import RemoteEngine
        try:
            config.engine = RemoteEngine(args.asr)
        except ModelError as err:
            raise CommandError(str(err)) from None
        print(f"speech recognition: on workers {', '.join(args.asr)}", flush=True)
        return config
    try:
        config.engine = VoskEngine(find_model(args.model))
        print(f"speech recognition: vosk model {config.engine.model_dir}", flush=True)
    except ModelError as err:
        print(f"running WITHOUT speech recognition: {err}", flush=True)
    return config


class CommandError(Exception):
    """A command failed in a way the user can act on: message, exit code."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def _log(args: argparse.Namespace) -> LogStore:
    """The log the command reads (read-only), in ``--database`` or the data directory."""
    try:
        return LogStore(open_database(args.database, args.data, readonly=True), create=False)
    except StorageError as err:
        raise CommandError(str(err)) from None


def _read(args: argparse.Namespace) -> tuple[list[LogEntry], SignedHead | None]:
    """A hearing's log entries and signed head."""
    store = _log(args)
    entries, head = list(store.entries(args.hearing_id)), store.head(args.hearing_id)
    store.db.close()
    if not entries:
        raise CommandError(f"no {kind_name(args.hearing_id)} {args.hearing_id} in "
                           f"{describe(args.database, args.data)}")
    return entries, head


def _replayed(args: argparse.Namespace, entries: list[LogEntry] | None = None
              ) -> tuple[TranscriptState | CaseState, str, int]:
    """The hearing's (or case's) state, head hash and last seq, rebuilt and checked."""
    if entries is None:
        entries, _ = _read(args)
    machine = machine_for(args.hearing_id)
    if machine is None:
        raise CommandError(f"{args.hearing_id} names no hearing (h-…) or case (c-…)")
    try:
        return replay(entries, args.hearing_id, machine)
    except ChainError as err:
        raise _failed(args, f"at seq {err.seq}: {err.reason}") from None


def _failed(args: argparse.Namespace, reason: str) -> CommandError:
    return CommandError(f"{kind_name(args.hearing_id)} {args.hearing_id}: log FAILED verification {reason}", 1)


def _public_keys(args: argparse.Namespace) -> list[Ed25519PublicKey]:
    paths = args.key or [default_key_path()]
    try:
        return [load_public(path) for path in paths]
    except KeyFileError as err:
        raise CommandError(f"cannot check the log's signature: {err}; give the court's key with --key FILE "
                           "(courtroom keys public prints it where the hub runs)") from None


def verify(args: argparse.Namespace) -> int:
    """The chain, the signed head, every evidence file, and the court's
    archived anchors: a hearing's record is whole only if all agree."""
    entries, head = _read(args)
    keys = _public_keys(args)
    state, last_hash, seq = _replayed(args, entries)
    problem = check_head(head, seq, last_hash, keys)
    if problem is not None:
        raise _failed(args, f"against its signed head: {problem}")
    files = state.files()
    for label, sha256 in files:
        path = args.data / "evidence" / args.hearing_id / sha256
        if not path.is_file():
            raise _failed(args, f"{label}: its file is missing ({path})")
        if file_sha256(path) != sha256:
            raise _failed(args, f"{label}: its file was altered ({path})")
    anchored = 0
    for anchors in args.anchors:
        for n, anchor in _anchors_in(anchors):
            if anchor.hearing_id != args.hearing_id:
                continue
            if not anchor.verify(keys):
                raise CommandError(f"{anchors}, line {n}: an anchor not signed by the court's key", 1)
            if anchor.seq > seq or entries[anchor.seq - 1].hash != anchor.hash:
                raise _failed(args, f"against the archived anchor of seq {anchor.seq} ({anchors}, line {n}): "
                              "entries the court anchored are missing or changed")
            anchored += 1
    print(f"{kind_name(args.hearing_id)} {args.hearing_id}: {seq} entries verified; head hash {last_hash}, "
          f"signed by key {head.key_id}; {len(files)} evidence files intact"
          + (f"; {anchored} anchors match" if args.anchors else ""))
    return 0


def _anchors_in(path: Path) -> list[tuple[int, SignedHead]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise CommandError(f"cannot read {path}: {err.strerror}") from None
    out = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            out.append((n, SignedHead.from_dict(json.loads(line))))
        except (ValueError, KeyError, TypeError):
            raise CommandError(f"{path}, line {n}: not an anchor (a JSON line from courtroom anchors)") from None
    return out


def anchors(args: argparse.Namespace) -> int:
    """Every hearing's signed head as JSON lines, for the court to append to
    an archive the hub cannot write (and to give verify --anchors)."""
    store = _log(args)
    heads = store.heads()
    store.db.close()
    _write(args.output, "".join(canonical_json(h.to_dict()) + "\n" for h in heads))
    return 0


def migrate(args: argparse.Namespace) -> int:
    """Copy the data directory's SQLite store into PostgreSQL, then replay
    and check every hearing and case there. Stop the hub first."""
    from storage.migrate import copy, verify_all

    if not args.to:
        raise CommandError("--to is required: the PostgreSQL database to copy into (postgresql://…)")
    keys = _public_keys(args)
    try:
        source = open_database(None, args.data, readonly=True)
        target = open_database(args.to, args.data)
    except StorageError as err:
        raise CommandError(str(err)) from None
    print(f"copying {describe(None, args.data)} into {describe(args.to, args.data)}", flush=True)
    verified: list[tuple[int, int]] = []
    try:
        report = copy(source, target, lambda db: verified.append(verify_all(db, keys, machine_for)))
    except StorageError as err:
        raise CommandError(f"migration failed, nothing was written: {err}", 1) from None
    finally:
        source.close()
        target.close()
    (streams, entries), = verified
    print("copied " + ", ".join(f"{n} {table}" for table, n in report.rows.items() if n))
    print(f"verified {streams} hearings and cases ({entries} entries): every chain replays to its signed "
          "head. Serve with --database and the same URL (the data directory still holds evidence and recordings).")
    return 0


def asr_worker(args: argparse.Namespace) -> int:
    """A recognition worker speaking vosk-server's protocol (for ``serve --asr``)."""
    from asr.engine import ModelError, VoskEngine
    from asr.models import find_model

    from .asrworker import Worker

    try:
        engine = VoskEngine(find_model(args.model))
    except ModelError as err:
        raise CommandError(str(err)) from None
    logging.basicConfig(level=logging.WARNING)
    try:
        asyncio.run(Worker(engine).run(args.host, args.port))
    except KeyboardInterrupt:
        pass
    except OSError as err:
        raise CommandError(f"cannot listen on {args.host}:{args.port}: {err.strerror}") from None
    return 0


def keys(args: argparse.Namespace) -> int:
    try:
        public = load_public(args.signing_key)
    except KeyFileError as err:
        raise CommandError(str(err)) from None
    print(f"# key id {key_id(public)}\n{public_pem(public)}", end="")
    return 0


def device_logging() -> None:
    """What a terminal or courtroom PC logs: its own waiting and joining,
    not every ICE check of the media libraries."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    for noisy in ("aioice", "aiortc"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def terminal(args: argparse.Namespace) -> int:
    """A fixed terminal: joins with the system's microphone and loudspeaker
    and stays in the hearing by itself."""
    from devices.appliance import SYSTEMD_UNIT, Appliance
    from devices.kiosk import Kiosk
    from devices.client import Revoked, websocket_url

    if args.systemd_unit:
        print(SYSTEMD_UNIT.format(python=sys.executable), end="")
        return 0
    if not args.join_url:
        raise CommandError("--join-url is required: the invite link the court issued for this terminal")
    try:
        websocket_url(args.join_url)
    except ValueError as err:
        raise CommandError(str(err)) from None
    device_logging()
    try:
        screen = Kiosk(args.join_url, args.browser) if args.screen else None
        asyncio.run(Appliance(args.join_url, args.input, args.output, screen).run())
    except Revoked as err:
        raise CommandError(f"the hub no longer accepts this terminal's invite ({err}): ask the court for a new "
                           "link") from None
    except KeyboardInterrupt:
        pass
    return 0


def room(args: argparse.Namespace) -> int:
    """A courtroom PC: joins whatever hearing its courtroom holds, every seat
    microphone as its participant, and stays in it by itself."""
    from devices.agent import SYSTEMD_UNIT, CourtroomAgent
    from devices.client import Revoked
    from devices.roomconfig import ConfigError, load

    if args.systemd_unit:
        print(SYSTEMD_UNIT.format(python=sys.executable), end="")
        return 0
    if not args.config:
        raise CommandError("--config is required: the courtroom's room.toml (see README)")
    try:
        config = load(Path(args.config))
    except ConfigError as err:
        raise CommandError(str(err)) from None
    device_logging()
    try:
        asyncio.run(CourtroomAgent(config).run())
    except Revoked as err:
        raise CommandError(f"{err}: ask court staff for a new device credential") from None
    except KeyboardInterrupt:
        pass
    return 0


def export_format(given: str | None, output: str | None) -> str:
    """``--format``, else the output file's suffix (笔录.docx is Word), else text."""
    if given:
        return given
    suffix = Path(output).suffix.lower().lstrip(".") if output else ""
    if suffix in EXPORTERS:
        return suffix
    if suffix:
        raise CommandError(f"cannot tell the format from {output!r}: name a file ending in "
                           f"{', '.join('.' + f for f in sorted(EXPORTERS))}, or pass --format")
    return "txt"


def export(args: argparse.Namespace) -> int:
    entries, _ = _read(args)
    state, _, _ = _replayed(args, entries)
    if not isinstance(state, TranscriptState):
        raise CommandError(f"{args.hearing_id} is a case: export writes a hearing's transcript")
    render, _ = EXPORTERS[export_format(args.format, args.output)]
    _write(args.output, render(state, Sittings.of(entries)))
    return 0


def transcribe(args: argparse.Namespace) -> int:
    from asr.engine import ModelError, VoskEngine
    from asr.models import find_model
    from asr.text import DEFAULT_VOCABULARY, CourtText, Vocabulary
    from asr.transcribe import TranscribeError, transcribe as run

    from .progress import ProgressBar

    try:
        engine = VoskEngine(find_model(args.model))
        vocabulary = Vocabulary(DEFAULT_VOCABULARY) if args.vocabulary is None else Vocabulary.load(args.vocabulary)
    except ModelError as err:
        raise CommandError(str(err)) from None
    except OSError as err:
        raise CommandError(f"cannot read the vocabulary {args.vocabulary}: {err.strerror}") from None
    bar = ProgressBar(f"transcribing {args.file.name}", " s")
    try:
        results = run(args.file, engine, channels_as_speakers=args.channels_as_speakers,
                      text=CourtText(vocabulary), progress=bar)
    except TranscribeError as err:
        raise CommandError(str(err)) from None
    finally:
        bar.finish()
    _write(args.output, render_results(results, args.format, args.channels_as_speakers))
    return 0


def render_results(results: list, fmt: str, by_channel: bool) -> str:  # type: ignore[type-arg]
    from transcript.subtitles import Cue, clock, to_srt, to_vtt

    def who(r) -> str | None:  # type: ignore[no-untyped-def]
        return f"声道{r.speaker}" if by_channel else None

    if fmt == "json":
        segments = []
        for r in results:
            seg = r.to_dict()
            if by_channel:
                seg["speaker"] = int(r.speaker)
            else:
                del seg["speaker"]
            segments.append(seg)
        return json.dumps({"segments": segments}, ensure_ascii=False, indent=2) + "\n"
    if fmt == "txt":
        return "".join(f"[{clock(round(r.start))[:8]}] {who(r) + '：' if by_channel else ''}{r.text}\n"
                       for r in results)
    cues = [Cue(r.start, r.end, r.text, who(r)) for r in results]
    return to_srt(cues) if fmt == "srt" else to_vtt(cues)


def models(args: argparse.Namespace) -> int:
    from asr.engine import ModelError
    from asr.models import download, find_model

    from .progress import ProgressBar

    try:
        if args.action == "path":
            print(find_model(None))
            return 0
        bar = ProgressBar(f"downloading {args.name}", " MB")
        try:
            target = download(args.name, args.dest, args.list_url,
                              lambda done, total: bar(done / 1e6, total / 1e6 if total else None))
        finally:
            bar.finish()
    except ModelError as err:
        raise CommandError(str(err)) from None
    print(f"model installed in {target}")
    return 0


def _write(output: str | None, content: str | bytes) -> None:
    data = content.encode("utf-8") if isinstance(content, str) else content
    if output:
        try:
            Path(output).write_bytes(data)
        except OSError as err:
            raise CommandError(f"cannot write {output}: {err.strerror}") from None
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="courtroom", description="Fusion courtroom hub (融合法庭)")
    sub = p.add_subparsers(dest="command", required=True)
    data_help = "data directory (default: $COURTROOM_DATA or ~/.local/share/courtroom)"
    database_help = ("the PostgreSQL database holding the logs, postgresql://user:password@host/db "
                     "(default: $COURTROOM_DATABASE, else SQLite in the data directory)")
    database = os.environ.get("COURTROOM_DATABASE") or None

    s = sub.add_parser("serve", help="run the hearing hub")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--data", type=Path, default=default_data_dir(), help=data_help)
    s.add_argument("--database", default=database, metavar="URL", help=database_help)
    s.add_argument("--redis", default=os.environ.get("COURTROOM_REDIS") or None, metavar="URL",
                   help="run as one node of a cluster: nodes with the same --database (PostgreSQL), Redis, "
                   "admin token and signing key serve the same hearings (default: $COURTROOM_REDIS, else a "
                   "single hub)")
    s.add_argument("--workers", type=int, default=None, metavar="N",
                   help="hub processes behind the one address, each serving its own hearings (default: one "
                   "per core; 1 with --redis, where each node is one process)")
    s.add_argument("--worker", help=argparse.SUPPRESS)
    s.add_argument("--node-url", metavar="URL", help="where other nodes and clients reach this node "
                   "(default: http://HOST:PORT)")
    s.add_argument("--admin-token", help="admin token (default: $COURTROOM_ADMIN_TOKEN, else one "
                   "generated at first start and printed once)")
    s.add_argument("--public-url", help="base URL used in join links (default: the request's host)")
    s.add_argument("--emblem", metavar="FILE", help="the national emblem image the hearing pages show "
                   "(PNG, JPEG, WebP or SVG; default: $COURTROOM_EMBLEM, else none)")
    s.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    s.add_argument("--model", type=Path, help="vosk model folder for live recognition (default: "
                   "$COURTROOM_VOSK_MODEL, then ~/.cache/courtroom/models; without one the hub runs without it)")
    s.add_argument("--asr", action="append", default=[], metavar="URL",
                   help="recognize on vosk-server workers instead of in the hub: ws://HOST:2700 (repeat for a "
                   "pool; `courtroom asr-worker` is one); streams move to another worker if one fails")
    s.add_argument("--network", action="append", default=[], metavar="NAME=ADDRESS",
                   help="a network the media hub is reachable on and its address there, e.g. "
                   "internet=203.0.113.5, court=10.1.2.3 (repeat; default: every interface)")
    s.add_argument("--endpoints", choices=["early", "recognizer"], default="early",
                   help="when a spoken line ends: early (default), as soon as the pause is clear (about 0.3 s "
                   "after a complete clause, never after a word a sentence goes on from), or recognizer, at "
                   "the recognizer's own fixed silence (0.5 s)")
    s.add_argument("--live-size", default="640x360", metavar="WIDTHxHEIGHT",
                   help="the public live stream's picture (default 640x360; 1280x720 costs about twice the CPU)")
    s.add_argument("--stun", help="STUN server for the hub's own candidates, e.g. stun:stun.court.example:3478")
    s.add_argument("--turn", help="TURN server (coturn) relaying for internet parties, e.g. turn:turn.court.example:3478")
    s.add_argument("--turn-user")
    s.add_argument("--turn-password")
    s.add_argument("--signing-key", type=Path, default=default_key_path(), metavar="FILE",
                   help="Ed25519 key that signs each hearing's log head, kept outside the data directory "
                   "(default: $COURTROOM_SIGNING_KEY, else ~/.config/courtroom/signing-key.pem; created if missing)")
    s.add_argument("--max-connections", type=int, default=10_000, metavar="N",
                   help="client connections held at once (default 10000, and always fewer than the open-file "
                   "limit allows); at the limit, one that has not sent a request is dropped")
    s.add_argument("--head-timeout", type=float, default=10.0, metavar="SECONDS",
                   help="time a connection has to send a complete request head (default 10)")
    s.add_argument("--rate-limit", type=float, default=50.0, metavar="N",
                   help="messages (ops, signalling) and HTTP requests per second per participant, with bursts "
                   "of 4N (default 50; 0: no limit)")
    s.add_argument("--quota", action="append", default=[], metavar="NAME=N",
                   help="what each participant may add to a hearing (0: no limit): annotations (default 5000), "
                   "annotation_bytes (8 MiB), evidence_items (100), evidence_bytes (200 MiB); repeat")
    s.set_defaults(run=serve)

    tm = sub.add_parser("terminal", help="run a detention-centre or procuratorate terminal: join a hearing "
                        "with this machine's microphone and loudspeaker and stay in it by itself")
    tm.add_argument("--join-url", help="the invite link the court issued for this terminal")
    tm.add_argument("--input", help="PortAudio input device (name or number; default: the system's)")
    tm.add_argument("--output", help="PortAudio output device (default: the system's)")
    tm.add_argument("--screen", action="store_true", help="show the others' pictures on this machine's screen "
                    "(a fullscreen Chromium, started again if it exits)")
    tm.add_argument("--browser", default="chromium", help="the browser for --screen (default: chromium)")
    tm.add_argument("--systemd-unit", action="store_true", help="print a systemd unit that runs the terminal")
    tm.set_defaults(run=terminal)

    rm = sub.add_parser("room", help="run a courtroom PC: join the courtroom's current hearing with every seat "
                        "microphone and the loudspeakers, and stay in it by itself")
    rm.add_argument("--config", help="the courtroom's room.toml (hub, device credential, seats)")
    rm.add_argument("--systemd-unit", action="store_true", help="print a systemd unit that runs the agent")
    rm.set_defaults(run=room)

    for name, fn, text in (("verify", verify, "check a hearing's (or a case's) hash chain and replay its log"),
                           ("export", export, "write a hearing's transcript")):
        c = sub.add_parser(name, help=text)
        c.add_argument("--data", type=Path, default=default_data_dir(), help=data_help)
        c.add_argument("--database", default=database, metavar="URL", help=database_help)
        c.add_argument("hearing_id")
        if name == "export":
            c.add_argument("--format", choices=sorted(EXPORTERS),
                           help="default: from the --output file's suffix, else txt")
            c.add_argument("--output", "-o", help="file to write (default: standard output)")
        else:
            c.add_argument("--key", type=Path, action="append", default=[], metavar="FILE",
                           help="the court's key (public or private PEM) that signs log heads; repeat for "
                           "keys used before (default: the hub's signing key on this machine)")
            c.add_argument("--anchors", type=Path, action="append", default=[], metavar="FILE",
                           help="an archive of `courtroom anchors` output; every anchor of this hearing must "
                           "still be in its log (repeat for several)")
        c.set_defaults(run=fn)

    a = sub.add_parser("anchors", help="print every hearing's signed head (JSON lines) for an archive kept "
                       "away from the hub")
    a.add_argument("--data", type=Path, default=default_data_dir(), help=data_help)
    a.add_argument("--database", default=database, metavar="URL", help=database_help)
    a.add_argument("--output", "-o", help="file to write (default: standard output)")
    a.set_defaults(run=anchors)

    mg = sub.add_parser("migrate", help="copy a data directory's SQLite store into PostgreSQL and verify "
                        "every chain there (stop the hub first)")
    mg.add_argument("--data", type=Path, default=default_data_dir(), help=data_help)
    mg.add_argument("--to", metavar="URL", help="the PostgreSQL database to copy into (empty; postgresql://…)")
    mg.add_argument("--key", type=Path, action="append", default=[], metavar="FILE",
                    help="the court's key that signed the heads; repeat for keys used before "
                    "(default: the hub's signing key on this machine)")
    mg.set_defaults(run=migrate)

    w = sub.add_parser("asr-worker", help="run a speech recognition worker for hubs on other machines "
                       "(vosk-server's websocket protocol; hubs use it with serve --asr ws://HOST:PORT)")
    w.add_argument("--host", default="127.0.0.1")
    w.add_argument("--port", type=int, default=2700)
    w.add_argument("--model", type=Path, help="vosk model folder (default: $COURTROOM_VOSK_MODEL, "
                   "then ~/.cache/courtroom/models)")
    w.set_defaults(run=asr_worker)

    k = sub.add_parser("keys", help="the hub's signing key")
    ksub = k.add_subparsers(dest="action", required=True)
    kp = ksub.add_parser("public", help="print the public key that verifies the hub's signatures")
    kp.add_argument("--signing-key", type=Path, default=default_key_path(), metavar="FILE")
    k.set_defaults(run=keys)

    t = sub.add_parser("transcribe", help="transcribe an audio or video file")
    t.add_argument("file", type=Path)
    t.add_argument("--model", type=Path, help="vosk model folder (default: $COURTROOM_VOSK_MODEL, "
                   "then ~/.cache/courtroom/models)")
    t.add_argument("--format", choices=["txt", "json", "srt", "vtt"], default="txt")
    t.add_argument("--channels-as-speakers", action="store_true",
                   help="one recognizer per channel (one microphone per seat); the channel is the speaker")
    t.add_argument("--vocabulary", type=Path, help="legal terms, one per line (default: built in)")
    t.add_argument("--output", "-o", help="file to write (default: standard output)")
    t.set_defaults(run=transcribe)

    m = sub.add_parser("models", help="speech recognition models")
    msub = m.add_subparsers(dest="action", required=True)
    d = msub.add_parser("download", help="fetch a vosk Chinese model into the cache")
    d.add_argument("name", choices=["small-cn", "cn"])
    d.add_argument("--dest", type=Path, help="folder to install into (default: ~/.cache/courtroom/models)")
    d.add_argument("--list-url", default="https://alphacephei.com/vosk/models/model-list.json",
                   help="model list to download from (a mirror's, for courts without internet)")
    msub.add_parser("path", help="print the model folder that would be used")
    m.set_defaults(run=models)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(argv) if argv is not None else sys.argv[1:]
    args = parser().parse_args(argv)
    args.argv = argv  # the front starts its workers with the same arguments
    try:
        return args.run(args)
    except CommandError as err:
        print(f"courtroom: {err}", file=sys.stderr)
        return err.code


if __name__ == "__main__":
    sys.exit(main())
