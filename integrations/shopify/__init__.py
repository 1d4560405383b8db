"""Shopify (GraphQL Admin API) adapter: OAuth, HTTP client with the cost bucket, translation, webhooks.

Contract: shared/platforms/shopify/README.md. Flow-to-operation map and every guess: docs/platforms/shopify.md.
"""
