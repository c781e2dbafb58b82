"""Illustrative demo data: the Raqqa story of 2017-08-22, four outlets, their claims.

ILLUSTRATIVE ONLY. The outlets are real organisations, but every rating, count and verdict
below is invented to show how the service behaves; none is an assessment of those outlets.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from scoring.reliability import Rating
from service.auth.repository import ApiKeyRepository
from service.auth.schemas import Scope
from service.auth.service import Principal, create_key, hash_key, revoke_key
from service.claims.schemas import ClaimCreate, FigureIn
from service.claims.service import ClaimService
from service.database.types import utcnow
from service.events.schemas import EventCreate
from service.events.service import EventService
from service.outlets.models import OutletKind
from service.outlets.repository import OutletRepository
from service.outlets.schemas import OutletCreate, OutletRecordCreate, Transparency
from service.outlets.service import OutletService
from service.scores.service import ScoringService
from service.settings import Settings
from service.verdicts.schemas import VerdictCreate
from service.verdicts.service import VerdictService

ILLUSTRATIVE = "ILLUSTRATIVE DEMO DATA: invented ratings and verdicts, not real assessments."
CONFLICT = "syria-2017"


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _invented_outlet(
    slug: str,
    name: str,
    kind: OutletKind,
    country: str,
    affiliation: str,
    *,
    practices: set[str],
    party: bool = False,
    on_the_ground: bool = True,
) -> OutletCreate:
    """An invented outlet, labelled so; ``practices``: the transparency practices it follows
    (it is known not to follow the others); ``party``: a party to the demo's conflict."""
    return OutletCreate(
        slug=slug,
        name=name,
        kind=kind,
        country=country,
        affiliations=[affiliation],
        conflict_parties=[CONFLICT] if party else [],
        on_the_ground=on_the_ground,
        transparency=Transparency(
            **{practice: practice in practices for practice in Transparency.model_fields}
        ),
        notes=ILLUSTRATIVE,
    )


OUTLETS = [
    _invented_outlet(
        "rbss",
        "Raqqa Is Being Slaughtered Silently",
        OutletKind.ACTIVIST_NETWORK,
        "SY",
        "citizen journalists inside Raqqa",
        practices={"ownership_disclosed"},
    ),
    _invented_outlet(
        "sohr",
        "Syrian Observatory for Human Rights",
        OutletKind.NGO_MONITOR,
        "GB",
        "network of informants in Syria",
        practices={"methodology"},
    ),
    _invented_outlet(
        "sana",
        "SANA (Syrian Arab News Agency)",
        OutletKind.STATE_MEDIA,
        "SY",
        "Government of Syria",
        practices={"ownership_disclosed"},
        party=True,
    ),
    _invented_outlet(
        "coalition-pao",
        "Coalition (CJTF-OIR) public affairs office",
        OutletKind.MILITARY_PAO,
        "US",
        "US-led Coalition against ISIS",
        practices=set(Transparency.model_fields),
        party=True,
        on_the_ground=False,
    ),
]

# Past verdicts per outlet, oldest first: invented so that the four track records differ.
PAST_VERDICTS: dict[str, list[str]] = {
    "rbss": ["true"] * 7 + ["mostly-true"] * 2 + ["mixed"],
    "sohr": ["true"] * 8 + ["mostly-true"] * 2 + ["mixed", "mostly-false"],
    "sana": ["true"] * 2 + ["mixed"] + ["mostly-false"] * 3 + ["false"] * 4,
    "coalition-pao": ["true"] * 3 + ["mostly-true"] + ["mostly-false"] * 2 + ["false"] * 2,
}

RECORDS: dict[str, OutletRecordCreate] = {
    "sohr": OutletRecordCreate(
        source="illustrative monitor audit",
        as_of=_at("2016-06-01T00:00:00"),
        verified=30,
        refuted=4,
        corrections=3,
        note=ILLUSTRATIVE,
    ),
    "sana": OutletRecordCreate(
        source="illustrative fact-check tally",
        as_of=_at("2016-06-01T00:00:00"),
        external_rating="low",
        verified=3,
        refuted=12,
        retractions=1,
        note=ILLUSTRATIVE,
    ),
}

RAQQA_STRIKES = EventCreate(
    title="Civilians killed by air strikes on Raqqa, night of 2017-08-21",
    description="Strikes on the al-Sakhani area of Raqqa. " + ILLUSTRATIVE,
    quantity_kind="civilian_deaths",
    unit="people",
    place="Raqqa, Syria",
    window_start=_at("2017-08-21T18:00:00"),
    window_end=_at("2017-08-22T18:00:00"),
    topic="civilian-casualties",
    conflict=CONFLICT,
)
RAQQA_DISPLACED = EventCreate(
    title="People displaced from Raqqa's old city, week of 2017-08-21",
    description="Two well-rated sources give far-apart counts. " + ILLUSTRATIVE,
    quantity_kind="displaced_people",
    unit="people",
    place="Raqqa, Syria",
    window_start=_at("2017-08-21T00:00:00"),
    window_end=_at("2017-08-27T23:59:59"),
    topic="displacement",
    conflict=CONFLICT,
)
RAQQA_GROUND = EventCreate(
    title="Ground lost or held in Raqqa, August 2017",
    description=ILLUSTRATIVE,
    quantity_kind="territory",
    place="Raqqa, Syria",
    window_start=_at("2017-08-01T00:00:00"),
    window_end=_at("2017-08-31T23:59:59"),
    topic="territorial-control",
    conflict=CONFLICT,
)


@dataclass(frozen=True)
class DemoStory:
    claim_text: str
    outlet: str
    figure: float | None
    published_at: str
    event: str


STORY = [
    DemoStory(
        "Coalition air strikes on al-Sakhani killed 37 civilians overnight, "
        "according to our correspondents in Raqqa.",
        "rbss",
        37,
        "2017-08-22T08:00:00",
        "strikes",
    ),
    DemoStory(
        "At least 42 civilians, including 19 children, were killed in Coalition strikes on Raqqa.",
        "sohr",
        42,
        "2017-08-22T10:00:00",
        "strikes",
    ),
    DemoStory(
        "78 civilians were killed in 24 hours of US-led Coalition raids on Raqqa.",
        "sana",
        78,
        "2017-08-22T12:00:00",
        "strikes",
    ),
    DemoStory(
        "The allegations of civilian casualties lack specificity and detail; "
        "the Coalition takes every precaution.",
        "coalition-pao",
        None,
        "2017-08-22T15:00:00",
        "strikes",
    ),
    DemoStory(
        "About 8,000 people fled the old city this week, our network counted.",
        "rbss",
        8_000,
        "2017-08-27T12:00:00",
        "displaced",
    ),
    DemoStory(
        "More than 25,000 people were displaced from the old city in seven days.",
        "sohr",
        25_000,
        "2017-08-27T14:00:00",
        "displaced",
    ),
    DemoStory(
        "ISIS has not retaken one inch of ground from our partner forces in Raqqa.",
        "coalition-pao",
        None,
        "2017-08-23T09:00:00",
        "ground",
    ),
]


DEMO_ADMIN_KEY_NAME = "demo-admin"


async def demo_admin_key(session: AsyncSession, saved: str | None) -> tuple[Principal, str]:
    """The demo admin key: ``saved`` while it is the active demo key, else a new one.

    A new key revokes the earlier demo key (its secret is lost), so one demo key works at a time.
    """
    repository = ApiKeyRepository(session)
    active = await repository.active_by_name(DEMO_ADMIN_KEY_NAME)
    if (
        active is not None
        and saved is not None
        and hmac.compare_digest(active.key_hash, hash_key(saved))
    ):
        return Principal(active.id, active.name, frozenset(active.scopes)), saved
    if active is not None:
        await revoke_key(session, active.id, actor=None)
    key, secret = await create_key(
        session, name=DEMO_ADMIN_KEY_NAME, scopes=[Scope.READ, Scope.SUBMIT, Scope.ADMIN]
    )
    return Principal(key.id, key.name, frozenset(key.scopes)), secret


async def demo_present(session: AsyncSession) -> bool:
    return await OutletRepository(session).by_slug(OUTLETS[0].slug) is not None


async def load_demo(
    session: AsyncSession, scoring: ScoringService, settings: Settings, actor: Principal
) -> dict[str, int]:
    """Create the demo outlets, their invented past, the events and the story's claims."""
    outlets_service = OutletService(session, scoring)
    claims = ClaimService(session, scoring, settings)
    verdicts = VerdictService(session, scoring, settings)
    outlets = {}
    for data in OUTLETS:
        outlets[data.slug] = await outlets_service.create(data, actor=actor, request_id=None)
    for slug, record in RECORDS.items():
        await outlets_service.add_record(slug, record, actor=actor, request_id=None)

    # Two eras of invented history: one before the 2017 story, and the two years before today,
    # so that both the story's claims and claims posted now have a record to stand on.
    eras = (_at("2015-03-01T12:00:00"), utcnow().replace(microsecond=0) - timedelta(days=730))
    past_claims = 0
    for era_start in eras:
        for slug, ratings in PAST_VERDICTS.items():
            for index, rating in enumerate(ratings):
                published = era_start + timedelta(days=45 * index)
                stored, _ = await claims.create(
                    [
                        ClaimCreate(
                            outlet_slug=slug,
                            text=f"Past report by {outlets[slug].name} ({ILLUSTRATIVE})",
                            published_at=published,
                            topic="civilian-casualties",
                        )
                    ],
                    submitter=actor,
                    idempotency_key=None,
                    batch=False,
                )
                await verdicts.record(
                    stored[0].claim.id,
                    VerdictCreate(
                        rating=Rating(rating),
                        source="illustrative fact-check desk",
                        decided_at=published + timedelta(days=30),
                        note=ILLUSTRATIVE,
                    ),
                    actor=actor,
                    request_id=None,
                )
                past_claims += 1

    events_service = EventService(session)
    events = {
        "strikes": await events_service.create(RAQQA_STRIKES, actor=actor, request_id=None),
        "displaced": await events_service.create(RAQQA_DISPLACED, actor=actor, request_id=None),
        "ground": await events_service.create(RAQQA_GROUND, actor=actor, request_id=None),
    }
    for item in STORY:
        await claims.create(
            [
                ClaimCreate(
                    outlet_slug=item.outlet,
                    text=item.claim_text,
                    published_at=_at(item.published_at),
                    event_id=events[item.event].id,
                    figure=FigureIn(value=item.figure, unit="people") if item.figure else None,
                )
            ],
            submitter=actor,
            idempotency_key=None,
            batch=False,
        )
    return {
        "outlets": len(outlets),
        "past_claims_with_verdicts": past_claims,
        "events": len(events),
        "story_claims": len(STORY),
    }
