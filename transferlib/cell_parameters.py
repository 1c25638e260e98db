"""The parameters a cell's notebook takes, declared once."""

PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")  # Keras dtype policies
INITS = ("paper", "he")  # a network's initial weights (models.layer_initializers)


def default_init(image_size):
    """The paper's initialisation at its 227 px; He's at 32 and 64 px, where the paper's leaves
    a short schedule at chance (models.caffenet)."""
    return "paper" if image_size == 227 else "he"
