"""Tortoise models of the self-routing desk: areas (属地), reply templates (答复模板),
callback attempts (回访) and disputes of ratings (差评复核).

Registered beside storage.models in the same app; rules live in the operation modules.
"""

from __future__ import annotations

from tortoise import fields

from storage.models import Case, Department, Record
from storage.sql import json_field


class Area(Record):
    """A district or street from the areas file (GeoJSON), with the department that handles
    local cases there. Rows are never deleted; an area left out of the file becomes inactive."""

    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=64, unique=True)
    parent: fields.ForeignKeyNullableRelation[Area] = fields.ForeignKeyField(
        "minsheng.Area", related_name="children", null=True, on_delete=fields.RESTRICT
    )
    kind = fields.CharField(max_length=16)  # "district" | "street"
    names: fields.JSONField[dict[str, str]] = json_field()  # en, zh_Hans, zh_Hant, ru
    department: fields.ForeignKeyRelation[Department] = fields.ForeignKeyField(
        "minsheng.Department", related_name="areas", on_delete=fields.RESTRICT
    )
    geometry: fields.JSONField[dict[str, object]] = json_field()  # a GeoJSON geometry
    active = fields.BooleanField(default=True)

    class Meta:
        table = "area"


class ReplyTemplate(Record):
    """A reply text staff fill in: per category (null: any) and outcome, in four languages,
    with placeholders ({number}, {department}, {due}, {category}). `auto` marks the automatic
    first reply of its category (outcome "received")."""

    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=64, unique=True)
    category_code = fields.CharField(max_length=64, null=True)
    outcome = fields.CharField(max_length=16)  # "answered" | "rejected" | "asked" | "received"
    texts: fields.JSONField[dict[str, str]] = json_field(default=dict)
    auto = fields.BooleanField(default=False)
    active = fields.BooleanField(default=True)
    version = fields.IntField(default=1)
    updated_at = fields.DatetimeField()
    updated_by = fields.BigIntField(null=True)  # who saved it on the dashboard (null: the file)

    class Meta:
        table = "reply_template"
        indexes = (("category_code", "outcome"),)


class CallbackAttempt(Record):
    """One try of a clerk to reach a citizen about an answered case (回访), reached or not."""

    id = fields.BigIntField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "minsheng.Case", related_name="callback_attempts", on_delete=fields.RESTRICT
    )
    staff_id = fields.BigIntField()
    reached = fields.BooleanField()
    method = fields.CharField(max_length=32)  # "phone" | "telegram" | "sms" | "visit" | ...
    note = fields.TextField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "callback_attempt"
        indexes = (("case_id", "created_at"),)


class Dispute(Record):
    """A department's dispute of an unsatisfied rating (差评复核), granted or refused by a
    supervisor. A granted one takes the case out of the department's figures."""

    id = fields.BigIntField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "minsheng.Case", related_name="disputes", on_delete=fields.RESTRICT
    )
    department: fields.ForeignKeyRelation[Department] = fields.ForeignKeyField(
        "minsheng.Department", related_name="disputes", on_delete=fields.RESTRICT
    )
    reason = fields.CharField(max_length=32)  # a code of the configured list
    text = fields.TextField(default="")
    filed_by = fields.BigIntField()
    filed_at = fields.DatetimeField()
    status = fields.CharField(max_length=16, default="pending")  # "granted" | "refused"
    decided_by = fields.BigIntField(null=True)
    decided_at = fields.DatetimeField(null=True)
    decision_note = fields.TextField(null=True)

    class Meta:
        table = "rating_dispute"
        indexes = (("department_id", "status"), ("status", "filed_at"))
