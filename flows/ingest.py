"""The ingest flow: validate what was submitted, and announce each verdict as an event.

One run drains every pending submission in batches (one task per batch), so a burst of thousands
of files costs a few runs, not thousands of process starts. The submission that triggered the run
is simply one of the pending ones.

With warm workers running (`lnob worker`, flows/validation_task.py) this is their safety net: the
deployment's proactive trigger (prefect.yaml) starts a run only for a submission that got no verdict
event within 30 s, and a submission a worker holds is left to it by the registry's claim.
"""

from __future__ import annotations

from prefect import flow, get_run_logger, task

from flows.events import emit_in_run, verdict_event
from pipeline import claims, ingest
from store.registry import Registry
from store.settings import load_settings


@task(name="validate-pending-batch", retries=1, retry_delay_seconds=5)
def validate_pending_batch(batch_size: int) -> list[dict]:
    """Claim up to `batch_size` pending submissions, validate them together, record the verdicts."""
    settings = load_settings()
    registry = Registry(settings.database_url)
    # A claim held by this task's process: killed, it is claimable again by the next run or the sweeper
    # (at once on this host, after its lease elsewhere).
    claims.end_orphaned_claims(registry)
    claimed = registry.claim_pending(batch_size, worker=claims.worker_name("prefect-ingest"))
    if not claimed:
        return []
    verdicts = ingest.validate_claimed(claimed, settings, registry=registry)
    for verdict in verdicts:
        emit_in_run(*verdict_event(verdict))
    return verdicts


@flow(name="ingest-submission", log_prints=True)
def ingest_submission(submission_id: str | None = None, batch_size: int = 200) -> dict:
    """Validate `submission_id` (if given) and everything else still pending; returns the counts."""
    logger = get_run_logger()
    if submission_id:
        logger.info("triggered by submission %s", submission_id)
    accepted = rejected = 0
    while True:
        verdicts = validate_pending_batch(batch_size)
        if not verdicts:
            break
        accepted += sum(v["status"] == "accepted" for v in verdicts)
        rejected += sum(v["status"] != "accepted" for v in verdicts)
        logger.info("validated %d submissions (so far %d accepted, %d rejected)", len(verdicts), accepted,
                    rejected)
    logger.info("nothing pending: %d accepted, %d rejected in this run", accepted, rejected)
    return {"accepted": accepted, "rejected": rejected}
