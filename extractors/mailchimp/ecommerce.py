"""The subject's customers and orders in the account's e-commerce stores."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from extractors.mailchimp.api import MailchimpApi
from extractors.mailchimp.items import without_links
from extractors.records import Record
from identity.address import ascii_lower


def ecommerce_records(source: str, api: MailchimpApi, emails: Iterable[str]) -> Iterator[Record]:
    """`ecommerce_customer` and `ecommerce_orders` records, stores by id; nothing when the account has no
    e-commerce (Mailchimp answers 404)."""
    addresses = tuple(emails)
    stores = sorted({str(store["id"]) for store in api.paged("ecommerce/stores", "stores",
                                                             fields="stores.id,total_items")})
    for store_id in stores:
        base = f"ecommerce/stores/{store_id}"
        for email in addresses:
            for customer in api.paged(f"{base}/customers", "customers", email_address=email):
                # Check what the filter promised: another person's orders must never come along.
                if ascii_lower(str(customer.get("email_address", ""))) != email:
                    continue
                customer_id = str(customer.get("id"))
                yield Record(source, "ecommerce_customer", f"{store_id}:{customer_id}",
                             {"store_id": store_id, **without_links(customer)}, provided=True, about_subject=True)
                for order in api.paged(f"{base}/orders", "orders", customer_id=customer_id):
                    if str((order.get("customer") or {}).get("id")) != customer_id:
                        continue
                    # An order's shipping address may name someone else: not about_subject, so redaction looks.
                    yield Record(source, "ecommerce_orders", f"{store_id}:{order.get('id')}",
                                 {"store_id": store_id, **without_links(order)}, provided=True)
