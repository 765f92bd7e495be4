import JSON
import Store
import XCTest

/// The strategic merge patches `kubectl apply` computes (three-way, from the last-applied
/// annotation, the live object and the file) for everyday changes, applied to a live
/// Deployment carrying what the server added (defaults, status, annotations).
final class KubectlPatchTests: XCTestCase {
    static let live = #"""
        {"apiVersion":"apps/v1","kind":"Deployment",
         "metadata":{"name":"web","namespace":"default","uid":"u1","resourceVersion":"7","generation":3,
           "labels":{"app":"web","tier":"front"},
           "annotations":{"deployment.kubernetes.io/revision":"2","kubectl.kubernetes.io/last-applied-configuration":"old"},
           "finalizers":["example.com/keep","example.com/cleanup"]},
         "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},
           "strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%","maxUnavailable":"25%"}},
           "template":{"metadata":{"labels":{"app":"web"}},
             "spec":{"containers":[{"name":"web","image":"nginx:1.25","imagePullPolicy":"IfNotPresent",
                                    "ports":[{"containerPort":80,"protocol":"TCP"}],"env":[{"name":"MODE","value":"prod"}]}],
                     "restartPolicy":"Always"}}},
         "status":{"replicas":2,"readyReplicas":2}}
        """#

    /// `live` with `edit` applied (a merge patch: the expected result written as a change).
    func live(_ edit: String) throws -> JSONValue {
        try Patch.applyMergePatch(pjson(edit), to: pjson(Self.live))
    }

    func apply(_ patch: String, to object: JSONValue? = nil) throws -> JSONValue {
        try Patch.apply(.strategicMergePatch, body: Array(patch.utf8), to: object ?? pjson(Self.live),
                        schema: TestSchemas.deployment)
    }

    func testChangingTheImage() throws {
        let patch = #"""
            {"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"new"}},
             "spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"web"}],
                                         "containers":[{"image":"nginx:1.27","name":"web"}]}}}}
            """#
        let result = try apply(patch)
        XCTAssertEqual(result, try live(#"""
            {"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"new"}},
             "spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.27","imagePullPolicy":"IfNotPresent",
                                                       "ports":[{"containerPort":80,"protocol":"TCP"}],"env":[{"name":"MODE","value":"prod"}]}]}}}}
            """#), "the server's defaults and the other annotation stay")
        XCTAssertEqual(result[path: ["status"]], pjson(#"{"replicas":2,"readyReplicas":2}"#))
    }

    func testAddingAContainerKeepsTheFilesOrder() throws {
        let patch = #"""
            {"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"web"},{"name":"sidecar"}],
                                         "containers":[{"image":"busybox","name":"sidecar"}]}}}}
            """#
        let containers = try apply(patch)[path: ["spec", "template", "spec", "containers"]]
        XCTAssertEqual(containers?.arrayValue?.compactMap { $0["name"]?.stringValue }, ["web", "sidecar"])
        XCTAssertEqual(containers?[path: [1]], pjson(#"{"image":"busybox","name":"sidecar"}"#), "a new element keeps the patch's member order")
        // kubectl patch sends no order: Kubernetes puts the new container first.
        let unordered = try apply(#"{"spec":{"template":{"spec":{"containers":[{"image":"busybox","name":"sidecar"}]}}}}"#)
        XCTAssertEqual(unordered[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.compactMap { $0["name"]?.stringValue },
                       ["sidecar", "web"])
    }

    func testRemovingAContainer() throws {
        let twoContainers = try live(#"{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.25"},{"name":"sidecar","image":"busybox"}]}}}}"#)
        let patch = #"""
            {"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"web"}],
                                         "containers":[{"$patch":"delete","name":"sidecar"}]}}}}
            """#
        XCTAssertEqual(try apply(patch, to: twoContainers)[path: ["spec", "template", "spec", "containers"]],
                       pjson(#"[{"name":"web","image":"nginx:1.25"}]"#))
    }

    func testRemovingALabel() throws {
        let patch = #"{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"new"},"labels":{"tier":null}}}"#
        XCTAssertEqual(try apply(patch), try live(#"""
            {"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"new"},"labels":{"tier":null}}}
            """#))
        XCTAssertEqual(try apply(patch)[path: ["metadata", "labels"]], pjson(#"{"app":"web"}"#))
    }

    func testScaling() throws {
        let result = try apply(#"{"spec":{"replicas":5}}"#)
        XCTAssertEqual(result, try live(#"{"spec":{"replicas":5}}"#))
        XCTAssertEqual(result[path: ["spec", "replicas"]], 5)
    }

    func testSwitchingToRecreateClearsRollingUpdate() throws {
        let patch = #"{"spec":{"strategy":{"$retainKeys":["type"],"rollingUpdate":null,"type":"Recreate"}}}"#
        XCTAssertEqual(try apply(patch)[path: ["spec", "strategy"]], pjson(#"{"type":"Recreate"}"#))
    }

    func testAddingAnEnvVarAndAPort() throws {
        let patch = #"""
            {"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"web"}],
              "containers":[{"$setElementOrder/env":[{"name":"MODE"},{"name":"DEBUG"}],
                             "$setElementOrder/ports":[{"containerPort":80},{"containerPort":443}],
                             "env":[{"name":"DEBUG","value":"1"}],"name":"web",
                             "ports":[{"containerPort":443,"protocol":"TCP"}]}]}}}}
            """#
        let container = try apply(patch)[path: ["spec", "template", "spec", "containers", 0]]
        XCTAssertEqual(container?["env"], pjson(#"[{"name":"MODE","value":"prod"},{"name":"DEBUG","value":"1"}]"#))
        XCTAssertEqual(container?["ports"], pjson(#"[{"containerPort":80,"protocol":"TCP"},{"containerPort":443,"protocol":"TCP"}]"#))
    }

    func testRemovingAFinalizer() throws {
        let patch = #"{"metadata":{"$deleteFromPrimitiveList/finalizers":["example.com/cleanup"],"$setElementOrder/finalizers":["example.com/keep"]}}"#
        XCTAssertEqual(try apply(patch)[path: ["metadata", "finalizers"]], pjson(#"["example.com/keep"]"#))
    }

    func testTheContentTypeHeader() throws {
        XCTAssertEqual(Patch.ContentType(header: "application/strategic-merge-patch+json"), .strategicMergePatch)
        XCTAssertEqual(Patch.ContentType(header: " Application/Merge-Patch+JSON ; charset=utf-8"), .mergePatch)
        XCTAssertEqual(Patch.ContentType(header: "application/json-patch+json;charset=UTF-8"), .jsonPatch)
        XCTAssertNil(Patch.ContentType(header: "application/apply-patch+yaml"), "server-side apply: 415")
        XCTAssertNil(Patch.ContentType(header: "application/json"))
        XCTAssertNil(Patch.ContentType(header: ""))
    }
}
