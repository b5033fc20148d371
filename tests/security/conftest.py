"""The attacks of tests/security use the demo roles of the outreach tests."""

from tests.outreach.conftest import (  # noqa: F401
    admin_user,
    analyst,
    competitor,
    playbook,
    reviewer,
    roles,
)
