from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('minsheng', '0011_attachments')]

    initial = False

    operations = [
        ops.AddField(
            model_name='OutboxMessage',
            name='about',
            field=fields.CharField(null=True, max_length=32),
        ),
        ops.AddIndex(
            model_name='OutboxMessage',
            index=Index(fields=['about']),
        ),
    ]
