#!/usr/bin/env python3
"""Timeline plot of `shoal-bench failover`: request latency and outcome around one
representative failover per scenario (rows) and system (columns).

    python3 bench/tools/failover-plot.py bench/results/failover.json docs/failover-timeline.png

x: when the request was sent, in ms relative to the fault; y: its latency (log scale);
colour and marker: its outcome. Vertical lines: the fault (0), the first moment a new
leader was seen, the first acknowledged write sent after the fault, and (d) SIGCONT.
The representative trial is the one whose write-unavailability window is nearest the
scenario's median (chosen by the harness).
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from timeline_axes import figure_legend, style_timeline_axis  # noqa: E402

STYLE = {
    "ok": dict(color="tab:green", marker="o", s=6, label="acknowledged"),
    "failed": dict(color="tab:red", marker="x", s=18, label="failed (refused)"),
    "indeterminate": dict(color="tab:orange", marker="^", s=18, label="indeterminate (timeout / connection lost)"),
}
TITLES = {"a": "(a) leader SIGKILL", "b": "(b) leader host cut off", "c": "(c) planned hand-over", "d": "(d) leader SIGSTOP → SIGCONT"}


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        run = json.load(f)
    systems = [s for s in run["systems"] if s.get("scenarios")]
    codes = [c for c in "abcd" if any(sc["scenario"] == c for s in systems for sc in s["scenarios"])]
    if not systems or not codes:
        sys.exit("no scenario results in " + sys.argv[1])
    fig, axes = plt.subplots(len(codes), len(systems), figsize=(5.2 * len(systems), 3.0 * len(codes)), squeeze=False)
    for col, system in enumerate(systems):
        by_code = {sc["scenario"]: sc for sc in system["scenarios"]}
        for row, code in enumerate(codes):
            ax = axes[row][col]
            scenario = by_code.get(code)
            timeline = scenario.get("timeline") if scenario else None
            if not timeline:
                ax.set_axis_off()
                continue
            points = timeline["points"]
            for outcome, style in STYLE.items():
                xs = [p["startMs"] for p in points if p["outcome"] == outcome]
                ys = [max(p["latencyMs"], 0.05) for p in points if p["outcome"] == outcome]
                if xs:
                    ax.scatter(xs, ys, linewidths=0.8, **style)
            ax.axvline(0, color="black", linewidth=1.2, label="fault")
            if timeline.get("newLeaderMs") is not None:
                ax.axvline(timeline["newLeaderMs"], color="tab:blue", linestyle="--", linewidth=1.2, label="new leader seen")
            if timeline.get("unavailableMs") is not None:
                ax.axvline(timeline["unavailableMs"], color="tab:green", linestyle=":", linewidth=1.2,
                           label="first ack of a write sent after the fault")
            if timeline.get("resumedMs") is not None:
                ax.axvline(timeline["resumedMs"], color="tab:purple", linestyle="-.", linewidth=1.2, label="SIGCONT")
            ax.set_yscale("log")
            window = timeline.get("unavailableMs")
            ax.set_title("%s: %s\ntrial %d, writes back after %s ms" % (
                system["system"], TITLES.get(code, code), timeline["trial"], "%.1f" % window if window is not None else "-"),
                fontsize=9)
            style_timeline_axis(ax, "request sent, ms after the fault", "latency, ms")
    figure_legend(fig, axes, 4)
    fig.suptitle("shoal-bench failover: request latency and outcome around a representative failover "
                 "(%s, %s)" % (run.get("timestamp", ""), run.get("commit", "")), fontsize=10)
    fig.tight_layout(rect=(0, 0.05, 1, 0.97))
    fig.savefig(sys.argv[2], dpi=110)


if __name__ == "__main__":
    main()
