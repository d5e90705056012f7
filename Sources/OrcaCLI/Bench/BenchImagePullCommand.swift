import ArgumentParser
import Foundation
import OrcaCore
import OrcaRuntime

/// `orca bench image-pull`: how long Orca takes to pull a realistic image from a registry on
/// loopback, side by side with `skopeo copy` of the same image.
struct BenchImagePullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image-pull",
        abstract: "Measure image pull time and throughput from a loopback registry (and skopeo's).",
        discussion: """
        Starts `docker-registry` on 127.0.0.1 and a free port (storage in a temporary dir), builds a \
        3-layer gzip image (a busybox rootfs and two layers of random, incompressible data) as an OCI \
        layout and pushes it with skopeo; then, per run, pulls it with Orca's ImagePuller into a fresh \
        empty image store (download, verify, unpack) and copies it with `skopeo copy … dir:` (download, \
        verify). Stops the registry and removes every temporary dir at the end. Needs Debian's \
        docker-registry, skopeo and busybox-static.
        """
    )

    @Option(help: "Timed runs (each: one orca pull, one skopeo copy).") var runs = 5
    @Option(help: "Untimed warm-up runs first.") var warmup = 1
    @Option(help: "MiB of random data in each of the two data layers.") var layerMib = 20

    func validate() throws {
        guard runs > 0, warmup >= 0, layerMib > 0 else { throw ValidationError("--runs and --layer-mib must be positive, --warmup not negative") }
        for (path, package) in [(BenchRegistry.registryPath, "docker-registry"), (BenchRegistry.skopeoPath, "skopeo"),
                                (BenchTestImage.busyboxPath, "busybox-static")]
        where !FileManager.default.isExecutableFile(atPath: path) {
            throw ValidationError("\(path) is missing: install it with `apt-get install \(package)`")
        }
    }

    func run() async throws {
        let dir = BenchServer.temporaryDirectory(prefix: "orca-bench-image-pull")
        try FileManager.default.createDirectory(atPath: dir + "/runs", withIntermediateDirectories: true)
        defer {
            do { try FileManager.default.removeItem(atPath: dir) } catch { BenchLog.info("warning: cannot remove \(dir): \(error)") }
        }
        BenchLog.info("building the test image (busybox rootfs + 2 × \(layerMib) MiB random data, gzip)")
        let image = try await BenchTestImage.build(in: dir + "/layout", tag: "v1", randomLayerBytes: layerMib << 20)
        let registry = try await BenchRegistry.start(directory: dir + "/registry")
        let results: ImagePullBenchmark.Results
        do {
            try await registry.push(layout: image.layout, tag: image.tag, repository: "bench/image-pull")
            BenchLog.info("pushed \(registry.host)/bench/image-pull:v1 (\(BenchReport.format(bytes: Int(image.transferBytes))) of blobs)")
            let bench = ImagePullBenchmark(registry: registry, image: image, reference: "\(registry.host)/bench/image-pull:v1",
                                           workDirectory: dir + "/runs")
            results = try await bench.run(runs: runs, warmup: warmup)
        } catch {
            await registry.stop()
            throw error
        }
        await registry.stop()
        report(results, image: image)
    }

    private func report(_ results: ImagePullBenchmark.Results, image: BenchTestImage) {
        var report = BenchReport(title: "orca bench image-pull (\(image.layerCount) gzip layers, \(BenchReport.format(bytes: Int(image.transferBytes))) to transfer, \(BenchReport.format(bytes: Int(image.unpackedBytes))) unpacked; \(runs) runs after \(warmup) warm-up)")
        report.add(results.orca)
        report.add(results.skopeo)
        for samples in [results.orca, results.skopeo] {
            let tool = samples.name.split(separator: " ").first.map(String.init) ?? samples.name
            report.fact("\(tool) min / median / max", [samples.percentile(0), samples.p50, samples.max]
                .map { $0.map { BenchReport.format(ms: $0) + " ms" } ?? "n/a" }.joined(separator: " / "))
            report.fact("\(tool) throughput at the median", Self.megabytesPerSecond(image.transferBytes, samples.p50))
        }
        let ratio = BenchPodStartupCommand.ratio(results.orca.p50, results.skopeo.p50)
        report.fact("ratio orca/skopeo, median", ratio)
        report.fact("ratio orca/skopeo, p99", BenchPodStartupCommand.ratio(results.orca.p99, results.skopeo.p99))
        report.notes.append("orca: ImagePuller.pull into a new empty ImageStore — manifest, config and layers downloaded (3 at once) and verified, layers unpacked with tar, image registered; one HTTP client kept across runs, as the node agent does")
        report.notes.append("skopeo: a new `skopeo copy --src-tls-verify=false docker://… dir:…` process per run — downloads and verifies the blobs, does not unpack")
        report.notes.append("MB/s = transferred blob bytes (10^6) per second; p99 is the slowest run when there are fewer than 100")
        report.print(summary: "image-pull: orca median \(BenchPodStartupCommand.ms(results.orca.p50)) (\(Self.megabytesPerSecond(image.transferBytes, results.orca.p50))), skopeo median \(BenchPodStartupCommand.ms(results.skopeo.p50)) (\(Self.megabytesPerSecond(image.transferBytes, results.skopeo.p50))); orca/skopeo \(ratio)")
    }

    static func megabytesPerSecond(_ bytes: Int64, _ milliseconds: Double?) -> String {
        guard let milliseconds, milliseconds > 0 else { return "n/a" }
        return BenchReport.format(rate: Double(bytes) / 1e6 / (milliseconds / 1000)) + " MB/s"
    }
}
