"""Exit statuses of the command, as pytest and ruff use them."""

#: Nothing failed.
OK = 0
#: A finding fails (``fail-on``), or prepare refused the data.
FAILED = 1
#: A usage or configuration error, or a check that crashed.
USAGE = 2
