"""Cairn's shared core: the age v1 format, key files and the sealed-item and bundle formats.

It knows no web, database or terminal, and imports nothing from ``intake`` or ``review``.
"""
