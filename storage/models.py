"""Tortoise models: the tables of the system of record.

Business rules live in the operation modules beside this one; a model only says what is stored.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model, ModelMeta

from storage.sql import json_field


class _Uncommented(ModelMeta):
    """Tortoise reads `#:` comments for each model from its source, parsing this whole module
    once per model (0.3 s at every start of every command); the models here keep none."""

    def __new__(mcs, name: str, bases: tuple[type, ...], attrs: dict[str, Any]) -> Any:
        attrs.setdefault("_no_comments", True)
        return super().__new__(mcs, name, bases, attrs)


class Record(Model, metaclass=_Uncommented):
    """The base of every table here."""

    class Meta:
        abstract = True


class InboxStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    UNCERTAIN = "uncertain"  # a send timed out: it may have been delivered
    SENT = "sent"
    FAILED = "failed"  # permanent: blocked, bad request, given up


class Citizen(Record):
    """Anyone who talks to the bot (staff are citizens too, with a Staff row)."""

    id = fields.BigIntField(primary_key=True, generated=False)  # Telegram user id
    language = fields.CharField(max_length=16)
    language_chosen = fields.BooleanField(default=False)
    first_name = fields.CharField(max_length=128, default="")
    phone = fields.CharField(max_length=32, null=True)
    blocked = fields.BooleanField(default=False)  # barred by staff
    unreachable = fields.BooleanField(default=False)  # they blocked the bot
    # /forget asks to confirm with a button that carries this one-time value, so that a forged
    # or replayed "yes" erases nothing.
    forget_nonce = fields.CharField(max_length=32, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "citizen"


class Draft(Record):
    """The conversation a citizen is in: its step and what they entered so far."""

    citizen_id = fields.BigIntField(primary_key=True, generated=False)
    step = fields.CharField(max_length=32)
    data: fields.JSONField[dict[str, object]] = json_field(default=dict)
    reminded = fields.BooleanField(default=False)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "draft"


class InboxUpdate(Record):
    """An update from Telegram, stored before it is acknowledged."""

    id = fields.BigIntField(primary_key=True)
    update_id = fields.BigIntField(unique=True)
    chat_key = fields.BigIntField()  # chat id, else user id, else 0: the unit of ordering
    payload: fields.JSONField[dict[str, object]] = json_field()
    status = fields.CharEnumField(InboxStatus, max_length=16, default=InboxStatus.PENDING)
    attempts = fields.IntField(default=0)
    error = fields.TextField(null=True)
    received_at = fields.DatetimeField()
    handled_at = fields.DatetimeField(null=True)

    class Meta:
        table = "inbox_update"
        indexes = (("status", "id"), ("chat_key", "received_at"))


class OutboxMessage(Record):
    """A call to the Bot API that a committed change wants made (usually a message)."""

    id = fields.BigIntField(primary_key=True)
    chat_id = fields.BigIntField(null=True)
    method = fields.CharField(max_length=32)
    payload: fields.JSONField[dict[str, object]] = json_field()
    status = fields.CharEnumField(OutboxStatus, max_length=16, default=OutboxStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    dedupe_key = fields.CharField(max_length=128, null=True, unique=True)
    update_id = fields.BigIntField(null=True)  # the inbound update that caused it
    message_id = fields.BigIntField(null=True)
    error = fields.TextField(null=True)
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)
    # "<card>:<tracking>" on a group message whose buttons act on a case (storage.stale_buttons
    # finds it by this and takes the buttons away once the case has moved on).
    about = fields.CharField(max_length=32, null=True)

    class Meta:
        table = "outbox_message"
        indexes = (("status", "id"), ("chat_id", "status"), ("about",))


class Department(Record):
    """A unit that handles cases, in a tree: city → bureau or district → office.

    Rows are never deleted: a department dropped from the catalogue file is marked inactive, so
    the cases it handled keep their department.
    """

    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=64, unique=True)  # the stable key in the catalogue file
    parent: fields.ForeignKeyNullableRelation[Department] = fields.ForeignKeyField(
        "minsheng.Department", related_name="children", null=True, on_delete=fields.RESTRICT
    )
    names: fields.JSONField[dict[str, str]] = json_field()  # en, zh_Hans, zh_Hant, ru
    active = fields.BooleanField(default=True)
    review_required = fields.BooleanField(default=True)  # its replies go to supervisors first
    # Where its staff-chat cards go: a topic of the staff group (a forum) or a chat of its own;
    # neither means the staff group itself.
    topic_id = fields.BigIntField(null=True)  # message_thread_id, named or created by the bot
    chat_id = fields.BigIntField(null=True)

    class Meta:
        table = "department"


class Category(Record):
    """What a case is about: a domain (parent null) or one of its categories, from the catalogue.

    A leaf category carries the default department and the time limit: hours or working days,
    exactly one of them (neither for an emergency, which is diverted instead of filed). Rows are
    never deleted; dropped codes become inactive.
    """

    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=64, unique=True)
    parent: fields.ForeignKeyNullableRelation[Category] = fields.ForeignKeyField(
        "minsheng.Category", related_name="children", null=True, on_delete=fields.RESTRICT
    )
    names: fields.JSONField[dict[str, str]] = json_field()
    department: fields.ForeignKeyNullableRelation[Department] = fields.ForeignKeyField(
        "minsheng.Department", related_name="categories", null=True, on_delete=fields.RESTRICT
    )
    time_limit_hours = fields.IntField(null=True)
    time_limit_working_days = fields.IntField(null=True)
    location_required = fields.BooleanField(default=False)
    emergency = fields.BooleanField(default=False)  # divert to emergency numbers, never file
    # The category's own typed fields (number, date, choice, text), later Open311 attributes.
    questions: fields.JSONField[list[dict[str, object]]] = json_field(default=list)
    sort = fields.IntField(default=0)
    active = fields.BooleanField(default=True)
    # "functional": to its department wherever the place; "local" (属地): to the department of
    # the area the place is in (storage's areas file), else to its department.
    scope = fields.CharField(max_length=16, default="functional", db_default="functional")

    class Meta:
        table = "category"


class CatalogMeta(Record):
    """Catalogue-wide settings that are read whole: emergency numbers and keywords, the area.

    One row per key ("default"); a JSON document rather than tables because nothing ever queries
    inside it, it is small, and it is always replaced whole when the file is loaded.
    """

    key = fields.CharField(max_length=32, primary_key=True)
    data: fields.JSONField[dict[str, object]] = json_field()
    loaded_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "catalog_meta"


class CaseKind(StrEnum):
    COMPLAINT = "complaint"  # 投诉
    REPORT = "report"  # 反映
    INQUIRY = "inquiry"  # 咨询
    SUGGESTION = "suggestion"  # 建议


class CaseStatus(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    AWAITING_CITIZEN = "awaiting_citizen"
    ANSWERED = "answered"
    CLOSED = "closed"
    REJECTED = "rejected"
    MERGED = "merged"


class Actor(StrEnum):
    CITIZEN = "citizen"
    STAFF = "staff"
    SYSTEM = "system"


class Case(Record):
    """A citizen's request (诉求), from submission to its end: closed, rejected or merged.

    `citizen` becomes null when the citizen asks to be forgotten; kind, category, department,
    status and times stay so statistics stay true. `version` grows with every change so that
    concurrent staff actions can detect each other (optimistic locking).
    """

    id = fields.BigIntField(primary_key=True)
    tracking = fields.CharField(max_length=12, unique=True)  # canonical, no dashes
    citizen: fields.ForeignKeyNullableRelation[Citizen] = fields.ForeignKeyField(
        "minsheng.Citizen", related_name="cases", null=True, on_delete=fields.SET_NULL
    )
    kind = fields.CharEnumField(CaseKind, max_length=16)
    category: fields.ForeignKeyRelation[Category] = fields.ForeignKeyField(
        "minsheng.Category", related_name="cases", on_delete=fields.RESTRICT
    )
    # Set when the case is accepted (assigned); until then staff are offered the proposed one.
    department: fields.ForeignKeyNullableRelation[Department] = fields.ForeignKeyField(
        "minsheng.Department", related_name="cases", null=True, on_delete=fields.RESTRICT
    )
    proposed_department: fields.ForeignKeyNullableRelation[Department] = fields.ForeignKeyField(
        "minsheng.Department",
        related_name="proposed_cases",
        null=True,
        on_delete=fields.RESTRICT,
    )
    status = fields.CharEnumField(CaseStatus, max_length=16, default=CaseStatus.SUBMITTED)
    text = fields.TextField()
    photos: fields.JSONField[list[str]] = json_field(default=list)  # Telegram file_ids
    # Voice, video, audio and documents: storage.attachments.Attachment.as_json() each.
    attachments: fields.JSONField[list[dict[str, object]]] = json_field(
        default=list,
        db_default="[]",  # a database default: cases filed before it have none
    )
    latitude = fields.FloatField(null=True)
    longitude = fields.FloatField(null=True)
    address = fields.CharField(max_length=512, null=True)
    answers: fields.JSONField[dict[str, object]] = json_field(default=dict)
    phone = fields.CharField(max_length=32, null=True)
    anonymous = fields.BooleanField(default=False)
    channel = fields.CharField(max_length=16, default="telegram")
    # Publication (公开): only with the citizen's consent, and then only the public text and
    # note that staff wrote or approved; never `text` or the private answer. A case is
    # published when it has consent and a public text.
    publish_consent = fields.BooleanField(default=False)
    public_text = fields.TextField(null=True)
    public_note = fields.TextField(null=True)
    # The public board (/board/): the title staff wrote, when and by whom it was published, and
    # the photos they ticked for publication (file_ids among `photos`).
    public_title = fields.CharField(max_length=200, null=True)
    published_at = fields.DatetimeField(null=True)
    published_by = fields.BigIntField(null=True)
    public_photos: fields.JSONField[list[str]] = json_field(default=list, db_default="[]")
    erased_at = fields.DatetimeField(null=True)  # the citizen's words erased on request
    created_at = fields.DatetimeField()
    accepted_at = fields.DatetimeField(null=True)
    due_at = fields.DatetimeField(null=True)
    answered_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)
    reopen_count = fields.IntField(default=0)
    transfer_count = fields.IntField(default=0)
    repeat = fields.BooleanField(default=False)  # flagged for the coordination meeting
    # Routing (hotline style): the lead department (`department`) signs for the case (签收)
    # by `sign_due_at`, or returns it as misrouted (退单); co-handling departments are rows of
    # CoHandling. A case transferred too often is routed by hand by a supervisor.
    signed_at = fields.DatetimeField(null=True)
    sign_due_at = fields.DatetimeField(null=True)
    route_by_hand = fields.BooleanField(default=False)
    # Time limits: acceptance is due by `accept_due_at` (set at submission); `due_at` is the
    # answer deadline (set at acceptance, moved by pauses and granted extensions).
    accept_due_at = fields.DatetimeField(null=True)
    first_answered_at = fields.DatetimeField(null=True)  # never reset by a reopen
    urgent = fields.BooleanField(default=False)
    paused_at = fields.DatetimeField(null=True)  # awaiting the citizen since: the clock stops
    extension_count = fields.IntField(default=0)  # granted extensions (延期)
    extension_pending = fields.BooleanField(default=False)
    # What the deadline sweeps have done for the current deadline (cleared when it moves).
    due_reminded_at = fields.DatetimeField(null=True)
    escalated_at = fields.DatetimeField(null=True)
    accept_escalated_at = fields.DatetimeField(null=True)
    supporters = fields.IntField(default=0)  # citizens who joined the case as theirs too
    duplicate_of: fields.ForeignKeyNullableRelation[Case] = fields.ForeignKeyField(
        "minsheng.Case", related_name="duplicates", null=True, on_delete=fields.SET_NULL
    )
    # The routing proposal's ground: {"kind": "local", "area": code} or {"kind": "functional"}
    # or {"kind": "category"} (no place); and how staff took it: "accepted" | "changed".
    proposal_reason: fields.JSONField[dict[str, object]] = json_field(null=True)
    proposal_outcome = fields.CharField(max_length=16, null=True)
    area_code = fields.CharField(max_length=64, null=True)  # the smallest area holding the place
    # The category the description reads as, when it is not the one the citizen chose.
    suggested_category: fields.ForeignKeyNullableRelation[Category] = fields.ForeignKeyField(
        "minsheng.Category", related_name="suggested_cases", null=True, on_delete=fields.RESTRICT
    )
    handler_id = fields.BigIntField(null=True)  # the staff member handling it (承办人)
    callback_due_at = fields.DatetimeField(null=True)  # in the callback queue (回访) from then
    version = fields.IntField(default=0)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "service_case"
        indexes = (
            ("citizen_id", "created_at"),
            ("status", "category_id"),
            ("due_at",),
            ("created_at",),
            # The /queue pages of open cases (a department's, the overdue ones): the page's ids
            # come from these indexes alone. Without `id` in them PostgreSQL walks the primary
            # key in id order instead, past every closed case before the recent open ones
            # (100k cases: 30 ms → 0.4 ms); with `due_at`, a department's overdue cases are
            # counted without reading the table (SQLite, 1M cases: 2.7 ms → 0.05 ms).
            ("department_id", "status", "due_at", "id"),
            # The overdue queue (open and past due), and a supervisor's "now" queue (new,
            # overdue or to route by hand) from the index alone (SQLite, 1M cases, p99 of a
            # page: 38 ms → 13 ms).
            ("status", "due_at", "id", "route_by_hand"),
            ("handler_id", "status"),
            ("callback_due_at",),
            # /stats for a period (storage.stats_counts): every column its figures read, by
            # department and time of filing, so a month comes from this index alone, one
            # department after another, and nothing is sorted (SQLite, 1M cases, a month of
            # 34k: 520 → 260 ms of CPU with the percentiles sorted in Python; 270 MB).
            (
                "department_id",
                "created_at",
                "proposed_department_id",
                "status",
                "accepted_at",
                "sign_due_at",
                "signed_at",
                "due_at",
                "first_answered_at",
                "answered_at",
                "closed_at",
                "reopen_count",
                "proposal_outcome",
                "id",
            ),
        )


class Event(Record):
    """One thing that happened to a case, with who did it: the audit trail and the timeline.

    `public` events are the ones a citizen sees; internal notes and audit entries are not.
    """

    id = fields.BigIntField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "minsheng.Case", related_name="events", on_delete=fields.RESTRICT
    )
    kind = fields.CharField(max_length=32)  # submitted, citizen_added, accepted, ...
    actor = fields.CharEnumField(Actor, max_length=16)
    actor_id = fields.BigIntField(null=True)  # the Telegram user id of a citizen or staff member
    payload: fields.JSONField[dict[str, object]] = json_field(default=dict)
    public = fields.BooleanField(default=False)
    created_at = fields.DatetimeField()

    class Meta:
        table = "case_event"
        indexes = (("case_id", "id"),)


class TrackingLookup(Record):
    """A citizen asked for a case by number and it was not theirs (or does not exist).

    The audit of row 22 (who looked up someone else's case) and the count behind the per-citizen
    lookup limit of row 23. Lookups of one's own cases are not recorded: they reveal nothing.
    """

    id = fields.BigIntField(primary_key=True)
    citizen_id = fields.BigIntField()
    tracking = fields.CharField(max_length=12)  # canonical
    foreign = fields.BooleanField()  # the case exists and belongs to someone else
    created_at = fields.DatetimeField()

    class Meta:
        table = "tracking_lookup"
        indexes = (("citizen_id", "created_at"),)


class StaffRole(StrEnum):
    HANDLER = "handler"  # works the cases of their department
    SUPERVISOR = "supervisor"  # routes, reviews and chases (in a subtree, or everywhere)
    ADMIN = "admin"  # everything, including who is staff


class Staff(Record):
    """A staff member: a Telegram user with a role and, for handlers, their department.

    A supervisor's department limits them to that subtree of the department tree (null: all of
    it). Rows are never deleted: removal clears `active`, so the audit trail keeps its people.
    """

    user_id = fields.BigIntField(primary_key=True, generated=False)  # Telegram user id
    role = fields.CharEnumField(StaffRole, max_length=16)
    department: fields.ForeignKeyNullableRelation[Department] = fields.ForeignKeyField(
        "minsheng.Department", related_name="staff", null=True, on_delete=fields.RESTRICT
    )
    active = fields.BooleanField(default=True)
    added_by = fields.BigIntField(null=True)  # null for the admins named in the settings
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "staff"


class AccessDenial(Record):
    """A staff action refused for lack of a role or department (the access audit).

    Kept apart from case events so that denials without a case (staff management, bans) and
    denials to non-staff users are recorded too; a denial on a case also gets a private event.
    """

    id = fields.BigIntField(primary_key=True)
    user_id = fields.BigIntField()
    action = fields.CharField(max_length=32)
    tracking = fields.CharField(max_length=12, null=True)  # canonical, when a case was named
    reason = fields.CharField(max_length=32)
    created_at = fields.DatetimeField()

    class Meta:
        table = "access_denial"
        indexes = (("user_id", "created_at"),)


class RatingSolved(StrEnum):
    SOLVED = "solved"
    PARTLY = "partly"
    NOT_SOLVED = "not_solved"


class RatingSatisfaction(StrEnum):
    SATISFIED = "satisfied"
    BASIC = "basic"  # basically satisfied
    UNSATISFIED = "unsatisfied"


class Rating(Record):
    """The citizen's rating of the answer (回访): one per case, written once per answer.

    After a reopen and a new answer the same row is rated afresh; once the case is closed it
    cannot change (storage.rating enforces both).
    """

    id = fields.BigIntField(primary_key=True)
    case: fields.OneToOneRelation[Case] = fields.OneToOneField(
        "minsheng.Case", related_name="rating", on_delete=fields.RESTRICT
    )
    solved = fields.CharEnumField(RatingSolved, max_length=16)
    satisfaction = fields.CharEnumField(RatingSatisfaction, max_length=16)
    comment = fields.TextField(null=True)
    rated_at = fields.DatetimeField()
    citizen_id = fields.BigIntField(null=True)  # the Telegram user id of who rated
    # "citizen" (in the chat) or "staff" (a callback recorded by a clerk, staff_id).
    source = fields.CharField(max_length=16, default="citizen", db_default="citizen")
    staff_id = fields.BigIntField(null=True)
    contact_method = fields.CharField(max_length=32, null=True)  # how a callback reached them

    class Meta:
        table = "case_rating"


class CoHandling(Record):
    """A co-handling department (协办) of a case, beside the lead department (the case's own).

    Its staff see the case and add their input as notes; the lead department answers.
    """

    id = fields.BigIntField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "minsheng.Case", related_name="co_handlers", on_delete=fields.RESTRICT
    )
    department: fields.ForeignKeyRelation[Department] = fields.ForeignKeyField(
        "minsheng.Department", related_name="co_handled", on_delete=fields.RESTRICT
    )
    added_by = fields.BigIntField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "case_co_department"
        unique_together = (("case", "department"),)


class CaseFollower(Record):
    """A citizen who joined someone else's open case as theirs too: told of its every move."""

    id = fields.BigIntField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "minsheng.Case", related_name="followers", on_delete=fields.RESTRICT
    )
    citizen_id = fields.BigIntField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "case_follower"
        unique_together = (("case", "citizen_id"),)
        indexes = (("citizen_id",),)


class SweepMark(Record):
    """A once-per-period job that is done (a day's overdue list, a week's digest), by key.

    Written in the same transaction as the job's messages, so a sweep that runs twice, or a
    restart in between, sends nothing twice.
    """

    key = fields.CharField(max_length=64, primary_key=True)
    done_at = fields.DatetimeField()

    class Meta:
        table = "sweep_mark"


class ApiKey(Record):
    """A key another channel of the desk uses to file requests through Open311.

    Only a hash of the key is kept: the key itself is shown once, when it is issued.
    """

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=64, unique=True)  # who holds it: "web-form", "hotline"
    key_hash = fields.CharField(max_length=64, unique=True)  # sha256 hex of the key
    active = fields.BooleanField(default=True)
    # A partner system's key may read the status of private cases (never their text or notes).
    read_private = fields.BooleanField(default=False)
    per_minute = fields.IntField(default=10)  # filings a key may make a minute, and a day
    per_day = fields.IntField(default=500)
    created_at = fields.DatetimeField()
    last_used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_key"


class QuotaUse(Record):
    """How often a subject (an API key, a hashed client address) acted in one time window.

    Counted in the database so that every worker sees the same quota; old windows are purged
    by the retention sweep.
    """

    id = fields.BigIntField(primary_key=True)
    subject = fields.CharField(max_length=96)
    window_start = fields.DatetimeField()
    count = fields.IntField(default=0)

    class Meta:
        table = "quota_use"
        unique_together = (("subject", "window_start"),)
        indexes = (("window_start",),)


class WebLogin(Record):
    """A one-time sign-in link for the staff dashboard, asked for with /web.

    Only the token's hash is kept; it works once, within minutes, for an active staff member.
    """

    token_hash = fields.CharField(max_length=64, primary_key=True)
    user_id = fields.BigIntField()
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "web_login"


class WebSession(Record):
    """A signed-in dashboard session: the cookie carries its token, signed. Signing out ends it.

    Only the token's hash is kept, as the id: a copy of the database signs nobody in.
    """

    id = fields.CharField(max_length=64, primary_key=True)  # sha256 hex of the cookie's token
    user_id = fields.BigIntField()
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    ended_at = fields.DatetimeField(null=True)

    class Meta:
        table = "web_session"


class ClaimCode(Record):
    """The code a caller gets with a case filed for them by phone, to follow it in the bot.

    Only its hash is kept; it links the case to the first Telegram account that gives it
    together with the tracking number, once.
    """

    case: fields.OneToOneRelation[Case] = fields.OneToOneField(
        "minsheng.Case", related_name="claim_code", on_delete=fields.RESTRICT, primary_key=True
    )
    code_hash = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()
    claimed_at = fields.DatetimeField(null=True)
    claimed_by = fields.BigIntField(null=True)

    class Meta:
        table = "claim_code"


class WorkerBeat(Record):
    """One running Minsheng process, as it last reported itself: what /healthz shows of the
    cluster. Each process rewrites its row every few seconds; a row that stops changing is a
    process that stopped (rows of processes gone for a day are removed)."""

    name = fields.CharField(max_length=128, primary_key=True)  # host:pid:start
    started_at = fields.DatetimeField()
    beat_at = fields.DatetimeField()
    leader = fields.BooleanField(default=False)  # sends, sweeps and polls for the desk
    # Seconds since each of its loops last went round, as of beat_at (None: not running here).
    loops: fields.JSONField[dict[str, object]] = json_field(default=dict)

    class Meta:
        table = "worker_beat"


class KbArticle(Record):
    """A knowledge-base article (知识库): an answer to a common question, offered to citizens
    before a case is filed and to staff as a reply. Loaded from a file (`minsheng kb load`) and
    edited by its owning department on the dashboard; every version is kept (KbRevision).

    `titles`, `bodies` and `keywords` are keyed by language (en, zh_Hans, zh_Hant, ru); a
    language without a text falls back to the desk's default language. A code left out of a
    reloaded file is marked inactive, never deleted (offers name it).
    """

    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=64, unique=True)
    categories: fields.JSONField[list[str]] = json_field(default=list)  # category codes
    department: fields.ForeignKeyNullableRelation[Department] = fields.ForeignKeyField(
        "minsheng.Department", related_name="articles", null=True, on_delete=fields.RESTRICT
    )
    titles: fields.JSONField[dict[str, str]] = json_field(default=dict)
    bodies: fields.JSONField[dict[str, str]] = json_field(default=dict)
    keywords: fields.JSONField[dict[str, list[str]]] = json_field(default=dict)
    review_by = fields.DateField()
    helpful = fields.IntField(default=0)
    not_helpful = fields.IntField(default=0)
    active = fields.BooleanField(default=True)
    updated_at = fields.DatetimeField()
    version = fields.IntField(default=1)

    class Meta:
        table = "kb_article"


class KbRevision(Record):
    """One version of an article, as loaded from a file or saved on the dashboard."""

    id = fields.BigIntField(primary_key=True)
    article: fields.ForeignKeyRelation[KbArticle] = fields.ForeignKeyField(
        "minsheng.KbArticle", related_name="revisions", on_delete=fields.CASCADE
    )
    version = fields.IntField()
    titles: fields.JSONField[dict[str, str]] = json_field(default=dict)
    bodies: fields.JSONField[dict[str, str]] = json_field(default=dict)
    keywords: fields.JSONField[dict[str, list[str]]] = json_field(default=dict)
    categories: fields.JSONField[list[str]] = json_field(default=list)
    review_by = fields.DateField()
    source = fields.CharField(max_length=16)  # "file" or "dashboard"
    by_staff = fields.BigIntField(null=True)  # who saved it on the dashboard
    created_at = fields.DatetimeField()

    class Meta:
        table = "kb_revision"
        unique_together = (("article", "version"),)


class KbOffer(Record):
    """Articles offered for one question, and how it ended: the citizen (or the call-taker)
    found the answer (a deflection: no case), filed a request anyway, or left it open.

    It keeps no words of the question, only the codes offered, opened and voted on. `citizen`
    is who was offered them in the chat (nulled by /forget); `staff` the call-taker on the
    phone page.
    """

    id = fields.BigIntField(primary_key=True)
    channel = fields.CharField(max_length=16)  # "intake" | "text" (outside a request) | "phone"
    citizen_id = fields.BigIntField(null=True)
    staff_id = fields.BigIntField(null=True)
    language = fields.CharField(max_length=8)
    kind = fields.CharField(max_length=16, null=True)  # the request's kind, when in one
    category_code = fields.CharField(max_length=64, null=True)
    offered: fields.JSONField[list[str]] = json_field(default=list)  # article codes, ranked
    opened: fields.JSONField[list[str]] = json_field(default=list)
    voted: fields.JSONField[dict[str, bool]] = json_field(default=dict)  # code → helpful
    outcome = fields.CharField(max_length=16, null=True)  # "answered" | "filed" | None (open)
    answered_by = fields.CharField(max_length=64, null=True)  # the article that answered
    case: fields.ForeignKeyNullableRelation[Case] = fields.ForeignKeyField(
        "minsheng.Case", related_name="kb_offers", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField()
    decided_at = fields.DatetimeField(null=True)

    class Meta:
        table = "kb_offer"
        indexes = (("outcome", "created_at"),)
