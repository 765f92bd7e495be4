import JSON
import Store
import XCTest

/// The path the API will take: a manifest's JSON text in, the stored object's JSON text out.
final class ManifestTests: XCTestCase {
    func testAManifestFromJSONTextIsServedWithItsMetadataInCanonicalOrder() throws {
        let manifest = """
            {"kind": "ConfigMap", "data": {"b": "2", "a": "1"}, "apiVersion": "v1",
             "metadata": {"labels": {"app": "web"}, "name": "web", "namespace": "default", "uid": "ignored"}}
            """
        var store = Store()
        let command = StoreCommand.create(object: try JSONValue.parse(manifest), uid: "u-1",
                                          creationTimestamp: Timestamp.format(unixSeconds: 1_714_564_800))
        let object = try XCTUnwrap(store.apply(index: 7, command).result.object)
        XCTAssertEqual(object.json.jsonString, """
            {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"web","namespace":"default","uid":"u-1",\
            "resourceVersion":"7","generation":1,"creationTimestamp":"2024-05-01T12:00:00Z","labels":{"app":"web"}},\
            "data":{"b":"2","a":"1"}}
            """)
    }
}
