"""`fastgroup grade` as the learner sees it: report, progress, plots, hints, watch mode."""
