"""Enrichment: derived tables computed from the lake and the media store."""
