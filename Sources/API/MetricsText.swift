/// Builds the Prometheus text exposition format, version 0.0.4 (what `/metrics` serves with
/// `Content-Type: text/plain; version=0.0.4`).
///
/// One call per metric family writes its `# HELP` and `# TYPE` lines and every sample, so a
/// family's samples always stay together, as the format requires. Label values and help
/// text are escaped here; metric and label names are the program's own, so a malformed
/// one, or a family written twice, is a bug and stops the process (principle 5).
///
///     var metrics = MetricsText()
///     metrics.counter("shoal_api_requests_total", help: "HTTP requests answered.",
///                     samples: [([("code", "200")], 12), ([("code", "404")], 1)])
///     metrics.gauge("shoal_store_objects", help: "Objects stored.", value: 42)
///     metrics.histogram("shoal_api_request_duration_seconds", help: "...", latency)
///     let body = metrics.text
public struct MetricsText: Sendable {
    /// The exposition so far.
    public private(set) var text = ""
    private var families: Set<String> = []

    /// An empty exposition.
    public init() {}

    // MARK: Families

    /// A counter family with one unlabelled sample.
    public mutating func counter(_ name: String, help: String, value: Double) {
        family(name, type: "counter", help: help) { $0.sample(name, [], value) }
    }

    /// A counter family with one sample per label set (label name/value pairs, in order).
    public mutating func counter(_ name: String, help: String, samples: [(labels: [(String, String)], value: Double)]) {
        family(name, type: "counter", help: help) { out in
            for (labels, value) in samples { out.sample(name, labels, value) }
        }
    }

    /// A gauge family with one unlabelled sample.
    public mutating func gauge(_ name: String, help: String, value: Double) {
        family(name, type: "gauge", help: help) { $0.sample(name, [], value) }
    }

    /// A gauge family with one sample per label set.
    public mutating func gauge(_ name: String, help: String, samples: [(labels: [(String, String)], value: Double)]) {
        family(name, type: "gauge", help: help) { out in
            for (labels, value) in samples { out.sample(name, labels, value) }
        }
    }

    /// A histogram family with one unlabelled histogram.
    public mutating func histogram(_ name: String, help: String, _ histogram: MetricsHistogram) {
        self.histogram(name, help: help, samples: [([], histogram)])
    }

    /// A histogram family with one histogram per label set: cumulative `_bucket` samples
    /// (`le` last among the labels, ending with `+Inf`), then `_sum` and `_count`.
    public mutating func histogram(_ name: String, help: String,
                                   samples: [(labels: [(String, String)], histogram: MetricsHistogram)]) {
        family(name, type: "histogram", help: help) { out in
            for (labels, histogram) in samples {
                var cumulative: UInt64 = 0
                for (i, bound) in histogram.upperBounds.enumerated() {
                    cumulative += histogram.bucketCounts[i]
                    out.sample(name + "_bucket", labels + [("le", Self.format(bound))], Double(cumulative))
                }
                out.sample(name + "_bucket", labels + [("le", "+Inf")], Double(histogram.count))
                out.sample(name + "_sum", labels, histogram.sum)
                out.sample(name + "_count", labels, Double(histogram.count))
            }
        }
    }

    private mutating func family(_ name: String, type: String, help: String, _ body: (inout MetricsText) -> Void) {
        precondition(Self.isValidMetricName(name), "invalid Prometheus metric name \"\(name)\"")
        precondition(families.insert(name).inserted, "metric family \(name) written twice (its samples must stay together)")
        text += "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) \(type)\n"
        body(&self)
    }

    private mutating func sample(_ name: String, _ labels: [(String, String)], _ value: Double) {
        text += name
        if !labels.isEmpty {
            text += "{"
            for (i, (label, labelValue)) in labels.enumerated() {
                precondition(Self.isValidLabelName(label), "invalid Prometheus label name \"\(label)\" on \(name)")
                text += (i == 0 ? "" : ",") + label + "=\"" + Self.escapeLabelValue(labelValue) + "\""
            }
            text += "}"
        }
        text += " " + Self.format(value) + "\n"
    }

    // MARK: Format rules

    /// A sample value: integers without a fraction, `+Inf`, `-Inf`, `NaN` as the format spells them.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value.magnitude < 0x1p53, let integer = Int64(exactly: value) { return String(integer) }
        return value.description
    }

    /// Label values escape backslash, double quote and line feed.
    static func escapeLabelValue(_ text: String) -> String {
        var out = ""
        for character in text.unicodeScalars {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    /// Help text escapes backslash and line feed.
    static func escapeHelp(_ text: String) -> String {
        var out = ""
        for character in text.unicodeScalars {
            switch character {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`
    static func isValidMetricName(_ name: String) -> Bool {
        isValidName(name, allowColon: true)
    }

    /// `[a-zA-Z_][a-zA-Z0-9_]*`, and not reserved (`__` prefix).
    static func isValidLabelName(_ name: String) -> Bool {
        isValidName(name, allowColon: false) && !name.hasPrefix("__")
    }

    private static func isValidName(_ name: String, allowColon: Bool) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first else { return false }
        func isLetter(_ b: UInt8) -> Bool { (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || b == 0x5F || (allowColon && b == 0x3A) }
        guard isLetter(first) else { return false }
        return bytes.dropFirst().allSatisfy { isLetter($0) || ($0 >= 0x30 && $0 <= 0x39) }
    }
}

/// A Prometheus histogram: counts of observations at or below each upper bound, their sum
/// and their count. Fixed buckets, so memory stays constant however much is observed.
public struct MetricsHistogram: Sendable, Equatable {
    /// Latency buckets in seconds, from 1 ms to 10 s.
    public static let secondsBounds: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    /// Finite, strictly increasing upper bounds (the `+Inf` bucket is implicit).
    public let upperBounds: [Double]
    /// Observations per bucket, not cumulative: `bucketCounts[i]` counts values in
    /// (`upperBounds[i-1]`, `upperBounds[i]`]; values above the last bound only in `count`.
    public private(set) var bucketCounts: [UInt64]
    /// Sum of every observation.
    public private(set) var sum: Double = 0
    /// Number of observations.
    public private(set) var count: UInt64 = 0

    /// An empty histogram with these bucket bounds (latency in seconds by default).
    public init(upperBounds: [Double] = MetricsHistogram.secondsBounds) {
        precondition(upperBounds.allSatisfy(\.isFinite), "histogram bounds must be finite: \(upperBounds)")
        precondition(zip(upperBounds, upperBounds.dropFirst()).allSatisfy { $0 < $1 },
                     "histogram bounds must increase strictly: \(upperBounds)")
        self.upperBounds = upperBounds
        bucketCounts = Array(repeating: 0, count: upperBounds.count)
    }

    /// A histogram kept elsewhere in cumulative form (as Prometheus prints it): `cumulativeCounts[i]`
    /// counts the observations at or below `upperBounds[i]`.
    public init(upperBounds: [Double], cumulativeCounts: [UInt64], sum: Double, count: UInt64) {
        precondition(cumulativeCounts.count == upperBounds.count, "one cumulative count per bound")
        precondition(zip(cumulativeCounts, cumulativeCounts.dropFirst()).allSatisfy { $0 <= $1 }
                     && (cumulativeCounts.last ?? 0) <= count, "cumulative counts must not decrease")
        self.init(upperBounds: upperBounds)
        var below: UInt64 = 0
        for (i, cumulative) in cumulativeCounts.enumerated() {
            bucketCounts[i] = cumulative - below
            below = cumulative
        }
        self.sum = sum
        self.count = count
    }

    /// Records one observation.
    public mutating func observe(_ value: Double) {
        sum += value
        count += 1
        // First bound at or above the value (bounds are few: a linear scan is fastest).
        if let i = upperBounds.firstIndex(where: { value <= $0 }) { bucketCounts[i] += 1 }
    }
}
