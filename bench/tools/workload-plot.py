#!/usr/bin/env python3
"""Timeline plot of `shoal-bench workload`: every request around one representative host
loss per case (rows: fault and victim; columns: replicas).

    python3 bench/tools/workload-plot.py bench/results/workload.json docs/workload-timeline.png

x: when the request was sent, in ms relative to the loss; y: how long it took (log scale;
a failed request takes up to the client's 1 s deadline); colour and marker: its outcome.
Vertical lines: the loss (0), the start of the last failed request, and the replacement
pods Ready. The representative trial is the one whose last failure is nearest the case's
median.
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from timeline_axes import figure_legend, style_timeline_axis  # noqa: E402

FAILURE_STYLES = [
    ("connect refused", dict(color="tab:orange", marker="x", s=18)),
    ("connect timed out", dict(color="tab:red", marker="x", s=18)),
]
OTHER_FAILURE = dict(color="tab:purple", marker="^", s=18)


def representative(trials):
    """The trial whose last failure is nearest the median of the case's trials."""
    ordered = sorted(trials, key=lambda t: t["lastFailureSeconds"])
    return ordered[(len(ordered) - 1) // 2]


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        run = json.load(f)
    cases = [c for c in run.get("hostLoss", []) if any(t.get("requestsTimeline") for t in c["trials"])]
    if not cases:
        sys.exit("no host-loss trials with request timelines in " + sys.argv[1])
    rows = sorted({(c["fault"], c["victim"]) for c in cases}, key=lambda r: (r[0] != "crash", r[1] != "pod"))
    columns = sorted({c["replicas"] for c in cases})
    fig, axes = plt.subplots(len(rows), len(columns), figsize=(max(7.5, 5.4 * len(columns)), 2.9 * len(rows)), squeeze=False)
    for case in cases:
        ax = axes[rows.index((case["fault"], case["victim"]))][columns.index(case["replicas"])]
        trial = representative([t for t in case["trials"] if t.get("requestsTimeline")])
        points = trial["requestsTimeline"]
        ok = [p for p in points if p["outcome"] == "ok"]
        ax.scatter([p["startMs"] for p in ok], [max(p["latencyMs"], 0.1) for p in ok],
                   color="tab:green", marker="o", s=5, linewidths=0.5, label="answered")
        known = set()
        for reason, style in FAILURE_STYLES:
            known.add(reason)
            failed = [p for p in points if p["outcome"] == reason]
            if failed:
                ax.scatter([p["startMs"] for p in failed], [max(p["latencyMs"], 0.1) for p in failed],
                           linewidths=0.8, label=reason, **style)
        other = [p for p in points if p["outcome"] != "ok" and p["outcome"] not in known]
        if other:
            ax.scatter([p["startMs"] for p in other], [max(p["latencyMs"], 0.1) for p in other],
                       linewidths=0.8, label="other failure", **OTHER_FAILURE)
        ax.axvline(0, color="black", linewidth=1.2, label="host lost")
        last = trial["lastFailureSeconds"] * 1000
        ax.axvline(last, color="tab:red", linestyle=":", linewidth=1.2, label="last failed request sent")
        if trial.get("replacementReadySeconds") is not None:
            ax.axvline(trial["replacementReadySeconds"] * 1000, color="tab:blue", linestyle="--", linewidth=1.2,
                       label="replacement pods Ready")
        ax.set_xlim(-1000, max(4000, (trial.get("replacementReadySeconds") or 0) * 1000 + 1000))
        ax.set_yscale("log")
        ax.set_title("%s of the %s host (%s), replicas %d\n%d pod(s) on it; last failure %.2f s after; %d of %d failed" % (
            case["fault"], case["victim"] if case["victim"] == "leader" else "pod", trial["host"], case["replicas"],
            trial["podsOnHost"], trial["lastFailureSeconds"], trial["failed"], trial["requests"]), fontsize=8)
        style_timeline_axis(ax, "request sent, ms after the loss", "took, ms")
    figure_legend(fig, axes, 3 * len(columns))
    fig.suptitle("shoal-bench workload: requests through the survivors' NodePorts around a host loss\n"
                 "(%s, commit %s)" % (run.get("timestamp", ""), run.get("commit", "")), fontsize=10)
    fig.tight_layout(rect=(0, 0.05, 1, 0.96))
    fig.savefig(sys.argv[2], dpi=100)


if __name__ == "__main__":
    main()
