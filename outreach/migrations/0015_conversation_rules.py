"""The database rules again, for the conversation after engagement (issue #13).

New stages (follow_requested until the platform confirms the follow, gone_quiet
for a silent conversation) and new moves (an answer approved as a later public
reply or a private message, only in conversation): ``RULES`` is today's move
table, frozen as ``0008_database_rules`` explains. On SQLite,
``0014_conversation_after_engagement`` dropped the triggers before rebuilding
outreach_case and outreach_outboundaction (their check constraints changed):
this migration installs them again after it.
"""

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


def install(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    for statement in dbrules.drop_sql(vendor) + dbrules.install_sql(vendor, RULES):
        schema_editor.execute(statement, params=None)


def drop(apps: Any, schema_editor: Any) -> None:
    """Going back, 0010 installs the rules of 0008 once its tables are as they were."""
    for statement in dbrules.drop_sql(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("outreach", "0014_conversation_after_engagement")]

    operations = [migrations.RunPython(install, drop)]
