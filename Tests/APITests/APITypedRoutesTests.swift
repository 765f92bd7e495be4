import Foundation
import XCTest

@testable import API
import JSON
import Store

/// The typed object routes of cluster version 2: versions, subresources, patches, options,
/// selectors, pagination, Tables and watch lists, over HTTP against the fake member.
final class APITypedRoutesTests: XCTestCase {
    let deployments = "/apis/apps/v1/namespaces/default/deployments"
    let legacyDeployments = "/apis/extensions/v1beta1/namespaces/default/deployments"

    /// A fixture whose store runs cluster version 2 (the system namespaces exist).
    func fixtureAtVersion2() -> APIFixture {
        let fixture = APIFixture()
        fixture.onLoop { $0.apply(.setClusterVersion(version: 2, now: "2024-05-01T12:00:00Z")) }
        return fixture
    }

    func deployment(_ name: String = "web", apiVersion: String = "apps/v1", selector: Bool = true, extra: String = "") -> String {
        let selectorText = selector ? "\"selector\":{\"matchLabels\":{\"app\":\"\(name)\"}}," : ""
        return """
        {"apiVersion":"\(apiVersion)","kind":"Deployment","metadata":{"name":"\(name)"},"spec":{\(selectorText)\(extra)
         "template":{"metadata":{"labels":{"app":"\(name)"}},"spec":{"containers":[{"name":"web","image":"nginx:1.27"}]}}}}
        """
    }

    func send(_ fixture: APIFixture, _ method: String, _ target: String, body: String, contentType: String,
              accept: String? = nil) throws -> HTTPParser.Message {
        var headers = [("Authorization", "Bearer \(FakeClusterService.token)"), ("Content-Type", contentType)]
        if let accept { headers.append(("Accept", accept)) }
        return try fixture.client().send(method: method, target: target, headers: headers, body: Array(body.utf8))
    }

    func testWorkloadKindsAppearOnlyFromClusterVersion2() throws {
        let fixture = APIFixture()
        defer { fixture.close() }
        XCTAssertEqual(try fixture.send("GET", deployments).status, 404)
        XCTAssertFalse(try fixture.send("GET", "/apis").text.contains("\"apps\""))
        fixture.onLoop { $0.apply(.setClusterVersion(version: 2, now: "2024-05-01T12:00:00Z")) }
        XCTAssertEqual(try fixture.send("GET", deployments).status, 200)
        let groups = try XCTUnwrap(fixture.send("GET", "/apis").json?["groups"]?.arrayValue)
        let names = groups.compactMap { $0["name"]?.stringValue }
        XCTAssertEqual(Array(names.prefix(2)), ["apps", "coordination.k8s.io"], "apps first, so deployments resolve to apps/v1")
        XCTAssertTrue(names.contains("extensions"))
        let apps = try XCTUnwrap(fixture.send("GET", "/apis/apps/v1").json?["resources"]?.arrayValue)
        let scale = try XCTUnwrap(apps.first { $0["name"] == "deployments/scale" })
        XCTAssertEqual(scale["group"], "autoscaling")
        XCTAssertEqual(apps.first { $0["name"] == "deployments" }?["shortNames"], ["deploy"])
        let version = try XCTUnwrap(fixture.send("GET", "/version").json)
        XCTAssertEqual(version["major"], "1")
        XCTAssertEqual(version["minor"], "32")
    }

    func testAnOldManifestIsStoredInAppsV1AndReadInEitherVersion() throws {
        let fixture = fixtureAtVersion2()
        defer { fixture.close() }
        let created = try fixture.send("POST", legacyDeployments, body: deployment(apiVersion: "extensions/v1beta1", selector: false))
        XCTAssertEqual(created.status, 201, created.text)
        XCTAssertEqual(created.json?["apiVersion"], "extensions/v1beta1", "answered in the version it was written through")
        XCTAssertEqual(created.json?["spec"]?["selector"], ["matchLabels": ["app": "web"]])
        XCTAssertEqual(try fixture.send("GET", deployments + "/web").json?["apiVersion"], "apps/v1")
        XCTAssertEqual(try fixture.send("GET", legacyDeployments + "/web").json?["apiVersion"], "extensions/v1beta1")
        let list = try XCTUnwrap(fixture.send("GET", legacyDeployments).json)
        XCTAssertEqual(list["kind"], "DeploymentList")
        XCTAssertEqual(list["apiVersion"], "extensions/v1beta1")
        XCTAssertEqual(list["items"]?[0]?["apiVersion"], "extensions/v1beta1")
    }

    func testFieldValidationModes() throws {
        let fixture = fixtureAtVersion2()
        defer { fixture.close() }
        let unknown = deployment(extra: "\"replicaz\":2,")
        let strict = try fixture.send("POST", deployments + "?fieldValidation=Strict", body: unknown)
        XCTAssertEqual(strict.status, 400)
        XCTAssertEqual(strict.json?["reason"], "BadRequest")
        XCTAssertTrue(strict.text.contains("unknown field \\\"spec.replicaz\\\""), strict.text)

        let warned = try fixture.send("POST", deployments, body: unknown)  // Warn is the default
        XCTAssertEqual(warned.status, 201, warned.text)
        XCTAssertEqual(warned.header("warning"), "299 - \"unknown field \\\"spec.replicaz\\\"\"")
        XCTAssertNil(warned.json?["spec"]?["replicaz"])

        let bad = try fixture.send("POST", deployments + "?fieldValidation=Loose", body: deployment("x"))
        XCTAssertEqual(bad.status, 422)

        let invalid = try fixture.send("POST", deployments, body: deployment("db", selector: false))
        XCTAssertEqual(invalid.status, 422)
        XCTAssertEqual(invalid.json?["reason"], "Invalid")
        XCTAssertEqual(invalid.json?["details"]?["kind"], "Deployment")
        XCTAssertEqual(invalid.json?["details"]?["group"], "apps")
        XCTAssertEqual(invalid.json?["details"]?["causes"]?[0]?["field"], "spec.selector")
        XCTAssertEqual(invalid.json?["details"]?["causes"]?[0]?["reason"], "FieldValueRequired")
    }

    func testPatchesScaleAndDryRun() throws {
        let fixture = fixtureAtVersion2()
        defer { fixture.close() }
        XCTAssertEqual(try fixture.send("POST", deployments, body: deployment()).status, 201)
        let merge = try send(fixture, "PATCH", deployments + "/web", body: "{\"spec\":{\"replicas\":4}}",
                             contentType: "application/merge-patch+json")
        XCTAssertEqual(merge.json?["spec"]?["replicas"], 4, merge.text)
        let json = try send(fixture, "PATCH", deployments + "/web", body: "[{\"op\":\"add\",\"path\":\"/metadata/labels\",\"value\":{\"a\":\"b\"}}]",
                            contentType: "application/json-patch+json")
        XCTAssertEqual(json.json?["metadata"]?["labels"], ["a": "b"], json.text)
        let failedTest = try send(fixture, "PATCH", deployments + "/web", body: "[{\"op\":\"test\",\"path\":\"/spec/replicas\",\"value\":9}]",
                                  contentType: "application/json-patch+json")
        XCTAssertEqual(failedTest.status, 422, failedTest.text)
        let strategic = try send(fixture, "PATCH", deployments + "/web",
                                 body: "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":\"nginx:1.28\"}]}}}}",
                                 contentType: "application/strategic-merge-patch+json")
        XCTAssertEqual(strategic.json?[path: ["spec", "template", "spec", "containers", 0, "image"]], "nginx:1.28", strategic.text)
        let serverSide = try send(fixture, "PATCH", deployments + "/web", body: "{}", contentType: "application/apply-patch+yaml")
        XCTAssertEqual(serverSide.status, 415)

        let scale = try XCTUnwrap(fixture.send("GET", deployments + "/web/scale").json)
        XCTAssertEqual(scale["kind"], "Scale")
        XCTAssertEqual(scale["spec"]?["replicas"], 4)
        let scaled = try send(fixture, "PATCH", deployments + "/web/scale", body: "{\"spec\":{\"replicas\":1}}",
                              contentType: "application/merge-patch+json")
        XCTAssertEqual(scaled.json?["kind"], "Scale", scaled.text)
        XCTAssertEqual(try fixture.send("GET", deployments + "/web").json?["spec"]?["replicas"], 1)

        let before = fixture.onLoop { $0.store.revision }
        let dry = try fixture.send("POST", deployments + "?dryRun=All", body: deployment("dry"))
        XCTAssertEqual(dry.status, 201, dry.text)
        XCTAssertEqual(fixture.onLoop { $0.store.revision }, before, "a dry run commits nothing")
        XCTAssertEqual(try fixture.send("GET", deployments + "/dry").status, 404)
    }

    func testDeleteOptionsAndGracefulPodDeletion() throws {
        let fixture = fixtureAtVersion2()
        defer { fixture.close() }
        let pods = "/api/v1/namespaces/default/pods"
        let pod = "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"nodeName\":\"h1\",\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}"
        XCTAssertEqual(try fixture.send("POST", pods, body: pod).status, 201)
        let graceful = try fixture.send("DELETE", pods + "/p", body: "{\"gracePeriodSeconds\":30}")
        XCTAssertEqual(graceful.status, 200, graceful.text)
        XCTAssertNotNil(graceful.json?["metadata"]?["deletionTimestamp"])
        XCTAssertEqual(try fixture.send("GET", pods + "/p").status, 200, "still there, being stopped")
        let badPolicy = try fixture.send("DELETE", pods + "/p", body: "{\"propagationPolicy\":\"Sometimes\"}")
        XCTAssertEqual(badPolicy.status, 400)
        XCTAssertEqual(try fixture.send("DELETE", pods + "/p?gracePeriodSeconds=0").status, 200)
        XCTAssertEqual(try fixture.send("GET", pods + "/p").status, 404)
    }

    func testSelectorsAndPagination() throws {
        let fixture = fixtureAtVersion2()
        defer { fixture.close() }
        let configMaps = "/api/v1/namespaces/default/configmaps"
        for name in ["a", "b", "c", "d", "e"] {
            XCTAssertEqual(try fixture.send("POST", configMaps, body: configMap(name, labels: ["n": name])).status, 201)
        }
        let named = try XCTUnwrap(fixture.send("GET", configMaps + "?fieldSelector=metadata.name%3Dc").json?["items"]?.arrayValue)
        XCTAssertEqual(named.map { $0[path: ["metadata", "name"]] }, ["c"])
        let notNamed = try XCTUnwrap(fixture.send("GET", configMaps + "?fieldSelector=metadata.name!%3Dc&labelSelector=n+in+(a,c,e)").json?["items"]?.arrayValue)
        XCTAssertEqual(notNamed.map { $0[path: ["metadata", "name"]] }, ["a", "e"])
        XCTAssertEqual(try fixture.send("GET", configMaps + "?fieldSelector=spec.nodeName%3Dx").status, 400)

        var names: [String] = []
        var token: String?
        var pages = 0
        repeat {
            let target = configMaps + "?limit=2" + (token.map { "&continue=" + $0 } ?? "")
            let page = try XCTUnwrap(fixture.send("GET", target).json)
            names += page["items"]?.arrayValue?.compactMap { $0[path: ["metadata", "name"]]?.stringValue } ?? []
            token = page["metadata"]?["continue"]?.stringValue
            if pages == 0 {
                XCTAssertEqual(page["metadata"]?["remainingItemCount"], 3)
                // A write between pages does not show in the list being read.
                XCTAssertEqual(try fixture.send("POST", configMaps, body: configMap("bb")).status, 201)
            }
            pages += 1
        } while token != nil && pages < 10
        XCTAssertEqual(names, ["a", "b", "c", "d", "e"])
        XCTAssertEqual(pages, 3)
        XCTAssertEqual(try fixture.send("GET", configMaps + "?limit=2&continue=bogus").status, 400)
    }

    func testTablesAndMetadataAnswers() throws {
        let fixture = fixtureAtVersion2()
        defer { fixture.close() }
        XCTAssertEqual(try fixture.send("POST", "/api/v1/namespaces/default/configmaps", body: configMap("cfg")).status, 201)
        let accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
        let table = try XCTUnwrap(fixture.send("GET", "/api/v1/namespaces/default/configmaps", headers: [("Accept", accept)]).json)
        XCTAssertEqual(table["kind"], "Table")
        XCTAssertEqual(table["columnDefinitions"]?[0]?["name"], "Name")
        XCTAssertEqual(table["rows"]?[0]?["cells"]?[0], "cfg")
        XCTAssertEqual(table[path: ["rows", 0, "object", "kind"]], "PartialObjectMetadata")
        XCTAssertEqual(table[path: ["rows", 0, "object", "metadata", "name"]], "cfg")
        let full = try XCTUnwrap(fixture.send("GET", "/api/v1/namespaces/default/configmaps?includeObject=Object",
                                              headers: [("Accept", accept)]).json)
        XCTAssertEqual(full[path: ["rows", 0, "object", "data", "k"]], "v")
        let metadata = try XCTUnwrap(fixture.send("GET", "/api/v1/namespaces/default/configmaps/cfg",
                                                  headers: [("Accept", "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1")]).json)
        XCTAssertEqual(metadata["kind"], "PartialObjectMetadata")
        XCTAssertNil(metadata["data"])
        XCTAssertEqual(try fixture.send("GET", "/api/v1/namespaces/default/configmaps", headers: [("Accept", "application/yaml")]).status, 406)
    }

    func testWatchListEndsItsInitialEventsWithABookmark() throws {
        let fixture = fixtureAtVersion2()
        defer { fixture.close() }
        XCTAssertEqual(try fixture.send("POST", "/api/v1/namespaces/default/configmaps", body: configMap("cfg")).status, 201)
        var received: [UInt8] = []
        let target = "/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1"
        _ = try fixture.client().stream(target: target, headers: [("Authorization", "Bearer \(FakeClusterService.token)")]) { bytes in
            received += bytes
            return true
        }
        let lines = String(decoding: received, as: UTF8.self).split(separator: "\n").compactMap { try? JSONValue.parse(Array($0.utf8)) }
        XCTAssertEqual(lines.map { $0["type"] }, ["ADDED", "BOOKMARK"])
        XCTAssertEqual(lines.last?[path: ["object", "metadata", "annotations", "k8s.io/initial-events-end"]], "true")
        XCTAssertEqual(lines.last?[path: ["object", "kind"]], "ConfigMap")
    }
}
