// The one-way import rule, enforced: docs/ARCHITECTURE.md's module table says what each
// module imports, and this test holds the sources to it — in both directions, so the table
// cannot drift from the code and a new import is a reviewed change to the table. It also
// keeps the modules that must stay deterministic away from I/O, clocks and randomness.
import Foundation
import XCTest

final class ImportRuleTests: XCTestCase {
    /// Modules of the platform, not of the project's graph: any module may import them, except
    /// where `forbiddenPlatformImports` says otherwise.
    static let platformModules: Set<String> = ["Foundation", "FoundationEssentials", "Glibc", "Darwin", "Dispatch",
                                               "Synchronization"]

    /// Deterministic modules (the Raft core, the replicated state machine, the JSON it is made
    /// of) may not reach the file system, the network, clocks or randomness: no Foundation,
    /// no libc, no Dispatch. RaftCore imports nothing at all.
    static let forbiddenPlatformImports: [String: Set<String>] = [
        "RaftCore": platformModules,
        "Store": ["Foundation", "FoundationEssentials", "Glibc", "Darwin", "Dispatch"],
        "JSON": ["Foundation", "FoundationEssentials", "Glibc", "Darwin", "Dispatch"],
    ]

    /// Calls that read a clock or draw randomness, which the deterministic modules must not
    /// make even without an import (the standard library offers both).
    static let forbiddenCalls = ["SystemRandomNumberGenerator", ".random(", "ContinuousClock", "SuspendingClock",
                                 "clock_gettime", "Date("]

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    func testEveryModuleImportsExactlyWhatTheArchitectureTableSays() throws {
        let (table, planned) = try Self.architectureTable()
        var problems: [String] = []
        let directories = try Self.moduleDirectories()
        for (module, directory) in directories.sorted(by: { $0.key < $1.key }) {
            let imports = try Self.imports(in: directory)
            guard let documented = table[module] else {
                problems.append("\(module) (\(directory.path)) has no row in docs/ARCHITECTURE.md's module table")
                continue
            }
            let used = Set(imports.keys).subtracting(Self.platformModules)
            for extra in used.subtracting(documented).sorted() {
                problems.append("\(module) imports \(extra) (\(imports[extra]!.joined(separator: ", "))), which the table does not list")
            }
            for missing in documented.subtracting(used).sorted() {
                problems.append("the table says \(module) imports \(missing), but no file of it does")
            }
            for banned in (Self.forbiddenPlatformImports[module] ?? []).intersection(imports.keys).sorted() {
                problems.append("\(module) must not import \(banned) (\(imports[banned]!.joined(separator: ", ")))")
            }
        }
        for module in table.keys where directories[module] == nil && !planned.contains(module) {
            problems.append("the table lists \(module), which has no directory under Sources/ (mark it planned or remove it)")
        }
        XCTAssertEqual(problems, [], "\n" + problems.joined(separator: "\n"))
    }

    func testDeterministicModulesReadNoClockAndDrawNoRandomness() throws {
        var problems: [String] = []
        for module in Self.forbiddenPlatformImports.keys.sorted() {
            let directory = Self.repository.appendingPathComponent("Sources/\(module)")
            for file in try Self.swiftFiles(in: directory) {
                let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
                for (number, line) in lines.enumerated() {
                    let code = line.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
                    for call in Self.forbiddenCalls where Self.contains(call, inCode: code) {
                        problems.append("\(module)/\(file.lastPathComponent):\(number + 1) uses \(call)")
                    }
                }
            }
        }
        XCTAssertEqual(problems, [], "\n" + problems.joined(separator: "\n"))
    }

    /// Whether `code` uses `name` as a whole identifier (`isUpToDate(` is not `Date(`).
    static func contains(_ name: String, inCode code: Substring) -> Bool {
        var rest = code[...]
        while let found = rest.range(of: name) {
            let before = found.lowerBound == code.startIndex ? nil : code[code.index(before: found.lowerBound)]
            if name.first == "." || before.map({ !($0.isLetter || $0.isNumber || $0 == "_") }) ?? true { return true }
            rest = code[found.upperBound...]
        }
        return false
    }

    /// The parser must see imports in the forms Swift allows, and only those.
    func testImportParsing() {
        let source = """
            import Foundation
            @testable import RaftCore
            @_implementationOnly import CLZ4
            import struct JSON.JSONValue
            public import Store
            // import Server
            let text = "import API"
            """
        XCTAssertEqual(Self.importedModules(of: source), ["Foundation", "RaftCore", "CLZ4", "JSON", "Store"])
        let row = "| `RaftStorage` | **built** | a WAL using `GroupCommitWorker` | `RaftCore`, `CLZ4` |"
        XCTAssertEqual(Self.tableRow(row)?.modules, ["RaftStorage"])
        XCTAssertEqual(Self.tableRow(row)?.imports, ["RaftCore", "CLZ4"])
        XCTAssertEqual(Self.tableRow("| `JSON` | **built** | values | — |")?.imports, [])
        XCTAssertNil(Self.tableRow("| --- | --- | --- | --- |"))
        XCTAssertFalse(Self.contains("Date(", inCode: "log.isUpToDate(lastIndex: i)"))
        XCTAssertTrue(Self.contains("Date(", inCode: "let now = Date()"))
        XCTAssertTrue(Self.contains(".random(", inCode: "UInt8.random(in: 0...9)"))
    }

    // MARK: Reading the table and the sources

    /// Module → the project and package modules it imports: the backticked names of the
    /// table's last column ("—" or none: nothing); and the modules the table lists before they
    /// exist (status "later").
    static func architectureTable() throws -> (imports: [String: Set<String>], planned: Set<String>) {
        let text = try String(contentsOf: repository.appendingPathComponent("docs/ARCHITECTURE.md"), encoding: .utf8)
        guard let start = text.range(of: "## Modules and the one-way import rule") else {
            throw ArchitectureError("docs/ARCHITECTURE.md has no section \"Modules and the one-way import rule\"")
        }
        var table: [String: Set<String>] = [:]
        var planned: Set<String> = []
        for line in text[start.upperBound...].split(separator: "\n").prefix(while: { !$0.hasPrefix("## ") }) {
            guard let row = tableRow(String(line)) else { continue }
            for module in row.modules {
                table[module] = row.imports
                if row.planned { planned.insert(module) }
            }
        }
        guard !table.isEmpty else { throw ArchitectureError("docs/ARCHITECTURE.md's module table has no rows") }
        return (table, planned)
    }

    static func tableRow(_ line: String) -> (modules: [String], imports: Set<String>, planned: Bool)? {
        guard line.hasPrefix("| `") else { return nil }
        let cells = line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard cells.count >= 3 else { return nil }
        return (backticked(cells.first!), Set(backticked(cells.last!)), cells.count > 1 && cells[1].contains("later"))
    }

    static func backticked(_ cell: String) -> [String] {
        cell.split(separator: "`", omittingEmptySubsequences: false).enumerated()
            .filter { $0.offset % 2 == 1 }.map { String($0.element) }
    }

    /// Every module with Swift sources: Sources/* and the benchmark executable in bench/.
    static func moduleDirectories() throws -> [String: URL] {
        var directories: [String: URL] = [:]
        let sources = repository.appendingPathComponent("Sources")
        for name in try FileManager.default.contentsOfDirectory(atPath: sources.path) {
            let directory = sources.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            directories[name] = directory
        }
        directories["shoal-bench"] = repository.appendingPathComponent("bench/shoal-bench")
        return directories
    }

    /// Imported module → the files importing it.
    static func imports(in directory: URL) throws -> [String: [String]] {
        var result: [String: [String]] = [:]
        for file in try swiftFiles(in: directory) {
            for module in importedModules(of: try String(contentsOf: file, encoding: .utf8)) {
                result[module, default: []].append(file.lastPathComponent)
            }
        }
        return result
    }

    static func swiftFiles(in directory: URL) throws -> [URL] {
        guard let walker = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil) else { return [] }
        return walker.compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }.sorted { $0.path < $1.path }
    }

    /// The modules a Swift file imports: `import M`, `import struct M.T`, with attributes
    /// (`@testable`, `@_implementationOnly`) and access levels (`public import M`).
    static func importedModules(of source: String) -> [String] {
        let kinds: Set<Substring> = ["struct", "class", "enum", "protocol", "typealias", "func", "var", "let"]
        let accessLevels: Set<Substring> = ["public", "package", "internal", "fileprivate", "private"]
        var modules: [String] = []
        for line in source.split(separator: "\n") {
            var words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })[...]
            while let first = words.first, first.hasPrefix("@") || accessLevels.contains(first) { words = words.dropFirst() }
            guard words.first == "import", words.count >= 2 else { continue }
            words = words.dropFirst()
            if let kind = words.first, kinds.contains(kind) { words = words.dropFirst() }
            guard let path = words.first else { continue }
            modules.append(String(path.split(separator: ".").first ?? path))
        }
        return modules
    }
}

struct ArchitectureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
