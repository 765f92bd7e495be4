import JSON
import XCTest

final class JSONObjectTests: XCTestCase {
    func testObjectKeepsInsertionOrderAndReplacesInPlace() {
        var o = JSONObject([("b", .int(1)), ("a", .int(2))])
        o["b"] = .string("x")
        o["c"] = .null
        XCTAssertEqual(o.keys, ["b", "a", "c"])
        o["a"] = nil
        XCTAssertEqual(o.keys, ["b", "c"])
        XCTAssertEqual(o["b"], .string("x"))
    }

    /// Small objects scan, large ones keep an index; both must behave the same across the
    /// switch, through inserts, replacements and removals, checked against a plain model.
    func testSmallAndIndexedObjectsAgreeWithAModel() {
        var random = SplitMix64(seed: 0x5EED_2001)
        for _ in 0..<200 {
            var object = JSONObject()
            var model: [(String, JSONValue)] = []
            for step in 0..<Int.random(in: 1...80, using: &random) {
                let key = "k\(Int.random(in: 0..<40, using: &random))"
                if Int.random(in: 0..<4, using: &random) == 0 {
                    object[key] = nil
                    model.removeAll { $0.0 == key }
                } else if let position = model.firstIndex(where: { $0.0 == key }) {
                    object[key] = .int(Int64(step))
                    model[position].1 = .int(Int64(step))
                } else {
                    object[key] = .int(Int64(step))
                    model.append((key, .int(Int64(step))))
                }
                XCTAssertEqual(object.keys, model.map(\.0))
                for (modelKey, modelValue) in model { XCTAssertEqual(object[modelKey], modelValue) }
                XCTAssertNil(object["absent"])
            }
            XCTAssertEqual(object, JSONObject(model))
            XCTAssertEqual(object.hashValue, JSONObject(model).hashValue)
            XCTAssertEqual(try JSONValue.parse(JSONValue.object(object).serialized()), .object(object))
        }
    }

    /// `_modify` moves a member out and back: nested edits, creation and removal through it.
    func testInPlaceMutation() {
        var object: JSONObject = ["spec": ["replicas": 1, "paused": false], "kind": "Deployment"]
        object["spec"]!["replicas"] = 3
        func edit(_ slot: inout JSONValue?, to value: JSONValue?) { slot = value }
        edit(&object["status"], to: ["ready": 2])
        edit(&object["kind"], to: nil)
        edit(&object["missing"], to: nil)
        XCTAssertEqual(JSONValue.object(object).jsonString, #"{"spec":{"replicas":3,"paused":false},"status":{"ready":2}}"#)
        // Past the index threshold too.
        var large = JSONObject()
        for index in 0..<40 { large["k\(index)"] = ["n": .int(Int64(index))] }
        large["k30"]!["n"] = -1
        edit(&large["k5"], to: nil)
        edit(&large["k40"], to: 40)
        XCTAssertEqual(large["k30"], ["n": -1])
        XCTAssertNil(large["k5"])
        XCTAssertEqual(large.keys.last, "k40")
        XCTAssertEqual(large.count, 40)
        XCTAssertEqual(large["k39"], ["n": 39])
    }

    /// Duplicate detection works on both sides of the index threshold (16 members), at the
    /// right byte.
    func testParserFindsDuplicatesInObjectsOfEverySize() {
        for count in 1...40 {
            for duplicated in [0, count / 2, count - 1] {
                var text = "{"
                for index in 0..<count { text += #""key\#(index)":\#(index),"# }
                let offset = text.utf8.count
                text += #""key\#(duplicated)":0}"#
                XCTAssertEqual(parseError(text), JSONError(.duplicateKey("key\(duplicated)"), at: offset), "\(count) keys")
            }
            let unique = "{" + (0..<count).map { #""key\#($0)":\#($0)"# }.joined(separator: ",") + "}"
            XCTAssertEqual(try JSONValue.parse(unique).objectValue?.count, count)
        }
    }

    /// An object with as many keys as the default limit allows parses in linear time.
    func testHugeObjectParses() throws {
        let count = JSONLimits.containerMembersMaxDefault
        let text = "{" + (0..<count).map { #""member-number-\#($0)":\#($0)"# }.joined(separator: ",") + "}"
        let object = try XCTUnwrap(JSONValue.parse(text).objectValue)
        XCTAssertEqual(object.count, count)
        XCTAssertEqual(object["member-number-77777"], 77777)
        XCTAssertEqual(parseError(String(text.dropLast()) + #","x":0}"#)?.reason, .tooManyMembers(limit: count))
    }
}
