"""Data: loading the target split and source samples with `datasets` (`loading`), seeded sampling and content
fingerprints (`sample`)."""
