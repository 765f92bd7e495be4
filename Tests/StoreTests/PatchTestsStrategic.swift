import JSON
import Store
import XCTest

/// Strategic merge patch: list strategies, directives and element order, on Pod-shaped
/// objects with the schemas of `TestSchemas`.
final class StrategicMergePatchTests: XCTestCase {
    func smp(_ object: String, _ patch: String, schema: (any PatchSchema)? = TestSchemas.pod,
             limits: PatchLimits = .default) throws -> JSONValue {
        try Patch.applyStrategicMergePatch(pjson(patch), to: pjson(object), schema: schema, limits: limits)
    }

    // MARK: Lists merged by key

    func testElementsWithTheSameKeyMergeAndOthersStay() throws {
        let pod = #"{"spec":{"containers":[{"name":"web","image":"nginx:1.25","ports":[{"containerPort":80,"protocol":"TCP"}]},{"name":"log","image":"fluentd"}]}}"#
        XCTAssertEqual(try smp(pod, #"{"spec":{"containers":[{"name":"web","image":"nginx:1.27"}]}}"#),
                       pjson(#"{"spec":{"containers":[{"name":"web","image":"nginx:1.27","ports":[{"containerPort":80,"protocol":"TCP"}]},{"name":"log","image":"fluentd"}]}}"#))
    }

    func testANewElementGoesBeforeTheStoredOnesAsInKubernetes() throws {
        // The kubectl patch task in the Kubernetes documentation: the redis container
        // added by a patch is listed first.
        let deployment = #"{"spec":{"containers":[{"name":"patch-demo-ctr","image":"nginx"}]}}"#
        XCTAssertEqual(try smp(deployment, #"{"spec":{"containers":[{"name":"patch-demo-ctr-2","image":"redis"}]}}"#),
                       pjson(#"{"spec":{"containers":[{"name":"patch-demo-ctr-2","image":"redis"},{"name":"patch-demo-ctr","image":"nginx"}]}}"#))
        // A stored element stays before the first patch element it preceded.
        let three = #"{"spec":{"containers":[{"name":"a"},{"name":"b"},{"name":"c"}]}}"#
        XCTAssertEqual(try smp(three, #"{"spec":{"containers":[{"name":"c","x":1},{"name":"new"}]}}"#),
                       pjson(#"{"spec":{"containers":[{"name":"a"},{"name":"b"},{"name":"c","x":1},{"name":"new"}]}}"#))
        XCTAssertEqual(try smp(three, #"{"spec":{"containers":[{"name":"a","x":1},{"name":"new"}]}}"#),
                       pjson(#"{"spec":{"containers":[{"name":"a","x":1},{"name":"new"},{"name":"b"},{"name":"c"}]}}"#))
        XCTAssertEqual(try smp(three, #"{"spec":{"containers":[{"name":"c"},{"name":"a"}]}}"#),
                       pjson(#"{"spec":{"containers":[{"name":"b"},{"name":"c"},{"name":"a"}]}}"#),
                       "the patch's elements come in the patch's order")
    }

    func testNestedListsMergeByTheirOwnKeys() throws {
        let pod = #"{"spec":{"containers":[{"name":"web","ports":[{"containerPort":80,"name":"http"}],"env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]}]}}"#
        let patch = #"{"spec":{"containers":[{"name":"web","ports":[{"containerPort":443,"name":"https"}],"env":[{"name":"B","value":"3"},{"name":"C","value":"4"}]}]}}"#
        XCTAssertEqual(try smp(pod, patch), pjson(#"""
            {"spec":{"containers":[{"name":"web",
              "ports":[{"containerPort":443,"name":"https"},{"containerPort":80,"name":"http"}],
              "env":[{"name":"A","value":"1"},{"name":"B","value":"3"},{"name":"C","value":"4"}]}]}}
            """#))
    }

    func testDuplicateKeysInThePatchMergeIntoOneElement() throws {
        XCTAssertEqual(try smp(#"{"spec":{"containers":[]}}"#,
                               #"{"spec":{"containers":[{"name":"new","image":"a"},{"name":"new","args":["x"]}]}}"#),
                       pjson(#"{"spec":{"containers":[{"name":"new","image":"a","args":["x"]}]}}"#))
    }

    func testAStoredElementWithoutTheKeyIsKept() throws {
        XCTAssertEqual(try smp(#"{"spec":{"containers":[{"image":"orphan"},{"name":"a"}]}}"#,
                               #"{"spec":{"containers":[{"name":"a","image":"x"}]}}"#),
                       pjson(#"{"spec":{"containers":[{"name":"a","image":"x"},{"image":"orphan"}]}}"#))
    }

    func testAnEmptyPatchListChangesNothingInAMergedList() throws {
        let pod = #"{"spec":{"containers":[{"name":"a"}],"tolerations":[{"key":"k"}]}}"#
        XCTAssertEqual(try smp(pod, #"{"spec":{"containers":[],"tolerations":[]}}"#),
                       pjson(#"{"spec":{"containers":[{"name":"a"}],"tolerations":[]}}"#))
    }

    // MARK: $patch in lists

    func testDeleteElementsByKey() throws {
        let pod = #"{"spec":{"containers":[{"name":"x","v":1},{"name":"y"},{"name":"x","v":2},{"name":"z"}]}}"#
        XCTAssertEqual(try smp(pod, #"{"spec":{"containers":[{"name":"x","$patch":"delete"}]}}"#),
                       pjson(#"{"spec":{"containers":[{"name":"y"},{"name":"z"}]}}"#), "every element with the key goes")
        XCTAssertEqual(try smp(pod, #"{"spec":{"containers":[{"$patch":"delete","name":"absent"}]}}"#), pjson(pod))
        XCTAssertEqual(try smp(pod, #"{"spec":{"containers":[{"$patch":"delete","name":"y"},{"name":"z","image":"i"}]}}"#),
                       pjson(#"{"spec":{"containers":[{"name":"x","v":1},{"name":"x","v":2},{"name":"z","image":"i"}]}}"#))
    }

    func testReplaceMakesThePatchElementsTheList() throws {
        let pod = #"{"spec":{"containers":[{"name":"a","image":"1"},{"name":"b"}]}}"#
        XCTAssertEqual(try smp(pod, #"{"spec":{"containers":[{"name":"c","image":"3","args":null},{"$patch":"replace"},{"name":"a"}]}}"#),
                       pjson(#"{"spec":{"containers":[{"name":"c","image":"3"},{"name":"a"}]}}"#),
                       "stored elements are not merged into the new content, and its nulls are dropped")
        XCTAssertEqual(try smp(pod, #"{"spec":{"containers":[{"$patch":"replace"}]}}"#), pjson(#"{"spec":{"containers":[]}}"#))
    }

    // MARK: $setElementOrder

    func testSetElementOrderReordersTheMergedList() throws {
        let pod = #"{"spec":{"containers":[{"name":"a"},{"name":"b"},{"name":"c"}]}}"#
        XCTAssertEqual(try smp(pod, #"{"spec":{"$setElementOrder/containers":[{"name":"c"},{"name":"a"},{"name":"b"}]}}"#),
                       pjson(#"{"spec":{"containers":[{"name":"c"},{"name":"a"},{"name":"b"}]}}"#))
        XCTAssertEqual(try smp(#"{"spec":{"containers":[{"name":"a"},{"name":"b"},{"name":"c"},{"name":"d"}]}}"#,
                               #"{"spec":{"$setElementOrder/containers":[{"name":"d"},{"name":"b"}]}}"#),
                       pjson(#"{"spec":{"containers":[{"name":"a"},{"name":"c"},{"name":"d"},{"name":"b"}]}}"#),
                       "elements the order does not name stay before those they preceded")
        XCTAssertEqual(try smp(#"{"spec":{"containers":[{"name":"a"},{"name":"b"}]}}"#,
                               #"{"spec":{"$setElementOrder/containers":[{"name":"a"},{"name":"new"},{"name":"b"}],"containers":[{"name":"new","image":"n"}]}}"#),
                       pjson(#"{"spec":{"containers":[{"name":"a"},{"name":"new","image":"n"},{"name":"b"}]}}"#))
        XCTAssertEqual(try smp(#"{"spec":{}}"#, #"{"spec":{"$setElementOrder/containers":[{"name":"a"}]}}"#), pjson(#"{"spec":{}}"#),
                       "no list, nothing to order")
    }

    func testSetElementOrderOnListsTheSchemaDoesNotMerge() throws {
        // kube-apiserver orders them too: scalars can be matched, objects without a known
        // merge key cannot, and then the list stays as it is rather than failing kubectl apply.
        XCTAssertEqual(try smp(#"{"spec":{"containers":[{"name":"c","args":["a","b"]}]}}"#,
                               #"{"spec":{"containers":[{"name":"c","$setElementOrder/args":["b","a"]}]}}"#),
                       pjson(#"{"spec":{"containers":[{"name":"c","args":["b","a"]}]}}"#))
        let tolerations = #"{"spec":{"tolerations":[{"key":"a"},{"key":"b"}]}}"#
        XCTAssertEqual(try smp(tolerations, #"{"spec":{"$setElementOrder/tolerations":[{"key":"b"},{"key":"a"}]}}"#), pjson(tolerations))
        XCTAssertEqual(try smp(#"{"metadata":{"finalizers":["a"]}}"#, #"{"metadata":{"$setElementOrder/finalizers":[{"x":1}]}}"#),
                       pjson(#"{"metadata":{"finalizers":["a"]}}"#))
    }

    // MARK: Lists of scalars merged as sets

    func testScalarListsMergeAsSets() throws {
        let pod = #"{"metadata":{"finalizers":["a","b"]}}"#
        XCTAssertEqual(try smp(pod, #"{"metadata":{"finalizers":["b","c"]}}"#), pjson(#"{"metadata":{"finalizers":["a","b","c"]}}"#))
        XCTAssertEqual(try smp(pod, #"{"metadata":{"finalizers":["c","c"]}}"#), pjson(#"{"metadata":{"finalizers":["c","a","b"]}}"#))
        XCTAssertEqual(try smp(#"{"metadata":{"finalizers":["a","a"]}}"#, #"{"metadata":{"finalizers":[]}}"#),
                       pjson(#"{"metadata":{"finalizers":["a"]}}"#), "duplicates are dropped")
        XCTAssertEqual(try smp("{}", #"{"metadata":{"finalizers":["x"]}}"#), pjson(#"{"metadata":{"finalizers":["x"]}}"#))
    }

    func testDeleteFromPrimitiveList() throws {
        let pod = #"{"metadata":{"finalizers":["a","b","c"]}}"#
        XCTAssertEqual(try smp(pod, #"{"metadata":{"$deleteFromPrimitiveList/finalizers":["b","absent"]}}"#),
                       pjson(#"{"metadata":{"finalizers":["a","c"]}}"#))
        XCTAssertEqual(try smp(pod, #"{"metadata":{"finalizers":["x"],"$deleteFromPrimitiveList/finalizers":["x","a"]}}"#),
                       pjson(#"{"metadata":{"finalizers":["b","c"]}}"#), "deletions apply after additions")
        XCTAssertEqual(try smp(#"{"metadata":{}}"#, #"{"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]}}"#),
                       pjson(#"{"metadata":{}}"#), "nothing to delete from: no list appears")
        XCTAssertEqual(try smp(#"{"spec":{"containers":[{"name":"c","args":["-v","-x"]}]}}"#,
                               #"{"spec":{"containers":[{"name":"c","$deleteFromPrimitiveList/args":["-x"]}]}}"#),
                       pjson(#"{"spec":{"containers":[{"name":"c","args":["-v"]}]}}"#), "whatever the list's strategy")
    }

    func testSetElementOrderOfScalars() throws {
        XCTAssertEqual(try smp(#"{"metadata":{"finalizers":["a","b","c"]}}"#,
                               #"{"metadata":{"$setElementOrder/finalizers":["c","a","b"]}}"#),
                       pjson(#"{"metadata":{"finalizers":["c","a","b"]}}"#))
    }

    // MARK: Lists without a merge strategy

    func testOtherListsAreReplaced() throws {
        let pod = #"{"spec":{"tolerations":[{"key":"a"},{"key":"b"}],"containers":[{"name":"c","args":["1","2"]}]}}"#
        XCTAssertEqual(try smp(pod, #"{"spec":{"tolerations":[{"key":"z","value":null}],"containers":[{"name":"c","args":["3"]}]}}"#),
                       pjson(#"{"spec":{"tolerations":[{"key":"z"}],"containers":[{"name":"c","args":["3"]}]}}"#))
    }

    // MARK: Objects and maps

    func testMapsMergeAndNullRemoves() throws {
        let pod = #"{"metadata":{"labels":{"app":"web","tier":"front"}}}"#
        XCTAssertEqual(try smp(pod, #"{"metadata":{"labels":{"tier":null,"env":"prod","never":null}}}"#),
                       pjson(#"{"metadata":{"labels":{"app":"web","env":"prod"}}}"#), "a null for an absent key leaves nothing")
        XCTAssertEqual(try smp(pod, #"{"metadata":{"labels":null}}"#), pjson(#"{"metadata":{}}"#))
    }

    func testPatchReplaceAndDeleteOnObjects() throws {
        let pod = #"{"metadata":{"labels":{"app":"web","tier":"front"},"name":"p"}}"#
        XCTAssertEqual(try smp(pod, #"{"metadata":{"labels":{"$patch":"replace","only":"this","gone":null}}}"#),
                       pjson(#"{"metadata":{"labels":{"only":"this"},"name":"p"}}"#))
        XCTAssertEqual(try smp(pod, #"{"metadata":{"labels":{"$patch":"delete"}}}"#),
                       pjson(#"{"metadata":{"labels":{},"name":"p"}}"#), "as in Kubernetes: the map's content goes, the map stays")
        XCTAssertEqual(try smp(pod, #"{"metadata":{"annotations":{"$patch":"delete"}}}"#), pjson(pod),
                       "deleting an object that is not there adds nothing")
        XCTAssertEqual(try smp(pod, #"{"$patch":"replace","kind":"Pod"}"#), pjson(#"{"kind":"Pod"}"#))
        XCTAssertEqual(try smp(pod, #"{"$patch":"delete"}"#), pjson("{}"))
    }

    func testMembersKeepTheirPlaceAndNewOnesFollowInPatchOrder() throws {
        let result = try smp(#"{"a":1,"b":{"x":1},"c":2}"#, #"{"d":4,"b":{"y":2},"a":null,"e":5}"#, schema: nil)
        XCTAssertEqual(result.jsonString, #"{"b":{"x":1,"y":2},"c":2,"d":4,"e":5}"#)
    }

    func testAValueOfAnotherTypeIsReplaced() throws {
        XCTAssertEqual(try smp(#"{"spec":"oops"}"#, #"{"spec":{"containers":[{"name":"a","image":null}]}}"#),
                       pjson(#"{"spec":{"containers":[{"name":"a"}]}}"#))
        XCTAssertEqual(try smp(#"{"spec":{"containers":[{"name":"a"}]}}"#, #"{"spec":{"containers":"none"}}"#),
                       pjson(#"{"spec":{"containers":"none"}}"#))
    }

    // MARK: $retainKeys

    func testRetainKeysClearsWhatItDoesNotList() throws {
        let deployment = #"{"spec":{"replicas":2,"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}}}}"#
        XCTAssertEqual(try smp(deployment, #"{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}"#, schema: TestSchemas.deployment),
                       pjson(#"{"spec":{"replicas":2,"strategy":{"type":"Recreate"}}}"#))
        XCTAssertEqual(try smp(deployment, #"{"spec":{"strategy":{"type":"Recreate"}}}"#, schema: TestSchemas.deployment),
                       pjson(#"{"spec":{"replicas":2,"strategy":{"type":"Recreate","rollingUpdate":{"maxSurge":1}}}}"#),
                       "without the directive the old rollingUpdate stays (and the Deployment would not validate)")
    }

    func testRetainKeysInListElements() throws {
        let pod = #"{"spec":{"volumes":[{"name":"data","hostPath":{"path":"/x"}},{"name":"other","emptyDir":{}}]}}"#
        XCTAssertEqual(try smp(pod, #"{"spec":{"volumes":[{"name":"data","$retainKeys":["emptyDir","name"],"emptyDir":{},"hostPath":null}]}}"#),
                       pjson(#"{"spec":{"volumes":[{"name":"data","emptyDir":{}},{"name":"other","emptyDir":{}}]}}"#))
    }

    func testRetainKeysIsHonouredWhereverItAppearsAsKubeAPIServerDoes() throws {
        XCTAssertEqual(try smp(#"{"metadata":{"labels":{"a":"1","b":"2"}}}"#, #"{"metadata":{"labels":{"$retainKeys":["b"]}}}"#),
                       pjson(#"{"metadata":{"labels":{"b":"2"}}}"#))
    }

    // MARK: Without a schema, and new values

    func testWithoutASchemaListsAreReplacedAndDirectivesStillApply() throws {
        let object = #"{"spec":{"items":[{"name":"a"}],"nested":{"x":1,"y":2}}}"#
        XCTAssertEqual(try smp(object, #"{"spec":{"items":[{"name":"b"}],"nested":{"y":null,"z":3}}}"#, schema: nil),
                       pjson(#"{"spec":{"items":[{"name":"b"}],"nested":{"x":1,"z":3}}}"#))
        XCTAssertEqual(try smp(object, #"{"spec":{"nested":{"$patch":"replace","z":3}}}"#, schema: nil),
                       pjson(#"{"spec":{"items":[{"name":"a"}],"nested":{"z":3}}}"#))
    }

    func testNewValuesAreBuiltAsIfMergedIntoNothing() throws {
        XCTAssertEqual(try smp("{}", #"{"spec":{"containers":[{"name":"a","env":[{"name":"X","$patch":"delete"},{"name":"Y","value":null}],"$setElementOrder/ports":[{"containerPort":2},{"containerPort":1}],"ports":[{"containerPort":2},{"containerPort":1}]}]}}"#),
                       pjson(#"{"spec":{"containers":[{"name":"a","env":[{"name":"Y"}],"ports":[{"containerPort":2},{"containerPort":1}]}]}}"#),
                       "directives in a new value are applied, not stored")
    }

    func testOwnerReferencesMergeByUID() throws {
        let pod = #"{"metadata":{"ownerReferences":[{"uid":"1","kind":"ReplicaSet","name":"rs"}]}}"#
        XCTAssertEqual(try smp(pod, #"{"metadata":{"ownerReferences":[{"uid":"1","controller":true}]}}"#),
                       pjson(#"{"metadata":{"ownerReferences":[{"uid":"1","kind":"ReplicaSet","name":"rs","controller":true}]}}"#))
    }

    func testANullPatchChangesNothing() throws {
        XCTAssertEqual(try smp(#"{"a":1}"#, "null"), pjson(#"{"a":1}"#))
    }
}
