"""The conversation after engagement (issue #13): follow_requested and gone_quiet stages,
later replies and private messages in the outbox, one ``later`` draft per case.

The database rules' triggers are dropped first: on SQLite the constraint changes
rebuild outreach_case and outreach_outboundaction, and a trigger naming a table
being rebuilt breaks the rename. ``0015_conversation_rules`` installs them again
(and going back, the rules of 0008 are installed again after the tables). The hold's
trigger (``0010_case_hold``) is dropped with them and installed again at the end,
after the hold's constraints are made anew with the new open stages.
"""

from importlib import import_module
from typing import Any

from django.conf import settings
from django.db import migrations, models

from outreach.workflow import dbrules


def drop_rules(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    for statement in dbrules.drop_sql(vendor) + dbrules.hold_drop_sql(vendor):
        schema_editor.execute(statement, params=None)


def install_hold(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    for statement in dbrules.hold_drop_sql(vendor) + dbrules.hold_install_sql(vendor):
        schema_editor.execute(statement, params=None)


def drop_hold(apps: Any, schema_editor: Any) -> None:
    for statement in dbrules.hold_drop_sql(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


def follows_still_queued(apps: Any, schema_editor: Any) -> None:
    """A case that reads "followed" while its follow still waits in the outbox now reads
    "follow requested" (the dispatcher moves it to followed once the platform confirms),
    with the change in its history. The rules' triggers are dropped at this point."""
    Case = apps.get_model("outreach", "Case")
    CaseEvent = apps.get_model("outreach", "CaseEvent")
    queued = Case.objects.filter(
        stage="followed", actions__kind="follow", actions__state__in=["pending", "sending"]
    ).distinct()
    for case_id in queued.values_list("pk", flat=True):
        CaseEvent.objects.create(
            case_id=case_id,
            action="follow_still_queued",
            origin="followed",
            target="follow_requested",
            note="the follow was still in the outbox: it reads follow requested until sent",
        )
        Case.objects.filter(pk=case_id, stage="followed").update(stage="follow_requested")


def rules_of_0008(apps: Any, schema_editor: Any) -> None:
    rules = import_module("outreach.migrations.0008_database_rules").RULES
    vendor = schema_editor.connection.vendor
    statements = dbrules.drop_sql(vendor) + dbrules.install_sql(vendor, rules)
    for statement in statements + dbrules.hold_install_sql(vendor):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0013_detection_incident_posted"),
        ("outreach", "0013_queue_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(drop_rules, rules_of_0008),
        migrations.RemoveConstraint(
            model_name="case",
            name="case_stage_valid",
        ),
        migrations.RemoveConstraint(
            model_name="case",
            name="case_one_open_per_person",
        ),
        migrations.RemoveConstraint(
            model_name="case",
            name="case_closed_at_matches_stage",
        ),
        migrations.RemoveConstraint(
            model_name="outboundaction",
            name="action_kind_valid",
        ),
        migrations.RemoveConstraint(
            model_name="outboundaction",
            name="action_reply_has_text",
        ),
        migrations.RemoveConstraint(
            model_name="replydraft",
            name="draft_one_amend_request",
        ),
        migrations.AddField(
            model_name="replydraft",
            name="later",
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.AlterField(
            model_name="case",
            name="stage",
            field=models.CharField(
                choices=[
                    ("new", "New"),
                    ("researching", "Researching"),
                    ("drafting", "Drafting"),
                    ("awaiting_approval", "Awaiting approval"),
                    ("approved", "Approved (reply queued)"),
                    ("awaiting_engagement", "Replied, awaiting engagement"),
                    ("engaged", "Engaged"),
                    ("follow_requested", "Follow requested (queued)"),
                    ("followed", "Followed"),
                    ("resolved", "Resolved"),
                    ("amend_requested", "Amend requested"),
                    ("dismissed", "Dismissed"),
                    ("expired", "Expired"),
                    ("opted_out", "Opted out"),
                    ("failed", "Failed"),
                    ("no_response", "No response"),
                    ("gone_quiet", "Conversation gone quiet"),
                ],
                default="new",
                editable=False,
                max_length=30,
            ),
        ),
        migrations.AlterField(
            model_name="caseevent",
            name="origin",
            field=models.CharField(
                choices=[
                    ("new", "New"),
                    ("researching", "Researching"),
                    ("drafting", "Drafting"),
                    ("awaiting_approval", "Awaiting approval"),
                    ("approved", "Approved (reply queued)"),
                    ("awaiting_engagement", "Replied, awaiting engagement"),
                    ("engaged", "Engaged"),
                    ("follow_requested", "Follow requested (queued)"),
                    ("followed", "Followed"),
                    ("resolved", "Resolved"),
                    ("amend_requested", "Amend requested"),
                    ("dismissed", "Dismissed"),
                    ("expired", "Expired"),
                    ("opted_out", "Opted out"),
                    ("failed", "Failed"),
                    ("no_response", "No response"),
                    ("gone_quiet", "Conversation gone quiet"),
                ],
                max_length=30,
            ),
        ),
        migrations.AlterField(
            model_name="caseevent",
            name="target",
            field=models.CharField(
                choices=[
                    ("new", "New"),
                    ("researching", "Researching"),
                    ("drafting", "Drafting"),
                    ("awaiting_approval", "Awaiting approval"),
                    ("approved", "Approved (reply queued)"),
                    ("awaiting_engagement", "Replied, awaiting engagement"),
                    ("engaged", "Engaged"),
                    ("follow_requested", "Follow requested (queued)"),
                    ("followed", "Followed"),
                    ("resolved", "Resolved"),
                    ("amend_requested", "Amend requested"),
                    ("dismissed", "Dismissed"),
                    ("expired", "Expired"),
                    ("opted_out", "Opted out"),
                    ("failed", "Failed"),
                    ("no_response", "No response"),
                    ("gone_quiet", "Conversation gone quiet"),
                ],
                max_length=30,
            ),
        ),
        migrations.AlterField(
            model_name="outboundaction",
            name="kind",
            field=models.CharField(
                choices=[
                    ("reply", "Public reply"),
                    ("follow", "Follow"),
                    ("private_message", "Private message"),
                    ("amend_request", "Request to amend the post"),
                    ("later_reply", "Later reply"),
                ],
                max_length=20,
            ),
        ),
        migrations.AddConstraint(
            model_name="case",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "stage__in",
                        [
                            "new",
                            "researching",
                            "drafting",
                            "awaiting_approval",
                            "approved",
                            "awaiting_engagement",
                            "engaged",
                            "follow_requested",
                            "followed",
                            "resolved",
                            "amend_requested",
                            "dismissed",
                            "expired",
                            "opted_out",
                            "failed",
                            "no_response",
                            "gone_quiet",
                        ],
                    )
                ),
                name="case_stage_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="case",
            constraint=models.UniqueConstraint(
                condition=models.Q(
                    ("on_hold", False),
                    (
                        "stage__in",
                        (
                            "new",
                            "researching",
                            "drafting",
                            "awaiting_approval",
                            "approved",
                            "awaiting_engagement",
                            "engaged",
                            "follow_requested",
                            "followed",
                        ),
                    ),
                ),
                fields=("person",),
                name="case_one_open_per_person",
            ),
        ),
        migrations.AddConstraint(
            model_name="case",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        (
                            "stage__in",
                            (
                                "new",
                                "researching",
                                "drafting",
                                "awaiting_approval",
                                "approved",
                                "awaiting_engagement",
                                "engaged",
                                "follow_requested",
                                "followed",
                            ),
                        ),
                        ("closed_at__isnull", True),
                    ),
                    models.Q(
                        (
                            "stage__in",
                            (
                                "resolved",
                                "amend_requested",
                                "dismissed",
                                "expired",
                                "opted_out",
                                "failed",
                                "no_response",
                                "gone_quiet",
                            ),
                        ),
                        ("closed_at__isnull", False),
                    ),
                    _connector="OR",
                ),
                name="case_closed_at_matches_stage",
            ),
        ),
        migrations.AddConstraint(
            model_name="outboundaction",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "kind__in",
                        ["reply", "follow", "private_message", "amend_request", "later_reply"],
                    )
                ),
                name="action_kind_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="outboundaction",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("kind__in", ("reply", "amend_request", "later_reply", "private_message")),
                        _negated=True,
                    ),
                    models.Q(
                        models.Q(("text", ""), _negated=True),
                        models.Q(("text_hash", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="action_reply_has_text",
            ),
        ),
        migrations.AddConstraint(
            model_name="replydraft",
            constraint=models.UniqueConstraint(
                condition=models.Q(("is_first_reply", False), ("later", False)),
                fields=("case",),
                name="draft_one_amend_request",
            ),
        ),
        migrations.AddConstraint(
            model_name="replydraft",
            constraint=models.UniqueConstraint(
                condition=models.Q(("later", True)), fields=("case",), name="draft_one_later_reply"
            ),
        ),
        migrations.AddConstraint(
            model_name="replydraft",
            constraint=models.CheckConstraint(
                condition=models.Q(("later", False), ("is_first_reply", False), _connector="OR"),
                name="draft_later_not_first",
            ),
        ),
        migrations.RunPython(follows_still_queued, migrations.RunPython.noop),
        # The hold's constraints (0010_case_hold) with the new open stages, and its trigger
        # again on the rebuilt table.
        migrations.RemoveConstraint(
            model_name="case",
            name="case_one_open_per_person_per_kind",
        ),
        migrations.RemoveConstraint(
            model_name="case",
            name="case_hold_consistent",
        ),
        migrations.AddConstraint(
            model_name="case",
            constraint=models.UniqueConstraint(
                condition=models.Q(
                    (
                        "stage__in",
                        (
                            "new",
                            "researching",
                            "drafting",
                            "awaiting_approval",
                            "approved",
                            "awaiting_engagement",
                            "engaged",
                            "follow_requested",
                            "followed",
                        ),
                    )
                ),
                fields=("person", "kind"),
                name="case_one_open_per_person_per_kind",
            ),
        ),
        migrations.AddConstraint(
            model_name="case",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("held_by__isnull", True), ("on_hold", False)),
                    models.Q(
                        ("kind", "competitor"),
                        ("on_hold", True),
                        (
                            "stage__in",
                            (
                                "new",
                                "researching",
                                "drafting",
                                "awaiting_approval",
                                "approved",
                                "awaiting_engagement",
                                "engaged",
                                "follow_requested",
                                "followed",
                            ),
                        ),
                    ),
                    _connector="OR",
                ),
                name="case_hold_consistent",
            ),
        ),
        migrations.RunPython(install_hold, drop_hold),
    ]
