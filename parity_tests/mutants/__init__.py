"""The catalogue of planted bugs, one module per stem. Each module defines ``MUTANTS``."""
