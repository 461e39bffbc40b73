"""The version of tabbench, for every layer that records it (the root package re-exports it)."""

__version__ = "0.1.0"
