"""Tone-finding overrules held by the database too (issue #18, item 5).

- a CHECK constraint: links, prices, codes and our brand named are never overruled
  (rules 2 and 3), the codes frozen here as ``FIRM_CODES`` reads today;
- triggers (PostgreSQL and SQLite, ``dbrules.overrule_install_sql``): an overrule is never
  edited or deleted, except ``forget_person`` replacing its reason by ``[erased]``.

Rows written before this migration that name a firm code (none can: the workflow refused
them) would make the constraint fail to add: such a row is a forged one, to be looked at
by hand rather than dropped here.
"""

from typing import Any

from django.conf import settings
from django.db import migrations, models

from outreach.workflow import dbrules


def install(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    for statement in dbrules.overrule_drop_sql(vendor) + dbrules.overrule_install_sql(vendor):
        schema_editor.execute(statement, params=None)


def drop(apps: Any, schema_editor: Any) -> None:
    for statement in dbrules.overrule_drop_sql(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('outreach', '0025_replydraft_rejected_text'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='findingoverrule',
            constraint=models.CheckConstraint(condition=models.Q(('code__in', ['link', 'own_brand_named', 'price', 'promo_code']), _negated=True), name='overrule_never_firm'),
        ),
        migrations.RunPython(install, drop),
    ]
