"""The attacks of tests/security use the demo roles of the outreach tests."""

from tests.outreach.conftest import admin_user, analyst, reviewer, roles  # noqa: F401
