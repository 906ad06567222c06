"""A PNG per training step: the learner's accuracy per epoch beside the reference's."""

from pathlib import Path

from grader.core.home import subdir


def save_plots(graded) -> dict[str, Path]:
    """Plot every training check that produced a curve; returns {step: png path}."""
    curves = [g for g in graded if len(g.result.outcome.get("curve") or []) > 1]
    if not curves:
        return save_confusion_plots(graded)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    paths = {}
    for g in curves:
        o = g.result.outcome
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot(range(1, len(o["curve"]) + 1), o["curve"], marker="o", label="your code")
        ax.plot(range(1, len(o["ref_curve"]) + 1), o["ref_curve"], linestyle="--", label="reference")
        ax.axhline(o["threshold"], color="grey", linewidth=1, label=f"threshold {o['threshold']:.4f}")
        ax.set(xlabel="epoch", ylabel="validation accuracy", title=f"{g.step}: accuracy per epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(loc="lower right")
        fig.tight_layout()
        path = subdir("plots") / f"{g.step}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        paths[g.step] = path
    paths.update(save_confusion_plots(graded))
    return paths


def save_confusion_plots(graded) -> dict[str, Path]:
    """A confusion matrix per 10-class training check (bonus steps): {'step (confusion)': png path}."""
    matrices = [g for g in graded if g.result.outcome.get("confusion")]
    if not matrices:
        return {}
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = {}
    for g in matrices:
        counts = g.result.outcome["confusion"]
        n = len(counts)
        fig, ax = plt.subplots(figsize=(5.5, 5))
        ax.imshow(counts, cmap="Blues")
        top = max(max(row) for row in counts) or 1
        for i in range(n):
            for j in range(n):
                if counts[i][j]:
                    colour = "white" if counts[i][j] > top / 2 else "black"
                    ax.text(j, i, str(counts[i][j]), ha="center", va="center", fontsize=7, color=colour)
        ax.set(xticks=range(n), yticks=range(n), xlabel="predicted digit", ylabel="true digit",
               title=f"{g.step}: confusion matrix (validation)")
        fig.tight_layout()
        path = subdir("plots") / f"{g.step}-confusion.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        paths[f"{g.step} (confusion matrix)"] = path
    return paths
