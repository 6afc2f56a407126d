"""The self-routing desk: areas (属地) with their departments, a category's scope, a
department's topic or chat, the routing proposal's ground and outcome on a case, the suggested
category, the handler within a department (承办人), the callback queue (回访) and callback
attempts, ratings recorded by staff, rating disputes (差评复核) and reply templates."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('minsheng', '0015_board_search')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Area',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=64)),
                ('parent', fields.ForeignKeyField('minsheng.Area', source_field='parent_id', null=True, db_constraint=True, to_field='id', related_name='children', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharField(max_length=16)),
                ('names', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('department', fields.ForeignKeyField('minsheng.Department', source_field='department_id', db_constraint=True, to_field='id', related_name='areas', on_delete=OnDelete.RESTRICT)),
                ('geometry', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('active', fields.BooleanField(default=True)),
            ],
            options={'table': 'area', 'app': 'minsheng', 'pk_attr': 'id', 'table_description': 'A district or street from the areas file (GeoJSON), with the department that handles'},
            bases=['Record'],
        ),
        ops.CreateModel(
            name='CallbackAttempt',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('case', fields.ForeignKeyField('minsheng.Case', source_field='case_id', db_constraint=True, to_field='id', related_name='callback_attempts', on_delete=OnDelete.RESTRICT)),
                ('staff_id', fields.BigIntField()),
                ('reached', fields.BooleanField()),
                ('method', fields.CharField(max_length=32)),
                ('note', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'callback_attempt', 'app': 'minsheng', 'indexes': [Index(fields=['case_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'One try of a clerk to reach a citizen about an answered case (回访), reached or not.'},
            bases=['Record'],
        ),
        ops.CreateModel(
            name='Dispute',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('case', fields.ForeignKeyField('minsheng.Case', source_field='case_id', db_constraint=True, to_field='id', related_name='disputes', on_delete=OnDelete.RESTRICT)),
                ('department', fields.ForeignKeyField('minsheng.Department', source_field='department_id', db_constraint=True, to_field='id', related_name='disputes', on_delete=OnDelete.RESTRICT)),
                ('reason', fields.CharField(max_length=32)),
                ('text', fields.TextField(default='', unique=False)),
                ('filed_by', fields.BigIntField()),
                ('filed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('status', fields.CharField(default='pending', max_length=16)),
                ('decided_by', fields.BigIntField(null=True)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('decision_note', fields.TextField(null=True, unique=False)),
            ],
            options={'table': 'rating_dispute', 'app': 'minsheng', 'indexes': [Index(fields=['department_id', 'status']), Index(fields=['status', 'filed_at'])], 'pk_attr': 'id', 'table_description': "A department's dispute of an unsatisfied rating (差评复核), granted or refused by a"},
            bases=['Record'],
        ),
        ops.CreateModel(
            name='ReplyTemplate',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=64)),
                ('category_code', fields.CharField(null=True, max_length=64)),
                ('outcome', fields.CharField(max_length=16)),
                ('texts', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('auto', fields.BooleanField(default=False)),
                ('active', fields.BooleanField(default=True)),
                ('version', fields.IntField(default=1)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_by', fields.BigIntField(null=True)),
            ],
            options={'table': 'reply_template', 'app': 'minsheng', 'indexes': [Index(fields=['category_code', 'outcome'])], 'pk_attr': 'id', 'table_description': 'A reply text staff fill in: per category (null: any) and outcome, in four languages,'},
            bases=['Record'],
        ),
        ops.AddField(
            model_name='Case',
            name='area_code',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='Case',
            name='callback_due_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Case',
            name='handler_id',
            field=fields.BigIntField(null=True),
        ),
        ops.AddField(
            model_name='Case',
            name='proposal_outcome',
            field=fields.CharField(null=True, max_length=16),
        ),
        ops.AddField(
            model_name='Case',
            name='proposal_reason',
            field=fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='Case',
            name='suggested_category',
            field=fields.ForeignKeyField('minsheng.Category', source_field='suggested_category_id', null=True, db_constraint=True, to_field='id', related_name='suggested_cases', on_delete=OnDelete.RESTRICT),
        ),
        ops.AddIndex(
            model_name='Case',
            index=Index(fields=['handler_id', 'status']),
        ),
        ops.AddIndex(
            model_name='Case',
            index=Index(fields=['callback_due_at']),
        ),
        ops.AddField(
            model_name='Category',
            name='scope',
            field=fields.CharField(default='functional', db_default='functional', max_length=16),
        ),
        ops.AddField(
            model_name='Department',
            name='chat_id',
            field=fields.BigIntField(null=True),
        ),
        ops.AddField(
            model_name='Department',
            name='topic_id',
            field=fields.BigIntField(null=True),
        ),
        ops.AddField(
            model_name='Rating',
            name='contact_method',
            field=fields.CharField(null=True, max_length=32),
        ),
        ops.AddField(
            model_name='Rating',
            name='source',
            field=fields.CharField(default='citizen', db_default='citizen', max_length=16),
        ),
        ops.AddField(
            model_name='Rating',
            name='staff_id',
            field=fields.BigIntField(null=True),
        ),
    ]
