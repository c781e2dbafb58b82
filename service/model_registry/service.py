"""The model registry: queue training runs, activate behind the quality gate, roll back. Audited."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from scoring.artifacts import ArtifactError, check_compatible, read_header
from scoring.quality_gate import GateVerdict, judge
from service import generations
from service.audit.service import record_audit
from service.auth.service import Principal
from service.database.pagination import keyset
from service.database.types import utcnow
from service.errors import Conflict, NotFound
from service.model_registry.models import ModelVersion

# A training run that has not reported for this long is shown as stalled (its process died).
STALLED_AFTER = timedelta(seconds=60)
TRAINING_STATES = ("queued", "training")


def displayed_status(model: ModelVersion) -> str:
    if model.status in TRAINING_STATES:
        last_sign = model.heartbeat_at or model.created_at
        if utcnow() - last_sign > STALLED_AFTER:
            return "stalled"
    return model.status


def snapshot(model: ModelVersion) -> dict[str, Any]:
    return {"version": model.version, "status": model.status, "active": model.active}


def quality_gate(model: ModelVersion) -> GateVerdict:
    """The activation gate's verdict on a model's held-out metrics (judged by the current rule)."""
    return judge(model.metrics)


class QualityGateFailed(Conflict):
    slug = "quality-gate"

    def __init__(self, model: ModelVersion, verdict: GateVerdict) -> None:
        self.verdict = verdict
        super().__init__(
            f"Model {model.version} {verdict.explain()}. The rule: {verdict.rule.describe()}. "
            "An admin may activate it anyway with force=true (recorded in the audit log).",
            extensions={"quality_gate": verdict.as_dict()},
        )


class ModelService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, model_id: int) -> ModelVersion:
        model = await self.session.get(ModelVersion, model_id)
        if model is None:
            raise NotFound(f"No model with id {model_id}.")
        return model

    async def page(
        self, *, after: int | None, limit: int, descending: bool = False
    ) -> Sequence[ModelVersion]:
        statement = select(ModelVersion)
        statement = keyset(
            statement, ModelVersion.id, after=after, limit=limit, descending=descending
        )
        return (await self.session.execute(statement)).scalars().all()

    async def active(self) -> ModelVersion | None:
        return await self.session.scalar(
            select(ModelVersion).where(ModelVersion.active.is_(True)).limit(1)
        )

    async def queue(
        self, params: dict[str, Any], *, activate: bool, actor: Principal | None
    ) -> ModelVersion:
        model = ModelVersion(
            version=f"claim-model/pending-{utcnow().timestamp():.6f}",
            status="queued",
            params={"model": params, "activate": activate},
            created_by=actor.name if actor else "cli",
        )
        self.session.add(model)
        await self.session.flush()
        model.version = f"claim-model/{model.id}"
        await self.session.flush()
        await record_audit(
            self.session,
            actor=actor,
            action="model.train",
            subject_type="model",
            subject_id=model.id,
            before=None,
            after=snapshot(model) | {"params": params, "activate": activate},
            request_id=None,
        )
        return model

    async def cancel(self, model_id: int, stop: Callable[[int], object]) -> ModelVersion:
        """Cancel a queued or running training run; ``stop`` ends its process."""
        model = await self.get(model_id)
        if model.status not in TRAINING_STATES:
            raise Conflict(f"Model {model.version} is {model.status}; only training runs can stop.")
        stop(model.id)
        model.status = "cancelled"
        model.error = "cancelled by an admin"
        await self.session.flush()
        return model

    async def activate(
        self,
        model_id: int,
        *,
        actor: Principal | None,
        request_id: str | None = None,
        force: bool = False,
    ) -> ModelVersion:
        """Make a ready model active if it passes the quality gate, or with ``force`` anyway."""
        model = await self._activatable(model_id)
        verdict = quality_gate(model)
        if not verdict.passed and not force:
            raise QualityGateFailed(model, verdict)
        forced = not verdict.passed
        return await self._make_active(
            model,
            actor=actor,
            request_id=request_id,
            action="model.force_activate" if forced else "model.activate",
            note={"quality_gate": verdict.as_dict()} | ({"forced": True} if forced else {}),
        )

    async def _activatable(self, model_id: int) -> ModelVersion:
        model = await self.session.scalar(
            select(ModelVersion)
            .options(undefer(ModelVersion.artifact))
            .where(ModelVersion.id == model_id)
        )
        if model is None:
            raise NotFound(f"No model with id {model_id}.")
        if model.status != "ready" or model.artifact is None:
            raise Conflict(
                f"Model {model.version} is {model.status}; only a ready model can be active."
            )
        try:
            header, _ = read_header(model.artifact)
            check_compatible(header)
        except ArtifactError as exc:
            raise Conflict(f"Model {model.version} cannot be activated: {exc}") from exc
        return model

    async def _make_active(
        self,
        model: ModelVersion | None,
        *,
        actor: Principal | None,
        request_id: str | None,
        action: str | None = None,
        note: dict[str, Any] | None = None,
    ) -> ModelVersion:
        current = await self.active()
        before = snapshot(current) if current else None
        await self.session.execute(
            update(ModelVersion).where(ModelVersion.active.is_(True)).values(active=False)
        )
        if model is not None:
            model.active = True
            model.activated_at = utcnow()
        await self.session.flush()
        await generations.bump(self.session, generations.MODEL)
        await record_audit(
            self.session,
            actor=actor,
            action=action or ("model.activate" if model is not None else "model.deactivate"),
            subject_type="model",
            subject_id=model.id if model is not None else (current.id if current else 0),
            before=before,
            after=snapshot(model) | (note or {}) if model is not None else None,
            request_id=request_id,
        )
        if model is None:
            assert current is not None
            return current
        return model

    async def rollback(
        self, *, actor: Principal | None, request_id: str | None = None
    ) -> ModelVersion:
        """Re-activate the model active before the current one; with none, go back to cold start.

        The previous model was active before (through the gate or forced, both audited), so
        going back to it is not judged again."""
        current = await self.active()
        if current is None:
            raise Conflict("No model is active: nothing to roll back.")
        previous = await self.session.scalar(
            select(ModelVersion)
            .where(
                ModelVersion.id != current.id,
                ModelVersion.status == "ready",
                ModelVersion.activated_at.is_not(None),
            )
            .order_by(ModelVersion.activated_at.desc())
            .limit(1)
        )
        if previous is None:
            await self._make_active(None, actor=actor, request_id=request_id)
            return current
        model = await self._activatable(previous.id)
        return await self._make_active(
            model, actor=actor, request_id=request_id, note={"rollback_from": current.version}
        )
