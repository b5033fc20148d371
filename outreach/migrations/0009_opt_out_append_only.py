"""Rules 6, 9 and 11 below the admin: the do-not-contact list is append-only, playbooks have limits.

- Do-not-contact entries get a soft removal (when, by whom, why); the uniqueness
  of a person or handle holds among the entries in force. A trigger (PostgreSQL
  and SQLite) refuses every DELETE and every UPDATE except the one removal,
  which may touch the removal columns only, once.
- Reviewers lose change permission on the list (they may still add to it);
  removing an entry takes delete_donotcontact, which only the Admin group has.
- Playbooks get a cooldown floor and, for competitor playbooks, cap ceilings
  (outreach/limits.py) as check constraints. Versions that already cross them
  are brought back inside first, so the constraints can be added.
(Each playbook version's change_note now also lists its field-by-field changes: no schema change.)

SQLite note: Django rebuilds a SQLite table to alter it, which drops its
triggers; a later migration that alters outreach_donotcontact must install them
again: since migration 0010 with ``dbrules.privacy_install_sql`` (their current form).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MIN_COOLDOWN_DAYS = 7  # outreach.limits at the time of writing (migrations do not import app code)
CAP_CEILINGS = {
    "max_replies_per_brand_per_day": 50,
    "max_replies_per_incident": 20,
    "max_replies_per_account_per_hour": 60,
}

PG_DNC_TRIGGER = """
CREATE OR REPLACE FUNCTION outreach_donotcontact_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'outreach_donotcontact: an entry is removed with a reason, never deleted (rule 6)';
    END IF;
    IF OLD.removed_at IS NOT NULL
       OR NEW.removed_at IS NULL
       OR NEW.id IS DISTINCT FROM OLD.id
       OR NEW.platform IS DISTINCT FROM OLD.platform
       OR NEW.person_external_id IS DISTINCT FROM OLD.person_external_id
       OR NEW.handle IS DISTINCT FROM OLD.handle
       OR NEW.reason IS DISTINCT FROM OLD.reason
       OR NEW.added_by_id IS DISTINCT FROM OLD.added_by_id
       OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
        RAISE EXCEPTION 'outreach_donotcontact is append-only: an entry is never edited, only removed once (rule 6)';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER outreach_donotcontact_append_only
    BEFORE UPDATE OR DELETE ON outreach_donotcontact
    FOR EACH ROW EXECUTE FUNCTION outreach_donotcontact_append_only();
"""
PG_DROP_DNC_TRIGGER = """
DROP TRIGGER IF EXISTS outreach_donotcontact_append_only ON outreach_donotcontact;
DROP FUNCTION IF EXISTS outreach_donotcontact_append_only();
"""
SQLITE_DNC_TRIGGERS = [
    """
CREATE TRIGGER IF NOT EXISTS outreach_donotcontact_no_edit
BEFORE UPDATE ON outreach_donotcontact
WHEN OLD.removed_at IS NOT NULL
    OR NEW.removed_at IS NULL
    OR NEW.id IS NOT OLD.id
    OR NEW.platform IS NOT OLD.platform
    OR NEW.person_external_id IS NOT OLD.person_external_id
    OR NEW.handle IS NOT OLD.handle
    OR NEW.reason IS NOT OLD.reason
    OR NEW.added_by_id IS NOT OLD.added_by_id
    OR NEW.created_at IS NOT OLD.created_at
BEGIN
    SELECT RAISE(ABORT, 'outreach_donotcontact is append-only: an entry is never edited, only removed once (rule 6)');
END
""",
    """
CREATE TRIGGER IF NOT EXISTS outreach_donotcontact_no_delete
BEFORE DELETE ON outreach_donotcontact
BEGIN
    SELECT RAISE(ABORT, 'outreach_donotcontact: an entry is removed with a reason, never deleted (rule 6)');
END
""",
]
SQLITE_DROP_DNC_TRIGGERS = [
    "DROP TRIGGER IF EXISTS outreach_donotcontact_no_edit",
    "DROP TRIGGER IF EXISTS outreach_donotcontact_no_delete",
]


def dnc_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DNC_TRIGGER)
    elif vendor == "sqlite":
        for statement in SQLITE_DNC_TRIGGERS:
            schema_editor.execute(statement)


def drop_dnc_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DROP_DNC_TRIGGER)
    elif vendor == "sqlite":
        for statement in SQLITE_DROP_DNC_TRIGGERS:
            schema_editor.execute(statement)


def _reviewer_change_dnc(apps):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="Reviewer").first()
    perm = Permission.objects.filter(
        content_type__app_label="outreach", codename="change_donotcontact"
    ).first()
    return group, perm


def revoke_reviewer_dnc_change(apps, schema_editor):
    group, perm = _reviewer_change_dnc(apps)
    if group is not None and perm is not None:
        group.permissions.remove(perm)


def restore_reviewer_dnc_change(apps, schema_editor):
    group, perm = _reviewer_change_dnc(apps)
    if group is not None and perm is not None:
        group.permissions.add(perm)


def bring_playbooks_inside_limits(apps, schema_editor):
    # A version that already crosses a limit (the attack set a cooldown of 0) is
    # brought to the limit; otherwise the constraints below could not be added.
    Playbook = apps.get_model("outreach", "Playbook")
    Playbook.objects.filter(cooldown_days__lt=MIN_COOLDOWN_DAYS).update(
        cooldown_days=MIN_COOLDOWN_DAYS
    )
    competitor = Playbook.objects.exclude(kind="own_brand")
    for name, ceiling in CAP_CEILINGS.items():
        competitor.filter(**{f"{name}__gt": ceiling}).update(**{name: ceiling})


class Migration(migrations.Migration):
    dependencies = [
        ("outreach", "0008_database_rules"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="donotcontact",
            name="dnc_unique_person",
        ),
        migrations.RemoveConstraint(
            model_name="donotcontact",
            name="dnc_unique_handle",
        ),
        migrations.AddField(
            model_name="donotcontact",
            name="removal_reason",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.AddField(
            model_name="donotcontact",
            name="removed_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="donotcontact",
            name="removed_by",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddConstraint(
            model_name="donotcontact",
            constraint=models.UniqueConstraint(
                condition=models.Q(
                    models.Q(("person_external_id", ""), _negated=True),
                    ("removed_at__isnull", True),
                ),
                fields=("platform", "person_external_id"),
                name="dnc_unique_person",
            ),
        ),
        migrations.AddConstraint(
            model_name="donotcontact",
            constraint=models.UniqueConstraint(
                condition=models.Q(
                    models.Q(("handle", ""), _negated=True), ("removed_at__isnull", True)
                ),
                fields=("platform", "handle"),
                name="dnc_unique_handle",
            ),
        ),
        migrations.AddConstraint(
            model_name="donotcontact",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("removed_at__isnull", True),
                        ("removed_by__isnull", True),
                        ("removal_reason", ""),
                    ),
                    models.Q(
                        ("removed_at__isnull", False),
                        ("removed_by__isnull", False),
                        models.Q(("removal_reason", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="dnc_removal_complete",
            ),
        ),
        migrations.RunPython(bring_playbooks_inside_limits, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="playbook",
            constraint=models.CheckConstraint(
                condition=models.Q(("cooldown_days__gte", 7)), name="playbook_cooldown_floor"
            ),
        ),
        migrations.AddConstraint(
            model_name="playbook",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("kind", "own_brand"),
                    models.Q(
                        ("max_replies_per_account_per_hour__lte", 60),
                        ("max_replies_per_brand_per_day__lte", 50),
                        ("max_replies_per_incident__lte", 20),
                    ),
                    _connector="OR",
                ),
                name="playbook_caps_ceiling",
            ),
        ),
        migrations.RunPython(revoke_reviewer_dnc_change, restore_reviewer_dnc_change),
        migrations.RunPython(dnc_triggers, drop_dnc_triggers),
    ]
