"""Audit events: who read, changed, exported or deleted what, and when, in a log that the
database's own users cannot rewrite unnoticed.

**Writing.** :func:`record` inserts the event through the caller's session, so it commits
or rolls back together with the read or change it describes. It is written *unsealed*: no
place in a chain yet (``seq``, ``prev_hash``, ``hash`` and ``key_id`` are NULL; a trigger
refuses an INSERT that sets them).

**Chains.** One chain per workspace (``chain`` is the Slack team id) and one, ``global``,
for events without a workspace. Each chain has its own head row in ``audit_chain``, so a
workspace's log reviewer verifies, anchors and exports their chain without anyone else's
events, and workspaces never wait for each other's sealing.

**Sealing, after commit and in batches.** :func:`seal_chain` gives a chain's unsealed events
their place in one short transaction of its own: it locks the chain's head (``SELECT … FOR
UPDATE SKIP LOCKED`` on PostgreSQL, so a head another sealer holds is skipped and never
waited for; on SQLite every transaction begins IMMEDIATE and sealers simply take turns),
reads the chain's committed unsealed events, gives them the next sequence numbers and
stores for each the hash of the event before it and its own keyed hash. A background
thread per process (:mod:`bot.sealer`) does this, woken by every commit that wrote events
(after a short batching delay) and once a second otherwise.

*Why no event is ever skipped although ids commit out of order:* the chain is built in
**seal order**, not id order. A sealer never remembers "sealed up to id N"; each batch takes
every committed event that has no hash yet (a partial index finds them). An event with a
small id whose transaction commits after a bigger one was sealed simply gets a later
``seq`` in the next batch. ``seq`` (not ``id``, not ``at``) is the chain's order. A replica
that dies between commit and seal leaves committed unsealed events, and the next sealer of
any replica picks them up; the age of the oldest unsealed event is the metric
``samverkan_audit_unsealed_seconds``. (The old way — every transaction sealing its own
events at commit under the head's lock — is still here for the benchmark: a sessionmaker
with ``info={SEAL_AT_COMMIT: True}``.)

**Keys.** An event's hash is HMAC-SHA256 over its canonical form (version 2: content,
chain, ``seq``, previous hash and key id) with a secret kept outside the database
(``SAMVERKAN_AUDIT_KEYS``: comma-separated, the first signs, the others still verify; each
event records the id of the key that signed it). Someone with the database alone cannot
compute a valid hash, so a rewritten or forged event fails :func:`verify`. Without the
setting the public development key (id ``dev``) signs — the sandbox and tests only;
``samverkan serve`` against real Slack refuses to start without a key. Events from before
migration 0008 keep their version-1 hashes (unkeyed SHA-256): the first keyed event after
them links to the last of them, so its signature pins that history too.

**Protection.** Triggers (migration 0008) refuse changing an event except its one-time
sealing, deleting one except below its chain's ``purge_below_seq`` (set only inside the
retention transaction), moving a chain head backwards, deleting a head, and TRUNCATE.
What a trigger cannot stop (a superuser or the table owner can drop triggers) :func:`verify`
finds: every event's keyed hash, every link, no gaps or duplicates, the head, and that a
chain starting after seq 1 has a signed retention event recording that cut. Truncating the
newest events and rewinding the head with the triggers dropped is found with an **anchor**
(:func:`anchor`): the signed head taken earlier and kept outside the database (the monthly
log check DMs it to the log reviewers); ``samverkan audit verify --anchor …`` fails when the
chain no longer holds that event or ends before it.

**Retention.** :func:`purge_before` removes a chain's oldest events as a prefix — except
those of cases under legal hold — and records the cut (where the chain now starts, its
hash, and which older events were kept) as an event of the chain, sealed at once. On
PostgreSQL a month partition whose events all lie below their chains' cuts is dropped whole.

Parts: ``keys`` (chains, constants, the signing keys), ``writing`` (record, record_by, the
commit hooks), ``chain`` (hashing and sealing), ``verification`` (verify, anchors, export),
``retention`` (purging the oldest events, PostgreSQL month partitions). Every public name is
importable from here: ``from domain import audit; audit.X``.
"""

from __future__ import annotations

from domain.audit.chain import (
    Backlog,
    backlog,
    canonical,
    canonical_v1,
    canonical_v2,
    event_hash,
    pending_chains,
    seal_chain,
    seal_pending,
)
from domain.audit.keys import (
    ANCHOR_PREFIX,
    CUT_OBJECT_TYPE,
    DEV_KEY_ID,
    DEV_SECRET,
    GENESIS,
    GLOBAL_CHAIN,
    MIN_KEY_LENGTH,
    PARTITION_RE,
    PARTITION_SCHEMA,
    SEAL_AT_COMMIT,
    AuditKeys,
    chain_of,
    current_keys,
    key_id,
    new_key,
    use_keys,
)
from domain.audit.retention import (
    ChainCut,
    HeldRef,
    ensure_partitions,
    partitions,
    plan_purge,
    purge_before,
)
from domain.audit.verification import (
    Anchor,
    Head,
    Verification,
    anchor,
    chains,
    check_anchor,
    check_chain,
    export_chain,
    verify,
    verify_export,
)
from domain.audit.writing import (
    append_with,
    on_commit,
    record,
    record_by,
)

__all__ = [
    "ANCHOR_PREFIX",
    "CUT_OBJECT_TYPE",
    "DEV_KEY_ID",
    "DEV_SECRET",
    "GENESIS",
    "GLOBAL_CHAIN",
    "MIN_KEY_LENGTH",
    "PARTITION_RE",
    "PARTITION_SCHEMA",
    "SEAL_AT_COMMIT",
    "Anchor",
    "AuditKeys",
    "Backlog",
    "ChainCut",
    "Head",
    "HeldRef",
    "Verification",
    "anchor",
    "append_with",
    "backlog",
    "canonical",
    "canonical_v1",
    "canonical_v2",
    "chain_of",
    "chains",
    "check_anchor",
    "check_chain",
    "current_keys",
    "ensure_partitions",
    "event_hash",
    "export_chain",
    "key_id",
    "new_key",
    "on_commit",
    "partitions",
    "pending_chains",
    "plan_purge",
    "purge_before",
    "record",
    "record_by",
    "seal_chain",
    "seal_pending",
    "use_keys",
    "verify",
    "verify_export",
]
