"""A PNG per training step: the learner's accuracy per epoch beside the reference's."""

from pathlib import Path

from grader.home import subdir


def save_plots(graded) -> dict[str, Path]:
    """Plot every training check that produced a curve; returns {step: png path}."""
    curves = [g for g in graded if len(g.result.outcome.get("curve") or []) > 1]
    if not curves:
        return {}
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = {}
    for g in curves:
        o = g.result.outcome
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot(range(1, len(o["curve"]) + 1), o["curve"], marker="o", label="your code")
        ax.plot(range(1, len(o["ref_curve"]) + 1), o["ref_curve"], linestyle="--", label="reference")
        ax.axhline(o["threshold"], color="grey", linewidth=1, label=f"threshold {o['threshold']:.4f}")
        ax.set(xlabel="epoch", ylabel="validation accuracy", title=f"{g.step}: accuracy per epoch")
        ax.legend(loc="lower right")
        fig.tight_layout()
        path = subdir("plots") / f"{g.step}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        paths[g.step] = path
    return paths
