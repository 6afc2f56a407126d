from tortoise import migrations
from tortoise.migrations import operations as ops
from storage.models import StaffRole
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('minsheng', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AccessDenial',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user_id', fields.BigIntField()),
                ('action', fields.CharField(max_length=32)),
                ('tracking', fields.CharField(null=True, max_length=12)),
                ('reason', fields.CharField(max_length=32)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'access_denial', 'app': 'minsheng', 'indexes': [Index(fields=['user_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'A staff action refused for lack of a role or department (the access audit).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Staff',
            fields=[
                ('user_id', fields.BigIntField(primary_key=True, generated=False, unique=True, db_index=True)),
                ('role', fields.CharEnumField(description='HANDLER: handler\nSUPERVISOR: supervisor\nADMIN: admin', enum_type=StaffRole, max_length=16)),
                ('department', fields.ForeignKeyField('minsheng.Department', source_field='department_id', null=True, db_constraint=True, to_field='id', related_name='staff', on_delete=OnDelete.RESTRICT)),
                ('active', fields.BooleanField(default=True)),
                ('added_by', fields.BigIntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'staff', 'app': 'minsheng', 'pk_attr': 'user_id', 'table_description': 'A staff member: a Telegram user with a role and, for handlers, their department.'},
            bases=['Model'],
        ),
    ]
