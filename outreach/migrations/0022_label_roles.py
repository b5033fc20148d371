"""Give analysts and reviewers the team labels (issue #17): they see the labels and label
posts in the label queue; deleting a label stays with the Admin group (it has every
monitoring permission already, through 0003)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

NAMES = ["view_label", "add_label"]


def grant(apps, schema_editor):
    app_config = apps.get_app_config("monitoring")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perms = Permission.objects.filter(content_type__app_label="monitoring", codename__in=NAMES)
    for name in ("Analyst", "Reviewer"):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*perms)
    admin, _ = Group.objects.get_or_create(name="Admin")
    admin.permissions.add(*Permission.objects.filter(content_type__app_label="monitoring"))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perms = Permission.objects.filter(content_type__app_label="monitoring", codename__in=NAMES)
    for group in Group.objects.filter(name__in=["Analyst", "Reviewer"]):
        group.permissions.remove(*perms)


class Migration(migrations.Migration):
    dependencies = [
        ("outreach", "0021_dashboard_indexes"),
        ("monitoring", "0016_team_labels"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
