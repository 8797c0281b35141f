"""Every key layout of the single table, in one place (DESIGN.md's data model).

A tenant's items live in its connection's partition (`CONN#{cid}`); the sort key says what an item is.
Only pointers, OAuth states and the app's own items live outside a tenant's partition.
"""

from typing import Any

META = "META"
CONNECTION = "CONNECTION"
HISTORY = "HIST#"
APP_PK = "APP#hubspot"
TIMELINE = "TIMELINE"


def connection_pk(connection_id: str) -> str:
    return f"CONN#{connection_id}"


CONNECTION_PK_PREFIX = connection_pk("")


def portal_key(portal_id: int) -> dict[str, str]:
    """The pointer that makes one portal belong to one connection."""
    return {"PK": f"PORTAL#{portal_id}", "SK": CONNECTION}


def realm_key(realm_id: str) -> dict[str, str]:
    """The pointer that makes one QuickBooks company belong to one connection."""
    return {"PK": f"REALM#{realm_id}", "SK": CONNECTION}


ACTIVE_INDEX = "ActiveConnections"  # sparse: only connections the sweep visits carry its keys
ACTIVE_PK = "ACTIVE"


def realm_index_pk(realm_id: str) -> str:
    return f"REALM#{realm_id}"


def state_key(nonce: str) -> dict[str, str]:
    """The record that an OAuth state was used (written at its first use, kept until it expires)."""
    return {"PK": f"STATE#{nonce}", "SK": META}


SESSIONS = "SESSION#"


def session_sk(session_id: str) -> str:
    """A settings session that is live: deleted at logout, disconnect or reinstall, else when it expires."""
    return f"{SESSIONS}{session_id}"


def pending_sk(provider: str) -> str:
    """A consent waiting for the person to confirm it (the grant kept out of TOKEN# until then)."""
    return f"PENDING#{provider}"


def token_sk(provider: str) -> str:
    return f"TOKEN#{provider}"


def settings_sk(pair: Any) -> str:
    return f"SYNC#{pair}"


def links_prefix(pair: Any, side: Any = None) -> str:
    return f"LINK#{pair}#" + (f"{side}#" if side else "")


def link_sk(pair: Any, side: Any, record_id: str) -> str:
    return f"{links_prefix(pair, side)}{record_id}"


def intents_prefix(pair: Any) -> str:
    return f"INTENT#{pair}#"


def intent_sk(pair: Any, hubspot_id: str) -> str:
    """What a sync of a linked pair is about to write, kept until the link is saved past it."""
    return f"{intents_prefix(pair)}{hubspot_id}"


def decisions_prefix(pair: Any) -> str:
    return f"DECIDE#{pair}#"


def decision_sk(pair: Any, side: Any, record_id: str) -> str:
    """A person's review decision for one record of a pair (link it with a record, or leave it out)."""
    return f"{decisions_prefix(pair)}{side}#{record_id}"


def exclusions_prefix(pair: Any, side: Any = None) -> str:
    return f"EXCL#{pair}#" + (f"{side}#" if side else "")


def exclusion_sk(pair: Any, side: Any, record_id: str) -> str:
    """A record first sight left out, and why (kept until the record is linked, or 30 days)."""
    return f"{exclusions_prefix(pair, side)}{record_id}"


def errors_prefix(pair: Any = None, side: Any = None) -> str:
    """Sync errors of every pair, of one pair, or of one pair's side."""
    return "ERR#" + (f"{pair}#" if pair else "") + (f"{side}#" if pair and side else "")


def error_sk(pair: Any, side: Any, record_id: str) -> str:
    return f"{errors_prefix(pair, side)}{record_id}"


def history_sk(at_iso: str, suffix: str) -> str:
    return f"{HISTORY}{at_iso}#{suffix}"


def jobs_prefix(pair: Any, kind: str = "JOB") -> str:
    """A pair's jobs of one kind: first syncs and resyncs (`JOB`), previews (`PREVIEWJOB`)."""
    return f"{kind}#{pair}#"


def job_sk(pair: Any, job_id: str, kind: str = "JOB") -> str:
    return f"{jobs_prefix(pair, kind)}{job_id}"


def preview_prefix(pair: Any, job_id: str, kind: str | None = None) -> str:
    """The rows of one preview, or of one kind of row in it."""
    return f"PREVIEW#{pair}#{job_id}#" + (f"{kind}#" if kind else "")


def cursor_sk(provider: str, name: str) -> str:
    return f"CURSOR#{provider}#{name}"


def rate_sk(provider: str, bucket: str) -> str:
    return f"RATE#{provider}#{bucket}"


def invoice_deal_sk(invoice_id: str) -> str:
    return f"DEALOF#{invoice_id}"


def payment_sk(payment_id: str) -> str:
    return f"PAYMENT#{payment_id}"


def estimate_sk(estimate_id: str) -> str:
    return f"ESTIMATEOF#{estimate_id}"


def conversion_sk(estimate_id: str) -> str:
    return f"CONVERT#{estimate_id}"


def action_sk(callback_id: str) -> str:
    return f"ACTION#{callback_id}"


def last_part(sort_key: Any) -> str:
    """The record id (or job id) at the end of a sort key."""
    return str(sort_key).rsplit("#", 1)[1]


def signal_failures_pk(message_id: str) -> str:
    """A queued signal's count of failures (not its throttles), by its SQS message id."""
    return f"SIGNAL#{message_id}"


def live_lane(connection_id: str, pair: Any) -> str:
    """A connection and pair's lane: the FIFO group of its linked records' live changes."""
    return f"{connection_id}:{pair}:live"


def lane_pk(group: str) -> str:
    """The live changes noted in one FIFO lane (a connection and pair's), waiting for its next pass."""
    return f"LANE#{group}"


def lane_change_sk(message: str, side: Any, record_id: str) -> str:
    """One record's change, under the deduplication id of the message that carries it."""
    return f"{message}#{side}#{record_id}"
