"""What the benchmarks' timeline plots share: a request-timeline axis's labels and grid,
and one legend for the whole figure with each label once."""


def style_timeline_axis(ax, xlabel, ylabel):
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(True, which="major", alpha=0.3)


def figure_legend(fig, axes, ncol_max):
    """One legend below the panels: every label any panel used, in first-seen order."""
    handles, labels = [], []
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), ncol_max), fontsize=8, markerscale=2)
