from tortoise import migrations
from tortoise.migrations import operations as ops
from storage.models import RatingSatisfaction, RatingSolved
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('minsheng', '0002_staff_desk')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Rating',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('case', fields.OneToOneField('minsheng.Case', source_field='case_id', db_constraint=True, to_field='id', related_name='rating', on_delete=OnDelete.RESTRICT)),
                ('solved', fields.CharEnumField(description='SOLVED: solved\nPARTLY: partly\nNOT_SOLVED: not_solved', enum_type=RatingSolved, max_length=16)),
                ('satisfaction', fields.CharEnumField(description='SATISFIED: satisfied\nBASIC: basic\nUNSATISFIED: unsatisfied', enum_type=RatingSatisfaction, max_length=16)),
                ('comment', fields.TextField(null=True, unique=False)),
                ('rated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('citizen_id', fields.BigIntField(null=True)),
            ],
            options={'table': 'case_rating', 'app': 'minsheng', 'pk_attr': 'id', 'table_description': "The citizen's rating of the answer (回访): one per case, written once per answer."},
            bases=['Model'],
        ),
    ]
