"""A typed Python client for the credscore service (needs httpx and pydantic only).

from credscore_client import Client

with Client("http://127.0.0.1:8000", api_key) as credscore:
    claim = credscore.claims_create({"outlet_slug": "sohr", "text": "42 killed"})
    for claim in credscore.claims_list(outlet="sohr"):
        ...
"""

from credscore_client._core import Call, RetryPolicy
from credscore_client.client import AsyncClient, Client, operation_ids
from credscore_client.errors import CredscoreError

__all__ = ["AsyncClient", "Call", "Client", "CredscoreError", "RetryPolicy", "operation_ids"]
