"""A local Shopify Admin API (GraphQL) sandbox: OAuth, orders, the cost bucket and a /sandbox/ control API.

It follows /work/shared/platforms/shopify/README.md and imports nothing from Dropline; see
docs/platforms/shopify-sandbox.md for what is built and which behaviours are guesses.
"""
