import JSON

/// What the patch algorithms need to know about values beyond `JSONValue` itself: how deep
/// and how big one is (measured without recursion and with a budget, so a hostile value
/// costs no more than the budget), RFC 6902 equality, and short renderings for messages.
enum PatchValues {
    /// Longest rendering of a value or key in an error message, in characters: a value can
    /// be megabytes long and a message should stay one line.
    static let shownCharactersMax = 64

    /// How many arrays and objects nest in `value` (a scalar is 0, `{}` is 1, `{"a":[]}` is
    /// 2), or nil when that is more than `limit`. Iterative: any depth is safe to measure.
    static func nestingDepth(of value: JSONValue, limit: Int) -> Int? {
        var deepest = 0
        var pending: [(value: JSONValue, level: Int)] = [(value, 0)]
        while let (current, level) = pending.popLast() {
            switch current {
            case .array(let elements):
                guard level + 1 <= limit else { return nil }
                deepest = max(deepest, level + 1)
                for element in elements where isContainer(element) { pending.append((element, level + 1)) }
            case .object(let object):
                guard level + 1 <= limit else { return nil }
                deepest = max(deepest, level + 1)
                for (_, member) in object where isContainer(member) { pending.append((member, level + 1)) }
            default:
                break
            }
        }
        return deepest
    }

    /// About how many bytes `value` prints to (strings without escapes, numbers at most 24),
    /// or nil when that is more than `limitBytes`. Iterative, and it stops at the budget.
    static func sizeBytes(of value: JSONValue, limitBytes: Int) -> Int? {
        var total = 0
        var pending: [JSONValue] = [value]
        while let current = pending.popLast() {
            switch current {
            case .null, .bool: total += 5
            case .int, .double: total += 24
            case .string(let text): total += text.utf8.count + 2
            case .array(let elements):
                total += 2 + elements.count
                pending.append(contentsOf: elements)
            case .object(let object):
                total += 2 + object.count
                for (key, member) in object {
                    total += key.utf8.count + 3
                    pending.append(member)
                }
            }
            if total > limitBytes { return nil }
        }
        return total
    }

    private static func isContainer(_ value: JSONValue) -> Bool {
        switch value {
        case .array, .object: return true
        default: return false
        }
    }

    /// JSON equality as RFC 6902 section 4.6 defines it for `test`: numbers by value (`1` is
    /// `1.0`), strings by their bytes, arrays element by element, objects by members whatever
    /// their order. Recursion is bounded by the shallower value (the `test` value comes from
    /// a patch whose depth was checked).
    static func rfcEqual(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.int(let x), .double(let y)), (.double(let y), .int(let x)):
            return JSONValue.double(y).intValue == x
        case (.array(let x), .array(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { rfcEqual($0, $1) }
        case (.object(let x), .object(let y)):
            guard x.count == y.count else { return false }
            for (key, value) in x {
                guard let other = y[key], rfcEqual(value, other) else { return false }
            }
            return true
        default:
            return a == b
        }
    }

    /// `object` without the members named in `keys` (compared by their bytes). Several go in
    /// one pass: removing a member rebuilds the object's index, so one at a time would cost
    /// a pass each, quadratic for a patch that nulls thousands of keys.
    static func removing(_ keys: [String], from object: JSONObject) -> JSONObject {
        if keys.isEmpty { return object }
        if keys.count == 1 {
            var result = object
            result[keys[0]] = nil
            return result
        }
        let doomed = Set(keys.map { Array($0.utf8) })
        return keeping(object) { !doomed.contains(Array($0.utf8)) }
    }

    /// `object` with only the members whose key passes `keep`, in order, built in one pass.
    static func keeping(_ object: JSONObject, where keep: (String) -> Bool) -> JSONObject {
        var kept: [(String, JSONValue)] = []
        kept.reserveCapacity(object.count)
        for (key, value) in object where keep(key) { kept.append((key, value)) }
        return kept.count == object.count ? object : JSONObject(kept)
    }

    /// "an object", "a list", "a string", "a number", "a boolean" or "null".
    static func kindName(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int, .double: return "a number"
        case .string: return "a string"
        case .array: return "a list"
        case .object: return "an object"
        }
    }

    /// The value as compact JSON, cut to `shownCharactersMax` characters with "..." after.
    static func shown(_ value: JSONValue) -> String {
        var text = ""
        render(value, into: &text)
        return cut(text)
    }

    /// Appends compact JSON for `value` until `text` is past the shown length: a value of
    /// megabytes costs no more than the part that is shown. Recursion is bounded by the
    /// value's depth, which the callers' values have had checked.
    private static func render(_ value: JSONValue, into text: inout String) {
        guard text.utf8.count <= shownCharactersMax else { return }
        switch value {
        case .string(let string):
            text += JSONValue.string(String(string.prefix(shownCharactersMax + 1))).jsonString
        case .array(let elements):
            text += "["
            for (position, element) in elements.enumerated() {
                guard text.utf8.count <= shownCharactersMax else { break }
                if position > 0 { text += "," }
                render(element, into: &text)
            }
            text += "]"
        case .object(let object):
            text += "{"
            var first = true
            for (key, member) in object {
                guard text.utf8.count <= shownCharactersMax else { break }
                if !first { text += "," }
                first = false
                text += JSONValue.string(String(key.prefix(shownCharactersMax + 1))).jsonString + ":"
                render(member, into: &text)
            }
            text += "}"
        default:
            text += value.jsonString
        }
    }

    /// A field path as kubectl writes it (`spec.containers[0].image`), each key cut to
    /// `shownCharactersMax` characters: a patch's keys can be megabytes long.
    static func render(_ path: [JSONPathComponent]) -> String {
        JSONPathComponent.render(path.map { component in
            guard case .key(let key) = component, key.count > shownCharactersMax else { return component }
            return .key(String(key.prefix(shownCharactersMax)) + "...")
        })
    }

    /// A key or token as a JSON string literal, cut like `shown`.
    static func quoted(_ text: String) -> String {
        let prefix = text.count > shownCharactersMax ? String(text.prefix(shownCharactersMax)) : text
        let literal = JSONValue.string(prefix).jsonString
        return prefix.count < text.count ? literal + "..." : literal
    }

    private static func cut(_ text: String) -> String {
        text.count > shownCharactersMax ? String(text.prefix(shownCharactersMax)) + "..." : text
    }
}
