import JSON
import Store
import XCTest

/// A struct-like patch schema for tests: each member's value schema and strategy.
struct FieldsPatchSchema: PatchSchema {
    let members: [String: (schema: (any PatchSchema)?, strategy: PatchStrategy)]

    init(_ members: [String: (schema: (any PatchSchema)?, strategy: PatchStrategy)] = [:]) {
        self.members = members
    }

    func member(_ name: String) -> (schema: (any PatchSchema)?, strategy: PatchStrategy)? { members[name] }
}

/// A map-like patch schema for tests (labels, annotations): every key is a member.
struct MapPatchSchema: PatchSchema {
    let values: (any PatchSchema)?

    func member(_ name: String) -> (schema: (any PatchSchema)?, strategy: PatchStrategy)? { (values, .replace) }
}

/// Pod- and Deployment-shaped schemas with Kubernetes' strategies for the fields the tests touch.
enum TestSchemas {
    static let stringMap = MapPatchSchema(values: nil)

    static let objectMeta = FieldsPatchSchema([
        "name": (nil, .replace),
        "labels": (stringMap, .replace),
        "annotations": (stringMap, .replace),
        "finalizers": (nil, PatchStrategy(merge: true)),
        "ownerReferences": (nil, PatchStrategy(merge: true, mergeKey: "uid")),
    ])

    static let envVar = FieldsPatchSchema(["name": (nil, .replace), "value": (nil, .replace), "valueFrom": (nil, .replace)])

    static let container = FieldsPatchSchema([
        "name": (nil, .replace),
        "image": (nil, .replace),
        "args": (nil, .replace),
        "command": (nil, .replace),
        "ports": (nil, PatchStrategy(merge: true, mergeKey: "containerPort")),
        "env": (envVar, PatchStrategy(merge: true, mergeKey: "name")),
        "volumeMounts": (nil, PatchStrategy(merge: true, mergeKey: "mountPath")),
        "resources": (nil, .replace),
    ])

    static let volume = FieldsPatchSchema([
        "name": (nil, .replace),
        "emptyDir": (nil, .replace),
        "hostPath": (nil, .replace),
        "configMap": (nil, .replace),
    ])

    static let podSpec = FieldsPatchSchema([
        "containers": (container, PatchStrategy(merge: true, mergeKey: "name")),
        "initContainers": (container, PatchStrategy(merge: true, mergeKey: "name")),
        "volumes": (volume, PatchStrategy(merge: true, retainKeys: true, mergeKey: "name")),
        "tolerations": (nil, .replace),
        "nodeSelector": (stringMap, .replace),
    ])

    static let pod = FieldsPatchSchema(["metadata": (objectMeta, .replace), "spec": (podSpec, .replace)])

    static let deploymentStrategy = FieldsPatchSchema(["type": (nil, .replace), "rollingUpdate": (nil, .replace)])

    static let podTemplate = FieldsPatchSchema(["metadata": (objectMeta, .replace), "spec": (podSpec, .replace)])

    static let deploymentSpec = FieldsPatchSchema([
        "replicas": (nil, .replace),
        "selector": (nil, .replace),
        "template": (podTemplate, .replace),
        "strategy": (deploymentStrategy, PatchStrategy(retainKeys: true)),
    ])

    static let deployment = FieldsPatchSchema(["metadata": (objectMeta, .replace), "spec": (deploymentSpec, .replace)])
}

/// Parses JSON written in a test (a mistake in it is a mistake in the test).
func pjson(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> JSONValue {
    do {
        return try JSONValue.parse(text)
    } catch {
        XCTFail("test JSON does not parse: \(error): \(text)", file: file, line: line)
        return .null
    }
}

/// Asserts that `body` throws a `PatchError` of `kind` whose description contains `message`,
/// and returns the error for further checks.
@discardableResult
func assertPatchError(
    _ kind: PatchError.Kind, _ message: String, file: StaticString = #filePath, line: UInt = #line,
    _ body: () throws -> JSONValue
) -> PatchError? {
    do {
        let result = try body()
        XCTFail("expected a \(kind) error containing \"\(message)\", got \(result)", file: file, line: line)
    } catch let error as PatchError {
        XCTAssertEqual(error.kind, kind, "\(error)", file: file, line: line)
        XCTAssertTrue(error.description.contains(message), "\"\(error)\" does not contain \"\(message)\"", file: file, line: line)
        return error
    } catch {
        XCTFail("expected a PatchError, got \(error)", file: file, line: line)
    }
    return nil
}

/// A JSON value nested `levels` deep (objects of one member, a number innermost), built
/// without recursion.
func nestedValue(levels: Int) -> JSONValue {
    var value: JSONValue = 1
    for _ in 0..<levels { value = .object(JSONObject([("a", value)])) }
    return value
}
