// Cutting a host off at one instant. `scripts/cluster cut` installs its iptables rules one
// `ip netns exec iptables` process after another, which takes 100-250 ms on a busy machine:
// too blurred a fault instant for a failover measured in milliseconds. This installs exactly
// the same rules (same chains, positions and comments, so `scripts/cluster heal` and
// `status` treat them as the tool's own), through one `iptables-restore --noflush` per
// namespace started in advance with the rules written to its stdin; writing COMMIT and
// closing the stdins applies all of them within about two milliseconds.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

final class PrestagedCut {
    private var processes: [Process] = []
    private var writeEnds: [Int32] = []
    private var fired = false

    /// Starts the restores for cutting off `hosts[member]` (rules written, not committed).
    init(hosts: [BenchHost], member: Int) throws {
        let address = hosts[member].address
        for (index, host) in hosts.enumerated() {
            // scripts/cluster cut: other hosts drop what arrives from the host; the host drops
            // everything arriving from outside (loopback stays up).
            let rule = index == member
                ? "-I INPUT 1 ! -i lo -m comment --comment shoal-cut -j DROP"
                : "-I INPUT 1 -s \(address) -m comment --comment shoal-cut-h\(member + 1) -j DROP"
            var fds: [Int32] = [0, 0]
            guard pipe(&fds) == 0 else { throw BenchFailure("pipe: \(String(cString: strerror(errno)))") }
            // Only the restore may hold the read end, and no other child the write end.
            _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["ip", "netns", "exec", host.namespace, "iptables-restore", "--noflush", "-w", "5"]
            process.standardInput = FileHandle(fileDescriptor: fds[0], closeOnDealloc: false)
            process.standardOutput = FileHandle.standardError
            process.standardError = FileHandle.standardError
            do { try process.run() } catch {
                close(fds[0]); close(fds[1])
                abandon()
                throw error
            }
            close(fds[0])
            // COMMIT is what applies the rule: it is written when the cut fires.
            let text = Array("*filter\n\(rule)\n".utf8)
            guard text.withUnsafeBytes({ write(fds[1], $0.baseAddress, $0.count) }) == text.count else {
                close(fds[1])
                abandon()
                throw BenchFailure("writing the cut rules for \(host.name) failed")
            }
            processes.append(process)
            writeEnds.append(fds[1])
        }
        // Let every restore start and block on its stdin.
        sleepNanoseconds(50_000_000)
    }

    /// Commits every rule now; returns the instant (monotonic ns) the commits were released.
    func fire() -> UInt64 {
        let commit = Array("COMMIT\n".utf8)
        let now = monotonicNanoseconds()
        for fd in writeEnds { _ = commit.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } }
        for fd in writeEnds { close(fd) }
        writeEnds = []
        fired = true
        return now
    }

    /// Waits until every rule is in (bounded); returns the instant the last was.
    func waitApplied() throws -> UInt64 {
        let deadline = monotonicNanoseconds() + 10_000_000_000
        while processes.contains(where: \.isRunning) && monotonicNanoseconds() < deadline { sleepNanoseconds(100_000) }
        let done = monotonicNanoseconds()
        for process in processes where process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        for process in processes {
            process.waitUntilExit()
            if process.terminationStatus != 0 { throw BenchFailure("iptables-restore for the cut failed (exit \(process.terminationStatus))") }
        }
        return done
    }

    /// Not fired: kill the restores before they commit anything (a restore that sees its
    /// input end without COMMIT applies nothing either).
    func abandon() {
        guard !fired else { return }
        for process in processes where process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        for fd in writeEnds { close(fd) }
        writeEnds = []
    }
}
