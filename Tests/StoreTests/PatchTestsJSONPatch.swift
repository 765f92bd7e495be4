import JSON
import Store
import XCTest

/// RFC 6902 JSON Patch over RFC 6901 pointers, and kube-apiserver's answers to bad ones.
final class JSONPatchTests: XCTestCase {
    func apply(_ document: String, _ patch: String, limits: PatchLimits = .default) throws -> JSONValue {
        try Patch.applyJSONPatch(pjson(patch), to: pjson(document), limits: limits)
    }

    // MARK: The RFC 6902 appendix, as test cases of our own

    func testAddingMembersAndElements() throws {
        XCTAssertEqual(try apply(#"{"foo":"bar"}"#, #"[{"op":"add","path":"/baz","value":"qux"}]"#),
                       pjson(#"{"foo":"bar","baz":"qux"}"#), "a new member goes last")
        XCTAssertEqual(try apply(#"{"foo":["bar","baz"]}"#, #"[{"op":"add","path":"/foo/1","value":"qux"}]"#),
                       pjson(#"{"foo":["bar","qux","baz"]}"#), "an index inserts before the element there")
        XCTAssertEqual(try apply(#"{"foo":"bar"}"#, #"[{"op":"add","path":"/child","value":{"grandchild":{}}}]"#),
                       pjson(#"{"foo":"bar","child":{"grandchild":{}}}"#))
        XCTAssertEqual(try apply(#"{"foo":["bar"]}"#, #"[{"op":"add","path":"/foo/-","value":["abc","def"]}]"#),
                       pjson(#"{"foo":["bar",["abc","def"]]}"#), "\"-\" appends, and a list is one value")
        XCTAssertEqual(try apply(#"{"foo":["bar"]}"#, #"[{"op":"add","path":"/foo/1","value":"end"}]"#),
                       pjson(#"{"foo":["bar","end"]}"#), "the index just past the end appends")
    }

    func testAddingAnExistingMemberReplacesItInPlace() throws {
        XCTAssertEqual(try apply(#"{"a":1,"b":2,"c":3}"#, #"[{"op":"add","path":"/b","value":20}]"#),
                       pjson(#"{"a":1,"b":20,"c":3}"#))
    }

    func testRemovingAndReplacing() throws {
        XCTAssertEqual(try apply(#"{"baz":"qux","foo":"bar"}"#, #"[{"op":"remove","path":"/baz"}]"#), pjson(#"{"foo":"bar"}"#))
        XCTAssertEqual(try apply(#"{"foo":["bar","qux","baz"]}"#, #"[{"op":"remove","path":"/foo/1"}]"#),
                       pjson(#"{"foo":["bar","baz"]}"#))
        XCTAssertEqual(try apply(#"{"baz":"qux","foo":"bar"}"#, #"[{"op":"replace","path":"/baz","value":"boo"}]"#),
                       pjson(#"{"baz":"boo","foo":"bar"}"#))
        XCTAssertEqual(try apply(#"{"a":[1,2]}"#, #"[{"op":"replace","path":"/a/0","value":{"x":null}}]"#),
                       pjson(#"{"a":[{"x":null},2]}"#), "values are taken as written, nulls included")
    }

    func testMovingValues() throws {
        XCTAssertEqual(
            try apply(#"{"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}}"#,
                      #"[{"op":"move","from":"/foo/waldo","path":"/qux/thud"}]"#),
            pjson(#"{"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}}"#))
        XCTAssertEqual(try apply(#"{"foo":["all","grass","cows","eat"]}"#, #"[{"op":"move","from":"/foo/1","path":"/foo/3"}]"#),
                       pjson(#"{"foo":["all","cows","eat","grass"]}"#), "the target index counts after the removal")
        XCTAssertEqual(try apply(#"{"a":{"b":1}}"#, #"[{"op":"move","from":"/a","path":"/a"}]"#), pjson(#"{"a":{"b":1}}"#))
    }

    func testCopyingValues() throws {
        XCTAssertEqual(try apply(#"{"a":{"b":[1]},"c":{}}"#, #"[{"op":"copy","from":"/a/b","path":"/c/d"}]"#),
                       pjson(#"{"a":{"b":[1]},"c":{"d":[1]}}"#))
        XCTAssertEqual(try apply(#"{"a":1}"#, #"[{"op":"copy","from":"","path":"/self"}]"#),
                       pjson(#"{"a":1,"self":{"a":1}}"#), "the whole document may be copied into itself")
    }

    func testTestOperations() throws {
        XCTAssertEqual(try apply(#"{"baz":"qux","foo":["a",2,"c"]}"#,
                                 #"[{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}]"#),
                       pjson(#"{"baz":"qux","foo":["a",2,"c"]}"#))
        assertPatchError(.testFailed, #"json patch operation 0 (test "/baz"): test failed: the value is "qux", not "bar""#) {
            try self.apply(#"{"baz":"qux"}"#, #"[{"op":"test","path":"/baz","value":"bar"}]"#)
        }
        // RFC 6902 4.6: numbers by value, objects whatever the member order, strings are not numbers.
        XCTAssertNoThrow(try apply(#"{"n":1,"o":{"x":1,"y":[2.0]}}"#,
                                   #"[{"op":"test","path":"/n","value":1.0},{"op":"test","path":"/o","value":{"y":[2],"x":1}}]"#))
        assertPatchError(.testFailed, "test failed") {
            try self.apply(#"{"/":9,"~1":10}"#, #"[{"op":"test","path":"/~01","value":"10"}]"#)
        }
        assertPatchError(.testFailed, "test failed") {
            try self.apply(#"{"a":[1,2]}"#, #"[{"op":"test","path":"/a","value":[2,1]}]"#)
        }
    }

    func testMembersOtherThanTheOperationsOwnAreIgnored() throws {
        XCTAssertEqual(try apply(#"{"foo":"bar"}"#, #"[{"op":"add","path":"/baz","value":"qux","xyz":123}]"#),
                       pjson(#"{"foo":"bar","baz":"qux"}"#))
    }

    func testDuplicateMembersInAnOperationAreABadRequest() {
        let body = Array(#"[{"op":"add","path":"/baz","value":"qux","op":"remove"}]"#.utf8)
        let error = assertPatchError(.malformed, "not valid JSON") {
            try Patch.apply(.jsonPatch, body: body, to: pjson(#"{"foo":"bar"}"#), schema: nil)
        }
        XCTAssertEqual(error?.httpStatus, 400)
    }

    // MARK: RFC 6901 pointers

    func testPointersFromRFC6901() throws {
        let document = #"{"foo":["bar","baz"],"":0,"a/b":1,"c%d":2,"e^f":3,"g|h":4,"i\\j":5,"k\"l":6," ":7,"m~n":8}"#
        let cases: [(String, String)] = [
            ("", document), ("/foo", #"["bar","baz"]"#), ("/foo/0", #""bar""#), ("/", "0"), ("/a~1b", "1"),
            ("/c%d", "2"), ("/e^f", "3"), ("/g|h", "4"), (#"/i\\j"#, "5"), (#"/k\"l"#, "6"), ("/ ", "7"), ("/m~0n", "8"),
        ]
        for (pointer, expected) in cases {
            let patch = #"[{"op":"test","path":"\#(pointer)","value":\#(expected)}]"#
            XCTAssertNoThrow(try apply(document, patch), pointer)
            let copied = try apply(document, #"[{"op":"copy","from":"\#(pointer)","path":"/copied"}]"#)
            XCTAssertEqual(copied["copied"], pjson(expected), pointer)
        }
        XCTAssertNoThrow(try apply(#"{"/":9,"~1":10}"#, #"[{"op":"test","path":"/~01","value":10}]"#),
                         "~01 is \"~1\": ~0 is unescaped after ~1, not before")
    }

    func testMalformedPointersAndIndexes() {
        let document = #"{"list":[1,2],"map":{"k":"v"}}"#
        let cases: [(String, String)] = [
            (#"[{"op":"remove","path":"list/0"}]"#, "is not a JSON pointer: it must be empty or start with \"/\""),
            (#"[{"op":"remove","path":"/map/~2"}]"#, "\"~\" must be followed by 0"),
            (#"[{"op":"remove","path":"/map/k~"}]"#, "\"~\" must be followed by 0"),
            (#"[{"op":"remove","path":"/list/01"}]"#, #""01" is not a list index"#),
            (#"[{"op":"remove","path":"/list/-1"}]"#, #""-1" is not a list index"#),
            (#"[{"op":"remove","path":"/list/+1"}]"#, #""+1" is not a list index"#),
            (#"[{"op":"remove","path":"/list/"}]"#, #""" is not a list index"#),
            (#"[{"op":"remove","path":"/list/-"}]"#, #"has 2 elements, so there is no element "-""#),
            (#"[{"op":"replace","path":"/list/2","value":0}]"#, #"has 2 elements, so there is no element "2""#),
            (#"[{"op":"remove","path":"/list/99999999999999999999999"}]"#, "has 2 elements"),
            (#"[{"op":"add","path":"/list/3","value":0}]"#, "cannot add at index 3: \"/list\" has 2 elements"),
            (#"[{"op":"add","path":"/map/k/deeper","value":0}]"#, #""/map/k" is a string, which has no members"#),
        ]
        for (patch, message) in cases {
            assertPatchError(.unprocessable, message) { try self.apply(document, patch) }
        }
    }

    // MARK: Failures and what kube-apiserver answers

    func testFailuresNameTheOperationAndThePath() {
        let error = assertPatchError(.unprocessable,
                                     #"json patch operation 1 (remove "/metadata/labels/tier"): the path does not exist: "/metadata/labels" has no member "tier""#) {
            try self.apply(#"{"metadata":{"labels":{"app":"web"}}}"#,
                           #"[{"op":"add","path":"/metadata/labels/x","value":"y"},{"op":"remove","path":"/metadata/labels/tier"}]"#)
        }
        XCTAssertEqual(error?.operationIndex, 1)
        XCTAssertEqual(error?.httpStatus, 422)
        assertPatchError(.unprocessable, #"the path does not exist: the object has no member "spec""#) {
            try self.apply(#"{"metadata":{}}"#, #"[{"op":"add","path":"/spec/replicas","value":3}]"#)
        }
    }

    func testAFailedOperationLeavesNothingApplied() throws {
        let document = pjson(#"{"spec":{"replicas":1},"metadata":{"labels":{"a":"b"}}}"#)
        let patch = pjson(#"[{"op":"replace","path":"/spec/replicas","value":5},{"op":"remove","path":"/metadata/labels/a"},{"op":"test","path":"/spec/replicas","value":1}]"#)
        let error = assertPatchError(.testFailed, "operation 2") {
            try Patch.applyJSONPatch(patch, to: document)
        }
        XCTAssertEqual(error?.operationIndex, 2)
        XCTAssertEqual(document, pjson(#"{"spec":{"replicas":1},"metadata":{"labels":{"a":"b"}}}"#))
    }

    func testIncompleteAndUnknownOperationsAreUnprocessable() {
        let cases: [(String, String)] = [
            (#"[{"path":"/a","value":1}]"#, #"json patch operation 0: the operation has no "op""#),
            (#"[{"op":"add","value":1}]"#, #"operation 0 (add): the operation has no "path""#),
            (#"[{"op":"add","path":"/a"}]"#, #"the operation has no "value""#),
            (#"[{"op":"replace","path":"/a"}]"#, #"the operation has no "value""#),
            (#"[{"op":"test","path":"/a"}]"#, #"the operation has no "value""#),
            (#"[{"op":"move","path":"/b"}]"#, #"the operation has no "from""#),
            (#"[{"op":"copy","path":"/b"}]"#, #"the operation has no "from""#),
            (#"[{"op":"frobnicate","path":"/a"}]"#, #"operation 0 ("frobnicate" "/a"): unknown operation "frobnicate""#),
            (#"[{"op":"remove","path":""}]"#, "the whole object cannot be removed"),
            (#"[{"op":"move","from":"/a","path":"/a/b"}]"#, #"cannot move "/a" into itself"#),
            (#"[{"op":"move","from":"/missing","path":"/b"}]"#, #"has no member "missing""#),
            (#"[{"op":"move","from":"/missing","path":"/missing"}]"#, #"has no member "missing""#),
            (#"[{"op":"test","path":"/missing","value":null}]"#, #"has no member "missing""#),
        ]
        for (patch, message) in cases {
            assertPatchError(.unprocessable, message) { try self.apply(#"{"a":{"c":1}}"#, patch) }
        }
    }

    func testTheWholeDocumentCanBeReplaced() throws {
        XCTAssertEqual(try apply(#"{"a":1}"#, #"[{"op":"replace","path":"","value":{"b":2}}]"#), pjson(#"{"b":2}"#))
        XCTAssertEqual(try apply(#"{"a":1}"#, #"[{"op":"add","path":"","value":{"c":3}}]"#), pjson(#"{"c":3}"#))
        assertPatchError(.unprocessable, "the patched object would be a list, not a JSON object") {
            try Patch.apply(.jsonPatch, patch: pjson(#"[{"op":"replace","path":"","value":[1]}]"#),
                            to: pjson(#"{"a":1}"#), schema: nil)
        }
    }

    func testBadlyShapedPatchesAreBadRequests() {
        let cases: [(String, String)] = [
            (#"{"op":"add","path":"/a","value":1}"#, "a JSON patch must be a JSON list of operations, not an object"),
            (#""add""#, "not a string"),
            (#"[1]"#, "json patch operation 0: an operation must be a JSON object, not a number"),
            (#"[{"op":"add","path":"/a","value":1},{"op":7,"path":"/a"}]"#, #"operation 1: "op" must be a string, not a number"#),
            (#"[{"op":"add","path":["a"],"value":1}]"#, #""path" must be a string, not a list"#),
            (#"[{"op":"move","path":"/a","from":null}]"#, #""from" must be a string, not null"#),
        ]
        for (patch, message) in cases {
            let error = assertPatchError(.malformed, message) { try self.apply(#"{"a":1}"#, patch) }
            XCTAssertEqual(error?.httpStatus, 400)
        }
        XCTAssertEqual(try apply(#"{"a":1}"#, "null"), pjson(#"{"a":1}"#), "kube-apiserver reads null as no operations")
        XCTAssertEqual(try apply(#"{"a":1}"#, "[]"), pjson(#"{"a":1}"#))
    }

    func testTooManyOperationsIsTooLarge() throws {
        let operation = #"{"op":"test","path":"/a","value":1}"#
        let atLimit = "[" + Array(repeating: operation, count: PatchLimits.jsonPatchOperationsMaxDefault).joined(separator: ",") + "]"
        XCTAssertEqual(try apply(#"{"a":1}"#, atLimit), pjson(#"{"a":1}"#))
        let overLimit = "[" + Array(repeating: operation, count: PatchLimits.jsonPatchOperationsMaxDefault + 1).joined(separator: ",") + "]"
        let error = assertPatchError(.tooManyOperations, "the patch has 10001 operations; at most 10000 are allowed") {
            try self.apply(#"{"a":1}"#, overLimit)
        }
        XCTAssertEqual(error?.httpStatus, 413)
        XCTAssertEqual(error?.kind.statusReason, "RequestEntityTooLarge")
    }

    func testCopiesThatWouldBlowUpTheObjectAreRefused() throws {
        // Each copy of the root into a member doubles the object: 40 would make terabytes.
        let doubling = (0..<40).map { #"{"op":"copy","from":"","path":"/c\#($0)"}"# }.joined(separator: ",")
        let document = #"{"data":"\#(String(repeating: "x", count: 1000))"}"#
        assertPatchError(.unprocessable, "the patch's copies would add more than 3145728 bytes") {
            try self.apply(document, "[" + doubling + "]")
        }
        let small = PatchLimits(copiedSizeMaxBytes: 2500)
        let twice = #"[{"op":"copy","from":"/data","path":"/a"},{"op":"copy","from":"/data","path":"/b"}]"#
        XCTAssertNoThrow(try apply(document, #"[{"op":"copy","from":"/data","path":"/a"}]"#, limits: small))
        let error = assertPatchError(.unprocessable, "copies would add more than 2000 bytes") {
            try self.apply(document, twice, limits: PatchLimits(copiedSizeMaxBytes: 2000))
        }
        XCTAssertEqual(error?.operationIndex, 1, "the first copy fits, the second does not")
    }

    func testResultsNestNoDeeperThanTheBound() throws {
        let limits = PatchLimits(json: JSONLimits(nestingDepthMax: 5))
        XCTAssertNoThrow(try apply(#"{"a":{"b":{}}}"#, #"[{"op":"add","path":"/a/b/c","value":{"d":{}}}]"#, limits: limits))
        assertPatchError(.unprocessable, "the result would nest deeper than 5 levels") {
            try self.apply(#"{"a":{"b":{}}}"#, #"[{"op":"add","path":"/a/b/c","value":{"d":{"e":{}}}}]"#, limits: limits)
        }
        assertPatchError(.unprocessable, "the result would nest deeper than 5 levels") {
            try self.apply(#"{"a":{"b":{"c":{}}},"deep":{"x":{"y":{}}}}"#, #"[{"op":"move","from":"/deep","path":"/a/b/c/d"}]"#, limits: limits)
        }
        let longPath = "/" + Array(repeating: "a", count: 6).joined(separator: "/")
        assertPatchError(.unprocessable, "the path has more than 5 levels") {
            try self.apply("{}", #"[{"op":"remove","path":"\#(longPath)"}]"#, limits: limits)
        }
    }

    func testContainersGrowNoLargerThanTheBound() {
        let limits = PatchLimits(json: JSONLimits(containerMembersMax: 2))
        assertPatchError(.unprocessable, #""/list" already has 2 members, the most allowed"#) {
            try self.apply(#"{"list":[1,2]}"#, #"[{"op":"add","path":"/list/-","value":3}]"#, limits: limits)
        }
        assertPatchError(.unprocessable, "the object already has 2 members") {
            try self.apply(#"{"a":1,"b":2}"#, #"[{"op":"add","path":"/c","value":3}]"#, limits: limits)
        }
        XCTAssertNoThrow(try apply(#"{"a":1,"b":2}"#, #"[{"op":"add","path":"/b","value":3}]"#, limits: limits),
                         "replacing a member does not grow the object")
    }
}
