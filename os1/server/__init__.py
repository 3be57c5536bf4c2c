"""The HTTP API and the chat page, over the same core as the CLI."""

from .app import create_app

__all__ = ["create_app"]
