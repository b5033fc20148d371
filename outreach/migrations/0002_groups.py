"""The three roles of DESIGN.md as groups with their permissions, and an append-only audit.

Permissions are normally created after all migrations (post_migrate); they are
created here first so the groups can be given them. Re-running is harmless.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW_MONITORING = [
    "monitoring.view_brand",
    "monitoring.view_source",
    "monitoring.view_person",
    "monitoring.view_post",
]
ANALYST = [
    *VIEW_MONITORING,
    "outreach.view_case",
    "outreach.change_case",
    "outreach.claim_case",
    "outreach.view_researchnote",
    "outreach.add_researchnote",
    "outreach.change_researchnote",
    "outreach.view_replydraft",
    "outreach.add_replydraft",
    "outreach.change_replydraft",
    "outreach.view_caseevent",
    "outreach.view_outboundaction",
    "outreach.view_engagementevent",
    "outreach.view_playbook",
    "outreach.view_donotcontact",
    "outreach.add_donotcontact",
]
REVIEWER = [
    *ANALYST,
    "outreach.approve_replydraft",
    "outreach.add_playbook",
    "outreach.change_playbook",
    "outreach.change_donotcontact",
    "outreach.view_account",
]
# Admin: everything about brands, sources, accounts, caps, users and schedules.
ADMIN_APPS = ["monitoring", "outreach", "auth", "django_celery_beat"]


def _perms(apps, names):
    Permission = apps.get_model("auth", "Permission")
    found = []
    for name in names:
        app_label, codename = name.split(".")
        found.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return found


def create_groups(apps, schema_editor):
    for label in ADMIN_APPS:
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in (("Analyst", _perms(apps, ANALYST)), ("Reviewer", _perms(apps, REVIEWER))):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*perms)
    admin, _ = Group.objects.get_or_create(name="Admin")
    admin.permissions.add(*Permission.objects.filter(content_type__app_label__in=ADMIN_APPS))


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(
        name__in=["Analyst", "Reviewer", "Admin"]
    ).delete()


# Rule 10: the audit trail cannot be rewritten, not even from a SQL shell that
# bypasses the ORM's append-only guard. (PostgreSQL only; SQLite laptops rely
# on the model guard.)
APPEND_ONLY_SQL = """
CREATE OR REPLACE FUNCTION outreach_caseevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'outreach_caseevent is append-only (rule 10: audit)';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER outreach_caseevent_append_only
    BEFORE UPDATE OR DELETE ON outreach_caseevent
    FOR EACH ROW EXECUTE FUNCTION outreach_caseevent_append_only();
"""
DROP_APPEND_ONLY_SQL = """
DROP TRIGGER IF EXISTS outreach_caseevent_append_only ON outreach_caseevent;
DROP FUNCTION IF EXISTS outreach_caseevent_append_only();
"""


def append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY_SQL)


def drop_append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_APPEND_ONLY_SQL)


class Migration(migrations.Migration):
    dependencies = [
        ("outreach", "0001_initial"),
        ("monitoring", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(create_groups, remove_groups),
        migrations.RunPython(append_only, drop_append_only),
    ]
