"""The application: the ``dlfs-parity`` command line (``cli``), on top of the harness
(``parity_tests``) and the report builder (``reports``). Nothing below imports it."""
