"""Small utilities shared by every stage.

Logging and progress bars (`hfsearch.utils.logging`, `hfsearch.utils.progress`).
"""
