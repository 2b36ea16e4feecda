"""tagpulse: a self-hosted social-media observatory."""

__all__ = ["__version__"]

__version__ = "0.1.0"
