"""The surgical study's figure: per shift, each unit tuned alone beside full fine-tuning, the
linear probe and training from scratch (``summary.surgical``'s labelled rows)."""

from matplotlib.figure import Figure

from ..surgical import LEVEL


def surgical(labelled, metric, names):
    """Per shift, top-1 of each unit tuned alone (mean over splits, bars its range), beside full
    fine-tuning, the linear probe and training from scratch (lines); None without surgical cells."""
    shifts = [s for s in LEVEL if s in set(labelled["shift"])]
    if not shifts:
        return None
    fig = Figure(figsize=(3.6 * len(shifts), 3.2))
    axes = fig.subplots(1, len(shifts), squeeze=False, sharey=False)
    for ax, shift in zip(axes[0], shifts):
        rows = labelled[labelled["shift"] == shift]
        per_split = rows.groupby(["treatment", "k", "split"])[metric].mean()
        single = per_split.loc["unit"].groupby(level=0) if "unit" in per_split.index.get_level_values(0) else None
        if single is not None:
            mean, low, high = (100 * single.mean(), 100 * single.min(), 100 * single.max())
            ax.errorbar(mean.index, mean, yerr=[mean - low, high - mean], fmt="o-", color="C0", capsize=2,
                        label="one unit learning")
        for i, (treatment, name) in enumerate((("full", "full fine-tuning"), ("probe", "linear probe"),
                                               ("scratch", "from scratch"))):
            if treatment in per_split.index.get_level_values(0):
                ax.axhline(100 * per_split.loc[treatment].mean(), color=f"C{i + 1}", ls="--", label=name)
        ax.set_xticks(range(1, len(names) + 1), names, rotation=60, fontsize=7)
        ax.set_title(f"{shift} ({LEVEL[shift]}-level)", fontsize=9)
        ax.set_ylabel("top-1 (%)")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    return fig
