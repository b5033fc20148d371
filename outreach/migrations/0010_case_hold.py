"""Rule 6, service first (issue #13): a competitor case on hold while we serve the person.

- ``Case.on_hold`` and ``Case.held_by`` (the own-brand case holding it);
- one open case per person *not on hold*, and one open case per person per kind
  (never two competitor cases, never two own-brand cases), a held one included;
- only an open competitor case can be held, and a link means a hold;
- a trigger (PostgreSQL and SQLite, ``dbrules.hold_install_sql``): ``held_by`` names an
  open own-brand case of the same person.

SQLite rebuilds outreach_case to alter it, which breaks the triggers of 0008 (they read
outreach_case): they are dropped first and installed again at the end, from 0008's
rules (this migration changes no move or stage).
"""

import importlib
from typing import Any

import django.db.models.deletion
from django.db import migrations, models

from outreach.workflow import dbrules

# The move table as 0008 froze it: this migration alters the table, not the moves.
RULES: dict[str, Any] = importlib.import_module("outreach.migrations.0008_database_rules").RULES


def reinstall(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    for statement in dbrules.drop_sql(vendor) + dbrules.install_sql(vendor, RULES):
        schema_editor.execute(statement, params=None)


def drop(apps: Any, schema_editor: Any) -> None:
    for statement in dbrules.drop_sql(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


def install_hold(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    for statement in dbrules.hold_drop_sql(vendor) + dbrules.hold_install_sql(vendor):
        schema_editor.execute(statement, params=None)


def drop_hold(apps: Any, schema_editor: Any) -> None:
    for statement in dbrules.hold_drop_sql(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('outreach', '0009_opt_out_append_only'),
    ]

    operations = [
        # Off while SQLite rebuilds the table (and back last when going backwards).
        migrations.RunPython(drop, reinstall),
        migrations.RemoveConstraint(
            model_name='case',
            name='case_one_open_per_person',
        ),
        migrations.AddField(
            model_name='case',
            name='held_by',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='holding', to='outreach.case'),
        ),
        migrations.AddField(
            model_name='case',
            name='on_hold',
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.AddConstraint(
            model_name='case',
            constraint=models.UniqueConstraint(condition=models.Q(('on_hold', False), ('stage__in', ('new', 'researching', 'drafting', 'awaiting_approval', 'approved', 'awaiting_engagement', 'engaged', 'followed'))), fields=('person',), name='case_one_open_per_person'),
        ),
        migrations.AddConstraint(
            model_name='case',
            constraint=models.UniqueConstraint(condition=models.Q(('stage__in', ('new', 'researching', 'drafting', 'awaiting_approval', 'approved', 'awaiting_engagement', 'engaged', 'followed'))), fields=('person', 'kind'), name='case_one_open_per_person_per_kind'),
        ),
        migrations.AddConstraint(
            model_name='case',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('held_by__isnull', True), ('on_hold', False)), models.Q(('kind', 'competitor'), ('on_hold', True), ('stage__in', ('new', 'researching', 'drafting', 'awaiting_approval', 'approved', 'awaiting_engagement', 'engaged', 'followed'))), _connector='OR'), name='case_hold_consistent'),
        ),
        # 0008's triggers again, on the rebuilt table, and the hold's.
        migrations.RunPython(reinstall, drop),
        migrations.RunPython(install_hold, drop_hold),
    ]
