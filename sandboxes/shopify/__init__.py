"""A local Shopify Admin API (GraphQL) sandbox: OAuth, orders, fulfillment orders and fulfillments, inventory levels,
the cost bucket, signed webhooks with retries, faults and a /sandbox/ control API.

It follows /work/shared/platforms/shopify/README.md and imports nothing from Dropline; see
docs/platforms/shopify-sandbox.md for what is built and which behaviours are guesses.
"""
