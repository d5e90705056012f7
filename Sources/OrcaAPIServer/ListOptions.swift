import Foundation
import OrcaAPI

/// Query parameters of list and watch requests.
public struct ListOptions: Sendable {
    public var labelSelector = LabelMatcher.everything
    public var fieldSelector = FieldMatcher.everything
    public var limit: Int?
    public var continueToken: String?
    public var resourceVersion: String?
    /// `Exact` or `NotOlderThan` (or nil).
    public var resourceVersionMatch: String?
    public var watch = false
    public var allowWatchBookmarks = false
    public var timeoutSeconds: Int?
    public var sendInitialEvents: Bool?

    public init() {}

    /// Parses the query of a request; throws 400 for malformed values.
    public init(query: [String: String]) throws {
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

    static func flag(_ v: String?) -> Bool {
        guard let v else { return false }
        return v == "true" || v == "1" || v == "True"
    }

    /// True if `object` passes both selectors.
    public func matches(_ object: JSONValue) -> Bool {
        (labelSelector.isEmpty || labelSelector.matches(object.labels)) &&
            (fieldSelector.isEmpty || fieldSelector.matches(object))
    }
}

/// The opaque `continue` token of a paged list: the revision of the first page and the last key.
struct ContinueToken: Codable {
    var rv: Int64
    var start: String

    var encoded: String {
        let data = try! JSONEncoder().encode(self)
        return data.base64EncodedString()
    }

    init(rv: Int64, start: String) {
        self.rv = rv
        self.start = start
    }

    init(decoding token: String) throws {
        guard let data = Data(base64Encoded: token),
              let t = try? JSONDecoder().decode(ContinueToken.self, from: data) else {
            throw APIError.badRequest("continue key is not valid: illegal base64 data")
        }
        self = t
    }
}
