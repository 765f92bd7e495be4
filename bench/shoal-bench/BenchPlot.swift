// Timeline plots: the benchmarks write JSON, bench/tools/*-plot.py draws it with matplotlib.
import Foundation

/// The plots need matplotlib: pip-install it for this user if python3 cannot import it.
func ensureMatplotlib() {
    if (try? runCommand(["python3", "-c", "import matplotlib"], timeout: 60, check: false).status) == 0 { return }
    print("installing matplotlib (python3 -m pip install matplotlib)")
    if (try? runCommand(["python3", "-m", "pip", "--version"], timeout: 60, check: false).status) != 0 {
        // A fresh Debian has python3 but not pip.
        print("installing pip (apt-get install python3-pip)")
        try? aptInstall(["python3-pip"])
    }
    // Debian's python3 refuses pip installs outside a virtual environment (PEP 668)
    // unless told --break-system-packages; a user install touches nothing of the system's.
    let attempts = [["python3", "-m", "pip", "install", "--quiet", "--user", "matplotlib"],
                    ["python3", "-m", "pip", "install", "--quiet", "matplotlib"],
                    ["python3", "-m", "pip", "install", "--quiet", "--break-system-packages", "--user", "matplotlib"]]
    for attempt in attempts {
        if (try? runCommand(attempt, timeout: 600, check: false).status) == 0,
           (try? runCommand(["python3", "-c", "import matplotlib"], timeout: 60, check: false).status) == 0 { return }
    }
    print("warning: could not install matplotlib; no plot will be drawn (the JSON holds the timeline)")
}

/// Draws `json` into the PNG `plot` with bench/tools/`script`; says where it went, or why not.
func drawPlot(script: String, json: String, plot: String, repository: String) {
    guard let output = try? runCommand(["python3", "\(repository)/bench/tools/\(script)", json, plot], timeout: 120, check: false) else {
        say("plot failed: python3 did not run")
        return
    }
    say(output.status == 0 ? "timeline plot: \(plot)" : "plot failed:\n\(output.stderr)")
}
