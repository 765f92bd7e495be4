import JSON
import XCTest

/// Compact and kubectl-style output, keys in insertion order.
final class JSONPrinterTests: XCTestCase {
    static let deployment: JSONValue = [
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": ["name": "web", "labels": ["app": "web", "tier": "front"], "annotations": [:]],
        "spec": [
            "replicas": 3,
            "selector": ["matchLabels": ["app": "web"]],
            "template": [
                "spec": [
                    "containers": [["name": "nginx", "image": "nginx:1.27", "ports": [["containerPort": 80]], "args": []]],
                ],
            ],
        ],
        "status": ["ready": true, "cpu": 0.25, "note": nil],
    ]

    func testCompactKeepsInsertionOrder() {
        XCTAssertEqual(
            Self.deployment.jsonString,
            #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"app":"web","tier":"front"},"annotations":{}},"#
                + #""spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.27","ports":[{"containerPort":80}],"args":[]}]}}},"#
                + #""status":{"ready":true,"cpu":0.25,"note":null}}"#)
        XCTAssertEqual(Self.deployment.serialized(), Array(Self.deployment.jsonString.utf8))
        XCTAssertEqual("\(Self.deployment)", Self.deployment.jsonString)
    }

    func testPrettyPrintedLikeKubectl() {
        let expected = """
            {
              "apiVersion": "apps/v1",
              "kind": "Deployment",
              "metadata": {
                "name": "web",
                "labels": {
                  "app": "web",
                  "tier": "front"
                },
                "annotations": {}
              },
              "spec": {
                "replicas": 3,
                "selector": {
                  "matchLabels": {
                    "app": "web"
                  }
                },
                "template": {
                  "spec": {
                    "containers": [
                      {
                        "name": "nginx",
                        "image": "nginx:1.27",
                        "ports": [
                          {
                            "containerPort": 80
                          }
                        ],
                        "args": []
                      }
                    ]
                  }
                }
              },
              "status": {
                "ready": true,
                "cpu": 0.25,
                "note": null
              }
            }
            """
        XCTAssertEqual(Self.deployment.prettyPrinted(), expected)
        XCTAssertEqual(try JSONValue.parse(expected), Self.deployment)
    }

    func testPrettyPrintedWithOtherIndentAndScalars() {
        XCTAssertEqual(JSONValue.array([1, [2]]).prettyPrinted(indent: 4), "[\n    1,\n    [\n        2\n    ]\n]")
        XCTAssertEqual(JSONValue.string("x").prettyPrinted(), #""x""#)
        XCTAssertEqual(JSONValue.array([]).prettyPrinted(), "[]")
        XCTAssertEqual(JSONValue.object([:]).prettyPrinted(), "{}")
    }

    func testScalars() {
        XCTAssertEqual(JSONValue.null.jsonString, "null")
        XCTAssertEqual(JSONValue.bool(true).jsonString, "true")
        XCTAssertEqual(JSONValue.bool(false).jsonString, "false")
        XCTAssertEqual(JSONValue.string("").jsonString, #""""#)
        XCTAssertEqual(JSONValue.array([nil, [], [:]]).jsonString, "[null,[],{}]")
    }

    func testSerializeIntoAppends() {
        var buffer = Array("HTTP body: ".utf8)
        JSONValue.array([1, "a"]).serialize(into: &buffer)
        XCTAssertEqual(String(decoding: buffer, as: UTF8.self), #"HTTP body: [1,"a"]"#)
    }

    /// Parsing keeps the order a client sent; printing gives it back byte for byte when the
    /// input was already compact.
    func testCompactInputComesBackUnchanged() throws {
        let text = #"{"z":1,"a":{"y":[true,false,null],"b":"\"quoted\"\n"},"m":-0.5,"k":1e+100}"#
        XCTAssertEqual(try JSONValue.parse(text).jsonString, text)
    }
}
