from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('minsheng', '0003_rating')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CaseFollower',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('case', fields.ForeignKeyField('minsheng.Case', source_field='case_id', db_constraint=True, to_field='id', related_name='followers', on_delete=OnDelete.RESTRICT)),
                ('citizen_id', fields.BigIntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'case_follower', 'app': 'minsheng', 'unique_together': (('case', 'citizen_id'),), 'indexes': [Index(fields=['citizen_id'])], 'pk_attr': 'id', 'table_description': "A citizen who joined someone else's open case as theirs too: told of its every move."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CoHandling',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('case', fields.ForeignKeyField('minsheng.Case', source_field='case_id', db_constraint=True, to_field='id', related_name='co_handlers', on_delete=OnDelete.RESTRICT)),
                ('department', fields.ForeignKeyField('minsheng.Department', source_field='department_id', db_constraint=True, to_field='id', related_name='co_handled', on_delete=OnDelete.RESTRICT)),
                ('added_by', fields.BigIntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'case_co_department', 'app': 'minsheng', 'unique_together': (('case', 'department'),), 'pk_attr': 'id', 'table_description': "A co-handling department (协办) of a case, beside the lead department (the case's own)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SweepMark',
            fields=[
                ('key', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('done_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'sweep_mark', 'app': 'minsheng', 'pk_attr': 'key', 'table_description': "A once-per-period job that is done (a day's overdue list, a week's digest), by key."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Case',
            name='accept_due_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Case',
            name='accept_escalated_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Case',
            name='due_reminded_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Case',
            name='escalated_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Case',
            name='extension_count',
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name='Case',
            name='extension_pending',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='Case',
            name='first_answered_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Case',
            name='paused_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Case',
            name='route_by_hand',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='Case',
            name='sign_due_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Case',
            name='signed_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Case',
            name='supporters',
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name='Case',
            name='urgent',
            field=fields.BooleanField(default=False),
        ),
        ops.AddIndex(
            model_name='Case',
            index=Index(fields=['created_at']),
        ),
        ops.AddIndex(
            model_name='Case',
            index=Index(fields=['department_id', 'status']),
        ),
    ]
