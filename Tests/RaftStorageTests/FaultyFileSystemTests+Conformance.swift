import Foundation
import Glibc
import RaftStorage
import SimKit
import XCTest

/// The fake must not drift from the real file system: one script of operations runs
/// against `PosixFileSystem` in a temporary directory and against `FaultyFileSystem` at the
/// same path, and every result (values and errors, with their call, path and errno) must
/// be identical.
extension FaultyFileSystemTests {
    func testConformsToPosixFileSystem() throws {
        var template = Array("/tmp/shoal-ffs-XXXXXX".utf8CString)
        let base = try XCTUnwrap(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }.map { String(cString: $0) })
        defer { try? FileManager.default.removeItem(atPath: base) }

        let real = Self.runConformanceScript(PosixFileSystem(), base: base)
        let fake = FaultyFileSystem(seed: 1)
        fake.makeDurableDirectories(base)
        let simulated = Self.runConformanceScript(fake, base: base)

        XCTAssertEqual(real.count, simulated.count)
        for (posix, faulty) in zip(real, simulated) {
            XCTAssertEqual(faulty, posix, "FaultyFileSystem (first) differs from PosixFileSystem (second)")
        }
        XCTAssertGreaterThan(real.filter { $0.contains("error") }.count, 20, "the script should exercise errors")
    }

    /// Runs the script and returns one line per step: its label and result or error.
    static func runConformanceScript(_ fs: any FileSystem, base: String) -> [String] {
        var lines: [String] = []
        func step(_ label: String, _ body: () throws -> Any) {
            do {
                lines.append("\(label) -> \(try body())")
            } catch {
                lines.append("\(label) -> error \(error)")
            }
        }
        func at(_ name: String) -> String { joinPath(base, name) }
        var files: [String: any StorageFile] = [:]
        func file(_ name: String) throws -> any StorageFile {
            guard let open = files[name] else { throw StorageError.inconsistent("\(name) not open") }
            return open
        }
        let text = { (s: String) in Array(s.utf8) }

        // Files: create, write at offsets, read back, size, preallocate, truncate.
        step("list empty") { try fs.list(base) }
        step("open missing") { try fs.open(at("a"), create: false) }
        step("create a") { files["a"] = try fs.open(at("a"), create: true); return "ok" }
        step("size new") { try file("a").size() }
        step("write hello@0") { try file("a").write(text("hello"), at: 0); return "ok" }
        step("write XY@10 leaves a hole") { try file("a").write(text("XY"), at: 10); return try file("a").size() }
        step("write nothing@100") { try file("a").write([], at: 100); return try file("a").size() }
        step("overwrite ab@3") { try file("a").write(text("ab"), at: 3); return "ok" }
        step("read all") { try file("a").read(at: 0, count: 100) }
        step("read middle") { try file("a").read(at: 4, count: 3) }
        step("read past end") { try file("a").read(at: 100, count: 4) }
        step("read empty") { try file("a").read(at: 2, count: 0) }
        step("write negative offset") { try file("a").write(text("x"), at: -1); return "ok" }
        step("preallocate 4096") { try file("a").preallocate(size: 4096); return try file("a").size() }
        step("read preallocated") { try file("a").read(at: 4090, count: 10) }
        step("preallocate smaller") { try file("a").preallocate(size: 100); return try file("a").size() }
        step("preallocate 0") { try file("a").preallocate(size: 0); return "ok" }
        step("truncate 7") { try file("a").truncate(to: 7); return try file("a").read(at: 0, count: 100) }
        step("truncate grows 20") { try file("a").truncate(to: 20); return try file("a").read(at: 0, count: 100) }
        step("truncate -1") { try file("a").truncate(to: -1); return "ok" }
        step("sync a") { try file("a").sync(); return "ok" }
        step("reopen a") { try fs.open(at("a"), create: false).read(at: 0, count: 5) }

        // Directories.
        step("mkdir sub") { try fs.makeDirectory(at("sub")); return "ok" }
        step("mkdir sub again") { try fs.makeDirectory(at("sub")); return "ok" }
        step("mkdir over file") { try fs.makeDirectory(at("a")); return "ok" }
        step("mkdir missing parent") { try fs.makeDirectory(at("none/x")); return "ok" }
        step("mkdir under file") { try fs.makeDirectory(at("a/x")); return "ok" }
        step("open directory") { try fs.open(at("sub"), create: true) }
        step("open missing parent") { try fs.open(at("none/f"), create: true) }
        step("open under file") { try fs.open(at("a/f"), create: true) }
        step("list base") { try fs.list(base) }
        step("list file") { try fs.list(at("a")) }
        step("list missing") { try fs.list(at("none")) }
        step("exists") { [fs.exists(at("a")), fs.exists(at("sub")), fs.exists(at("none")), fs.exists(at("a/x"))] }
        step("sync dir") { try fs.syncDirectory(base); return "ok" }
        step("sync missing dir") { try fs.syncDirectory(at("none")); return "ok" }
        step("sync file as dir") { try fs.syncDirectory(at("a")); return "ok" }

        // Renames: an open file follows its file, not its name.
        step("rename a -> sub/b") { try fs.rename(at("a"), to: at("sub/b")); return try [fs.list(base), fs.list(at("sub"))] }
        func content(_ name: String) throws -> [UInt8] { try fs.open(at(name), create: false).read(at: 0, count: 99) }
        step("write via old handle") { try file("a").write(text("Z"), at: 0); return try content("sub/b").prefix(3) }
        step("rename missing") { try fs.rename(at("none"), to: at("x")); return "ok" }
        step("rename into missing dir") { try fs.rename(at("sub/b"), to: at("none/b")); return "ok" }
        step("rename file onto its parent") { try fs.rename(at("sub/b"), to: at("sub")); return "ok" }
        step("rename onto itself") { try fs.rename(at("sub/b"), to: at("sub/b")); return try fs.list(at("sub")) }
        step("create c") { let c = try fs.open(at("c"), create: true); try c.write(text("cc"), at: 0); return "ok" }
        step("rename c replaces b") { try fs.rename(at("c"), to: at("sub/b")); return try content("sub/b") }
        step("mkdir d1, d2/x") {
            for name in ["d1", "d2", "d2/x"] { try fs.makeDirectory(at(name)) }
            return "ok"
        }
        step("rename file onto dir") { try fs.rename(at("sub/b"), to: at("d1")); return "ok" }
        step("rename dir onto file") { try fs.rename(at("d1"), to: at("sub/b")); return "ok" }
        step("rename dir into itself") { try fs.rename(at("sub"), to: at("sub/inner")); return "ok" }
        step("rename dir onto non-empty dir") { try fs.rename(at("d1"), to: at("d2")); return "ok" }
        step("rename dir onto empty dir") {
            try fs.rename(at("d1"), to: at("d2/x"))
            return try [fs.list(base), fs.list(at("d2"))]
        }
        step("rename dir") { try fs.rename(at("d2"), to: at("d3")); return try [fs.list(base), fs.list(at("d3"))] }

        // Removal, including of an open file, which stays usable.
        step("remove b") { try fs.remove(at("sub/b")); return try fs.list(at("sub")) }
        step("remove b again") { try fs.remove(at("sub/b")); return "ok" }
        step("remove dir") { try fs.remove(at("sub")); return "ok" }
        step("remove under file") { try fs.remove(at("d3/x/y/z")); return "ok" }
        step("unlinked file still works") {
            let e = try fs.open(at("e"), create: true)
            try fs.remove(at("e"))
            try e.write(text("ghost"), at: 0)
            try e.sync()
            return try [e.read(at: 0, count: 9).count, e.size(), fs.exists(at("e")) ? 1 : 0]
        }

        // Locks.
        var lock: (any DirectoryLock)?
        step("lock") { lock = try fs.lockDirectory(base); return try fs.list(base) }
        step("lock again") { try fs.lockDirectory(base) }
        step("unlock, lock") { lock?.unlock(); lock = try fs.lockDirectory(base); return "ok" }
        step("lock missing dir") { try fs.lockDirectory(at("none")) }
        step("lock a file") { let f = try fs.open(at("f"), create: true); _ = f; return try fs.lockDirectory(at("f")) }
        lock?.unlock()

        // A closed file fails as a closed descriptor does.
        step("close a") { try file("a").close(); return "ok" }
        step("closed size") { try file("a").size() }
        step("closed read") { try file("a").read(at: 0, count: 1) }
        step("closed write") { try file("a").write(text("x"), at: 0); return "ok" }
        step("closed sync") { try file("a").sync(); return "ok" }
        step("closed truncate") { try file("a").truncate(to: 1); return "ok" }
        step("closed preallocate") { try file("a").preallocate(size: 10); return "ok" }
        step("final listing") { try [fs.list(base), fs.list(at("sub")), fs.list(at("d3")), fs.list(at("d3/x"))] }
        return lines
    }
}
