"""/stats for a period reads a month of cases from one index that holds every column its
figures need, by department and time of filing (storage.stats_counts)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('minsheng', '0016_self_routing')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Case',
            index=Index(
                fields=[
                    'department_id',
                    'created_at',
                    'proposed_department_id',
                    'status',
                    'accepted_at',
                    'sign_due_at',
                    'signed_at',
                    'due_at',
                    'first_answered_at',
                    'answered_at',
                    'closed_at',
                    'reopen_count',
                    'proposal_outcome',
                    'id',
                ]
            ),
        ),
    ]
