"""The app's context: built whole at start-up, each part given the parts it works with."""

from __future__ import annotations

from typing import Any

from service.context import app_context


async def test_each_part_works_with_the_app_s_own_parts(app: Any) -> None:
    context = app_context(app)
    assert context is app.state.context
    assert context.scoring.counters is context.generations
    assert context.sessions.sessionmaker is context.sessionmaker
    assert context.claim_writer.sessions is context.sessions
    assert context.claim_writer.scoring is context.scoring
    # After a request's commit: revoked keys first; the counters are refreshed before the worker
    # and the push consumers are woken, so that what they read includes the change.
    assert context.sessions.after_commit == (
        context.key_cache.after_commit,
        context.generations.after_commit,
        context.jobs.after_commit,
        context.push.after_commit,
    )
    # After a job's commit the same hooks run, but for the worker's own wake-up (it is running).
    assert context.jobs.after_commit_hooks == (
        context.generations.after_commit,
        context.push.after_commit,
    )
