"""The `credscore` command: serve, migrate, seed-demo, create-api-key, eval, import, export,
remote."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from service.settings import Settings, get_settings

# Each command imports what it needs when it runs, not here: the app and the model code take
# seconds to import, which `migrate` or `create-api-key` need not wait for. (These deferred
# imports break no cycle; lint-imports sees them all.)


def _err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from service.serving import (
        prepare_multiprocess_metrics,
        reuse_port_supported,
        serve_reuse_port,
        uvicorn_options,
    )

    if args.workers > 1:
        prepare_multiprocess_metrics()
    if args.workers > 1 and reuse_port_supported():
        return serve_reuse_port(
            args.host, args.port, args.workers, proxy_headers=args.proxy_headers
        )
    uvicorn.run(
        "service.app:create_app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        **uvicorn_options(args.proxy_headers),
    )
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from service.migrate import head_revision, upgrade

    _err(f"migrating {_safe_url(settings.database_url)} to {args.revision} ...")
    upgrade(settings.database_url, args.revision)
    _err(f"database at {head_revision() if args.revision == 'head' else args.revision}")
    return 0


async def _with_session(settings: Settings, work: Callable[[Any], Coroutine[Any, Any, int]]) -> int:
    from service.database.engine import create_engine, create_sessionmaker

    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as session:
            result = await work(session)
            await session.commit()
            return result
    finally:
        await engine.dispose()


def cmd_create_api_key(args: argparse.Namespace, settings: Settings) -> int:
    from service.auth.schemas import Scope
    from service.auth.service import create_key

    try:
        scopes = [Scope(part.strip()) for part in args.scopes.split(",") if part.strip()]
    except ValueError:
        _err(f"unknown scope in {args.scopes!r}; use read, submit, admin")
        return 2
    if not scopes:
        _err("give at least one scope")
        return 2

    from service.errors import CredscoreError

    async def work(session: Any) -> int:
        try:
            key, secret = await create_key(session, name=args.name, scopes=scopes)
        except CredscoreError as exc:
            _err(exc.detail)
            return 1
        _err(f"created API key {key.id} '{key.name}' with scopes {','.join(key.scopes)}")
        print(secret, flush=True)
        return 0

    return asyncio.run(_with_session(settings, work))


def cmd_seed_demo(args: argparse.Namespace, settings: Settings) -> int:
    from service.database.engine import create_engine, create_sessionmaker
    from service.demo import demo_admin_key, demo_present, load_demo
    from service.jobs.handlers import job_runner
    from service.scores.service import ScoringService
    from service.scores.track_records import TrackRecordStore

    scoring = ScoringService(settings, TrackRecordStore())
    key_file = Path(settings.demo_key_file)

    saved = key_file.read_text().strip() if key_file.is_file() else None

    async def seed() -> str:
        engine = create_engine(settings)
        try:
            sessionmaker = create_sessionmaker(engine)
            async with sessionmaker() as session:
                actor, secret = await demo_admin_key(session, saved)
                if secret == saved:
                    _err(f"the demo admin key saved in {key_file} still works; keeping it")
                if await demo_present(session):
                    _err("demo data already loaded")
                else:
                    _err("loading the Raqqa demo (illustrative data, not real ratings) ...")
                    counts = await load_demo(session, scoring, settings, actor)
                    _err("loaded " + ", ".join(f"{n} {name}" for name, n in counts.items()))
                await session.commit()
            # Reconcile the demo's events now, so the first look at them shows a consensus.
            ran = await job_runner(sessionmaker, scoring).drain()
            _err(f"ran {ran} background job(s) (re-scoring, event consensus)")
            return secret
        finally:
            await engine.dispose()

    secret = asyncio.run(seed())
    if secret != saved:
        key_file.touch(mode=0o600)
        key_file.write_text(secret + "\n")
        _err(f"issued a new demo admin key (earlier ones revoked), saved in {key_file}")
    _err("demo admin API key (read, submit, admin):")
    print(secret, flush=True)
    return 0


def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from service.model_registry.service import ModelService
    from service.model_registry.training import TrainingError, train_model

    if args.model_id is None:
        try:
            params = json.loads(args.params) if args.params else {}
            from service.model_registry.schemas import ModelTrainRequest

            request = ModelTrainRequest(params=params, activate=args.activate)
        except ValueError as exc:
            _err(f"invalid --params: {exc}")
            return 2

        async def queue(session: Any) -> int:
            model = await ModelService(session).queue(
                request.params, activate=request.activate, actor=None
            )
            return model.id

        model_id = asyncio.run(_with_session(settings, queue))
        _err(f"queued model {model_id}")
    else:
        model_id = args.model_id
    try:
        model = asyncio.run(train_model(settings, model_id, echo=True))
    except TrainingError as exc:
        _err(f"training failed: {exc}")
        return 1
    from service.model_registry.service import quality_gate

    metrics = model.metrics or {}
    shown = ("accuracy", "roc_auc", "brier", "log_loss", "ece")
    _err("held-out " + ", ".join(f"{k} {metrics[k]:.4f}" for k in shown if k in metrics))
    _err(f"{model.version} {quality_gate(model).explain()}")
    print(model.version, flush=True)
    return 0


def cmd_models(args: argparse.Namespace, settings: Settings) -> int:
    from service.model_registry.service import ModelService, displayed_status, quality_gate

    async def work(session: Any) -> int:
        service = ModelService(session)
        if args.models_command == "activate":
            model = await service.activate(args.model_id, actor=None, force=args.force)
            forced = " (forced past the quality gate)" if args.force else ""
            _err(f"{model.version} is now active{forced}")
        elif args.models_command == "rollback":
            model = await service.rollback(actor=None)
            active = await service.active()
            _err(
                f"rolled back from {model.version}; active: {active.version if active else 'none'}"
            )
        for model in await service.page(after=None, limit=1000):
            metrics = model.metrics or {}
            auc = metrics.get("roc_auc")
            gate = "passed" if quality_gate(model).passed else "failed"
            print(
                f"{model.id}\t{model.version}\t{displayed_status(model)}"
                f"\t{'active' if model.active else ''}\t"
                f"{f'auc={auc:.4f}' if isinstance(auc, float) else ''}\tgate={gate}",
                flush=True,
            )
        return 0

    from service.errors import CredscoreError

    try:
        return asyncio.run(_with_session(settings, work))
    except CredscoreError as exc:
        _err(exc.detail)
        return 1


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    runner: Callable[[argparse.Namespace], int] = args.eval_run
    return runner(args)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _add_eval_commands(subparsers: Any) -> None:
    evaluate = subparsers.add_parser("eval", help="evaluate the scoring on real data sets")
    targets = evaluate.add_subparsers(dest="eval_target", required=True)
    for name, module_name, help_text in (
        ("liar", "scoring.evaluation.liar", "claim model on LIAR-format files"),
        (
            "truth-discovery",
            "scoring.evaluation.truth_discovery",
            "reconciler on population/book-format files",
        ),
        (
            "synthetic",
            "scoring.evaluation.synthetic",
            "reconciler and dependence detection on synthetic worlds with known structure",
        ),
    ):
        parser = targets.add_parser(name, help=help_text)
        try:
            module = __import__(module_name, fromlist=["configure_parser", "run"])
        except ImportError as exc:
            parser.set_defaults(handler=_unavailable(str(exc)))
            continue
        module.configure_parser(parser)
        parser.set_defaults(handler=cmd_eval, eval_run=module.run)


def _unavailable(reason: str) -> Callable[[argparse.Namespace, Settings], int]:
    def handler(args: argparse.Namespace, settings: Settings) -> int:
        _err(f"this evaluation is not available: {reason}")
        return 2

    return handler


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="credscore", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)

    serve = subparsers.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--proxy-headers", action="store_true", help="trust X-Forwarded-*")
    serve.set_defaults(handler=cmd_serve)

    migrate = subparsers.add_parser("migrate", help="upgrade the database schema")
    migrate.add_argument("--revision", default="head")
    migrate.set_defaults(handler=cmd_migrate)

    seed = subparsers.add_parser(
        "seed-demo", help="load the illustrative Raqqa demo and print a new demo admin key"
    )
    seed.set_defaults(handler=cmd_seed_demo)

    create_key = subparsers.add_parser(
        "create-api-key", help="create an API key; prints the key alone on the last line"
    )
    create_key.add_argument("--name", required=True)
    create_key.add_argument("--scopes", required=True, help="comma-separated: read,submit,admin")
    create_key.set_defaults(handler=cmd_create_api_key)

    train = subparsers.add_parser(
        "train", help="train a claim model from the verdicts in the database (progress on stderr)"
    )
    train.add_argument("--activate", action="store_true", help="activate it when ready")
    train.add_argument("--params", help="JSON of model parameters, e.g. '{\"C\": 0.5}'")
    train.add_argument("--model-id", type=int, help="train this queued registry row (internal)")
    train.set_defaults(handler=cmd_train)

    models = subparsers.add_parser("models", help="list, activate or roll back claim models")
    models_commands = models.add_subparsers(dest="models_command")
    models_commands.add_parser("list", help="list models (the default)")
    activate = models_commands.add_parser(
        "activate", help="activate a ready model that passes the quality gate"
    )
    activate.add_argument("model_id", type=int)
    activate.add_argument(
        "--force", action="store_true", help="activate even if the quality gate says no (audited)"
    )
    models_commands.add_parser("rollback", help="re-activate the previously active model")
    models.set_defaults(handler=cmd_models)

    _add_eval_commands(subparsers)
    from credscore_client.cli import add_remote_commands

    add_remote_commands(subparsers)

    from service.interchange.cli import add_interchange_commands

    add_interchange_commands(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace, Settings], int] = args.handler
    return handler(args, get_settings())


if __name__ == "__main__":
    sys.exit(main())
