"""The paper's ImageNet numbers (PAPER.md), recomputed from the official training logs."""

# Tolerances of the verdicts in findings(), on a treatment's mean top-1 relative to its base's.
def _paper_reference():
    means = {
        "selffer": (.6267, .6235, .6211, .6048, .5935, .6188, .6232),
        "transfer": (.6282, .6239, .6189, .5998, .5780, .5806, .5425),
        "selffer+": (.6177, .6215, .6313, .6287, .6301, .6276, .6266),
        "transfer+": (.6373, .6358, .6426, .6398, .6446, .6460, .6465),
        "random": (.4917, .4026, .0011, .0191, .0499, .0145, .0146),
    }
    means = {t: dict(zip(range(1, 8), v)) for t, v in means.items()}
    base, base1000 = .6251, .5763  # the random networks were trained on all 1000 classes
    relative = {t: {n: v / (base1000 if t == "random" else base) - 1 for n, v in m.items()}
                for t, m in means.items()}
    dissimilar = dict(zip(range(1, 8), (.003, -.009, -.032, -.073, -.130, -.166, -.250)))
    return {
        "dataset": "ImageNet (ILSVRC-2012), 500 + 500 classes",
        "metric": "best10_top1",
        "base": {"mean": base, "min": .6151, "max": .6341, "networks": 8, "base1000": base1000},
        "means": means,
        "relative": {"similar": relative, "dissimilar": {"transfer": dissimilar}},
        "dissimilar_base": {"natural": .6534, "man-made": .5372},
        "similar_transfer_relative_n7": -.083,
        "table1": {"1-7": (.016, .014), "3-7": (.018, .014), "5-7": (.021, .017)},
    }


PAPER_REFERENCE = _paper_reference()
"""The paper's ImageNet numbers (PAPER.md): per pooled treatment and n the mean top-1 ("means")
and the same relative to the base ("relative", similar tasks; dissimilar: transfer only), the
bases, and Table 1 as {layers: (AnB+ - baseB, AnB+ - BnB+)} in top-1 (0.016 = 1.6 points)."""
