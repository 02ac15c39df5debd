"""The Hub as a folder (`layout`: a local registry laid out like the Hub) and links to Hub pages (`links`)."""
