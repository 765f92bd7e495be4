import Store
import XCTest

/// Kubernetes label selector syntax and matching.
final class LabelSelectorTests: XCTestCase {
    func parse(_ text: String) throws -> LabelSelector { try LabelSelector(parsing: text) }

    func testEveryOperatorParses() throws {
        let selector = try parse(" tier = front , env==prod,app!=db, zone in (b, a,b), size notin (xl), ready, !legacy ")
        XCTAssertEqual(selector.requirements, [
            .init(key: "app", op: .notEquals, values: ["db"]),
            .init(key: "env", op: .equals, values: ["prod"]),
            .init(key: "legacy", op: .doesNotExist),
            .init(key: "ready", op: .exists),
            .init(key: "size", op: .notInSet, values: ["xl"]),
            .init(key: "tier", op: .equals, values: ["front"]),
            .init(key: "zone", op: .inSet, values: ["a", "b"]),
        ])
        XCTAssertEqual(selector.description, "app!=db,env=prod,!legacy,ready,size notin (xl),tier=front,zone in (a,b)")
        XCTAssertEqual(try parse(selector.description), selector, "the canonical text parses back to the same selector")
    }

    func testEmptyValuesAndPrefixedKeysParse() throws {
        XCTAssertEqual(try parse("tier=").requirements, [.init(key: "tier", op: .equals, values: [""])])
        XCTAssertEqual(try parse("a in (x,)").requirements, [.init(key: "a", op: .inSet, values: ["", "x"])])
        XCTAssertEqual(try parse("example.com/app=web").requirements.first?.key, "example.com/app")
    }

    func testEmptySelectorMatchesEverything() throws {
        XCTAssertTrue(try parse("").isEverything)
        XCTAssertTrue(try parse("   ").isEverything)
        XCTAssertTrue(LabelSelector.everything.matches([:]))
    }

    func testMalformedSelectorsAreErrors() {
        let cases: [(String, String)] = [
            ("a in", "found end of selector at position 4, expected '(' after 'in'"),
            ("a in ()", "found ')' at position 6, expected at least one value for 'in'"),
            ("a in (x", "found end of selector at position 7, expected ',' or ')' in the value list"),
            ("a b", "found \"b\" at position 2, expected '=', '==', '!=', 'in', 'notin', ',' or end of selector after key \"a\""),
            ("=a", "found '=' at position 0, expected a label key"),
            ("a=b=c", "found '=' at position 3, expected ',' or end of selector"),
            ("a,", "found end of selector at position 2, expected a requirement after ','"),
            (",a", "found ',' at position 0, expected a label key"),
            ("!", "found end of selector at position 1, expected a label key"),
            ("a > 1", "found '>' (not supported) at position 2, expected '=', '==', '!=', 'in', 'notin', ',' or end of selector after key \"a\""),
            ("a!=(", "found '(' at position 3, expected ',' or end of selector"),
        ]
        for (text, message) in cases {
            XCTAssertThrowsError(try LabelSelector(parsing: text), text) { error in
                XCTAssertEqual((error as? LabelSelectorError)?.message, message, text)
            }
        }
        for text in ["-a=b", "a_=c", "a/b/c", "a=-b", "a=\(String(repeating: "v", count: 64))", "a in (ok,-x)"] {
            XCTAssertThrowsError(try LabelSelector(parsing: text), text) { error in
                let message = (error as? LabelSelectorError)?.message ?? ""
                XCTAssertTrue(message.hasPrefix("invalid label"), "\(text): \(message)")
            }
        }
        XCTAssertThrowsError(try LabelSelector(parsing: String(repeating: "a,", count: 3000) + "a"))
    }

    func testMatchingFollowsKubernetesSemantics() throws {
        let labels = ["app": "web", "tier": "front"]
        let expectations: [(String, Bool)] = [
            ("app=web", true), ("app==db", false), ("app!=db", true), ("missing!=x", true),
            ("app in (db,web)", true), ("missing in (x)", false), ("app notin (web)", false), ("missing notin (x)", true),
            ("app", true), ("missing", false), ("!missing", true), ("!app", false),
            ("app=web,tier=front", true), ("app=web,tier=back", false), ("tier=", false),
        ]
        for (text, expected) in expectations {
            XCTAssertEqual(try parse(text).matches(labels), expected, text)
        }
        XCTAssertTrue(try parse("tier=").matches(["tier": ""]))
    }
}
