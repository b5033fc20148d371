"""The account table takes monitoring's name, and its content type moves with it.

Renaming keeps every row and id, so the outbox's and the sources' foreign keys
follow by themselves. The content type is relabelled in place rather than
recreated: the groups' permissions (outreach 0002) and the admin's history point
at its id, so the Reviewer and Admin roles keep their account permissions.
"""

from django.conf import settings
from django.db import migrations


def _relabel(apps, source: str, target: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    User = apps.get_model(settings.AUTH_USER_MODEL)
    old = ContentType.objects.filter(app_label=source, model="account").first()
    if old is None:
        return  # a database that never had permissions: post_migrate creates them
    stray = ContentType.objects.filter(app_label=target, model="account").first()
    if stray is not None:
        # post_migrate ran against the other app's state in between (a partial
        # migrate, a test database): fold its grants into the old permissions,
        # which the groups already use, then drop it.
        for perm in Permission.objects.filter(content_type=stray):
            kept = Permission.objects.filter(content_type=old, codename=perm.codename).first()
            if kept is None:
                Permission.objects.filter(pk=perm.pk).update(content_type=old)
                continue
            for group in Group.objects.filter(permissions=perm):
                group.permissions.add(kept)
            for user in User.objects.filter(user_permissions=perm):
                user.user_permissions.add(kept)
        stray.delete()
    old.app_label = target
    old.save(update_fields=["app_label"])


def _drop_cached_content_types() -> None:
    # The live ContentType manager caches (app_label, model) -> row; the rows just
    # changed under it (this matters in a process that migrates, e.g. the tests).
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()


def to_monitoring(apps, schema_editor) -> None:
    _relabel(apps, "outreach", "monitoring")
    _drop_cached_content_types()


def to_outreach(apps, schema_editor) -> None:
    _relabel(apps, "monitoring", "outreach")
    _drop_cached_content_types()


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0004_account"),
        ("outreach", "0007_account_moved"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelTable(name="account", table=None),
        migrations.RunPython(to_monitoring, to_outreach),
    ]
