from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('minsheng', '0009_queue_indexes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='WorkerBeat',
            fields=[
                ('name', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=128)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('beat_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('leader', fields.BooleanField(default=False)),
                ('loops', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'worker_beat', 'app': 'minsheng', 'pk_attr': 'name', 'table_description': 'One running Minsheng process, as it last reported itself: what /healthz shows of the'},
            bases=['Record'],
        ),
    ]
