"""Registry cases, one module per stem. Each module defines ``CASES``."""
