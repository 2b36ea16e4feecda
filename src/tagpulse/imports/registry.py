"""The importers by name, as ``tagpulse import <name>`` knows them."""

from __future__ import annotations

from tagpulse.imports.base import Importer
from tagpulse.imports.instagram_files import InstagramJsonImporter, InstaloaderImporter
from tagpulse.imports.twarc2 import Twarc2Importer
from tagpulse.imports.zeeschuimer import ZeeschuimerImporter

__all__ = ["IMPORT_FORMATS", "importer_for"]

IMPORT_FORMATS: tuple[str, ...] = ("zeeschuimer", "instaloader", "twarc2", "instagram-json")


def importer_for(name: str) -> Importer | None:
    if name == "zeeschuimer":
        return ZeeschuimerImporter()
    if name == "instaloader":
        return InstaloaderImporter()
    if name == "twarc2":
        return Twarc2Importer()
    if name == "instagram-json":
        return InstagramJsonImporter()
    return None
