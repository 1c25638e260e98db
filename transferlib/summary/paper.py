"""The paper's ImageNet numbers (PAPER.md), recomputed from the official training logs."""


def _paper_reference():
    means = {
        "BnB": (.6267, .6235, .6211, .6048, .5935, .6188, .6232),
        "AnB": (.6282, .6239, .6189, .5998, .5780, .5806, .5425),
        "BnB+": (.6177, .6215, .6313, .6287, .6301, .6276, .6266),
        "AnB+": (.6373, .6358, .6426, .6398, .6446, .6460, .6465),
        "random": (.4917, .4026, .0011, .0191, .0499, .0145, .0146),
    }
    means = {t: dict(zip(range(1, 8), v)) for t, v in means.items()}
    base, base1000 = .6251, .5763  # the random networks were trained on all 1000 classes
    difference = {t: {n: v - (base1000 if t == "random" else base) for n, v in m.items()}
                  for t, m in means.items()}
    dissimilar = dict(zip(range(1, 8), (.003, -.009, -.032, -.073, -.130, -.166, -.250)))
    return {
        "dataset": "ImageNet (ILSVRC-2012), 500 + 500 classes",
        "metric": "best10_top1",
        "base": {"mean": base, "min": .6151, "max": .6341, "networks": 8, "base1000": base1000},
        "means": means,
        "difference": {"similar": difference, "dissimilar": {"AnB": dissimilar}},
        "dissimilar_base": {"man-made": .5372, "natural": .6534},
        "similar_AnB_difference_n7": -.083,
        "table1": {"1-7": (1.6, 1.4), "3-7": (1.8, 1.4), "5-7": (2.1, 1.7)},
        # each official AnB+ and BnB+ minus its own half's base, mean over n in the range (points)
        "table1_paired": {"1-7": (0.97, 0.94), "3-7": (1.16, 1.13), "5-7": (1.16, 1.03)},
        "dip": -2.43,  # BnB(4,5) - mean(BnB2, BnB7), points, over the 4 official replicates
        "bnb7_paired": 0.00,  # BnB7 - own base, points
    }


PAPER_REFERENCE = _paper_reference()
"""The paper's ImageNet numbers (PAPER.md), its metric the mean of the 10 best validations: per
pooled treatment and n the mean top-1 ("means") and the same minus the base's ("difference",
0.01 = 1 point; similar tasks from the mean of the 8 half bases, random from the 1000-class
base; dissimilar: AnB only, each network minus its own base), the bases, Table 1 as
{layers: (AnB+ - base, AnB+ - BnB+)} in points, as printed in the paper, the same paired
({layers: (AnB+ - own base, BnB+ - own base)}, from paper/official_networks.csv) and the
offset-free co-adaptation dip of finding 2."""
