import Foundation
import Logging
import OrcaClient
import OrcaRuntime
#if canImport(Glibc)
import Glibc
#endif

/// Registers the agent's Node (capacity, allocatable, addresses, nodeInfo, conditions),
/// keeps its Ready condition fresh, and renews its Lease in `kube-node-lease` every 10 s.
public struct NodeStatusReporter: Sendable {
    let client: any APIClient
    let nodeName: String
    let hostIP: String
    let registration: Registration
    /// The node's images for `status.images` (names and sizes).
    let images: @Sendable () -> [JSONValue]
    let clock: @Sendable () -> Date
    let logger = Logger(label: "orca.agent.node")

    /// What the agent sets when it creates its Node (`--node-label`, `--node-taint`, the pod
    /// CIDR of an embedded node; a joining node gets its CIDR from the server).
    public struct Registration: Sendable {
        public var podCIDR: String?
        public var labels: [String: String] = [:]
        public var taints: [Taint] = []
        /// The server's own node carries `node-role.kubernetes.io/control-plane`.
        public var controlPlane = false
        /// The port of the kubelet server (`status.daemonEndpoints.kubeletEndpoint.Port`).
        public var kubeletPort = 10250

        public init(podCIDR: String? = nil, labels: [String: String] = [:], taints: [Taint] = [], controlPlane: Bool = false) {
            self.podCIDR = podCIDR
            self.labels = labels
            self.taints = taints
            self.controlPlane = controlPlane
        }
    }

    public init(client: any APIClient, nodeName: String, hostIP: String, registration: Registration,
                images: @escaping @Sendable () -> [JSONValue] = { [] },
                clock: @escaping @Sendable () -> Date = { Date() }) {
        self.client = client
        self.nodeName = nodeName
        self.hostIP = hostIP
        self.registration = registration
        self.images = images
        self.clock = clock
    }

    /// `status.images` from an image store: per image its tags and `repo@digest`, and its size,
    /// largest first as the kubelet lists them.
    public static func imageList(_ store: ImageStore) -> [JSONValue] {
        var seen = Set<ContentDigest>()
        var out: [(Int64, JSONValue)] = []
        for image in (try? store.list()) ?? [] where seen.insert(image.id).inserted {
            var names = image.repoTags
            if let first = image.repoTags.first, let ref = try? ImageReference(parsing: first) {
                names.insert("\(ref.domain)/\(ref.path)@\(image.manifestDigest)", at: 0)
            }
            out.append((image.size, ["names": .array(names.map(JSONValue.string)), "sizeBytes": .int(image.size)]))
        }
        return out.sorted { $0.0 > $1.0 }.map(\.1)
    }


    /// The node's status as the agent sees the machine now.
    func status(previous: JSONValue?, networkReady: Bool = true) -> JSONValue {
        let now = KubernetesTime.string(clock())
        let cpus = ProcessInfo.processInfo.activeProcessorCount
        let memKi = ProcessInfo.processInfo.physicalMemory / 1024
        var fs = statvfs()
        let storageKi: UInt64 = statvfs("/", &fs) == 0 ? UInt64(fs.f_blocks) * UInt64(fs.f_frsize) / 1024 : 0
        func condition(_ type: String, _ status: String, _ reason: String, _ message: String) -> JSONValue {
            let prev = (previous?[path: ["status", "conditions"]]?.arrayValue ?? []).first { $0["type"]?.stringValue == type }
            let transition = prev?["status"]?.stringValue == status ? (prev?["lastTransitionTime"] ?? .string(now)) : .string(now)
            return ["type": .string(type), "status": .string(status), "reason": .string(reason), "message": .string(message),
                    "lastHeartbeatTime": .string(now), "lastTransitionTime": transition]
        }
        let kernel = HostInfo.kernelRelease()
        let osImage = (try? String(contentsOfFile: "/etc/os-release", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("PRETTY_NAME=") }
            .map { String($0.dropFirst(12)).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) } ?? "Linux"
        let machineID = (try? String(contentsOfFile: "/etc/machine-id", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let capacity: JSONValue = ["cpu": .string(String(cpus)), "memory": .string("\(memKi)Ki"), "pods": "110",
                                   "ephemeral-storage": .string("\(storageKi)Ki")]
        return [
            "capacity": capacity, "allocatable": capacity,
            "conditions": [
                condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                networkReady ? condition("Ready", "True", "KubeletReady", "orca agent is posting ready status")
                    : condition("Ready", "False", "KubeletNotReady",
                                "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:the node has no pod CIDR yet"),
            ],
            "images": .array(images()),
            "addresses": [["type": "InternalIP", "address": .string(hostIP)], ["type": "Hostname", "address": .string(nodeName)]],
            "daemonEndpoints": ["kubeletEndpoint": ["Port": .int(Int64(registration.kubeletPort))]],
            "nodeInfo": ["machineID": .string(machineID), "systemUUID": .string(machineID), "bootID": "",
                         "kernelVersion": .string(kernel), "osImage": .string(osImage), "containerRuntimeVersion": "runc://1.1",
                         "kubeletVersion": "v1.32.0-orca", "kubeProxyVersion": "v1.32.0-orca", "operatingSystem": "linux",
                         "architecture": "amd64"],
        ]
    }

    /// Creates or refreshes the Node object.
    /// `networkReady` false (no pod CIDR yet) posts Ready=False, as a kubelet whose network plugin is not ready.
    public func register(networkReady: Bool = true) async throws {
        let nodes = client.resource("nodes")
        var existing: JSONValue?
        do { existing = try await client.get(nodes, namespace: nil, name: nodeName) } catch let e as APIError where e.code == 404 {}
        if existing == nil {
            var labels = ["kubernetes.io/hostname": nodeName, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                          "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64"]
            if registration.controlPlane { labels["node-role.kubernetes.io/control-plane"] = "true" }
            labels.merge(registration.labels) { _, new in new }
            var spec = NodeSpec()
            if let cidr = registration.podCIDR {
                spec.podCIDR = cidr
                spec.podCIDRs = [cidr]
            }
            if !registration.taints.isEmpty { spec.taints = registration.taints }
            let node = Node(metadata: ObjectMeta(labels: labels, name: nodeName), spec: spec)
            do { _ = try await client.create(node) } catch let e as APIError where e.code == 409 {}
        }
        try await updateStatus(current: existing, networkReady: networkReady)
    }

    func updateStatus(current: JSONValue?, networkReady: Bool = true) async throws {
        let nodes = client.resource("nodes")
        _ = try await client.mergePatch(nodes, namespace: nil, name: nodeName,
                                        patch: ["status": status(previous: current, networkReady: networkReady)], subresource: "status")
    }

    /// The pod CIDR the server gave this node (`spec.podCIDR`), once it has one.
    public func podCIDR() async throws -> String? {
        let node = try await client.get(Node.self, namespace: nil, name: nodeName)
        return node.spec?.podCIDR.flatMap { $0.isEmpty ? nil : $0 }
    }

    func renewLease() async throws {
        let leases = client.resource("leases", group: "coordination.k8s.io")
        let now = KubernetesTime.microString(clock())
        do {
            _ = try await client.mergePatch(leases, namespace: "kube-node-lease", name: nodeName, patch: ["spec": ["renewTime": .string(now)]], subresource: nil)
        } catch let e as APIError where e.code == 404 {
            // Owned by the Node, so deleting the node removes its lease.
            let node = try await client.get(Node.self, namespace: nil, name: nodeName)
            _ = try await client.create(leases, namespace: "kube-node-lease", object: [
                "metadata": ["name": .string(nodeName),
                             "ownerReferences": [["apiVersion": "v1", "kind": "Node", "name": .string(nodeName),
                                                  "uid": .string(node.metadata?.uid ?? "")]]],
                "spec": ["holderIdentity": .string(nodeName), "leaseDurationSeconds": 40, "renewTime": .string(now)],
            ])
        }
    }

    /// How long one heartbeat request may take before it is given up and retried (the kubelet's
    /// lease client uses the renew interval; a stalled request must not eat the grace period).
    static let requestDeadline: Duration = .seconds(5)

    /// Registers, then heartbeats until cancelled, in two independent loops as the kubelet does:
    /// the lease every 10 s (a failed renewal is retried after 0.2 s, doubling to 7 s), and the
    /// status every 60 s, or at once when the server's copy is not Ready (the node lifecycle
    /// controller marked it Unknown while the agent was away) or the images changed. A slow or
    /// failing status update never delays the lease.
    public func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.leaseLoop() }
            group.addTask { await self.statusLoop() }
        }
    }

    func leaseLoop() async {
        var retry = Duration.milliseconds(200)
        while !Task.isCancelled {
            do {
                try await withDeadline(Self.requestDeadline) { try await self.renewLease() }
                retry = .milliseconds(200)
                try? await Task.sleep(for: .seconds(10))
            } catch {
                logger.warning("node lease renewal failed (retrying in \(retry)): \(error)")
                try? await Task.sleep(for: retry)
                retry = min(retry * 2, .seconds(7))
            }
        }
    }

    func statusLoop() async {
        var tick = 0
        var reportedImages: [JSONValue] = []
        while !Task.isCancelled {
            do {
                // A pulled or removed image is reported at the next heartbeat, not a minute later.
                let imagesNow = images()
                if tick == 0 {
                    try await withDeadline(Self.requestDeadline * 2) { try await self.register() }
                } else {
                    let full = tick % 6 == 0 || imagesNow != reportedImages
                    try await withDeadline(Self.requestDeadline * 2) {
                        let current = try await self.client.get(self.client.resource("nodes"), namespace: nil, name: self.nodeName)
                        let ready = (current[path: ["status", "conditions"]]?.arrayValue ?? [])
                            .contains { $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True" }
                        if full || !ready { try await self.updateStatus(current: current) }
                    }
                }
                reportedImages = imagesNow
                tick += 1
            } catch {
                logger.warning("node status update failed: \(error)")
                tick = 0
            }
            try? await Task.sleep(for: .seconds(tick == 0 ? 1 : 10))
        }
    }
}
