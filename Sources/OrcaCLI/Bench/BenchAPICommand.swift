import ArgumentParser
import Foundation
import OrcaClient
import OrcaCore

/// `orca bench api`: API server latency and throughput (create, get, list, watch) and memory,
/// against a running server (`--kubeconfig`) or one it starts itself with no agent.
struct BenchAPICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "Measure API latency (create, get, list, watch) and server memory.",
        discussion: """
        Without --kubeconfig it starts `orca server --disable-agent` (this executable) on a temporary \
        data dir and a free loopback port, and stops it and removes the dir at the end. With \
        --kubeconfig it uses that server and deletes the namespaces it made; pass --server-pid for RSS figures.

        With --churn it runs only the churn load instead: for --churn-minutes, mixed creates, patches, \
        gets, lists and deletes of ConfigMaps and Pods, short watches (a quarter abandoned mid-stream) \
        and a namespace replaced every minute, across --churn-namespaces namespaces at --churn-rate \
        requests per second; it reports the server's RSS every minute and after the load, the p99 per \
        verb, and the requests dropped.
        """
    )

    @Option(help: "Kubeconfig of a running server (default: start a private one).") var kubeconfig: String?
    @Option(help: "ConfigMaps to create (and get).") var count = 1000
    @Option(help: "Create rate in writes per second (open loop).") var rate = 200
    @Option(help: "Pods to store for the memory figure (they stay Pending).") var pods = 10000
    @Option(help: "Objects in the listed namespace.") var listSize = 1000
    @Option(help: "Lists to time.") var listIterations = 20
    @Option(help: "Objects created while a watch is open.") var watchCount = 200
    @Option(help: "Requests in flight for the concurrent gets and the pod stores.") var concurrency = 16
    @Option(help: "Process id of the server behind --kubeconfig, for RSS figures.") var serverPid: Int32?
    @Option(help: "Requests per platform figure (custom resources, webhook, RBAC), 1 in flight.") var platformCount = 300
    @Flag(help: "Skip the platform figures (custom resources, validating webhook, RBAC).") var skipPlatform = false
    @Flag(help: "Run the churn load only (memory growth and dropped requests).") var churn = false
    @Option(help: "Minutes of churn.") var churnMinutes = 30
    @Option(help: "Namespaces the churn spreads over.") var churnNamespaces = 50
    @Option(help: "Churn requests per second (open loop).") var churnRate = 100

    func validate() throws {
        guard churnMinutes > 0, churnNamespaces > 0, churnRate > 0 else { throw ValidationError("churn figures must be positive") }
        guard count > 0, rate > 0, platformCount > 0, listSize > 0, listIterations > 0, watchCount > 0, concurrency > 0, pods >= 0 else {
            throw ValidationError("counts, rates and concurrency must be positive")
        }
    }

    func run() async throws {
        let server: BenchServer?
        let client: BenchAPIClient
        if let kubeconfig {
            server = nil
            client = try BenchAPIClient(kubeconfig: Kubeconfig(path: kubeconfig))
            try await client.waitReady(timeout: .seconds(10))
        } else {
            let dir = BenchServer.temporaryDirectory(prefix: "orca-bench")
            let started = try await BenchServer.start(dataDir: dir, extraArguments: ["--disable-agent", "--log-level", "warning"])
            server = started.0
            client = started.1
        }
        let namespace = "orca-bench-\(BenchServer.randomHex(6))"
        var outcome: Result<Void, any Error> = .success(())
        do {
            let admin = try Kubeconfig(path: kubeconfig ?? server?.kubeconfigPath ?? "")
            if churn {
                try await measureChurn(client: client, pid: server?.pid ?? serverPid, prefix: namespace)
            } else {
                try await measure(client: client, kubeconfig: admin, pid: server?.pid ?? serverPid, namespace: namespace)
            }
        } catch {
            outcome = .failure(error)
            if let server { BenchLog.info("server log tail:\n\(server.logTail())") }
        }
        if server == nil {
            for ns in [namespace, namespace + "-list", namespace + "-pods", namespace + "-hooked"] {
                _ = try? await client.send(.DELETE, "/api/v1/namespaces/\(ns)")
            }
        }
        await client.shutdown()
        if let server {
            await server.stop()
            server.removeDataDirectory()
        }
        try outcome.get()
    }

    private func measure(client: BenchAPIClient, kubeconfig: Kubeconfig, pid: Int32?, namespace: String) async throws {
        let bench = APIBenchmark(client: client)
        var report = BenchReport(title: "orca bench api (\(client.base))")
        try await Task.sleep(for: .seconds(1))
        let rssIdle = pid.flatMap(BenchServer.residentBytes(pid:))

        try await bench.createNamespace(namespace)
        let path = APIBenchmark.configMapsPath(namespace)
        let name: @Sendable (Int) -> String = { String(format: "cm-%05d", $0) }
        BenchLog.info("creating \(count) configmaps at \(rate)/s")
        let create = try await bench.pacedCreate("create configmap (\(rate)/s)", path: path, count: count, rate: rate) {
            APIBenchmark.configMap(name($0))
        }
        report.add(create)

        BenchLog.info("getting them one at a time, then \(concurrency) in flight")
        let get = try await bench.closedLoop("get configmap (1 in flight)", count: count, concurrency: 1) { i in
            try await client.expect(.GET, path + "/" + name(i))
        }
        report.add(get)
        report.add(try await bench.closedLoop("get configmap (\(concurrency) in flight)", count: count, concurrency: concurrency) { i in
            try await client.expect(.GET, path + "/" + name(i))
        })

        var listPath = path
        if listSize != count {
            let listNamespace = namespace + "-list"
            try await bench.createNamespace(listNamespace)
            listPath = APIBenchmark.configMapsPath(listNamespace)
            BenchLog.info("filling \(listNamespace) with \(listSize) configmaps")
            let fillPath = listPath
            _ = try await bench.closedLoop("fill", count: listSize, concurrency: concurrency) { i in
                try await client.expect(.POST, fillPath, json: APIBenchmark.configMap(name(i)))
            }
        }
        BenchLog.info("listing \(listSize) configmaps \(listIterations) times")
        let list = try await bench.list(path: listPath, expected: listSize, iterations: listIterations)
        report.add(list)

        BenchLog.info("watch delivery of \(watchCount) creates")
        let (watch, watchFromSend, early) = try await bench.watchDelivery(namespace: namespace, count: watchCount, rate: rate)
        report.add(watch)
        report.add(watchFromSend)
        if early > 0 { report.notes.append("\(early) of \(watch.count) watch events arrived before their create response (counted as 0 ms)") }

        var rssPods: Int?
        if pods > 0 {
            let podNamespace = namespace + "-pods"
            try await bench.createNamespace(podNamespace)
            let podPath = "/api/v1/namespaces/\(podNamespace)/pods"
            BenchLog.info("storing \(pods) pending pods (\(concurrency) in flight)")
            report.add(try await bench.closedLoop("create pod (\(concurrency) in flight)", count: pods, concurrency: concurrency, unit: "pod") { i in
                try await client.expect(.POST, podPath, json: APIBenchmark.pendingPod(String(format: "pod-%05d", i)))
            })
            try await Task.sleep(for: .seconds(2))
            rssPods = pid.flatMap(BenchServer.residentBytes(pid:))
        }

        let rss = { (bytes: Int?) in bytes.map(BenchReport.format(bytes:)) ?? "n/a" }
        if pid == nil { report.notes.append("no server pid (use --server-pid with --kubeconfig): RSS not measured") }
        report.fact("server RSS idle", rss(rssIdle))
        if pods > 0 {
            report.fact("server RSS with \(pods) pods", rss(rssPods) + " (and \(count + watchCount + 1 + (listSize == count ? 0 : listSize)) configmaps)")
        }
        var summary = "api: \(create.summary); \(get.summary); \(list.summary); \(watch.summary) (\(watchFromSend.p50.map(BenchReport.format(ms:)) ?? "n/a") ms after create sent)"
        if let rssIdle { summary += "; RSS \(rss(rssIdle)) idle" }
        if let rssPods { summary += ", \(rss(rssPods)) with \(pods) pods" }
        if !skipPlatform {
            let platform = PlatformBenchmark(bench: bench, kubeconfig: kubeconfig, namespace: namespace, count: platformCount,
                                             cleanUp: self.kubeconfig != nil)
            summary += "; " + (try await platform.measure(into: &report))
        }
        report.print(summary: summary)
    }

    private func measureChurn(client: BenchAPIClient, pid: Int32?, prefix: String) async throws {
        var report = BenchReport(title: "orca bench api --churn (\(client.base))")
        try await Task.sleep(for: .seconds(1))
        let idle = pid.flatMap(ProcessUsage.of(pid:))
        BenchLog.info("churn: \(churnMinutes) min, \(churnNamespaces) namespaces, \(churnRate) req/s")
        let churn = ChurnBenchmark(client: client, namespaces: churnNamespaces, rate: churnRate,
                                   duration: .seconds(60 * churnMinutes), pid: pid, prefix: prefix)
        let outcome = try await churn.run()
        for verb in outcome.verbs { report.add(verb) }
        let mib = { (bytes: Int?) in bytes.map(BenchReport.format(bytes:)) ?? "n/a" }
        report.fact("server idle", ChurnBenchmark.describe(idle))
        for s in outcome.samples {
            report.fact("minute \(s.minute)", "\(ChurnBenchmark.describe(s.usage)), \(s.openWatches.map(String.init) ?? "?") watches open")
        }
        report.fact("after the load (deleted, \(ChurnBenchmark.quietSpell.components.seconds) s quiet)", "\(ChurnBenchmark.describe(outcome.usageAfterLoad)), \(await churn.openWatchCount().map(String.init) ?? "?") watches open")
        report.fact("requests", "\(outcome.sent) sent, \(outcome.dropped) dropped (no answer), \(outcome.serverErrors) 5xx, "
                    + "\(outcome.throttled) 429, \(outcome.rejected) other 4xx; \(outcome.watchesOpened) watches opened")
        if pid == nil { report.notes.append("no server pid (use --server-pid with --kubeconfig): RSS not measured") }
        for e in outcome.firstErrors { report.notes.append(e) }
        let residents = outcome.samples.compactMap(\.usage?.residentBytes)
        let anonymous = outcome.samples.compactMap(\.usage?.anonymousBytes)
        var summary = "churn \(churnMinutes) min, \(churnNamespaces) namespaces, \(churnRate) req/s: "
        summary += "RSS idle \(mib(idle?.residentBytes)), first minute \(mib(residents.first)), last \(mib(residents.last)), max \(mib(residents.max())), "
        summary += "after \(mib(outcome.usageAfterLoad?.residentBytes)); anonymous idle \(mib(idle?.anonymousBytes)), max \(mib(anonymous.max())), "
        summary += "after \(mib(outcome.usageAfterLoad?.anonymousBytes)); dropped \(outcome.dropped) of \(outcome.sent)"
        let worst = outcome.verbs.compactMap { v in v.p99.map { (v.name, $0) } }.max { $0.1 < $1.1 }
        if let worst { summary += "; worst p99 \(BenchReport.format(ms: worst.1)) ms (\(worst.0))" }
        report.print(summary: summary)
    }
}
