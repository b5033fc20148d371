# Separate from 0005: on PostgreSQL, dropping a column in the transaction that just
# updated rows with deferred foreign keys fails ("pending trigger events").

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('outreach', '0005_link_incidents'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='case',
            name='incident_ref',
        ),
        migrations.RemoveField(
            model_name='researchnote',
            name='incident_ref',
        ),
        migrations.AddConstraint(
            model_name='researchnote',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('scope', 'incident'), _negated=True), ('incident__isnull', False), _connector='OR'), name='research_incident_named'),
        ),
    ]
