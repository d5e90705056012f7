import ArgumentParser
import Foundation
import OrcaCore

/// `orca bench services dns-load` (hidden): the DNS client of `orca bench services`, which runs
/// it under `nsenter --net=` in the network namespace its queries come from. Checks the first
/// names one by one, runs a `ServicesBenchmarkDNSLoad`, prints its result as one JSON line on
/// standard output; errors go to standard error with a nonzero exit. It stops by itself after
/// `--warmup-seconds` + `--seconds`.
struct ServicesBenchmarkDNSLoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dns-load",
        abstract: "(internal) UDP DNS load from the current network namespace, for `orca bench services`.",
        shouldDisplay: false
    )

    @Option(help: "The DNS server's IPv4 address.") var server: String
    @Option(help: "The DNS server's port.") var port = 53
    @Option(help: "A file of `name address` lines: the names to ask for and the A address each answer must hold.") var names: String
    @Option(help: "Concurrent clients (UDP sockets, one query in flight each).") var clients = 8
    @Option(help: "Seconds of measured load.") var seconds = 10
    @Option(help: "Seconds of load before measuring.") var warmupSeconds = 1
    @Option(help: "Milliseconds before a query counts as lost.") var timeoutMilliseconds = 1000
    @Option(help: "Names checked one at a time before the load.") var verify = 20

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be 1 to 65535") }
        guard (1...1024).contains(clients) else { throw ValidationError("--clients must be 1 to 1024") }
        guard (1...3600).contains(seconds), (0...60).contains(warmupSeconds) else {
            throw ValidationError("--seconds must be 1 to 3600, --warmup-seconds 0 to 60")
        }
        guard timeoutMilliseconds > 0, verify >= 0 else { throw ValidationError("--timeout-milliseconds must be positive, --verify not negative") }
    }

    func run() throws {
        let list = try ServicesBenchmarkDNSLoad.parseNames(try String(contentsOfFile: names, encoding: .utf8))
        guard !list.isEmpty else { throw ValidationError("\(names) names nothing") }
        let load = ServicesBenchmarkDNSLoad(server: server, port: UInt16(port), names: list, clients: clients,
                                            duration: .seconds(seconds), warmup: .seconds(warmupSeconds),
                                            timeout: .milliseconds(timeoutMilliseconds))
        let verified = try load.verify(count: verify, patience: .seconds(15))
        var result = try load.run()
        result.verified = verified
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        print(String(decoding: try encoder.encode(result), as: UTF8.self))
        fflush(nil)  // all streams: `stdout` is a C global Swift 6 will not touch
    }
}
