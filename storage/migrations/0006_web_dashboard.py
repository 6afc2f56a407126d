from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('minsheng', '0005_api_keys')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ClaimCode',
            fields=[
                ('case', fields.OneToOneField('minsheng.Case', source_field='case_id', primary_key=True, db_index=True, db_constraint=True, to_field='id', related_name='claim_code', on_delete=OnDelete.RESTRICT)),
                ('code_hash', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('claimed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('claimed_by', fields.BigIntField(null=True)),
            ],
            options={'table': 'claim_code', 'app': 'minsheng', 'pk_attr': 'case_id', 'table_description': 'The code a caller gets with a case filed for them by phone, to follow it in the bot.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebLogin',
            fields=[
                ('token_hash', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('user_id', fields.BigIntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'web_login', 'app': 'minsheng', 'pk_attr': 'token_hash', 'table_description': 'A one-time sign-in link for the staff dashboard, asked for with /web.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebSession',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('user_id', fields.BigIntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ended_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'web_session', 'app': 'minsheng', 'pk_attr': 'id', 'table_description': 'A signed-in dashboard session: the cookie carries its id, signed. Signing out ends it.'},
            bases=['Model'],
        ),
    ]
