import JSON
import Store
import XCTest

@testable import API

/// Protobuf request bodies: real kubectl bytes decoded to the JSON kubectl sends for the
/// same command, every scalar shape, and hostile input that must fail cleanly.
final class KubeProtobufTests: XCTestCase {
    /// What kubectl v1.32.4 sent (`--server http://127.0.0.1:<port>`, a plain HTTP server
    /// that kept the POST bodies), with the JSON the same command writes with
    /// `--dry-run=client -o json` (the body of a JSON request).
    struct Fixture {
        let command: String
        let kind: String
        let hex: String
        let json: String
    }

    static let configMap = Fixture(
        command: "kubectl create configmap x --from-literal=a=b", kind: "ConfigMap",
        hex: "6b3873000a0f0a0276311209436f6e6669674d617012220a180a017812001a0764656661756c7422002a0032003800420012060a01611201621a002200",
        json: #"{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"x","namespace":"default","creationTimestamp":null},"data":{"a":"b"}}"#)
    static let secret = Fixture(
        command: "kubectl create secret generic s --from-literal=k=v", kind: "Secret",
        hex: "6b3873000a0c0a027631120653656372657412240a180a017312001a0764656661756c7422002a0032003800420012060a016b1201761a001a002200",
        json: #"{"kind":"Secret","apiVersion":"v1","metadata":{"name":"s","namespace":"default","creationTimestamp":null},"data":{"k":"dg=="}}"#)
    static let namespace = Fixture(
        command: "kubectl create namespace n", kind: "Namespace",
        hex: "6b3873000a0f0a02763112094e616d65737061636512190a110a016e12001a0022002a0032003800420012001a020a001a002200",
        json: #"{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"n","creationTimestamp":null},"spec":{},"status":{}}"#)
    static let deployment = Fixture(
        command: "kubectl create deployment web --image=nginx --replicas=2", kind: "Deployment",
        hex: "6b3873000a150a07617070732f7631120a4465706c6f796d656e7412b2010a260a0377656212001a0764656661756c7422002a00320038"
            + "0042005a0a0a036170701203776562127a0802120c0a0a0a0361707012037765621a600a1c0a0012001a0022002a00320038004200"
            + "5a0a0a036170701203776562124012220a056e67696e7812056e67696e782a0042006a007200800100880100900100a201001a0032"
            + "0042004a0052005800600068008201008a01009a0100c2010022020a00280038001a0c0800100018002000280038001a002200",
        json: #"{"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"web","namespace":"default","creationTimestamp":null,"labels":{"app":"web"}},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"creationTimestamp":null,"labels":{"app":"web"}},"spec":{"containers":[{"name":"nginx","image":"nginx","resources":{}}]}},"strategy":{}},"status":{}}"#)
    static let service = Fixture(
        command: "kubectl create service nodeport web --tcp=80:80 --node-port=30000", kind: "Service",
        hex: "6b3873000a0d0a027631120753657276696365126e0a260a0377656212001a0764656661756c7422002a003200380042005a0a0a0361"
            + "7070120377656212400a1a0a0538302d3830120354435018502206080010501a0028b0ea01120a0a0361707012037765621a002208"
            + "4e6f6465506f72743a00420052005a00600068001a020a001a002200",
        json: #"{"kind":"Service","apiVersion":"v1","metadata":{"name":"web","namespace":"default","creationTimestamp":null,"labels":{"app":"web"}},"spec":{"ports":[{"name":"80-80","protocol":"TCP","port":80,"targetPort":80,"nodePort":30000}],"selector":{"app":"web"},"type":"NodePort"},"status":{"loadBalancer":{}}}"#)

    /// Two more, captured the same way by the kubectl wire study (notes/proto-samples).
    static let dockerRegistrySecret = Fixture(
        command: "kubectl create secret docker-registry reg --docker-username=u --docker-password=p", kind: "Secret",
        hex: "6b3873000a0c0a027631120653656372657412a3010a130a0372656712001a0022002a00320038004200126c0a112e646f636b6572636f"
            + "6e6669676a736f6e12577b226175746873223a7b2268747470733a2f2f696e6465782e646f636b65722e696f2f76312f223a7b2275"
            + "7365726e616d65223a2275222c2270617373776f7264223a2270222c2261757468223a2264547077227d7d7d1a1e6b756265726e65"
            + "7465732e696f2f646f636b6572636f6e6669676a736f6e1a002200",
        json: #"{"kind":"Secret","apiVersion":"v1","metadata":{"name":"reg","creationTimestamp":null},"data":{".dockerconfigjson":"eyJhdXRocyI6eyJodHRwczovL2luZGV4LmRvY2tlci5pby92MS8iOnsidXNlcm5hbWUiOiJ1IiwicGFzc3dvcmQiOiJwIiwiYXV0aCI6ImRUcHcifX19"},"type":"kubernetes.io/dockerconfigjson"}"#)
    static let clusterIPService = Fixture(
        command: "kubectl create service clusterip svc1 --tcp=80:8080", kind: "Service",
        hex: "6b3873000a0d0a027631120753657276696365126c0a210a047376633112001a0022002a003200380042005a0b0a036170701204737663"
            + "3112430a1b0a0738302d38303830120354435018502207080010903f1a002800120b0a036170701204737663311a002209436c7573"
            + "74657249503a00420052005a00600068001a020a001a002200",
        json: #"{"kind":"Service","apiVersion":"v1","metadata":{"name":"svc1","creationTimestamp":null,"labels":{"app":"svc1"}},"spec":{"ports":[{"name":"80-8080","protocol":"TCP","port":80,"targetPort":8080}],"selector":{"app":"svc1"},"type":"ClusterIP"},"status":{"loadBalancer":{}}}"#)

    // MARK: Real kubectl bodies

    func testConfigMap() throws { try check(Self.configMap) }
    func testSecret() throws { try check(Self.secret) }
    func testNamespace() throws { try check(Self.namespace) }
    func testDeployment() throws { try check(Self.deployment) }
    func testService() throws { try check(Self.service) }
    func testDockerRegistrySecret() throws { try check(Self.dockerRegistrySecret) }
    func testClusterIPService() throws { try check(Self.clusterIPService) }

    func testDecodedFieldsComeInSchemaOrderWithTypeMetaFirst() throws {
        let decoded = try KubeProtobuf.decodeObject(bytes(Self.configMap.hex))
        XCTAssertEqual(decoded.jsonString, #"{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"x","namespace":"default"},"data":{"a":"b"}}"#)
    }

    /// The decoded body equals the JSON body, nulls aside (Go writes a zero
    /// `creationTimestamp` as null; the JSON path reads null as absent).
    private func check(_ fixture: Fixture, file: StaticString = #filePath, line: UInt = #line) throws {
        try XCTSkipIf(Kind.named(fixture.kind) == nil,
                      "\(fixture.kind) is not registered yet: `\(fixture.command)` is checked once it is")
        let decoded = try KubeProtobuf.decodeObject(bytes(fixture.hex))
        let expected = try JSONValue.parse(fixture.json)
        XCTAssertEqual(normalized(decoded).jsonString, normalized(expected).jsonString, fixture.command, file: file, line: line)
    }

    // MARK: Shapes

    /// A test type with one field of every shape the decoder reads.
    struct Shapes: WireStruct {
        var kind = ""
        var apiVersion = ""
        var count: Int32 = 0
        var big: Int64 = 0
        var flag: Bool?
        var ratio: Double = 0
        var blob = Base64Bytes(bytes: [])
        var port = IntOrString.int(0)
        var amount: Quantity?
        var when: MetaTime?
        var whenMicro: MicroTime?
        var counts: [Int32] = []
        var flags: [Bool] = []
        var names: [String] = []
        var limits: [String: Quantity] = [:]
        var raw: RawJSON?
        var always = ""
        var alwaysNumber: Int64 = 0
        var nested = ShapesNested()
        var rawList: RawJSON = RawJSON(.null)
        init() {}
        static let wireInfo = WireStructInfo<Shapes>("test.Shapes", "Every shape.", [
            .omitEmpty("kind", nil, \.kind, ""),
            .omitEmpty("apiVersion", nil, \.apiVersion, ""),
            .omitEmpty("count", 1, \.count, ""),
            .omitEmpty("big", 2, \.big, ""),
            .optional("flag", 3, \.flag, ""),
            .omitEmpty("ratio", 4, \.ratio, ""),
            .omitEmpty("blob", 5, \.blob, ""),
            .omitEmpty("port", 6, \.port, ""),
            .optional("amount", 7, \.amount, ""),
            .optional("when", 8, \.when, ""),
            .optional("whenMicro", 9, \.whenMicro, ""),
            .omitEmpty("counts", 10, \.counts, ""),
            .omitEmpty("flags", 11, \.flags, ""),
            .omitEmpty("names", 12, \.names, ""),
            .omitEmpty("limits", 13, \.limits, ""),
            .optional("raw", 14, \.raw, ""),
            .always("always", 15, \.always, ""),
            .always("alwaysNumber", 16, \.alwaysNumber, ""),
            .always("nested", 17, \.nested, ""),
            .omitEmpty("rawList", 18, \.rawList, ""),
        ])
    }

    struct ShapesNested: WireStruct {
        var inner = ""
        var children: [ShapesNested] = []
        init() {}
        static let wireInfo = WireStructInfo<ShapesNested>("test.ShapesNested", "", [
            .always("inner", 1, \.inner, ""),
            .omitEmpty("children", 2, \.children, ""),
        ])
    }

    private func decodeShapes(_ message: [UInt8], valuesMax: Int = KubeProtobuf.decodedValuesMax) throws(KubeProtobufError) -> JSONValue {
        var decoder = KubeProtobufDecoder(bytes: message, valuesMax: valuesMax, depthMax: KubeProtobuf.nestingDepthMax)
        return .object(try decoder.message(Shapes.wireInfo.schema, 0..<message.count, depth: 1))
    }

    func testEveryShape() throws {
        var w = ProtobufWriter()
        w.tag(1, 0); w.varint(UInt64(bitPattern: -5))  // int32 -5: a 10-byte varint
        w.tag(2, 0); w.varint(UInt64(bitPattern: Int64.min))
        w.tag(3, 0); w.varint(0)  // an optional false is kept
        w.tag(4, 1); w.fixed64(2.5.bitPattern)
        w.message(5, [0xFF, 0x00, 0x41])
        w.message(6, message { $0.tag(1, 0); $0.varint(1); $0.string(3, "http") })
        w.message(7, message { $0.string(1, "500m") })
        w.message(8, message { $0.tag(1, 0); $0.varint(1_700_000_000); $0.tag(2, 0); $0.varint(999) })
        w.message(9, message { $0.tag(1, 0); $0.varint(1_700_000_000); $0.tag(2, 0); $0.varint(123_456_789) })
        w.message(10, message { $0.varint(1); $0.varint(UInt64(bitPattern: -2)); $0.varint(300) })  // packed
        w.tag(10, 0); w.varint(7)  // and one unpacked
        w.tag(11, 0); w.varint(1)
        w.tag(11, 0); w.varint(0)
        w.string(12, "a", always: true)
        w.string(12, "", always: true)
        w.message(13, message { $0.string(1, "memory"); $0.message(2, message { $0.string(1, "1Gi") }) })
        w.message(13, message { $0.string(1, "cpu"); $0.message(2, message { $0.string(1, "250m") }) })
        w.message(13, message { $0.string(1, "memory"); $0.message(2, message { $0.string(1, "2Gi") }) })  // last wins
        w.message(14, message { $0.string(1, #"{"x":[1,2]}"#) })
        w.tag(99, 0); w.varint(1)  // unknown: skipped
        w.message(98, [1, 2, 3])
        let decoded = try decodeShapes(w.bytes)
        XCTAssertEqual(decoded.jsonString, #"{"count":-5,"big":-9223372036854775808,"flag":false,"ratio":2.5,"blob":"/wBB","port":"http","#
            + #""amount":"500m","when":"2023-11-14T22:13:20Z","whenMicro":"2023-11-14T22:13:20.123456Z","counts":[1,-2,300,7],"#
            + #""flags":[true,false],"names":["a",""],"limits":{"cpu":"250m","memory":"2Gi"},"raw":{"x":[1,2]},"always":"","#
            + #""alwaysNumber":0,"nested":{"inner":""}}"#)
    }

    func testZeroValuesFollowPresence() throws {
        var w = ProtobufWriter()
        w.tag(1, 0); w.varint(0)  // omitEmpty zero: absent
        w.string(5, "", always: true)  // empty bytes: absent
        w.message(6, message { $0.tag(1, 0); $0.varint(0) })  // IntOrString 0: absent (omitEmpty)
        w.message(8, [])  // a zero time: null, absent
        w.message(14, [])  // an empty RawExtension: absent
        w.message(7, [])  // an empty Quantity is "0" (optional: kept)
        w.message(18, message { $0.string(1, "{}") })  // raw JSON {} is not empty
        w.message(17, message { $0.message(2, []) })  // a child from an empty message gets its always fields
        XCTAssertEqual(try decodeShapes(w.bytes).jsonString,
                       #"{"amount":"0","always":"","alwaysNumber":0,"nested":{"inner":"","children":[{"inner":""}]},"rawList":{}}"#)
    }

    func testGoDurations() {
        let cases: [(Int64, String)] = [
            (0, "0s"), (1, "1ns"), (999, "999ns"), (1_500, "1.5µs"), (1_000_000, "1ms"), (1_234_567, "1.234567ms"),
            (1_500_000_000, "1.5s"), (90_000_000_000, "1m30s"), (3_600_000_000_000, "1h0m0s"),
            (3_723_500_000_000, "1h2m3.5s"), (-1_500_000_000, "-1.5s"), (Int64.min, "-2562047h47m16.854775808s"),
        ]
        for (nanoseconds, text) in cases { XCTAssertEqual(KubeProtobufValues.goDuration(nanoseconds), text) }
    }

    func testSubresourceAndOptionsBodies() throws {
        var scale = ProtobufWriter()
        scale.message(1, message { $0.string(1, "web") })
        scale.message(2, message { $0.tag(1, 0); $0.varint(3) })
        let body = envelope("autoscaling/v1", "Scale", scale.bytes)
        XCTAssertEqual(try KubeProtobuf.decodeObject(body).jsonString,
                       #"{"kind":"Scale","apiVersion":"autoscaling/v1","metadata":{"name":"web"},"spec":{"replicas":3},"status":{"replicas":0}}"#)
        var options = ProtobufWriter()
        options.tag(1, 0); options.varint(0)
        options.string(4, "Foreground")
        XCTAssertEqual(try KubeProtobuf.decodeObject(envelope("meta.k8s.io/v1", "DeleteOptions", options.bytes)).jsonString,
                       #"{"kind":"DeleteOptions","apiVersion":"meta.k8s.io/v1","gracePeriodSeconds":0,"propagationPolicy":"Foreground"}"#)
    }

    // MARK: Hostile input

    func testEnvelopeErrors() {
        XCTAssertEqual(reason { try KubeProtobuf.decodeObject([]) }, .missingMagic)
        XCTAssertEqual(reason { try KubeProtobuf.decodeObject(Array("{\"kind\":\"ConfigMap\"}".utf8)) }, .missingMagic)
        XCTAssertEqual(reason { try KubeProtobuf.decodeObject(KubeProtobuf.magic) }, .missingTypeMeta)
        XCTAssertEqual(reason { try KubeProtobuf.decodeObject(envelope("v1", "Nothing", [])) },
                       .unknownKind(apiVersion: "v1", kind: "Nothing"))
        XCTAssertEqual(reason { try KubeProtobuf.decodeObject(envelope("v2", "ConfigMap", [])) },
                       .unknownKind(apiVersion: "v2", kind: "ConfigMap"))
        if let member = Kind.registered.first(where: { $0.model == nil }) {
            XCTAssertEqual(reason { try KubeProtobuf.decodeObject(envelope(member.apiVersion, member.name, [])) }, .untypedKind(member.name))
        }
        XCTAssertEqual(reason { try KubeProtobuf.decodeObject(envelope("v1", "ConfigMap", [], contentEncoding: "gzip")) },
                       .unsupportedContentEncoding("gzip"))
        XCTAssertEqual(reason { try KubeProtobuf.decodeObject(envelope("v1", "ConfigMap", [], contentType: "application/cbor")) },
                       .unsupportedContentType("application/cbor"))
        XCTAssertEqual(try KubeProtobuf.decodeObject(envelope("v1", "ConfigMap", Array(#"{"a":1}"#.utf8), contentType: "application/json")),
                       ["a": 1])
    }

    func testMalformedWire() {
        let huge = KubeProtobuf.magic + [0x12, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x00]  // raw claims 4 GiB
        XCTAssertEqual(reason { try KubeProtobuf.decodeObject(huge) }, .lengthOutOfBounds)
        let longVarint = KubeProtobuf.magic + [0x08] + [UInt8](repeating: 0xFF, count: 10) + [0x01]
        XCTAssertEqual(reason { try KubeProtobuf.decodeObject(longVarint) }, .malformedVarint)
        let overflow = KubeProtobuf.magic + [0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02]
        XCTAssertEqual(reason { try KubeProtobuf.decodeObject(overflow) }, .malformedVarint)
        XCTAssertEqual(reason { try KubeProtobuf.decodeObject(KubeProtobuf.magic + [0x0B]) }, .unsupportedWireType(3))  // a group
        XCTAssertEqual(reason { try KubeProtobuf.decodeObject(KubeProtobuf.magic + [0x0F]) }, .unsupportedWireType(7))
        XCTAssertEqual(reason { try KubeProtobuf.decodeObject(KubeProtobuf.magic + [0x00, 0x00]) }, .invalidFieldNumber)
        XCTAssertEqual(reason { try KubeProtobuf.decodeObject(KubeProtobuf.magic + [0x08]) }, .truncated)
        XCTAssertEqual(reason { try KubeProtobuf.decodeObject(KubeProtobuf.magic + [0x09, 0x01]) }, .truncated)  // fixed64 cut short
    }

    func testWrongWireTypesAndBadValuesNameTheField() throws {
        var meta = ProtobufWriter()
        meta.tag(1, 0); meta.varint(5)  // name as a varint
        var object = ProtobufWriter()
        object.message(1, meta.bytes)
        let error = try XCTUnwrap(thrown { try KubeProtobuf.decodeObject(envelope("v1", "ConfigMap", object.bytes)) })
        XCTAssertEqual(error.reason, .wrongWireType(field: 1, found: 0))
        XCTAssertEqual(error.path, "metadata.name")
        XCTAssertTrue(error.description.hasPrefix("metadata.name: protobuf field 1 has the wrong wire type"), error.description)

        var data = ProtobufWriter()
        data.message(2, message { $0.string(1, "k"); $0.message(2, [0xC3, 0x28]) })  // invalid UTF-8 value
        let utf8 = try XCTUnwrap(thrown { try KubeProtobuf.decodeObject(envelope("v1", "ConfigMap", data.bytes)) })
        XCTAssertEqual(utf8.reason, .invalidUTF8)
        XCTAssertEqual(utf8.path, "data[k]")

        var shapes = ProtobufWriter()
        shapes.message(6, message { $0.tag(1, 0); $0.varint(2) })
        XCTAssertEqual(reason { try decodeShapes(shapes.bytes) },
                       .invalidValue("an IntOrString's type must be 0 (int) or 1 (string), not 2"))
        var nan = ProtobufWriter()
        nan.tag(4, 1); nan.fixed64(Double.nan.bitPattern)
        XCTAssertEqual(reason { try decodeShapes(nan.bytes) }, .invalidValue("a number must be finite"))
        var farTime = ProtobufWriter()
        farTime.message(8, message { $0.tag(1, 0); $0.varint(UInt64(bitPattern: Int64.max)) })
        XCTAssertEqual(reason { try decodeShapes(farTime.bytes) }, .invalidValue("a time must fall in the years 0 to 9999"))
        var badNanos = ProtobufWriter()
        badNanos.message(9, message { $0.tag(1, 0); $0.varint(1); $0.tag(2, 0); $0.varint(1_000_000_000) })
        XCTAssertEqual(reason { try decodeShapes(badNanos.bytes) },
                       .invalidValue("a time's nanoseconds must be within 0...999999999"))
        var badJSON = ProtobufWriter()
        badJSON.message(14, message { $0.string(1, "{nope") })
        guard case .invalidValue? = reason({ try decodeShapes(badJSON.bytes) }) else { return XCTFail("invalid raw JSON accepted") }
    }

    /// Objects nested through RawExtensions (each a magic-prefixed envelope in the last
    /// one's metadata.managedFields) stop at the JSON nesting limit, without deep recursion
    /// beyond it; so does JSON nested in a RawExtension.
    func testNestingIsBounded() throws {
        var object: [UInt8] = []
        for _ in 0..<300 {
            let inner = envelope("v1", "ConfigMap", object)
            var metadata = ProtobufWriter()
            metadata.message(17, message { $0.message(1, inner) })
            var configMap = ProtobufWriter()
            configMap.message(1, metadata.bytes)
            object = configMap.bytes
        }
        XCTAssertEqual(reason { try KubeProtobuf.decodeObject(envelope("v1", "ConfigMap", object)) },
                       .nestingTooDeep(limitLevels: KubeProtobuf.nestingDepthMax))

        var deepJSON = ProtobufWriter()
        deepJSON.message(14, message { $0.string(1, String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000)) })
        XCTAssertEqual(reason { try decodeShapes(deepJSON.bytes) }, .nestingTooDeep(limitLevels: KubeProtobuf.nestingDepthMax))

        // Nested messages of a recursive schema.
        var nested: [UInt8] = []
        for _ in 0..<500 { nested = message { $0.message(2, nested) } }
        var shapes = ProtobufWriter()
        shapes.message(17, nested)
        XCTAssertEqual(reason { try decodeShapes(shapes.bytes) }, .nestingTooDeep(limitLevels: KubeProtobuf.nestingDepthMax))
    }

    func testValuesAreBounded() {
        var shapes = ProtobufWriter()
        shapes.message(17, message { for _ in 0..<1_000 { $0.message(2, []) } })
        XCTAssertEqual(reason { try decodeShapes(shapes.bytes, valuesMax: 500) }, .tooManyValues(limit: 500))
        var packed = ProtobufWriter()
        packed.message(10, [UInt8](repeating: 0, count: 10_000))
        XCTAssertEqual(reason { try decodeShapes(packed.bytes, valuesMax: 5_000) }, .tooManyValues(limit: 5_000))
    }

    /// Every prefix and many seeded corruptions of real bodies either decode or throw.
    func testTruncationsAndCorruptionsNeverCrash() throws {
        for fixture in [Self.configMap, Self.secret, Self.namespace, Self.deployment, Self.service, Self.dockerRegistrySecret,
                        Self.clusterIPService] {
            let body = bytes(fixture.hex)
            var failures = 0
            for length in 0..<body.count {
                do { _ = try KubeProtobuf.decodeObject(Array(body[0..<length])) } catch { failures += 1 }
            }
            XCTAssertGreaterThan(failures, body.count / 2, fixture.command)
            var state: UInt64 = 0x9E37_79B9_7F4A_7C15
            for _ in 0..<2_000 {
                var corrupt = body
                for _ in 0..<3 {
                    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    let position = 4 + Int((state >> 33) % UInt64(body.count - 4))
                    corrupt[position] = UInt8(truncatingIfNeeded: state >> 13)
                }
                _ = try? KubeProtobuf.decodeObject(corrupt)
            }
        }
    }

    // MARK: Helpers

    private func bytes(_ hex: String) -> [UInt8] {
        let digits = Array(hex.utf8)
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<($0 + 2)], as: UTF8.self), radix: 16)! }
    }

    private func message(_ build: (inout ProtobufWriter) -> Void) -> [UInt8] {
        var w = ProtobufWriter()
        build(&w)
        return w.bytes
    }

    private func envelope(_ apiVersion: String, _ kind: String, _ raw: [UInt8], contentEncoding: String = "",
                          contentType: String = "") -> [UInt8] {
        var w = ProtobufWriter()
        w.message(1, message { $0.string(1, apiVersion); $0.string(2, kind) })
        w.message(2, raw)
        w.string(3, contentEncoding, always: true)
        w.string(4, contentType, always: true)
        return KubeProtobuf.magic + w.bytes
    }

    /// The KubeProtobufError `body` throws (nil when it returns; a failure for any other error).
    private func thrown(_ body: () throws -> JSONValue, file: StaticString = #filePath, line: UInt = #line) -> KubeProtobufError? {
        do {
            _ = try body()
            return nil
        } catch let error as KubeProtobufError {
            return error
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
            return nil
        }
    }

    private func reason(_ body: () throws -> JSONValue, file: StaticString = #filePath, line: UInt = #line) -> KubeProtobufError.Reason? {
        thrown(body, file: file, line: line)?.reason
    }

    /// Nulls dropped (absent and null are one thing to the JSON path), keys sorted.
    private func normalized(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let object):
            let keys = object.keys.filter { object[$0] != .null }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            return .object(JSONObject(keys.map { ($0, normalized(object[$0]!)) }))
        case .array(let items):
            return .array(items.map(normalized))
        default:
            return value
        }
    }
}
