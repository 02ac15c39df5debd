"""Small utilities shared by the package (progress display)."""
