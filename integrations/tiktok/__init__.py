"""TikTok Shop Partner API (v202309+) adapter: signing, HTTP client, translation, OAuth, webhooks.

Contract: shared/platforms/tiktok-shop/README.md + spec/. Flow-to-endpoint map: docs/platforms/tiktok.md.
"""
