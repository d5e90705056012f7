import Foundation
import Logging
import OrcaClient
import ServiceLifecycle

/// Runs a `Reconciler` over a `RateLimitingQueue` with N workers (controller-runtime's
/// controller): waits for its informers to sync, then hands keys to workers until shut
/// down. A failed reconcile is retried with the key's back-off; one failing key never
/// stops the others.
public struct Controller<R: Reconciler>: ServiceLifecycle.Service, Runnable {
    public let name: String
    public let queue: RateLimitingQueue
    let reconciler: R
    let workers: Int
    let waitForSync: [@Sendable () async -> Void]
    let logger: Logger

    /// - Parameters:
    ///   - waitForSync: called before the first reconcile (each waits for one informer's first list).
    public init(name: String, queue: RateLimitingQueue, reconciler: R, workers: Int = 2,
                waitForSync: [@Sendable () async -> Void] = []) {
        self.name = name
        self.queue = queue
        self.reconciler = reconciler
        self.workers = max(1, workers)
        self.waitForSync = waitForSync
        self.logger = Logger(label: "orca.controller.\(name)")
    }

    /// Runs until cancelled or shut down gracefully.
    public func run() async {
        let queue = self.queue
        await queue.start()
        await withTaskCancellationOrGracefulShutdownHandler {
            for wait in waitForSync { await wait() }
            guard !Task.isCancelled else { return }
            await withDiscardingTaskGroup { group in
                for _ in 0..<workers {
                    group.addTask { await worker() }
                }
            }
        } onCancelOrGracefulShutdown: {
            Task { await queue.shutDown() }
        }
    }

    func worker() async {
        while let key = await queue.next() {
            await processOne(key)
        }
    }

    /// Reconciles one key and files the outcome with the queue.
    func processOne(_ key: String) async {
        do {
            switch try await reconciler.reconcile(key) {
            case .done:
                await queue.forget(key)
            case .requeue(let after):
                await queue.forget(key)
                await queue.add(key, after: after)
            }
        } catch is CancellationError where Task.isCancelled {
            // Shutting down: the key is dropped with the queue.
        } catch {
            let level: Logger.Level = (error as? APIError)?.isConflict == true ? .debug : .info
            logger.log(level: level, "reconciling \(key): \(error)")
            await queue.addRateLimited(key)
        }
        await queue.done(key)
    }
}
