"""Erasure (forget_person) and retention (issue #14).

- ``Erasure`` records (who, when, what counts; append-only) and the install's one
  salt for the hashes an erased person leaves on the do-not-contact list.
- The list gets ``id_hash`` and ``handle_hash``; an entry names someone by either.
- Triggers: the rules of ``dbrules`` again (RULES of the newest rules migration; the
  functions now let an erasure blank a case's event notes and finished outbox texts
  once the case has its ``erase`` event), then the list's and the erasure tables'
  (``dbrules.privacy_install_sql``). On SQLite the list was rebuilt above and lost
  migration 0009's triggers: they are installed again here, in their new form.
"""

import importlib
import pkgutil
import secrets

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def rules() -> dict:
    """The move table of the newest rules migration before this one (0008 when written).

    Looked up by name, not named here: a rules migration merged in before this one
    (the lead renumbers) must not be overwritten with older rules.
    """
    package = importlib.import_module("outreach.migrations")
    this = __name__.rsplit(".", 1)[1]
    earlier = sorted(m.name for m in pkgutil.iter_modules(package.__path__) if m.name < this)
    for name in reversed(earlier):
        module = importlib.import_module(f"outreach.migrations.{name}")
        if hasattr(module, "RULES"):
            return module.RULES
    raise RuntimeError("no rules migration before " + this)


def make_salt(apps, schema_editor):
    ErasureSalt = apps.get_model("outreach", "ErasureSalt")
    if not ErasureSalt.objects.exists():
        ErasureSalt.objects.create(value=secrets.token_hex(32))


def install(apps, schema_editor):
    from outreach.workflow import dbrules

    vendor = schema_editor.connection.vendor
    statements = dbrules.drop_sql(vendor) + dbrules.install_sql(vendor, rules())
    statements += dbrules.privacy_drop_sql(vendor) + dbrules.privacy_install_sql(vendor)
    for statement in statements:
        schema_editor.execute(statement, params=None)


def uninstall(apps, schema_editor):
    from outreach.workflow import dbrules

    for statement in dbrules.privacy_drop_sql(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


def admins_see_erasures(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config("outreach")
    # The migration's historical apps need this for create_permissions; the real ones
    # (tests/outreach/conftest.py's roles) keep their models module.
    if getattr(app_config, "models_module", None) is None:
        app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perm = Permission.objects.filter(
        content_type__app_label="outreach", codename="view_erasure"
    ).first()
    group = Group.objects.filter(name="Admin").first()
    if group is not None and perm is not None:
        group.permissions.add(perm)


class Migration(migrations.Migration):

    dependencies = [
        ('outreach', '0011_outbox_outcome_unknown'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Erasure',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('platform', models.CharField(choices=[('sandbox', 'Sandbox (simulated network)'), ('mastodon', 'Mastodon'), ('bluesky', 'Bluesky'), ('reddit', 'Reddit'), ('x', 'X'), ('hackernews', 'Hacker News'), ('rss', 'RSS/Atom feed')], editable=False, max_length=20)),
                ('id_hash', models.CharField(blank=True, editable=False, max_length=64)),
                ('handle_hash', models.CharField(blank=True, editable=False, max_length=64)),
                ('operator', models.CharField(blank=True, editable=False, max_length=150)),
                ('note', models.TextField(blank=True, editable=False, help_text='Why: a ticket or request id.')),
                ('counts', models.JSONField(default=dict, editable=False)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='ErasureSalt',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('value', models.CharField(editable=False, max_length=128)),
            ],
        ),
        migrations.RemoveConstraint(
            model_name='donotcontact',
            name='dnc_names_someone',
        ),
        migrations.AddField(
            model_name='donotcontact',
            name='handle_hash',
            field=models.CharField(blank=True, db_default='', db_index=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name='donotcontact',
            name='id_hash',
            field=models.CharField(blank=True, db_default='', db_index=True, editable=False, max_length=64),
        ),
        migrations.AddConstraint(
            model_name='donotcontact',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('person_external_id', ''), _negated=True), models.Q(('handle', ''), _negated=True), models.Q(('id_hash', ''), _negated=True), models.Q(('handle_hash', ''), _negated=True), _connector='OR'), name='dnc_names_someone'),
        ),
        migrations.AddField(
            model_name='erasure',
            name='actor',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddConstraint(
            model_name='erasure',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('id_hash', ''), _negated=True), models.Q(('handle_hash', ''), _negated=True), _connector='OR'), name='erasure_names_someone'),
        ),
        migrations.RunPython(make_salt, migrations.RunPython.noop),
        migrations.RunPython(admins_see_erasures, migrations.RunPython.noop),
        migrations.RunPython(install, uninstall),
    ]
