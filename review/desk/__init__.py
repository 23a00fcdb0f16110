"""The desk: the reviewer's verbs as pages, served to one browser on this machine only.

Server-rendered HTML and forms over ``review.service``; the plaintext stays in this process's
memory (I9) and every text reaches the page through ``review.printable`` and autoescaping (I11).
"""

from __future__ import annotations

from .app import create_desk

__all__ = ["create_desk"]
