import JSON
import Yams

#if canImport(Glibc)
import Glibc
#endif

/// Reads manifests: JSON, or YAML (several `---` documents), into JSON values with their
/// keys in file order.
enum Manifest {
    static func documents(_ text: String, source: String) throws -> [JSONValue] {
        let trimmed = text.trimmed()
        if trimmed.hasPrefix("{") || trimmed.hasPrefix("[") {
            do {
                let value = try JSONValue.parse(text)
                if let items = value.arrayValue { return items }
                if value["kind"]?.stringValue?.hasSuffix("List") == true, let items = value["items"]?.arrayValue { return items }
                return [value]
            } catch {
                throw CLIError("\(source): \(error)")
            }
        }
        do {
            var documents: [JSONValue] = []
            for node in try Yams.compose_all(yaml: text) {
                let value = try convert(node)
                if value.isNull { continue }
                if value["kind"]?.stringValue?.hasSuffix("List") == true, let items = value["items"]?.arrayValue {
                    documents += items
                } else {
                    documents.append(value)
                }
            }
            return documents
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError("\(source): not valid YAML: \(error)")
        }
    }

    static func convert(_ node: Node) throws -> JSONValue {
        switch node {
        case .scalar(let scalar):
            if scalar.style == .plain {
                if let _ = NSNullish.null(scalar) { return .null }
                if let bool = Bool.construct(from: scalar) { return .bool(bool) }
                if let int = Int.construct(from: scalar) { return .int(Int64(int)) }
                if let double = Double.construct(from: scalar), scalar.string.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) {
                    return .double(double)
                }
            }
            return .string(scalar.string)
        case .mapping(let mapping):
            var object = JSONObject()
            for (key, value) in mapping {
                guard case .scalar(let k) = key else { throw CLIError("a mapping key is not a string") }
                guard object[k.string] == nil else { throw CLIError("duplicate key '\(k.string)'") }
                object[k.string] = try convert(value)
            }
            return .object(object)
        case .sequence(let sequence):
            return .array(try sequence.map(convert))
        case .alias:
            throw CLIError("YAML aliases are not supported in manifests")
        }
    }
}

/// YAML's null: `~`, `null`, `Null`, `NULL`, or nothing.
enum NSNullish {
    static func null(_ scalar: Node.Scalar) -> Void? {
        ["", "~", "null", "Null", "NULL"].contains(scalar.string) ? () : nil
    }
}

/// The wall clock for ages.
enum WallClockNow {
    static func now() -> (Int64, Int64) {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return (Int64(ts.tv_sec), Int64(ts.tv_nsec))
    }
}
