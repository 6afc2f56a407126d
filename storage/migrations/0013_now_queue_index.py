from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('minsheng', '0012_staff_buttons')]

    initial = False

    operations = [
        ops.RemoveIndex(
            model_name='Case',
            name=None,
            fields=['status', 'due_at', 'id'],
        ),
        ops.AddIndex(
            model_name='Case',
            index=Index(fields=['status', 'due_at', 'id', 'route_by_hand']),
        ),
    ]
