"""Helpers for tests that are also user features.

`hfsearch.testing.hub_server.HubServer` serves a local registry folder as a Hugging Face Hub (importing it here
would make ``python -m hfsearch.testing.hub_server`` warn that the module was imported twice).
"""
