import JSON
import Store
import XCTest

/// RFC 7386 JSON Merge Patch, and what kube-apiserver adds around it.
final class MergePatchTests: XCTestCase {
    /// The RFC 7386 appendix, as test cases of our own: original, patch, result.
    func testTheRFC7386Examples() throws {
        let cases: [(String, String, String)] = [
            (#"{"a":"b"}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
            (#"{"a":"b"}"#, #"{"b":"c"}"#, #"{"a":"b","b":"c"}"#),
            (#"{"a":"b"}"#, #"{"a":null}"#, #"{}"#),
            (#"{"a":"b","b":"c"}"#, #"{"a":null}"#, #"{"b":"c"}"#),
            (#"{"a":["b"]}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
            (#"{"a":"c"}"#, #"{"a":["b"]}"#, #"{"a":["b"]}"#),
            (#"{"a":{"b":"c"}}"#, #"{"a":{"b":"d","c":null}}"#, #"{"a":{"b":"d"}}"#),
            (#"{"a":[{"b":"c"}]}"#, #"{"a":[1]}"#, #"{"a":[1]}"#),
            (#"["a","b"]"#, #"["c","d"]"#, #"["c","d"]"#),
            (#"{"a":"b"}"#, #"["c"]"#, #"["c"]"#),
            (#"{"a":"foo"}"#, "null", "null"),
            (#"{"a":"foo"}"#, #""bar""#, #""bar""#),
            (#"{"e":null}"#, #"{"a":1}"#, #"{"e":null,"a":1}"#),
            (#"[1,2]"#, #"{"a":"b","c":null}"#, #"{"a":"b"}"#),
            (#"{}"#, #"{"a":{"bb":{"ccc":null}}}"#, #"{"a":{"bb":{}}}"#),
        ]
        for (original, patch, expected) in cases {
            XCTAssertEqual(try Patch.applyMergePatch(pjson(patch), to: pjson(original)), pjson(expected), "\(original) + \(patch)")
        }
    }

    func testListsAreReplacedAsWritten() throws {
        let deployment = pjson(#"{"spec":{"template":{"spec":{"containers":[{"name":"a","image":"x"},{"name":"b","image":"y"}]}}}}"#)
        let patch = pjson(#"{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"z","args":null}]}}}}"#)
        XCTAssertEqual(try Patch.applyMergePatch(patch, to: deployment),
                       pjson(#"{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"z","args":null}]}}}}"#),
                       "RFC 7386: a list replaces the target whole, and what is inside it is not merged")
    }

    func testMembersKeepTheirPlaceAndNewOnesFollowInPatchOrder() throws {
        let result = try Patch.applyMergePatch(pjson(#"{"z":1,"c":{"y":1,"x":2},"b":3}"#), to: pjson(#"{"a":0,"b":1,"c":{"x":1},"d":2}"#))
        XCTAssertEqual(result, pjson(#"{"a":0,"b":3,"c":{"x":2,"y":1},"d":2,"z":1}"#))
        XCTAssertEqual(result.jsonString, #"{"a":0,"b":3,"c":{"x":2,"y":1},"d":2,"z":1}"#)
    }

    func testKubernetesRefusesMergePatchesThatAreNotObjects() {
        for patch in ["null", "[1]", "\"x\"", "3"] {
            let error = assertPatchError(.malformed, "a merge patch must be a JSON object") {
                try Patch.apply(.mergePatch, patch: pjson(patch), to: pjson(#"{"a":1}"#), schema: nil)
            }
            XCTAssertEqual(error?.httpStatus, 400, patch)
        }
    }

    func testThroughTheKubernetesEntryPoint() throws {
        let body = Array(#"{"metadata":{"labels":{"tier":null,"env":"prod"}},"spec":{"replicas":3}}"#.utf8)
        let result = try Patch.apply(.mergePatch, body: body,
                                     to: pjson(#"{"metadata":{"name":"web","labels":{"tier":"front"}},"spec":{"replicas":1}}"#),
                                     schema: TestSchemas.deployment)
        XCTAssertEqual(result, pjson(#"{"metadata":{"name":"web","labels":{"env":"prod"}},"spec":{"replicas":3}}"#))
    }

    func testPatchesDeeperThanTheBoundAreRefused() {
        let limits = PatchLimits(json: JSONLimits(nestingDepthMax: 10))
        XCTAssertNoThrow(try Patch.applyMergePatch(nestedValue(levels: 10), to: pjson("{}"), limits: limits))
        let error = assertPatchError(.malformed, "merge patch: the patch nests deeper than 10 levels") {
            try Patch.applyMergePatch(nestedValue(levels: 11), to: pjson("{}"), limits: limits)
        }
        XCTAssertEqual(error?.httpStatus, 400)
        assertPatchError(.malformed, "deeper than 100 levels") {
            try Patch.apply(.mergePatch, patch: nestedValue(levels: 150), to: pjson("{}"), schema: nil)
        }
    }

    func testObjectsGrowNoLargerThanTheBound() {
        let limits = PatchLimits(json: JSONLimits(containerMembersMax: 3))
        XCTAssertNoThrow(try Patch.applyMergePatch(pjson(#"{"c":3,"a":null}"#), to: pjson(#"{"a":1,"b":2}"#), limits: limits))
        assertPatchError(.unprocessable, "merge patch at spec: the object would have 4 members; at most 3 are allowed") {
            try Patch.applyMergePatch(pjson(#"{"spec":{"c":3,"d":4}}"#), to: pjson(#"{"spec":{"a":1,"b":2}}"#), limits: limits)
        }
    }
}
