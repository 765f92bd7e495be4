@testable import Store
import XCTest

/// The bucketed table behind each namespace: the same answers as one dictionary.
final class NamespaceTableTests: XCTestCase {
    func testBucketsAreStableAndSpreadNames() {
        XCTAssertEqual(NamespaceTable.bucket(of: "web-1"), NamespaceTable.bucket(of: "web-1"))
        var sizes = [Int](repeating: 0, count: NamespaceTable.bucketCount)
        for i in 0..<6_400 { sizes[NamespaceTable.bucket(of: "fo-load-0-\(i % 64)-\(i)")] += 1 }
        XCTAssertEqual(sizes.reduce(0, +), 6_400)
        // 100 per bucket on average; a bad hash would pile names into a few buckets.
        XCTAssertLessThan(sizes.max()!, 200, "\(sizes)")
        XCTAssertGreaterThan(sizes.min()!, 30, "\(sizes)")
    }

    func testPutGetRemoveAndListMatchAPlainDictionary() {
        var random = SplitMix64(seed: 11)
        var harness = Harness()
        var expected: [String: Bool] = [:]
        for _ in 0..<3_000 {
            let name = "cm-\(random.next() % 500)"
            if random.next() % 3 == 0 {
                harness.apply(.delete(key: cmKey(name), expectedResourceVersion: nil, expectedUID: nil))
                expected[name] = nil
            } else if expected[name] == nil {
                harness.apply(create(configMap(name)))
                expected[name] = true
            }
        }
        let listed = harness.store.list(.configMap, namespace: "default").items.map(\.key.name)
        XCTAssertEqual(listed, expected.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
        XCTAssertEqual(harness.store.count, expected.count)
        for name in expected.keys { XCTAssertNotNil(harness.store.get(cmKey(name))) }
        XCTAssertNil(harness.store.get(cmKey("cm-never")))
    }

    /// A copy taken for a snapshot keeps its objects while the original moves on.
    func testACopyIsUnaffectedByLaterWrites() {
        var harness = Harness()
        for i in 0..<300 { harness.apply(create(configMap("cm-\(i)"))) }
        let copy = harness.store
        for i in 0..<300 where i % 2 == 0 {
            harness.apply(.delete(key: cmKey("cm-\(i)"), expectedResourceVersion: nil, expectedUID: nil))
        }
        XCTAssertEqual(copy.list(.configMap).items.count, 300)
        XCTAssertEqual(harness.store.list(.configMap).items.count, 150)
        XCTAssertEqual(copy.get(cmKey("cm-0"))?.resourceVersion, 1)
    }
}
