"""Previews and places each example order given with a client generated (openapi-python-client) from the
served /openapi.yaml alone: the generated package is importable from sys.path.

Usage: python api-client-order.py BASE_URL API_KEY EXAMPLE.json...
"""
import json
import sys
import uuid

from order_gateway_client import AuthenticatedClient
from order_gateway_client.api.default import create_order, get_order, preview_order
from order_gateway_client.models import CanonicalOrderResultV1, CanonicalOrderV1, OrderRecord, Preview

base, key, *examples = sys.argv[1:]
client = AuthenticatedClient(base_url=base, token=key, raise_on_unexpected_status=True)
for path in examples:
    with open(path, encoding="utf-8") as f:
        order = json.load(f)
    # A fresh reference: the fuzzer before may have used any.
    order["orderRef"] = f"gc-{uuid.uuid4().hex[:12]}"
    body = CanonicalOrderV1.from_dict(order)
    preview = preview_order.sync_detailed(client=client, body=body)
    if preview.status_code != 200 or not isinstance(preview.parsed, Preview):
        sys.exit(f"{path}: preview {preview.status_code} {preview.content!r}")
    placed = create_order.sync_detailed(client=client, body=body)
    # 201 placed; 200 for a quote (intent quote).
    if placed.status_code not in (200, 201) or not isinstance(
        placed.parsed, CanonicalOrderResultV1
    ):
        sys.exit(f"{path}: {placed.status_code} {placed.content!r}")
    record = get_order.sync(placed.parsed.id, client=client)
    if not isinstance(record, OrderRecord) or record.id != placed.parsed.id:
        sys.exit(f"{path}: the order record is {record!r}")
    print(f"{placed.status_code} {path}: {record.id} at {record.vendor}, {record.state.value}")
