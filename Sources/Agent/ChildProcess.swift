import Foundation

#if canImport(Glibc)
import Glibc
#endif

// Starting a daemon and waiting for it with posix_spawn and waitpid on the caller's thread:
// the supervisor owns its child outright (Foundation's Process reaps children on a queue of
// its own, which a supervisor that must know the exit at once cannot wait on reliably).

enum ChildProcess {
    /// Starts `command` (an absolute path first) with stdout and stderr appended to `outputPath`.
    static func spawn(_ command: [String], outputPath: String) -> Result<pid_t, RuntimeError> {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A signal mask or ignored signals of the parent's threads must not reach the daemon.
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var arguments: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        defer { for argument in arguments { free(argument) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, command[0], &actions, &attributes, &arguments, environ)
        guard result == 0 else { return .failure(RuntimeError(.failed, "\(command[0]): \(String(cString: strerror(result)))")) }
        return .success(pid)
    }

    /// Blocks until the child ends; how it ended, in words.
    static func wait(_ pid: pid_t) -> String {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { return "lost (waitpid: \(String(cString: strerror(errno))))" }
        }
        let signal = status & 0x7f
        if signal == 0 { return "exited with status \((status >> 8) & 0xff)" }
        return "killed by signal \(signal)"
    }
}
