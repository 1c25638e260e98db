"""A study's records: its folder's layout, the results table and the paper's names for its
rows, the validation curves a cell writes, and how files are stored (a folder or a URL) and
written (atomically)."""
