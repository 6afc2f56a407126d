from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('minsheng', '0007_overdue_index')]

    initial = False

    operations = [
        ops.CreateModel(
            name='QuotaUse',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('subject', fields.CharField(max_length=96)),
                ('window_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('count', fields.IntField(default=0)),
            ],
            options={'table': 'quota_use', 'app': 'minsheng', 'unique_together': (('subject', 'window_start'),), 'indexes': [Index(fields=['window_start'])], 'pk_attr': 'id', 'table_description': 'How often a subject (an API key, a hashed client address) acted in one time window.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='ApiKey',
            name='per_day',
            field=fields.IntField(default=500),
        ),
        ops.AddField(
            model_name='ApiKey',
            name='per_minute',
            field=fields.IntField(default=10),
        ),
        ops.AddField(
            model_name='ApiKey',
            name='read_private',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='Case',
            name='erased_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Case',
            name='public_note',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name='Case',
            name='public_text',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name='Case',
            name='publish_consent',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='Citizen',
            name='forget_nonce',
            field=fields.CharField(null=True, max_length=32),
        ),
        ops.AlterModelOptions(
            name='WebSession',
            options={'table': 'web_session', 'app': 'minsheng', 'pk_attr': 'id', 'table_description': 'A signed-in dashboard session: the cookie carries its token, signed. Signing out ends it.'},
        ),
        # Session ids are stored hashed from now on: the sessions stored in the clear end here
        # (their holders sign in again).
        ops.RunSQL("DELETE FROM web_session", reverse_sql=""),
    ]
