import Foundation
import Logging
import OrcaClient
import ServiceLifecycle

/// Runs the shared informers and a set of controllers, under leader election when asked
/// (kube-controller-manager and kube-scheduler both have this shape). As a `Service` it
/// stops on graceful shutdown.
public struct ControllerManager: ServiceLifecycle.Service {
    public let name: String
    let informers: SharedInformerFactory
    let runnables: [any Runnable]
    let elector: LeaderElector?

    public init(name: String, informers: SharedInformerFactory, runnables: [any Runnable], elector: LeaderElector? = nil) {
        self.name = name
        self.informers = informers
        self.runnables = runnables
        self.elector = elector
    }

    public func run() async {
        await cancelWhenGracefulShutdown {
            if let elector {
                await elector.run { await runAll() }
            } else {
                await runAll()
            }
        }
    }

    func runAll() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await informers.run() }
            for r in runnables {
                group.addTask { await r.run() }
            }
        }
    }
}
