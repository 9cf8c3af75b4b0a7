import pytest


@pytest.fixture
def broker(fresh_broker):  # type: ignore[no-untyped-def]
    """Flows across services get a broker of their own: its topics hold only the test's records."""
    return fresh_broker
