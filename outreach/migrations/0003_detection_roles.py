"""Give the roles the detection pages added after 0002: verdicts, incidents, classifier versions.

Analysts and reviewers see every verdict and incident and may correct a verdict
("not a complaint", "wrong brand"); reviewers also see classifier versions;
activating one stays with the Admin group.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ANALYST = [
    "monitoring.view_detection",
    "monitoring.change_detection",
    "monitoring.view_incident",
]
REVIEWER = [*ANALYST, "monitoring.view_classifierversion"]


def grant(apps, schema_editor):
    app_config = apps.get_app_config("monitoring")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def perms(names):
        return [
            Permission.objects.get(content_type__app_label="monitoring", codename=n.split(".")[1])
            for n in names
        ]

    for name, names in (("Analyst", ANALYST), ("Reviewer", REVIEWER)):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*perms(names))
    admin, _ = Group.objects.get_or_create(name="Admin")
    admin.permissions.add(*Permission.objects.filter(content_type__app_label="monitoring"))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, names in (("Analyst", ANALYST), ("Reviewer", REVIEWER)):
        group = Group.objects.filter(name=name).first()
        if group:
            group.permissions.remove(
                *Permission.objects.filter(
                    content_type__app_label="monitoring",
                    codename__in=[n.split(".")[1] for n in names],
                )
            )


class Migration(migrations.Migration):
    dependencies = [
        ("outreach", "0002_groups"),
        ("monitoring", "0003_source_account"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
