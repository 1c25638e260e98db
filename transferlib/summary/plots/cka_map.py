"""A heat map of linear CKA, layer by layer (``transferlib.cka_figure``)."""

from matplotlib.figure import Figure


def cka_figure(matrix, title="Linear CKA, layer by layer"):
    """A heat map of a ``cka_matrix`` (rows one model's layers, columns the other's), 0 to 1.

    >>> import pandas as pd
    >>> from transferlib import cka_figure
    >>> matrix = pd.DataFrame([[1.0, 0.4], [0.5, 0.9]], index=["conv1", "fc8"], columns=["conv1", "fc8"])
    >>> fig = cka_figure(matrix)
    >>> fig.axes[0].get_title()
    'Linear CKA, layer by layer'
    """
    fig = Figure(figsize=(1.2 + 0.5 * matrix.shape[1], 1.0 + 0.5 * matrix.shape[0]), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(matrix.to_numpy(float), vmin=0, vmax=1, cmap="viridis")
    ax.set_xticks(range(matrix.shape[1]), matrix.columns, rotation=90)
    ax.set_yticks(range(matrix.shape[0]), matrix.index)
    ax.set_xlabel(matrix.columns.name or "")
    ax.set_ylabel(matrix.index.name or "")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label="CKA")
    return fig
