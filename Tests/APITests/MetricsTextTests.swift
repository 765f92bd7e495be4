import XCTest

@testable import API

final class MetricsTextTests: XCTestCase {
    func testCountersGaugesAndEscaping() {
        var metrics = MetricsText()
        metrics.counter("shoal_x_total", help: "Things done.", value: 3)
        metrics.counter("shoal_y_total", help: "Back\\slash and\nnewline.",
                        samples: [([("path", "a\"b\\c\nd"), ("code", "200")], 1), ([], 2.5)])
        metrics.gauge("shoal_z", help: "A gauge.", value: -0.25)
        metrics.gauge("shoal_w", help: "Specials.", samples: [([("v", "inf")], .infinity), ([("v", "nan")], .nan), ([("v", "big")], 1e300)])
        XCTAssertEqual(metrics.text, """
            # HELP shoal_x_total Things done.
            # TYPE shoal_x_total counter
            shoal_x_total 3
            # HELP shoal_y_total Back\\\\slash and\\nnewline.
            # TYPE shoal_y_total counter
            shoal_y_total{path="a\\"b\\\\c\\nd",code="200"} 1
            shoal_y_total 2.5
            # HELP shoal_z A gauge.
            # TYPE shoal_z gauge
            shoal_z -0.25
            # HELP shoal_w Specials.
            # TYPE shoal_w gauge
            shoal_w{v="inf"} +Inf
            shoal_w{v="nan"} NaN
            shoal_w{v="big"} 1e+300

            """)
    }

    func testHistogramsAreCumulativeWithInfSumAndCount() {
        var latency = MetricsHistogram(upperBounds: [0.1, 1, 10])
        for value in [0.05, 0.1, 0.5, 2, 20, 30] { latency.observe(value) }
        XCTAssertEqual(latency.bucketCounts, [2, 1, 1])
        var metrics = MetricsText()
        metrics.histogram("shoal_latency_seconds", help: "Latency.", samples: [([("op", "put")], latency)])
        XCTAssertEqual(metrics.text, """
            # HELP shoal_latency_seconds Latency.
            # TYPE shoal_latency_seconds histogram
            shoal_latency_seconds_bucket{op="put",le="0.1"} 2
            shoal_latency_seconds_bucket{op="put",le="1"} 3
            shoal_latency_seconds_bucket{op="put",le="10"} 4
            shoal_latency_seconds_bucket{op="put",le="+Inf"} 6
            shoal_latency_seconds_sum{op="put"} \(MetricsText.format(latency.sum))
            shoal_latency_seconds_count{op="put"} 6

            """)
    }

    func testNameRules() {
        XCTAssertTrue(MetricsText.isValidMetricName("shoal:api_requests_total"))
        XCTAssertFalse(MetricsText.isValidMetricName("9lives"))
        XCTAssertFalse(MetricsText.isValidMetricName("a-b"))
        XCTAssertFalse(MetricsText.isValidMetricName(""))
        XCTAssertTrue(MetricsText.isValidLabelName("code"))
        XCTAssertFalse(MetricsText.isValidLabelName("__name__"))
        XCTAssertFalse(MetricsText.isValidLabelName("a:b"))
    }
}
