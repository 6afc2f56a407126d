from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('minsheng', '0006_web_dashboard')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Case',
            index=Index(fields=['status', 'due_at']),
        ),
        ops.AlterModelOptions(
            name='ClaimCode',
            options={'table': 'claim_code', 'app': 'minsheng', 'pk_attr': 'case_id', 'table_description': 'The code a caller gets with a case filed for them by phone, to follow it in the bot.'},
        ),
    ]
