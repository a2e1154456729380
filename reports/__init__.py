"""Report builder: turns the registry's results into the comparison report people read."""
