"""The database rules again, for a follow that will not happen (follow_requested -> engaged).

A follow the platform refused, or one a rule stopped at send time, takes its case back to
engaged by the move ``follow_not_sent`` instead of leaving it "follow requested" with
nothing queued: a new edge of the move table. ``RULES`` is today's move table, frozen as
``0008_database_rules`` explains; going back installs ``0015_conversation_rules``' again.
No table is altered: nothing to rebuild on SQLite, and the triggers are replaced in one
transaction on PostgreSQL (no lock beyond the trigger's own statement).
"""

import importlib
from typing import Any

from django.db import migrations

from outreach.workflow import dbrules

RULES: dict[str, Any] = {'queued_by': {'amend_request': ('resolved', 'approve_amend_request'),
               'follow': ('follow_requested', 'request_follow'),
               'later_reply': (['engaged', 'follow_requested', 'followed'],
                               'approve_later_reply'),
               'private_message': (['engaged', 'follow_requested', 'followed'],
                                   'approve_private_message'),
               'reply': ('approved', 'approve_reply')},
 'stage_moves': [('amend_requested', 'opted_out', 'opt_out'),
                 ('approved', 'awaiting_engagement', 'mark_reply_sent'),
                 ('approved', 'dismissed', 'dismiss'),
                 ('approved', 'drafting', 'save_draft'),
                 ('approved', 'expired', 'expire'),
                 ('approved', 'failed', 'mark_failed'),
                 ('approved', 'opted_out', 'opt_out'),
                 ('awaiting_approval', 'approved', 'approve_reply'),
                 ('awaiting_approval', 'dismissed', 'dismiss'),
                 ('awaiting_approval', 'drafting', 'reject_draft'),
                 ('awaiting_approval', 'drafting', 'save_draft'),
                 ('awaiting_approval', 'expired', 'expire'),
                 ('awaiting_approval', 'failed', 'mark_failed'),
                 ('awaiting_approval', 'opted_out', 'opt_out'),
                 ('awaiting_engagement', 'dismissed', 'dismiss'),
                 ('awaiting_engagement', 'engaged', 'record_engagement'),
                 ('awaiting_engagement', 'failed', 'mark_failed'),
                 ('awaiting_engagement', 'no_response', 'mark_no_response'),
                 ('awaiting_engagement', 'opted_out', 'opt_out'),
                 ('drafting', 'awaiting_approval', 'submit_draft'),
                 ('drafting', 'dismissed', 'dismiss'),
                 ('drafting', 'expired', 'expire'),
                 ('drafting', 'failed', 'mark_failed'),
                 ('drafting', 'opted_out', 'opt_out'),
                 ('engaged', 'dismissed', 'dismiss'),
                 ('engaged', 'failed', 'mark_failed'),
                 ('engaged', 'follow_requested', 'request_follow'),
                 ('engaged', 'gone_quiet', 'mark_gone_quiet'),
                 ('engaged', 'opted_out', 'opt_out'),
                 ('engaged', 'resolved', 'resolve'),
                 ('follow_requested', 'dismissed', 'dismiss'),
                 ('follow_requested', 'engaged', 'follow_not_sent'),
                 ('follow_requested', 'failed', 'mark_failed'),
                 ('follow_requested', 'followed', 'mark_followed'),
                 ('follow_requested', 'gone_quiet', 'mark_gone_quiet'),
                 ('follow_requested', 'opted_out', 'opt_out'),
                 ('follow_requested', 'resolved', 'resolve'),
                 ('followed', 'dismissed', 'dismiss'),
                 ('followed', 'failed', 'mark_failed'),
                 ('followed', 'gone_quiet', 'mark_gone_quiet'),
                 ('followed', 'opted_out', 'opt_out'),
                 ('followed', 'resolved', 'resolve'),
                 ('gone_quiet', 'opted_out', 'opt_out'),
                 ('new', 'dismissed', 'dismiss'),
                 ('new', 'expired', 'expire'),
                 ('new', 'failed', 'mark_failed'),
                 ('new', 'opted_out', 'opt_out'),
                 ('new', 'researching', 'claim'),
                 ('no_response', 'opted_out', 'opt_out'),
                 ('researching', 'dismissed', 'dismiss'),
                 ('researching', 'drafting', 'save_research'),
                 ('researching', 'expired', 'expire'),
                 ('researching', 'failed', 'mark_failed'),
                 ('researching', 'opted_out', 'opt_out'),
                 ('resolved', 'amend_requested', 'mark_amend_request_sent'),
                 ('resolved', 'opted_out', 'opt_out')]}


def _install(schema_editor: Any, rules: dict[str, Any]) -> None:
    vendor = schema_editor.connection.vendor
    for statement in dbrules.drop_sql(vendor) + dbrules.install_sql(vendor, rules):
        schema_editor.execute(statement, params=None)


def install(apps: Any, schema_editor: Any) -> None:
    _install(schema_editor, RULES)


def back(apps: Any, schema_editor: Any) -> None:
    before = importlib.import_module("outreach.migrations.0015_conversation_rules")
    _install(schema_editor, before.RULES)


class Migration(migrations.Migration):
    dependencies = [("outreach", "0028_outbox_queue_index")]

    operations = [migrations.RunPython(install, back)]
