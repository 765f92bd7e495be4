import JSON
import Store
import XCTest

/// What makes an object invalid (422), with errors that say which field and why.
final class ValidationTests: XCTestCase {
    func invalid(_ command: StoreCommand, file: StaticString = #filePath, line: UInt = #line) -> String {
        var h = Harness()
        let result = h.apply(command)
        XCTAssertEqual(h.store.count, 0, file: file, line: line)
        XCTAssertTrue(h.events.isEmpty, file: file, line: line)
        guard let reason = result.invalidReason else {
            XCTFail("expected invalid, got \(result)", file: file, line: line)
            return ""
        }
        XCTAssertEqual(result.httpStatus, 422, file: file, line: line)
        return reason
    }

    func testNamesMustBeDNSSubdomains() {
        for bad in ["Web", "-web", "web-", "we_b", "web..x", String(repeating: "a", count: 254)] {
            XCTAssertTrue(invalid(create(configMap(bad))).hasPrefix("metadata.name: Invalid value"), bad)
        }
        XCTAssertEqual(invalid(create(configMap(""))), "metadata.name: Required value: name is required")
        var h = Harness()
        for good in ["web", "kube-root-ca.crt", "0", String(repeating: "a", count: 253)] {
            let result = h.apply(create(configMap(good)))
            XCTAssertEqual(result.httpStatus, 201, "\(good): \(result)")
        }
    }

    func testNamespacesMustBeDNSLabels() {
        for bad in ["Prod", "a.b", "-a", String(repeating: "a", count: 64)] {
            XCTAssertTrue(invalid(create(configMap("web", namespace: bad))).hasPrefix("metadata.namespace: Invalid value"), bad)
        }
        XCTAssertEqual(invalid(create(configMap("web", namespace: nil))), "metadata.namespace: Required value")
        XCTAssertTrue(invalid(.delete(key: ObjectKey(kind: .member, namespace: "default", name: "a"))).contains("cluster-scoped"))
    }

    func testConfigMapDataMustMapStringsToStrings() {
        XCTAssertEqual(invalid(create(configMap("web", data: ["n": 1]))), "data[\"n\"]: Invalid value: must be a string")
        XCTAssertEqual(invalid(create(configMap("web", data: "text"))), "data: Invalid value: must be an object of string keys to string values")
        XCTAssertTrue(invalid(create(configMap("web", data: ["a b": "x"]))).contains("valid config key"))
        var binary = configMap("web")
        binary["binaryData"] = ["k": "AAAA", "b": "not base64!"]
        let reason = invalid(create(binary))
        XCTAssertTrue(reason.contains("duplicate of key \"k\" in data"), reason)
        XCTAssertTrue(reason.contains("binaryData[\"b\"]: Invalid value: must be base64"), reason)
        let big = String(repeating: "x", count: 1024 * 1024 + 1)
        XCTAssertTrue(invalid(create(configMap("web", data: ["k": .string(big)]))).contains("Too long"))
        var h = Harness()
        XCTAssertEqual(h.apply(create(configMap("web", data: nil))).httpStatus, 201, "no data is fine")
    }

    func testUnknownKindsAndVersionsAreInvalid() {
        var widget = configMap("web")
        widget["kind"] = "Widget"
        XCTAssertEqual(invalid(create(widget)), "kind: Unsupported value: \"Widget\": no such kind is registered")
        var noKind = configMap("web")
        noKind["kind"] = nil
        XCTAssertEqual(invalid(create(noKind)), "kind: Required value")
        var v2 = configMap("web")
        v2["apiVersion"] = "v2"
        XCTAssertEqual(invalid(create(v2)), "apiVersion: Unsupported value: ConfigMap is served as \"v1\"")
        XCTAssertEqual(invalid(create(["not", "an", "object"])), "the object must be a JSON object")
        var noMetadata = configMap("web")
        noMetadata["metadata"] = nil
        XCTAssertEqual(invalid(create(noMetadata)), "metadata: Required value: must be an object")
    }

    func testLabelsAndAnnotationsMustBeValid() {
        XCTAssertTrue(invalid(create(configMap("web", labels: ["a b": "x"]))).contains("metadata.labels: Invalid value: \"a b\""))
        XCTAssertTrue(invalid(create(configMap("web", labels: ["a": String(repeating: "v", count: 64)]))).contains("no more than 63"))
        XCTAssertTrue(invalid(create(configMap("web", labels: ["/a": "x"]))).contains("prefix part must not be empty"))
        var numeric = configMap("web")
        numeric["metadata"]?["labels"] = ["a": 1]
        XCTAssertEqual(invalid(create(numeric)), "metadata.labels[\"a\"]: Invalid value: must be a string")
        var annotated = configMap("web")
        annotated["metadata"]?["annotations"] = ["note": .string(String(repeating: "x", count: 256 * 1024))]
        XCTAssertTrue(invalid(create(annotated)).contains("metadata.annotations: Too long"))
        var h = Harness()
        var good = configMap("web", labels: ["example.com/app": "a.b_c-1", "empty": ""])
        good["metadata"]?["annotations"] = ["example.com/note": "any text at all: ✓"]
        XCTAssertEqual(h.apply(create(good)).httpStatus, 201)
    }

    func testMemberSpecIsChecked() {
        XCTAssertTrue(invalid(create(member("a", peerPort: 0))).contains("spec.peerPort"))
        XCTAssertTrue(invalid(create(member("a", apiPort: 70000))).contains("spec.apiPort"))
        XCTAssertTrue(invalid(create(member("a", apiPort: "80"))).contains("spec.apiPort"))
        XCTAssertTrue(invalid(create(member("a", incarnation: -1))).contains("spec.incarnation"))
        XCTAssertTrue(invalid(create(member("a", role: "leader"))).contains("spec.role: Unsupported value"))
        XCTAssertTrue(invalid(create(member("a", address: "two words"))).contains("spec.address"))
        var noSpec = member("a")
        noSpec["spec"] = nil
        XCTAssertEqual(invalid(create(noSpec)), "spec: Required value: must be an object")
        var h = Harness()
        XCTAssertEqual(h.apply(create(member("host-a", address: "fd00::1", role: "learner"))).httpStatus, 201)
    }

    func testEveryFieldErrorIsReportedAtOnce() {
        let reason = invalid(create(member("Bad_Name", peerPort: 0, role: "x")))
        XCTAssertEqual(reason.split(separator: ";").count, 3, reason)
    }

    func testCreateNeedsAUIDAndTimestampFromTheProposer() {
        XCTAssertTrue(invalid(.create(object: configMap("web"), uid: "", creationTimestamp: createdAt)).contains("metadata.uid"))
        XCTAssertTrue(invalid(.create(object: configMap("web"), uid: "has space", creationTimestamp: createdAt)).contains("metadata.uid"))
        for bad in ["", "2024-05-01 12:00:00Z", "2024-02-30T00:00:00Z", "2024-05-01T24:00:00Z", "2024-05-01T12:00:00+02:00"] {
            XCTAssertTrue(invalid(.create(object: configMap("web"), uid: "u", creationTimestamp: bad)).contains("creationTimestamp"), bad)
        }
    }

    func testResourceVersionMustNotBeSetOnCreate() {
        var body = configMap("web")
        body["metadata"]?["resourceVersion"] = "5"
        XCTAssertEqual(invalid(create(body)), "metadata.resourceVersion: Forbidden: must not be set on objects to be created")
    }

    func testStoredObjectsAreBoundedInSize() {
        var big = member("a")
        big["spec"]?["padding"] = .string(String(repeating: "x", count: Store.objectSizeMaxBytes))
        XCTAssertTrue(invalid(create(big)).contains("Too long"))
    }

    func testTimestampsAreFormattedAsRFC3339UTC() {
        XCTAssertEqual(Timestamp.format(unixSeconds: 0), "1970-01-01T00:00:00Z")
        XCTAssertEqual(Timestamp.format(unixSeconds: 951_827_696), "2000-02-29T12:34:56Z")
        XCTAssertEqual(Timestamp.format(unixSeconds: -1), "1969-12-31T23:59:59Z")
        XCTAssertEqual(Timestamp.format(unixSeconds: 4_102_444_800), "2100-01-01T00:00:00Z")
        XCTAssertTrue(Timestamp.isValid("2000-02-29T00:00:00Z"))
        XCTAssertFalse(Timestamp.isValid("1900-02-29T00:00:00Z"))
        var rng = SplitMix64(seed: 7)
        for _ in 0..<1000 {
            let seconds = Int64(rng.next() % 253_402_300_800)
            XCTAssertTrue(Timestamp.isValid(Timestamp.format(unixSeconds: seconds)), "\(seconds)")
        }
    }
}
