import Foundation
import OrcaAPI

extension ListOptions {
    /// Parses the query of a request; throws 400 for malformed values.
    public init(query: [String: String]) throws {
        self.init()
        if let l = query["labelSelector"], !l.isEmpty {
            do { labelSelector = try LabelMatcher(parsing: l) } catch { throw APIError.badRequest("unable to parse requirement: \(error)") }
        }
        if let f = query["fieldSelector"], !f.isEmpty {
            do { fieldSelector = try FieldMatcher(parsing: f) } catch { throw APIError.badRequest("\(error)") }
        }
        if let l = query["limit"], !l.isEmpty {
            guard let n = Int(l), n >= 0 else { throw APIError.badRequest("invalid limit: \(l)") }
            limit = n == 0 ? nil : n
        }
        continueToken = query["continue"].flatMap { $0.isEmpty ? nil : $0 }
        resourceVersion = query["resourceVersion"].flatMap { $0.isEmpty ? nil : $0 }
        resourceVersionMatch = query["resourceVersionMatch"].flatMap { $0.isEmpty ? nil : $0 }
        if let rv = resourceVersion, Int64(rv) == nil {
            throw APIError(code: 400, reason: "BadRequest", message: "invalid resource version \"\(rv)\"")
        }
        watch = ListOptions.flag(query["watch"])
        allowWatchBookmarks = ListOptions.flag(query["allowWatchBookmarks"])
        if let t = query["timeoutSeconds"], let n = Int(t) { timeoutSeconds = n }
        if let s = query["sendInitialEvents"], !s.isEmpty { sendInitialEvents = ListOptions.flag(s) }
        let causes = validate()
        if !causes.isEmpty {
            throw APIError.invalid(ResourceType("meta.k8s.io", "v1", "ListOptions", "listoptions"), "", causes)
        }
    }

    /// Kubernetes' rules for `resourceVersionMatch` and `sendInitialEvents`, which differ between list and watch.
    func validate() -> [StatusCause] {
        var causes: [StatusCause] = []
        let match = resourceVersionMatch
        if watch {
            if sendInitialEvents != nil, match != "NotOlderThan" {
                causes.append(.forbidden("resourceVersionMatch", "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"))
            }
            if let match {
                if sendInitialEvents == nil {
                    causes.append(.forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"))
                }
                if match != "NotOlderThan" { causes.append(.notSupported("resourceVersionMatch", match, ["NotOlderThan"])) }
                if continueToken != nil {
                    causes.append(.forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden when continue is provided"))
                }
            }
            return causes
        }
        if let match {
            if resourceVersion == nil {
                causes.append(.forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden unless resourceVersion is provided"))
            }
            if continueToken != nil {
                causes.append(.forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden when continue is provided"))
            }
            if match != "Exact", match != "NotOlderThan" {
                causes.append(.notSupported("resourceVersionMatch", match, ["Exact", "NotOlderThan", ""]))
            }
            if match == "Exact", resourceVersion == "0" {
                causes.append(.forbidden("resourceVersionMatch", "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""))
            }
        }
        if sendInitialEvents != nil {
            causes.append(.forbidden("sendInitialEvents", "sendInitialEvents is forbidden for list"))
        }
        return causes
    }
}
