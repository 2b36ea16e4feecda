"""Importers: files users already hold (Zeeschuimer, Instaloader, twarc2, saved payloads)."""
