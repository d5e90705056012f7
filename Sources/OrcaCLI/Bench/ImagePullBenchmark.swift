import AsyncHTTPClient
import Foundation
import OrcaCore
import OrcaRuntime

/// Times pulls of one image from a loopback registry: Orca's `ImagePuller` into a fresh, empty
/// `ImageStore` (download, verify, unpack, register) against `skopeo copy` of the same image to
/// a `dir:` (download and verify only), interleaved run by run. Each pulled copy is checked and
/// removed before the next run.
struct ImagePullBenchmark: Sendable {
    /// What the runs measured.
    struct Results: Sendable {
        var orca = LatencySamples(name: "orca pull (ImagePuller → ImageStore, incl. unpack)", unit: "pull")
        var skopeo = LatencySamples(name: "skopeo copy docker:// → dir:", unit: "pull")
    }

    let registry: BenchRegistry
    let image: BenchTestImage
    /// `127.0.0.1:<port>/<repository>:<tag>`.
    let reference: String
    /// Where the runs' stores and copies go (each removed after its run).
    let workDirectory: String

    /// Runs `warmup` untimed rounds, then `runs` timed ones (each: one Orca pull, one skopeo copy).
    func run(runs: Int, warmup: Int) async throws -> Results {
        var results = Results()
        let http = RegistryClient.makeHTTPClient()
        do {
            for round in 0..<(warmup + runs) {
                let timed = round >= warmup
                let orca = try await orcaPull(round, http: http)
                let skopeo = try await skopeoCopy(round)
                if timed {
                    results.orca.record(orca)
                    results.skopeo.record(skopeo)
                }
                BenchLog.info("\(timed ? "run \(round - warmup + 1)/\(runs)" : "warm-up \(round + 1)/\(warmup)"): orca \(BenchReport.format(ms: LatencySamples.milliseconds(orca))) ms, skopeo \(BenchReport.format(ms: LatencySamples.milliseconds(skopeo))) ms")
            }
        } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
        return results
    }

    /// One pull with a new `RegistryClient` and `ImagePuller` over the shared HTTP client (as the
    /// node agent keeps one) into a new store; checks the image and removes the store.
    private func orcaPull(_ round: Int, http: HTTPClient) async throws -> Duration {
        let root = "\(workDirectory)/orca-\(round)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try ImageStore(root: root)
        let puller = ImagePuller(store: store, client: RegistryClient(httpClient: http, configuration: .insecure(registry.host)))
        let clock = ContinuousClock()
        let start = clock.now
        let pulled = try await puller.pull(reference)
        let took = start.duration(to: clock.now)
        guard pulled.manifestDigest == image.manifestDigest, pulled.layers.count == image.layerCount,
              FileManager.default.isExecutableFile(atPath: pulled.layers[0] + "/bin/busybox") else {
            throw OrcaError(.internalError, "orca pulled \(pulled.manifestDigest) with \(pulled.layers.count) layers, expected \(image.manifestDigest) with \(image.layerCount)")
        }
        return took
    }

    /// One `skopeo copy` to a new `dir:`; checks that every blob arrived and removes the copy.
    private func skopeoCopy(_ round: Int) async throws -> Duration {
        let target = "\(workDirectory)/skopeo-\(round)"
        defer { try? FileManager.default.removeItem(atPath: target) }
        let clock = ContinuousClock()
        let start = clock.now
        try await BenchRegistry.skopeo(["copy", "--quiet", "--src-tls-verify=false", "docker://\(reference)", "dir:\(target)"],
                                       home: workDirectory)
        let took = start.duration(to: clock.now)
        let files = (try? FileManager.default.contentsOfDirectory(atPath: target)) ?? []
        guard files.contains("manifest.json"), files.count >= image.layerCount + 2 else {
            throw OrcaError(.internalError, "skopeo copied \(files.count) files to \(target), expected a manifest and \(image.layerCount + 1) blobs")
        }
        return took
    }
}
