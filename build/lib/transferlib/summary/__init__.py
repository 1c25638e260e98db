"""The summary: statistics, the paper's numbers and findings, and figures, all read from a
study's results table (what the summary notebook calls)."""
