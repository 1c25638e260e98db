"""The parameters a cell's notebook takes, declared once."""

PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")  # Keras dtype policies
