"""The parity harness: one registry of cases that feeds the tests, the CLI and the report."""
