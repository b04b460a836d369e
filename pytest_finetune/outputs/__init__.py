"""What a run produces besides pass and fail: the terminal summary and the report files."""
