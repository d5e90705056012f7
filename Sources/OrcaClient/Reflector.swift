import Foundation
import Logging

/// Lists and watches one resource and hands every change to a sink, as client-go's
/// reflector does: a full list first (`replaced`), then watch events from the list's
/// revision. A watch that ends is resumed from the last revision seen (bookmarks
/// included); only an expired revision (410) makes it list again.
public struct Reflector: Sendable {
    /// One change the reflector saw.
    public enum Delta: Sendable {
        /// A full list: the store is exactly these objects now.
        case replaced([JSONValue])
        case added(JSONValue)
        case modified(JSONValue)
        case deleted(JSONValue)
    }

    public let resource: ResourceType
    let client: any APIClient
    let namespace: String?
    let options: ListOptions
    let clock: any WallClock
    let logger: Logger

    public init(client: any APIClient, resource: ResourceType, namespace: String? = nil, options: ListOptions = ListOptions(),
                clock: any WallClock = SystemClock()) {
        self.client = client
        self.resource = resource
        self.namespace = namespace
        self.options = options
        self.clock = clock
        self.logger = Logger(label: "orca.reflector.\(resource.resource)")
    }

    /// Runs list+watch until cancelled, calling `sink` for every change in order.
    public func run(_ sink: @Sendable (Delta) async -> Void) async {
        var revision: String?
        var failures = 0
        while !Task.isCancelled {
            do {
                if revision == nil {
                    var listOptions = options
                    listOptions.watch = false
                    let list = try await client.list(resource, namespace: namespace, options: listOptions)
                    // A body that is not a list (no `items`) is an error, never "everything is gone".
                    guard let items = list["items"], items.arrayValue != nil || items.isNull else {
                        throw APIError.internalError("the list of \(resource.groupResource) has no items")
                    }
                    revision = list[path: ["metadata", "resourceVersion"]]?.stringValue ?? "0"
                    await sink(.replaced((items.arrayValue ?? []).map(stamped)))
                }
                var watchOptions = options
                watchOptions.watch = true
                watchOptions.resourceVersion = revision
                watchOptions.allowWatchBookmarks = true
                let stream = try await client.watch(resource, namespace: namespace, options: watchOptions)
                var delivered = false
                for try await event in stream {
                    if event.type == "ERROR" {
                        // 410 Gone: the revision was compacted away; list again. Any other error
                        // backs off like a failed request.
                        let code = event.object["code"]?.intValue ?? 500
                        if code == 410 { revision = nil }
                        throw APIError(code: Int(code), reason: event.object["reason"]?.stringValue ?? "",
                                       message: event.object["message"]?.stringValue ?? "watch error")
                    }
                    failures = 0
                    delivered = true
                    if let rv = event.object.resourceVersion { revision = rv }
                    switch event.type {
                    case "ADDED": await sink(.added(stamped(event.object)))
                    case "MODIFIED": await sink(.modified(stamped(event.object)))
                    case "DELETED": await sink(.deleted(stamped(event.object)))
                    default: break
                    }
                }
                // A watch that ended without a single event backs off before the next.
                if !delivered { throw OrcaError(.internalError, "watch of \(resource.resource) ended without events") }
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                if let e = error as? APIError, e.code == 410 { revision = nil }
                failures += 1
                logger.log(level: failures >= 3 ? .warning : .debug, "list/watch of \(resource.resource) failed: \(error); retrying")
                let backoff = min(Double(1 << min(failures, 5)) * 0.1, 3)
                do { try await clock.sleep(for: .seconds(backoff)) } catch { return }
            }
        }
    }

    func stamped(_ object: JSONValue) -> JSONValue {
        var obj = object
        obj["apiVersion"] = .string(resource.apiVersion)
        obj["kind"] = .string(resource.kind)
        return obj
    }
}
