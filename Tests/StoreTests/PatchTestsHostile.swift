import JSON
import Store
import XCTest

/// Malformed and hostile strategic merge patches: each is refused with a clear error of the
/// kind kube-apiserver's status code calls for, and none can make the server work without bound.
final class HostilePatchTests: XCTestCase {
    func smp(_ object: String, _ patch: String, schema: (any PatchSchema)? = TestSchemas.pod,
             limits: PatchLimits = .default) throws -> JSONValue {
        try Patch.applyStrategicMergePatch(pjson(patch), to: pjson(object), schema: schema, limits: limits)
    }

    func testPatchesThatAreNotObjects() throws {
        for patch in ["[]", "[{\"a\":1}]", "\"spec\"", "42", "true"] {
            let error = assertPatchError(.malformed, "a strategic merge patch must be a JSON object") {
                try self.smp(#"{"a":1}"#, patch)
            }
            XCTAssertEqual(error?.httpStatus, 400, patch)
        }
        assertPatchError(.malformed, "strategic merge patch: the body is not valid JSON") {
            try Patch.apply(.strategicMergePatch, body: Array(#"{"spec":"#.utf8), to: pjson("{}"), schema: nil)
        }
    }

    func testUnknownDirectives() throws {
        let error = assertPatchError(.malformed, #"strategic merge patch at spec.$replace: unknown directive "$replace""#) {
            try self.smp(#"{"spec":{}}"#, #"{"spec":{"$replace":true}}"#)
        }
        XCTAssertEqual(error?.httpStatus, 400)
        assertPatchError(.malformed, "unknown directive \"$setElementorder/containers\"") {
            try self.smp(#"{"spec":{}}"#, #"{"spec":{"$setElementorder/containers":[]}}"#)
        }
        assertPatchError(.malformed, "unknown directive \"$retainkeys\"") {
            try self.smp("{}", #"{"$retainkeys":[]}"#, schema: nil)
        }
        // A map key may start with "$": the map's schema declares every key.
        XCTAssertEqual(try smp(#"{"metadata":{"labels":{}}}"#, #"{"metadata":{"labels":{"$odd":"x"}}}"#),
                       pjson(#"{"metadata":{"labels":{"$odd":"x"}}}"#))
    }

    func testMalformedPatchDirectives() {
        let cases: [(String, String)] = [
            (#"{"metadata":{"labels":{"$patch":"frobnicate"}}}"#, #"at metadata.labels.$patch: unknown $patch value "frobnicate""#),
            (#"{"metadata":{"labels":{"$patch":1}}}"#, "unknown $patch value 1"),
            (#"{"metadata":{"labels":{"$patch":"merge"}}}"#, #""merge" is not accepted here"#),
            (#"{"spec":{"containers":[{"name":"a","$patch":"merge"}]}}"#, #"at spec.containers[0]: "$patch": "merge" is not accepted in a list"#),
            (#"{"spec":{"containers":[{"name":"a","$patch":"remove"}]}}"#, #"unknown $patch value "remove""#),
            (#"{"spec":{"containers":[{"$patch":"delete"}]}}"#, #"a "$patch": "delete" element needs "name", the merge key"#),
            (#"{"spec":{"containers":[{"$patch":"replace","name":"a"}]}}"#, #"a {"$patch": "replace"} element must hold nothing else"#),
            (#"{"spec":{"containers":[{"name":"a"},{"image":"x"}]}}"#, #"at spec.containers[1]: the element has no "name", the merge key"#),
            (#"{"spec":{"tolerations":[{"$patch":"delete","key":"a"}]}}"#, "$patch is not accepted in a list that is replaced whole"),
        ]
        for (patch, message) in cases {
            let error = assertPatchError(.malformed, message) {
                try self.smp(#"{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"a"}],"tolerations":[]}}"#, patch)
            }
            XCTAssertEqual(error?.httpStatus, 400, patch)
        }
    }

    func testMalformedRetainKeys() {
        let strategy = #"{"spec":{"strategy":{"type":"RollingUpdate"}}}"#
        let cases: [(String, String)] = [
            (#"{"spec":{"strategy":{"$retainKeys":"type","type":"Recreate"}}}"#, "$retainKeys must be a list of field names, not a string"),
            (#"{"spec":{"strategy":{"$retainKeys":[1],"type":"Recreate"}}}"#, "$retainKeys lists field names, which are strings, not a number"),
            (#"{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate","rollingUpdate":{"maxSurge":1}}}}"#,
             #"at spec.strategy.$retainKeys: the patch sets "rollingUpdate" but $retainKeys does not list it"#),
        ]
        for (patch, message) in cases {
            assertPatchError(.malformed, message) { try self.smp(strategy, patch, schema: TestSchemas.deployment) }
        }
    }

    func testMalformedElementOrders() {
        let pod = #"{"metadata":{"finalizers":["a"]},"spec":{"containers":[{"name":"a"},{"name":"b"}],"tolerations":[]}}"#
        let cases: [(String, String)] = [
            (#"{"spec":{"$setElementOrder/":[]}}"#, "$setElementOrder/ must be followed by a field name"),
            (#"{"spec":{"$setElementOrder/containers":{"name":"a"}}}"#, #""$setElementOrder/containers" must be a list, not an object"#),
            (#"{"spec":{"$setElementOrder/containers":[{"image":"a"}]}}"#, #"at spec.$setElementOrder/containers[0]: an entry must be an object with "name""#),
            (#"{"spec":{"$setElementOrder/containers":[["a"]]}}"#, "an entry must name an element by its merge key, or be a scalar, not a list"),
            (#"{"spec":{"$setElementOrder/containers":["a"]}}"#, #"the list is merged by "name", so an entry must be an object like {"name": ...}, not a string"#),
            (#"{"spec":{"$setElementOrder/containers":[{"name":"b"},{"name":"a"}],"containers":[{"name":"a","image":"1"},{"name":"b","image":"2"}]}}"#,
             #"the patch's "containers" has "b" where this order does not"#),
            (#"{"metadata":{"$deleteFromPrimitiveList/":["a"]}}"#, "$deleteFromPrimitiveList/ must be followed by a field name"),
            (#"{"metadata":{"$deleteFromPrimitiveList/finalizers":"a"}}"#, "must be a list, not a string"),
            (#"{"metadata":{"$deleteFromPrimitiveList/finalizers":null}}"#, "must be a list, not null"),
            (#"{"metadata":{"$deleteFromPrimitiveList/finalizers":[{"a":1}]}}"#, "an object is not one"),
        ]
        for (patch, message) in cases {
            assertPatchError(.malformed, message) { try self.smp(pod, patch) }
        }
    }

    func testListsThatCannotBeMerged() {
        let cases: [(String, String, String)] = [
            (#"{"metadata":{"finalizers":[["a"]]}}"#, #"{"metadata":{"finalizers":["b"]}}"#, "a list of lists cannot be merged"),
            (#"{"metadata":{"finalizers":["a"]}}"#, #"{"metadata":{"finalizers":[{"name":"b"}]}}"#, "the list mixes objects with other values"),
            (#"{"metadata":{"finalizers":[]}}"#, #"{"metadata":{"finalizers":[{"$patch":"replace"}]}}"#, "holds objects but its schema gives no merge key"),
            (#"{"spec":{"containers":[{"name":"a"}]}}"#, #"{"spec":{"containers":["a"]}}"#, "the list mixes objects with other values"),
        ]
        for (object, patch, message) in cases {
            let error = assertPatchError(.unprocessable, "strategic merge patch at ") { try self.smp(object, patch) }
            XCTAssertTrue(error?.reason.contains(message) ?? false, "\(error.map(String.init(describing:)) ?? "nil"): \(message)")
            XCTAssertEqual(error?.httpStatus, 422)
        }
    }

    func testPatchesDeeperThanTheBound() {
        let error = assertPatchError(.malformed, "strategic merge patch: the patch nests deeper than 100 levels") {
            try Patch.applyStrategicMergePatch(nestedValue(levels: 101), to: pjson("{}"), schema: nil)
        }
        XCTAssertEqual(error?.httpStatus, 400)
        XCTAssertNoThrow(try Patch.applyStrategicMergePatch(nestedValue(levels: 100), to: pjson("{}"), schema: nil))
        assertPatchError(.malformed, "json patch: the patch nests deeper than 100 levels") {
            try Patch.applyJSONPatch(.array([.object(JSONObject([("op", "add"), ("path", "/a"), ("value", nestedValue(levels: 99))]))]),
                                     to: pjson("{}"))
        }
    }

    func testListsGrowNoLargerThanTheBound() {
        let limits = PatchLimits(json: JSONLimits(containerMembersMax: 3))
        XCTAssertNoThrow(try smp(#"{"metadata":{"finalizers":["a","b"]}}"#, #"{"metadata":{"finalizers":["b","c"]}}"#, limits: limits))
        assertPatchError(.unprocessable, "at metadata.finalizers: the list would have 4 elements; at most 3 are allowed") {
            try self.smp(#"{"metadata":{"finalizers":["a","b"]}}"#, #"{"metadata":{"finalizers":["c","d"]}}"#, limits: limits)
        }
        assertPatchError(.unprocessable, "the list would have more than 3 elements") {
            try self.smp(#"{"spec":{"containers":[{"name":"a"},{"name":"b"}]}}"#,
                         #"{"spec":{"containers":[{"name":"c"},{"name":"d"}]}}"#, limits: limits)
        }
        assertPatchError(.unprocessable, "the object would have 4 members; at most 3 are allowed") {
            try self.smp(#"{"metadata":{"labels":{"a":"1","b":"2"}}}"#, #"{"metadata":{"labels":{"c":"3","d":"4"}}}"#, limits: limits)
        }
    }

    func testLargeListsMergeWithoutQuadraticWork() throws {
        // 20,000 stored containers and 20,000 patch entries (half new, some deletions, an
        // order for all): with a scan per element this would be 10^9 comparisons.
        let count = 20_000
        let stored = (0..<count).map { JSONValue.object(JSONObject([("name", .string("c\($0)")), ("image", "old")])) }
        var entries: [JSONValue] = (0..<count).map { JSONValue.object(JSONObject([("name", .string("c\($0 * 2)")), ("image", "new")])) }
        entries.append(.object(JSONObject([("name", "c1"), ("$patch", "delete")])))
        let order = (0..<(2 * count)).reversed().map { JSONValue.object(JSONObject([("name", .string("c\($0)"))])) }
        let object = JSONValue.object(JSONObject([("spec", .object(JSONObject([("containers", .array(stored))])))]))
        let patch = JSONValue.object(JSONObject([("spec", .object(JSONObject([
            ("$setElementOrder/containers", .array(Array(order))), ("containers", .array(entries.reversed())),
        ])))]))
        let containers = try XCTUnwrap(Patch.applyStrategicMergePatch(patch, to: object, schema: TestSchemas.pod)[path: ["spec", "containers"]]?.arrayValue)
        XCTAssertEqual(containers.count, count / 2 + count - 1, "the stored odd ones minus c1, plus every even one up to 2 * count")
        XCTAssertEqual(containers.first, .object(JSONObject([("name", .string("c\(2 * count - 2)")), ("image", "new")])))
        XCTAssertEqual(containers.last, .object(JSONObject([("name", "c0"), ("image", "new")])))
        XCTAssertFalse(containers.contains { $0["name"] == "c1" })
    }

    func testManyRemovalsOfOneBigObjectStayLinear() throws {
        let count = 50_000
        let labels = JSONObject((0..<count).map { ("label-\($0)", JSONValue.string("v")) })
        let removals = JSONObject((0..<(count - 1)).map { ("label-\($0)", JSONValue.null) })
        let object = JSONValue.object(JSONObject([("metadata", .object(JSONObject([("labels", .object(labels))])))]))
        let patch = JSONValue.object(JSONObject([("metadata", .object(JSONObject([("labels", .object(removals))])))]))
        let expected = pjson(#"{"metadata":{"labels":{"label-49999":"v"}}}"#)
        XCTAssertEqual(try Patch.applyStrategicMergePatch(patch, to: object, schema: TestSchemas.pod), expected)
        XCTAssertEqual(try Patch.applyMergePatch(patch, to: object), expected)
    }

    func testErrorMessagesStayShort() {
        let longKey = "$" + String(repeating: "k", count: 100_000)
        let error = assertPatchError(.malformed, "unknown directive") {
            try Patch.applyStrategicMergePatch(.object(JSONObject([(longKey, 1)])), to: pjson("{}"), schema: nil)
        }
        XCTAssertLessThan(error?.description.count ?? .max, 300)
        let hugeValue = JSONValue.array(Array(repeating: .string(String(repeating: "v", count: 10_000)), count: 1000))
        let testError = assertPatchError(.testFailed, "test failed") {
            try Patch.applyJSONPatch(.array([.object(JSONObject([("op", "test"), ("path", "/a"), ("value", hugeValue)]))]),
                                     to: pjson(#"{"a":1}"#))
        }
        XCTAssertLessThan(testError?.description.count ?? .max, 300)
    }

    func testKindsMapToKubernetesStatusCodes() {
        XCTAssertEqual(PatchError.Kind.malformed.httpStatus, 400)
        XCTAssertEqual(PatchError.Kind.tooManyOperations.httpStatus, 413)
        XCTAssertEqual(PatchError.Kind.testFailed.httpStatus, 422)
        XCTAssertEqual(PatchError.Kind.unprocessable.httpStatus, 422)
        XCTAssertEqual(PatchError.Kind.malformed.statusReason, "BadRequest")
        XCTAssertEqual(PatchError.Kind.testFailed.statusReason, "Invalid")
    }
}
