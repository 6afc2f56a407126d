import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("minsheng", "0013_now_queue_index")]

    initial = False

    operations = [
        ops.CreateModel(
            name="KbArticle",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("code", fields.CharField(unique=True, max_length=64)),
                (
                    "categories",
                    fields.JSONField(
                        default=list,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                (
                    "department",
                    fields.ForeignKeyField(
                        "minsheng.Department",
                        source_field="department_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="articles",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "titles",
                    fields.JSONField(
                        default=dict,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                (
                    "bodies",
                    fields.JSONField(
                        default=dict,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                (
                    "keywords",
                    fields.JSONField(
                        default=dict,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                ("review_by", fields.DateField()),
                ("helpful", fields.IntField(default=0)),
                ("not_helpful", fields.IntField(default=0)),
                ("active", fields.BooleanField(default=True)),
                ("updated_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("version", fields.IntField(default=1)),
            ],
            options={
                "table": "kb_article",
                "app": "minsheng",
                "pk_attr": "id",
                "table_description": "A knowledge-base article (知识库): an answer to a common question, offered to citizens",
            },
            bases=["Record"],
        ),
        ops.CreateModel(
            name="KbOffer",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("channel", fields.CharField(max_length=16)),
                ("citizen_id", fields.BigIntField(null=True)),
                ("staff_id", fields.BigIntField(null=True)),
                ("language", fields.CharField(max_length=8)),
                ("kind", fields.CharField(null=True, max_length=16)),
                ("category_code", fields.CharField(null=True, max_length=64)),
                (
                    "offered",
                    fields.JSONField(
                        default=list,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                (
                    "opened",
                    fields.JSONField(
                        default=list,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                (
                    "voted",
                    fields.JSONField(
                        default=dict,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                ("outcome", fields.CharField(null=True, max_length=16)),
                ("answered_by", fields.CharField(null=True, max_length=64)),
                (
                    "case",
                    fields.ForeignKeyField(
                        "minsheng.Case",
                        source_field="case_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="kb_offers",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                (
                    "decided_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "kb_offer",
                "app": "minsheng",
                "indexes": [Index(fields=["outcome", "created_at"])],
                "pk_attr": "id",
                "table_description": "Articles offered for one question, and how it ended: the citizen (or the call-taker)",
            },
            bases=["Record"],
        ),
        ops.CreateModel(
            name="KbRevision",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                (
                    "article",
                    fields.ForeignKeyField(
                        "minsheng.KbArticle",
                        source_field="article_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="revisions",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("version", fields.IntField()),
                (
                    "titles",
                    fields.JSONField(
                        default=dict,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                (
                    "bodies",
                    fields.JSONField(
                        default=dict,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                (
                    "keywords",
                    fields.JSONField(
                        default=dict,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                (
                    "categories",
                    fields.JSONField(
                        default=list,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                ("review_by", fields.DateField()),
                ("source", fields.CharField(max_length=16)),
                ("by_staff", fields.BigIntField(null=True)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "kb_revision",
                "app": "minsheng",
                "unique_together": (("article", "version"),),
                "pk_attr": "id",
                "table_description": "One version of an article, as loaded from a file or saved on the dashboard.",
            },
            bases=["Record"],
        ),
        ops.AddField(
            model_name="Case",
            name="public_photos",
            field=fields.JSONField(
                default=list,
                db_default="[]",
                encoder=functools.partial(dumps, separators=(",", ":")),
                decoder=loads,
            ),
        ),
        ops.AddField(
            model_name="Case",
            name="public_title",
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.AddField(
            model_name="Case",
            name="published_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="Case",
            name="published_by",
            field=fields.BigIntField(null=True),
        ),
        # Cases public before this migration (consent and a public text) stay public: their
        # publication time is their last change.
        ops.RunSQL(
            "UPDATE service_case SET published_at = updated_at"
            " WHERE publish_consent AND public_text IS NOT NULL AND public_text <> ''",
            reverse_sql="",
        ),
    ]
