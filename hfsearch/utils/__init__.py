"""Small utilities shared by every stage: logging and progress bars (`hfsearch.utils.logging`, `hfsearch.utils.progress`)."""
