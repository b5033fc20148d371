"""Outreach lets go of Account (now monitoring.Account): state only, no row is touched.

The outbox's foreign key is repointed at monitoring.Account, which sits on the
same table, so the column and its constraint stay as they are.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("outreach", "0006_drop_incident_refs"),
        ("monitoring", "0004_account"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="outboundaction",
                    name="account",
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="actions", to="monitoring.account"),
                ),
                migrations.DeleteModel(name="Account"),
            ],
        ),
    ]
