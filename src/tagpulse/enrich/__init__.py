"""Enrichment: models run over the lake's text and images, written to derived tables."""
