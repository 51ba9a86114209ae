"""Yearly reports: one selector computing the figures in SQL, and a renderer per format."""
