from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from storage.models import InboxStatus, OutboxStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='CatalogMeta',
            fields=[
                ('key', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('data', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('loaded_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'catalog_meta', 'app': 'minsheng', 'pk_attr': 'key', 'table_description': 'Catalogue-wide settings that are read whole: emergency numbers and keywords, the area.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Citizen',
            fields=[
                ('id', fields.BigIntField(primary_key=True, unique=True, db_index=True)),
                ('language', fields.CharField(max_length=16)),
                ('language_chosen', fields.BooleanField(default=False)),
                ('first_name', fields.CharField(default='', max_length=128)),
                ('phone', fields.CharField(null=True, max_length=32)),
                ('blocked', fields.BooleanField(default=False)),
                ('unreachable', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'citizen', 'app': 'minsheng', 'pk_attr': 'id', 'table_description': 'Anyone who talks to the bot (staff are citizens too, with a Staff row).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Department',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=64)),
                ('parent', fields.ForeignKeyField('minsheng.Department', source_field='parent_id', null=True, db_constraint=True, to_field='id', related_name='children', on_delete=OnDelete.RESTRICT)),
                ('names', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('active', fields.BooleanField(default=True)),
                ('review_required', fields.BooleanField(default=True)),
            ],
            options={'table': 'department', 'app': 'minsheng', 'pk_attr': 'id', 'table_description': 'A unit that handles cases, in a tree: city → bureau or district → office.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Category',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=64)),
                ('parent', fields.ForeignKeyField('minsheng.Category', source_field='parent_id', null=True, db_constraint=True, to_field='id', related_name='children', on_delete=OnDelete.RESTRICT)),
                ('names', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('department', fields.ForeignKeyField('minsheng.Department', source_field='department_id', null=True, db_constraint=True, to_field='id', related_name='categories', on_delete=OnDelete.RESTRICT)),
                ('time_limit_hours', fields.IntField(null=True)),
                ('time_limit_working_days', fields.IntField(null=True)),
                ('location_required', fields.BooleanField(default=False)),
                ('emergency', fields.BooleanField(default=False)),
                ('questions', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('sort', fields.IntField(default=0)),
                ('active', fields.BooleanField(default=True)),
            ],
            options={'table': 'category', 'app': 'minsheng', 'pk_attr': 'id', 'table_description': 'What a case is about: a domain (parent null) or one of its categories, from the catalogue.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Draft',
            fields=[
                ('citizen_id', fields.BigIntField(primary_key=True, unique=True, db_index=True)),
                ('step', fields.CharField(max_length=32)),
                ('data', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('reminded', fields.BooleanField(default=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'draft', 'app': 'minsheng', 'pk_attr': 'citizen_id', 'table_description': 'The conversation a citizen is in: its step and what they entered so far.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='InboxUpdate',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('update_id', fields.BigIntField(unique=True)),
                ('chat_key', fields.BigIntField()),
                ('payload', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharEnumField(default=InboxStatus.PENDING, description='PENDING: pending\nDONE: done\nFAILED: failed', enum_type=InboxStatus, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('error', fields.TextField(null=True, unique=False)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('handled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'inbox_update', 'app': 'minsheng', 'indexes': [Index(fields=['status', 'id']), Index(fields=['chat_key', 'received_at'])], 'pk_attr': 'id', 'table_description': 'An update from Telegram, stored before it is acknowledged.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OutboxMessage',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('chat_id', fields.BigIntField(null=True)),
                ('method', fields.CharField(max_length=32)),
                ('payload', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharEnumField(default=OutboxStatus.PENDING, description='PENDING: pending\nUNCERTAIN: uncertain\nSENT: sent\nFAILED: failed', enum_type=OutboxStatus, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('dedupe_key', fields.CharField(null=True, unique=True, max_length=128)),
                ('update_id', fields.BigIntField(null=True)),
                ('message_id', fields.BigIntField(null=True)),
                ('error', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'outbox_message', 'app': 'minsheng', 'indexes': [Index(fields=['status', 'id']), Index(fields=['chat_id', 'status'])], 'pk_attr': 'id', 'table_description': 'A call to the Bot API that a committed change wants made (usually a message).'},
            bases=['Model'],
        ),
    ]
