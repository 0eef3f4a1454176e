"""The ``chasqui`` command line (Typer + Rich)."""

from __future__ import annotations

import functools
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Chasqui: asistente de ventas por WhatsApp.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
tenant_app = typer.Typer(help="Import and export tenants.", no_args_is_help=True)
nlu_app = typer.Typer(help="Intent engine: train, evaluate, classify.", no_args_is_help=True)
user_app = typer.Typer(help="Panel users.", no_args_is_help=True)
settings_app = typer.Typer(help="Platform settings stored in the database.", no_args_is_help=True)
app.add_typer(tenant_app, name="tenant")
app.add_typer(nlu_app, name="nlu")
app.add_typer(user_app, name="user")
app.add_typer(settings_app, name="settings")

out = Console()
err = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])


class UserError(Exception):
    """A mistake of the user's: printed as one line, exit code 1."""


def _user_errors() -> tuple[type[BaseException], ...]:
    from chasqui.tenants.io import TenantFileError, UnknownTenantError

    return (UserError, TenantFileError, UnknownTenantError, FileNotFoundError, IsADirectoryError,
            PermissionError, ValueError)


def friendly(func: F) -> F:
    """Turn user mistakes into one clear line on stderr and a non-zero exit, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except _user_errors() as exc:
            message = str(exc).strip() or exc.__class__.__name__
            err.print(f"[red]error:[/red] {message}", highlight=False, markup=True, soft_wrap=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def settings():  # noqa: ANN201 - lazily imported
    from chasqui.config import get_settings

    return get_settings()


def progress_line(message: str) -> None:
    err.print(f"[dim]… {message}[/dim]")


# ---------------------------------------------------------------------------------------- serve
@app.command()
@friendly
def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Web panel + REST API + WhatsApp webhook + background worker."""
    import uvicorn

    from chasqui.web.app import bootstrap

    bootstrap(settings(), progress_line, panel_url=f"http://{host}:{port}")
    # open live-update streams (SSE) must not hold a Ctrl-C for long
    uvicorn.run(
        "chasqui.web.app:create_app", factory=True, host=host, port=port, workers=workers,
        timeout_graceful_shutdown=3,
        server_header=False,  # no "Server: uvicorn" banner
        forwarded_allow_ips=settings().forwarded_allow_ips,  # X-Forwarded-* only from these proxies
    )


@app.command()
@friendly
def worker() -> None:
    """Only the background worker (distributed mode)."""
    from chasqui.worker.run import run_worker

    current = settings()
    if current.redis_url:  # the panels hear about the worker's changes through Redis pub/sub
        from chasqui.web.live import publish_changes_to_redis

        publish_changes_to_redis(current.redis_url)
    run_worker(current)


@app.command()
@friendly
def init() -> None:
    """Create or migrate the database, import the demo tenant if empty, train a model if none."""
    from chasqui.web.app import bootstrap

    bootstrap(settings(), progress_line)


@app.command("purge-webhooks")
@friendly
def purge_webhooks(
    days: int | None = typer.Option(None, min=1, help="keep this many days (default: CHASQUI_WEBHOOK_RETENTION_DAYS)"),
) -> None:
    """Delete raw webhook bodies older than the retention (the worker also does it hourly)."""
    from chasqui.runtime import Runtime
    from chasqui.whatsapp.retention import purge_webhook_events

    runtime = Runtime.from_settings(settings())
    runtime.init()
    print(purge_webhook_events(runtime, days=days))


# ---------------------------------------------------------------------------------------- tenants
@tenant_app.command("import")
@friendly
def tenant_import(file: Path) -> None:
    """Create or update a tenant from a YAML/JSON file; prints its slug."""
    from chasqui.runtime import Runtime
    from chasqui.tenants.io import import_tenant

    runtime = Runtime.from_settings(settings())
    runtime.init()
    with runtime.session() as session:
        tenant = import_tenant(session, file, secret_key=runtime.settings.secret())
        slug = tenant.slug
    print(slug)


@tenant_app.command("export")
@friendly
def tenant_export(slug: str, fmt: str = typer.Option("yaml", "--format", help="yaml or json")) -> None:
    """Print a tenant in the import format."""
    import yaml

    from chasqui.runtime import Runtime
    from chasqui.tenants.io import export_tenant

    runtime = Runtime.from_settings(settings())
    runtime.init()
    with runtime.session() as session:
        data = export_tenant(session, slug, secret_key=runtime.settings.secret())
    if fmt == "json":
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), end="")


# ---------------------------------------------------------------------------------------- simulate
@app.command()
@friendly
def simulate(
    tenant: Path = typer.Option(..., "--tenant", help="tenant YAML/JSON file"),
    script: Path = typer.Option(..., "--script", help="scripted conversation (YAML)"),
    as_json: bool = typer.Option(False, "--json", help="one JSON object per turn"),
) -> None:
    """Run a scripted conversation on a throwaway database."""
    from chasqui.simulation import load_script, run_script

    parsed = load_script(script)
    for line in run_script(tenant, parsed, progress_line):
        if as_json:
            print(json.dumps(line, ensure_ascii=False), flush=True)
        else:
            _print_turn(line)


def _print_turn(line: dict) -> None:
    if line["kind"] == "advance":
        out.print(f"[dim]⏱  +{line['text']} s → {line['state']}[/dim]")
        return
    who = "[bold cyan]cliente[/]" if line["kind"] == "user" else "[bold magenta]operador[/]"
    out.print(f"{who}: {line['text']}")
    for reply in line["replies"]:
        out.print(f"  [green]bot[/]: {reply}")
    meta = f"{line['intent']} {line['confidence']} {line['source']} · {line['state']} · carrito {line['cart']}"
    out.print(f"  [dim]{meta}[/dim]")


# ---------------------------------------------------------------------------------------- chat
@app.command()
@friendly
def chat(
    tenant: str = typer.Option(..., "--tenant", help="tenant slug, or a YAML/JSON tenant file"),
    phone: str = typer.Option("51999000000", help="the customer's phone number"),
    name: str | None = typer.Option(None, help="the customer's WhatsApp name (optional)"),
) -> None:
    """Talk to the bot in the terminal as a customer (/op TEXT: operator, /wait N: advance, /salir)."""
    from chasqui.runtime import open_runtime

    offset = timedelta(0)
    with open_runtime(settings(), tenant, progress_line) as (runtime, slug):
        if slug is None:
            raise UserError("--tenant is required")
        runtime.model(progress_line)
        out.print(f"[bold]Chasqui[/bold] · {slug} · escribe /salir para terminar")
        while True:
            try:
                text = out.input("[bold cyan]tú[/]: ").strip()
            except EOFError:
                break
            if text in ("/salir", "/quit", "/exit"):
                break
            if text.startswith("/wait"):
                offset += timedelta(seconds=int(text.split()[1]) if len(text.split()) > 1 else 60)
                continue
            now = datetime.now(UTC) + offset
            with runtime.session() as session:
                service = runtime.service(session, slug)
                if text.startswith("/op "):
                    result = service.operator_message(session, phone, text[4:], now)
                else:
                    result = service.customer_message(session, phone, text, now, name=name)
            for reply in result.decision.replies:
                out.print(f"[green]bot[/]: {reply}")
            if result.decision.choices:  # WhatsApp shows these as buttons or a list
                out.print("     " + "  ".join(f"[reverse] {o.title} [/]" for o in result.decision.choices.options))
            for photo in result.decision.photos:
                out.print(f"[green]bot[/]: 📷 {photo.caption} ({photo.url})")
            for note in result.notifications:
                out.print(f"[yellow]→ staff {note['to']}[/]: {note['text']}")
            out.print(f"[dim]{result.decision.intent} {result.decision.confidence} {result.decision.source}"
                      f" · {result.state} · carrito {result.cart} · total {result.cart_total}[/dim]")


# ---------------------------------------------------------------------------------------- nlu
@nlu_app.command("train")
@friendly
def nlu_train(tenant: str | None = typer.Option(
    None, "--tenant", help="slug or tenant file: train that tenant's own model (default: the platform model)"
)) -> None:
    """Train a new intent model version, judge it against the one in use and promote it or reject it
    (with the reason); prints its metrics."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from chasqui.nlu.learning import retrain
    from chasqui.runtime import open_runtime

    with open_runtime(settings(), tenant) as (runtime, slug), Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err
    ) as bar:
        task = bar.add_task("training", total=None)
        tenant_id = None
        if slug is not None:
            with runtime.session() as session:
                tenant_id = runtime.snapshot(session, slug).id
        run = retrain(runtime.db, tenant_id=tenant_id, trigger="cli",
                      progress=lambda m: bar.update(task, description=m))
        bar.update(task, description="done")
    print(json.dumps({"version": run.version, "status": run.status, "scope": run.metrics["scope"],
                      "samples": run.sample_count, "duration_s": round(run.duration_s, 2),
                      "rejection": run.metrics["rejection"], "metrics": run.metrics}, ensure_ascii=False))
    if not run.promoted:
        err.print(f"[red]Versión {run.version} rechazada:[/] {run.metrics['rejection']}")
        raise typer.Exit(2)


def _matcher_for(runtime: Any, slug: str | None) -> Any:
    if slug is None:
        return None
    from chasqui.dialogue.engine import Brain

    with runtime.session() as session:
        snapshot = runtime.snapshot(session, slug)
    return Brain.for_tenant(snapshot, runtime.model()).matcher


@nlu_app.command("eval")
@friendly
def nlu_eval(
    file: Path,
    tenant: str | None = typer.Option(None, "--tenant", help="slug or tenant file (catalog abstraction)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Evaluate the current model on a JSONL file of {"text", "intent"}."""
    from chasqui.nlu.training import evaluate, read_samples
    from chasqui.runtime import open_runtime

    samples = read_samples(file)
    with open_runtime(settings(), tenant) as (runtime, slug):
        model = runtime.model(progress_line)
        report = evaluate(model, samples, matcher=_matcher_for(runtime, slug))
    if as_json:
        report = {k: v for k, v in report.items() if k != "confusion_pairs"} | {
            "confusion_pairs": report.get("confusion_pairs", [])}
        print(json.dumps(report, ensure_ascii=False))
        return
    table = Table(title=f"{report['n']} mensajes · accuracy {report['accuracy']:.3f} · macro-F1 "
                        f"{report['macro_f1']:.3f} · {report['ms_per_message']:.3f} ms/msg")
    for column in ("intent", "precision", "recall", "f1", "support"):
        table.add_column(column, justify="left" if column == "intent" else "right")
    for intent, row in sorted(report["per_intent"].items()):
        table.add_row(intent, f"{row['precision']:.3f}", f"{row['recall']:.3f}", f"{row['f1']:.3f}",
                      str(row["support"]))
    out.print(table)
    pairs = report.get("confusion_pairs") or []
    if pairs:
        confusion = Table(title="confusiones más frecuentes")
        for column in ("real", "predicho", "n"):
            confusion.add_column(column)
        for true, predicted, count in pairs[:15]:
            confusion.add_row(str(true), str(predicted), str(count))
        out.print(confusion)


@nlu_app.command("classify")
@friendly
def nlu_classify(
    text: str,
    tenant: str | None = typer.Option(None, "--tenant", help="slug or tenant file"),
) -> None:
    """Intent, confidence, top-3 and entities of one message, as JSON."""
    from chasqui.dialogue.engine import Brain
    from chasqui.nlu.analyzer import analyze
    from chasqui.runtime import open_runtime

    with open_runtime(settings(), tenant) as (runtime, slug):
        with runtime.session() as session:
            if slug is None:
                from sqlalchemy import select

                from chasqui.db.models import Tenant

                slug = session.scalar(select(Tenant.slug).order_by(Tenant.id).limit(1))
            if slug is None:
                raise UserError("no tenant in the database: import one with `chasqui tenant import FILE`")
            snapshot = runtime.snapshot(session, slug)
        started = time.perf_counter()
        brain = Brain.for_tenant(snapshot, runtime.model())
        analysis = analyze(text, brain.matcher, brain.model)
        elapsed = (time.perf_counter() - started) * 1000
    e = analysis.entities
    print(json.dumps({
        "text": text, "tenant": slug, "intent": analysis.prediction.intent,
        "confidence": round(analysis.prediction.confidence, 4),
        "top": [{"intent": i, "confidence": round(c, 4)} for i, c in analysis.prediction.top],
        "entities": {
            "products": [{"sku": m.sku, "quantity": m.quantity, "candidates": list(m.candidates),
                          "score": round(m.score, 1)} for m in e.products],
            "quantities": list(e.quantities), "payment_methods": list(e.payment_methods),
            "zones": list(e.zones), "categories": list(e.categories),
        },
        "normalized": analysis.normalized, "ms": round(elapsed, 3),
    }, ensure_ascii=False))


@nlu_app.command("review")
@friendly
def nlu_review(
    limit: int = typer.Option(20, "--limit", min=1, help="how many samples to list"),
    as_json: bool = typer.Option(False, "--json", help="one JSON object per sample"),
) -> None:
    """List unconfirmed training samples (labelled by the LLM teacher or the model), newest first."""
    from chasqui.nlu.review import unconfirmed
    from chasqui.runtime import Runtime

    runtime = Runtime.from_settings(settings())
    runtime.init()
    with runtime.session() as session:
        rows = unconfirmed(session, limit)
    if as_json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return
    if not rows:
        out.print("No hay muestras por revisar.")
        return
    table = Table(title=f"{len(rows)} muestras sin confirmar")
    for column in ("id", "tenant", "fuente", "texto", "intent", "modelo dijo", "conf."):
        table.add_column(column, overflow="fold")
    for row in rows:
        confidence = "" if row["ml_confidence"] is None else f"{row['ml_confidence']:.2f}"
        table.add_row(str(row["id"]), row["tenant"] or "", row["source"], row["text"], row["intent"],
                      row["ml_intent"] or "", confidence)
    out.print(table)
    out.print("[dim]chasqui nlu confirm ID [--intent INTENT][/dim]")


@nlu_app.command("confirm")
@friendly
def nlu_confirm(
    sample_id: int = typer.Argument(..., help="the sample's id (see `chasqui nlu review`)"),
    intent: str | None = typer.Option(None, "--intent", help="the right intent, when the label is wrong"),
) -> None:
    """Confirm a training sample's label, or correct it with --intent."""
    from chasqui.nlu.review import confirm
    from chasqui.runtime import Runtime

    runtime = Runtime.from_settings(settings())
    runtime.init()
    with runtime.session() as session:
        row = confirm(session, sample_id, intent)
    print(json.dumps(row, ensure_ascii=False))


# ---------------------------------------------------------------------------------------- users
@user_app.command("add")
@friendly
def user_add(
    email: str,
    role: str = typer.Option(..., "--role", help="superadmin, owner, admin or agent"),
    tenant: str | None = typer.Option(None, "--tenant", help="tenant slug (not for superadmin)"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="read the password from stdin"),
) -> None:
    """Create a panel user."""
    from chasqui.accounts import create_user
    from chasqui.runtime import Runtime

    if not password_stdin:
        raise UserError("pass the password on stdin with --password-stdin")
    password = sys.stdin.readline().rstrip("\n")
    runtime = Runtime.from_settings(settings())
    runtime.init()
    with runtime.session() as session:
        create_user(session, email, password, role, tenant)
    print(email)


@user_app.command("disable")
@friendly
def user_disable(email: str) -> None:
    """Disable a panel user: no more logins, and every open session of theirs ends now."""
    from sqlalchemy import func, select

    from chasqui.accounts import deactivate_user, normalize_email
    from chasqui.db.models import User
    from chasqui.runtime import Runtime

    runtime = Runtime.from_settings(settings())
    runtime.init()
    with runtime.session() as session:
        user = session.scalar(select(User).where(func.lower(User.email) == normalize_email(email)))
        if user is None:
            raise UserError(f"unknown user {email!r}")
        deactivate_user(session, user)
    print(f"{email} deshabilitado")


# ---------------------------------------------------------------------------------------- settings
@settings_app.command("get")
@friendly
def settings_get(key: str | None = typer.Argument(None)) -> None:
    """Print one platform setting, or all of them (secrets masked)."""
    from chasqui.db.platform_settings import all_settings, get_setting
    from chasqui.runtime import Runtime

    runtime = Runtime.from_settings(settings())
    runtime.init()
    with runtime.session() as session:
        if key:
            value = get_setting(session, key, secret_key=runtime.settings.secret())
            print("" if value is None else value)
        else:
            for name, value in all_settings(session, secret_key=runtime.settings.secret()).items():
                print(f"{name}={value}")


@settings_app.command("set")
@friendly
def settings_set(key: str, value: str) -> None:
    """Store a platform setting (validated; secrets encrypted)."""
    from chasqui.db.platform_settings import set_setting
    from chasqui.runtime import Runtime

    runtime = Runtime.from_settings(settings())
    runtime.init()
    with runtime.session() as session:
        set_setting(session, key, value, secret_key=runtime.settings.secret())
    print(f"{key} actualizado")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
