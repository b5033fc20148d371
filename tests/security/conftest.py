"""The attacks of tests/security use the demo roles, brands and playbooks of the outreach tests."""

from tests.outreach.conftest import (  # noqa: F401
    account,
    admin_user,
    advance,
    analyst,
    competitor,
    own_brand,
    own_playbook,
    playbook,
    reviewer,
    roles,
    world,
)
