import Foundation
import Logging
import OrcaClient
import OrcaNetwork
import OrcaRuntime

/// The node agent: registers its Node, heartbeats, and runs the pods bound to it with
/// one serial worker per pod UID.
public struct EmbeddedAgent: Sendable {
    public let nodeName: String
    let client: any APIClient
    let reporter: NodeStatusReporter
    let syncer: PodSyncer
    let workers: PodWorkers
    let images: ImageStore
    /// Serves `kubectl logs` through the API server.
    public let logs: any PodStreamProvider
    let logger = Logger(label: "orca.agent")

    /// Configuration of the agent's directories and network.
    public struct Configuration: Sendable {
        public var dataDir: String
        public var nodeName: String
        public var hostIP: String
        public var podCIDR: String = "10.42.0.0/24"
        public var bridgeName: String = "orca0"
        public var logRoot: String = "/var/log/pods"
        public var runDir: String = "/run/orca"

        public init(dataDir: String, nodeName: String, hostIP: String) {
            self.dataDir = dataDir
            self.nodeName = nodeName
            self.hostIP = hostIP
        }
    }

    public static func make(client: any APIClient, configuration c: Configuration) async throws -> EmbeddedAgent {
        let clock: @Sendable () -> Date = { Date() }
        let images = try ImageStore(root: c.dataDir + "/images")
        let runtime = try RuncContainerRuntime(dataDirectory: c.dataDir + "/runtime")
        var net = PodNetwork.Configuration()
        net.bridgeName = c.bridgeName
        net.subnet = c.podCIDR
        net.dataDirectory = c.dataDir
        net.runDirectory = c.runDir
        let network = PodNetwork(configuration: net)
        let paths = AgentPaths(podsRoot: c.dataDir + "/pods", logRoot: c.logRoot)
        let env = EnvironmentResolver(client: client)
        let syncer = PodSyncer(client: client, runtime: runtime, network: network, images: images, podFiles: PodFiles(),
                               volumes: VolumeManager(client: client, env: env), envResolver: env,
                               events: EventRecorder(client: client, component: "kubelet", host: c.nodeName, clock: clock),
                               paths: paths, nodeName: c.nodeName, hostIP: c.hostIP, clock: clock)
        return EmbeddedAgent(nodeName: c.nodeName, client: client,
                             reporter: NodeStatusReporter(client: client, nodeName: c.nodeName, hostIP: c.hostIP, podCIDR: c.podCIDR, clock: clock),
                             syncer: syncer, workers: PodWorkers(), images: images,
                             logs: PodLogReader(paths: paths, clock: clock))
    }

    public func run() async {
        do { _ = try await BuiltinImages.ensureBusybox(in: images) } catch {
            logger.error("building the built-in busybox image failed: \(error)")
        }
        await adoptRunningContainers()
        var options = ListOptions()
        options.fieldSelector = try! FieldMatcher(parsing: "spec.nodeName=\(nodeName)")
        let pods = Informer(client: client, resource: client.resource("pods"), options: options)
        let workers = self.workers
        await pods.onChange { change in
            switch change {
            case .added(let p), .updated(_, let p):
                if let uid = p.metadataUID { await workers.update(uid, .sync(p)) }
            case .deleted(let p):
                if let uid = p.metadataUID { await workers.update(uid, .gone) }
            }
        }
        let syncer = self.syncer
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await reporter.run() }
            group.addTask { await pods.run() }
            group.addTask {
                await workers.run { uid, work in
                    switch work {
                    case .sync(let pod):
                        let state = await workers.state(uid)
                        if pod.deletionTimestamp != nil {
                            await syncer.terminate(pod, uid: uid, state: state)
                            await workers.setState(uid, nil)
                        } else {
                            await workers.setState(uid, await syncer.sync(pod, state: state))
                        }
                    case .gone:
                        let state = await workers.state(uid)
                        await syncer.terminate(nil, uid: uid, state: state)
                        await workers.setState(uid, nil)
                    }
                }
            }
            group.addTask {
                // Resync: notice container exits and back-off expiry.
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    for p in await pods.list() {
                        if let uid = p.metadataUID { await workers.update(uid, .sync(p)) }
                    }
                }
            }
            await withTaskCancellationHandler { await group.next() } onCancel: { Task { await workers.shutdown() } }
            group.cancelAll()
        }
    }

    /// After an agent restart: picks up the containers still running (their pod UID,
    /// container name and instance number are in their annotations) instead of starting
    /// them again. Exited instances are left for the next sync to judge.
    func adoptRunningContainers() async {
        guard let containers = try? await syncer.runtime.list() else { return }
        var states: [String: PodRuntimeState] = [:]
        for info in containers {
            let a = info.config.annotations
            guard let uid = a["io.kubernetes.pod.uid"], let name = a["io.kubernetes.container.name"],
                  let attempt = Int(a["io.orca.attempt"] ?? "") else { continue }
            var state = states[uid] ?? PodRuntimeState()
            if let existing = state.containers[name], existing.attempt > attempt {
                try? await syncer.runtime.remove(info.id)
                continue
            }
            var rec = PodRuntimeState.Container()
            rec.id = info.id
            rec.attempt = attempt
            rec.restartCount = attempt
            rec.announced = true
            if case .running(_, let startedAt) = info.status { rec.startedAt = PodSyncer.timestamp(startedAt) }
            state.containers[name] = rec
            states[uid] = state
        }
        for (uid, state) in states {
            await workers.setState(uid, state)
            logger.info("adopted \(state.containers.count) container(s) of pod \(uid)")
        }
    }
}
