import JSON
import XCTest

final class JSONPathAndLiteralTests: XCTestCase {
    func testLiteralsBuildTheSameValuesAsCases() {
        let value: JSONValue = ["a": 1, "b": 2.5, "c": "s", "d": true, "e": nil, "f": [1, "x"], "g": [:]]
        let expected = JSONValue.object(JSONObject([
            ("a", .int(1)), ("b", .double(2.5)), ("c", .string("s")), ("d", .bool(true)),
            ("e", .null), ("f", .array([.int(1), .string("x")])), ("g", .object(JSONObject())),
        ]))
        XCTAssertEqual(value, expected)
        XCTAssertEqual(value.objectValue?.keys, ["a", "b", "c", "d", "e", "f", "g"])
        let name = "web"
        let interpolated: JSONValue = "\(name)-0"
        XCTAssertEqual(interpolated, .string("web-0"))
        let object: JSONObject = ["z": 1, "a": 2]
        XCTAssertEqual(object.keys, ["z", "a"])
    }

    func testPathGet() {
        let pod: JSONValue = ["metadata": ["name": "web-0"], "spec": ["containers": [["image": "nginx"], ["image": "envoy"]]]]
        XCTAssertEqual(pod[path: ["metadata", "name"]], "web-0")
        XCTAssertEqual(pod[path: ["spec", "containers", 1, "image"]], "envoy")
        XCTAssertEqual(pod[path: []], pod)
        XCTAssertNil(pod[path: ["spec", "containers", 2]])
        XCTAssertNil(pod[path: ["spec", "containers", -1]])
        XCTAssertNil(pod[path: ["metadata", "name", "x"]])
        XCTAssertNil(pod[path: ["metadata", 0]])
        XCTAssertNil(pod[path: ["status"]])
    }

    func testPathSetCreatesObjectsAndKeepsOrder() throws {
        var pod: JSONValue = ["metadata": ["name": "web-0"], "spec": ["containers": [["image": "nginx"]]]]
        pod[path: ["metadata", "labels", "app"]] = "web"
        pod[path: ["spec", "containers", 0, "image"]] = "nginx:1.27"
        pod[path: ["status", "phase"]] = "Running"
        pod[path: ["metadata", "name"]] = "web-1"
        XCTAssertEqual(pod.jsonString,
                       #"{"metadata":{"name":"web-1","labels":{"app":"web"}},"spec":{"containers":[{"image":"nginx:1.27"}]},"status":{"phase":"Running"}}"#)
        pod[path: ["metadata", "labels"]] = nil
        pod[path: ["spec", "containers", 0]] = nil
        pod[path: ["absent", "deeper"]] = nil  // removing what is not there does nothing
        XCTAssertEqual(pod.jsonString, #"{"metadata":{"name":"web-1"},"spec":{"containers":[]},"status":{"phase":"Running"}}"#)
        pod[path: []] = nil
        XCTAssertEqual(pod, .null)
    }

    func testPathSetErrorsChangeNothing() {
        var pod: JSONValue = ["metadata": ["name": "web-0"], "spec": ["containers": [["image": "nginx"]]]]
        let before = pod
        let cases: [([JSONPathComponent], JSONPathError)] = [
            (["metadata", "name", "first"], JSONPathError(reason: .notAnObject, path: ["metadata", "name", "first"])),
            (["spec", "containers", "image"], JSONPathError(reason: .notAnObject, path: ["spec", "containers", "image"])),
            (["spec", "containers", 1, "image"], JSONPathError(reason: .indexOutOfRange(count: 1), path: ["spec", "containers", 1])),
            (["metadata", 0], JSONPathError(reason: .notAnArray, path: ["metadata", 0])),
            (["new", "list", 0], JSONPathError(reason: .notAnArray, path: ["new", "list", 0])),
        ]
        for (path, expected) in cases {
            XCTAssertThrowsError(try pod.setValue("x", at: path)) { error in
                XCTAssertEqual(error as? JSONPathError, expected)
            }
            XCTAssertEqual(pod, before, "a failed set must leave no half-made objects")
        }
        XCTAssertEqual(cases[2].1.description, "cannot set spec.containers[1]: index out of range (1 elements)")
    }

    /// Strings compare by bytes: "é" precomposed and decomposed are different keys and
    /// different values, as they are to Kubernetes, though Swift's String == equates them.
    func testStringsCompareByBytes() throws {
        let composed = "\u{E9}"
        let decomposed = "e\u{301}"
        XCTAssertNotEqual(JSONValue.string(composed), JSONValue.string(decomposed))
        let value = try JSONValue.parse(#"{"\u00e9": 1, "e\u0301": 2}"#)
        XCTAssertEqual(value.objectValue?.count, 2)
        XCTAssertEqual(value[composed], 1)
        XCTAssertEqual(value[decomposed], 2)
        var object = JSONObject()
        object[composed] = 1
        object[decomposed] = 2
        object[composed] = nil
        XCTAssertEqual(object.keys, [decomposed])
    }
}
