"""The summary's figures drawn from a results table (transferlib.records.table.read), one
module each, their shared styles in ``style``.

figure2 and figure3 (``paper_figure2``, ``paper_figure3``) are the paper's Figures 2 and 3,
learning_curves (``curves``) the validation top-1 of every network; beyond the paper, similarity
(``layer_similarity``) draws the layer similarity (linear CKA) next to the transfer curves,
generality (``layer_generality``) the per-layer generality scores, reduced_data (``reduced``) the
networks trained on k images per class, block_shuffle (``shuffled_blocks``) the block-shuffled
targets, transfer_scores (``frozen_scores``) the scores of frozen features per layer beside AnB
and AnB+, surgical (``surgical_units``) the surgical study's units tuned alone, and cka_figure
(``cka_map``) a CKA heat map. The first-layer filters are drawn by ``cell.conv1_figure``.

Each returns a matplotlib Figure built without pyplot (no global state, works under any backend,
Agg included), or None where the study has no networks for it, and draws only the panels the
study has data for: `fig.savefig(path)` writes it; a notebook displays a returned Figure once
`%matplotlib inline` has run. Both directions of a split are pooled under the paper's names
(BnB stands for BnB and AnA, AnB for AnB and BnA). The title of a figure of the paper's
treatments names its metric, by default the one summary.metrics.choose picks; confidence
intervals are drawn only over 3 or more replicates, and the y axes span the plotted values.
"""

from .cka_map import cka_figure
from .curves import learning_curves
from .frozen_scores import transfer_scores
from .layer_generality import generality
from .layer_similarity import similarity
from .paper_figure2 import figure2
from .paper_figure3 import figure3
from .reduced import reduced_data
from .shuffled_blocks import block_shuffle
from .style import MIN_CI, STYLE
from .surgical_units import surgical

__all__ = ["MIN_CI", "STYLE", "block_shuffle", "cka_figure", "figure2", "figure3", "generality",
           "learning_curves", "reduced_data", "similarity", "surgical", "transfer_scores"]
