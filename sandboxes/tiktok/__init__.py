"""TikTok Shop Partner API (v202309+) sandbox.

A stand-in for TikTok's servers built only from the published contract in
shared/platforms/tiktok-shop/. It deliberately imports nothing from Dropline.
"""
