import Foundation
import OrcaAPI
import OrcaStore

extension Registry {
    /// Lists objects (`namespace` nil = all namespaces) as a `<Kind>List`, honouring
    /// selectors, `limit`/`continue` and `resourceVersion`/`resourceVersionMatch`.
    public func list(_ r: ResourceType, namespace: String?, options: ListOptions) async throws -> JSONValue {
        let prefix = r.storePrefix(namespace: namespace)
        var readRevision: Int64? = nil
        var startAfter: String? = nil
        var continued: ContinueToken? = nil
        if let token = options.continueToken {
            let t = try ContinueToken(decoding: token)
            continued = t
            // An inconsistent continuation (handed out with an expired list) reads the latest revision.
            readRevision = t.rv == ContinueToken.latest ? nil : t.rv
            startAfter = prefix + t.start
        } else if let rvText = options.resourceVersion, let rv = Int64(rvText) {
            if options.resourceVersionMatch == "Exact" {
                readRevision = rv
            } else if rv > 0 {
                let current = try await store.currentRevision()
                if rv > current {
                    throw APIError(code: 504, reason: "Timeout", message: "Too large resource version: \(rv), current: \(current)",
                                   details: ["causes": [["reason": "ResourceVersionTooLarge", "message": "Too large resource version"]], "retryAfterSeconds": 1])
                }
            }
        }
        var items: [JSONValue] = []
        var revision: Int64 = 0
        var more = false
        var lastKey: String? = nil
        let wanted = options.limit
        var cursor = startAfter
        do {
            while true {
                let batchSize = wanted.map { max($0 - items.count, 1).multipliedSaturating(by: options.labelSelector.isEmpty && options.fieldSelector.isEmpty ? 1 : 4) }
                let page = try await store.list(prefix: prefix, revision: readRevision, startAfter: cursor, limit: batchSize)
                revision = page.revision
                if readRevision == nil { readRevision = page.revision }
                let objects = try await served(try page.items.map(decode), as: r)
                for (kv, obj) in zip(page.items, objects) {
                    if let wanted, items.count >= wanted { more = true; break }
                    lastKey = kv.key
                    if options.matches(obj) { items.append(obj) }
                }
                if more { break }
                if let wanted, items.count >= wanted { more = page.more; break }
                if !page.more { break }
                cursor = page.items.last?.key
            }
        } catch let e as OrcaError where e.code == .compacted {
            if let continued {
                // kube-apiserver hands back a token that continues from the same key at the latest revision.
                var e = APIError.gone("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.")
                e.listMeta = ["continue": .string(ContinueToken(rv: ContinueToken.latest, start: continued.start).encoded)]
                throw e
            }
            throw APIError.gone("The resourceVersion for the provided list is too old.")
        }
        var meta: [String: JSONValue] = ["resourceVersion": .string(String(revision))]
        if more, let lastKey {
            meta["continue"] = .string(ContinueToken(rv: revision, start: String(lastKey.dropFirst(prefix.count))).encoded)
            // Known only without selectors, as in kube-apiserver.
            if options.labelSelector.isEmpty, options.fieldSelector.isEmpty {
                meta["remainingItemCount"] = .int(Int64(try await store.count(prefix: prefix, startAfter: lastKey, revision: revision)))
            }
        }
        return .object([
            "apiVersion": .string(r.apiVersion),
            "kind": .string(r.kind + "List"),
            "metadata": .object(meta),
            "items": .array(items),
        ])
    }
}
