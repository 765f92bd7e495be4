// shoal: one binary on every host. `shoal agent` runs a member; every other command is an
// HTTP client of the local agent (docs/operations.md).
import ArgumentParser

struct Shoal: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shoal",
        abstract: "A self-healing container platform in one binary: start the same agent on every host.",
        subcommands: [AgentCommand.self, InitCommand.self, TokenCommand.self, JoinCommand.self, LeaveCommand.self,
                      RemoveCommand.self, MembersCommand.self, StatusCommand.self, GetCommand.self, ApplyCommand.self,
                      DeleteCommand.self, KubeconfigCommand.self])
}

Shoal.main()
