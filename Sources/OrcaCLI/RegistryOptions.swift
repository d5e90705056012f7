import ArgumentParser
import OrcaRuntime

/// How `orca server` and `orca image pull` reach registries.
struct RegistryOptions: ParsableArguments {
    @Option(name: .customLong("insecure-registry"),
            help: "A registry (host[:port]) reached over plain HTTP; repeatable. Loopback registries are by default.")
    var insecureRegistries: [String] = []

    @Option(name: .customLong("registry-mirror"),
            help: "A mirror tried before a registry, as DOMAIN=URL (e.g. docker.io=http://127.0.0.1:5000); repeatable.")
    var registryMirrors: [String] = []

    func validate() throws {
        for mirror in registryMirrors {
            let parts = mirror.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, !parts[0].isEmpty, parts[1].hasPrefix("http://") || parts[1].hasPrefix("https://") else {
                throw ValidationError("--registry-mirror takes DOMAIN=URL with an http:// or https:// URL, not \"\(mirror)\"")
            }
        }
    }

    /// The registry configuration these options describe.
    var configuration: RegistryConfiguration {
        var config = RegistryConfiguration()
        for domain in insecureRegistries { config.registries[domain, default: .init()].insecure = true }
        for mirror in registryMirrors {
            let parts = mirror.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            let domain = parts[0] == "index.docker.io" ? "docker.io" : parts[0]
            config.registries[domain, default: .init()].mirrors.append(parts[1])
        }
        return config
    }
}
