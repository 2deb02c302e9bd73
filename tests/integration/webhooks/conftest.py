"""Fixtures of the webhook suite: one receiver on the test loop for the whole module."""

from tests.integration.webhooks.receiver import receiver  # noqa: F401  (a fixture)
