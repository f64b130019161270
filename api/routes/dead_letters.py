"""Messages the worker could not apply, counted by reason (the letters stay in the store)."""

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from api.deps import EngineDep
from api.responses import DeadLetterSummary
from api.routes.common import READ_ERRORS
from api.security import ReaderAccess
from api.store import readers

router = APIRouter(tags=["dead letters"], dependencies=[ReaderAccess], responses=READ_ERRORS)


@router.get("/dead-letters")
async def dead_letters(engine: EngineDep) -> DeadLetterSummary:
    """How many messages were dead-lettered, by reason (most frequent first)."""
    reasons = await run_in_threadpool(readers.dead_letter_counts, engine)
    return DeadLetterSummary(total=sum(r.count for r in reasons), reasons=reasons)
