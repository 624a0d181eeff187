"""The ``cocreate`` command line: a thin layer over the library."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from tqdm import tqdm

from api.accounts import Account, Accounts
from api.auth import ANONYMOUS, KeyRing, Role
from api.search import rebuild as rebuild_index
from api.services import (
    Services,
    open_encoder,
    open_index,
    open_search,
    open_store,
    open_view,
)
from api.settings import Settings
from api.vectors import vectors_for_write
from embeddings.encoder import Encoder
from embeddings.threads import usable_cores
from graph import migrations
from graph.demo import demo_records
from graph.errors import GraphError, ImportIncomplete, ImportRejected, Problem
from graph.filters import SearchFilter
from graph.importer import CHUNK_SIZE, RecordSource, VectorsFor, import_records, write_chunks
from graph.interchange import export_jsonl, read_jsonl, record_schema, write_jsonl
from graph.model import Node
from graph.spreadsheet import Spreadsheet, Table
from graph.store import DEFAULT_BUSY_TIMEOUT, Store, StoredVectors

log = logging.getLogger("cocreate")


@contextmanager
def _progress(
    description: str, total: int | None = None, *, enabled: bool = True
) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr (shown on a terminal only)."""
    disable = None if enabled else True
    with tqdm(total=total, desc=description, unit=" rec", disable=disable, file=sys.stderr) as bar:

        def step(count: int) -> None:
            bar.update(count)

        yield step


def _stats(store: Store) -> dict[str, Any]:
    nodes, edges = store.node_counts(), store.edge_counts()
    return {
        "nodes": nodes,
        "edges": edges,
        "total_nodes": sum(nodes.values()),
        "total_edges": sum(edges.values()),
        "last_seq": store.last_seq(),
    }


def _print_stats(stats: dict[str, Any]) -> None:
    click.echo(f"{stats['total_nodes']:,} nodes, {stats['total_edges']:,} edges")
    for section in ("nodes", "edges"):
        click.echo(f"  {section}:")
        for kind, count in stats[section].items():
            click.echo(f"    {kind:<16} {count:>10,}")


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log progress details.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """Cocreate: connect those who care."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")
    ctx.obj = Settings()


def _settings(ctx: click.Context) -> Settings:
    settings = ctx.obj
    assert isinstance(settings, Settings)
    return settings


@cli.command()
@click.option("--seed", type=int, default=None, help="Random seed (default: COCREATE_DEMO_SEED).")
@click.option(
    "--people",
    type=click.IntRange(0, 1_000_000),
    default=None,
    help="Number of fictional people (default: COCREATE_DEMO_PEOPLE).",
)
@click.option("--if-empty", is_flag=True, help="Do nothing when the store already has demo data.")
@click.pass_context
def demo(ctx: click.Context, seed: int | None, people: int | None, if_empty: bool) -> None:
    """Load the demo network: real DPG initiatives and generated, fictional people."""
    settings = _settings(ctx)
    store = open_store(settings)
    if if_empty and store.node_counts().keys() - {"sector", "sdg", "sdg_target"}:
        click.echo("the store already holds a network; nothing loaded")
        return
    records = demo_records(
        settings.reference_dir,
        seed=settings.demo_seed if seed is None else seed,
        people=settings.demo_people if people is None else people,
    )
    # In chunks, each its own short transaction (every demo node comes before its
    # edges), so that a running service's writes are not held up by the load. If the
    # load stops half way, `cocreate demo` with the same seed and size finishes it.
    with _progress("loading demo") as step:
        result = write_chunks(store, records, progress=step)
    click.echo(
        f"demo network loaded: {result.nodes_written:,} nodes and "
        f"{result.edges_written:,} edges written, {result.unchanged:,} unchanged"
    )


def _counting(items: Iterator[Any], step: Callable[[int], None]) -> Iterator[Any]:
    for item in items:
        yield item
        step(1)


@cli.command()
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--people", type=click.IntRange(0, 1_000_000), default=3_000, show_default=True)
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def generate(ctx: click.Context, seed: int, people: int, output: Path) -> None:
    """Write the demo network (without reference data) to a JSON Lines file."""
    settings = _settings(ctx)
    with _progress("generating") as step:
        count = write_jsonl(
            _counting(demo_records(settings.reference_dir, seed=seed, people=people), step),
            output,
        )
    click.echo(f"wrote {count:,} records to {output}")


@cli.command(name="import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--csv",
    "table",
    type=click.Choice(["people", "initiatives"]),
    help="Read a CSV file of people or initiatives instead of JSON Lines.",
)
@click.option("--max-problems", type=click.IntRange(1), default=200, show_default=True)
@click.option(
    "--vectors/--no-vectors",
    default=True,
    show_default=True,
    help="Encode the texts here and keep their vectors in the store (else the service's "
    "change feed encodes them).",
)
@click.pass_context
def import_(
    ctx: click.Context, path: Path, table: str | None, max_problems: int, vectors: bool
) -> None:
    """Import a JSON Lines (or CSV) file: all records or, if any is bad, none.

    Every problem is printed as FILE:line N: reason (FILE: reason for the file as a
    whole). The records are written in short transactions; if the import stops half
    way, run it again to finish it.
    """
    settings = _settings(ctx)
    store = open_store(settings)
    sheet: Table | None = None
    if table is not None:
        sheet = "people" if table == "people" else "initiatives"
    outcome = import_file(
        store, path, table=sheet, max_problems=max_problems, progress=True,
        vectors=_vectors_for(settings, store) if vectors else None,
    )  # fmt: skip
    for message in outcome.messages:
        click.echo(message, err=True)
    if not outcome.ok:
        raise click.ClickException(outcome.summary)
    click.echo(outcome.summary)


def _vectors_for(settings: Settings, store: Store) -> VectorsFor:
    """Encodes the texts of each chunk's nodes before it is written, so that the running
    service's workers read the vectors instead of each encoding them (the model is
    loaded once the file is known to be good)."""
    encoders: list[Encoder] = []

    def vectors(nodes: list[Node]) -> StoredVectors:
        if not encoders:
            encoders.append(open_encoder(settings, store))
        return vectors_for_write(store, encoders[0], nodes)

    return vectors


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """What ``cocreate import`` says: one line per problem, and a summary."""

    ok: bool
    summary: str
    messages: list[str] = field(default_factory=list)


def import_file(
    store: Store,
    path: Path,
    *,
    table: Table | None = None,
    max_problems: int = 200,
    chunk_size: int = CHUNK_SIZE,
    progress: bool = False,
    vectors: VectorsFor | None = None,
) -> ImportOutcome:
    """Import one file (JSON Lines, or CSV of ``table``): the body of ``cocreate import``.

    Whatever the file's bytes, this returns: a refused file writes nothing and each
    problem becomes a message ``FILE:line N: reason`` (``FILE:line N, field 'F':
    reason`` when a field is named) or ``FILE: reason`` for the file as a whole.
    """
    sheet = Spreadsheet(path, table, store) if table is not None else None
    source: RecordSource
    if sheet is not None:
        source = sheet.records
    else:

        def source() -> Iterator[tuple[int, Any]]:
            with path.open("rb") as stream:
                yield from read_jsonl(stream)

    try:
        with (
            _progress("validating", enabled=progress) as checked,
            _progress("writing", enabled=progress) as wrote,
        ):
            report = import_records(
                source,
                store,
                max_problems=max_problems,
                chunk_size=chunk_size,
                validate_progress=checked,
                write_progress=wrote,
                vectors=vectors,
            )
    except ImportRejected as exc:
        problems = [sheet.column_of(p) for p in exc.problems] if sheet else exc.problems
        shown = len(problems)
        more = f" (first {shown} shown)" if exc.total and exc.total > shown else ""
        return ImportOutcome(
            False,
            f"import refused: {exc.total or shown} problem(s){more}; nothing was written",
            [problem_message(path, p) for p in problems],
        )
    except ImportIncomplete as exc:
        return ImportOutcome(
            False,
            f"import incomplete: {exc.written:,} of {exc.total:,} records written; "
            "run the same import again to finish it",
            [f"{path}: {one_line(str(exc))}"],
        )
    except OSError as exc:  # before any write: validation reads the whole file first
        reason = one_line(exc.strerror or str(exc))
        return ImportOutcome(
            False,
            "import refused: the file cannot be read; nothing was written",
            [f"{path}: cannot read the file: {reason}"],
        )
    written = report.write
    return ImportOutcome(
        True,
        f"imported {report.validation.records:,} records from {path}: "
        f"{written.nodes_written:,} nodes and {written.edges_written:,} edges written, "
        f"{written.unchanged:,} unchanged",
    )


def problem_message(path: Path, problem: Problem) -> str:
    """``FILE:line N[, field 'F']: reason``, or ``FILE: reason`` for a file-level problem."""
    reason = one_line(problem.reason) or "invalid"
    if problem.line is None:
        return f"{path}: {reason}"
    field = f", field '{one_line(problem.field, 80)}'" if problem.field else ""
    return f"{path}:line {problem.line}{field}: {reason}"


def one_line(text: str, limit: int = 500) -> str:
    """``text`` shortened to ``limit`` characters, with control characters escaped."""
    cut = text[:limit]
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in cut)
    return shown + "..." if len(text) > limit else shown


@cli.command(name="export")
@click.argument("path", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.pass_context
def export(ctx: click.Context, path: Path) -> None:
    """Export every node and edge as JSON Lines ('-' for standard output)."""
    store = open_store(_settings(ctx))
    if str(path) == "-":
        export_jsonl(store, sys.stdout)
        return
    tmp = path.with_name(path.name + ".partial")
    with tmp.open("w", encoding="utf-8") as stream:
        nodes, edges = export_jsonl(store, stream)
    tmp.replace(path)  # a reader never sees half a file
    click.echo(f"exported {nodes:,} nodes and {edges:,} edges to {path}", err=True)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def stats(ctx: click.Context, as_json: bool) -> None:
    """Count nodes and edges per kind."""
    result = _stats(open_store(_settings(ctx)))
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        _print_stats(result)


@cli.command()
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Bring the store's schema to this version's (the service does so when it starts)."""
    settings = _settings(ctx)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store.open(settings.store_url, busy_timeout=DEFAULT_BUSY_TIMEOUT)
    before = store.migrated_from
    store.close()
    now = migrations.head()
    if before == now:
        click.echo(f"the schema is at revision {now}, the newest")
    else:
        click.echo(f"the schema went from revision {before or 'none'} to {now}")


@cli.command()
def schema() -> None:
    """Print the JSON Schema of one interchange record."""
    click.echo(json.dumps(record_schema(), indent=2, ensure_ascii=False))


@cli.command()
@click.option("--host", default=None, help="Address to listen on (default: COCREATE_HOST).")
@click.option(
    "--port", type=click.IntRange(1, 65_535), default=None, help="Port (default: COCREATE_PORT)."
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Worker processes (default: COCREATE_WORKERS).",
)
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, workers: int | None) -> None:
    """Run the HTTP service (uvicorn)."""
    import uvicorn

    settings = _settings(ctx)
    host = host or settings.host
    port = port or settings.port
    workers = workers or settings.workers
    from api.serving import check_free, limit_malloc_arenas

    try:  # before any work: an address already taken is said at once
        check_free(host, port)
    except OSError as error:
        raise click.ClickException(f"cannot listen on {host}:{port}: {error.strerror}") from None
    os.environ.update(COCREATE_HOST=host, COCREATE_PORT=str(port))
    limit_malloc_arenas()  # before anything is loaded: every process of serve inherits it
    # Each worker encodes queries with its own ONNX Runtime threads: share the cores out.
    threads = max(1, usable_cores() // workers)
    os.environ.setdefault("COCREATE_ENCODER_THREADS", str(threads))
    from api import preload

    options: dict[str, Any] = {
        "log_level": "warning",
        "access_log": False,
        # The app itself decides whom to believe about the client's address
        # (COCREATE_TRUSTED_PROXIES, api/proxies.py): uvicorn's own default believes
        # X-Forwarded-For from anyone on the loopback interface.
        "proxy_headers": False,
        "forwarded_allow_ips": "",
    }
    address = f"[{host}]" if ":" in host else host
    reachable = {"0.0.0.0": "127.0.0.1", "[::]": "[::1]"}.get(address, address)
    ready_url = f"http://{reachable}:{port}/ready"
    if preload.forkable(settings):
        # The loader forked from what this process imported, then the rest in a new
        # interpreter that imports only what supervising needs (api/supervise.py): this
        # process lasts as long as the service.
        from api import supervise

        plan = supervise.Plan(
            host=host,
            port=port,
            workers=workers,
            ready_url=ready_url,
            councils=settings.councils_process,
            options=options,
            said=_serving_lines(settings, host, port),
            store=settings.shown_store_url,
            verbose=bool(ctx.find_root().params.get("verbose")),
        )
        try:
            supervise.serve(plan, settings)
        except RuntimeError as error:
            raise click.ClickException(str(error)) from None
    # In a child process, so that the memory it takes goes back to the system before the
    # workers start (at 100,000 people, a third of a gigabyte kept for good).
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        nodes, edges = pool.apply(_prepare_to_serve, (settings,))
    _say_serving(settings, host, port, nodes, edges)
    councils = None
    if settings.councils_process:
        # The councils' figures in a process of their own (api/figures.py); the workers
        # read them.
        from api.figures import CouncilsProcess

        councils = CouncilsProcess(settings, ready_url)
        councils.start()
        os.environ["COCREATE_COUNCILS_FOLLOWED"] = "1"
    try:
        if workers == 1:
            from api.serving import APP

            uvicorn.run(APP, factory=True, host=host, port=port, **options)
        else:
            # Each worker on a socket of its own, so that connections opened at once are
            # spread between them (api/serving.py).
            from api.serving import run_workers

            run_workers(host, port, workers, options)
    finally:
        if councils is not None:
            councils.stop()


def _say_serving(settings: Settings, host: str, port: int, nodes: int, edges: int) -> None:
    click.echo(f"Cocreate: {nodes:,} nodes, {edges:,} edges in {settings.shown_store_url}")
    for line in _serving_lines(settings, host, port):
        click.echo(line)


def _serving_lines(settings: Settings, host: str, port: int) -> tuple[str, ...]:
    """What ``serve`` says once it serves, after the network's size."""
    return (
        f"serving at http://{host}:{port}/ (API docs at http://{host}:{port}/docs)",
        mail_notice(settings),
    )


def _prepare_to_serve(settings: Settings) -> tuple[int, int]:
    """What ``serve`` does before the workers start: the reference data loaded once, and
    the search index caught up with the vectors the store holds and saved (unless it was
    in step already, or nearly: ``index_resave_after``), so that each worker only loads
    it. Texts without a vector are not encoded here: the service answers at once,
    searching them by their words, while one worker computes their vectors
    (api.indexing); /ready tells how far it is. Returns the
    store's nodes and edges."""
    store = open_store(settings)
    try:
        summary = _stats(store)
        _save_index(settings, store, defer=True)
    finally:
        store.close()
    return summary["total_nodes"], summary["total_edges"]


def mail_notice(settings: Settings) -> str:
    """What ``serve`` says at start about mail (never the server's password)."""
    if settings.smtp_url is None:
        return (
            "mail: no COCREATE_SMTP_URL set, so mails (sign-up and reset links, introductions, "
            "digests) are not sent: they are written to this log instead"
        )
    parts = urlsplit(settings.smtp_url)
    return f"mail: sent through {parts.scheme}://{parts.hostname}:{parts.port or 'default port'}"


def _save_index(
    settings: Settings, store: Store, *, rebuild: bool = False, defer: bool = False
) -> int:
    index = open_index(settings, store, progress=not defer, defer=defer)
    if rebuild:
        rebuild_index(store, index, progress=True)
    elif not index.worth_saving(moved=settings.index_resave_after):
        return len(index)  # in step with the log, or nearly (165 MB at 100,000 people)
    index.save(watermark=index.watermark)
    return len(index)


@cli.command()
@click.pass_context
def reindex(ctx: click.Context) -> None:
    """Rebuild the search index from the store (only changed texts are re-encoded)."""
    settings = _settings(ctx)
    count = _save_index(settings, open_store(settings), rebuild=True)
    click.echo(f"indexed {count:,} nodes in {settings.index_dir}")


@cli.command()
@click.argument("query")
@click.option("--kind", multiple=True, help="Only these node kinds (repeatable).")
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option(
    "--mode", type=click.Choice(["hybrid", "dense", "lexical"]), default="hybrid", show_default=True
)
@click.option("--json", "as_json", is_flag=True, help="Print the hits with explanations as JSON.")
@click.pass_context
def search(ctx: click.Context, query: str, kind: tuple[str, ...], limit: int, mode: str,
           as_json: bool) -> None:  # fmt: skip
    """Search the network as an anonymous visitor would (public profiles only)."""
    settings = _settings(ctx)
    store = open_store(settings)
    service = open_search(settings, store, open_view(settings, store))
    flt = SearchFilter(kinds=frozenset(kind) or None)
    page = service.search(ANONYMOUS, query, flt, mode=mode, limit=limit, offset=0)  # type: ignore[arg-type]
    if as_json:
        click.echo(json.dumps(page.items, indent=2, ensure_ascii=False))
        return
    for rank, hit in enumerate(page.items, start=1):
        node, why = hit["node"], hit["explanation"]
        words = ", ".join(why["matched_terms"]) or "meaning only"
        click.echo(f"{rank:>2}. {hit['score']:.3f}  {node['id']}  {node['name']}  [{words}]")


@cli.command()
@click.option(
    "--week",
    default=None,
    metavar="2026-W49",
    help="The ISO week to send (default: the last complete week).",
)
@click.option("--dry-run", is_flag=True, help="Count what would be sent; send nothing.")
@click.pass_context
def digest(ctx: click.Context, week: str | None, dry_run: bool) -> None:
    """Mail the weekly digest to everyone who asked for it, once per week (run it from
    cron on Monday mornings; a second run for the same week sends nothing)."""
    from api.digest import last_week, parse_week
    from api.digest_job import run
    from api.matching import MatchingService

    try:
        chosen = parse_week(week) if week is not None else last_week()
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--week") from None
    services = Services.start(_settings(ctx), follow=False)
    try:
        tally = run(services, MatchingService(services), chosen, dry_run=dry_run)
        if not services.mailer.flush(timeout=120.0):
            click.echo("some mails were still queued when the job gave up waiting", err=True)
    finally:
        services.close()
    verb = "would send" if dry_run else "sent"
    click.echo(f"digest {chosen}: {verb} {tally.sent}, skipped {tally.skipped}")


@cli.group()
def keys() -> None:
    """Create, list and revoke API keys."""


@keys.command(name="create")
@click.option("--role", type=click.Choice(["member", "editor", "admin"]), required=True)
@click.option(
    "--person",
    "person_id",
    default=None,
    help="The person this key belongs to (a member edits their own record).",
)
@click.option("--label", default=None, help="A note saying whose key this is.")
@click.pass_context
def keys_create(ctx: click.Context, role: str, person_id: str | None, label: str | None) -> None:
    """Create a key and print it once (only its hash is kept)."""
    store = open_store(_settings(ctx))
    if person_id is not None and store.find_node(person_id) is None:
        raise click.BadParameter(f"no node with id '{person_id}'", param_hint="--person")
    key_id, secret = KeyRing(store.engine).create(
        Role.parse(role), person_id=person_id, label=label
    )
    click.echo(f"key id: {key_id}", err=True)
    click.echo(secret)


@cli.group()
def accounts() -> None:
    """People's accounts: list them, set a role (the first admin), make a token."""


def _account_of(ctx: click.Context, email: str) -> tuple[Store, Accounts, Account]:
    store = open_store(_settings(ctx))
    ring = Accounts(store.engine)
    found = ring.by_email(email)
    if found is None:
        raise click.BadParameter(f"no account with the address '{email}'", param_hint="EMAIL")
    return store, ring, found


@accounts.command(name="list")
@click.pass_context
def accounts_list(ctx: click.Context) -> None:
    """Every account: address, role, profile (never a password or a token)."""
    store = open_store(_settings(ctx))
    for account in Accounts(store.engine).page(limit=1_000_000):
        click.echo(f"{account.email}\t{account.role}\t{account.person_id or '-'}\t{account.name}")


@accounts.command(name="role")
@click.argument("email")
@click.argument("role", type=click.Choice(["member", "editor", "admin"]))
@click.pass_context
def accounts_role(ctx: click.Context, email: str, role: str) -> None:
    """Give an account a role at once (every token and session of it follows): how the
    first admin is made; later ones are invited from the web app."""
    _, ring, account = _account_of(ctx, email)
    ring.update(account.id, role=role)
    click.echo(f"{account.email} is now {role}")


@accounts.command(name="token")
@click.argument("email")
@click.option("--label", required=True, help="What the token is for, e.g. 'import script'.")
@click.pass_context
def accounts_token(ctx: click.Context, email: str, label: str) -> None:
    """Make a personal token of an account for a script and print it once; it stands for
    the account (its role and profile) until revoked in the web app or with `keys revoke`."""
    store, _, account = _account_of(ctx, email)
    key_id, secret = KeyRing(store.engine).issue(account.id, "token", label=label,
                                                 lifetime=None)  # fmt: skip
    click.echo(f"token id: {key_id}", err=True)
    click.echo(secret)


@keys.command(name="revoke")
@click.argument("key_id")
@click.pass_context
def keys_revoke(ctx: click.Context, key_id: str) -> None:
    """Revoke a key by its id."""
    if not KeyRing(open_store(_settings(ctx)).engine).revoke(key_id):
        raise click.ClickException(f"no active key with id '{key_id}'")
    click.echo(f"revoked {key_id}")


@keys.command(name="list")
@click.pass_context
def keys_list(ctx: click.Context) -> None:
    """List keys (ids, roles, owners; never the secrets)."""
    for key in KeyRing(open_store(_settings(ctx)).engine).list():
        state = "revoked" if key.revoked_at else "active"
        click.echo(f"{key.id}  {key.role:<7} {state:<8} {key.person_id or '-'}  {key.label or ''}")


def main() -> None:
    try:
        cli(standalone_mode=True)
    except GraphError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
