"""The rules the database holds by itself, below the ORM and the admin (issue #12).

Triggers on PostgreSQL and on SQLite, generated here from the move table so the
database refuses what ``workflow`` would refuse even when the code is bypassed
(``QuerySet.update()``, a SQL shell):

- a ``Case.stage`` change must be an edge of the transition table, made by its
  move, whose CaseEvent was written first in the same transaction (``_move``);
  reaching engaged needs a stored engagement event (rule 5);
- an outbox row is created only by the move that queues it (the case in that
  move's stage, its CaseEvent written, for a text the draft's approved hash; an
  answer after engagement only with an engagement stored);
  its text, hash, kind, case and target never change, and a sent, failed or
  cancelled row is final (no second unsolicited reply by re-queuing);
- CaseEvent rows are never updated or deleted (on both vendors, here; migration 0002
  had the first PostgreSQL one).

One exception to the last two, declared once here (``ERASE_ACTION``, ``ERASED``)
for ``forget_person`` (``outreach/forgetting.py``): once a case has an ``erase``
event, its events' notes may be blanked and its finished outbox rows' texts
replaced by ``[erased]`` (and the person's post id they answered blanked), nothing
else. The do-not-contact list and the erasure records have their own triggers
(``privacy_install_sql``), installed by migration 0010 once their tables exist:
an entry may trade its names for the salted hashes of an ``Erasure`` record, and
that record is never edited or deleted.

The rules a migration installs are frozen in it (``table_rules()`` printed as a
literal); ``tests/security/test_database_rules.py`` fails when today's move table
differs from what the newest rules migration holds, and then a new migration is
made: copy ``outreach/migrations/0008_database_rules.py`` with the new literal
(``python -c "from outreach.workflow import dbrules; print(dbrules.table_rules())"``).
On SQLite, a later migration that alters outreach_case, outreach_outboundaction or
outreach_caseevent rebuilds the table and loses its triggers: such a migration must
run ``install_sql`` again (the SQLite run of the test file fails until it does), and
for outreach_case ``hold_install_sql`` too (migration 0010_case_hold shows how); one
that alters outreach_donotcontact, outreach_erasure or outreach_erasuresalt must run
``privacy_install_sql`` again (tests/outreach/test_forget_person.py's SQLite run).

The hold (rule 6, service first; outreach/workflow/holds.py) has a trigger of its own,
installed by migration 0010_case_hold with the columns it reads: ``held_by`` names an
open own-brand case of the same person.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from outreach.models import (
    CONVERSATION_KINDS,
    ERASED,
    OPEN_STAGES,
    TEXT_KINDS,
    ActionKind,
    ActionState,
    EngagementKind,
    PlaybookKind,
    Stage,
)
from outreach.workflow.rules import (
    AUDIT,
    FOLLOW_AFTER_ENGAGEMENT,
    HUMAN_APPROVAL,
    ONE_CONVERSATION,
    ONE_UNSOLICITED,
)

# Outbox state changes the dispatcher and the workflow make; sent, failed and
# cancelled rows are final (a cancelled reply is replaced by a new row, never revived).
OUTBOX_STATE_EDGES: tuple[tuple[str, str], ...] = tuple(
    (origin, target)
    for origin, targets in (
        (
            ActionState.PENDING,
            (ActionState.SENDING, ActionState.SENT, ActionState.FAILED, ActionState.CANCELLED),
        ),
        (
            ActionState.SENDING,
            (ActionState.PENDING, ActionState.SENT, ActionState.FAILED, ActionState.CANCELLED),
        ),
    )
    for target in targets
)

# An outbox row's columns that are fixed once queued: what is posted, where and for whom.
FIXED_OUTBOX_COLUMNS: tuple[str, ...] = (
    "text",
    "text_hash",
    "kind",
    "case_id",
    "in_reply_to",
    "draft_id",
)

# The kinds with at most one live row per case (a unique constraint each): a second
# insert is left to the constraint, whose name says why it is refused.
ONE_PER_CASE_KINDS: tuple[str, ...] = (
    ActionKind.REPLY,
    ActionKind.FOLLOW,
    ActionKind.AMEND_REQUEST,
)
# The conversation after engagement (rule 4): an answer is queued only for a case
# with a stored engagement that opens a conversation (checks.ENGAGING_KINDS).
ENGAGING_KINDS: tuple[str, ...] = (
    EngagementKind.REPLY,
    EngagementKind.MENTION,
    EngagementKind.PRIVATE_MESSAGE,
    EngagementKind.FOLLOW,
)


# The CaseEvent action that records an erasure on a case (written by forget_person); with
# it, and only with it, the case's texts below the audit skeleton may be erased.
ERASE_ACTION = "erase"
# Outbox rows whose text may be erased: finished ones (a queued or sending row is still
# checked against its draft at send time).
ERASABLE_OUTBOX_STATES: tuple[str, ...] = (
    ActionState.SENT,
    ActionState.FAILED,
    ActionState.CANCELLED,
)
# The outbox columns an erasure may change.
ERASABLE: tuple[str, ...] = ("text", "in_reply_to")
CASEEVENT_COLUMNS: tuple[str, ...] = (
    "id",
    "case_id",
    "action",
    "origin",
    "target",
    "actor_id",
    "created_at",
)


def _same(vendor: str, columns: Any) -> str:
    """Every column in ``columns`` unchanged by the update (NULL-safe on both vendors)."""
    op = "IS NOT DISTINCT FROM" if vendor == "postgresql" else "IS"
    return " AND ".join(f"NEW.{col} {op} OLD.{col}" for col in columns)


def _erased_case(case_column: str) -> str:
    return (
        "EXISTS (SELECT 1 FROM outreach_caseevent x "  # noqa: S608
        f"WHERE x.case_id = OLD.{case_column} AND x.action = '{ERASE_ACTION}')"
    )


def _erasing(vendor: str) -> dict[str, str]:
    """The one update each frozen table takes: an erasure of its text, nothing else."""
    return {
        # The text becomes [erased] (or stays, for a follow's empty one) and the
        # person's post id goes; what was posted stays provable by its hash.
        "outbox_text": (
            f"(NEW.text = '{ERASED}' OR NEW.text = OLD.text) AND NEW.in_reply_to = '' "
            f"AND OLD.state IN ({_quoted(ERASABLE_OUTBOX_STATES)}) AND "
            + _same(vendor, ("state", *(c for c in FIXED_OUTBOX_COLUMNS if c not in ERASABLE)))
            + " AND "
            + _erased_case("case_id")
        ),
        "event_note": (
            f"NEW.note = '' AND OLD.action <> '{ERASE_ACTION}' AND "
            + _same(vendor, CASEEVENT_COLUMNS)
            + " AND "
            + _erased_case("case_id")
        ),
    }


def table_rules() -> dict[str, Any]:
    """What the triggers are generated from, read from today's move table.

    ``stage_moves``: (origin, target, move) for every stage-changing move;
    ``queued_by``: outbox kind -> (the stage its case is in, or the list of stages a
    move without a stage change is made from, and the move that queues it).
    """
    from outreach.workflow.table import MOVES  # the table imports models; so do migrations

    stage_moves = sorted(
        (str(source), str(move.target), move.name)
        for move in MOVES.values()
        if move.target is not None
        for source in move.sources
        if source != move.target
    )
    queued_by = {}
    for move in MOVES.values():
        if move.sends:
            # A move that queues without a stage change is made from its source stages.
            stage: str | list[str] = str(move.target or "")
            if move.target is None:
                sources = sorted(str(source) for source in move.sources)
                stage = sources[0] if len(sources) == 1 else sources
            queued_by[str(move.sends)] = (stage, move.name)
    return {
        "stage_moves": stage_moves,
        "queued_by": dict(sorted(queued_by.items())),
    }


def _quoted(values: Any) -> str:
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)


def _conditions(rules: Mapping[str, Any]) -> dict[str, str]:
    """The SQL expressions both vendors share (``NEW``/``OLD`` as in a row trigger).

    Built from the move table and the model constants only, never from input (S608).
    """
    moves = rules["stage_moves"]
    edges = sorted({f"{o}>{t}" for o, t, _ in moves})
    triples = sorted(f"{o}>{t}>{m}" for o, t, m in moves)
    own_event = (
        "EXISTS (SELECT 1 FROM outreach_caseevent e WHERE e.id = ("  # noqa: S608
        "SELECT MAX(l.id) FROM outreach_caseevent l "
        "WHERE l.case_id = NEW.id AND l.origin <> l.target) "
        "AND e.origin = OLD.stage AND e.target = NEW.stage "
        f"AND e.origin || '>' || e.target || '>' || e.action IN ({_quoted(triples)}))"
    )
    queued = []
    for kind, (stage, move) in rules["queued_by"].items():
        stages = [stage] if isinstance(stage, str) else list(stage)
        extra = ""
        if kind in TEXT_KINDS:
            extra = (
                " AND EXISTS (SELECT 1 FROM outreach_replydraft d WHERE d.id = NEW.draft_id "
                "AND d.case_id = NEW.case_id AND d.text = NEW.text "
                "AND d.approved_text_hash = NEW.text_hash)"
            )
        if kind in CONVERSATION_KINDS:
            extra += (
                " AND EXISTS (SELECT 1 FROM outreach_engagementevent g "  # noqa: S608
                f"WHERE g.case_id = NEW.case_id AND g.kind IN ({_quoted(ENGAGING_KINDS)}))"
            )
        queued.append(
            f"(NEW.kind = '{kind}' "  # noqa: S608
            "AND EXISTS (SELECT 1 FROM outreach_case c "
            f"WHERE c.id = NEW.case_id AND c.stage IN ({_quoted(stages)})) "
            "AND EXISTS (SELECT 1 FROM outreach_caseevent e "
            f"WHERE e.case_id = NEW.case_id AND e.action = '{move}'){extra})"
        )
    # One row per case of these kinds: a second one is left to the unique constraint,
    # whose name says why it is refused.
    one_per_case = [k for k in rules["queued_by"] if k in ONE_PER_CASE_KINDS]
    duplicate = (
        f"NEW.kind IN ({_quoted(one_per_case)}) AND EXISTS (SELECT 1 FROM "  # noqa: S608
        "outreach_outboundaction o WHERE o.case_id = NEW.case_id AND o.kind = NEW.kind "
        f"AND o.state <> '{ActionState.CANCELLED}')"
    )
    return {
        # A value the CHECK constraints refuse is left to them, for the same reason.
        "checked_elsewhere": (
            f"NEW.stage NOT IN ({_quoted(Stage.values)}) "
            f"OR (NEW.stage IN ({_quoted(OPEN_STAGES)})) <> (NEW.closed_at IS NULL) "
            f"OR (NEW.stage = '{Stage.DISMISSED}' AND NEW.dismiss_reason = '')"
        ),
        "not_an_edge": f"OLD.stage || '>' || NEW.stage NOT IN ({_quoted(edges)})",
        "no_event": f"NOT {own_event}",
        "not_engaged": (
            f"NEW.stage = '{Stage.ENGAGED}' AND NOT EXISTS (SELECT 1 FROM "  # noqa: S608
            "outreach_engagementevent g WHERE g.case_id = NEW.id)"
        ),
        "not_queued_by_its_move": f"NOT ({' OR '.join(queued)})",
        "duplicate": duplicate,
        "bad_state_change": (
            "OLD.state <> NEW.state AND OLD.state || '>' || NEW.state NOT IN "
            f"({_quoted(f'{o}>{t}' for o, t in OUTBOX_STATE_EDGES)})"
        ),
    }


NOT_AN_EDGE = (
    f"rule {AUDIT.number}: {AUDIT.code}: stage change %s is not an edge of the transition table"
)
NO_EVENT = (
    f"rule {AUDIT.number}: {AUDIT.code}: stage change %s without the CaseEvent of its move "
    "written first in the same transaction"
)
NOT_ENGAGED = (
    f"rule {FOLLOW_AFTER_ENGAGEMENT.number}: {FOLLOW_AFTER_ENGAGEMENT.code}: "
    "a case reaches engaged only with a stored engagement event"
)
FIXED = (
    f"rule {HUMAN_APPROVAL.number}: {HUMAN_APPROVAL.code}: an outbox row's "
    "text, hash, kind, case and target are fixed once queued"
)
NOT_QUEUED = (
    f"rule {HUMAN_APPROVAL.number}: {HUMAN_APPROVAL.code}: an outbox row is queued only by "
    "its move (the case in its stage, the move's CaseEvent, for a text the approved draft)"
)
FINAL = (
    f"rule {ONE_UNSOLICITED.number}: {ONE_UNSOLICITED.code}: outbox state change %s refused "
    "(sent, failed and cancelled rows are final)"
)
APPEND_ONLY = f"outreach_caseevent is append-only (rule {AUDIT.number}: {AUDIT.code})"


def _postgresql(rules: Mapping[str, Any]) -> list[str]:
    c = _conditions(rules)
    erasing = _erasing("postgresql")

    def fail(message: str, *args: str) -> str:
        # check_violation: Django raises IntegrityError, as for a CHECK constraint.
        text = message.replace("%s", " -> ".join(["%"] * len(args))).replace("'", "''")
        params = "".join(f", {a}" for a in args)
        return f"RAISE EXCEPTION '{text}'{params} USING ERRCODE = 'check_violation';"

    return [
        f"""CREATE OR REPLACE FUNCTION outreach_case_stage_rules() RETURNS trigger AS $$
BEGIN
    IF NEW.stage = OLD.stage OR {c["checked_elsewhere"]} THEN
        RETURN NEW;
    END IF;
    IF {c["not_an_edge"]} THEN
        {fail(NOT_AN_EDGE, "OLD.stage", "NEW.stage")}
    END IF;
    IF {c["no_event"]} THEN
        {fail(NO_EVENT, "OLD.stage", "NEW.stage")}
    END IF;
    IF {c["not_engaged"]} THEN
        {fail(NOT_ENGAGED)}
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql""",
        """CREATE TRIGGER outreach_case_stage_rules
    BEFORE UPDATE OF stage ON outreach_case
    FOR EACH ROW EXECUTE FUNCTION outreach_case_stage_rules()""",
        f"""CREATE OR REPLACE FUNCTION outreach_outbox_rules() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NOT ({c["duplicate"]}) AND {c["not_queued_by_its_move"]} THEN
            {fail(NOT_QUEUED)}
        END IF;
        RETURN NEW;
    END IF;
    IF ({" OR ".join(f"NEW.{col} IS DISTINCT FROM OLD.{col}" for col in FIXED_OUTBOX_COLUMNS)})
       AND NOT ({erasing["outbox_text"]}) THEN
        {fail(FIXED)}
    END IF;
    IF {c["bad_state_change"]} THEN
        {fail(FINAL, "OLD.state", "NEW.state")}
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql""",
        """CREATE TRIGGER outreach_outbox_rules
    BEFORE INSERT OR UPDATE ON outreach_outboundaction
    FOR EACH ROW EXECUTE FUNCTION outreach_outbox_rules()""",
        f"""CREATE OR REPLACE FUNCTION outreach_caseevent_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND {erasing["event_note"]} THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '{APPEND_ONLY}';
END;
$$ LANGUAGE plpgsql""",
        """CREATE TRIGGER outreach_caseevent_append_only
    BEFORE UPDATE OR DELETE ON outreach_caseevent
    FOR EACH ROW EXECUTE FUNCTION outreach_caseevent_append_only()""",
    ]


def _sqlite(rules: Mapping[str, Any]) -> list[str]:
    c = _conditions(rules)

    def fail(message: str, when: str) -> str:
        # RAISE takes a literal on SQLite: the message names the rule, not the stages.
        text = message.replace(" %s", "").replace("'", "''")
        return f"SELECT RAISE(ABORT, '{text}') WHERE {when};"

    erasing = _erasing("sqlite")
    fixed = " OR ".join(f"NEW.{col} IS NOT OLD.{col}" for col in FIXED_OUTBOX_COLUMNS)
    fixed = f"({fixed}) AND NOT ({erasing['outbox_text']})"
    return [
        f"""CREATE TRIGGER outreach_case_stage_rules
    BEFORE UPDATE OF stage ON outreach_case FOR EACH ROW
    WHEN NEW.stage <> OLD.stage AND NOT ({c["checked_elsewhere"]})
BEGIN
    {fail(NOT_AN_EDGE, c["not_an_edge"])}
    {fail(NO_EVENT, c["no_event"])}
    {fail(NOT_ENGAGED, c["not_engaged"])}
END""",
        f"""CREATE TRIGGER outreach_outbox_queued_by_its_move
    BEFORE INSERT ON outreach_outboundaction FOR EACH ROW
    WHEN NOT ({c["duplicate"]})
BEGIN
    {fail(NOT_QUEUED, c["not_queued_by_its_move"])}
END""",
        f"""CREATE TRIGGER outreach_outbox_fixed
    BEFORE UPDATE ON outreach_outboundaction FOR EACH ROW
BEGIN
    {fail(FIXED, fixed)}
    {fail(FINAL, c["bad_state_change"])}
END""",
        f"""CREATE TRIGGER outreach_caseevent_append_only_update
    BEFORE UPDATE ON outreach_caseevent FOR EACH ROW
    WHEN NOT ({erasing["event_note"]})
BEGIN
    SELECT RAISE(ABORT, '{APPEND_ONLY}');
END""",
        f"""CREATE TRIGGER outreach_caseevent_append_only_delete
    BEFORE DELETE ON outreach_caseevent FOR EACH ROW
BEGIN
    SELECT RAISE(ABORT, '{APPEND_ONLY}');
END""",
    ]


_DROP = {
    "postgresql": [
        "DROP TRIGGER IF EXISTS outreach_case_stage_rules ON outreach_case",
        "DROP FUNCTION IF EXISTS outreach_case_stage_rules()",
        "DROP TRIGGER IF EXISTS outreach_outbox_rules ON outreach_outboundaction",
        "DROP FUNCTION IF EXISTS outreach_outbox_rules()",
        "DROP TRIGGER IF EXISTS outreach_caseevent_append_only ON outreach_caseevent",
        "DROP FUNCTION IF EXISTS outreach_caseevent_append_only()",
    ],
    "sqlite": [
        f"DROP TRIGGER IF EXISTS {name}"
        for name in (
            "outreach_case_stage_rules",
            "outreach_outbox_queued_by_its_move",
            "outreach_outbox_fixed",
            "outreach_caseevent_append_only_update",
            "outreach_caseevent_append_only_delete",
        )
    ],
}


def install_sql(vendor: str, rules: Mapping[str, Any]) -> list[str]:
    """The statements creating the rules' triggers on ``vendor`` (none on another database)."""
    generate = {"postgresql": _postgresql, "sqlite": _sqlite}.get(vendor)
    return generate(rules) if generate else []


def drop_sql(vendor: str) -> list[str]:
    """The statements removing them again."""
    return list(_DROP.get(vendor, []))


# --- The do-not-contact list and the erasure records (migration 0010) ----------------

DNC_NEVER_DELETED = (
    "outreach_donotcontact: an entry is removed with a reason, never deleted (rule 6)"
)
DNC_NEVER_EDITED = (
    "outreach_donotcontact is append-only: an entry is never edited, only removed once (rule 6)"
)
ERASURE_APPEND_ONLY = "erasure records and the erasure salt are never edited or deleted"
DNC_COLUMNS: tuple[str, ...] = (
    "id",
    "platform",
    "person_external_id",
    "handle",
    "id_hash",
    "handle_hash",
    "reason",
    "added_by_id",
    "created_at",
)
# An erasure changes these columns (names to hashes); a removal changes the removal ones.
DNC_ERASED_COLUMNS: tuple[str, ...] = (
    "person_external_id",
    "handle",
    "id_hash",
    "handle_hash",
    "reason",
)
DNC_REMOVAL_COLUMNS: tuple[str, ...] = ("removed_at", "removed_by_id", "removal_reason")
ERASURE_TABLES: tuple[str, ...] = ("outreach_erasure", "outreach_erasuresalt")


def _dnc_conditions(vendor: str) -> dict[str, str]:
    removal = "OLD.removed_at IS NULL AND NEW.removed_at IS NOT NULL AND " + _same(
        vendor, DNC_COLUMNS
    )
    erasing = (
        "NEW.person_external_id = '' AND NEW.handle = '' "  # noqa: S608 (constants only)
        f"AND OLD.id_hash = '' AND OLD.handle_hash = '' AND NEW.reason = '{ERASED}' AND "
        + _same(vendor, [c for c in DNC_COLUMNS if c not in DNC_ERASED_COLUMNS])
        + " AND "
        + _same(vendor, DNC_REMOVAL_COLUMNS)
        # Only to the hashes of an erasure on record (both, as the record holds them).
        + " AND EXISTS (SELECT 1 FROM outreach_erasure x WHERE x.platform = NEW.platform "
        "AND x.id_hash = NEW.id_hash AND x.handle_hash = NEW.handle_hash)"
    )
    return {"allowed": f"({removal}) OR ({erasing})"}


def privacy_install_sql(vendor: str) -> list[str]:
    """Triggers of the do-not-contact list and the erasure tables on ``vendor``.

    The list: no DELETE; an UPDATE is either the one removal (removal columns only,
    once) or an erasure (names to the hashes of an ``Erasure`` on record, the reason
    to ``[erased]``). Erasure records and the salt: no UPDATE, no DELETE.
    """
    allowed = _dnc_conditions(vendor)["allowed"]
    if vendor == "postgresql":
        statements = [
            f"""CREATE OR REPLACE FUNCTION outreach_donotcontact_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION '{DNC_NEVER_DELETED}';
    END IF;
    IF NOT ({allowed}) THEN
        RAISE EXCEPTION '{DNC_NEVER_EDITED}';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql""",
            """CREATE TRIGGER outreach_donotcontact_append_only
    BEFORE UPDATE OR DELETE ON outreach_donotcontact
    FOR EACH ROW EXECUTE FUNCTION outreach_donotcontact_append_only()""",
            f"""CREATE OR REPLACE FUNCTION outreach_erasure_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{ERASURE_APPEND_ONLY}';
END;
$$ LANGUAGE plpgsql""",
        ]
        statements += [
            f"""CREATE TRIGGER {table}_append_only
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION outreach_erasure_append_only()"""
            for table in ERASURE_TABLES
        ]
        return statements
    if vendor == "sqlite":
        statements = [
            f"""CREATE TRIGGER outreach_donotcontact_no_edit
    BEFORE UPDATE ON outreach_donotcontact FOR EACH ROW
    WHEN NOT ({allowed})
BEGIN
    SELECT RAISE(ABORT, '{DNC_NEVER_EDITED}');
END""",
            f"""CREATE TRIGGER outreach_donotcontact_no_delete
    BEFORE DELETE ON outreach_donotcontact FOR EACH ROW
BEGIN
    SELECT RAISE(ABORT, '{DNC_NEVER_DELETED}');
END""",
        ]
        for table in ERASURE_TABLES:
            statements += [
                f"""CREATE TRIGGER {table}_no_{op.lower()}
    BEFORE {op} ON {table} FOR EACH ROW
BEGIN
    SELECT RAISE(ABORT, '{ERASURE_APPEND_ONLY}');
END"""
                for op in ("UPDATE", "DELETE")
            ]
        return statements
    return []


def privacy_drop_sql(vendor: str) -> list[str]:
    """The statements removing them again (and migration 0009's list triggers)."""
    if vendor == "postgresql":
        return [
            "DROP TRIGGER IF EXISTS outreach_donotcontact_append_only ON outreach_donotcontact",
            "DROP FUNCTION IF EXISTS outreach_donotcontact_append_only()",
            *(f"DROP TRIGGER IF EXISTS {t}_append_only ON {t}" for t in ERASURE_TABLES),
            "DROP FUNCTION IF EXISTS outreach_erasure_append_only()",
        ]
    if vendor == "sqlite":
        return [
            "DROP TRIGGER IF EXISTS outreach_donotcontact_no_edit",
            "DROP TRIGGER IF EXISTS outreach_donotcontact_no_delete",
            *(
                f"DROP TRIGGER IF EXISTS {t}_no_{op}"
                for t in ERASURE_TABLES
                for op in ("update", "delete")
            ),
        ]
    return []


# --- The hold (migration 0010, case_hold) ---------------------------------------------------------

BAD_HOLDER = (
    f"rule {ONE_CONVERSATION.number}: {ONE_CONVERSATION.code}: a case is held only by an "
    "open own-brand case of the same person"
)


def _bad_holder() -> str:
    return (
        "NEW.held_by_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM outreach_case h "  # noqa: S608
        f"WHERE h.id = NEW.held_by_id AND h.kind = '{PlaybookKind.OWN_BRAND}' "
        f"AND h.person_id = NEW.person_id AND h.stage IN ({_quoted(OPEN_STAGES)}))"
    )


def hold_install_sql(vendor: str) -> list[str]:
    """The statements creating the hold's trigger on ``vendor`` (none on another database)."""
    if vendor == "postgresql":
        return [
            f"""CREATE OR REPLACE FUNCTION outreach_case_hold_rules() RETURNS trigger AS $$
BEGIN
    IF {_bad_holder()} THEN
        RAISE EXCEPTION '{BAD_HOLDER}' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql""",
            """CREATE TRIGGER outreach_case_hold_rules
    BEFORE INSERT OR UPDATE OF held_by_id ON outreach_case
    FOR EACH ROW EXECUTE FUNCTION outreach_case_hold_rules()""",
        ]
    if vendor == "sqlite":
        return [
            f"""CREATE TRIGGER outreach_case_hold_rules_{event.split()[0].lower()}
    BEFORE {event} ON outreach_case FOR EACH ROW WHEN {_bad_holder()}
BEGIN
    SELECT RAISE(ABORT, '{BAD_HOLDER}');
END"""
            for event in ("INSERT", "UPDATE OF held_by_id")
        ]
    return []


def hold_drop_sql(vendor: str) -> list[str]:
    """The statements removing the hold's trigger again."""
    return {
        "postgresql": [
            "DROP TRIGGER IF EXISTS outreach_case_hold_rules ON outreach_case",
            "DROP FUNCTION IF EXISTS outreach_case_hold_rules()",
        ],
        "sqlite": [
            "DROP TRIGGER IF EXISTS outreach_case_hold_rules_insert",
            "DROP TRIGGER IF EXISTS outreach_case_hold_rules_update",
        ],
    }.get(vendor, [])


# --- Tone-finding overrules (migration 0026) ------------------------------------------------

OVERRULE_FROZEN = (
    "outreach_findingoverrule is append-only: an overrule is never edited or deleted "
    "(forget_person may only erase its reason)"
)
OVERRULE_COLUMNS: tuple[str, ...] = (
    "id",
    "case_id",
    "draft_id",
    "code",
    "source",
    "text_hash",
    "actor_id",
    "created_at",
)


def _overrule_erasing(vendor: str) -> str:
    """The one edit allowed: ``forget_person`` replacing the reason by ``[erased]``."""
    return f"NEW.reason = '{ERASED}' AND " + _same(vendor, OVERRULE_COLUMNS)


def overrule_install_sql(vendor: str) -> list[str]:
    """Triggers keeping the overrules (the audit of what a reviewer let through) as written.

    No DELETE; an UPDATE only erases the reason and changes nothing else. Which codes can
    never be overruled is a CHECK constraint on the model, from ``FIRM_CODES``.
    """
    erasing = _overrule_erasing(vendor)
    if vendor == "postgresql":
        return [
            f"""CREATE OR REPLACE FUNCTION outreach_findingoverrule_append_only()
RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' OR NOT ({erasing}) THEN
        RAISE EXCEPTION '{OVERRULE_FROZEN}';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql""",
            """CREATE TRIGGER outreach_findingoverrule_append_only
    BEFORE UPDATE OR DELETE ON outreach_findingoverrule
    FOR EACH ROW EXECUTE FUNCTION outreach_findingoverrule_append_only()""",
        ]
    if vendor == "sqlite":
        return [
            f"""CREATE TRIGGER outreach_findingoverrule_no_edit
    BEFORE UPDATE ON outreach_findingoverrule FOR EACH ROW
    WHEN NOT ({erasing})
BEGIN
    SELECT RAISE(ABORT, '{OVERRULE_FROZEN}');
END""",
            f"""CREATE TRIGGER outreach_findingoverrule_no_delete
    BEFORE DELETE ON outreach_findingoverrule FOR EACH ROW
BEGIN
    SELECT RAISE(ABORT, '{OVERRULE_FROZEN}');
END""",
        ]
    return []


def overrule_drop_sql(vendor: str) -> list[str]:
    """The statements removing them again."""
    return {
        "postgresql": [
            "DROP TRIGGER IF EXISTS outreach_findingoverrule_append_only "
            "ON outreach_findingoverrule",
            "DROP FUNCTION IF EXISTS outreach_findingoverrule_append_only()",
        ],
        "sqlite": [
            "DROP TRIGGER IF EXISTS outreach_findingoverrule_no_edit",
            "DROP TRIGGER IF EXISTS outreach_findingoverrule_no_delete",
        ],
    }.get(vendor, [])
